import test from 'node:test';
import assert from 'node:assert/strict';
import { checksum } from '../../src/wire/checksum.js';
import { Ipv4Check, Ipv4View, IpProto, writeIpv4Header } from '../../src/wire/ipv4.js';
import {
  IcmpType, UnreachCode, ICMP_HEADER_LEN, IcmpView, isIcmpErrorType, buildIcmpError,
  echoRequestToReply, buildEchoRequest, icmpErrorAllowed,
} from '../../src/wire/icmp.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

const ROUTER = 0x0a000001; // 10.0.0.1
const HOST = 0xc0a80164; // 192.168.1.100
const FAR = 0xcb007105; // 203.0.113.5

/** A UDP datagram of `total` bytes at buf[off] with a recognisable payload. */
function udpPacket(buf: Uint8Array, off: number, total: number): number {
  for (let i = 28; i < total; i++) buf[off + i] = (i * 7 + 3) & 0xff;
  return buildUdpDatagram(buf, off, HOST, FAR, 40000, 33434, total - 28, 1);
}

/** Check the common layout of an ICMP error in out[0, n). */
function checkError(out: Uint8Array, n: number, type: number, code: number) {
  const ip = new Ipv4View().attach(out, 0, n);
  assert.equal(ip.validate(), Ipv4Check.OK);
  assert.equal(ip.totalLength, n);
  assert.equal(ip.protocol, IpProto.ICMP);
  assert.equal(ip.tos, 0xc0, 'RFC 1812 §4.3.2.5 precedence 6');
  assert.equal(ip.src, ROUTER);
  assert.equal(ip.dst, HOST);
  assert.equal(ip.headerLength, 20);
  assert.equal(ip.isFragment, false);
  assert.ok(n <= 576, 'RFC 1812 §4.3.2.3');
  const icmp = new IcmpView().attach(out, ip.payloadOffset, ip.payloadLength);
  assert.equal(icmp.type, type);
  assert.equal(icmp.code, code);
  assert.ok(icmp.checksumOk());
  assert.equal(checksum(out, 20, n - 20), 0);
  return { ip, icmp };
}

test('constants', () => {
  assert.deepEqual({ ...IcmpType }, {
    ECHO_REPLY: 0, DEST_UNREACHABLE: 3, REDIRECT: 5, ECHO_REQUEST: 8, TIME_EXCEEDED: 11, PARAMETER_PROBLEM: 12,
    TIMESTAMP_REQUEST: 13, TIMESTAMP_REPLY: 14, ADDRESS_MASK_REQUEST: 17, ADDRESS_MASK_REPLY: 18,
  });
  assert.deepEqual({ ...UnreachCode }, { NET: 0, HOST: 1, PROTOCOL: 2, PORT: 3, FRAG_NEEDED: 4, SOURCE_ROUTE_FAILED: 5, ADMIN_PROHIBITED: 13 });
  assert.equal(ICMP_HEADER_LEN, 8);
});

test('isIcmpErrorType is exactly {3,4,5,11,12}', () => {
  for (let t = 0; t < 256; t++) assert.equal(isIcmpErrorType(t), [3, 4, 5, 11, 12].includes(t), `type ${t}`);
});

test('time exceeded about a small datagram quotes all of it', () => {
  const orig = new Uint8Array(100);
  udpPacket(orig, 0, 100);
  const out = new Uint8Array(1000).fill(0xaa);
  const n = buildIcmpError(out, 0, IcmpType.TIME_EXCEEDED, 0, 0, ROUTER, orig, 0, 100);
  assert.equal(n, 20 + 8 + 100);
  const { ip, icmp } = checkError(out, n, 11, 0);
  assert.equal(ip.ttl, 64);
  assert.equal(icmp.restOfHeader, 0);
  assert.deepEqual(out.subarray(28, 128), orig, 'quoted datagram byte for byte');
  assert.equal(out[128], 0xaa, 'nothing written past the end');
});

test('a large datagram is cut so the error is exactly 576 bytes', () => {
  const orig = new Uint8Array(1500);
  udpPacket(orig, 0, 1500);
  const out = new Uint8Array(2000);
  const n = buildIcmpError(out, 0, IcmpType.DEST_UNREACHABLE, UnreachCode.HOST, 0, ROUTER, orig, 0, 1500, 255);
  assert.equal(n, 576);
  const { ip } = checkError(out, n, 3, 1);
  assert.equal(ip.ttl, 255);
  assert.deepEqual(out.subarray(28, 576), orig.subarray(0, 548));
  // The quoted header is untouched: its own checksum still verifies.
  assert.equal(new Ipv4View().attach(out, 28, 548).headerChecksum, new Ipv4View().attach(orig, 0, 1500).headerChecksum);
  assert.equal(checksum(out, 28, 20), 0);
});

test('FRAG_NEEDED carries the next-hop MTU in the low 16 bits (RFC 1191)', () => {
  const orig = new Uint8Array(1500);
  udpPacket(orig, 0, 1500);
  const out = new Uint8Array(600);
  const n = buildIcmpError(out, 0, IcmpType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, 1400, ROUTER, orig, 0, 1500);
  const { icmp } = checkError(out, n, 3, 4);
  assert.equal(icmp.nextHopMtu, 1400);
  assert.equal(out[24], 0); assert.equal(out[25], 0); // unused high half
  assert.equal(out[26], 1400 >> 8); assert.equal(out[27], 1400 & 0xff);
});

test('PARAMETER_PROBLEM pointer goes in the top byte', () => {
  const orig = new Uint8Array(64);
  udpPacket(orig, 0, 64);
  const out = new Uint8Array(200);
  const n = buildIcmpError(out, 0, IcmpType.PARAMETER_PROBLEM, 0, (9 << 24) >>> 0, ROUTER, orig, 0, 64);
  const { icmp } = checkError(out, n, 12, 0);
  assert.equal(out[24], 9);
  assert.equal(icmp.restOfHeader, 0x09000000);
});

test('quote is bounded by totalLength (padding dropped) and by origLen (truncated capture)', () => {
  const orig = new Uint8Array(300).fill(0x55);
  udpPacket(orig, 10, 60);
  const out = new Uint8Array(700);
  let n = buildIcmpError(out, 0, 3, 3, 0, ROUTER, orig, 10, 290);
  assert.equal(n, 28 + 60, 'link padding after totalLength is not quoted');
  checkError(out, n, 3, 3);
  assert.deepEqual(out.subarray(28, 88), orig.subarray(10, 70));
  // Capture shorter than totalLength: quote what was captured.
  const big = new Uint8Array(1000);
  udpPacket(big, 0, 1000);
  n = buildIcmpError(out, 0, 11, 0, 0, ROUTER, big, 0, 40);
  assert.equal(n, 28 + 40);
  checkError(out, n, 11, 0);
  assert.equal(buildIcmpError(out, 0, 11, 0, 0, ROUTER, big, 0, 19), -1, 'no IP header to quote');
});

test('original with 40 bytes of options: header + 8 always quoted; output space limits', () => {
  const orig = new Uint8Array(600);
  for (let i = 60; i < 600; i++) orig[i] = i & 0xff;
  writeIpv4Header(orig, 0, 600, 17, HOST, FAR, 9);
  orig[0] = 0x4f; // IHL 15
  for (let i = 20; i < 60; i++) orig[i] = 1; // NOPs
  const v = new Ipv4View().attach(orig, 0, 600);
  v.fillChecksum();
  assert.equal(v.validate(), Ipv4Check.OK);
  let out = new Uint8Array(1000);
  let n = buildIcmpError(out, 0, 11, 0, 0, ROUTER, orig, 0, 600);
  assert.equal(n, 576);
  checkError(out, n, 11, 0);
  // Room for exactly header + 8 quoted bytes: accepted, minimum quote.
  out = new Uint8Array(5 + 28 + 68);
  n = buildIcmpError(out, 5, 11, 0, 0, ROUTER, orig, 0, 600);
  assert.equal(n, 28 + 68);
  assert.deepEqual(out.subarray(5 + 28), orig.subarray(0, 68));
  const ip = new Ipv4View().attach(out, 5, n);
  assert.equal(ip.validate(), Ipv4Check.OK);
  assert.equal(checksum(out, 25, n - 20), 0);
  // One byte less: refused.
  out = new Uint8Array(28 + 67);
  assert.equal(buildIcmpError(out, 0, 11, 0, 0, ROUTER, orig, 0, 600), -1);
});

test('building in place over the original (same buffer, overlapping) gives the same bytes', () => {
  const ref = new Uint8Array(2000);
  const base = new Uint8Array(1500);
  udpPacket(base, 0, 1500);
  const nRef = buildIcmpError(ref, 0, 11, 0, 0, ROUTER, base, 0, 1500);
  for (const [origOff, outOff] of [[0, 0], [100, 0], [0, 100], [28, 0], [0, 28], [3, 5]]) {
    const buf = new Uint8Array(2000);
    buf.set(base, origOff);
    const n = buildIcmpError(buf, outOff, 11, 0, 0, ROUTER, buf, origOff, 1500);
    assert.equal(n, nRef);
    assert.deepEqual(buf.subarray(outOff, outOff + n), ref.subarray(0, nRef), `orig@${origOff} out@${outOff}`);
  }
  // Distinct views of one ArrayBuffer.
  const ab = new ArrayBuffer(2000);
  const a = new Uint8Array(ab, 0, 1600), b = new Uint8Array(ab, 40, 1900);
  a.set(base, 0);
  const n = buildIcmpError(b, 0, 11, 0, 0, ROUTER, a, 0, 1500);
  assert.deepEqual(b.subarray(0, n), ref.subarray(0, nRef));
});

test('icmpErrorAllowed (RFC 1812 §4.3.2.7)', () => {
  const b = new Uint8Array(100);
  const mk = (src: number, dst: number, proto = 17) => {
    writeIpv4Header(b, 0, 100, proto, src, dst, 5);
    return b;
  };
  assert.equal(icmpErrorAllowed(mk(HOST, FAR), 0, 100), true);
  assert.equal(icmpErrorAllowed(mk(0x00000000, FAR), 0, 100), false, 'unspecified source');
  assert.equal(icmpErrorAllowed(mk(0x7f000001, FAR), 0, 100), false, 'loopback source');
  assert.equal(icmpErrorAllowed(mk(0xe0000005, FAR), 0, 100), false, 'multicast source');
  assert.equal(icmpErrorAllowed(mk(0xf0000001, FAR), 0, 100), false, 'class E source');
  assert.equal(icmpErrorAllowed(mk(0xffffffff, FAR), 0, 100), false, 'broadcast source');
  assert.equal(icmpErrorAllowed(mk(HOST, 0xe0000005), 0, 100), false, 'multicast destination');
  assert.equal(icmpErrorAllowed(mk(HOST, 0xffffffff), 0, 100), false, 'limited broadcast');
  mk(HOST, FAR); b[6] = 0x20; // first fragment (MF, offset 0): allowed
  assert.equal(icmpErrorAllowed(b, 0, 100), true);
  b[6] = 0x00; b[7] = 0x10; // non-initial fragment
  assert.equal(icmpErrorAllowed(b, 0, 100), false);
  mk(HOST, FAR, 1); b[20] = IcmpType.ECHO_REQUEST;
  assert.equal(icmpErrorAllowed(b, 0, 100), true, 'ICMP query');
  for (const t of [3, 4, 5, 11, 12]) {
    b[20] = t;
    assert.equal(icmpErrorAllowed(b, 0, 100), false, `ICMP error type ${t}`);
  }
  assert.equal(icmpErrorAllowed(b, 0, 19), false);
});

test('buildEchoRequest layout', () => {
  const out = new Uint8Array(200).fill(0xcc);
  const n = buildEchoRequest(out, 2, HOST, ROUTER, 0x1234, 0xfedc, 56, 17);
  assert.equal(n, 84);
  const ip = new Ipv4View().attach(out, 2, n);
  assert.equal(ip.validate(), Ipv4Check.OK);
  assert.equal(ip.totalLength, 84); assert.equal(ip.protocol, 1); assert.equal(ip.ttl, 17);
  assert.equal(ip.src, HOST); assert.equal(ip.dst, ROUTER);
  const icmp = new IcmpView().attach(out, ip.payloadOffset, ip.payloadLength);
  assert.equal(icmp.type, 8); assert.equal(icmp.code, 0);
  assert.equal(icmp.identifier, 0x1234); assert.equal(icmp.sequence, 0xfedc);
  assert.ok(icmp.checksumOk());
  for (let i = 0; i < 56; i++) assert.equal(out[2 + 28 + i], i & 0xff);
  assert.equal(out[86], 0xcc);
});

test('echoRequestToReply converts in place; checksums equal a full recompute', () => {
  const r = rng(21);
  const buf = new Uint8Array(2000);
  for (let k = 0; k < 3000; k++) {
    const id = (r() * 65536) | 0, seq = (r() * 65536) | 0, plen = (r() * 1400) | 0;
    const off = (r() * 50) | 0;
    const n = buildEchoRequest(buf, off, HOST, ROUTER, id, seq, plen, 1 + ((r() * 255) | 0));
    if (k % 3 === 0) { // random payload too
      for (let i = 0; i < plen; i++) buf[off + 28 + i] = (r() * 256) | 0;
      buf[off + 22] = 0; buf[off + 23] = 0;
      const c = checksum(buf, off + 20, n - 20); buf[off + 22] = c >>> 8; buf[off + 23] = c & 0xff;
    }
    const payload = Uint8Array.from(buf.subarray(off + 24, off + n));
    const ctype = checksum(buf, off + 20, n - 20);
    assert.equal(ctype, 0);
    assert.equal(echoRequestToReply(buf, off, n + 3, 0x0a0000fe), true);
    const ip = new Ipv4View().attach(buf, off, n);
    assert.equal(ip.validate(), Ipv4Check.OK);
    assert.equal(ip.src, 0x0a0000fe); assert.equal(ip.dst, HOST); assert.equal(ip.ttl, 64);
    assert.equal(ip.totalLength, n);
    const icmp = new IcmpView().attach(buf, off + 20, n - 20);
    assert.equal(icmp.type, 0); assert.equal(icmp.code, 0);
    assert.equal(icmp.identifier, id); assert.equal(icmp.sequence, seq);
    assert.deepEqual(buf.subarray(off + 24, off + n), payload, 'id, seq and payload echoed');
    assert.ok(icmp.checksumOk());
    const inc = icmp.checksum;
    buf[off + 22] = 0; buf[off + 23] = 0;
    const full = checksum(buf, off + 20, n - 20);
    assert.equal(inc, full);
  }
});

test('echoRequestToReply: an all-zero echo (identifier, sequence 0, no data) gets checksum 0xffff, not 0x0000 (RFC 1624 eqn. 3 alone gives 0, which no receiver accepts)', () => {
  for (const plen of [0, 6, 64]) {
    const buf = new Uint8Array(28 + plen);
    const n = buildEchoRequest(buf, 0, HOST, ROUTER, 0, 0, plen);
    buf.fill(0, 28);
    buf[22] = 0; buf[23] = 0;
    const c = checksum(buf, 20, n - 20); buf[22] = c >>> 8; buf[23] = c & 0xff;
    assert.equal(c, 0xf7ff);
    assert.equal(echoRequestToReply(buf, 0, n, ROUTER), true);
    const icmp = new IcmpView().attach(buf, 20, n - 20);
    assert.equal(icmp.type, 0);
    assert.equal(icmp.checksum, 0xffff, `${plen} bytes of zeros`);
    assert.ok(icmp.checksumOk());
  }
});

test('echoRequestToReply with IP options keeps them and fixes both checksums', () => {
  const buf = new Uint8Array(200);
  // Header with 4 option bytes (NOPs) then ICMP echo request.
  const n0 = buildEchoRequest(buf, 4, HOST, ROUTER, 7, 9, 32);
  buf.copyWithin(4 + 24, 4 + 20, 4 + n0);
  buf[4 + 20] = 1; buf[4 + 21] = 1; buf[4 + 22] = 1; buf[4 + 23] = 1;
  buf[4] = 0x46;
  const ip = new Ipv4View().attach(buf, 4, n0 + 4);
  ip.totalLength = n0 + 4;
  ip.fillChecksum();
  assert.equal(ip.validate(), Ipv4Check.OK);
  assert.equal(echoRequestToReply(buf, 4, n0 + 4, ROUTER), true);
  assert.equal(ip.validate(), Ipv4Check.OK);
  assert.equal(buf[4 + 24], 0);
  assert.deepEqual([...buf.subarray(24, 28)], [1, 1, 1, 1]);
  assert.ok(new IcmpView().attach(buf, 4 + 24, n0 - 20).checksumOk());
  assert.equal(ip.dst, HOST);
});

test('echoRequestToReply refuses non-requests and leaves the buffer untouched', () => {
  const buf = new Uint8Array(200);
  const cases: [string, (b: Uint8Array, n: number) => number][] = [
    ['echo reply', (b, n) => { b[20] = 0; b[22] = 0; b[23] = 0; const c = checksum(b, 20, n - 20); b[22] = c >>> 8; b[23] = c & 0xff; return n; }],
    ['bad ICMP checksum', (b, n) => { b[30] ^= 0x40; return n; }],
    ['too short: total < hdr + 8', (b) => { b[3] = 27; const v = new Ipv4View().attach(b, 0, 200); v.fillChecksum(); return 200; }],
    ['captured shorter than totalLength', (_b, n) => n - 1],
    ['fragment (MF)', (b, n) => { b[6] = 0x20; new Ipv4View().attach(b, 0, n).fillChecksum(); return n; }],
    ['fragment (offset)', (b, n) => { b[7] = 0x01; new Ipv4View().attach(b, 0, n).fillChecksum(); return n; }],
    ['not ICMP', (b, n) => { b[9] = 17; new Ipv4View().attach(b, 0, n).fillChecksum(); return n; }],
    ['timestamp request', (b, n) => { b[20] = 13; b[22] = 0; b[23] = 0; const c = checksum(b, 20, n - 20); b[22] = c >>> 8; b[23] = c & 0xff; return n; }],
  ];
  for (const [name, mutate] of cases) {
    buf.fill(0);
    const n = buildEchoRequest(buf, 0, HOST, ROUTER, 1, 2, 40);
    const len = mutate(buf, n);
    const before = Uint8Array.from(buf);
    assert.equal(echoRequestToReply(buf, 0, len, ROUTER), false, name);
    assert.deepEqual(buf, before, `${name}: unchanged`);
  }
  assert.equal(echoRequestToReply(buf, 0, 10, ROUTER), false);
});
