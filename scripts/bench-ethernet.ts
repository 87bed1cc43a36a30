/**
 * Ethernet attachment benchmark: packets per second through one userspace
 * forwarder on a veth chain (sender → router → receiver namespaces), for each
 * way a router can attach to an Ethernet interface, beside the TUN baseline:
 *   - C TUN→TUN (scripts/bench/tunfwd.c) on the TUN chain of bench-forwarding,
 *   - C AF_PACKET with recvmmsg/sendmmsg: plain, and with virtio-net headers
 *     and partial checksums completed (what native/ether.c does, and must:
 *     the sender's kernel leaves UDP/TCP checksums to "hardware" on a veth);
 *     with a TPACKET_V2 RX ring, with RX and TX rings (scripts/bench/ethfwd.c),
 *     on veth ends in the router namespace,
 *   - the vnet forwarder with the ingress veth's own MAC
 *     changed, so the frames (still sent to the old MAC) are "other host" to
 *     the kernel and its IP stack drops them at once: what the kernel's own
 *     look at every frame (ip_rcv, a route lookup, a drop) costs,
 *   - C TAP→TAP with each TAP joined to a veth end by tc mirred, both ways
 *     (what VM-based containerlab nodes do),
 *   - and, through the project's addon and the JavaScript Ethernet adapter,
 *     a minimal JS forwarder over EthernetDevice and over TunDevice.
 * The sender (scripts/bench/udpflood.c) is pinned to CPU 0, the forwarder to
 * CPU 1; the receiver's interface counter says how many frames got through.
 *
 * Two measures: packets/s delivered with the sender flat out (--rate 0, the
 * default), and, with --rate PPS, the CPU each packet costs at a paced load
 * the forwarders all keep up with: nanoseconds on a CPU per packet for the
 * forwarder (its system calls, its copying, and the egress veth's softirq
 * work done in its context) and for the sender (its UDP stack and the
 * router's ingress work its veth transmit triggers: AF_PACKET's packet_rcv,
 * mirred + TAP queueing, the TUN queue). On a shared machine the CPU cost is
 * the steadier number: it does not depend on who else gets the CPU.
 * The sender and receiver know the router's MACs from static neighbour
 * entries, so no ARP happens during a run (the C forwarders speak none).
 *
 * Run: node dist/scripts/bench-ethernet.js [--seconds 2] [--rounds 3] [--rate PPS] [--only packet,tap]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Lab } from '../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../src/testbed/shell.js';
import { median } from './bench-stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SENDER_CPU = '0';
const ROUTER_CPU = '1';
const BIN_DIR = `${ROOT}build/bench`;
const JS_FORWARDER = new URL('./bench/ethjsfwd.js', import.meta.url).pathname;

export const VARIANTS = ['tun', 'packet', 'vnet', 'packet-otherhost', 'ring', 'ringtx', 'tap', 'js-packet', 'js-tun'] as const;
export type Variant = (typeof VARIANTS)[number];

export const VARIANT_LABELS: Record<Variant, string> = {
  tun: 'C TUN→TUN',
  packet: 'C AF_PACKET mmsg (checksums left partial)',
  vnet: 'C AF_PACKET mmsg + vnet hdr, checksums done',
  'packet-otherhost': '  same, frames "other host" to the kernel',
  ring: 'C AF_PACKET RX ring + sendmmsg',
  ringtx: 'C AF_PACKET RX+TX rings',
  tap: 'C TAP+mirred',
  'js-packet': 'JS EthernetDevice (AF_PACKET) + EthernetLink',
  'js-tun': 'JS TunDevice',
};

function buildTools(): void {
  mkdirSync(BIN_DIR, { recursive: true });
  for (const tool of ['udpflood', 'tunfwd', 'ethfwd']) {
    execFileSync('cc', ['-O2', '-Wall', '-o', `${BIN_DIR}/${tool}`, `${ROOT}scripts/bench/${tool}.c`], { stdio: 'inherit' });
  }
}

async function rxPackets(ns: string, dev: string): Promise<number> {
  return Number((await inNetns(ns, 'cat', [`/sys/class/net/${dev}/statistics/rx_packets`])).stdout.trim());
}

async function macOf(ns: string, dev: string): Promise<string> {
  return (await inNetns(ns, 'cat', [`/sys/class/net/${dev}/address`])).stdout.trim();
}

interface Sample {
  /** Delivered packets per second. */
  pps: number;
  /** CPU ns per delivered packet in the forwarder, and per sent packet in the sender (paced runs only). */
  forwarderNs: number;
  senderNs: number;
}

/** Nanoseconds every thread of a process has been on a CPU (precise: the scheduler's own clock). */
function onCpuNs(pid: number): number {
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* thread gone */
    }
  }
  return total;
}

async function measure(senderNs: string, receiverNs: string, receiverDev: string, size: number, seconds: number,
  rate: number, forwarderPid: number): Promise<Sample> {
  const before = await rxPackets(receiverNs, receiverDev);
  const fwdBefore = onCpuNs(forwarderPid);
  const args = ['-c', SENDER_CPU, `${BIN_DIR}/udpflood`, '10.2.0.2', String(size), String(seconds)];
  if (rate > 0) args.push(String(rate));
  const out = (await inNetns(senderNs, 'taskset', args, { timeoutMs: (seconds + 10) * 1000 })).stdout.trim().split(' ');
  await sleep(200);
  const delivered = (await rxPackets(receiverNs, receiverDev)) - before;
  const fwdNs = onCpuNs(forwarderPid) - fwdBefore;
  const sent = Number(out[0]);
  return {
    pps: delivered / seconds,
    forwarderNs: rate > 0 && delivered > 0 ? fwdNs / delivered : NaN,
    senderNs: rate > 0 && sent > 0 ? Number(out[1]) / sent : NaN,
  };
}

export interface Chain {
  s: string;
  r: string;
  d: string;
  /** Router-side devices the forwarder uses (veth ends, or TAPs/TUNs). */
  inDev: string;
  outDev: string;
  /** The receiver's MAC: the next hop's address for the forwarder. */
  dstMac: string;
}

/** sender —veth— router —veth— receiver; the router's veth ends carry no addresses. */
export async function vethChain(lab: Lab, tag: string, withTaps: boolean): Promise<Chain> {
  const s = await lab.addNamespace(`${tag}s`);
  const r = await lab.addNamespace(`${tag}r`);
  const d = await lab.addNamespace(`${tag}d`);
  await ip('link', 'add', 'e0', 'netns', s, 'type', 'veth', 'peer', 'name', 'p0', 'netns', r);
  await ip('link', 'add', 'p1', 'netns', r, 'type', 'veth', 'peer', 'name', 'e0', 'netns', d);
  for (const dev of ['p0', 'p1']) await ip('-n', r, 'link', 'set', dev, 'arp', 'off', 'up');
  await ip('-n', s, 'addr', 'add', '10.1.0.2/24', 'dev', 'e0');
  await ip('-n', d, 'addr', 'add', '10.2.0.2/24', 'dev', 'e0');
  for (const ns of [s, d]) await ip('-n', ns, 'link', 'set', 'e0', 'up');
  await ip('-n', s, 'neigh', 'add', '10.1.0.1', 'lladdr', await macOf(r, 'p0'), 'dev', 'e0', 'nud', 'permanent');
  await ip('-n', d, 'neigh', 'add', '10.2.0.1', 'lladdr', await macOf(r, 'p1'), 'dev', 'e0', 'nud', 'permanent');
  await ip('-n', s, 'route', 'add', 'default', 'via', '10.1.0.1');
  await ip('-n', d, 'route', 'add', 'default', 'via', '10.2.0.1');
  const chain = { s, r, d, inDev: 'p0', outDev: 'p1', dstMac: await macOf(d, 'e0') };
  if (!withTaps) return chain;
  for (const [veth, tap] of [['p0', 't0'], ['p1', 't1']] as const) {
    await ip('-n', r, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    await ip('-n', r, 'link', 'set', tap, 'arp', 'off', 'up');
    for (const [from, to] of [[veth, tap], [tap, veth]] as const) {
      await inNetns(r, 'tc', ['qdisc', 'add', 'dev', from, 'ingress']);
      await inNetns(r, 'tc', ['filter', 'add', 'dev', from, 'ingress', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', to]);
    }
  }
  return { ...chain, inDev: 't0', outDev: 't1' };
}

/** The TUN chain's two hosts: each a namespace whose NIC is a TUN the router (or a C forwarder) takes as its port. */
export interface TunHosts {
  client: string;
  server: string;
  clientDev: string;
  serverDev: string;
}

/**
 * sender (10.1.0.2) and receiver (10.2.0.2) namespaces, each with a TUN as
 * its NIC and a default route via the router's side (10.1.0.1, 10.2.0.1):
 * the addressing of vethChain. `multiQueue`: TUNs for forwarding workers.
 */
export async function tunHosts(lab: Lab, tag: string, multiQueue = false): Promise<TunHosts> {
  const client = await lab.addNamespace(`${tag}s`);
  const server = await lab.addNamespace(`${tag}d`);
  const clientDev = lab.dev(`${tag}in`);
  const serverDev = lab.dev(`${tag}out`);
  const before = lab.multiQueueTuns;
  lab.multiQueueTuns = multiQueue;
  try {
    await lab.hostPort(client, clientDev, '10.1.0.2/24', '10.1.0.1');
    await lab.hostPort(server, serverDev, '10.2.0.2/24', '10.2.0.1');
  } finally {
    lab.multiQueueTuns = before;
  }
  return { client, server, clientDev, serverDev };
}

/** Give `dev` another MAC (frames still sent to the old one are then "other host"), or restore it. */
async function otherHost(ns: string, dev: string, restore: string | undefined): Promise<string> {
  const old = await macOf(ns, dev);
  await ip('-n', ns, 'link', 'set', dev, 'address', restore ?? '02:00:00:00:00:aa');
  return old;
}

export interface EthernetBenchResult {
  seconds: number;
  rounds: number;
  /** 0: flat out; else the paced packets/s of a CPU-cost run. */
  rate: number;
  sizes: number[];
  variants: Variant[];
  /** Medians per variant and size (same index as sizes). */
  pps: Record<string, number[]>;
  /** Best run per variant and size: on a shared machine, the least disturbed one. */
  ppsBest: Record<string, number[]>;
  forwarderNs: Record<string, number[]>;
  senderNs: Record<string, number[]>;
}

export async function runEthernetBench(opts: { seconds?: number; rounds?: number; rate?: number; sizes?: number[]; variants?: Variant[]; log?: (s: string) => void } = {}): Promise<EthernetBenchResult> {
  const seconds = opts.seconds ?? 2;
  const rounds = opts.rounds ?? 3;
  const rate = opts.rate ?? 0;
  const sizes = opts.sizes ?? [64, 1400];
  const variants = opts.variants ?? [...VARIANTS];
  const log = opts.log ?? (() => undefined);
  buildTools();
  const lab = await Lab.create('ethbench');
  try {
    const pk = await vethChain(lab, 'p', false);
    const tp = await vethChain(lab, 't', true);
    const { client: ts, server: td, clientDev: din, serverDev: dout } = await tunHosts(lab, 'u');
    const tun: Chain = { s: ts, r: ts, d: td, inDev: din, outDev: dout, dstMac: '' };

    const samples: Record<string, Sample[][]> = {};
    for (const v of variants) samples[v] = sizes.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (const [i, size] of sizes.entries()) {
        for (const v of variants) {
          const chain = v === 'tun' || v === 'js-tun' ? tun : v === 'tap' ? tp : pk;
          let args: [string, string[]];
          if (v === 'tun') args = [`${BIN_DIR}/tunfwd`, [ts, din, td, dout]];
          else if (v === 'js-tun') args = [process.execPath, [JS_FORWARDER, 'tun', `${ts}:${din}`, `${td}:${dout}`]];
          else if (v === 'js-packet') args = [process.execPath, [JS_FORWARDER, 'packet', chain.inDev, chain.outDev, chain.dstMac]];
          else args = [`${BIN_DIR}/ethfwd`, [v === 'packet-otherhost' ? 'vnet' : v, chain.inDev, chain.outDev, chain.dstMac]];
          const saved = v === 'packet-otherhost' ? await otherHost(chain.r, chain.inDev, undefined) : undefined;
          const out = join(lab.dir, `${v}-${round}-${size}.out`);
          const fwd = lab.spawnIn(chain.r, 'taskset', ['-c', ROUTER_CPU, args[0], ...args[1]], { stdout: out });
          if (v.startsWith('js')) await waitFor(`${v} forwarder ready`, () => existsSync(out) && readFileSync(out, 'utf8').includes('ready'), 15_000, 50);
          await sleep(300);
          const sample = await measure(chain.s, chain.d, chain.d === td ? dout : 'e0', size, seconds, rate, fwd.pid!);
          samples[v]![i]!.push(sample);
          fwd.kill('SIGKILL');
          await new Promise((r) => fwd.once('exit', r));
          if (saved) await otherHost(chain.r, chain.inDev, saved);
          log(`  round ${round + 1}, ${size} B, ${VARIANT_LABELS[v]}: ${Math.round(sample.pps)} pps` +
            (rate > 0 ? `, forwarder ${Math.round(sample.forwarderNs)} ns/packet, sender ${Math.round(sample.senderNs)} ns/packet` : ''));
        }
      }
    }
    const pick = (k: keyof Sample) => Object.fromEntries(variants.map((v) => [v, samples[v]!.map((xs) => median(xs.map((x) => x[k])))]));
    const ppsBest = Object.fromEntries(variants.map((v) => [v, samples[v]!.map((xs) => Math.max(...xs.map((x) => x.pps)))]));
    return { seconds, rounds, rate, sizes, variants, pps: pick('pps'), ppsBest, forwarderNs: pick('forwarderNs'), senderNs: pick('senderNs') };
  } finally {
    await lab.cleanup();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatEthernetBench(r: EthernetBenchResult): string {
  const label = (v: Variant) => VARIANT_LABELS[v].padEnd(46);
  if (r.rate > 0) {
    const lines = [
      `Ethernet attachments at a paced ${fmt(r.rate)} packets/s: CPU ns per packet (forwarder + sender side), median of ${r.rounds} interleaved ${r.seconds}-s runs`,
      `  ${'forwarder'.padEnd(46)}${r.sizes.map((s) => `${`${s} B: fwd`.padStart(13)}${'send'.padStart(7)}${'total'.padStart(8)}${'pps'.padStart(9)}`).join('')}`,
    ];
    for (const v of r.variants) {
      lines.push(`  ${label(v)}${r.sizes.map((_, i) => {
        const f = r.forwarderNs[v]![i]!, s = r.senderNs[v]![i]!;
        return `${fmt(f).padStart(13)}${fmt(s).padStart(7)}${fmt(f + s).padStart(8)}${fmt(r.pps[v]![i]!).padStart(9)}`;
      }).join('')}`);
    }
    return lines.join('\n');
  }
  const base = r.pps.tun;
  const bestBase = r.ppsBest.tun;
  const lines = [
    `Ethernet attachments, UDP sender → forwarder → receiver: packets/s delivered, median and best of ${r.rounds} interleaved ${r.seconds}-s runs`,
    `  ${'forwarder'.padEnd(46)}${r.sizes.map((s) => `${`${s} B median`.padStart(16)}${'best'.padStart(10)}`).join('')}${base ? r.sizes.map((s) => `${`÷TUN ${s}`.padStart(11)}${'best'.padStart(6)}`).join('') : ''}`,
  ];
  for (const v of r.variants) {
    const row = r.pps[v]!;
    const best = r.ppsBest[v]!;
    lines.push(`  ${label(v)}${row.map((x, i) => `${fmt(x).padStart(16)}${fmt(best[i]!).padStart(10)}`).join('')}` +
      `${base ? row.map((x, i) => `${(x / base[i]!).toFixed(2).padStart(11)}${(best[i]! / bestBase![i]!).toFixed(2).padStart(6)}`).join('') : ''}`);
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const only = arg('--only')?.split(',') as Variant[] | undefined;
  const r = await runEthernetBench({
    seconds: Number(arg('--seconds') ?? 2),
    rounds: Number(arg('--rounds') ?? 3),
    rate: Number(arg('--rate') ?? 0),
    variants: only,
    log: (s) => process.stderr.write(`${s}\n`),
  });
  console.log(formatEthernetBench(r));
}
