// Preloaded into the soak's router daemons (NODE_OPTIONS=--import …): every
// few seconds (TUNROUTE_SOAK_PROBE_MS) it collects garbage and writes what only the process itself can see — V8 heap,
// array buffers, live libuv handles (sockets, servers, child processes;
// referenced or not) and live timers (setTimeout/setInterval not yet fired
// or cleared, counted by wrapping the globals) — to
// $TUNROUTE_SOAK_PROBE_DIR/<pid>.json, for the soak's samples. Only in
// `tunroute run`; its own timer is not counted and keeps nothing alive.
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type TimerFn = (...args: unknown[]) => unknown;
const internals = process as unknown as { _getActiveHandles(): object[]; _getActiveRequests(): object[] };

const dir = process.env.TUNROUTE_SOAK_PROBE_DIR;
if (dir && process.argv.includes('run')) {
  const live = new Set<unknown>();
  const g = globalThis as unknown as Record<'setTimeout' | 'setInterval' | 'clearTimeout' | 'clearInterval', TimerFn>;
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = g;
  g.setTimeout = function (this: unknown, fn: unknown, ...rest: unknown[]) {
    const wrapped = typeof fn === 'function' ? function (this: unknown, ...args: unknown[]) {
      live.delete(t);
      return (fn as TimerFn).apply(this, args);
    } : fn;
    const t = st.call(this, wrapped, ...rest);
    live.add(t);
    return t;
  };
  g.setInterval = function (this: unknown, ...args: unknown[]) {
    const t = si.apply(this, args);
    live.add(t);
    return t;
  };
  g.clearTimeout = function (this: unknown, t: unknown) {
    live.delete(t);
    return ct.call(this, t);
  };
  g.clearInterval = function (this: unknown, t: unknown) {
    live.delete(t);
    return ci.call(this, t);
  };

  const file = join(dir, `${process.pid}.json`);
  // With --expose-gc (the soak passes it), a full collection first: heapUsed is
  // then what is alive, not alive plus garbage that waits for the next major GC.
  const collect = (globalThis as { gc?: () => void }).gc;
  const write = () => {
    collect?.();
    const m = process.memoryUsage();
    const handles: Record<string, number> = {};
    for (const h of internals._getActiveHandles()) handles[h.constructor.name] = (handles[h.constructor.name] ?? 0) + 1;
    writeFileSync(`${file}.tmp`, JSON.stringify({
      time: Date.now(), rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers,
      handles, requests: internals._getActiveRequests().length, timers: live.size,
    }));
    renameSync(`${file}.tmp`, file);
  };
  const period = Number(process.env.TUNROUTE_SOAK_PROBE_MS ?? 5000);
  const tick = () => {
    write();
    (st(tick, period) as NodeJS.Timeout).unref();
  };
  (st(tick, 500) as NodeJS.Timeout).unref();
}
