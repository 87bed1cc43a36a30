/**
 * Forwarding benchmark: packets per second through one router on the same
 * 3-namespace chain (sender → router → receiver), side by side:
 *   - the Linux kernel forwarding (router namespace with ip_forward=1, veths),
 *   - a minimal C TUN→TUN forwarder (scripts/bench/tunfwd.c): the ceiling for
 *     any userspace router on TUN ports,
 *   - tunroute.
 * The sender (scripts/bench/udpflood.c) blasts UDP with sendmmsg for a few
 * seconds; the receiver's interface counter tells how many got through.
 *
 * Run directly: node dist/scripts/bench-forwarding.js
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Lab } from '../src/testbed/lab.js';
import { inNetns, ip, sleep } from '../src/testbed/shell.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const BIN_DIR = `${ROOT}build/bench`;

export interface ForwardingRow {
  size: number;
  kernelPps: number;
  cPps: number;
  tunroutePps: number;
  /** Sent by the generator per second in the tunroute run (offered load). */
  offeredPps: number;
}

export interface ForwardingBenchResult {
  seconds: number;
  rows: ForwardingRow[];
  tunrouteRssMB: number;
}

function buildTools(): void {
  mkdirSync(BIN_DIR, { recursive: true });
  for (const tool of ['udpflood', 'tunfwd']) {
    execFileSync('cc', ['-O2', '-Wall', '-o', `${BIN_DIR}/${tool}`, `${ROOT}scripts/bench/${tool}.c`], { stdio: 'inherit' });
  }
}

async function rxPackets(ns: string, dev: string): Promise<number> {
  return Number((await inNetns(ns, 'cat', [`/sys/class/net/${dev}/statistics/rx_packets`])).stdout.trim());
}

/** Blast for `seconds`; return [delivered pps, offered pps]. */
async function measure(senderNs: string, receiverNs: string, receiverDev: string, dst: string, size: number, seconds: number): Promise<[number, number]> {
  const before = await rxPackets(receiverNs, receiverDev);
  const sent = Number((await inNetns(senderNs, `${BIN_DIR}/udpflood`, [dst, String(size), String(seconds)], { timeoutMs: (seconds + 10) * 1000 })).stdout.trim());
  await sleep(200); // let the queues drain
  const after = await rxPackets(receiverNs, receiverDev);
  return [(after - before) / seconds, sent / seconds];
}

export async function runForwardingBench(opts: { seconds?: number; sizes?: number[]; log?: (s: string) => void } = {}): Promise<ForwardingBenchResult> {
  const seconds = opts.seconds ?? 3;
  const sizes = opts.sizes ?? [64, 1400];
  const log = opts.log ?? (() => undefined);
  buildTools();
  const lab = await Lab.create('bench');
  try {
    // Kernel baseline: veth pairs, ip_forward=1 in the router namespace.
    const ks = await lab.addNamespace('ks');
    const kr = await lab.addNamespace('kr');
    const kd = await lab.addNamespace('kd');
    await ip('link', 'add', 'bks0', 'netns', ks, 'type', 'veth', 'peer', 'name', 'bkr0', 'netns', kr);
    await ip('link', 'add', 'bkr1', 'netns', kr, 'type', 'veth', 'peer', 'name', 'bkd0', 'netns', kd);
    for (const [ns, dev, addr] of [[ks, 'bks0', '10.1.0.2/24'], [kr, 'bkr0', '10.1.0.1/24'], [kr, 'bkr1', '10.2.0.1/24'], [kd, 'bkd0', '10.2.0.2/24']] as const) {
      await ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
      await ip('-n', ns, 'link', 'set', dev, 'up');
    }
    await ip('-n', ks, 'route', 'add', 'default', 'via', '10.1.0.1');
    await ip('-n', kd, 'route', 'add', 'default', 'via', '10.2.0.1');
    await inNetns(kr, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
    // Warm the neighbour caches so the first packets are not lost to ARP.
    await inNetns(ks, 'ping', ['-c', '1', '-W', '1', '10.2.0.2']);

    // TUN chain shared by the C forwarder and tunroute.
    const ts = await lab.addNamespace('ts');
    const td = await lab.addNamespace('td');
    const din = lab.dev('in');
    const dout = lab.dev('out');
    await lab.hostPort(ts, din, '10.1.0.2/24', '10.1.0.1');
    await lab.hostPort(td, dout, '10.2.0.2/24', '10.2.0.1');

    const rows: ForwardingRow[] = sizes.map((size) => ({ size, kernelPps: 0, cPps: 0, tunroutePps: 0, offeredPps: 0 }));
    for (const row of rows) {
      [row.kernelPps] = await measure(ks, kd, 'bkd0', '10.2.0.2', row.size, seconds);
      log(`  kernel    ${row.size} B: ${Math.round(row.kernelPps)} pps`);
      const c = lab.spawnIn(ts, `${BIN_DIR}/tunfwd`, [ts, din, td, dout]);
      await sleep(300);
      [row.cPps] = await measure(ts, td, dout, '10.2.0.2', row.size, seconds);
      c.kill('SIGKILL');
      await new Promise((r) => c.once('exit', r));
      log(`  C tunfwd  ${row.size} B: ${Math.round(row.cPps)} pps`);
    }
    const router = await lab.startRouter('r', {
      logLevel: 'warn',
      ports: [
        { name: 'in', device: din, netns: ts, address: '10.1.0.1/24' },
        { name: 'out', device: dout, netns: td, address: '10.2.0.1/24' },
      ],
    });
    for (const row of rows) {
      [row.tunroutePps, row.offeredPps] = await measure(ts, td, dout, '10.2.0.2', row.size, seconds);
      log(`  tunroute  ${row.size} B: ${Math.round(row.tunroutePps)} pps`);
    }
    const status = readFileSync(`/proc/${router.proc!.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    return { seconds, rows, tunrouteRssMB: rssKb / 1024 };
  } finally {
    await lab.cleanup();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatForwardingBench(r: ForwardingBenchResult): string {
  const lines = [
    `Forwarding, UDP sender → router → receiver namespaces, ${r.seconds} s per run (packets/s delivered)`,
    `  size   kernel (veth)   C TUN→TUN   tunroute   tunroute/C   tunroute/kernel`,
  ];
  for (const row of r.rows) {
    lines.push(`  ${String(row.size).padStart(4)} B ${fmt(row.kernelPps).padStart(14)} ${fmt(row.cPps).padStart(11)} ${fmt(row.tunroutePps).padStart(10)} ${(row.tunroutePps / row.cPps).toFixed(2).padStart(12)} ${(row.tunroutePps / row.kernelPps).toFixed(2).padStart(17)}`);
  }
  lines.push(`  tunroute daemon RSS after the runs: ${r.tunrouteRssMB.toFixed(1)} MB`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runForwardingBench({ log: (s) => process.stderr.write(`${s}\n`) });
  console.log(formatForwardingBench(r));
}
