/**
 * Forwarding benchmark: packets per second through one router on the same
 * 3-namespace chain (sender → router → receiver), side by side:
 *   - the Linux kernel forwarding (router namespace with ip_forward=1, veths),
 *   - a minimal C TUN→TUN forwarder (scripts/bench/tunfwd.c): the ceiling for
 *     any userspace router on TUN ports,
 *   - the C forwarder with the TUN offloads tunroute uses by default
 *     (scripts/bench/tunfwd-offload.c --offload: a virtio-net header on
 *     every read and write): what a TUN router in offload mode pays,
 *   - tunroute on TUN ports, with its default offloads and without
 *     (`offload: false`),
 *   - tunroute with forwarding workers (64 B only): `workers: 1` and
 *     `workers: 2` on multi-queue TUNs, the sender spreading its packets
 *     over WORKER_FLOWS flows (one flow always takes one queue), and one
 *     worker without offloads (plain TUNs, as the plain C forwarder's),
 *   - and on Ethernet ports (veth ends, AF_PACKET), beside the C AF_PACKET
 *     forwarder of bench-ethernet (scripts/bench/ethfwd.c, vnet mode: what
 *     the addon does) as that attachment's ceiling.
 * The sender (scripts/bench/udpflood.c) blasts UDP with sendmmsg for a few
 * seconds; the receiver's UDP counters tell how many datagrams got through
 * (a socket bound to the port takes them and reads none: each is counted
 * as the kernel drops it for a full buffer). Counted there, not at the
 * interface, because tunroute writes the datagrams of one flow to an
 * offload TUN as one UDP super-packet (USO), which the interface counts
 * once and the receiving UDP layer cuts back into its datagrams.
 * Each configuration runs several rounds, interleaved, and the median is
 * reported (one run on a 2-core machine swings by tens of percent).
 * For the runs pinned to the router's CPU (the C TUN forwarders, tunroute,
 * one worker; each with and without offload mode) the CPU's time over the
 * blast (/proc/stat) is split per delivered packet into user and kernel
 * time: the kernel's share (the TUN reads and writes, and the receiver's
 * stack, which the router's writes run) is what any TUN router pays; the
 * user share is what tunroute adds.
 * The kernel's router namespace gets RPS on its ingress veth: without it the
 * whole veth → forward → veth path runs in the sender's system call on the
 * sender's CPU, and the sender, not forwarding, is what gets measured; the
 * TUN routers likewise run on a CPU of their own: the sender is pinned to
 * CPU 0, the forwarding (RPS target, C forwarder, tunroute) to CPU 1.
 *
 * Run directly: node dist/scripts/bench-forwarding.js
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Lab } from '../src/testbed/lab.js';
import { tunHosts, vethChain } from './bench-ethernet.js';
import { inNetns, ip, run, sleep, waitFor } from '../src/testbed/shell.js';
import { formatSpread, median, overRound, senderLimited, type Spread } from './bench-stats.js';

const ROOT = new URL('../../', import.meta.url).pathname;
// The sender on one CPU, the router (kernel RPS target, C forwarder, tunroute) on another.
const SENDER_CPU = '0';
const ROUTER_CPU = '1';
const BIN_DIR = `${ROOT}build/bench`;

export interface ForwardingRow {
  size: number;
  kernelPps: number;
  cPps: number;
  /** The C forwarder with its reads and writes batched through io_uring (tunfwd-uring.c), plain TUNs. */
  cUringPps: number;
  /** The C forwarder in offload mode (virtio-net headers), as tunroute's ports are by default. */
  cOffloadPps: number;
  tunroutePps: number;
  /** tunroute with `offload: false` on its ports (plain TUNs, as the plain C forwarder's). */
  tunroutePlainPps: number;
  /** Ethernet ports: the C AF_PACKET forwarder and tunroute. */
  cEthPps: number;
  tunrouteEthPps: number;
  /** Sent by the generator per second in the tunroute run (offered load). */
  offeredPps: number;
  /**
   * Packets per second the receiver's interface counted in the tunroute run
   * (rx_packets): a UDP super-packet tunroute wrote whole counts once there,
   * its datagrams each at the UDP layer (the delivered count).
   */
  receiverRxPps: number;
  /** TUN ports, forwarding workers (64 B only, else NaN): 1 and 2 workers, and 1 worker with `offload: false`. */
  workers1Pps: number;
  workers2Pps: number;
  workers1PlainPps: number;
  /** tunroute with `ioUring: false` (one read()/write() a packet), its default offloads (64 B only, else NaN). */
  tunrouteNoUringPps: number;
  /**
   * The router CPU's time per delivered packet, ns (medians): the C
   * forwarder and tunroute, each with and without offload mode, and 1
   * worker with and without it (64 B only, else null). Side by side they
   * split the gap to the plain C forwarder into what offload mode costs any
   * TUN router and what tunroute's own path costs.
   */
  cCpu: CpuPerPacket;
  cUringCpu: CpuPerPacket;
  cOffloadCpu: CpuPerPacket;
  tunrouteCpu: CpuPerPacket;
  tunroutePlainCpu: CpuPerPacket;
  workers1Cpu: CpuPerPacket | null;
  workers1PlainCpu: CpuPerPacket | null;
  /**
   * Per round, the run over the C forwarder's run of the same round (the
   * machine's state drifts between rounds more than the runs of one round
   * differ): tunroute over the plain and the offload-mode C forwarder, and
   * 1 worker over the plain one (64 B only, else null).
   */
  tunrouteOverC: Spread;
  tunrouteOverCOffload: Spread;
  /** tunroute with `offload: false` over tunroute with its default offloads. */
  plainOverOffload: Spread;
  /** Per configuration, its runs that were sender-limited (a ratio over such a baseline run is left out of the by-round figures). */
  senderLimitedRuns: Record<string, number>;
  workers1OverC: Spread | null;
  /** 1 worker with `offload: false` over the plain C forwarder (64 B only, else null). */
  workers1PlainOverC: Spread | null;
  /** Over the io_uring C forwarder, like for like (plain TUNs): tunroute and 1 worker without offloads (1 worker: 64 B only). */
  tunroutePlainOverCUring: Spread;
  workers1PlainOverCUring: Spread | null;
  /** tunroute with `ioUring: false` over tunroute (64 B only). */
  noUringOverUring: Spread | null;
}

/** A CPU's time per delivered packet, ns: user (and nice), kernel (system, irq, softirq). */
export interface CpuPerPacket {
  userNs: number;
  kernelNs: number;
}

/** Flows the sender spreads its packets over in the workers runs. */
const WORKER_FLOWS = 8;

export interface ForwardingBenchResult {
  seconds: number;
  rounds: number;
  rows: ForwardingRow[];
  tunrouteRssMB: number;
}

function buildTools(): void {
  mkdirSync(BIN_DIR, { recursive: true });
  for (const tool of ['udpflood', 'tunfwd', 'tunfwd-offload', 'tunfwd-uring', 'ethfwd']) {
    const libs = tool === 'tunfwd-uring' ? ['-l:liburing.a'] : [];
    execFileSync('cc', ['-O2', '-Wall', '-o', `${BIN_DIR}/${tool}`, `${ROOT}scripts/bench/${tool}.c`, ...libs], { stdio: 'inherit' });
  }
}

/** Clock ticks per second of /proc/stat (USER_HZ). */
const USER_HZ = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The router CPU's /proc/stat fields: user, nice, system, idle, iowait, irq, softirq, … (ticks). */
function routerCpuTicks(): number[] {
  const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${ROUTER_CPU} `));
  if (!line) throw new Error(`bench-forwarding: no cpu${ROUTER_CPU} line in /proc/stat`);
  return line.trim().split(/\s+/).slice(1).map(Number);
}

function cpuPerPacket(before: number[], after: number[], packets: number): CpuPerPacket {
  const d = after.map((x, i) => x - before[i]!);
  const ns = (ticks: number) => (packets > 0 ? (ticks * 1e9) / USER_HZ / packets : NaN);
  return { userNs: ns(d[0]! + d[1]!), kernelNs: ns(d[2]! + d[5]! + d[6]!) };
}

/** A UDP socket on the sender's port (9) that reads nothing, with the smallest buffer: every datagram that arrives is counted. */
const UDP_SINK = 'import socket, signal; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); ' +
  's.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 0); s.bind(("0.0.0.0", 9)); signal.pause()';

/** Datagrams the UDP layer of namespace `ns` took for its sockets: read, or dropped for a full buffer or memory. */
async function udpDatagrams(ns: string): Promise<number> {
  const [names, values] = (await inNetns(ns, 'cat', ['/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.trim().split(/\s+/));
  const field = (k: string): number => { const at = names!.indexOf(k); return at < 0 ? 0 : Number(values![at]); };
  return field('InDatagrams') + field('RcvbufErrors') + field('MemErrors');
}

/** Packets the interfaces of namespace `ns` (lo aside) received: rx_packets of /proc/net/dev. */
async function interfaceRxPackets(ns: string): Promise<number> {
  return (await inNetns(ns, 'cat', ['/proc/net/dev'])).stdout.split('\n').slice(2)
    .map((l) => l.trim().split(/[:\s]+/)).filter((f) => f.length > 2 && f[0] !== 'lo').reduce((n, f) => n + Number(f[2]), 0);
}

/** Blast for `seconds`; return [delivered pps, offered pps, the router CPU's time per delivered packet, the receiver's interface rx pps]. */
async function measure(senderNs: string, receiverNs: string, dst: string, size: number, seconds: number, flows = 1): Promise<[number, number, CpuPerPacket, number]> {
  const before = await udpDatagrams(receiverNs);
  const rxBefore = await interfaceRxPackets(receiverNs);
  const cpuBefore = routerCpuTicks();
  const sent = Number((await inNetns(senderNs, 'taskset', ['-c', SENDER_CPU, `${BIN_DIR}/udpflood`, dst, String(size), String(seconds), '0', String(flows)], { timeoutMs: (seconds + 10) * 1000 })).stdout.trim());
  const cpuAfter = routerCpuTicks();
  await sleep(200); // let the queues drain
  const after = await udpDatagrams(receiverNs);
  const rx = (await interfaceRxPackets(receiverNs)) - rxBefore;
  return [(after - before) / seconds, sent / seconds, cpuPerPacket(cpuBefore, cpuAfter, after - before), rx / seconds];
}

const medianCpu = (xs: CpuPerPacket[]): CpuPerPacket => ({ userNs: median(xs.map((x) => x.userNs)), kernelNs: median(xs.map((x) => x.kernelNs)) });

export async function runForwardingBench(opts: { seconds?: number; rounds?: number; sizes?: number[]; log?: (s: string) => void } = {}): Promise<ForwardingBenchResult> {
  const seconds = opts.seconds ?? 2;
  const rounds = opts.rounds ?? 5;
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
    const { client: ts, server: td, clientDev: din, serverDev: dout } = await tunHosts(lab, 't');
    const tunPorts = [
      { name: 'in', device: din, netns: ts, address: '10.1.0.1/24' },
      { name: 'out', device: dout, netns: td, address: '10.2.0.1/24' },
    ];

    // The same chain on multi-queue TUNs, for forwarding workers (a worker opens one queue of each).
    const { client: ms, server: md, clientDev: mqin, serverDev: mqout } = await tunHosts(lab, 'm', true);

    // Ethernet chain: sender —veth— router —veth— receiver (the router's ends carry no addresses).
    const eth = await vethChain(lab, 'e', false);

    for (const ns of [kd, td, md, eth.d]) {
      lab.spawnIn(ns, 'python3', ['-c', UDP_SINK]);
      await waitFor(`UDP sink in ${ns}`, async () => (await inNetns(ns, 'ss', ['-Huln', 'sport = :9'])).stdout.trim() !== '', 10_000, 50);
    }

    const cpus = availableParallelism();
    if (cpus > 1) await inNetns(kr, 'sh', ['-c', 'echo 2 > /sys/class/net/bkr0/queues/rx-0/rps_cpus']);

    const samples = sizes.map(() => ({
      kernel: [] as number[], c: [] as number[], cUring: [] as number[], cOffload: [] as number[], tunrouteNoUring: [] as number[], tunroute: [] as number[], tunroutePlain: [] as number[], cEth: [] as number[], tunrouteEth: [] as number[], offered: [] as number[], receiverRx: [] as number[],
      workers1: [] as number[], workers2: [] as number[], workers1Plain: [] as number[],
      cCpu: [] as CpuPerPacket[], cUringCpu: [] as CpuPerPacket[], cOffloadCpu: [] as CpuPerPacket[], tunrouteCpu: [] as CpuPerPacket[], tunroutePlainCpu: [] as CpuPerPacket[],
      workers1Cpu: [] as CpuPerPacket[], workers1PlainCpu: [] as CpuPerPacket[],
      /** Per configuration, per round: whether the run delivered all the sender offered (senderLimited). */
      limited: {} as Record<string, boolean[]>,
    }));
    /** Note whether run `what` (of packet size `size`) was sender-limited; its value for the round's log line, starred if so. */
    const note = (size: number, what: string, delivered: number, offered: number): string => {
      const limited = senderLimited(delivered, offered);
      (samples[sizes.indexOf(size)]!.limited[what] ??= []).push(limited);
      return `${Math.round(delivered)}${limited ? '*' : ''}`;
    };
    const shown: Record<string, string> = {};
    let rss = 0;
    /** A C forwarder (`args`: its binary and arguments) in namespace `ns`, on the router's CPU; the pps delivered while it runs, and that CPU's time per packet. */
    const cForwarder = async (what: string, ns: string, args: string[], senderNs: string, receiverNs: string, size: number): Promise<[number, CpuPerPacket]> => {
      const fwd = lab.spawnIn(ns, 'taskset', ['-c', ROUTER_CPU, ...args]);
      await sleep(300);
      const [pps, offered, cpu] = await measure(senderNs, receiverNs, '10.2.0.2', size, seconds);
      shown[what] = note(size, what, pps, offered);
      fwd.kill('SIGKILL');
      await new Promise((r) => fwd.once('exit', r));
      return [pps, cpu];
    };
    /**
     * A tunroute daemon on its own CPU (with 2 workers: on every CPU, the
     * sender's included); returns the pps delivered while it runs, and
     * the router CPU's time per packet.
     */
    const tunroute = async (what: string, name: string, ports: object[], senderNs: string, receiverNs: string, size: number, workers = 0, more: object = {}): Promise<[number, CpuPerPacket]> => {
      const router = await lab.startRouter(name, { logLevel: 'warn', ports, workers, ...more });
      try {
        if (workers < 2) await run('taskset', ['-a', '-p', '-c', ROUTER_CPU, String(router.proc!.pid)]);
        // Resolve the receiver's MAC (an Ethernet port's ARP) before the blast.
        await inNetns(senderNs, 'ping', ['-c', '1', '-W', '1', '10.2.0.2']).catch(() => undefined);
        const [t, offered, cpu, rx] = await measure(senderNs, receiverNs, '10.2.0.2', size, seconds, workers > 0 ? WORKER_FLOWS : 1);
        shown[what] = note(size, what, t, offered);
        if (receiverNs !== eth.d && workers === 0 && what === 'tunroute') {
          samples[sizes.indexOf(size)]!.offered.push(offered);
          samples[sizes.indexOf(size)]!.receiverRx.push(rx);
        }
        const status = readFileSync(`/proc/${router.proc!.pid}/status`, 'utf8');
        rss = Math.max(rss, Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
        return [t, cpu];
      } finally {
        await router.stop();
      }
    };
    for (let round = 0; round < rounds; round++) {
      for (const [i, size] of sizes.entries()) {
        const [k, kOffered] = await measure(ks, kd, '10.2.0.2', size, seconds);
        samples[i]!.kernel.push(k);
        shown.kernel = note(size, 'kernel', k, kOffered);
        const [cp, cCpu] = await cForwarder('c', ts, [`${BIN_DIR}/tunfwd`, ts, din, td, dout], ts, td, size);
        samples[i]!.c.push(cp);
        samples[i]!.cCpu.push(cCpu);
        const [cup, cuCpu] = await cForwarder('cUring', ts, [`${BIN_DIR}/tunfwd-uring`, ts, din, td, dout], ts, td, size);
        samples[i]!.cUring.push(cup);
        samples[i]!.cUringCpu.push(cuCpu);
        const [cop, coCpu] = await cForwarder('cOffload', ts, [`${BIN_DIR}/tunfwd-offload`, '--offload', ts, din, td, dout], ts, td, size);
        samples[i]!.cOffload.push(cop);
        samples[i]!.cOffloadCpu.push(coCpu);
        const [t, tCpu] = await tunroute('tunroute', `r${round}${size}`, tunPorts, ts, td, size);
        samples[i]!.tunroute.push(t);
        samples[i]!.tunrouteCpu.push(tCpu);
        const [tp, tpCpu] = await tunroute('tunroutePlain', `p${round}${size}`, tunPorts.map((p) => ({ ...p, offload: false })), ts, td, size);
        samples[i]!.tunroutePlain.push(tp);
        samples[i]!.tunroutePlainCpu.push(tpCpu);
        if (size === 64) {
          const [tn] = await tunroute('tunrouteNoUring', `n${round}${size}`, tunPorts, ts, td, size, 0, { ioUring: false });
          samples[i]!.tunrouteNoUring.push(tn);
        }
        const [cep] = await cForwarder('cEth', eth.r, [`${BIN_DIR}/ethfwd`, 'vnet', eth.inDev, eth.outDev, eth.dstMac], eth.s, eth.d, size);
        samples[i]!.cEth.push(cep);
        // The daemon in the chain's router namespace; it resolves the receiver by ARP before the blast.
        const [te] = await tunroute('tunrouteEth', 'er', [
          { name: 'in', type: 'ethernet', device: eth.inDev, address: '10.1.0.1/24' },
          { name: 'out', type: 'ethernet', device: eth.outDev, address: '10.2.0.1/24' },
        ], eth.s, eth.d, size);
        samples[i]!.tunrouteEth.push(te);
        let w = '';
        if (size === 64) {
          const mqPorts = [
            { name: 'in', device: mqin, netns: ms, address: '10.1.0.1/24' },
            { name: 'out', device: mqout, netns: md, address: '10.2.0.1/24' },
          ];
          const [w1, w1Cpu] = await tunroute('workers1', `w1r${round}`, mqPorts, ms, md, size, 1);
          const [w2] = await tunroute('workers2', `w2r${round}`, mqPorts, ms, md, size, 2);
          const [w1p, w1pCpu] = await tunroute('workers1Plain', `w1p${round}`, mqPorts.map((p) => ({ ...p, offload: false })), ms, md, size, 1);
          samples[i]!.workers1.push(w1);
          samples[i]!.workers1Cpu.push(w1Cpu);
          samples[i]!.workers2.push(w2);
          samples[i]!.workers1Plain.push(w1p);
          samples[i]!.workers1PlainCpu.push(w1pCpu);
          w = `, workers 1: ${shown.workers1}, workers 2: ${shown.workers2}, 1 worker without offloads: ${shown.workers1Plain}`;
        }
        const n = size === 64 ? `, without io_uring ${shown.tunrouteNoUring}` : '';
        log(`  round ${round + 1}, ${size} B: kernel ${shown.kernel}, C ${shown.c}, C io_uring ${shown.cUring}, C offload mode ${shown.cOffload}, tunroute ${shown.tunroute}, without offloads ${shown.tunroutePlain}${n}${w}, ` +
          `C AF_PACKET ${shown.cEth}, tunroute Ethernet ${shown.tunrouteEth} pps (* sender-limited)`);
      }
    }
    const rows = sizes.map((size, i) => ({
      size,
      kernelPps: median(samples[i]!.kernel),
      cPps: median(samples[i]!.c),
      cUringPps: median(samples[i]!.cUring),
      tunrouteNoUringPps: samples[i]!.tunrouteNoUring.length > 0 ? median(samples[i]!.tunrouteNoUring) : NaN,
      cOffloadPps: median(samples[i]!.cOffload),
      tunroutePps: median(samples[i]!.tunroute),
      tunroutePlainPps: median(samples[i]!.tunroutePlain),
      cEthPps: median(samples[i]!.cEth),
      tunrouteEthPps: median(samples[i]!.tunrouteEth),
      offeredPps: median(samples[i]!.offered),
      receiverRxPps: median(samples[i]!.receiverRx),
      workers1Pps: samples[i]!.workers1.length > 0 ? median(samples[i]!.workers1) : NaN,
      workers2Pps: samples[i]!.workers2.length > 0 ? median(samples[i]!.workers2) : NaN,
      workers1PlainPps: samples[i]!.workers1Plain.length > 0 ? median(samples[i]!.workers1Plain) : NaN,
      cCpu: medianCpu(samples[i]!.cCpu),
      cUringCpu: medianCpu(samples[i]!.cUringCpu),
      cOffloadCpu: medianCpu(samples[i]!.cOffloadCpu),
      tunrouteCpu: medianCpu(samples[i]!.tunrouteCpu),
      tunroutePlainCpu: medianCpu(samples[i]!.tunroutePlainCpu),
      workers1Cpu: samples[i]!.workers1Cpu.length > 0 ? medianCpu(samples[i]!.workers1Cpu) : null,
      workers1PlainCpu: samples[i]!.workers1PlainCpu.length > 0 ? medianCpu(samples[i]!.workers1PlainCpu) : null,
      tunrouteOverC: overRound(samples[i]!.tunroute, samples[i]!.c, samples[i]!.limited.c),
      tunrouteOverCOffload: overRound(samples[i]!.tunroute, samples[i]!.cOffload, samples[i]!.limited.cOffload),
      plainOverOffload: overRound(samples[i]!.tunroutePlain, samples[i]!.tunroute, samples[i]!.limited.tunroute),
      workers1OverC: samples[i]!.workers1.length > 0 ? overRound(samples[i]!.workers1, samples[i]!.c, samples[i]!.limited.c) : null,
      workers1PlainOverC: samples[i]!.workers1Plain.length > 0 ? overRound(samples[i]!.workers1Plain, samples[i]!.c, samples[i]!.limited.c) : null,
      tunroutePlainOverCUring: overRound(samples[i]!.tunroutePlain, samples[i]!.cUring, samples[i]!.limited.cUring),
      workers1PlainOverCUring: samples[i]!.workers1Plain.length > 0 ? overRound(samples[i]!.workers1Plain, samples[i]!.cUring, samples[i]!.limited.cUring) : null,
      noUringOverUring: samples[i]!.tunrouteNoUring.length > 0 ? overRound(samples[i]!.tunrouteNoUring, samples[i]!.tunroute, samples[i]!.limited.tunroute) : null,
      senderLimitedRuns: Object.fromEntries(Object.entries(samples[i]!.limited).map(([what, runs]) => [what, runs.filter(Boolean).length])),
    }));
    return { seconds, rounds, rows, tunrouteRssMB: rss };
  } finally {
    await lab.cleanup();
  }
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export function formatForwardingBench(r: ForwardingBenchResult): string {
  const lines = [
    `Forwarding, UDP sender → router → receiver namespaces: packets/s delivered, median of ${r.rounds} interleaved ${r.seconds}-s runs`,
    `                           TUN ports                                 Ethernet ports (veth, AF_PACKET)`,
    `  size   kernel (veth)   C TUN→TUN   tunroute   tunroute/C   tunroute/kernel   C AF_PACKET   tunroute   tunroute/C   tunroute/kernel`,
  ];
  for (const row of r.rows) {
    lines.push(`  ${String(row.size).padStart(4)} B ${fmt(row.kernelPps).padStart(14)} ${fmt(row.cPps).padStart(11)} ${fmt(row.tunroutePps).padStart(10)} ${(row.tunroutePps / row.cPps).toFixed(2).padStart(12)} ${(row.tunroutePps / row.kernelPps).toFixed(2).padStart(17)}` +
      ` ${fmt(row.cEthPps).padStart(13)} ${fmt(row.tunrouteEthPps).padStart(10)} ${(row.tunrouteEthPps / row.cEthPps).toFixed(2).padStart(12)} ${(row.tunrouteEthPps / row.kernelPps).toFixed(2).padStart(17)}`);
  }
  for (const row of r.rows) {
    if (Number.isNaN(row.workers1Pps)) continue;
    lines.push(`  ${row.size} B on TUN ports with forwarding workers (multi-queue TUNs, ${WORKER_FLOWS} flows): in-thread ${fmt(row.tunroutePps)}, ` +
      `1 worker ${fmt(row.workers1Pps)} (${(row.workers1Pps / row.cPps).toFixed(2)}× C, ${(row.workers1Pps / row.tunroutePps).toFixed(2)}× in-thread), ` +
      `2 workers ${fmt(row.workers2Pps)} (${(row.workers2Pps / row.cPps).toFixed(2)}× C, ${(row.workers2Pps / row.workers1Pps).toFixed(2)}× 1 worker; not pinned: they share the sender's CPU), ` +
      `1 worker without offloads ${fmt(row.workers1PlainPps)} (${(row.workers1PlainPps / row.cPps).toFixed(2)}× C)`);
  }
  lines.push(`  Over the C forwarder's run of the same round (median, range over the rounds; a round whose baseline was sender-limited left out); the C forwarder in offload mode (virtio-net headers, as tunroute's ports by default):`);
  for (const row of r.rows) {
    lines.push(`  ${String(row.size).padStart(4)} B   tunroute ${formatSpread(row.tunrouteOverC)}` + (row.workers1OverC ? `   1 worker ${formatSpread(row.workers1OverC)}` : '') +
      (row.workers1PlainOverC ? `, without offloads ${formatSpread(row.workers1PlainOverC)}` : '') +
      `   C in offload mode ${fmt(row.cOffloadPps)} (${(row.cOffloadPps / row.cPps).toFixed(2)}× C), tunroute over it ${formatSpread(row.tunrouteOverCOffload)}` +
      `   tunroute without offloads ${fmt(row.tunroutePlainPps)}, over tunroute with them ${formatSpread(row.plainOverOffload)}`);
  }
  lines.push(`  Batched system calls (io_uring: one for a batch's reads, one for its writes; tunroute's default) — the C forwarder with io_uring on plain TUNs, and over it, like for like, tunroute without offloads:`);
  for (const row of r.rows) {
    lines.push(`  ${String(row.size).padStart(4)} B   C io_uring ${fmt(row.cUringPps)} (${(row.cUringPps / row.cPps).toFixed(2)}× the plain C loop)   tunroute without offloads over it ${formatSpread(row.tunroutePlainOverCUring)}` +
      (row.workers1PlainOverCUring ? `, 1 worker ${formatSpread(row.workers1PlainOverCUring)}` : '') +
      (row.noUringOverUring ? `   tunroute with ioUring: false ${fmt(row.tunrouteNoUringPps)}, over tunroute ${formatSpread(row.noUringOverUring)}` : ''));
  }
  const cpu = (c: CpuPerPacket) => `${fmt(c.userNs)} + ${fmt(c.kernelNs)} ns`;
  lines.push(`  The router's CPU per delivered packet, user + kernel (/proc/stat, medians; kernel: the TUN reads and writes, and the receiver's stack its writes run):`);
  for (const row of r.rows) {
    lines.push(`  ${String(row.size).padStart(4)} B   C TUN→TUN ${cpu(row.cCpu)}, with io_uring ${cpu(row.cUringCpu)}   tunroute ${cpu(row.tunrouteCpu)}` + (row.workers1Cpu ? `   1 worker ${cpu(row.workers1Cpu)}` : ''));
    lines.push(`           offload mode: C ${cpu(row.cOffloadCpu)}; without it: tunroute ${cpu(row.tunroutePlainCpu)}` +
      (row.workers1PlainCpu ? `, 1 worker ${cpu(row.workers1PlainCpu)}` : ''));
  }
  lines.push(`  (offered by the sender in the tunroute runs: ${r.rows.map((x) => `${x.size} B ${fmt(x.offeredPps)}/s`).join(', ')}; tunroute daemon RSS ≤ ${r.tunrouteRssMB.toFixed(1)} MB)`);
  lines.push(`  (the receiver's TUN counted in the tunroute runs, rx_packets: ${r.rows.map((x) => `${x.size} B ${fmt(x.receiverRxPps)}/s, ${(x.tunroutePps / x.receiverRxPps).toFixed(2)} datagrams each`).join('; ')} — a UDP super-packet counts once there; the UDP layer's count of datagrams is the one above)`);
  const limited = r.rows.flatMap((x) => Object.entries(x.senderLimitedRuns).filter(([, n]) => n > 0).map(([what, n]) => `${x.size} B ${what} ${n}/${r.rounds}`));
  lines.push(limited.length === 0 ? '  No run was sender-limited.'
    : `  Sender-limited runs (delivered ≥ 98 % of what the sender offered: the router kept up, its ceiling not seen): ${limited.join(', ')}`);
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const r = await runForwardingBench({ log: (s) => process.stderr.write(`${s}\n`), ...(quick ? { rounds: 1, seconds: 2 } : {}) });
  console.log(formatForwardingBench(r));
}
