import test from 'node:test';
import assert from 'node:assert/strict';
import { checksum } from '../../src/wire/checksum.js';
import { Ipv4Check, Ipv4View, writeIpv4Header } from '../../src/wire/ipv4.js';
import { UDP_HEADER_LEN, UdpView, writeUdpHeader, buildUdpDatagram } from '../../src/wire/udp.js';
import { TcpFlag, TcpView, l4ChecksumOffset } from '../../src/wire/tcp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

// Independent reference: concatenate a literal pseudo-header and the
// segment, then a naive RFC 1071 sum.
function refL4Checksum(src: number, dst: number, proto: number, seg: Uint8Array, csumAt: number): number {
  const b = new Uint8Array(12 + seg.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, src >>> 0); dv.setUint32(4, dst >>> 0); b[9] = proto; dv.setUint16(10, seg.length);
  b.set(seg, 12);
  b[12 + csumAt] = 0; b[12 + csumAt + 1] = 0;
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += b[i] * 256 + (i + 1 < b.length ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

const A = 0xc0a80001, B = 0x08080808;

test('UDP: buildUdpDatagram writes correct headers and checksum', () => {
  const r = rng(31);
  for (let k = 0; k < 500; k++) {
    const plen = (r() * 1472) | 0;
    const off = (r() * 9) | 0;
    const buf = new Uint8Array(off + 28 + plen + 4);
    for (let i = 0; i < plen; i++) buf[off + 28 + i] = (r() * 256) | 0;
    const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
    const n = buildUdpDatagram(buf, off, src, dst, 5353, 53, plen, 33, 0x28, k % 2 === 0);
    assert.equal(n, 28 + plen);
    const ip = new Ipv4View().attach(buf, off, n);
    assert.equal(ip.validate(), Ipv4Check.OK);
    assert.equal(ip.protocol, 17); assert.equal(ip.ttl, 33); assert.equal(ip.tos, 0x28);
    assert.equal(ip.dontFragment, k % 2 === 0);
    assert.equal(ip.src, src); assert.equal(ip.dst, dst);
    const u = new UdpView().attach(buf, ip.payloadOffset, ip.payloadLength);
    assert.equal(u.srcPort, 5353); assert.equal(u.dstPort, 53);
    assert.equal(u.length, 8 + plen);
    assert.equal(u.checksumOffset, off + 26);
    let ref = refL4Checksum(src, dst, 17, buf.slice(off + 20, off + n), 6);
    if (ref === 0) ref = 0xffff;
    assert.equal(u.checksum, ref);
    assert.ok(u.checksumOk(src, dst));
    assert.equal(u.checksumOk(src ^ 1, dst), false, 'pseudo-header covered');
    if (plen > 0) {
      buf[off + 28] ^= 0x01;
      assert.equal(u.checksumOk(src, dst), false, 'payload covered');
    }
  }
  assert.equal(UDP_HEADER_LEN, 8);
});

test('UDP: a computed zero is sent as 0xffff; a zero field means "no checksum"', () => {
  const buf = new Uint8Array(40);
  buf[28] = 0; buf[29] = 0;
  writeUdpHeader(buf, 20, 1000, 2000, 2, A, B);
  const c0 = (buf[26] << 8) | buf[27];
  // Choose the payload word that makes the computed checksum 0.
  buf[28] = c0 >>> 8; buf[29] = c0 & 0xff;
  assert.equal(writeUdpHeader(buf, 20, 1000, 2000, 2, A, B), 8);
  const u = new UdpView().attach(buf, 20, 10);
  assert.equal(u.checksum, 0xffff);
  assert.ok(u.checksumOk(A, B));
  // No checksum: accepted whatever the data.
  buf[26] = 0; buf[27] = 0; buf[29] ^= 0x55;
  assert.ok(u.checksumOk(A, B));
  // Port rewrite keeps "no checksum".
  u.setSrcPortIncremental(4444);
  assert.equal(u.srcPort, 4444); assert.equal(u.checksum, 0);
  u.adjustForAddressChange(A, 0x0a000001);
  assert.equal(u.checksum, 0);
});

test('UDP: checksumOk rejects bad length fields', () => {
  const buf = new Uint8Array(60);
  buildUdpDatagram(buf, 0, A, B, 1, 2, 12, 64);
  const u = new UdpView().attach(buf, 20, 20);
  assert.ok(u.checksumOk(A, B));
  u.attach(buf, 20, 19);
  assert.equal(u.checksumOk(A, B), false, 'length beyond captured bytes');
  buf[24] = 0; buf[25] = 7;
  u.attach(buf, 20, 20);
  assert.equal(u.checksumOk(A, B), false, 'length < 8');
});

test('UDP: incremental port and address rewrites == full recompute', () => {
  const r = rng(32);
  const buf = new Uint8Array(600);
  const u = new UdpView(), ip = new Ipv4View();
  for (let k = 0; k < 5000; k++) {
    const plen = (r() * 500) | 0;
    for (let i = 0; i < plen; i++) buf[28 + i] = (r() * 256) | 0;
    const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
    const n = buildUdpDatagram(buf, 0, src, dst, (r() * 65536) | 0, (r() * 65536) | 0, plen, 64);
    u.attach(buf, 20, n - 20);
    ip.attach(buf, 0, n);
    const p = (r() * 65536) | 0;
    let s2 = src, d2 = dst;
    switch (k % 4) {
      case 0: u.setSrcPortIncremental(p); assert.equal(u.srcPort, p); break;
      case 1: u.setDstPortIncremental(p); assert.equal(u.dstPort, p); break;
      case 2: s2 = (r() * 2 ** 32) >>> 0; ip.setSrcIncremental(s2); u.adjustForAddressChange(src, s2); break;
      case 3: d2 = (r() * 2 ** 32) >>> 0; ip.setDstIncremental(d2); u.adjustForAddressChange(dst, d2); break;
    }
    assert.equal(ip.validate(), Ipv4Check.OK);
    let ref = refL4Checksum(s2, d2, 17, buf.slice(20, n), 6);
    if (ref === 0) ref = 0xffff;
    assert.equal(u.checksum, ref, `k=${k}`);
    assert.ok(u.checksumOk(s2, d2));
  }
});

/** A TCP segment (SYN+ACK with MSS option and some data) at buf[off]. */
function tcpSegment(buf: Uint8Array, off: number, src: number, dst: number, data: number, r: () => number): number {
  const hl = 24;
  const v = new DataView(buf.buffer, buf.byteOffset);
  v.setUint16(off, 443); v.setUint16(off + 2, 51515);
  v.setUint32(off + 4, 0xfedcba98); v.setUint32(off + 8, 0x80000001);
  buf[off + 12] = (hl / 4) << 4; buf[off + 13] = TcpFlag.SYN | TcpFlag.ACK;
  v.setUint16(off + 14, 65535); v.setUint16(off + 16, 0); v.setUint16(off + 18, 0);
  buf[off + 20] = 2; buf[off + 21] = 4; v.setUint16(off + 22, 1460);
  for (let i = 0; i < data; i++) buf[off + hl + i] = (r() * 256) | 0;
  const seg = hl + data;
  const c = refL4Checksum(src, dst, 6, buf.slice(off, off + seg), 16);
  v.setUint16(off + 16, c);
  return seg;
}

test('TCP: fields and checksum against an independent computation', () => {
  const r = rng(41);
  const buf = new Uint8Array(2000);
  const t = new TcpView();
  for (let k = 0; k < 500; k++) {
    const data = (r() * 1400) | 0;
    const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
    const seg = tcpSegment(buf, 40, src, dst, data, r);
    t.attach(buf, 40, seg);
    assert.equal(t.srcPort, 443); assert.equal(t.dstPort, 51515);
    assert.equal(t.seq, 0xfedcba98); assert.equal(t.ack, 0x80000001);
    assert.equal(t.dataOffset, 6); assert.equal(t.headerLength, 24);
    assert.equal(t.flags, TcpFlag.SYN | TcpFlag.ACK);
    assert.equal(t.window, 65535);
    assert.equal(t.checksumOffset, 56);
    assert.ok(t.checksumOk(src, dst, seg));
    assert.equal(t.checksumOk(src, dst ^ 0x100, seg), false);
    assert.equal(t.checksumOk(src, dst, seg + 1), false, 'beyond captured bytes');
    assert.equal(t.checksumOk(src, dst, 19), false);
    buf[40 + seg - 1] ^= 0x80;
    assert.equal(t.checksumOk(src, dst, seg), false);
  }
  assert.deepEqual({ ...TcpFlag }, { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 });
});

test('TCP: incremental port and address rewrites == full recompute', () => {
  const r = rng(42);
  const buf = new Uint8Array(2000);
  const t = new TcpView();
  for (let k = 0; k < 5000; k++) {
    const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
    const seg = tcpSegment(buf, 20, src, dst, (r() * 300) | 0, r);
    writeIpv4Header(buf, 0, 20 + seg, 6, src, dst, 64);
    t.attach(buf, 20, seg);
    const p = (r() * 65536) | 0;
    let s2 = src, d2 = dst;
    switch (k % 4) {
      case 0: t.setSrcPortIncremental(p); assert.equal(t.srcPort, p); break;
      case 1: t.setDstPortIncremental(p); assert.equal(t.dstPort, p); break;
      case 2: s2 = (r() * 2 ** 32) >>> 0; t.adjustForAddressChange(src, s2); break;
      case 3: d2 = (r() * 2 ** 32) >>> 0; t.adjustForAddressChange(dst, d2); break;
    }
    assert.equal(t.checksum, refL4Checksum(s2, d2, 6, buf.slice(20, 20 + seg), 16), `k=${k}`);
    assert.ok(t.checksumOk(s2, d2, seg));
  }
});

test('l4ChecksumOffset', () => {
  assert.equal(l4ChecksumOffset(6), 16);
  assert.equal(l4ChecksumOffset(17), 6);
  assert.equal(l4ChecksumOffset(1), -1);
  assert.equal(l4ChecksumOffset(47), -1);
  // And it points at the checksum: full recompute over the segment gives 0.
  const buf = new Uint8Array(100);
  buildUdpDatagram(buf, 0, A, B, 7, 9, 10, 64);
  const at = 20 + l4ChecksumOffset(17);
  assert.equal((buf[at] << 8) | buf[at + 1], new UdpView().attach(buf, 20, 18).checksum);
  assert.equal(checksum(buf, 20, 18, 0) !== 0, true); // without pseudo-header it does not verify
});
