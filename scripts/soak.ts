// npm run soak -- --minutes 30 [--workers N] — run a namespace lab under
// sustained load and show that the daemons' memory and file descriptors stay
// flat (with --workers, every daemon forwards in N worker threads).
//
//   host a ─ r1 ═ r2 ─ host b      r1–r2: RIP + BFD; UDP load a → b (iperf3, bounded rate)
//            ║ └─ host c           r1's port c: blocked and unblocked (API churn)
//            r3 ─ host e           r3: RIP + BFD neighbour of r1 that flaps (its port blocked,
//                                  unblocked; its daemon killed and restarted now and then)
//
// API churn on r1 (route add/del, policy add/del, stats, routes, metrics,
// BFD/RIP lists, port c block/unblock, `tunroute route list`) and on r2
// (stats, routes), config reloads of r1 by SIGHUP (the config alternates
// between two versions). Every --sample seconds: each daemon's RSS and fd
// count (/proc/PID), V8 heap after a full collection, libuv handles and live
// timers (a probe preloaded into the daemons, scripts/soak/probe.ts). At the
// end: the table and a verdict —
// the least-squares slope of RSS, heap and fd count over the second half of
// the run for r1 and r2 (r3 restarts by design), within stated tolerances.
import { readFileSync, readdirSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, type RouterProcess } from '../src/testbed/lab.js';
import { slope } from '../src/testbed/proc-stats.js';
import { CommandError, inNetns, sleep, waitFor } from '../src/testbed/shell.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    sample: { type: 'string', default: '15' },
    rate: { type: 'string', default: '20M' },
    workers: { type: 'string', default: '0' },
    out: { type: 'string' },
  },
});
const MINUTES = Number(values.minutes);
const SAMPLE_S = Number(values.sample);
const RATE = values.rate!;
const WORKERS = Number(values.workers);
if (!(MINUTES > 0) || !(SAMPLE_S >= 1)) {
  process.stderr.write('soak: --minutes and --sample must be positive numbers\n');
  process.exit(2);
}
if (!Number.isInteger(WORKERS) || WORKERS < 0 || WORKERS > 8) {
  process.stderr.write('soak: --workers must be an integer 0..8\n');
  process.exit(2);
}

/** Shorter runs check that the soak works; their slopes say nothing. */
const MIN_JUDGED_MINUTES = 10;
/** Verdict tolerances for the second half's slopes (per hour). */
const TOLERANCE = { rssMbPerHour: 20, heapMbPerHour: 10, fdsPerHour: 2 };

const PROBE = new URL('./soak/probe.js', import.meta.url).href;

interface Sample {
  t: number;
  router: string;
  pid: number;
  rss: number;
  fds: number;
  threads: number;
  heapUsed: number | null;
  handles: number | null;
  timers: number | null;
}

const stats = { apiOps: 0, apiErrors: 0, reloads: 0, r3Flaps: 0, r3Restarts: 0, portBlocks: 0, cliRuns: 0, iperfRuns: 0, iperfPackets: 0, iperfLost: 0 };
const errors: string[] = [];
const note = (e: unknown, what: string) => {
  stats.apiErrors++;
  // A command that crashed: its first lines of stderr say where.
  const stderr = e instanceof CommandError ? ` [stderr: ${e.stderr.trim().split('\n').slice(0, 6).join(' | ')}]` : '';
  if (errors.length < 20) errors.push(`${what}: ${(e as Error).message}${stderr}`);
};

/** GET /metrics (Prometheus text, which the JSON client does not take). */
function metrics(socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path: '/metrics' }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode === 200 && n > 0 ? resolve() : reject(new Error(`/metrics: HTTP ${res.statusCode}, ${n} bytes`))));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('/metrics: no answer in 10 s')));
    req.on('error', reject);
    req.end();
  });
}

function procNumbers(pid: number): { rss: number; fds: number; threads: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    const threads = Number(/Threads:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { rss, fds: readdirSync(`/proc/${pid}/fd`).length, threads };
  } catch {
    return null;
  }
}

function probeOf(dir: string, pid: number): { heapUsed: number; handles: Record<string, number>; timers: number } | null {
  try {
    return JSON.parse(readFileSync(join(dir, `${pid}.json`), 'utf8'));
  } catch {
    return null;
  }
}

const mb = (b: number) => (b / 2 ** 20).toFixed(1);

async function main(): Promise<void> {
  const t0 = Date.now();
  const lab = await Lab.create('soak');
  const probeDir = join(lab.dir, 'probe');
  mkdirSync(probeDir);
  // The daemons get the probe, and gc() for it: one full collection per sample period.
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import=${PROBE}`.trim();
  process.env.TUNROUTE_SOAK_PROBE_DIR = probeDir;
  process.env.TUNROUTE_SOAK_PROBE_MS = String(Math.min(SAMPLE_S * 1000, 10_000));
  const samples: Sample[] = [];
  let stopping = false;
  try {
    // With forwarding workers every daemon runs them: its TUNs are made multi-queue (each worker opens a queue).
    lab.multiQueueTuns = WORKERS > 0;
    const a = await lab.addNamespace('a');
    const b = await lab.addNamespace('b');
    const c = await lab.addNamespace('c');
    const e = await lab.addNamespace('e');
    await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
    await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
    await lab.hostPort(c, lab.dev('c'), '10.0.3.2/24', '10.0.3.1');
    await lab.hostPort(e, lab.dev('e'), '10.0.5.2/24', '10.0.5.1');
    const wire = await lab.link(lab.dev('l12'), lab.dev('l21'));
    await lab.link(lab.dev('l13'), lab.dev('l31'));
    const rip = (ports: string[]) => ({ ports: ports.map((port) => ({ port, bfd: true })), redistribute: ['connected'], updateTime: 5, timeoutTime: 30, garbageTime: 20 });
    const r1Config = (extra: boolean) => ({
      router: `${lab.id}-r1`,
      workers: WORKERS,
      ports: [
        { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
        { name: 'r2', device: lab.dev('l12'), netns: wire, address: '10.0.12.1/30' },
        { name: 'r3', device: lab.dev('l13'), netns: wire, address: '10.0.13.1/30' },
        { name: 'c', device: lab.dev('c'), netns: c, address: '10.0.3.1/24' },
      ],
      routes: extra ? [{ prefix: '10.250.0.0/16', port: 'c', via: '10.0.3.2' }] : [],
      bfd: { interval: 100, multiplier: 3 },
      rip: rip(['r2', 'r3']),
      policy: [{ name: 'pinned', from: '10.0.1.77', port: 'r2', via: '10.0.12.2' }],
    });
    const r1 = await lab.startRouter('r1', r1Config(false));
    const r2 = await lab.startRouter('r2', {
      workers: WORKERS,
      ports: [
        { name: 'r1', device: lab.dev('l21'), netns: wire, address: '10.0.12.2/30' },
        { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
      ],
      bfd: { interval: 100, multiplier: 3 },
      rip: rip(['r1']),
    });
    const r3 = await lab.startRouter('r3', {
      workers: WORKERS,
      ports: [
        { name: 'r1', device: lab.dev('l31'), netns: wire, address: '10.0.13.2/30' },
        { name: 'e', device: lab.dev('e'), netns: e, address: '10.0.5.1/24' },
      ],
      bfd: { interval: 100, multiplier: 3 },
      rip: rip(['r1']),
    });
    const routers = (): [string, RouterProcess][] => [['r1', r1], ['r2', r2], ['r3', r3]];

    // RIP has converged when a reaches b and e.
    await waitFor('a reaches b and e', async () => {
      await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2']);
      await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.5.2']);
      return true;
    }, 60_000, 500);
    console.log(`soak: lab ${lab.id} up in ${((Date.now() - t0) / 1000).toFixed(1)} s; ${MINUTES} min, sample every ${SAMPLE_S} s, UDP load ${RATE}bit/s a → b, ${WORKERS} forwarding workers per daemon`);

    const started = Date.now();
    const until = started + MINUTES * 60_000;
    const loops: Promise<void>[] = [];
    const every = (ms: number, fn: () => Promise<void>) => loops.push((async () => {
      while (!stopping && Date.now() < until) {
        const t = Date.now();
        await fn().catch((err) => note(err, fn.name || 'loop'));
        await sleep(Math.max(0, ms - (Date.now() - t)));
      }
    })());

    // Forwarding load: iperf3 UDP a → b in one-minute runs.
    const server = lab.spawnIn(b, 'iperf3', ['-s', '-B', '10.0.2.2']);
    await sleep(500);
    every(1000, async function iperf() {
      const secs = Math.max(1, Math.min(55, Math.floor((until - Date.now()) / 1000) - 5));
      if (secs < 3) return;
      const r = await inNetns(a, 'iperf3', ['-c', '10.0.2.2', '-u', '-b', RATE, '-l', '1200', '-t', String(secs), '-J'], { timeoutMs: (secs + 30) * 1000 });
      const j = JSON.parse(r.stdout) as { end: { sum: { packets: number; lost_packets: number } } };
      stats.iperfRuns++;
      stats.iperfPackets += j.end.sum.packets;
      stats.iperfLost += j.end.sum.lost_packets;
    });

    // API churn on r1 and r2.
    let step = 0;
    every(250, async function api() {
      const k = step++;
      const n = k % 12;
      const pfx = `10.200.${(k >> 4) % 250}.0/24`;
      stats.apiOps++;
      switch (n) {
        case 0: await r1.api('POST', '/v1/routes', { prefix: pfx, port: 'r2', via: '10.0.12.2', metric: 5 }); break;
        case 1: await r1.api('DELETE', '/v1/routes', { prefix: `10.200.${((k - 1) >> 4) % 250}.0/24` }); break;
        case 2: await r1.api('POST', '/v1/policy', { name: 'soak', from: '10.0.1.99', protocol: 'udp', port: 'r3', via: '10.0.13.2' }); break;
        case 3: await r1.api('DELETE', '/v1/policy/soak'); break;
        case 4: await r1.api('GET', '/v1/stats'); break;
        case 5: await r1.api('GET', '/v1/routes'); break;
        case 6: stats.portBlocks++; await r1.api('POST', '/v1/ports/c/block'); break;
        case 7: await r1.api('POST', '/v1/ports/c/unblock'); break;
        case 8: await r1.api('GET', '/v1/bfd'); await r1.api('GET', '/v1/rip'); break;
        case 9: await metrics(r1.socket); break;
        case 10: await r2.api('GET', '/v1/stats'); break;
        default: await r2.api('GET', '/v1/routes'); break;
      }
    });
    every(30_000, async function cli() {
      await r1.cli('route', 'list');
      stats.cliRuns++;
    });
    // Reloads: r1's config alternates (a static route comes and goes), then SIGHUP.
    let extra = false;
    every(30_000, async function reload() {
      extra = !extra;
      writeFileSync(r1.configFile, JSON.stringify(r1Config(extra), null, 2));
      r1.proc?.kill('SIGHUP');
      stats.reloads++;
    });
    // Protocol churn: r3's link to r1 flaps every 20 s; every 5 min r3's daemon is killed and restarted.
    let flap = 0;
    every(10_000, async function r3churn() {
      flap++;
      if (flap % 30 === 0) {
        await r3.stop('SIGKILL');
        await sleep(1000);
        await r3.start();
        stats.r3Restarts++;
        return;
      }
      await r3.api('POST', flap % 2 ? '/v1/ports/r1/block' : '/v1/ports/r1/unblock');
      stats.r3Flaps++;
    });

    // Samples.
    console.log('\n  min  router   pid     RSS MB  heap MB  fds  threads  handles  timers');
    let lastPrint = 0;
    const sampleAll = () => {
      const t = (Date.now() - started) / 60_000;
      for (const [name, r] of routers()) {
        const pid = r.proc?.pid;
        if (!pid) continue;
        const p = procNumbers(pid);
        if (!p) continue;
        const probe = probeOf(probeDir, pid);
        const handles = probe ? Object.values(probe.handles).reduce((x, y) => x + y, 0) : null;
        const s: Sample = { t, router: name, pid, ...p, heapUsed: probe?.heapUsed ?? null, handles, timers: probe?.timers ?? null };
        samples.push(s);
        if (Date.now() - lastPrint > 60_000 || t === 0) {
          console.log(`${t.toFixed(1).padStart(5)}  ${name.padEnd(6)} ${String(pid).padStart(7)} ${mb(s.rss).padStart(8)} ${s.heapUsed === null ? '       -' : mb(s.heapUsed).padStart(8)} ${String(s.fds).padStart(4)} ${String(s.threads).padStart(8)}  ${String(s.handles ?? '-').padStart(7)}  ${String(s.timers ?? '-').padStart(6)}`);
        }
      }
      if (Date.now() - lastPrint > 60_000) lastPrint = Date.now();
    };
    every(SAMPLE_S * 1000, async function sample() {
      sampleAll();
    });
    await Promise.all(loops);
    stopping = true;
    await sleep(1000);
    sampleAll();
    server.kill('SIGTERM');
  } finally {
    stopping = true;
    await lab.cleanup();
  }
  report(samples, (Date.now() - t0) / 1000);
}

function report(samples: Sample[], seconds: number): void {
  console.log(`\nsoak: ${MINUTES} min (${seconds.toFixed(0)} s with set-up), ${samples.length} samples`);
  console.log(`  load: ${stats.iperfRuns} iperf3 runs, ${stats.iperfPackets.toLocaleString('en-US')} UDP datagrams a → b, ${stats.iperfLost.toLocaleString('en-US')} lost (${stats.iperfPackets ? ((100 * stats.iperfLost) / stats.iperfPackets).toFixed(2) : '0'} %)`);
  console.log(`  churn: ${stats.apiOps} API operations (${stats.apiErrors} errors), ${stats.portBlocks} blocks of port c, ${stats.reloads} SIGHUP reloads, ${stats.cliRuns} "route list" runs, r3: ${stats.r3Flaps} link flaps, ${stats.r3Restarts} restarts`);
  for (const e of errors) console.log(`  error: ${e}`);
  const f = (r: string) => samples.filter((x) => x.router === r && x.timers !== null);
  for (const r of ['r1', 'r2']) {
    const s = f(r);
    if (s.length) console.log(`  ${r}: timers min/max ${Math.min(...s.map((x) => x.timers!))}/${Math.max(...s.map((x) => x.timers!))}, handles min/max ${Math.min(...s.map((x) => x.handles!))}/${Math.max(...s.map((x) => x.handles!))}`);
  }
  console.log('\nrouter  RSS MB first/last/peak   heap MB first/last   fds first/last/max   handles/timers first→last   slope 2nd half: RSS MB/h  heap MB/h  fds/h');
  let ok = true;
  const verdicts: string[] = [];
  for (const name of ['r1', 'r2', 'r3']) {
    const s = samples.filter((x) => x.router === name);
    if (s.length === 0) continue;
    const half = s.filter((x) => x.t >= MINUTES / 2);
    const hours = half.map((x) => x.t / 60);
    const rssK = slope(hours, half.map((x) => x.rss / 2 ** 20));
    const heapHalf = half.filter((x) => x.heapUsed !== null);
    const heapK = slope(heapHalf.map((x) => x.t / 60), heapHalf.map((x) => x.heapUsed! / 2 ** 20));
    const fdK = slope(hours, half.map((x) => x.fds));
    const first = s[0]!, last = s.at(-1)!;
    const judged = name !== 'r3';
    const pass = Math.abs(rssK) <= TOLERANCE.rssMbPerHour && Math.abs(heapK) <= TOLERANCE.heapMbPerHour && Math.abs(fdK) <= TOLERANCE.fdsPerHour;
    if (judged) {
      ok &&= pass;
      verdicts.push(`${name} ${pass ? 'flat' : 'GROWS'}`);
    }
    console.log(`${name.padEnd(6)}  ${mb(first.rss).padStart(6)}/${mb(last.rss)}/${mb(Math.max(...s.map((x) => x.rss)))}`.padEnd(33) +
      `${first.heapUsed === null ? '-' : mb(first.heapUsed)}/${last.heapUsed === null ? '-' : mb(last.heapUsed)}`.padEnd(21) +
      `${first.fds}/${last.fds}/${Math.max(...s.map((x) => x.fds))}`.padEnd(21) +
      `${first.handles ?? '-'}/${first.timers ?? '-'} → ${last.handles ?? '-'}/${last.timers ?? '-'}`.padEnd(27) +
      `${rssK.toFixed(2).padStart(9)} ${heapK.toFixed(2).padStart(10)} ${fdK.toFixed(2).padStart(6)}${judged ? '' : '  (restarts by design: not judged)'}`);
  }
  // A few minutes are all warm-up (V8 grows its heap to its working size): too short to judge a trend.
  const judgeable = MINUTES >= MIN_JUDGED_MINUTES;
  if (!judgeable) ok = true;
  console.log(`\nVERDICT: ${!judgeable ? `not judged (runs under ${MIN_JUDGED_MINUTES} min are warm-up)` : `${ok ? 'PASS' : 'FAIL'} — ${verdicts.join(', ')}`} (second-half slopes within ±${TOLERANCE.rssMbPerHour} MB/h RSS, ±${TOLERANCE.heapMbPerHour} MB/h heap, ±${TOLERANCE.fdsPerHour} fds/h)`);
  if (values.out) {
    if (!existsSync(values.out)) mkdirSync(values.out, { recursive: true });
    writeFileSync(join(values.out, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify({ minutes: MINUTES, stats, samples, tolerance: TOLERANCE, pass: ok }, null, 1));
  }
  process.exitCode = ok && stats.apiErrors === 0 ? 0 : 1;
}

await main();
