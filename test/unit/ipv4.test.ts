import test from 'node:test';
import assert from 'node:assert/strict';
import { checksum, fold16, sum16 } from '../../src/wire/checksum.js';
import {
  IPV4_HEADER_LEN, IpProto, Ipv4Check, IPV4_CHECK_NAMES, Ipv4View, writeIpv4Header, readU32, writeU32,
} from '../../src/wire/ipv4.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// A real header: UDP, 115 bytes, DF, TTL 64, 192.168.0.1 -> 192.168.0.199.
const CAPTURED = '4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7';

function fullChecksum(b: Uint8Array, off: number): number {
  const hl = (b[off] & 0xf) * 4;
  const c10 = b[off + 10], c11 = b[off + 11];
  b[off + 10] = 0; b[off + 11] = 0;
  const c = checksum(b, off, hl);
  b[off + 10] = c10; b[off + 11] = c11;
  return c;
}

test('constants', () => {
  assert.equal(IPV4_HEADER_LEN, 20);
  assert.deepEqual({ ...IpProto }, { ICMP: 1, TCP: 6, UDP: 17 });
  assert.deepEqual({ ...Ipv4Check }, {
    OK: 0, TRUNCATED: 1, BAD_VERSION: 2, BAD_IHL: 3, BAD_TOTAL_LENGTH: 4, BAD_CHECKSUM: 5,
  });
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.OK], 'ok');
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.TRUNCATED], 'truncated');
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.BAD_VERSION], 'bad-version');
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.BAD_IHL], 'bad-ihl');
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.BAD_TOTAL_LENGTH], 'bad-total-length');
  assert.equal(IPV4_CHECK_NAMES[Ipv4Check.BAD_CHECKSUM], 'bad-checksum');
  assert.equal(IPV4_CHECK_NAMES.length, 6);
});

test('parses a captured header (at a non-zero offset)', () => {
  const buf = new Uint8Array(7 + 115);
  buf.set(hex(CAPTURED), 7);
  const v = new Ipv4View().attach(buf, 7, 115);
  assert.equal(v.validate(), Ipv4Check.OK);
  assert.equal(v.version, 4);
  assert.equal(v.ihl, 5);
  assert.equal(v.headerLength, 20);
  assert.equal(v.tos, 0);
  assert.equal(v.totalLength, 115);
  assert.equal(v.identification, 0);
  assert.equal(v.dontFragment, true);
  assert.equal(v.moreFragments, false);
  assert.equal(v.fragmentOffset, 0);
  assert.equal(v.isFragment, false);
  assert.equal(v.ttl, 64);
  assert.equal(v.protocol, IpProto.UDP);
  assert.equal(v.headerChecksum, 0xb861);
  assert.equal(v.src, 0xc0a80001);
  assert.equal(v.dst, 0xc0a800c7);
  assert.ok(v.src > 0 && v.dst > 0, 'addresses are unsigned');
  assert.equal(v.payloadOffset, 27);
  assert.equal(v.payloadLength, 95);
});

test('writeIpv4Header reproduces the captured header byte for byte', () => {
  const b = new Uint8Array(25).fill(0xee);
  assert.equal(writeIpv4Header(b, 3, 115, IpProto.UDP, 0xc0a80001, 0xc0a800c7, 64, 0, 0, true), 20);
  assert.deepEqual(b.subarray(3, 23), hex(CAPTURED));
  assert.equal(b[2], 0xee); assert.equal(b[23], 0xee);
  // Signed address input, TOS, id.
  writeIpv4Header(b, 0, 20, 6, 0xc0a80001 | 0, -1, 1, 0xb8, 0xbeef);
  const v = new Ipv4View().attach(b, 0, 20);
  assert.equal(v.src, 0xc0a80001);
  assert.equal(v.dst, 0xffffffff);
  assert.equal(v.tos, 0xb8);
  assert.equal(v.identification, 0xbeef);
  assert.equal(v.dontFragment, false);
  assert.equal(v.validate(), Ipv4Check.OK);
});

test('fragment flags and offset', () => {
  const b = hex(CAPTURED);
  const v = new Ipv4View().attach(b, 0, 20);
  b[6] = 0x20; b[7] = 0x00; // MF, offset 0
  assert.equal(v.moreFragments, true); assert.equal(v.dontFragment, false);
  assert.equal(v.fragmentOffset, 0); assert.equal(v.isFragment, true);
  b[6] = 0x00; b[7] = 0xb9; // last fragment, offset 185 (1480 bytes)
  assert.equal(v.moreFragments, false); assert.equal(v.fragmentOffset, 185); assert.equal(v.isFragment, true);
  b[6] = 0x5f; b[7] = 0xff; // DF + 0x1fff (nonsense but decodable)
  assert.equal(v.dontFragment, true); assert.equal(v.fragmentOffset, 0x1fff); assert.equal(v.isFragment, true);
  b[6] = 0x40; b[7] = 0x00;
  assert.equal(v.isFragment, false);
});

test('validate: every failure code, in order', () => {
  const base = new Uint8Array(200);
  writeIpv4Header(base, 0, 100, 17, 0x0a000001, 0x0a000002, 64);
  const v = new Ipv4View();
  const fresh = () => Uint8Array.from(base);
  const fix = (b: Uint8Array) => { const c = fullChecksum(b, 0); b[10] = c >>> 8; b[11] = c & 0xff; };

  assert.equal(v.attach(fresh(), 0, 100).validate(), Ipv4Check.OK);
  // Trailing bytes beyond totalLength (link padding) are fine.
  assert.equal(v.attach(fresh(), 0, 200).validate(), Ipv4Check.OK);

  assert.equal(v.attach(fresh(), 0, 19).validate(), Ipv4Check.TRUNCATED);
  assert.equal(v.attach(fresh(), 0, 0).validate(), Ipv4Check.TRUNCATED);

  let b = fresh(); b[0] = 0x65; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_VERSION);
  // Version is checked before IHL.
  b = fresh(); b[0] = 0x64;
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_VERSION);

  b = fresh(); b[0] = 0x44; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_IHL, 'IHL < 5');
  b = fresh(); b[0] = 0x40;
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_IHL, 'IHL 0');
  b = fresh(); b[0] = 0x46; b[2] = 0; b[3] = 24; fix(b);
  assert.equal(v.attach(b, 0, 20).validate(), Ipv4Check.BAD_IHL, 'IHL*4 > captured length');
  assert.equal(v.attach(b, 0, 24).validate(), Ipv4Check.OK, 'same header with its option word present');

  b = fresh(); b[2] = 0; b[3] = 19; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_TOTAL_LENGTH, 'total < header');
  b = fresh(); b[2] = 0; b[3] = 101; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_TOTAL_LENGTH, 'total > captured');
  b = fresh(); b[0] = 0x46; b[2] = 0; b[3] = 22; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_TOTAL_LENGTH, 'total < IHL*4');
  b = fresh(); b[2] = 0; b[3] = 20; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.OK, 'header-only datagram');

  b = fresh(); b[11] ^= 1;
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_CHECKSUM);
  b = fresh(); b[8] = 63; // TTL changed without checksum update
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.BAD_CHECKSUM);
  // Options are covered by the checksum.
  b = fresh(); b[0] = 0x46; b[20] = 1; b[21] = 1; b[22] = 1; b[23] = 1; fix(b);
  assert.equal(v.attach(b, 0, 100).validate(), Ipv4Check.OK);
  b[22] = 0;
  assert.equal(v.validate(), Ipv4Check.BAD_CHECKSUM);
});

test('setters + fillChecksum', () => {
  const b = new Uint8Array(60);
  writeIpv4Header(b, 4, 40, 6, 1, 2, 64);
  const v = new Ipv4View().attach(b, 4, 56);
  v.ttl = 3; v.tos = 0x10; v.identification = 0xabcd; v.totalLength = 56;
  v.src = 0xfffffffe; v.dst = 0x80000001;
  assert.equal(v.validate(), Ipv4Check.BAD_CHECKSUM);
  v.fillChecksum();
  assert.equal(v.validate(), Ipv4Check.OK);
  assert.equal(v.ttl, 3); assert.equal(v.tos, 0x10); assert.equal(v.identification, 0xabcd);
  assert.equal(v.totalLength, 56); assert.equal(v.src, 0xfffffffe); assert.equal(v.dst, 0x80000001);
  assert.equal(v.payloadLength, 36);
  assert.equal(readU32(b, 4 + 12), 0xfffffffe);
  writeU32(b, 0, -2);
  assert.equal(readU32(b, 0), 0xfffffffe);
});

// Random header with IHL 5..15, random options, valid checksum.
function randomHeader(r: () => number, b: Uint8Array): number {
  const ihl = 5 + ((r() * 11) | 0);
  b[0] = 0x40 | ihl;
  for (let i = 1; i < ihl * 4; i++) b[i] = (r() * 256) | 0;
  b[2] = 0x05; // total length >= header
  const c = fullChecksum(b, 0);
  b[10] = c >>> 8; b[11] = c & 0xff;
  return ihl * 4;
}

// Choose identification so that the header checksum becomes `target`.
function forceChecksum(b: Uint8Array, target: number): void {
  const hl = (b[0] & 0xf) * 4;
  b[4] = 0; b[5] = 0; b[10] = 0; b[11] = 0;
  const s = fold16(sum16(b, 0, hl));
  const w = (((~target & 0xffff) - s) % 0xffff + 0xffff) % 0xffff;
  b[4] = w >>> 8; b[5] = w & 0xff;
  const c = checksum(b, 0, hl);
  b[10] = c >>> 8; b[11] = c & 0xff;
  assert.equal(c, target);
}

test('decrementTtl: incremental == full recompute over thousands of random headers (RFC 1624 edges)', () => {
  const r = rng(11);
  const b = new Uint8Array(1500);
  const v = new Ipv4View();
  let edgeBefore = 0, edgeAfter = 0;
  for (let n = 0; n < 30000; n++) {
    const hl = randomHeader(r, b);
    b[8] = 1 + ((r() * 255) | 0); // TTL 1..255
    const c0 = fullChecksum(b, 0); b[10] = c0 >>> 8; b[11] = c0 & 0xff;
    if (n % 5 === 1) { forceChecksum(b, 0x0000); edgeBefore++; }
    if (n % 5 === 2) {
      // Make the checksum AFTER the decrement 0x0000.
      b[8]--; forceChecksum(b, 0x0000); b[8]++;
      const c = fullChecksum(b, 0); b[10] = c >>> 8; b[11] = c & 0xff;
      edgeAfter++;
    }
    if (n % 5 === 3) {
      // ... or 0xfffe / 0x0001 neighbours.
      forceChecksum(b, r() < 0.5 ? 0xfffe : 0x0001);
    }
    v.attach(b, 0, 1500);
    assert.equal(checksum(b, 0, hl), 0);
    const ttl = v.ttl;
    assert.equal(v.decrementTtl(), ttl - 1);
    assert.equal(v.ttl, ttl - 1);
    assert.equal(v.headerChecksum, fullChecksum(b, 0), `n=${n}`);
    assert.equal(checksum(b, 0, hl), 0);
    if (n % 5 === 2) assert.equal(v.headerChecksum, 0);
  }
  assert.ok(edgeBefore > 5000 && edgeAfter > 5000);
});

test('decrementTtl walks a packet from TTL 255 to 0 with a valid checksum at every step', () => {
  const b = new Uint8Array(20);
  writeIpv4Header(b, 0, 20, 1, 0x0a000001, 0x0a000002, 255);
  const v = new Ipv4View().attach(b, 0, 20);
  for (let t = 254; t >= 0; t--) {
    assert.equal(v.decrementTtl(), t);
    assert.equal(v.validate(), Ipv4Check.OK);
    assert.equal(v.headerChecksum, fullChecksum(b, 0));
  }
  const before = Uint8Array.from(b);
  assert.equal(v.decrementTtl(), 0, 'TTL 0 is left alone');
  assert.deepEqual(b, before);
});

test('setSrcIncremental / setDstIncremental == full recompute', () => {
  const r = rng(12);
  const b = new Uint8Array(60);
  const v = new Ipv4View();
  for (let n = 0; n < 10000; n++) {
    randomHeader(r, b);
    if (n % 4 === 1) forceChecksum(b, 0);
    v.attach(b, 0, 60);
    const a = (r() * 2 ** 32) >>> 0;
    if (n & 1) { v.setSrcIncremental(a); assert.equal(v.src, a); } else { v.setDstIncremental(a | 0); assert.equal(v.dst, a); }
    assert.equal(v.headerChecksum, fullChecksum(b, 0));
  }
});
