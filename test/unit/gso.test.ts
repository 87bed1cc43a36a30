import test from 'node:test';
import assert from 'node:assert/strict';
import {
  MtuVerdict, SegmentChecksum, SegmentError, gsoHeaderLength, gsoSegmentLength,
  mtuVerdict, segmentGso, segmentedSize, updatePartialChecksum32,
} from '../../src/dataplane/gso.js';
import { VirtioGso } from '../../src/wire/virtio-net.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';
import { finishPartialChecksum } from '../../src/wire/checksum.js';

// ---- independent reference: DataView + a naive RFC 1071 sum over a literal
// pseudo-header and the segment, no code from src/wire/checksum.ts -----------

function naiveSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! * 256 + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

function refL4Checksum(src: number, dst: number, proto: number, l4: Uint8Array, csumAt: number): number {
  const b = new Uint8Array(12 + l4.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, src >>> 0); dv.setUint32(4, dst >>> 0); b[9] = proto; dv.setUint16(10, l4.length);
  b.set(l4, 12);
  b[12 + csumAt] = 0; b[12 + csumAt + 1] = 0;
  const c = ~naiveSum(b) & 0xffff;
  return proto === 17 && c === 0 ? 0xffff : c;
}

function refIpChecksum(h: Uint8Array): number {
  const b = Uint8Array.from(h);
  b[10] = 0; b[11] = 0;
  return ~naiveSum(b) & 0xffff;
}

interface Super { pkt: Uint8Array; hl: number; thl: number; src: number; dst: number }

/** A TCP/IPv4 super-packet as a kernel hands it over: partial checksum (pseudo-header, whole length). */
function tcpSuper(r: () => number, payload: number, opts: { ipOpts?: number; tcpOpts?: number; flags?: number; seq?: number; id?: number } = {}): Super {
  const hl = 20 + (opts.ipOpts ?? 0), thl = 20 + (opts.tcpOpts ?? 0);
  const len = hl + thl + payload;
  const pkt = new Uint8Array(len);
  const dv = new DataView(pkt.buffer);
  const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
  pkt[0] = 0x40 | (hl >> 2); pkt[1] = 0x10; dv.setUint16(2, len); dv.setUint16(4, opts.id ?? 0xfffe);
  dv.setUint16(6, 0x4000); pkt[8] = 64; pkt[9] = 6; dv.setUint32(12, src); dv.setUint32(16, dst);
  for (let i = 20; i < hl; i++) pkt[i] = 1; // NOP options
  dv.setUint16(10, refIpChecksum(pkt.subarray(0, hl)));
  dv.setUint16(hl, 40000); dv.setUint16(hl + 2, 5201); dv.setUint32(hl + 4, opts.seq ?? 0x12345678);
  dv.setUint32(hl + 8, 0xabcdef01); pkt[hl + 12] = (thl / 4) << 4;
  pkt[hl + 13] = opts.flags ?? (TcpFlag.ACK | TcpFlag.PSH); dv.setUint16(hl + 14, 501);
  for (let i = hl + 20; i < hl + thl; i++) pkt[i] = (r() * 256) | 0;
  for (let i = hl + thl; i < len; i++) pkt[i] = (r() * 256) | 0;
  // partial: folded pseudo-header sum (whole L4 length), not complemented
  const ph = new Uint8Array(12); const pv = new DataView(ph.buffer);
  pv.setUint32(0, src); pv.setUint32(4, dst); ph[9] = 6; pv.setUint16(10, len - hl);
  dv.setUint16(hl + 16, naiveSum(ph));
  return { pkt, hl, thl, src, dst };
}

function segmentInto(s: Super, gsoKind: number, gso: number, csum: number, headroom = 10) {
  const arena = new Uint8Array(200_000);
  arena.set(s.pkt, 8);
  const offs = new Int32Array(2048), lens = new Int32Array(2048);
  const n = segmentGso(arena, 8, s.pkt.length, gsoKind, gso, arena, 70_001, arena.length, headroom, csum, offs, lens, 3, 2000);
  return { arena, offs, lens, n };
}

test('GSO: TCP super-packet → segments that match an independent reference, byte for byte', () => {
  const r = rng(7);
  for (let k = 0; k < 60; k++) {
    const payload = 1 + ((r() * 65000) | 0);
    const gso = 1 + ((r() * (k < 30 ? 1460 : 9000)) | 0);
    const ipOpts = (k % 3) * 4, tcpOpts = (k % 4) * 4;
    const flags = TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN | TcpFlag.CWR | TcpFlag.ECE;
    const s = tcpSuper(r, payload, { ipOpts, tcpOpts, flags, seq: (0xffffffff - ((r() * 100000) | 0)) >>> 0, id: 0xfffd });
    const hlen = s.hl + s.thl;
    const { arena, offs, lens, n } = segmentInto(s, VirtioGso.TCPV4, gso, SegmentChecksum.FULL);
    assert.equal(n, Math.ceil(payload / gso), `k=${k}`);
    let end = 0;
    for (let i = 0; i < n; i++) {
      const o = offs[3 + i]!, l = lens[3 + i]!;
      assert.ok(o >= 70_001 + 10, 'segments live in the region, after headroom');
      assert.ok(o >= end + 10, 'headroom in front of every segment, no overlap');
      end = o + l;
      const segPayload = Math.min(gso, payload - i * gso);
      assert.equal(l, hlen + segPayload);
      const seg = arena.subarray(o, o + l);
      const dv = new DataView(seg.buffer, seg.byteOffset, seg.byteLength);
      // Reference segment built field by field.
      const ref = new Uint8Array(l);
      const rv = new DataView(ref.buffer);
      ref.set(s.pkt.subarray(0, hlen));
      rv.setUint16(2, l);
      rv.setUint16(4, (0xfffd + i) & 0xffff);
      rv.setUint16(10, refIpChecksum(ref.subarray(0, s.hl)));
      rv.setUint32(s.hl + 4, (new DataView(s.pkt.buffer).getUint32(s.hl + 4) + i * gso) >>> 0);
      let f = s.pkt[s.hl + 13]!;
      if (i < n - 1) f &= ~(TcpFlag.FIN | TcpFlag.PSH);
      if (i > 0) f &= ~TcpFlag.CWR;
      ref[s.hl + 13] = f;
      ref.set(s.pkt.subarray(hlen + i * gso, hlen + i * gso + segPayload), hlen);
      rv.setUint16(s.hl + 16, refL4Checksum(s.src, s.dst, 6, ref.subarray(s.hl), 16));
      assert.deepEqual(seg, ref, `k=${k} segment ${i}/${n}`);
      assert.equal(dv.getUint16(2), l);
    }
  }
});

test('GSO: PARTIAL leaves the pseudo-header sum; finishing it gives the FULL checksum', () => {
  const r = rng(11);
  for (let k = 0; k < 20; k++) {
    const s = tcpSuper(r, 5000 + ((r() * 50000) | 0), { tcpOpts: 12 });
    const gso = 500 + ((r() * 1000) | 0);
    const full = segmentInto(s, VirtioGso.TCPV4, gso, SegmentChecksum.FULL);
    const part = segmentInto(s, VirtioGso.TCPV4, gso, SegmentChecksum.PARTIAL);
    assert.equal(part.n, full.n);
    for (let i = 0; i < part.n; i++) {
      const o = part.offs[3 + i]!, l = part.lens[3 + i]!;
      const l4 = l - s.hl;
      const ph = new Uint8Array(12); const pv = new DataView(ph.buffer);
      pv.setUint32(0, s.src); pv.setUint32(4, s.dst); ph[9] = 6; pv.setUint16(10, l4);
      assert.equal((part.arena[o + s.hl + 16]! << 8) | part.arena[o + s.hl + 17]!, naiveSum(ph), 'field = folded pseudo-header sum');
      assert.ok(finishPartialChecksum(part.arena, o, l, s.hl, 16));
      assert.deepEqual(part.arena.subarray(o, o + l), full.arena.subarray(full.offs[3 + i]!, full.offs[3 + i]! + l));
    }
  }
});

test('GSO: UDP (USO) super-packet → datagrams with their own length and checksum', () => {
  const r = rng(5);
  const payload = 10_000, gso = 1472, hl = 20;
  const len = hl + 8 + payload;
  const pkt = new Uint8Array(len); const dv = new DataView(pkt.buffer);
  const src = 0x0a010002, dst = 0x0a020002;
  pkt[0] = 0x45; dv.setUint16(2, len); dv.setUint16(4, 7); pkt[8] = 64; pkt[9] = 17;
  dv.setUint32(12, src); dv.setUint32(16, dst); dv.setUint16(10, refIpChecksum(pkt.subarray(0, 20)));
  dv.setUint16(20, 5000); dv.setUint16(22, 6000); dv.setUint16(24, 8 + payload);
  for (let i = 28; i < len; i++) pkt[i] = (r() * 256) | 0;
  const s: Super = { pkt, hl, thl: 8, src, dst };
  const { arena, offs, lens, n } = segmentInto(s, VirtioGso.UDP_L4, gso, SegmentChecksum.FULL, 0);
  assert.equal(n, 7);
  let data = 0;
  for (let i = 0; i < n; i++) {
    const o = offs[3 + i]!, l = lens[3 + i]!;
    const seg = arena.subarray(o, o + l);
    const sv = new DataView(seg.buffer, seg.byteOffset, l);
    assert.equal(sv.getUint16(2), l);
    assert.equal(sv.getUint16(4), 7 + i);
    assert.equal(sv.getUint16(10), refIpChecksum(seg.subarray(0, 20)));
    assert.equal(sv.getUint16(24), l - 20);
    assert.equal(sv.getUint16(26), refL4Checksum(src, dst, 17, seg.subarray(20), 6));
    assert.deepEqual(seg.subarray(28), pkt.subarray(28 + data, 28 + data + l - 28));
    data += l - 28;
  }
  assert.equal(data, payload);
});

test('GSO: segmentation into a separate array, and the size bound holds', () => {
  const r = rng(3);
  const s = tcpSuper(r, 30_000);
  const out = new Uint8Array(segmentedSize(s.pkt.length, 40, 1000, 12) + 1);
  const offs = new Int32Array(64), lens = new Int32Array(64);
  const n = segmentGso(s.pkt, 0, s.pkt.length, VirtioGso.TCPV4, 1000, out, 1, out.length, 12, SegmentChecksum.FULL, offs, lens, 0, 64);
  assert.equal(n, 30);
  assert.ok(offs[n - 1]! + lens[n - 1]! <= out.length);
  assert.equal(refL4Checksum(s.src, s.dst, 6, out.subarray(offs[5]! + 20, offs[5]! + lens[5]!), 16), (out[offs[5]! + 36]! << 8) | out[offs[5]! + 37]!);
});

test('GSO: malformed super-packets, a full region or a full list are refused, not written past', () => {
  const r = rng(9);
  const s = tcpSuper(r, 3000);
  const arena = new Uint8Array(20_000);
  arena.set(s.pkt, 0);
  const offs = new Int32Array(8), lens = new Int32Array(8);
  const seg = (len: number, kind: number, gso: number, end = arena.length, max = 8) =>
    segmentGso(arena, 0, len, kind, gso, arena, 4000, end, 10, SegmentChecksum.FULL, offs, lens, 0, max);
  assert.equal(seg(s.pkt.length, VirtioGso.UDP_L4, 1000), SegmentError.MALFORMED, 'TCP packet, UDP kind');
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV6, 1000), SegmentError.MALFORMED, 'IPv6 kind');
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV4, 0), SegmentError.MALFORMED, 'gso_size 0');
  assert.equal(seg(s.pkt.length - 1, VirtioGso.TCPV4, 1000), SegmentError.MALFORMED, 'total length ≠ bytes');
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV4, 100), SegmentError.TOO_MANY);
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV4, 1000, 4000 + 3000), SegmentError.NO_ROOM);
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV4, 1000, arena.length, 2), SegmentError.TOO_MANY);
  arena[32] = 0x40; // TCP data offset 4
  assert.equal(seg(s.pkt.length, VirtioGso.TCPV4, 1000), SegmentError.MALFORMED);
  assert.equal(gsoHeaderLength(arena, 0, 39, VirtioGso.TCPV4), -1);
  assert.ok(arena.subarray(4000).every((b) => b === 0), 'nothing written');
});

test('GSO: the forwarding MTU rule is the kernel\'s (segments, not the super-packet, must fit)', () => {
  const seg1500 = gsoSegmentLength(52, 1448); // 20 + 32 + 1448
  assert.equal(seg1500, 1500);
  assert.equal(mtuVerdict(1400, true, 0, 1500), MtuVerdict.FITS);
  assert.equal(mtuVerdict(1500, true, 0, 1500), MtuVerdict.FITS);
  assert.equal(mtuVerdict(1501, true, 0, 1500), MtuVerdict.FRAG_NEEDED);
  assert.equal(mtuVerdict(1501, false, 0, 1500), MtuVerdict.FRAGMENT);
  assert.equal(mtuVerdict(64_000, true, seg1500, 1500), MtuVerdict.SEGMENT);
  assert.equal(mtuVerdict(64_000, true, seg1500, 9000), MtuVerdict.SEGMENT);
  assert.equal(mtuVerdict(64_000, true, seg1500, 64_000), MtuVerdict.FITS);
  assert.equal(mtuVerdict(64_000, true, seg1500, 1280), MtuVerdict.FRAG_NEEDED, 'DF: answer with the MTU');
  assert.equal(mtuVerdict(64_000, false, seg1500, 1280), MtuVerdict.SEGMENT_AND_FRAGMENT);
  assert.equal(mtuVerdict(64_000, true, gsoSegmentLength(52, 1228), 1280), MtuVerdict.SEGMENT, 'after PMTU discovery');
  assert.equal(mtuVerdict(1000, true, seg1500, 1280), MtuVerdict.FITS, 'one short segment marked GSO');
});

test('GSO: finishing a partial UDP checksum never yields 0, and bad offsets are refused', () => {
  // A UDP datagram whose complete checksum is 0xffff (sum 0): payload chosen so.
  const pkt = new Uint8Array(30); const dv = new DataView(pkt.buffer);
  pkt[0] = 0x45; dv.setUint16(2, 30); pkt[9] = 17;
  dv.setUint16(24, 10);
  // pseudo: src 0, dst 0, proto 17, len 10 → 27; header words 0,0,10 → +10; payload word w
  const w = 0xffff - 37; dv.setUint16(28, w);
  dv.setUint16(26, 27); // partial: pseudo-header sum
  assert.ok(finishPartialChecksum(pkt, 0, 30, 20, 6));
  assert.equal(dv.getUint16(26), 0xffff);
  assert.equal(finishPartialChecksum(pkt, 0, 30, 20, 9), false);
  assert.equal(finishPartialChecksum(pkt, 0, 30, 30, 0), false);
});

test('GSO: NAT of an address on a partial checksum, then finishing it, gives the checksum of the rewritten packet', () => {
  const r = rng(21);
  for (let k = 0; k < 200; k++) {
    const s = tcpSuper(r, 1 + ((r() * 3000) | 0));
    const p = s.pkt;
    const dv = new DataView(p.buffer);
    const newDst = (r() * 2 ** 32) >>> 0;
    const newPort = (r() * 65536) | 0;
    // rewrite destination address and port; partial field: address update only
    dv.setUint32(16, newDst);
    dv.setUint16(s.hl + 2, newPort);
    dv.setUint16(s.hl + 16, updatePartialChecksum32(dv.getUint16(s.hl + 16), s.dst, newDst));
    assert.ok(finishPartialChecksum(p, 0, p.length, s.hl, 16));
    assert.equal(dv.getUint16(s.hl + 16), refL4Checksum(s.src, newDst, 6, p.subarray(s.hl), 16), `k=${k}`);
  }
});
