/**
 * Bulk TCP benchmark: iperf3 from a client namespace through one router, and
 * through two routers, to a server namespace; Gbit/s received, side by side
 * in one run, each beside the kernel on the same chain:
 *   one router:
 *     - the Linux kernel as router (veths, ip_forward=1),
 *     - the C TUN↔TUN forwarder without offloads (scripts/bench/tunfwd-offload.c),
 *     - the same C forwarder with TUN offloads (virtio-net header, TSO/USO,
 *       partial checksums: 64 KB super-packets pass whole) — the ceiling for
 *       a TUN router,
 *     - tunroute (offloads on, its default),
 *     - tunroute with the client on an Ethernet port (a veth) — client →
 *       router traffic arrives as frames the port's reader cuts, and the
 *       server's ACKs leave as frames; and the same toward a server on a veth
 *       with the port's offloads on (super-frames to the kernel whole) and off
 *       (cut in the router): what the Ethernet egress choice is worth;
 *     - tunroute with a virtual service (the client connects to a VIP the
 *       router translates to the server: NAT on super-packets, partial
 *       checksums); and with 2 forwarding workers on multi-queue TUNs,
 *       without and with that NAT (each NAT flow owned by one worker);
 *   two routers (R1 — R2):
 *     - the kernel (two router namespaces, veths),
 *     - two C forwarders without and with offloads, joined by the tc-mirred
 *       wiring (a TUN pair in a wiring namespace),
 *     - two tunroute daemons on the same wiring.
 * Each configuration runs several rounds, interleaved; the median is
 * reported. The scheduler places everything: in bulk TCP through TUNs the
 * forwarder's write() also runs the receiving kernel's TCP, so a fixed
 * split of a 2-CPU machine measures the split more than the forwarder.
 * --pin puts iperf3 client and server on CPU 0 and the forwarding (kernel
 * RPS target, forwarders, tunroute) on CPU 1, as the forwarding bench does.
 * --ts-loop adds the minimal TypeScript loop over offload TUNs
 * (scripts/bench/tsfwd-offload.ts): what the packet path costs beyond it.
 *
 * Run: node dist/scripts/bench-bulk.js [--seconds 5] [--rounds 3] [--pin] [--ts-loop] [--only 'NAME|NAME…']
 * (--only: those rows and what starts with "NAME,"; the kernel rows always run).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { StatsJson } from '../src/api/types.js';
import { Lab, type RouterProcess } from '../src/testbed/lab.js';
import { tunHosts } from './bench-ethernet.js';
import { inNetns, ip, run, sleep, waitFor, within } from '../src/testbed/shell.js';
import { formatSpread, median, overRound } from './bench-stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN_DIR = `${ROOT}build/bench`;
const TSFWD = `${ROOT}dist/scripts/bench/tsfwd-offload.js`;
const CLIENT_CPU = '0';
const ROUTER_CPU = '1';

export interface BulkRow {
  name: string;
  routers: 1 | 2;
  /** The kernel row this one is compared with (same chain). */
  kernel: string;
  gbps: number[];
  /** Mean bytes per packet the (first) forwarder read client→server (offloads: super-packets). */
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
  await within(done, 3000, undefined);
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

/** A kernel router namespace between `left` and `right` (veth ends already in it), forwarding on. */
async function kernelRouter(ns: string, pin: boolean, ingress: string): Promise<void> {
  await inNetns(ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  if (pin) await inNetns(ns, 'sh', ['-c', `echo ${1 << Number(ROUTER_CPU)} > /sys/class/net/${ingress}/queues/rx-0/rps_cpus`]);
}

/** A veth pair between two namespaces, with an address on each end (either may be omitted: a router's Ethernet port). */
async function veth(a: [string, string, string?], b: [string, string, string?]): Promise<void> {
  await ip('link', 'add', a[1], 'netns', a[0], 'type', 'veth', 'peer', 'name', b[1], 'netns', b[0]);
  for (const [ns, dev, addr] of [a, b]) {
    if (!addr) continue;
    await ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    await ip('-n', ns, 'link', 'set', dev, 'up');
  }
}

export async function runBulkBench(opts: { seconds?: number; rounds?: number; pin?: boolean; tsLoop?: boolean; only?: string; log?: (s: string) => void } = {}): Promise<BulkRow[]> {
  const seconds = Math.min(opts.seconds ?? 5, 8);
  const rounds = opts.rounds ?? 3;
  const log = opts.log ?? (() => undefined);
  buildTools();
  const lab = await Lab.create('bulk');
  const pin = (opts.pin ?? false) && availableParallelism() > 1;
  const servers: ChildProcess[] = [];
  try {
    // Kernel, one router: client — kr — server, veths.
    const kc = await lab.addNamespace('kc');
    const kr = await lab.addNamespace('kr');
    const ks = await lab.addNamespace('ks');
    await veth([kc, 'bbc0', '10.1.0.2/24'], [kr, 'bbr0', '10.1.0.1/24']);
    await veth([kr, 'bbr1', '10.2.0.1/24'], [ks, 'bbs0', '10.2.0.2/24']);
    await ip('-n', kc, 'route', 'add', 'default', 'via', '10.1.0.1');
    await ip('-n', ks, 'route', 'add', 'default', 'via', '10.2.0.1');
    await kernelRouter(kr, pin, 'bbr0');

    // Kernel, two routers: client — k1 — k2 — server.
    const k2c = await lab.addNamespace('k2c');
    const k1 = await lab.addNamespace('k1');
    const k2 = await lab.addNamespace('k2');
    const k2s = await lab.addNamespace('k2s');
    await veth([k2c, 'bkc0', '10.1.0.2/24'], [k1, 'bk10', '10.1.0.1/24']);
    await veth([k1, 'bk11', '10.9.0.1/30'], [k2, 'bk20', '10.9.0.2/30']);
    await veth([k2, 'bk21', '10.2.0.1/24'], [k2s, 'bks0', '10.2.0.2/24']);
    await ip('-n', k2c, 'route', 'add', 'default', 'via', '10.1.0.1');
    await ip('-n', k2s, 'route', 'add', 'default', 'via', '10.2.0.1');
    await ip('-n', k1, 'route', 'add', '10.2.0.0/24', 'via', '10.9.0.2');
    await ip('-n', k2, 'route', 'add', '10.1.0.0/24', 'via', '10.9.0.1');
    await kernelRouter(k1, pin, 'bk10');
    await kernelRouter(k2, pin, 'bk20');

    // One router on TUNs: client TUN in tc, server TUN in ts (as tunroute's host ports).
    const { client: tc, server: ts, clientDev: cin, serverDev: sout } = await tunHosts(lab, 't');

    // Two routers: the same host TUNs; R1 ↔ wiring pair (tc mirred) ↔ R2.
    const l1 = lab.dev('l1');
    const l2 = lab.dev('l2');
    const wire = await lab.link(l1, l2);

    // Ethernet ports: a client on a veth (router end in er), and a server on a veth (router end in er2).
    const ec = await lab.addNamespace('ec');
    const er = await lab.addNamespace('er');
    await lab.ethernetHostPort(ec, 'bec0', er, 'ber0', '10.1.0.2/24', '10.1.0.1');
    const es = await lab.addNamespace('es');
    const er2 = await lab.addNamespace('er2');
    await lab.ethernetHostPort(es, 'bes0', er2, 'bes1', '10.2.0.2/24', '10.2.0.1');
    const ec2 = await lab.addNamespace('ec2');
    const ec2dev = lab.dev('ec2');
    await lab.hostPort(ec2, ec2dev, '10.1.0.2/24', '10.1.0.1');

    // Forwarding workers (multi-queue TUNs, a pair of its own): the client in mc, the server in ms.
    const { client: mc, server: ms, clientDev: mcdev, serverDev: msdev } = await tunHosts(lab, 'm', true);

    for (const ns of [ks, k2s, ts, es, ms]) {
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
    let started = 0;
    /** A tunroute daemon in the lab namespace of role `role` (else a fresh one). */
    const daemon = async (config: Record<string, unknown>, role?: string): Promise<RouterProcess> => {
      const r = await lab.startRouter(role ?? `r${started++}`, { logLevel: 'warn', ...config });
      if (pin) await run('taskset', ['-a', '-p', '-c', ROUTER_CPU, String(r.proc!.pid)]);
      return r;
    };
    /** What stops the daemons of a row: they go after the first one's bytes per packet read on port c are taken. */
    const stopDaemons = (first: RouterProcess, ...rest: RouterProcess[]) => async () => {
      const b = await bytesPerPacket(first, 'c');
      for (const r of [first, ...rest]) await r.stop();
      return b;
    };
    const bytesPerPacket = async (r: RouterProcess, port: string): Promise<number | undefined> => {
      const p = (await r.api<StatsJson>('GET', '/v1/stats')).ports[port];
      return p && p.rxPackets ? p.rxBytes / p.rxPackets : undefined;
    };
    const tunPorts = [
      { name: 'c', device: cin, netns: tc, address: '10.1.0.1/24' },
      { name: 's', device: sout, netns: ts, address: '10.2.0.1/24' },
    ];

    // Virtual-service NAT: the client connects to VIP, which the router sends to the server (10.2.0.2).
    const VIP = '10.3.0.1';
    const natService = { virtualServices: [{ name: 'bulk', address: VIP, backends: [{ name: 'server', address: '10.2.0.2' }] }] };
    const workerPorts = [
      { name: 'c', device: mcdev, netns: mc, address: '10.1.0.1/24' },
      { name: 's', device: msdev, netns: ms, address: '10.2.0.1/24' },
    ];

    interface Config {
      name: string; routers: 1 | 2; kernel: string; ts?: boolean; client: string;
      /** The address the client connects to (default: the server's, 10.2.0.2). */
      target?: string;
      /** Start the forwarding; the returned function stops it and may say the bytes per packet it read client→server. */
      run: (out: string) => Promise<() => Promise<number | undefined>>;
    }
    const K1 = 'kernel (veth)';
    const K2 = 'kernel (veth), 2 routers';
    const stopC = (...cs: ChildProcess[]) => async () => { for (const c of cs) await stopChild(c); return undefined; };
    const all: Config[] = [
      { name: K1, routers: 1, kernel: K1, client: kc, run: async () => async () => undefined },
      { name: 'C TUN↔TUN, no offloads', routers: 1, kernel: K1, client: tc, run: async (out) => stopC(cfwd(false, [tc, cin], [ts, sout], out)) },
      { name: 'C TUN↔TUN, offloads', routers: 1, kernel: K1, client: tc, run: async (out) => stopC(cfwd(true, [tc, cin], [ts, sout], out)) },
      {
        name: 'tunroute', routers: 1, kernel: K1, client: tc,
        run: async () => {
          const r = await daemon({ ports: tunPorts });
          return stopDaemons(r);
        },
      },
      {
        name: 'tunroute, Ethernet client', routers: 1, kernel: K1, client: ec,
        run: async () => {
          const r = await daemon({ ports: [{ name: 'c', type: 'ethernet', device: 'ber0', address: '10.1.0.1/24' }, tunPorts[1]] }, 'er');
          return stopDaemons(r);
        },
      },
      ...[true, false].map((offload): Config => ({
        name: `tunroute, Ethernet server, ${offload ? 'whole' : 'cut'}`, routers: 1, kernel: K1, client: ec2,
        run: async () => {
          const r = await daemon({ ports: [{ name: 'c', device: ec2dev, netns: ec2, address: '10.1.0.1/24' }, { name: 's', type: 'ethernet', device: 'bes1', address: '10.2.0.1/24', offload }] }, 'er2');
          return stopDaemons(r);
        },
      })),
      ...([['tunroute, NAT', tc, tunPorts, 0], ['tunroute, 2 workers', mc, workerPorts, 2], ['tunroute, 2 workers, NAT', mc, workerPorts, 2]] as const).map(([name, client, ports, workers]): Config => ({
        name, routers: 1, kernel: K1, client, target: name.endsWith('NAT') ? VIP : undefined,
        run: async () => {
          const r = await daemon({ ports, workers, ...(name.endsWith('NAT') ? natService : {}) });
          return stopDaemons(r);
        },
      })),
      ...(opts.tsLoop ? [{ name: 'TS loop, offloads', routers: 1, kernel: K1, client: tc, ts: true, run: async (out: string) => stopC(tsfwd([tc, cin], [ts, sout], out)) } as Config] : []),
      { name: K2, routers: 2, kernel: K2, client: k2c, run: async () => async () => undefined },
      {
        name: 'C TUN↔TUN, no offloads', routers: 2, kernel: K2, client: tc,
        run: async (out) => stopC(cfwd(false, [tc, cin], [wire, l1], out), cfwd(false, [wire, l2], [ts, sout], `${out}.r2`)),
      },
      {
        name: 'C TUN↔TUN, offloads', routers: 2, kernel: K2, client: tc,
        run: async (out) => stopC(cfwd(true, [tc, cin], [wire, l1], out), cfwd(true, [wire, l2], [ts, sout], `${out}.r2`)),
      },
      {
        name: 'tunroute', routers: 2, kernel: K2, client: tc,
        run: async () => {
          const r1 = await daemon({ ports: [tunPorts[0], { name: 'l', device: l1, netns: wire, address: '10.9.0.1/30' }], routes: [{ prefix: '10.2.0.0/24', port: 'l', via: '10.9.0.2' }] });
          const r2 = await daemon({ ports: [{ name: 'l', device: l2, netns: wire, address: '10.9.0.2/30' }, tunPorts[1]], routes: [{ prefix: '10.1.0.0/24', port: 'l', via: '10.9.0.1' }] });
          return stopDaemons(r1, r2);
        },
      },
    ];
    const only = opts.only?.split('|');
    const configs = all.filter((c) => !only || c.name.startsWith('kernel') || only.some((o) => c.name === o || c.name.startsWith(`${o},`)));
    const rows: BulkRow[] = configs.map((c) => ({ name: c.name, routers: c.routers, kernel: c.kernel, gbps: [] }));
    for (let round = 0; round < rounds; round++) {
      for (const [i, cfg] of configs.entries()) {
        const out = join(lab.dir, `run-${round}-${i}.out`);
        let g = 0;
        let bpp: number | undefined;
        let stop: (() => Promise<number | undefined>) | undefined;
        try {
          stop = await cfg.run(out);
          await reachable(cfg.client, cfg.target ?? '10.2.0.2');
          g = await iperf(cfg.client, cfg.target ?? '10.2.0.2', seconds, pin, log);
        } catch (e) {
          log(`    ${cfg.name}: ${(e as Error).message}`);
        } finally {
          bpp = await stop?.().catch(() => undefined);
        }
        rows[i]!.gbps.push(g);
        const mp = bpp ?? (cfg.name.startsWith('C') || cfg.ts ? meanPacket(out, cfg.ts ?? false) : undefined);
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
  const med = new Map(rows.map((r) => [`${r.routers}/${r.name}`, median(r.gbps)]));
  const lines = [
    `Bulk TCP (iperf3, ${seconds} s per run, median of ${rows[0]!.gbps.length} interleaved rounds): Gbit/s received`,
    '  routers  forwarder                              Gbit/s   ×kernel   ×C offloads   bytes/packet in',
  ];
  for (const r of rows) {
    const m = median(r.gbps);
    const k = med.get(`${r.routers}/${r.kernel}`) ?? NaN;
    const c = med.get(`${r.routers}/C TUN↔TUN, offloads`);
    const vsC = r.name.startsWith('tunroute') && c ? (m / c).toFixed(2) : '';
    lines.push(`  ${String(r.routers).padStart(7)}  ${r.name.padEnd(38)} ${m.toFixed(2).padStart(6)} ${(m / k).toFixed(2).padStart(9)} ${vsC.padStart(13)}   ${r.meanPacketBytes ? Math.round(r.meanPacketBytes).toString().padStart(6) : '     -'}`);
  }
  // The same ratios taken round by round: the machine drifts between rounds more than within one.
  const byName = new Map(rows.map((r) => [`${r.routers}/${r.name}`, r.gbps]));
  const paired = rows.filter((r) => r.name.startsWith('C TUN↔TUN, offloads') || r.name.startsWith('tunroute')).flatMap((r) => {
    const k = byName.get(`${r.routers}/${r.kernel}`);
    const c = byName.get(`${r.routers}/C TUN↔TUN, offloads`);
    if (!k || k.length !== r.gbps.length) return [];
    const vsC = c && c.length === r.gbps.length && c !== r.gbps ? `   ×C offloads ${formatSpread(overRound(r.gbps, c))}` : '';
    return [`  ${String(r.routers).padStart(7)}  ${r.name.padEnd(38)} ×kernel ${formatSpread(overRound(r.gbps, k))}${vsC}`];
  });
  if (paired.length > 0) lines.push('  Over the kernel\'s and the C forwarder\'s runs of the same round (median, range over the rounds):', ...paired);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string' }, rounds: { type: 'string' }, pin: { type: 'boolean' }, 'ts-loop': { type: 'boolean' }, only: { type: 'string' } },
  });
  const seconds = Math.min(Number(values.seconds ?? 5), 8);
  const rows = await runBulkBench({
    seconds, rounds: Number(values.rounds ?? 3), pin: values.pin ?? false, tsLoop: values['ts-loop'] ?? false, only: values.only,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  console.log(formatBulkBench(rows, seconds));
}
