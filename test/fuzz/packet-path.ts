// Fuzz target: the whole packet path of a router with every feature on —
// source policy, the virtual-service NAT, RIP and BFD (triggers off) — over
// in-memory devices. Each run hands one port a batch of 1–64 generated IPv4
// packets (options, fragments, every TTL, ICMP of every type, UDP to RIP and
// BFD with generated payloads, TCP/UDP to the NAT's virtual address, other
// protocols), some of them mutated (then often with a repaired header
// checksum, to get past validation), through `forwarder.receive(port, n)`;
// between batches an administrative action may block, unblock or drain a
// port or add/remove a route.
//
// What is checked, per batch:
// - receive() never throws;
// - every packet is forwarded/consumed or dropped under a known reason, and
//   the ingress port's rx and drop counters say exactly that;
// - every datagram written to a device is valid IPv4 (version, header
//   length, total length = bytes written, header checksum), fits the
//   egress MTU and has TTL ≥ 1;
// - a forwarded packet (matched by a tag in its identification field) left
//   with its TTL decremented exactly once, its bytes unchanged but for TTL,
//   header checksum and — through the NAT — an address and the TCP/UDP
//   checksum; that checksum is still right if it was right on the way in;
//   fragments carry exactly the original payload, each at its offset;
// - a packet reported forwarded left on some port (local UDP aside), and a
//   dropped one did not;
// - ICMP the router builds has a right checksum; errors come from the
//   router's own address, are ≤ 576 bytes, follow RFC 1812 §4.3.2.7 (never
//   about an ICMP error, a non-first fragment, a martian or broadcast/
//   multicast source) and match the drop reason of the packet they quote;
//   echo replies answer the request; router UDP (RIP, BFD) has a right checksum.
import fc from 'fast-check';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon, type Daemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { ApiServer } from '../../src/api/server.js';
import { Drop, DROP_NAMES, DROP_REASON_COUNT } from '../../src/packet/drops.js';
import { RX_PACKETS } from '../../src/ports/counters.js';
import type { Port } from '../../src/ports/port.js';
import { HEADROOM } from '../../src/packet/arena.js';
import { MemoryDevice } from '../support/memory-device.js';
import { edits, mutate } from './mutate.js';
import { fillBytes, ip, ipText, put16, put32, refChecksum, refL4ChecksumOk, u16, u32 } from './reference.js';
import type { FuzzTarget, TargetInstance } from './target.js';

export const ROUTER_CONFIG = {
  router: 'fuzz',
  icmpRateLimit: { rate: 1_000_000, burst: 1_000_000 },
  ports: [
    { name: 'lan', device: 'f-lan', address: '10.0.1.1/24' },
    { name: 'wan', device: 'f-wan', address: '10.0.12.1/30' },
    { name: 'r3', device: 'f-r3', address: '10.0.13.1/30', mtu: 576 },
    { name: 'srv', device: 'f-srv', address: '10.0.3.1/24', mtu: 1400 },
  ],
  routes: [
    { prefix: '1.1.1.0/24', port: 'wan', via: '10.0.12.2' },
    { prefix: '172.16.0.0/12', port: 'r3', via: '10.0.13.2' },
    { prefix: '192.168.0.0/16', port: 'wan', via: '10.0.12.2', bfd: true },
  ],
  bfd: { interval: 100, multiplier: 3, sessions: [{ port: 'wan', peer: '10.0.12.2' }, { port: 'r3', peer: '10.0.13.2' }] },
  rip: { ports: [{ port: 'wan', bfd: true }, { port: 'r3', cost: 2 }, { port: 'lan', passive: true }], redistribute: ['connected', 'static'] },
  policy: [
    { name: 'appliance', from: '10.0.1.7', port: 'r3', via: '10.0.13.2' },
    { name: 'web', from: '10.0.1.0/24', to: '1.1.1.0/24', protocol: 'tcp', dstPorts: '80', port: 'wan', via: '10.0.12.2' },
    { name: 'dns', from: '10.0.1.9', protocol: 'udp', dstPorts: '53', port: 'srv' },
  ],
  virtualServices: [{
    name: 'svc', address: '10.0.100.1', idleTimeout: 30,
    backends: [{ name: 's2', address: '10.0.3.20', sources: ['10.0.1.7/32'] }, { name: 's1', address: '10.0.3.10' }],
  }],
};

const VIP = ip('10.0.100.1');
const BACKENDS = [ip('10.0.3.20'), ip('10.0.3.10')];

const SOURCES = ['10.0.1.7', '10.0.1.8', '10.0.1.9', '10.0.1.20', '10.0.12.2', '10.0.13.2', '10.0.3.10', '10.0.3.20', '1.1.1.5',
  '172.16.5.5', '192.168.1.1', '8.8.8.8', '198.51.100.7', '10.0.1.1', '10.0.100.1', '10.0.1.255', '0.0.0.0', '127.0.0.1',
  '224.0.0.9', '255.255.255.255', '240.0.0.1'].map(ip);
const DESTINATIONS = ['10.0.1.1', '10.0.12.1', '10.0.13.1', '10.0.3.1', '10.0.1.255', '10.0.3.255', '10.0.12.3', '224.0.0.9',
  '224.0.0.5', '239.1.1.1', '255.255.255.255', '10.0.100.1', '10.0.100.1', '10.0.100.1', '10.0.3.10', '10.0.3.20', '10.0.1.7',
  '10.0.1.20', '1.1.1.1', '172.16.1.1', '192.168.5.5', '8.8.8.8', '198.51.100.9', '203.0.113.1', '0.1.2.3', '127.0.0.1',
  '240.0.0.1', '10.0.12.2', '10.0.13.2'].map(ip);
/** Prefixes RIP updates announce (some of them where the fuzzed traffic goes). */
const RIP_PREFIXES = ['198.51.100.0', '203.0.113.0', '8.8.8.0', '0.0.0.0', '10.0.1.0', '1.1.1.0', '127.0.0.0', '224.0.0.0'].map(ip);

const address = (pool: readonly number[]): fc.Arbitrary<number> =>
  fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.nat().map((n) => (n * 2 + 1) >>> 0) });

const udpPort = fc.oneof(fc.constantFrom(520, 3784, 80, 53, 49152, 50000, 65535, 0), fc.nat({ max: 0xffff }));

const ripEntry = fc.record({
  afi: fc.oneof({ weight: 8, arbitrary: fc.constant(2) }, fc.constantFrom(0, 0xffff), fc.nat({ max: 0xffff })),
  tag: fc.nat({ max: 0xffff }),
  addr: address(RIP_PREFIXES),
  len: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(0, 8, 16, 24, 32) }, fc.integer({ min: -1, max: 32 })),
  nextHop: fc.constantFrom(0, ip('10.0.12.2'), ip('10.0.13.2'), ip('10.0.12.1'), ip('9.9.9.9')),
  metric: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 1, max: 16 }) }, fc.constantFrom(0, 17, 0xffffffff)),
});

const ripPayload = fc.record({
  kind: fc.constant('rip' as const),
  command: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(1, 2) }, fc.nat({ max: 255 })),
  version: fc.oneof({ weight: 6, arbitrary: fc.constant(2) }, fc.nat({ max: 255 })),
  zero: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.nat({ max: 0xffff })),
  entries: fc.array(ripEntry, { maxLength: 27 }),
});

const interval = fc.oneof(fc.constantFrom(0, 1, 1000, 100_000, 1_000_000, 0xffffffff), fc.nat());
const bfdPayload = fc.record({
  kind: fc.constant('bfd' as const),
  version: fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, fc.nat({ max: 7 })),
  diag: fc.nat({ max: 31 }),
  state: fc.nat({ max: 3 }),
  flags: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(0, 0x20, 0x10) }, fc.nat({ max: 0x3f })),
  detectMult: fc.oneof({ weight: 4, arbitrary: fc.constant(3) }, fc.nat({ max: 255 })),
  length: fc.oneof({ weight: 6, arbitrary: fc.constant(24) }, fc.nat({ max: 255 })),
  myDisc: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 8 }) }, fc.nat().map((n) => n >>> 0), fc.constant(0)),
  /** −1: the router's own discriminator of the session with the sender (if any), else as given. */
  yourDisc: fc.oneof({ weight: 4, arbitrary: fc.constant(-1) }, fc.constant(0), fc.nat()),
  tx: interval,
  rx: interval,
  echo: interval,
  extra: fc.nat({ max: 8 }),
});

const randomPayload = fc.record({ kind: fc.constant('bytes' as const), len: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 64 }) }, fc.nat({ max: 2000 })), seed: fc.integer() });

const udp = fc.record({
  kind: fc.constant('udp' as const),
  proto: fc.constant(17 as const),
  srcPort: udpPort,
  dstPort: udpPort,
  payload: fc.oneof(ripPayload, bfdPayload, randomPayload),
  lengthField: fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, fc.nat({ max: 0xffff })),
  noChecksum: fc.boolean(),
});

const tcp = fc.record({
  kind: fc.constant('tcp' as const),
  proto: fc.constant(6 as const),
  srcPort: fc.oneof(fc.constantFrom(80, 443, 40000), fc.nat({ max: 0xffff })),
  dstPort: fc.oneof(fc.constantFrom(80, 443, 22), fc.nat({ max: 0xffff })),
  seq: fc.nat(),
  flags: fc.oneof(fc.constantFrom(0x02, 0x12, 0x10, 0x11, 0x04, 0x18), fc.nat({ max: 255 })),
  dataOffset: fc.oneof({ weight: 8, arbitrary: fc.constant(5) }, fc.nat({ max: 15 })),
  payload: randomPayload,
});

const icmp = fc.record({
  kind: fc.constant('icmp' as const),
  proto: fc.constant(1 as const),
  type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 3, 4, 5, 8, 11, 12, 13, 14) }, fc.nat({ max: 255 })),
  code: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 5 }) }, fc.nat({ max: 255 })),
  rest: fc.nat(),
  /** Errors quote a datagram: an IPv4 header + 8 bytes, made from these. */
  quote: fc.record({ src: address(SOURCES), dst: address(DESTINATIONS), proto: fc.constantFrom(1, 6, 17, 50), type: fc.nat({ max: 20 }) }),
  payload: randomPayload,
});

const other = fc.record({ kind: fc.constant('other' as const), proto: fc.oneof(fc.constantFrom(0, 2, 4, 41, 47, 50, 89, 255), fc.nat({ max: 255 })), payload: randomPayload });

const packetAny = fc.record({
  src: address(SOURCES),
  dst: address(DESTINATIONS),
  tos: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat({ max: 255 })),
  ttl: fc.oneof(fc.constantFrom(0, 1, 2, 64, 255), fc.nat({ max: 255 })),
  df: fc.boolean(),
  mf: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
  fragOffset: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.nat({ max: 0x1fff })),
  options: fc.oneof({ weight: 6, arbitrary: fc.constant(new Uint8Array(0)) }, fc.uint8Array({ maxLength: 40 })),
  l4: fc.oneof({ weight: 3, arbitrary: udp }, { weight: 3, arbitrary: tcp }, { weight: 3, arbitrary: icmp }, { weight: 1, arbitrary: other }),
  padding: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.nat({ max: 40 })),
  badIpChecksum: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, fc.constant(true)),
  badL4Checksum: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, fc.constant(true)),
  // One packet in five mutated; most of those with a repaired header checksum (to get past validation).
  mutation: fc.oneof(
    { weight: 4, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.record({ edits: edits(6), fixChecksum: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)) }) },
  ),
});
type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;
/** What the protocols take seriously: RIP to 224.0.0.9 or the router, BFD with TTL 255, from a neighbour. */
const protocolPacket = fc.record({
  base: packetAny,
  rip: ripPayload,
  bfd: bfdPayload,
  isRip: fc.boolean(),
  neighbour: fc.constantFrom(ip('10.0.12.2'), ip('10.0.13.2'), ip('10.0.1.20')),
  unicast: fc.boolean(),
  srcPort: fc.integer({ min: 49152, max: 65535 }),
}).map(({ base, rip, bfd, isRip, neighbour, unicast, srcPort }) => ({
  ...base,
  src: neighbour,
  dst: isRip && !unicast ? ip('224.0.0.9') : ((neighbour & ~3) >>> 0) + 1 === neighbour - 1 ? neighbour - 1 : ip('10.0.1.1'),
  ttl: isRip ? base.ttl : 255,
  mf: false,
  fragOffset: 0,
  l4: { kind: 'udp' as const, proto: 17 as const, srcPort: isRip ? 520 : srcPort, dstPort: isRip ? 520 : 3784, payload: isRip ? rip : bfd, lengthField: -1, noChecksum: false },
}));

export const packet = fc.oneof({ weight: 5, arbitrary: packetAny }, { weight: 1, arbitrary: protocolPacket });

export type PacketSpec = ValueOf<typeof packet>;

// Ports come back more often than they go: most batches meet working ports.
const ADMIN = ['none', 'block', 'unblock', 'unblock', 'unblock', 'unblock', 'drain', 'route-add', 'route-del', 'tick'] as const;
const admin = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ op: 'none' as const, port: 0 }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom(...ADMIN), port: fc.nat({ max: 3 }) }) },
);

export const batch = fc.record({ ingress: fc.nat({ max: 3 }), packets: fc.array(packet, { minLength: 1, maxLength: 64 }), admin });
export type Batch = ValueOf<typeof batch>;

/** Slots hold up to 2048 bytes for MTU ≤ 2048 ports: the largest datagram we hand in. */
const MAX_PACKET = 2048;

/** Build one packet's bytes; `tag` goes into the identification field. */
export function buildPacket(p: PacketSpec, tag: number, yourDisc: (src: number) => number): Uint8Array {
  const optLen = (p.options.length + 3) & ~3;
  const hl = 20 + optLen;
  const l4 = buildL4(p, yourDisc);
  const total = Math.min(hl + l4.length, MAX_PACKET - p.padding);
  const b = new Uint8Array(total + p.padding);
  b[0] = 0x40 | (hl >>> 2);
  b[1] = p.tos;
  put16(b, 2, total);
  put16(b, 4, tag);
  put16(b, 6, (p.df ? 0x4000 : 0) | (p.mf ? 0x2000 : 0) | p.fragOffset);
  b[8] = p.ttl;
  b[9] = p.l4.proto;
  put32(b, 12, p.src);
  put32(b, 16, p.dst);
  b.set(p.options, 20);
  b.set(l4.subarray(0, total - hl), hl);
  if (!p.badL4Checksum) fillL4Checksum(b, hl, total, p.l4.kind === 'udp' && p.l4.noChecksum);
  put16(b, 10, refChecksum(b, 0, hl));
  if (p.badIpChecksum) b[10]! ^= 0x5a;
  fillBytes(b, total, p.padding, tag);
  if (!p.mutation) return b;
  const m = mutate(b, p.mutation.edits, MAX_PACKET);
  if (m.length >= 6) put16(m, 4, tag);
  if (p.mutation.fixChecksum && m.length >= 20) {
    const mhl = (m[0]! & 15) * 4;
    if (mhl >= 20 && mhl <= m.length) {
      put16(m, 10, 0);
      put16(m, 10, refChecksum(m, 0, mhl));
    }
  }
  return m;
}

function fillL4Checksum(b: Uint8Array, hl: number, total: number, noUdpChecksum: boolean): void {
  const proto = b[9]!;
  const len = total - hl;
  const src = u32(b, 12), dst = u32(b, 16);
  if (proto === 17 && len >= 8) {
    put16(b, hl + 6, 0);
    if (noUdpChecksum) return;
    const field = u16(b, hl + 4);
    const cover = field >= 8 && field <= len ? field : len;
    let c = refChecksum(b, hl, cover, pseudo(src, dst, 17, cover));
    if (c === 0) c = 0xffff;
    put16(b, hl + 6, c);
  } else if (proto === 6 && len >= 20) {
    put16(b, hl + 16, 0);
    put16(b, hl + 16, refChecksum(b, hl, len, pseudo(src, dst, 6, len)));
  } else if (proto === 1 && len >= 4) {
    put16(b, hl + 2, 0);
    put16(b, hl + 2, refChecksum(b, hl, len));
  }
}

function pseudo(src: number, dst: number, proto: number, len: number): number {
  let s = Math.floor(src / 0x10000) + (src % 0x10000) + Math.floor(dst / 0x10000) + (dst % 0x10000) + proto + len;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

function buildL4(p: PacketSpec, yourDisc: (src: number) => number): Uint8Array {
  const l4 = p.l4;
  switch (l4.kind) {
    case 'udp': {
      const payload = buildUdpPayload(l4.payload, p.src, yourDisc);
      const b = new Uint8Array(8 + payload.length);
      put16(b, 0, l4.srcPort);
      put16(b, 2, l4.dstPort);
      put16(b, 4, l4.lengthField >= 0 ? l4.lengthField : b.length);
      b.set(payload, 8);
      return b;
    }
    case 'tcp': {
      const hl = Math.max(l4.dataOffset, 5) * 4;
      const data = bytesOf(l4.payload);
      const b = new Uint8Array(hl + data.length);
      put16(b, 0, l4.srcPort);
      put16(b, 2, l4.dstPort);
      put32(b, 4, l4.seq);
      b[12] = l4.dataOffset << 4;
      b[13] = l4.flags;
      put16(b, 14, 65535);
      b.set(data, hl);
      return b.subarray(0, l4.dataOffset < 5 ? 4 * l4.dataOffset + data.length : b.length);
    }
    case 'icmp': {
      const isError = l4.type === 3 || l4.type === 4 || l4.type === 5 || l4.type === 11 || l4.type === 12;
      const data = isError ? quoted(l4.quote) : bytesOf(l4.payload);
      const b = new Uint8Array(8 + data.length);
      b[0] = l4.type;
      b[1] = l4.code;
      put32(b, 4, l4.rest);
      b.set(data, 8);
      return b;
    }
    default:
      return bytesOf(l4.payload);
  }
}

function quoted(q: { src: number; dst: number; proto: number; type: number }): Uint8Array {
  const b = new Uint8Array(28);
  b[0] = 0x45;
  put16(b, 2, 60);
  b[8] = 63;
  b[9] = q.proto;
  put32(b, 12, q.src);
  put32(b, 16, q.dst);
  put16(b, 10, refChecksum(b, 0, 20));
  b[20] = q.type;
  return b;
}

function bytesOf(r: { len: number; seed: number }): Uint8Array {
  const b = new Uint8Array(r.len);
  fillBytes(b, 0, r.len, r.seed);
  return b;
}

function buildUdpPayload(pl: ValueOf<typeof udp>['payload'], src: number, yourDisc: (src: number) => number): Uint8Array {
  if (pl.kind === 'bytes') return bytesOf(pl);
  if (pl.kind === 'rip') {
    const b = new Uint8Array(4 + 20 * pl.entries.length);
    b[0] = pl.command;
    b[1] = pl.version;
    put16(b, 2, pl.zero);
    pl.entries.forEach((e, i) => {
      const o = 4 + 20 * i;
      put16(b, o, e.afi);
      put16(b, o + 2, e.tag);
      const mask = e.len < 0 ? 0x00ff00ff : e.len === 0 ? 0 : (0xffffffff << (32 - e.len)) >>> 0;
      put32(b, o + 4, e.addr);
      put32(b, o + 8, mask);
      put32(b, o + 12, e.nextHop);
      put32(b, o + 16, e.metric);
    });
    return b;
  }
  const b = new Uint8Array(24 + pl.extra);
  b[0] = (pl.version << 5) | pl.diag;
  b[1] = (pl.state << 6) | pl.flags;
  b[2] = pl.detectMult;
  b[3] = pl.length;
  put32(b, 4, pl.myDisc);
  put32(b, 8, pl.yourDisc === -1 ? yourDisc(src) : pl.yourDisc);
  put32(b, 12, pl.tx);
  put32(b, 16, pl.rx);
  put32(b, 20, pl.echo);
  return b;
}

// ---- checking what came out ----

class Failure extends Error {}
function expect(ok: boolean, what: () => string): void {
  if (!ok) throw new Failure(what());
}

const hex = (b: Uint8Array, n = 64): string => Buffer.from(b.subarray(0, n)).toString('hex');
const isErrorType = (t: number): boolean => t === 3 || t === 4 || t === 5 || t === 11 || t === 12;

interface Written { port: Port; bytes: Uint8Array }

/** Header checks every datagram the router writes must pass. */
function checkDatagram(w: Written): void {
  const b = w.bytes;
  expect(b.length >= 20, () => `port ${w.port.name}: wrote ${b.length} bytes, less than an IPv4 header`);
  expect(b[0]! >>> 4 === 4, () => `port ${w.port.name}: wrote a non-IPv4 datagram ${hex(b)}`);
  const hl = (b[0]! & 15) * 4;
  expect(hl >= 20 && hl <= b.length, () => `port ${w.port.name}: bad header length ${hl} in ${hex(b)}`);
  expect(u16(b, 2) === b.length, () => `port ${w.port.name}: total length ${u16(b, 2)} but ${b.length} bytes written: ${hex(b)}`);
  expect(refChecksum(b, 0, hl) === 0, () => `port ${w.port.name}: bad header checksum: ${hex(b)}`);
  expect(b.length <= w.port.mtu, () => `port ${w.port.name}: ${b.length} bytes over MTU ${w.port.mtu}`);
  expect(b[8]! >= 1, () => `port ${w.port.name}: wrote TTL 0: ${hex(b)}`);
}

export class PacketPathHarness {
  readonly daemon: Daemon;
  readonly devices = new Map<string, MemoryDevice>();
  readonly tally: Record<string, number> = {};
  fed = 0;
  private batchNo = 0;
  private readonly results = new Int32Array(64);
  private resultCount = 0;
  private readonly ownAddresses: Set<number>;

  constructor() {
    const config = parseRouterConfig(ROUTER_CONFIG, '<fuzz>');
    this.daemon = assembleDaemon(config, silentLogger(), new ApiServer(), {
      openDevice: (pc) => {
        const d = new MemoryDevice(pc.device);
        this.devices.set(pc.device, d);
        return d;
      },
    });
    const router = this.daemon.router;
    router.start();
    this.ownAddresses = new Set([...router.ports.map((p) => p.address), VIP]);
    // Record each packet's verdict as the forwarder returns it.
    const fwd = router.path.forwarder;
    const process = fwd.process.bind(fwd);
    fwd.process = (port, off, len) => {
      const r = process(port, off, len);
      this.results[this.resultCount++] = r;
      return r;
    };
  }

  close(): void {
    this.daemon.router.stop();
  }

  private count(k: string, n = 1): void {
    this.tally[k] = (this.tally[k] ?? 0) + n;
  }

  /** Everything the devices took since the last call. */
  private drain(): Written[] {
    const out: Written[] = [];
    for (const port of this.daemon.router.ports) {
      const d = port.device as MemoryDevice;
      for (const bytes of d.written) out.push({ port, bytes });
      d.written.length = 0;
    }
    return out;
  }

  private yourDisc(src: number): number {
    const s = this.daemon.bfd.sessions().find((n) => n.peer === src);
    return s ? s.session.localDiscriminator : 0;
  }

  private adminAction(a: Batch['admin']): void {
    const router = this.daemon.router;
    const port = router.ports[a.port]!;
    try {
      switch (a.op) {
        case 'block': router.blockPort(port.name); break;
        case 'unblock': void router.unblockPort(port.name).catch(() => undefined); break;
        case 'drain': router.drainPort(port.name, 200); break;
        case 'route-add': router.addRoute({ prefix: ip('8.8.8.0'), len: 24, port: port.index, nextHop: 0, metric: 5 }); break;
        case 'route-del': for (const r of router.rib.find((x) => x.source === 'api')) router.removeRoute(r.id); break;
        case 'tick': router.path.flows.tick(); break;
        default: break;
      }
      this.count(`admin:${a.op}`);
    } catch {
      this.count(`admin:${a.op}:refused`);
    }
  }

  /** Feed one batch and check everything above; throws a Failure on a broken invariant. */
  run(b: Batch): void {
    const router = this.daemon.router;
    // What timers sent since the last batch is router-made: check it too.
    for (const w of this.drain()) this.checkOriginated(w, new Map(), []);
    this.adminAction(b.admin);
    for (const w of this.drain()) this.checkOriginated(w, new Map(), []);

    const port = router.ports[b.ingress]!;
    const n = b.packets.length;
    const base = 0x8000 | ((this.batchNo++ & 0x1ff) << 6);
    const inputs: Uint8Array[] = [];
    const bytes = router.arena.bytes;
    for (let i = 0; i < n; i++) {
      const p = buildPacket(b.packets[i]!, base | i, (src) => this.yourDisc(src));
      const len = Math.min(p.length, port.slotSize - HEADROOM);
      bytes.set(p.subarray(0, len), port.slotPacket(i));
      port.rxLengths[i] = len;
      inputs.push(p.subarray(0, len).slice());
    }
    const before = Float64Array.from(port.counters.values);
    this.resultCount = 0;
    router.path.forwarder.receive(port, n);
    this.fed += n;

    // Every packet has a verdict, and the counters agree with the verdicts.
    expect(this.resultCount === n, () => `${n} packets in, ${this.resultCount} verdicts`);
    const drops = new Float64Array(DROP_REASON_COUNT);
    for (let i = 0; i < n; i++) {
      const r = this.results[i]!;
      expect(r === -1 || (Number.isInteger(r) && r >= 0 && r < DROP_REASON_COUNT), () => `packet ${i}: verdict ${r} is no drop reason`);
      if (r >= 0) drops[r]! += 1;
      this.count(r < 0 ? 'forwarded-or-consumed' : `drop:${DROP_NAMES[r]}`);
    }
    const after = port.counters.values;
    expect(after[RX_PACKETS]! - before[RX_PACKETS]! === n, () => `rx counter moved by ${after[RX_PACKETS]! - before[RX_PACKETS]!}, ${n} packets in`);
    for (let r = 0; r < DROP_REASON_COUNT; r++) {
      if (r === Drop.TX_ERROR) continue;
      const moved = after[5 + r]! - before[5 + r]!;
      // Drops on the ingress port: the verdicts; other ports count nothing of this batch but tx errors.
      expect(moved === drops[r], () => `drop counter ${DROP_NAMES[r]} moved by ${moved}, verdicts say ${drops[r]}`);
    }

    const written = this.drain();
    const byTag = new Map<number, Written[]>();
    const originated: Written[] = [];
    for (const w of written) {
      checkDatagram(w);
      const id = u16(w.bytes, 4);
      const i = id - base;
      if (id >= base && i < n && !this.isRouterMade(w, inputs[i]!)) {
        let list = byTag.get(i);
        if (!list) byTag.set(i, (list = []));
        list.push(w);
      } else originated.push(w);
    }
    for (let i = 0; i < n; i++) this.checkForwarded(i, inputs[i]!, this.results[i]!, byTag.get(i) ?? [], port);
    for (const w of originated) this.checkOriginated(w, new Map(inputs.map((p, i) => [base | i, i])), inputs);
  }

  /** An echo reply made in place from a request keeps the request's identification. */
  private isRouterMade(w: Written, input: Uint8Array): boolean {
    const b = w.bytes;
    const hlIn = (input[0]! & 15) * 4;
    // (A long reply leaves in fragments: only the first shows the ICMP type.)
    return b[9] === 1 && input.length > hlIn && input[9] === 1 && input[hlIn] === 8 && this.ownAddresses.has(u32(b, 12)) && u32(b, 12) === u32(input, 16) && b[8] === 64;
  }

  private checkForwarded(i: number, input: Uint8Array, verdict: number, out: Written[], ingress: Port): void {
    const what = () => `packet ${i} (${hex(input, 48)}) from ${ingress.name}`;
    if (verdict >= 0) {
      expect(out.length === 0, () => `${what()}: dropped (${DROP_NAMES[verdict]}) but also sent on ${out.map((w) => w.port.name).join(', ')}`);
      return;
    }
    const dst = u32(input, 16);
    const local = this.daemon.router.path.addresses.isLocal(dst) && dst !== VIP;
    if (out.length === 0) {
      // Consumed: for the router itself (RIP, BFD over UDP; echo requests leave as replies, checked as router-made).
      expect(local || dst === VIP, () => `${what()}: reported forwarded, but nothing left the router`);
      this.count('consumed');
      return;
    }
    expect(!local, () => `${what()}: to the router's own address ${ipText(dst)}, but forwarded: ${out.map((w) => `${w.port.name} ${hex(w.bytes, 40)}`).join('; ')}`);
    this.count(out.length > 1 ? 'fragmented' : 'forwarded');
    const hlIn = (input[0]! & 15) * 4;
    const totalIn = u16(input, 2);
    const fragIn = u16(input, 6);
    const srcIn = u32(input, 12);
    const egress = out[0]!.port;
    for (const w of out) {
      const b = w.bytes;
      expect(w.port === egress, () => `${what()}: fragments on two ports`);
      expect(b[8] === input[8]! - 1, () => `${what()}: TTL ${input[8]} in, ${b[8]} out (must be decremented exactly once)`);
      expect(b[9] === input[9] && b[1] === input[1], () => `${what()}: protocol or TOS changed`);
      const srcOut = u32(b, 12), dstOut = u32(b, 16);
      const natIn = dst === VIP && BACKENDS.includes(dstOut);
      const natOut = BACKENDS.includes(srcIn) && srcOut === VIP;
      expect((srcOut === srcIn || natOut) && (dstOut === dst || natIn), () => `${what()}: addresses ${ipText(srcIn)} → ${ipText(dst)} left as ${ipText(srcOut)} → ${ipText(dstOut)}`);
      expect(dst !== VIP || natIn, () => `${what()}: to the VIP, forwarded untranslated`);
    }
    if (out.length === 1 && u16(out[0]!.bytes, 2) === totalIn && (u16(out[0]!.bytes, 6) === fragIn)) {
      const b = out[0]!.bytes;
      const proto = input[9]!;
      const natted = u32(b, 12) !== srcIn || u32(b, 16) !== dst;
      const l4sum = proto === 6 ? hlIn + 16 : proto === 17 ? hlIn + 6 : -1;
      for (let k = 0; k < totalIn; k++) {
        if (k === 8 || k === 10 || k === 11) continue;
        if (natted && k >= 12 && k < 20) continue;
        if (natted && l4sum >= 0 && (k === l4sum || k === l4sum + 1)) continue;
        expect(b[k] === input[k], () => `${what()}: byte ${k} changed from ${input[k]} to ${b[k]} on the way through`);
      }
      const whole = (fragIn & 0x3fff) === 0;
      if (natted && whole && (proto === 6 || proto === 17)) {
        const segLen = totalIn - hlIn;
        const udpNone = proto === 17 && u16(input, hlIn + 6) === 0;
        const udpLen = proto === 17 ? u16(input, hlIn + 4) : segLen;
        const coverIn = proto === 17 ? udpLen : segLen;
        const okIn = coverIn >= (proto === 6 ? 20 : 8) && coverIn <= segLen && refL4ChecksumOk(input, hlIn, coverIn, srcIn, dst, proto);
        if (udpNone) expect(u16(b, hlIn + 6) === 0, () => `${what()}: UDP without checksum got one through the NAT`);
        else if (okIn) {
          expect(refL4ChecksumOk(b, hlIn, coverIn, u32(b, 12), u32(b, 16), proto), () => `${what()}: L4 checksum right on the way in, wrong after the NAT: ${hex(b)}`);
          this.count('nat-checksum-verified');
        }
      }
      return;
    }
    // Fragments: each at its offset, carrying exactly the original's payload
    // (through the NAT: but for the TCP/UDP checksum, which must still be right).
    expect((fragIn & 0x4000) === 0, () => `${what()}: DF set, but fragmented`);
    const payloadIn = totalIn - hlIn;
    const baseOff = (fragIn & 0x1fff) * 8;
    const covered = new Uint8Array(payloadIn);
    const joined = new Uint8Array(payloadIn);
    const first = out[0]!.bytes;
    const natted = u32(first, 12) !== srcIn || u32(first, 16) !== dst;
    const proto = input[9]!;
    const l4sum = baseOff !== 0 || !natted ? -1 : proto === 6 ? 16 : proto === 17 ? 6 : -1;
    let last = false;
    for (const w of out) {
      const b = w.bytes;
      const hl = (b[0]! & 15) * 4;
      const fw = u16(b, 6);
      const at = (fw & 0x1fff) * 8 - baseOff;
      const len = b.length - hl;
      expect(at >= 0 && at + len <= payloadIn, () => `${what()}: fragment at ${at}+${len} outside the payload of ${payloadIn}`);
      expect((fw & 0x2000) !== 0 || at + len === payloadIn, () => `${what()}: a fragment before the end without MF`);
      if (at + len === payloadIn) last = true;
      if (at + len === payloadIn) expect(((fw & 0x2000) !== 0) === ((fragIn & 0x2000) !== 0), () => `${what()}: last fragment's MF differs from the original's`);
      else expect(len % 8 === 0, () => `${what()}: a non-last fragment of ${len} bytes (not a multiple of 8)`);
      for (let k = 0; k < len; k++) {
        const p = at + k;
        expect(b[hl + k] === input[hlIn + p] || p === l4sum || p === l4sum + 1, () => `${what()}: fragment data differs at ${p}`);
        covered[p] = 1;
        joined[p] = b[hl + k]!;
      }
    }
    expect(last && covered.every((c) => c === 1), () => `${what()}: fragments do not cover the payload`);
    if (l4sum >= 0 && (fragIn & 0x2000) === 0) {
      const cover = proto === 17 ? u16(input, hlIn + 4) : payloadIn;
      const okIn = cover >= (proto === 6 ? 20 : 8) && cover <= payloadIn && refL4ChecksumOk(input, hlIn, cover, srcIn, dst, proto);
      if (proto === 17 && u16(input, hlIn + 6) === 0) expect(u16(joined, 6) === 0, () => `${what()}: UDP without checksum got one through the NAT`);
      else if (okIn) {
        expect(refL4ChecksumOk(joined, 0, cover, u32(first, 12), u32(first, 16), proto), () => `${what()}: L4 checksum right on the way in, wrong after the NAT (fragmented)`);
        this.count('nat-checksum-verified');
      }
    }
  }

  private checkOriginated(w: Written, tags: Map<number, number>, inputs: Uint8Array[]): void {
    checkDatagram(w);
    const b = w.bytes;
    const hl = (b[0]! & 15) * 4;
    const src = u32(b, 12);
    const what = () => `router-made datagram on ${w.port.name} (${hex(b, 64)})`;
    expect(this.ownAddresses.has(src), () => `${what()}: source ${ipText(src)} is not the router's`);
    const proto = b[9]!;
    const len = b.length - hl;
    if ((u16(b, 6) & 0x3fff) !== 0) {
      // A fragment of a long echo reply: the whole was checked as forwarded data would be.
      expect(proto === 1, () => `${what()}: a router-made fragment that is not ICMP`);
      this.count('icmp:echo-reply-fragment');
      return;
    }
    if (proto === 1) {
      expect(len >= 8 && refChecksum(b, hl, len) === 0, () => `${what()}: bad ICMP checksum`);
      const type = b[hl]!;
      if (type === 0) {
        this.count('icmp:echo-reply');
        return;
      }
      expect(type === 3 || type === 11, () => `${what()}: ICMP type ${type} from the router`);
      expect(b.length <= 576, () => `${what()}: an ICMP error of ${b.length} bytes (max 576)`);
      const q = hl + 8;
      expect(len >= 8 + 20, () => `${what()}: an ICMP error quoting less than a header`);
      const qhl = (b[q]! & 15) * 4;
      const qsrc = u32(b, q + 12), qdst = u32(b, q + 16);
      expect(u32(b, 16) === qsrc, () => `${what()}: sent to ${ipText(u32(b, 16))}, not the quoted source ${ipText(qsrc)}`);
      expect((u16(b, q + 6) & 0x1fff) === 0, () => `${what()}: an error about a non-first fragment`);
      const s8 = qsrc >>> 24;
      expect(!(s8 === 0 || s8 === 127 || s8 >= 224), () => `${what()}: an error about a martian source ${ipText(qsrc)}`);
      expect(!(qdst >>> 28 === 0xe || qdst === 0xffffffff), () => `${what()}: an error about a multicast/broadcast destination`);
      if (b[q + 9] === 1 && qhl + 1 <= len - 8) expect(!isErrorType(b[q + qhl]!), () => `${what()}: an error about an ICMP error`);
      const i = tags.get(u16(b, q + 4));
      if (i !== undefined) {
        const verdict = this.results[i]!;
        const code = b[hl + 1]!;
        const want = type === 11 ? [Drop.TTL_EXPIRED] : code === 4 ? [Drop.FRAG_NEEDED] : code === 2 || code === 3 ? [Drop.LOCAL_UNHANDLED] : [Drop.NO_ROUTE, Drop.POLICY_UNREACHABLE];
        expect(want.includes(verdict as never), () => `${what()}: ICMP ${type}/${code} about packet ${i}, whose verdict is ${verdict < 0 ? 'forwarded' : DROP_NAMES[verdict]}`);
        if (code === 4 && type === 3) {
          const mtu = u16(b, hl + 6);
          expect(mtu >= 68 && mtu < u16(inputs[i]!, 2), () => `${what()}: Fragmentation Needed with next-hop MTU ${mtu}`);
        }
        this.count(`icmp:${type}/${code}`);
      } else this.count('icmp:error-untagged');
      return;
    }
    if (proto === 17) {
      expect(len >= 8, () => `${what()}: UDP shorter than its header`);
      const ulen = u16(b, hl + 4);
      expect(ulen === len, () => `${what()}: UDP length ${ulen} in ${len} bytes`);
      expect(u16(b, hl + 6) !== 0 && refL4ChecksumOk(b, hl, len, src, u32(b, 16), 17), () => `${what()}: bad UDP checksum`);
      const sport = u16(b, hl), dport = u16(b, hl + 2);
      if (sport === 520) {
        // RIP: updates to 520; answers to a request go to the asker's port (RFC 2453 §3.9.1), whatever it is.
        this.count(dport === 520 ? 'rip-sent' : 'rip-answer-to-other-port');
      } else {
        expect(dport === 3784, () => `${what()}: UDP from the router, neither RIP nor BFD`);
        expect(sport >= 49152 && b[8] === 255, () => `${what()}: BFD from port ${sport} with TTL ${b[8]} (RFC 5881: 49152–65535, TTL 255)`);
        this.count('bfd-sent');
      }
      return;
    }
    throw new Failure(`${what()}: protocol ${proto} from the router`);
  }
}

export const packetPathTarget: FuzzTarget = {
  name: 'packet-path',
  description: 'batches of generated/mutated IPv4 through forwarder.receive() of a router with policy, NAT, RIP, BFD',
  inputsPerRun: 32,
  runsPerChunk: 500,
  create(): TargetInstance {
    const h = new PacketPathHarness();
    return {
      property: fc.property(batch, (b) => {
        h.run(b);
        return true;
      }),
      inputs: () => h.fed,
      tally: () => h.tally,
      close: () => h.close(),
    };
  },
};
