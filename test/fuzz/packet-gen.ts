// Inputs for the packet-path fuzzer: batches of items, each one IPv4
// packet, the fragments of one datagram for the router, an ARP frame or a
// raw frame, with the link-layer header an Ethernet port receives them in.
//
// Packets: addresses from pools (the router's own, its neighbours, places
// it routes to, martians, broadcasts, multicast) with a little of
// anything; every TTL; IP options — structured Record Route, Timestamp
// (flags 0/1/3) and source routes through the router's and others'
// addresses, mostly well formed, sometimes off by a little — or random
// bytes; UDP (RIP and BFD payloads, anything else), TCP, ICMP of every
// type with errors quoting a datagram, the queries the router answers
// (echo, timestamp, address mask) and other protocols; one packet in five
// mutated (most with a repaired header checksum, to get past validation).
// Host packets go to the router's own addresses (queries, TCP, UDP, other
// protocols, with options); protocol packets are RIP and BFD as the
// neighbours send them. Fragment groups cut a datagram for the router into
// 8-byte-aligned pieces, in any order, with duplicates, a piece missing,
// or an inconsistency (a second end, data past the end, too large, a
// piece whose length is no multiple of 8).
import fc from 'fast-check';
import { edits, mutate } from './mutate.js';
import { ETH_MAC, NEIGHBOUR_MAC } from './packet-router.js';
import { fillBytes, ip, put16, put32, refChecksum, refPseudo, u16, u32 } from './reference.js';

type ValueOf<A> = A extends fc.Arbitrary<infer T> ? T : never;

const OWN_ADDRESSES = ['10.0.1.1', '10.0.12.1', '10.0.13.1', '10.0.3.1', '10.0.14.1', '10.0.100.1'].map(ip);
const PORT_ADDRESSES = OWN_ADDRESSES.slice(0, 5);
const SOURCES = ['10.0.1.7', '10.0.1.8', '10.0.1.9', '10.0.1.20', '10.0.12.2', '10.0.13.2', '10.0.3.10', '10.0.3.20', '1.1.1.5',
  '172.16.5.5', '192.168.1.1', '8.8.8.8', '198.51.100.7', '10.0.14.2', '198.18.0.9', '10.0.1.1', '10.0.100.1', '10.0.14.1',
  '10.0.1.255', '10.0.14.3', '0.0.0.0', '127.0.0.1', '169.254.1.1', '224.0.0.9', '255.255.255.255', '240.0.0.1'].map(ip);
/** Sources a host talking to the router would have (and a requester without an address). */
const HOST_SOURCES = ['10.0.1.7', '10.0.1.20', '10.0.12.2', '10.0.13.2', '10.0.3.10', '1.1.1.5', '172.16.5.5', '8.8.8.8',
  '10.0.14.2', '198.18.0.9', '198.51.100.7', '0.0.0.0'].map(ip);
const DESTINATIONS = ['10.0.1.1', '10.0.12.1', '10.0.13.1', '10.0.3.1', '10.0.14.1', '10.0.1.255', '10.0.3.255', '10.0.12.3',
  '10.0.14.3', '10.0.14.0', '224.0.0.9', '224.0.0.5', '239.1.1.1', '255.255.255.255', '10.0.100.1', '10.0.100.1', '10.0.100.1',
  '10.0.3.10', '10.0.3.20', '10.0.1.7', '10.0.1.20', '1.1.1.1', '172.16.1.1', '192.168.5.5', '8.8.8.8', '198.51.100.9',
  '203.0.113.1', '198.18.3.3', '10.0.14.2', '0.1.2.3', '127.0.0.1', '169.254.9.9', '240.0.0.1', '10.0.12.2', '10.0.13.2'].map(ip);
/** What source routes and prespecified timestamps name: the router, its neighbours, places beyond, nonsense. */
const ROUTE_ADDRESSES = [...OWN_ADDRESSES, ...OWN_ADDRESSES, '10.0.12.2', '10.0.13.2', '10.0.14.2', '10.0.1.20', '10.0.3.10',
  '1.1.1.1', '172.16.1.1', '198.18.0.5', '8.8.8.8', '203.0.113.1', '0.0.0.0', '127.0.0.1', '224.0.0.9', '255.255.255.255',
  '10.0.1.255'].map((a) => (typeof a === 'number' ? a : ip(a)));
/** Prefixes RIP updates announce (some of them where the fuzzed traffic goes). */
const RIP_PREFIXES = ['198.51.100.0', '203.0.113.0', '8.8.8.0', '0.0.0.0', '10.0.1.0', '1.1.1.0', '127.0.0.0', '224.0.0.0'].map(ip);

const address = (pool: readonly number[]): fc.Arbitrary<number> =>
  fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: fc.nat().map((n) => (n * 2 + 1) >>> 0) });

const udpPort = fc.oneof(fc.constantFrom(520, 3784, 80, 53, 49152, 50000, 65535, 0), fc.nat({ max: 0xffff }));
/** Mostly right, sometimes off by a little. */
const delta = (max: number): fc.Arbitrary<number> => fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -max, max }) });

// ---- IP options ----

const slotOption = fc.record({
  kind: fc.constantFrom('rr' as const, 'lsrr' as const, 'ssrr' as const),
  addrs: fc.array(address(ROUTE_ADDRESSES), { maxLength: 9 }),
  /** Entries already used (the pointer's place). */
  used: fc.nat({ max: 9 }),
  ptrDelta: delta(4),
  lenDelta: delta(3),
});
const timestampOption = fc.record({
  kind: fc.constant('ts' as const),
  flag: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(0, 1, 3) }, { weight: 1, arbitrary: fc.nat({ max: 15 }) }),
  overflow: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.constantFrom(14, 15), fc.nat({ max: 15 })),
  addrs: fc.array(address(ROUTE_ADDRESSES), { maxLength: 9 }),
  used: fc.nat({ max: 9 }),
  ptrDelta: delta(4),
  lenDelta: delta(3),
});
const otherOption = fc.record({
  kind: fc.constant('other' as const),
  // Security, stream id, router alert, an unknown one with the copied flag, anything.
  type: fc.oneof(fc.constantFrom(130, 136, 148, 0x9e, 0x19), fc.nat({ max: 255 })),
  data: fc.uint8Array({ maxLength: 8 }),
  lenDelta: delta(3),
});
const singleByte = fc.record({ kind: fc.constantFrom('nop' as const, 'eol' as const) });
const option = fc.oneof({ weight: 4, arbitrary: slotOption }, { weight: 3, arbitrary: timestampOption }, { weight: 2, arbitrary: otherOption }, { weight: 1, arbitrary: singleByte });
type OptionSpec = ValueOf<typeof option>;

/** Well-formed-looking options that fit 40 bytes (trailing ones that do not are left out), padded with EOL. */
function optionBytes(list: readonly OptionSpec[]): Uint8Array {
  const out: number[] = [];
  for (const o of list) {
    const b = oneOption(o);
    if (out.length + b.length > 40) continue;
    out.push(...b);
  }
  while (out.length % 4 !== 0) out.push(0);
  return Uint8Array.from(out);
}

function oneOption(o: OptionSpec): number[] {
  const word = (v: number) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
  switch (o.kind) {
    case 'nop': return [1];
    case 'eol': return [0];
    case 'other': {
      if (o.type <= 1) return [o.type];
      return [o.type, Math.max(0, 2 + o.data.length + o.lenDelta), ...o.data];
    }
    case 'ts': {
      const entry = (o.flag & 15) === 0 ? 4 : 8;
      const n = Math.min(o.addrs.length, Math.floor(36 / entry));
      const data: number[] = [];
      for (let k = 0; k < n; k++) data.push(...(entry === 8 ? word(o.addrs[k]!) : []), ...word(0x01000000 + k));
      return [68, Math.max(0, 4 + data.length + o.lenDelta), Math.max(0, 5 + entry * Math.min(o.used, n) + o.ptrDelta), (o.overflow << 4) | o.flag, ...data];
    }
    default: {
      const n = Math.min(o.addrs.length, 9);
      const data = o.addrs.slice(0, n).flatMap(word);
      const type = o.kind === 'rr' ? 7 : o.kind === 'lsrr' ? 131 : 137;
      return [type, Math.max(0, 3 + data.length + o.lenDelta), Math.max(0, 4 + 4 * Math.min(o.used, n) + o.ptrDelta), ...data];
    }
  }
}

const options = fc.oneof(
  { weight: 12, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 4, arbitrary: fc.array(option, { minLength: 1, maxLength: 4 }).map(optionBytes) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }) },
);
/** Options a host sends to the router: none, or what it may ask of it (Record Route, Timestamp, a source route, others). */
const hostOptions = fc.oneof(
  { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
  { weight: 4, arbitrary: fc.array(option, { minLength: 1, maxLength: 3 }).map(optionBytes) },
);

// ---- transport payloads ----

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

const randomPayload = (max = 2000) => fc.record({ kind: fc.constant('bytes' as const), len: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 64 }) }, fc.nat({ max })), seed: fc.integer() });

const udp = fc.record({
  kind: fc.constant('udp' as const),
  proto: fc.constant(17 as const),
  srcPort: udpPort,
  dstPort: udpPort,
  payload: fc.oneof(ripPayload, bfdPayload, randomPayload()),
  lengthField: fc.oneof({ weight: 12, arbitrary: fc.constant(-1) }, fc.nat({ max: 0xffff })),
  noChecksum: fc.boolean(),
});

const tcpFlags = fc.oneof(fc.constantFrom(0x02, 0x12, 0x10, 0x11, 0x04, 0x18, 0x03, 0x14), fc.nat({ max: 255 }));
const tcp = fc.record({
  kind: fc.constant('tcp' as const),
  proto: fc.constant(6 as const),
  srcPort: fc.oneof(fc.constantFrom(80, 443, 40000), fc.nat({ max: 0xffff })),
  dstPort: fc.oneof(fc.constantFrom(80, 443, 22, 179), fc.nat({ max: 0xffff })),
  seq: fc.nat().map((n) => (n * 2 + (n & 1)) >>> 0),
  ack: fc.nat().map((n) => (n * 3) >>> 0),
  flags: tcpFlags,
  dataOffset: fc.oneof({ weight: 8, arbitrary: fc.constant(5) }, fc.nat({ max: 15 })),
  payload: randomPayload(),
});

const icmp = fc.record({
  kind: fc.constant('icmp' as const),
  proto: fc.constant(1 as const),
  type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(0, 3, 4, 5, 8, 11, 12, 13, 14, 15, 17, 18) }, fc.nat({ max: 255 })),
  code: fc.oneof({ weight: 4, arbitrary: fc.nat({ max: 5 }) }, fc.nat({ max: 255 })),
  rest: fc.nat(),
  /** Errors quote a datagram: an IPv4 header + 8 bytes, made from these. */
  quote: fc.record({ src: address(SOURCES), dst: address(DESTINATIONS), proto: fc.constantFrom(1, 6, 17, 50), type: fc.nat({ max: 20 }) }),
  payload: randomPayload(),
});

/** The queries the router answers, mostly well formed: echo, timestamp (20 bytes), address mask (12 bytes). */
const query = (maxData: number) => fc.record({
  kind: fc.constant('query' as const),
  proto: fc.constant(1 as const),
  type: fc.oneof({ weight: 4, arbitrary: fc.constant(8) }, { weight: 2, arbitrary: fc.constant(13) }, { weight: 2, arbitrary: fc.constant(17) }),
  code: fc.oneof({ weight: 12, arbitrary: fc.constant(0) }, fc.nat({ max: 255 })),
  rest: fc.nat(),
  dataLen: fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 64 }) }, fc.nat({ max: maxData })),
  lenDelta: delta(8),
  seed: fc.integer(),
});

const other = fc.record({ kind: fc.constant('other' as const), proto: fc.oneof(fc.constantFrom(0, 2, 4, 41, 47, 50, 89, 255), fc.nat({ max: 255 })), payload: randomPayload() });

// ---- packets ----

/** How an Ethernet port receives it: to our MAC or a group address (or another host's), from the neighbour (or worse). */
const linkHeader = fc.record({
  dst: fc.oneof({ weight: 14, arbitrary: fc.constant('ours' as const) }, fc.constantFrom('broadcast' as const, 'multicast' as const, 'other' as const)),
  src: fc.oneof({ weight: 14, arbitrary: fc.constant('neighbour' as const) }, fc.constantFrom('other' as const, 'group' as const, 'ours' as const)),
  type: fc.oneof({ weight: 24, arbitrary: fc.constant(0x0800) }, fc.constantFrom(0x0806, 0x8100, 0x86dd), fc.nat({ max: 0xffff })),
});
export type LinkHeader = ValueOf<typeof linkHeader>;

const mutation = fc.oneof(
  { weight: 4, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.record({ edits: edits(6), fixChecksum: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, fc.constant(false)) }) },
);

const packetAny = fc.record({
  kind: fc.constant('packet' as const),
  link: linkHeader,
  src: address(SOURCES),
  dst: address(DESTINATIONS),
  tos: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.nat({ max: 255 })),
  ttl: fc.oneof(fc.constantFrom(0, 1, 2, 64, 255), fc.nat({ max: 255 })),
  df: fc.boolean(),
  mf: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, fc.constant(true)),
  fragOffset: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, fc.nat({ max: 0x1fff })),
  options,
  l4: fc.oneof({ weight: 3, arbitrary: udp }, { weight: 3, arbitrary: tcp }, { weight: 3, arbitrary: icmp }, { weight: 1, arbitrary: query(1800) }, { weight: 1, arbitrary: other }),
  padding: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.nat({ max: 40 })),
  badIpChecksum: fc.oneof({ weight: 30, arbitrary: fc.constant(false) }, fc.constant(true)),
  badL4Checksum: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, fc.constant(true)),
  // One packet in five mutated; most of those with a repaired header checksum (to get past validation).
  mutation,
});
export type PacketSpec = ValueOf<typeof packetAny>;

/** What the protocols take seriously: RIP to 224.0.0.9 or the router, BFD with TTL 255, from a neighbour. */
const protocolPacket = fc.record({
  base: packetAny,
  rip: ripPayload,
  bfd: bfdPayload,
  isRip: fc.boolean(),
  neighbour: fc.constantFrom(ip('10.0.12.2'), ip('10.0.13.2'), ip('10.0.1.20')),
  unicast: fc.boolean(),
  srcPort: fc.integer({ min: 49152, max: 65535 }),
}).map(({ base, rip, bfd, isRip, neighbour, unicast, srcPort }): PacketSpec => ({
  ...base,
  src: neighbour,
  dst: isRip && !unicast ? ip('224.0.0.9') : ((neighbour & ~3) >>> 0) + 1 === neighbour - 1 ? neighbour - 1 : ip('10.0.1.1'),
  ttl: isRip ? base.ttl : 255,
  mf: false,
  fragOffset: 0,
  l4: { kind: 'udp', proto: 17, srcPort: isRip ? 520 : srcPort, dstPort: isRip ? 520 : 3784, payload: isRip ? rip : bfd, lengthField: -1, noChecksum: false },
}));

/** A host talking to the router: queries, TCP, UDP and other protocols to its own addresses, often with options. */
const hostPacket = fc.record({
  base: packetAny,
  src: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...HOST_SOURCES) }, { weight: 1, arbitrary: address(SOURCES) }),
  dst: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...OWN_ADDRESSES) }, { weight: 1, arbitrary: address(DESTINATIONS) }),
  options: hostOptions,
  l4: fc.oneof({ weight: 4, arbitrary: query(1800) }, { weight: 3, arbitrary: tcp }, { weight: 1, arbitrary: udp }, { weight: 1, arbitrary: other }),
  whole: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, fc.constant(false)),
}).map(({ base, src, dst, options, l4, whole }): PacketSpec => ({
  ...base, src, dst, options, l4, ...(whole ? { mf: false, fragOffset: 0, mutation: base.mutation && null, badIpChecksum: false } : {}),
}));

export const packet = fc.oneof({ weight: 5, arbitrary: packetAny }, { weight: 1, arbitrary: protocolPacket }, { weight: 2, arbitrary: hostPacket });

/** A datagram for the router cut into fragments. */
const fragmentGroup = fc.record({
  kind: fc.constant('group' as const),
  link: linkHeader,
  src: fc.constantFrom(...HOST_SOURCES.filter((a) => a !== 0)),
  dst: fc.constantFrom(...PORT_ADDRESSES),
  tos: fc.nat({ max: 255 }),
  ttl: fc.oneof(fc.constantFrom(1, 64), fc.nat({ max: 255 })),
  /** Record Route and Timestamp only: a source route would make the router a hop. */
  options: fc.oneof(
    { weight: 3, arbitrary: fc.constant(new Uint8Array(0)) },
    { weight: 1, arbitrary: fc.array(fc.oneof(timestampOption, slotOption.map((o) => ({ ...o, kind: 'rr' as const }))), { minLength: 1, maxLength: 2 }).map(optionBytes) },
  ),
  l4: fc.oneof({ weight: 4, arbitrary: query(6000) }, { weight: 2, arbitrary: udp }, { weight: 2, arbitrary: tcp }, { weight: 1, arbitrary: other }),
  /** Data per fragment, in 8-byte units (the last takes the rest). */
  sizes: fc.array(fc.integer({ min: 1, max: 190 }), { minLength: 1, maxLength: 6 }),
  /** Sort keys: the order the fragments arrive in. */
  order: fc.array(fc.nat({ max: 7 }), { minLength: 8, maxLength: 8 }),
  duplicate: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, fc.nat({ max: 7 })),
  omit: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, fc.nat({ max: 7 })),
  flaw: fc.oneof({ weight: 12, arbitrary: fc.constant('none' as const) }, fc.constantFrom('second-end' as const, 'past-end' as const, 'too-large' as const, 'odd-size' as const)),
});
export type GroupSpec = ValueOf<typeof fragmentGroup>;

/** An ARP frame: mostly a request for the router's address from its neighbour. */
const arpFrame = fc.record({
  kind: fc.constant('arp' as const),
  frameDst: fc.oneof({ weight: 4, arbitrary: fc.constant('broadcast' as const) }, fc.constantFrom('ours' as const, 'other' as const)),
  op: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.constant(2), fc.nat({ max: 0xffff })),
  sha: fc.oneof({ weight: 8, arbitrary: fc.constant('neighbour' as const) }, fc.constantFrom('other' as const, 'group' as const, 'zero' as const, 'ours' as const)),
  spa: fc.oneof({ weight: 6, arbitrary: fc.constant(ip('10.0.14.2')) }, fc.constantFrom(ip('10.0.14.1'), 0, ip('10.0.14.3'), ip('198.18.0.1')), fc.nat().map((n) => n >>> 0)),
  tpa: fc.oneof({ weight: 6, arbitrary: fc.constant(ip('10.0.14.1')) }, fc.constantFrom(ip('10.0.14.2'), ip('10.0.14.3'), ip('10.0.1.1')), fc.nat().map((n) => n >>> 0)),
  header: fc.oneof({ weight: 12, arbitrary: fc.constant(null) }, fc.record({ htype: fc.nat({ max: 3 }), ptype: fc.constantFrom(0x0800, 0x86dd), hlen: fc.constantFrom(6, 8), plen: fc.constantFrom(4, 16) })),
  padding: fc.nat({ max: 18 }),
  truncate: fc.oneof({ weight: 10, arbitrary: fc.constant(-1) }, fc.nat({ max: 60 })),
});
export type ArpSpec = ValueOf<typeof arpFrame>;

/** Any bytes as a frame (runts, unknown types). */
const rawFrame = fc.record({ kind: fc.constant('frame' as const), len: fc.nat({ max: 80 }), seed: fc.integer(), type: fc.oneof(fc.constantFrom(0x0800, 0x0806, 0x8100, 0x88cc), fc.nat({ max: 0xffff })) });
export type RawFrameSpec = ValueOf<typeof rawFrame>;

export const item = fc.oneof({ weight: 30, arbitrary: packet }, { weight: 2, arbitrary: fragmentGroup }, { weight: 2, arbitrary: arpFrame }, { weight: 1, arbitrary: rawFrame });
export type ItemSpec = ValueOf<typeof item>;

// Ports come back more often than they go: most batches meet working ports.
const ADMIN = ['none', 'block', 'unblock', 'unblock', 'unblock', 'unblock', 'drain', 'route-add', 'route-del', 'tick',
  'replies-scarce', 'replies-plenty', 'replies-plenty', 'reassembly-timeout'] as const;
const admin = fc.oneof(
  { weight: 20, arbitrary: fc.constant({ op: 'none' as const, port: 0 }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom(...ADMIN), port: fc.nat({ max: 4 }) }) },
);

export const batch = fc.record({ ingress: fc.nat({ max: 4 }), items: fc.array(item, { minLength: 1, maxLength: 64 }), admin });
export type Batch = ValueOf<typeof batch>;

// ---- bytes ----

/** The largest datagram handed in (an Ethernet port's slot holds it with its frame header). */
export const MAX_PACKET = 1960;

/** Build one packet's bytes; `tag` goes into the identification field. */
export function buildPacket(p: PacketSpec, tag: number, yourDisc: (src: number) => number): Uint8Array {
  const optLen = (p.options.length + 3) & ~3;
  const hl = 20 + optLen;
  const l4 = buildL4(p.l4, p.src, yourDisc);
  const total = Math.min(hl + l4.length, MAX_PACKET - p.padding);
  const b = new Uint8Array(total + p.padding);
  writeHeader(b, hl, total, p, tag, (p.df ? 0x4000 : 0) | (p.mf ? 0x2000 : 0) | p.fragOffset);
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

function writeHeader(b: Uint8Array, hl: number, total: number, p: { tos: number; ttl: number; src: number; dst: number; l4: { proto: number } }, id: number, flags: number): void {
  b[0] = 0x40 | (hl >>> 2);
  b[1] = p.tos;
  put16(b, 2, total);
  put16(b, 4, id);
  put16(b, 6, flags);
  b[8] = p.ttl;
  b[9] = p.l4.proto;
  put32(b, 12, p.src);
  put32(b, 16, p.dst);
}

/**
 * The fragments of a group's datagram (identification `tag`), in their
 * order of arrival. Fragments after the first carry no options (Record
 * Route and Timestamp are not copied, RFC 791).
 */
export function buildGroup(g: GroupSpec, tag: number, yourDisc: (src: number) => number): Uint8Array[] {
  const optLen = (g.options.length + 3) & ~3;
  const hl = 20 + optLen;
  const l4 = buildL4(g.l4, g.src, yourDisc);
  const total = Math.min(hl + l4.length, 65_535);
  const d = new Uint8Array(total);
  writeHeader(d, hl, total, g, tag, 0);
  d.set(g.options, 20);
  d.set(l4.subarray(0, total - hl), hl);
  fillL4Checksum(d, hl, total, false);
  const payload = total - hl;
  const pieces: { at: number; len: number; last: boolean }[] = [];
  let at = 0;
  for (const units of g.sizes) {
    if (at >= payload) break;
    const len = Math.min(units * 8, payload - at);
    pieces.push({ at, len, last: at + len === payload });
    at += len;
  }
  // At least two pieces (else it is no fragment: a duplicate would be answered twice).
  if (pieces.length === 1 && at >= payload && payload > 8) pieces.splice(0, 1, { at: 0, len: (payload - 1) & ~7, last: false }, { at: (payload - 1) & ~7, len: payload - ((payload - 1) & ~7), last: true });
  // The rest in one piece, or in the largest that fit a slot.
  while (at < payload) {
    const len = Math.min(1400, payload - at);
    pieces.push({ at, len, last: at + len === payload });
    at += len;
  }
  switch (g.flaw) {
    case 'second-end': pieces.push({ at: 8, len: payload, last: true }); break;
    case 'past-end': pieces.push({ at: (payload + 15) & ~7, len: 8, last: false }); break;
    case 'too-large': pieces.push({ at: 0x1ff0 * 8, len: 256, last: false }); break;
    case 'odd-size': if (pieces.length > 1) pieces[0]!.len -= 1; break;
    default: break;
  }
  const frags = pieces.map((p) => fragment(d, hl, p.at, p.len, p.last));
  if (g.duplicate >= 0 && frags.length > 1) frags.push(frags[g.duplicate % frags.length]!);
  if (g.omit >= 0 && frags.length > 1) frags.splice(g.omit % frags.length, 1);
  const keyed = frags.map((f, i) => ({ f, k: g.order[i % g.order.length]! * 64 + i }));
  keyed.sort((a, b) => a.k - b.k);
  return keyed.map((x) => x.f);
}

/** The piece [at, at+len) of datagram d's payload as a fragment (the first keeps the options). */
function fragment(d: Uint8Array, hl: number, at: number, len: number, last: boolean): Uint8Array {
  const fhl = at === 0 ? hl : 20;
  const f = new Uint8Array(fhl + len);
  f.set(d.subarray(0, fhl));
  f.set(d.subarray(hl + at, hl + at + len).subarray(0, len), fhl);
  f[0] = 0x40 | (fhl >>> 2);
  put16(f, 2, fhl + len);
  put16(f, 6, (last ? 0 : 0x2000) | ((at >>> 3) & 0x1fff));
  put16(f, 10, 0);
  put16(f, 10, refChecksum(f, 0, fhl));
  return f;
}

/** A frame around an IPv4 packet as the Ethernet port receives it. */
export function frameOf(packet: Uint8Array, h: LinkHeader, seed: number): Uint8Array {
  const f = new Uint8Array(14 + packet.length);
  writeMacs(f, h.dst, h.src, seed);
  put16(f, 12, h.type);
  f.set(packet, 14);
  return f;
}

function writeMacs(f: Uint8Array, dst: 'ours' | 'broadcast' | 'multicast' | 'other', src: 'neighbour' | 'other' | 'group' | 'ours' | 'zero', seed: number): void {
  if (dst === 'ours') f.set(ETH_MAC, 0);
  else if (dst === 'broadcast') f.fill(0xff, 0, 6);
  else if (dst === 'multicast') f.set([0x01, 0x00, 0x5e, 0x00, 0x00, seed & 0x7f], 0);
  else f.set([0x02, 0x11, 0x22, 0x33, 0x44, seed & 0xff], 0);
  if (src === 'neighbour') f.set(NEIGHBOUR_MAC, 6);
  else if (src === 'ours') f.set(ETH_MAC, 6);
  else if (src === 'group') f.set([0x01, 0x00, 0x5e, 0x01, 0x02, 0x03], 6);
  else if (src === 'zero') f.fill(0, 6, 12);
  else f.set([0x02, 0x99, 0x88, 0x77, 0x66, (seed >>> 8) & 0xff], 6);
}

export function buildArpFrame(a: ArpSpec, seed: number): Uint8Array {
  const f = new Uint8Array(14 + 28 + a.padding);
  writeMacs(f, a.frameDst, a.sha === 'zero' ? 'neighbour' : a.sha, seed);
  put16(f, 12, 0x0806);
  const h = a.header ?? { htype: 1, ptype: 0x0800, hlen: 6, plen: 4 };
  put16(f, 14, h.htype);
  put16(f, 16, h.ptype);
  f[18] = h.hlen;
  f[19] = h.plen;
  put16(f, 20, a.op);
  f.set(f.subarray(6, 12), 22);
  if (a.sha === 'zero') f.fill(0, 22, 28);
  put32(f, 28, a.spa);
  put32(f, 38, a.tpa);
  return a.truncate >= 0 ? f.subarray(0, Math.min(a.truncate, f.length)) : f;
}

export function buildRawFrame(r: RawFrameSpec): Uint8Array {
  const f = new Uint8Array(r.len);
  fillBytes(f, 0, r.len, r.seed);
  if (r.len >= 14) put16(f, 12, r.type);
  return f;
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
    let c = refChecksum(b, hl, cover, refPseudo(src, dst, 17, cover));
    if (c === 0) c = 0xffff;
    put16(b, hl + 6, c);
  } else if (proto === 6 && len >= 20) {
    put16(b, hl + 16, 0);
    put16(b, hl + 16, refChecksum(b, hl, len, refPseudo(src, dst, 6, len)));
  } else if (proto === 1 && len >= 4) {
    put16(b, hl + 2, 0);
    put16(b, hl + 2, refChecksum(b, hl, len));
  }
}

type L4Spec = PacketSpec['l4'];

function buildL4(l4: L4Spec, src: number, yourDisc: (src: number) => number): Uint8Array {
  switch (l4.kind) {
    case 'udp': {
      const payload = buildUdpPayload(l4.payload, src, yourDisc);
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
      put32(b, 8, l4.ack);
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
    case 'query': {
      const len = Math.max(8, (l4.type === 8 ? 8 + l4.dataLen : l4.type === 13 ? 20 : 12) + l4.lenDelta);
      const b = new Uint8Array(len);
      fillBytes(b, 8, len - 8, l4.seed);
      b[0] = l4.type;
      b[1] = l4.code;
      put32(b, 4, l4.rest);
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
