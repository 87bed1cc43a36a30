/**
 * Bulk TCP benchmark: iperf3 from a client namespace through one router (and
 * through two routers joined by the tc-mirred wiring) to a server namespace,
 * Gbit/s received, side by side in one run:
 *   - the Linux kernel as router (veths, ip_forward=1),
 *   - the C TUN↔TUN forwarder without offloads (scripts/bench/tunfwd-offload.c),
 *   - the same C forwarder with TUN offloads (virtio-net header, TSO/USO,
 *     partial checksums: 64 KB super-packets pass whole),
 *   - tunroute as it is (plain TUN ports),
 *   - the minimal TS loop over offload TUNs (scripts/bench/tsfwd-offload.ts),
 * and through two routers (R1 — wiring TUN pair joined by tc mirred — R2):
 * the C forwarder without and with offloads and the TS loop with offloads.
 * Each configuration runs several rounds, interleaved; the median is
 * reported. The scheduler places everything: in bulk TCP through TUNs the
 * forwarder's write() also runs the receiving kernel's TCP, so a fixed
 * split of a 2-CPU machine measures the split more than the forwarder.
 * --pin puts iperf3 client and server on CPU 0 and the forwarding (kernel
 * RPS target, forwarders, tunroute) on CPU 1, as the forwarding bench does.
 *
 * Run: node dist/scripts/bench-bulk.js [--seconds 5] [--rounds 3] [--pin]
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab } from '../src/testbed/lab.js';
import { inNetns, ip, run, sleep, waitFor } from '../src/testbed/shell.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN_DIR = `${ROOT}build/bench`;
const TSFWD = `${ROOT}dist/scripts/bench/tsfwd-offload.js`;
const CLIENT_CPU = '0';
const ROUTER_CPU = '1';

export interface BulkRow {
  name: string;
  routers: 1 | 2;
  gbps: number[];
  /** Mean bytes per packet the forwarder moved client→server (offload runs: super-packets). */
  meanPacketBytes?: number;
}

function buildTools(): void {
  mkdirSync(BIN_DIR, { recursive: true });
  execFileSync('cc', ['-O2', '-Wall', '-o', `${BIN_DIR}/tunfwd-offload`, `${ROOT}scripts/bench/tunfwd-offload.c`], { stdio: 'inherit' });
}

/** Run iperf3 for `seconds` from `clientNs` to `server`; Gbit/s received (0 if the run failed). */
async function iperf(clientNs: string, server: string, seconds: number, pinned: boolean, log: (s: string) => void): Promise<number> {
  const r = await inNetns(clientNs, 'taskset', ['-c', pinned ? CLIENT_CPU : '0-1023', 'iperf3', '-c', server, '-t', String(seconds), '-J'],
    { timeoutMs: (seconds + 15) * 1000, allowFail: true }).catch((e: Error) => ({ stdout: '', stderr: e.message, code: -1 }));
  try {
    const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
    if (j.error) log(`    iperf3: ${j.error}`);
    return (j.end?.sum_received?.bits_per_second ?? 0) / 1e9;
  } catch {
    log(`    iperf3 failed: ${r.stderr.trim().split('\n').pop()}`);
    return 0;
  }
}

async function reachable(ns: string, addr: string): Promise<void> {
  await waitFor(`${addr} from ${ns}`, async () => {
    await inNetns(ns, 'ping', ['-c', '1', '-W', '1', addr]);
    return true;
  }, 8000, 100);
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGTERM');
  await Promise.race([done, sleep(3000)]);
  if (c.exitCode === null && c.signalCode === null) {
    c.kill('SIGKILL');
    await done;
  }
}

/** Mean bytes per packet client→server from a forwarder's exit counters (C: stderr; TS: stdout JSON). */
function meanPacket(file: string, ts: boolean): number | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    if (ts) {
      const j = JSON.parse(text.trim().split('\n').pop()!) as { aToB: { packets: number; bytes: number } };
      return j.aToB.packets ? j.aToB.bytes / j.aToB.packets : undefined;
    }
    const m = /A->B: packets (\d+) bytes (\d+)/.exec(text);
    return m && Number(m[1]) ? Number(m[2]) / Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runBulkBench(opts: { seconds?: number; rounds?: number; pin?: boolean; log?: (s: string) => void } = {}): Promise<BulkRow[]> {
  const seconds = Math.min(opts.seconds ?? 5, 8);
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? (() => undefined);
  buildTools();
  const lab = await Lab.create('bulk');
  const pin = (opts.pin ?? false) && availableParallelism() > 1;
  const servers: ChildProcess[] = [];
  try {
    // Kernel router: veths, ip_forward, RPS on its ingress to the router CPU.
    const kc = await lab.addNamespace('kc');
    const kr = await lab.addNamespace('kr');
    const ks = await lab.addNamespace('ks');
    await ip('link', 'add', 'bbc0', 'netns', kc, 'type', 'veth', 'peer', 'name', 'bbr0', 'netns', kr);
    await ip('link', 'add', 'bbr1', 'netns', kr, 'type', 'veth', 'peer', 'name', 'bbs0', 'netns', ks);
    for (const [ns, dev, addr] of [[kc, 'bbc0', '10.1.0.2/24'], [kr, 'bbr0', '10.1.0.1/24'], [kr, 'bbr1', '10.2.0.1/24'], [ks, 'bbs0', '10.2.0.2/24']] as const) {
      await ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    await ip('-n', kc, 'route', 'add', 'default', 'via', '10.1.0.1');
    await ip('-n', ks, 'route', 'add', 'default', 'via', '10.2.0.1');
    await inNetns(kr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    if (pin) await inNetns(kr, 'sh', ['-c', `echo ${1 << Number(ROUTER_CPU)} > /sys/class/net/bbr0/queues/rx-0/rps_cpus`]);

    // One router on TUNs: client TUN in tc, server TUN in ts (as tunroute's host ports).
    const tc = await lab.addNamespace('tc');
    const ts = await lab.addNamespace('ts');
    const cin = lab.dev('c');
    const sout = lab.dev('s');
    await lab.hostPort(tc, cin, '10.1.0.2/24', '10.1.0.1');
    await lab.hostPort(ts, sout, '10.2.0.2/24', '10.2.0.1');

    // Two routers: client TUN in wc, R1 ↔ wiring pair (tc mirred) ↔ R2, server TUN in ws.
    const wc = await lab.addNamespace('wc');
    const ws = await lab.addNamespace('ws');
    const wcin = lab.dev('wc');
    const wsout = lab.dev('ws');
    await lab.hostPort(wc, wcin, '10.1.0.2/24', '10.1.0.1');
    await lab.hostPort(ws, wsout, '10.2.0.2/24', '10.2.0.1');
    const l1 = lab.dev('l1');
    const l2 = lab.dev('l2');
    const wire = await lab.link(l1, l2);

    for (const ns of [ks, ts, ws]) {
      servers.push(lab.spawnIn(ns, 'taskset', ['-c', pin ? CLIENT_CPU : '0-1023', 'iperf3', '-s', '-B', '10.2.0.2']));
    }
    await sleep(300);

    const spawnPinned = (ns: string, argv: string[], out: string) => pin
      ? lab.spawnIn(ns, 'taskset', ['-c', ROUTER_CPU, ...argv], { stdout: out, stderr: out })
      : lab.spawnIn(ns, argv[0]!, argv.slice(1), { stdout: out, stderr: out });
    const cfwd = (offload: boolean, a: [string, string], b: [string, string], out: string) =>
      spawnPinned(a[0], [`${BIN_DIR}/tunfwd-offload`, ...(offload ? ['--offload'] : []), a[0], a[1], b[0], b[1]], out);
    const tsfwd = (a: [string, string], b: [string, string], out: string) =>
      spawnPinned(a[0], [process.execPath, TSFWD, a[0], a[1], b[0], b[1], '--mtu-a', '1500', '--mtu-b', '1500', '--addr-a', '10.1.0.1', '--addr-b', '10.2.0.1'], out);

    interface Config { name: string; routers: 1 | 2; ts?: boolean; run: (out: string) => Promise<() => Promise<void>>; client: string }
    const configs: Config[] = [
      { name: 'kernel (veth)', routers: 1, client: kc, run: async () => async () => undefined },
      {
        name: 'C TUN↔TUN, no offloads', routers: 1, client: tc,
        run: async (out) => { const c = cfwd(false, [tc, cin], [ts, sout], out); return () => stopChild(c); },
      },
      {
        name: 'C TUN↔TUN, offloads', routers: 1, client: tc,
        run: async (out) => { const c = cfwd(true, [tc, cin], [ts, sout], out); return () => stopChild(c); },
      },
      {
        name: 'tunroute (today)', routers: 1, client: tc,
        run: async () => {
          const r = await lab.startRouter(`r${Math.random().toString(36).slice(2, 6)}`, {
            logLevel: 'warn',
            ports: [
              { name: 'c', device: cin, netns: tc, address: '10.1.0.1/24' },
              { name: 's', device: sout, netns: ts, address: '10.2.0.1/24' },
            ],
          });
          if (pin) await run('taskset', ['-a', '-p', '-c', ROUTER_CPU, String(r.proc!.pid)]);
          return () => r.stop();
        },
      },
      {
        name: 'TS loop, offloads', routers: 1, client: tc, ts: true,
        run: async (out) => { const c = tsfwd([tc, cin], [ts, sout], out); return () => stopChild(c); },
      },
      {
        name: 'C TUN↔TUN, no offloads', routers: 2, client: wc,
        run: async (out) => {
          const a = cfwd(false, [wc, wcin], [wire, l1], out);
          const b = cfwd(false, [wire, l2], [ws, wsout], `${out}.r2`);
          return async () => { await stopChild(a); await stopChild(b); };
        },
      },
      {
        name: 'C TUN↔TUN, offloads', routers: 2, client: wc,
        run: async (out) => {
          const a = cfwd(true, [wc, wcin], [wire, l1], out);
          const b = cfwd(true, [wire, l2], [ws, wsout], `${out}.r2`);
          return async () => { await stopChild(a); await stopChild(b); };
        },
      },
      {
        name: 'TS loop, offloads', routers: 2, client: wc, ts: true,
        run: async (out) => {
          const a = tsfwd([wc, wcin], [wire, l1], out);
          const b = tsfwd([wire, l2], [ws, wsout], `${out}.r2`);
          return async () => { await stopChild(a); await stopChild(b); };
        },
      },
    ];
    const rows: BulkRow[] = configs.map((c) => ({ name: c.name, routers: c.routers, gbps: [] }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, cfg] of configs.entries()) {
        const out = join(lab.dir, `run-${round}-${i}.out`);
        const stop = await cfg.run(out);
        let g = 0;
        try {
          await reachable(cfg.client, '10.2.0.2');
          g = await iperf(cfg.client, '10.2.0.2', seconds, pin, log);
        } catch (e) {
          log(`    ${cfg.name}: ${(e as Error).message}`);
        } finally {
          await stop();
        }
        rows[i]!.gbps.push(g);
        const mp = cfg.name.startsWith('kernel') || cfg.name.startsWith('tunroute') ? undefined : meanPacket(out, cfg.ts ?? false);
        if (mp !== undefined) rows[i]!.meanPacketBytes = mp;
        log(`  round ${round + 1}: ${cfg.name}${cfg.routers === 2 ? ' ×2' : ''}: ${g.toFixed(2)} Gbit/s${mp ? ` (${Math.round(mp)} B/packet)` : ''}`);
      }
    }
    return rows;
  } finally {
    for (const s of servers) s.kill('SIGKILL');
    await lab.cleanup();
  }
}

export function formatBulkBench(rows: BulkRow[], seconds: number): string {
  const kernel = median(rows[0]!.gbps);
  const lines = [
    `Bulk TCP (iperf3, ${seconds} s per run, median of ${rows[0]!.gbps.length} interleaved rounds): Gbit/s received`,
    '  routers  forwarder                      Gbit/s   ×kernel   bytes/packet (client→server)',
  ];
  for (const r of rows) {
    const m = median(r.gbps);
    lines.push(`  ${String(r.routers).padStart(7)}  ${r.name.padEnd(30)} ${m.toFixed(2).padStart(6)} ${(m / kernel).toFixed(2).padStart(9)}   ${r.meanPacketBytes ? Math.round(r.meanPacketBytes).toString().padStart(6) : '     -'}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { seconds: { type: 'string' }, rounds: { type: 'string' }, pin: { type: 'boolean' } } });
  const seconds = Math.min(Number(values.seconds ?? 5), 8);
  const rows = await runBulkBench({ seconds, rounds: Number(values.rounds ?? 3), pin: values.pin ?? false, log: (s) => process.stderr.write(`${s}\n`) });
  console.log(formatBulkBench(rows, seconds));
}
