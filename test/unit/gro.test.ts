import test from 'node:test';
import assert from 'node:assert/strict';
import { Coalesce, Coalescer } from '../../src/dataplane/gro.js';
import { SegmentChecksum, segmentGso } from '../../src/dataplane/gso.js';
import { VirtioFlag, VirtioGso, VirtioNetHdrView, offloadWord, writeVnetHeader } from '../../src/wire/virtio-net.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

// ---- test packets, built with DataView and a naive checksum -------------------

function naiveSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! * 256 + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

interface Seg {
  src?: number; dst?: number; sport?: number; dport?: number; seq: number; ack?: number; flags?: number;
  payload: number; id?: number; ttl?: number; tos?: number; window?: number; opts?: number[]; badCsum?: boolean;
  ipOpts?: boolean; frag?: boolean; df?: boolean; fill?: number;
}

function seg(s: Seg): Uint8Array {
  const hl = s.ipOpts ? 24 : 20;
  const opts = s.opts ?? [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]; // NOP NOP timestamp
  const thl = 20 + opts.length;
  const len = hl + thl + s.payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  const src = s.src ?? 0x0a010002, dst = s.dst ?? 0x0a020002;
  p[0] = 0x40 | (hl >> 2); p[1] = s.tos ?? 0; v.setUint16(2, len); v.setUint16(4, s.id ?? 100);
  v.setUint16(6, s.frag ? 0x2000 : s.df ?? true ? 0x4000 : 0); p[8] = s.ttl ?? 64; p[9] = 6; v.setUint32(12, src); v.setUint32(16, dst);
  v.setUint16(10, ~naiveSum(p.subarray(0, hl)) & 0xffff);
  v.setUint16(hl, s.sport ?? 40000); v.setUint16(hl + 2, s.dport ?? 5201);
  v.setUint32(hl + 4, s.seq >>> 0); v.setUint32(hl + 8, s.ack ?? 777); p[hl + 12] = (thl / 4) << 4;
  p[hl + 13] = s.flags ?? TcpFlag.ACK; v.setUint16(hl + 14, s.window ?? 1000);
  p.set(opts, hl + 20);
  for (let i = 0; i < s.payload; i++) p[hl + thl + i] = (s.fill ?? 0) + (s.seq + i) * 7;
  const ph = new Uint8Array(12 + len - hl); const pv = new DataView(ph.buffer);
  pv.setUint32(0, src); pv.setUint32(4, dst); ph[9] = 6; pv.setUint16(10, len - hl); ph.set(p.subarray(hl), 12);
  let c = ~naiveSum(ph) & 0xffff;
  if (s.badCsum) c ^= 0x0101;
  v.setUint16(hl + 16, c);
  return p;
}

interface Dgram {
  id: number; payload: number; sport?: number; ttl?: number; tos?: number; df?: boolean; frag?: boolean;
  noCsum?: boolean; badCsum?: boolean; fill?: number;
}

function dgram(d: Dgram): Uint8Array {
  const len = 28 + d.payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  p[0] = 0x45; p[1] = d.tos ?? 0; v.setUint16(2, len); v.setUint16(4, d.id);
  v.setUint16(6, (d.df ?? true ? 0x4000 : 0) | (d.frag ? 0x2000 : 0)); p[8] = d.ttl ?? 64; p[9] = 17;
  v.setUint32(12, 0x0a010002); v.setUint32(16, 0x0a020002);
  v.setUint16(10, ~naiveSum(p.subarray(0, 20)) & 0xffff);
  v.setUint16(20, d.sport ?? 40000); v.setUint16(22, 9); v.setUint16(24, len - 20);
  for (let i = 0; i < d.payload; i++) p[28 + i] = (d.fill ?? 0) + (d.id + i) * 13;
  if (!d.noCsum) {
    const ph = new Uint8Array(12 + len - 20); const pv = new DataView(ph.buffer);
    pv.setUint32(0, 0x0a010002); pv.setUint32(4, 0x0a020002); ph[9] = 17; pv.setUint16(10, len - 20); ph.set(p.subarray(20), 12);
    let c = ~naiveSum(ph) & 0xffff;
    if (c === 0) c = 0xffff;
    if (d.badCsum) c ^= 0x0101;
    v.setUint16(26, c);
  }
  return p;
}

const SLOT = 2048;
const REGION = 64 * SLOT + 64;

/** Lay packets out in slots with 64 bytes of headroom, coalesce; return everything to look at. */
function run(pkts: Uint8Array[], opts: { trusted?: boolean; regionSize?: number; kinds?: number } = {}) {
  const buf = new Uint8Array(REGION + 70_000 * 2);
  const offs = new Int32Array(64), lens = new Int32Array(64);
  pkts.forEach((p, i) => { offs[i] = 64 + i * SLOT; lens[i] = p.length; buf.set(p, offs[i]!); });
  const trusted = opts.trusted ? new Uint8Array(64).fill(1) : null;
  const g = new Coalescer();
  const n = g.coalesce(buf, offs, lens, pkts.length, trusted, REGION, REGION + (opts.regionSize ?? 140_000), 10, opts.kinds);
  const out = [];
  for (let k = 0; k < n; k++) {
    // The header the ports write for what comes out (Port.requeueSuper).
    if (g.outMerged[k] === 1) writeVnetHeader(buf, g.outOffsets[k]! - 10, 10, g.outOffsets[k]!, offloadWord(g.outKind[k]!, g.outGso[k]!), 0);
    out.push({
      off: g.outOffsets[k]!, len: g.outLengths[k]!, merged: g.outMerged[k] === 1, input: g.outInput[k]!,
      bytes: buf.subarray(g.outOffsets[k]!, g.outOffsets[k]! + g.outLengths[k]!),
      hdr: new VirtioNetHdrView().attach(buf, g.outOffsets[k]! - 10, 10),
    });
  }
  return { buf, out, g };
}

/** Coalesce `first` with each case's second packet: `expect` 1 (merged) or 2 (both pass as they came). */
function expectPairs(first: Uint8Array, cases: Array<[string, Uint8Array, number]>, opts: { kinds?: number } = {}) {
  for (const [what, second, expect] of cases) {
    const { out } = run([first, second], opts);
    assert.equal(out.length, expect, what);
    if (expect === 2) assert.ok(out.every((o) => !o.merged), what);
  }
}

/** A virtio-net header's flags, gso_type, gso_size, hdr_len, csum_start, csum_offset. */
const headerFields = (h: VirtioNetHdrView) => [h.flags, h.gsoType, h.gsoSize, h.hdrLen, h.csumStart, h.csumOffset];

/** The segments a super-packet stands for (software GSO with full checksums). */
function resegment(buf: Uint8Array, off: number, len: number, gso: number, kind: number = VirtioGso.TCPV4): Uint8Array[] {
  const out = new Uint8Array(200_000);
  const o = new Int32Array(128), l = new Int32Array(128);
  const n = segmentGso(buf, off, len, kind, gso, out, 0, out.length, 0, SegmentChecksum.FULL, o, l, 0, 128);
  assert.ok(n > 0, `resegment: ${n}`);
  return Array.from({ length: n }, (_, i) => out.slice(o[i]!, o[i]! + l[i]!));
}

test('GRO: in-order segments of one flow become one super-packet that segments back to exactly them', () => {
  const s0 = 1_000_000;
  const pkts = Array.from({ length: 20 }, (_, i) =>
    seg({ seq: s0 + i * 1448, payload: i === 19 ? 700 : 1448, id: 100 + i, flags: i === 19 ? TcpFlag.ACK | TcpFlag.PSH : TcpFlag.ACK }));
  const { out, g } = run(pkts);
  assert.equal(out.length, 1);
  assert.equal(g.merged, 19);
  const m = out[0]!;
  assert.equal(m.merged, true);
  assert.equal(m.input, 0);
  assert.equal(m.len, 20 + 32 + 19 * 1448 + 700);
  assert.deepEqual(headerFields(m.hdr), [VirtioFlag.NEEDS_CSUM, VirtioGso.TCPV4, 1448, 52, 20, 16]);
  const v = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.len);
  assert.equal(v.getUint16(2), m.len);
  assert.equal(naiveSum(m.bytes.subarray(0, 20)), 0xffff, 'IP header checksum verifies');
  assert.equal(m.bytes[33], TcpFlag.ACK | TcpFlag.PSH, 'PSH of the last segment');
  const back = resegment(m.bytes, 0, m.len, 1448);
  assert.equal(back.length, 20);
  back.forEach((b, i) => assert.deepEqual(b, pkts[i], `segment ${i}`));
});

test('GRO: two interleaved flows and a non-TCP packet: two super-packets, batch order kept', () => {
  const a = (i: number) => seg({ seq: 5000 + i * 1000, payload: 1000, sport: 1111, id: i });
  const b = (i: number) => seg({ seq: 9000 + i * 1000, payload: 1000, sport: 2222, id: i, fill: 3 });
  const udp = new Uint8Array(28); udp[0] = 0x45; udp[3] = 28; udp[9] = 17;
  const { out } = run([a(0), b(0), a(1), udp, b(1), a(2), b(2)]);
  assert.equal(out.length, 3);
  assert.equal(out[0]!.merged, true); assert.equal(out[0]!.input, 0); assert.equal(out[0]!.len, 52 + 3000);
  assert.equal(out[1]!.merged, true); assert.equal(out[1]!.input, 1); assert.equal(out[1]!.len, 52 + 3000);
  assert.equal(out[2]!.merged, false); assert.equal(out[2]!.input, 3);
  assert.deepEqual(resegment(out[1]!.bytes, 0, out[1]!.len, 1000)[2], b(2));
});

test('GRO: what must not be merged is not', () => {
  const base = { seq: 0, payload: 1000 };
  const cases: Array<[string, Seg, number]> = [
    ['sequence gap', { ...base, seq: 1001 }, 2],
    ['different ACK', { ...base, seq: 1000, ack: 778 }, 2],
    ['different window', { ...base, seq: 1000, window: 999 }, 2],
    ['different TTL', { ...base, seq: 1000, ttl: 63 }, 2],
    ['different TOS', { ...base, seq: 1000, tos: 2 }, 2],
    ['different timestamp option', { ...base, seq: 1000, opts: [1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 2] }, 2],
    ['different options length', { ...base, seq: 1000, opts: [] }, 2],
    ['larger than the first', { ...base, seq: 1000, payload: 1001 }, 2],
    ['FIN', { ...base, seq: 1000, flags: TcpFlag.ACK | TcpFlag.FIN }, 2],
    ['URG', { ...base, seq: 1000, flags: TcpFlag.ACK | TcpFlag.URG }, 2],
    ['CWR', { ...base, seq: 1000, flags: TcpFlag.ACK | TcpFlag.CWR }, 2],
    ['IP options', { ...base, seq: 1000, ipOpts: true }, 2],
    ['a fragment', { ...base, seq: 1000, frag: true }, 2],
    ['bad checksum', { ...base, seq: 1000, badCsum: true }, 2],
    ['other destination', { ...base, seq: 1000, dst: 0x0a020003 }, 2],
    ['identification gap', { ...base, seq: 1000, id: 102 }, 2],
    ['identification one back', { ...base, seq: 1000, id: 99 }, 2],
    ['mergeable (control): the same identification, DF', { ...base, seq: 1000 }, 1],
    ['mergeable (control): the next identification', { ...base, seq: 1000, id: 101 }, 1],
  ];
  expectPairs(seg(base), cases.map(([what, second, expect]) => [what, seg(second), expect]));
  // Without DF a packet's identification is its fragments' key: only the next one merges.
  const noDf = { ...base, df: false };
  expectPairs(seg(noDf), [
    ['no DF, the same identification', seg({ ...noDf, seq: 1000 }), 2],
    ['no DF, the next identification (control)', seg({ ...noDf, seq: 1000, id: 101 }), 1],
  ]);
});

test('GRO: nothing after PSH or after a short segment; a pure ACK closes the flow', () => {
  const psh = run([seg({ seq: 0, payload: 100, flags: TcpFlag.ACK | TcpFlag.PSH }), seg({ seq: 100, payload: 100 })]);
  assert.equal(psh.out.length, 2);
  const short = run([seg({ seq: 0, payload: 100 }), seg({ seq: 100, payload: 50 }), seg({ seq: 150, payload: 50 })]);
  assert.deepEqual(short.out.map((o) => [o.merged, o.len - 52]), [[true, 150], [false, 50]]);
  // data, pure ACK of the same flow, data that would be contiguous: the ACK is not overtaken.
  const ack = run([seg({ seq: 0, payload: 100 }), seg({ seq: 100, payload: 0 }), seg({ seq: 100, payload: 100 })]);
  assert.deepEqual(ack.out.map((o) => [o.merged, o.input]), [[false, 0], [false, 1], [false, 2]]);
});

test('GRO: checksums are verified unless trusted; a bad head is not merged into', () => {
  const bad = run([seg({ seq: 0, payload: 100, badCsum: true }), seg({ seq: 100, payload: 100 }), seg({ seq: 200, payload: 100 })]);
  assert.deepEqual(bad.out.map((o) => [o.merged, o.input, o.len - 52]), [[false, 0, 100], [true, 1, 200]]);
  // The kernel vouched (NEEDS_CSUM or DATA_VALID): not re-verified.
  const trusted = run([seg({ seq: 0, payload: 100, badCsum: true }), seg({ seq: 100, payload: 100, badCsum: true })], { trusted: true });
  assert.equal(trusted.out.length, 1);
});

test('GRO: at most 64 KB per super-packet; without room in the region, packets pass as they came', () => {
  const pkts = Array.from({ length: 50 }, (_, i) => seg({ seq: i * 1448, payload: 1448 }));
  const { out } = run(pkts);
  assert.ok(out.every((o) => o.len <= 0xffff));
  assert.equal(out.reduce((s, o) => s + o.len - 52, 0), 50 * 1448);
  assert.equal(out.length, 2, '45 + 5 segments');
  assert.equal(out[0]!.len, 52 + 45 * 1448);
  const r = rng(1);
  const small = run(pkts.slice(0, 5 + ((r() * 5) | 0)), { regionSize: 1000 });
  assert.ok(small.out.every((o) => !o.merged));
  assert.deepEqual(small.out.map((o) => o.input), small.out.map((_, i) => i));
});

const UDP_TOO = { kinds: Coalesce.TCP | Coalesce.UDP };

test('GRO, UDP: the datagrams of one flow become one UDP super-packet that segments back to exactly them', () => {
  const pkts = Array.from({ length: 12 }, (_, i) => dgram({ id: 65530 + i, payload: i === 11 ? 20 : 36 }));
  const { out, g } = run(pkts, UDP_TOO);
  assert.equal(out.length, 1);
  assert.equal(g.merged, 11);
  const m = out[0]!;
  assert.equal(m.merged, true);
  assert.equal(g.outKind[0], VirtioGso.UDP_L4);
  assert.equal(m.len, 28 + 11 * 36 + 20);
  assert.deepEqual(headerFields(m.hdr), [VirtioFlag.NEEDS_CSUM, VirtioGso.UDP_L4, 36, 28, 20, 6]);
  const v = new DataView(m.bytes.buffer, m.bytes.byteOffset, m.len);
  assert.equal(v.getUint16(2), m.len);
  assert.equal(v.getUint16(24), m.len - 20, 'UDP length of the whole');
  assert.equal(naiveSum(m.bytes.subarray(0, 20)), 0xffff, 'IP header checksum verifies');
  const back = resegment(m.bytes, 0, m.len, 36, VirtioGso.UDP_L4);
  assert.equal(back.length, 12);
  back.forEach((b, i) => assert.deepEqual(b, pkts[i], `datagram ${i} (its IP identification wrapped past 65535)`));
});

test('GRO, UDP: only for an egress that takes UDP super-packets; never mixed with TCP of the same ports', () => {
  const pkts = [dgram({ id: 1, payload: 100 }), dgram({ id: 2, payload: 100 })];
  assert.ok(run(pkts).out.every((o) => !o.merged), 'TCP only: UDP passes');
  const tcp = seg({ seq: 0, payload: 100, sport: 40000, dport: 9 });
  const { out } = run([pkts[0]!, tcp, pkts[1]!], UDP_TOO);
  assert.deepEqual(out.map((o) => [o.merged, o.input]), [[true, 0], [false, 1]]);
});

test('GRO, UDP: what must not be merged is not', () => {
  const base: Dgram = { id: 7, payload: 200 };
  const cases: Array<[string, Dgram, number]> = [
    ['identification gap', { ...base, id: 9 }, 2],
    ['identification one back', { ...base, id: 6 }, 2],
    ['different TTL', { ...base, id: 8, ttl: 63 }, 2],
    ['different TOS', { ...base, id: 8, tos: 4 }, 2],
    ['DF differs', { ...base, id: 8, df: false }, 2],
    ['larger than the first', { ...base, id: 8, payload: 201 }, 2],
    ['a fragment', { ...base, id: 8, frag: true }, 2],
    ['no checksum', { ...base, id: 8, noCsum: true }, 2],
    ['bad checksum', { ...base, id: 8, badCsum: true }, 2],
    ['other source port', { ...base, id: 8, sport: 40001 }, 2],
    ['mergeable (control)', { ...base, id: 8 }, 1],
  ];
  expectPairs(dgram(base), cases.map(([what, second, expect]) => [what, dgram(second), expect]), UDP_TOO);
  // Nothing after a short datagram; partial checksums (trusted) are not verified.
  const short = run([dgram({ id: 1, payload: 100 }), dgram({ id: 2, payload: 50 }), dgram({ id: 3, payload: 50 })], UDP_TOO);
  assert.deepEqual(short.out.map((o) => [o.merged, o.len - 28]), [[true, 150], [false, 50]]);
  const trusted = run([dgram({ id: 1, payload: 100, badCsum: true }), dgram({ id: 2, payload: 100, badCsum: true })], { ...UDP_TOO, trusted: true });
  assert.equal(trusted.out.length, 1);
});

test('GRO, UDP: atomic datagrams (DF) that all carry one IP identification merge; they come back numbered on from it', () => {
  // An unconnected IP_PMTUDISC_DO socket's datagrams: DF, identification 0 each.
  const pkts = Array.from({ length: 5 }, (_, i) => dgram({ id: 0, payload: 40, fill: i * 7 }));
  const { out, g } = run(pkts, UDP_TOO);
  assert.equal(out.length, 1);
  assert.equal(g.merged, 4);
  const back = resegment(out[0]!.bytes, 0, out[0]!.len, 40, VirtioGso.UDP_L4);
  assert.equal(back.length, 5);
  back.forEach((b, i) => {
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    assert.equal(v.getUint16(4), i, `datagram ${i}: the segmentation numbers it on from the first`);
    // Everything else as it came: restore the identification (and the header checksum it feeds) and compare.
    const orig = pkts[i]!.slice();
    new DataView(orig.buffer).setUint16(4, i);
    new DataView(orig.buffer).setUint16(10, 0);
    new DataView(orig.buffer).setUint16(10, ~naiveSum(orig.subarray(0, 20)) & 0xffff);
    assert.deepEqual(b, orig, `datagram ${i}`);
  });
  // Without DF the identification matters (fragments are reassembled by it): never merged on the same one.
  assert.ok(run([dgram({ id: 3, payload: 40, df: false }), dgram({ id: 3, payload: 40, df: false })], UDP_TOO).out.every((o) => !o.merged));
  // The second datagram decides the run: fixed stays fixed, counting up stays counting up.
  const fixedThenNext = run([dgram({ id: 5, payload: 40 }), dgram({ id: 5, payload: 40 }), dgram({ id: 6, payload: 40 })], UDP_TOO);
  assert.deepEqual(fixedThenNext.out.map((o) => [o.merged, o.input, o.len - 28]), [[true, 0, 80], [false, 2, 40]]);
  const nextThenFixed = run([dgram({ id: 5, payload: 40 }), dgram({ id: 6, payload: 40 }), dgram({ id: 6, payload: 40 })], UDP_TOO);
  assert.deepEqual(nextThenFixed.out.map((o) => [o.merged, o.input, o.len - 28]), [[true, 0, 80], [false, 2, 40]]);
  const threeFixed = run([dgram({ id: 9, payload: 40 }), dgram({ id: 9, payload: 40 }), dgram({ id: 9, payload: 40 })], UDP_TOO);
  assert.deepEqual(threeFixed.out.map((o) => [o.merged, o.len - 28]), [[true, 120]]);
});

test('GRO, UDP: at most 64 datagrams per super-packet', () => {
  const pkts = Array.from({ length: 64 }, (_, i) => dgram({ id: i, payload: 8 }));
  const g = new Coalescer(128);
  const buf = new Uint8Array(128 * SLOT + 200_000);
  const offs = new Int32Array(128), lens = new Int32Array(128);
  // 64 datagrams, then 6 more of the same flow.
  const all = [...pkts, ...Array.from({ length: 6 }, (_, i) => dgram({ id: 64 + i, payload: 8 }))];
  all.forEach((p, i) => { offs[i] = 64 + i * SLOT; lens[i] = p.length; buf.set(p, offs[i]!); });
  const region = 128 * SLOT;
  const n = g.coalesce(buf, offs, lens, all.length, null, region, region + 100_000, 10, Coalesce.UDP);
  assert.equal(n, 2);
  assert.deepEqual([g.outLengths[0]! - 28, g.outLengths[1]! - 28], [64 * 8, 6 * 8]);
});

test('GRO, UDP: 200 datagrams of 90 flows in random order: one super-packet per flow, in the order of their first datagrams', () => {
  const r = rng(7);
  const flows = 90, count = 200;
  const order = Array.from({ length: count }, (_, i) => (i < flows ? i : (r() * flows) | 0)).sort(() => r() - 0.5);
  const nextId = new Array<number>(flows).fill(0);
  const pkts = order.map((f) => dgram({ id: 1000 * f + nextId[f]++, payload: 16, sport: 20000 + f, fill: f }));
  const g = new Coalescer(256);
  const buf = new Uint8Array(256 * 64 + 100_000);
  const offs = new Int32Array(256), lens = new Int32Array(256);
  pkts.forEach((p, i) => { offs[i] = 64 + i * 64; lens[i] = p.length; buf.set(p, offs[i]!); });
  const region = 256 * 64;
  const n = g.coalesce(buf, offs, lens, count, null, region, region + 90_000, 10, Coalesce.UDP);
  const firsts = [...new Set(order)];
  assert.equal(n, flows);
  for (let k = 0; k < n; k++) {
    const f = firsts[k]!;
    const mine = pkts.filter((_, i) => order[i] === f);
    assert.equal(g.outLengths[k], 28 + 16 * mine.length, `flow ${f}`);
    if (mine.length === 1) { assert.equal(g.outMerged[k], 0); continue; }
    const back = resegment(buf, g.outOffsets[k]!, g.outLengths[k]!, 16, VirtioGso.UDP_L4);
    assert.deepEqual(back, mine, `flow ${f}: its datagrams, in order`);
  }
});
