/**
 * Packet-path benchmark: what tunroute's JavaScript per-packet path costs,
 * in memory, without devices or the kernel — ns per 64-byte UDP packet,
 * beside its floor:
 *   - tunroute: a real Router on in-memory devices that count what they are
 *     given (as in test/unit/packet-path-alloc.test.ts), batches of 64 fed
 *     to its Forwarder's receive(); one flow under one route, and 4096
 *     flows (random destinations under a few routes, random ports);
 *   - the baseline: a minimal TypeScript loop over the same slots that does
 *     only the header checksum check, the TTL decrement with its incremental
 *     checksum and one FIB lookup (the router's FIB) — the floor for any
 *     JavaScript path.
 * Each batch's slots are refilled from a pool of packets first (the path
 * rewrites TTL and checksum in place); the refill is timed alone in each
 * round and subtracted. Rounds interleave the configurations; the median
 * is reported. Timed in process CPU time (a shared machine's neighbours
 * still share its caches: a quiet machine gives steadier figures).
 *
 * Run directly: node dist/scripts/bench-path.js [--rounds 15] [--batches 2000]
 */
import { pathToFileURL } from 'node:url';
import { parseRouterConfig } from '../src/config/router-config.js';
import { silentLogger } from '../src/daemon/log.js';
import { parseAddress } from '../src/net/addr.js';
import { CountingDevice } from '../src/ports/counting-device.js';
import type { Port } from '../src/ports/port.js';
import type { Fib } from '../src/routing/fib.js';
import { Router } from '../src/router/router.js';
import { mulberry32 } from '../src/testbed/random.js';
import { buildUdpDatagram } from '../src/wire/udp.js';

const BATCH = 64;
const PACKET_LEN = 20 + 8 + 18; // IPv4 + UDP + payload: a 64-byte frame's worth
const MANY_FLOWS = 4096;
const SEED = 0x1812;

/** Packets to feed a port, one per STRIDE bytes. */
interface Pool {
  bytes: Uint8Array;
  /** The same bytes as 32-bit words (the refill copies words). */
  words: Int32Array;
  count: number;
}

/** Room per packet in a pool: whole 32-bit words. */
const STRIDE = (PACKET_LEN + 3) & ~3;

function makePool(count: number): Pool {
  const bytes = new Uint8Array(count * STRIDE);
  return { bytes, words: new Int32Array(bytes.buffer), count };
}

/**
 * The refill: the next BATCH packets of the pool into the port's receive
 * slots, a word at a time (slots are 64-byte aligned; a byte loop would
 * cost more than the path).
 */
function fill(arena: Int32Array, port: Port, pool: Pool, next: number): number {
  const src = pool.words;
  const lengths = port.rxLengths;
  let to = port.slotPacket(0) >> 2;
  const step = port.slotSize >> 2;
  for (let i = 0; i < BATCH; i++, to += step) {
    const from = next * (STRIDE >> 2);
    for (let k = 0; k < STRIDE >> 2; k++) arena[to + k] = src[from + k]!;
    lengths[i] = PACKET_LEN;
    next = next + 1 === pool.count ? 0 : next + 1;
  }
  return next;
}

function runFill(arena: Int32Array, port: Port, pool: Pool, batches: number): number {
  let next = 0;
  const t0 = cpuNs();
  for (let b = 0; b < batches; b++) next = fill(arena, port, pool, next);
  return cpuNs() - t0;
}

function runRouter(router: Router, port: Port, pool: Pool, batches: number): number {
  const arena = new Int32Array(router.arena.buffer);
  const forwarder = router.path.forwarder;
  let next = 0;
  const t0 = cpuNs();
  for (let b = 0; b < batches; b++) {
    next = fill(arena, port, pool, next);
    forwarder.receive(port, BATCH);
  }
  return cpuNs() - t0;
}

/**
 * The floor: per packet the receive checks (version, IHL 5, total length,
 * header checksum), TTL > 1 and its decrement with the RFC 1624 update, and
 * one FIB lookup; what it forwards is counted per egress port.
 */
function runBaseline(bytes: Uint8Array, port: Port, pool: Pool, batches: number, fib: Fib, sent: Int32Array): number {
  const arena = new Int32Array(bytes.buffer);
  let next = 0;
  const t0 = cpuNs();
  for (let bt = 0; bt < batches; bt++) {
    next = fill(arena, port, pool, next);
    const lengths = port.rxLengths;
    let o = port.slotPacket(0);
    for (let i = 0; i < BATCH; i++, o += port.slotSize) {
      const len = lengths[i]!;
      if (len < 20 || bytes[o] !== 0x45) continue;
      const total = (bytes[o + 2]! << 8) | bytes[o + 3]!;
      if (total < 20 || total > len) continue;
      let s = 0;
      for (let k = 0; k < 20; k += 2) s += (bytes[o + k]! << 8) | bytes[o + k + 1]!;
      s = (s & 0xffff) + (s >>> 16);
      s = (s & 0xffff) + (s >>> 16);
      if (s !== 0xffff) continue;
      const ttl = bytes[o + 8]!;
      if (ttl <= 1) continue;
      const dst = (bytes[o + 16]! << 24) | (bytes[o + 17]! << 16) | (bytes[o + 18]! << 8) | bytes[o + 19]!;
      const nh = fib.lookup(dst);
      if (nh === 0) continue;
      // RFC 1624 eqn. 3 for the TTL/protocol word: only its high byte drops by one.
      let c = (~((bytes[o + 10]! << 8) | bytes[o + 11]!) & 0xffff) + (~(ttl << 8) & 0xffff) + ((ttl - 1) << 8);
      c = (c & 0xffff) + (c >>> 16);
      c = ~((c & 0xffff) + (c >>> 16)) & 0xffff;
      bytes[o + 8] = ttl - 1;
      bytes[o + 10] = c >>> 8;
      bytes[o + 11] = c;
      sent[fib.portOf(nh)]! += 1;
    }
  }
  return cpuNs() - t0;
}

/** This process's CPU time, ns: what a neighbour on a shared machine takes of the wall clock is not counted. */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export interface PathBenchResult {
  rounds: number;
  packetsPerRun: number;
  /** Median ns per packet, the refill subtracted. */
  routerOneFlow: number;
  routerManyFlows: number;
  baselineOneFlow: number;
  baselineManyFlows: number;
  /** Median ns per packet of the refill alone (what was subtracted). */
  fill: number;
  /** The fastest round of each, ns per packet (a noisy neighbour only ever adds). */
  best: { routerOneFlow: number; routerManyFlows: number; baselineOneFlow: number; baselineManyFlows: number };
}

export function runPathBench(opts: { rounds?: number; batches?: number } = {}): PathBenchResult {
  const rounds = opts.rounds ?? 15;
  const batches = opts.batches ?? 2000;
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '172.16.1.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
      { name: 'c', device: 'c0', address: '192.168.3.1/30' },
    ],
    routes: [
      { prefix: '198.51.100.0/24', port: 'b', via: '10.0.2.2' },
      { prefix: '203.0.0.0/8', port: 'c', via: '192.168.3.2' },
      { prefix: '100.64.0.0/10', port: 'b', via: '10.0.2.2' },
      { prefix: '45.0.0.0/8', port: 'c', via: '192.168.3.2' },
      { prefix: '185.16.0.0/12', port: 'b', via: '10.0.2.2' },
    ],
  });
  const devices: CountingDevice[] = [];
  const router = new Router(config, silentLogger(), (p) => {
    const d = new CountingDevice(p.name);
    devices.push(d);
    return d;
  });
  router.start();
  try {
    const a = router.portByName('a');
    if (a.slotPacket(0) % 4 !== 0 || a.slotSize % 4 !== 0) throw new Error('bench-path: receive slots not word-aligned');
    const fib = router.rib.fib;
    const rnd = mulberry32(SEED);
    const src = parseAddress('172.16.1.2');
    // One flow: the same packet BATCH times (TTL 64, to 198.51.100.7 by port b).
    const one = makePool(BATCH);
    for (let i = 0; i < BATCH; i++) buildUdpDatagram(one.bytes, i * STRIDE, src, parseAddress('198.51.100.7'), 40000, 5001, PACKET_LEN - 28, 64);
    // Many flows: random destinations under the routes (addresses ≥ 2^31 among them), random ports.
    const under: [string, number][] = [['198.51.100.0', 24], ['203.0.0.0', 8], ['100.64.0.0', 10], ['45.0.0.0', 8], ['185.16.0.0', 12]];
    const many = makePool(MANY_FLOWS);
    for (let i = 0; i < MANY_FLOWS; i++) {
      const [net, len] = under[i % under.length]!;
      const dst = (parseAddress(net) | (rnd() >>> len)) >>> 0;
      const from = (0xac100100 | (2 + (rnd() % 250))) >>> 0; // 172.16.1.x
      buildUdpDatagram(many.bytes, i * STRIDE, from, dst, 1024 + (rnd() % 60000), 1 + (rnd() % 65000), PACKET_LEN - 28, 64);
    }

    const bytes = router.arena.bytes;
    const words = new Int32Array(router.arena.buffer);
    const sent = new Int32Array(router.ports.length);
    const written = (): number => devices.reduce((n, d) => n + d.packets, 0);
    const per = (ns: number): number => ns / (batches * BATCH);
    const r = { fill: [] as number[], r1: [] as number[], rN: [] as number[], b1: [] as number[], bN: [] as number[] };
    // Warm up (compiled code, the flow table), then the timed rounds.
    for (let round = -2; round < rounds; round++) {
      const fillNs = per(runFill(words, a, many, batches));
      const before = written();
      const r1 = per(runRouter(router, a, one, batches)) - fillNs;
      const rN = per(runRouter(router, a, many, batches)) - fillNs;
      if (written() - before !== 2 * batches * BATCH) throw new Error(`bench-path: the router forwarded ${written() - before} of ${2 * batches * BATCH} packets`);
      sent.fill(0);
      const b1 = per(runBaseline(bytes, a, one, batches, fib, sent)) - fillNs;
      const bN = per(runBaseline(bytes, a, many, batches, fib, sent)) - fillNs;
      if (sent.reduce((n, x) => n + x, 0) !== 2 * batches * BATCH) throw new Error('bench-path: the baseline dropped packets');
      if (round < 0) continue;
      r.fill.push(fillNs);
      r.r1.push(r1);
      r.rN.push(rN);
      r.b1.push(b1);
      r.bN.push(bN);
    }
    return {
      rounds,
      packetsPerRun: batches * BATCH,
      routerOneFlow: median(r.r1),
      routerManyFlows: median(r.rN),
      baselineOneFlow: median(r.b1),
      baselineManyFlows: median(r.bN),
      fill: median(r.fill),
      best: { routerOneFlow: Math.min(...r.r1), routerManyFlows: Math.min(...r.rN), baselineOneFlow: Math.min(...r.b1), baselineManyFlows: Math.min(...r.bN) },
    };
  } finally {
    router.stop();
  }
}

export function formatPathBench(r: PathBenchResult): string {
  const ns = (x: number): string => `${x.toFixed(0)} ns`;
  const cell = (median: number, best: number): string => `${ns(median)} (${ns(best)})`.padStart(18);
  return [
    `Packet path in memory, 64-byte UDP (${PACKET_LEN} B IPv4), batches of ${BATCH}: ns/packet, median (best) of ${r.rounds} interleaved rounds of ` +
      `${r.packetsPerRun.toLocaleString('en-US')} packets in CPU time, the slot refill (${ns(r.fill)}) subtracted`,
    `                                 one flow         ${MANY_FLOWS} flows`,
    `  tunroute Forwarder   ${cell(r.routerOneFlow, r.best.routerOneFlow)} ${cell(r.routerManyFlows, r.best.routerManyFlows)}`,
    `  baseline loop        ${cell(r.baselineOneFlow, r.best.baselineOneFlow)} ${cell(r.baselineManyFlows, r.best.baselineManyFlows)}`,
    `  tunroute/baseline    ${(r.routerOneFlow / r.baselineOneFlow).toFixed(1).padStart(17)}× ${(r.routerManyFlows / r.baselineManyFlows).toFixed(1).padStart(17)}×`,
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const i = process.argv.indexOf(name);
    if (i < 0) return undefined;
    const v = Number(process.argv[i + 1]);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}: a positive integer, not ${process.argv[i + 1]}`);
    return v;
  };
  console.log(formatPathBench(runPathBench({ rounds: arg('--rounds'), batches: arg('--batches') })));
}
