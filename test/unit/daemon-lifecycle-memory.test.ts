// Routers assembled, started and stopped over and over in one process (the
// config fuzzer does it thousands of times, tests and tools many times) let
// everything go: no weak references, exit listeners or handles pile up with
// the number of routers made. What piled up in the config fuzzer was one
// weak reference per router: pino's exit-flush registration of the silent
// logger's stdout stream, dropped only when a finalizer ran. A silent logger
// now has no stream to register (the second test fails without that).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { queryObjects } from 'node:v8';
import { ApiServer } from '../../src/api/server.js';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { full } from '../support/config-corpus.js';
import { MemoryDevice } from '../support/memory-device.js';
import { openHandles } from '../fuzz/target.js';

const ROUTERS = 200;
const config = parseRouterConfig(full(), '/nonexistent/r1.json');

/** Live objects made by a constructor (queryObjects collects garbage first). */
function live(ctor: Parameters<typeof queryObjects>[0]): number {
  return queryObjects(ctor, { format: 'count' });
}

async function cycle(n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const daemon = assembleDaemon(config, silentLogger(), new ApiServer(), { openDevice: (pc) => new MemoryDevice(pc.device) });
    daemon.router.start();
    daemon.router.stop();
    // As the fuzzer does: the plugins' stops settle before the next router.
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Open handles once transient ones are gone: a write of the test runner's
 * report or a timer of the runtime can be open at any one look (seen under
 * load: 2 → 3); a leak stays. At most ~1 s of looks.
 */
async function settledHandles(target: number): Promise<number> {
  let n = openHandles();
  for (let i = 0; i < 50 && n > target; i++) {
    await new Promise((r) => setTimeout(r, 20));
    n = Math.min(n, openHandles());
  }
  return n;
}

test(`${ROUTERS} routers assembled, started and stopped leave no weak references, listeners or handles behind`, async () => {
  await cycle(10);
  const before = { weakRefs: live(WeakRef), exitListeners: process.listenerCount('exit'), handles: openHandles() };
  await cycle(ROUTERS);
  const after = { weakRefs: live(WeakRef), exitListeners: process.listenerCount('exit'), handles: await settledHandles(before.handles) };
  // A few either way (the runtime's own); one per router is the leak.
  assert.ok(after.weakRefs - before.weakRefs < ROUTERS / 10, `weak references ${before.weakRefs} → ${after.weakRefs} over ${ROUTERS} routers`);
  assert.equal(after.exitListeners, before.exitListeners);
  assert.ok(after.handles <= before.handles, `open handles ${before.handles} → ${after.handles} (${process.getActiveResourcesInfo().join(', ')})`);
});

test('a silent logger registers nothing for the exit of the process', () => {
  const before = live(WeakRef);
  const loggers = Array.from({ length: 50 }, () => silentLogger());
  assert.equal(loggers.length, 50);
  assert.ok(live(WeakRef) - before < 5, `weak references ${before} → ${live(WeakRef)} with 50 silent loggers alive`);
});
