// OSPFv2 packets and LSAs (RFC 2328 A.3, A.4): captured packets byte for
// byte, the Fletcher checksum, writers that reproduce what BIRD and FRR
// send, and every validation failure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import {
  INITIAL_SEQUENCE, LSA_HEADER_LEN, LinkType, LsaCheck, LsaType, LsaView, MAX_AGE, compareInstances, fillLsaChecksum, lsaChecksumOk,
  routerLsaLength, writeExternalBody, writeLsaHeader, writeRouterBody,
} from '../../src/wire/ospf-lsa.js';
import {
  ALL_SPF_ROUTERS, AuType, DdFlag, OSPF_HEADER_LEN, OSPF_PROTOCOL, OspfCheck, OspfType, OspfView, finishPacket, writeDdFixed, writeHelloBody,
  writeOspfHeader,
} from '../../src/wire/ospf.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Hellos BIRD 2.0.12 and FRR 8.4 ospfd sent on a TUN link in the test lab (router id 10.9.9.2,
// point-to-point, hello 1 s, dead 4 s), read from the TUN device: the same OSPF bytes from both.
const BIRD_HELLO = hex('45c0004070f50000015954a00a090902e0000005' + '0201002c0a09090200000000e8c400000000000000000000fffffffc00010201000000040000000000000000');
const FRR_HELLO = hex('45c00040e6b400000159dee00a090902e0000005' + '0201002c0a09090200000000e8c400000000000000000000fffffffc00010201000000040000000000000000');
// A Link State Update with one router LSA (area 0.0.0.1, router 192.168.170.8, a stub network), as captured on an Ethernet segment.
const LSU = hex('0204 0040 c0a8aa08 00000001 961f 0000 0000000000000000 00000001' +
  '03e2 02 01 c0a8aa08 c0a8aa08 80000dc3 2506 0024 0200 0001 c0a8aa00 ffffff00 03 00 000a');

test('BIRD\'s and FRR\'s Hellos, as captured: fields, checksum, and our writer makes the same bytes', () => {
  for (const d of [BIRD_HELLO, FRR_HELLO]) {
    const ip = new Ipv4View().attach(d, 0, d.length);
    assert.equal(ip.protocol, OSPF_PROTOCOL);
    assert.equal(ip.dst, ALL_SPF_ROUTERS);
    assert.equal(ip.ttl, 1);
    const p = new OspfView().attach(d, ip.payloadOffset, ip.payloadLength);
    assert.equal(p.validate(), OspfCheck.OK);
    assert.equal(p.checksumOk(), true);
    assert.deepEqual([p.type, p.length, p.routerId, p.areaId, p.auType], [OspfType.HELLO, 44, A('10.9.9.2'), 0, AuType.NULL]);
    assert.deepEqual([p.helloMask, p.helloInterval, p.helloOptions, p.priority, p.deadInterval, p.designatedRouter, p.backupDesignatedRouter, p.neighbourCount],
      [A('255.255.255.252'), 1, 0x02, 1, 4, 0, 0, 0]);
    const mine = new Uint8Array(44);
    writeOspfHeader(mine, 0, OspfType.HELLO, A('10.9.9.2'), 0);
    const body = writeHelloBody(mine, 0, { mask: A('255.255.255.252'), helloInterval: 1, options: 0x02, priority: 1, deadInterval: 4, dr: 0, bdr: 0 }, []);
    finishPacket(mine, 0, OSPF_HEADER_LEN + body, AuType.NULL);
    assert.equal(toHex(mine), toHex(d.subarray(20)));
  }
});

test('a captured update: its router LSA\'s fields and Fletcher checksum; the checksum recomputed is the same', () => {
  const p = new OspfView().attach(LSU, 0, LSU.length);
  assert.equal(p.validate(), OspfCheck.OK);
  assert.equal(p.checksumOk(), true);
  assert.equal(p.lsaCount, 1);
  const l = new LsaView().attach(LSU, p.firstLsaOffset, LSU.length - p.firstLsaOffset);
  assert.equal(l.validate(), LsaCheck.OK);
  assert.deepEqual([l.age, l.options, l.type, l.id, l.advRouter, l.sequence, l.checksum, l.length],
    [994, 0x02, LsaType.ROUTER, A('192.168.170.8'), A('192.168.170.8'), 0x80000dc3 | 0, 0x2506, 36]);
  assert.deepEqual([l.routerFlags, l.linkCount], [0x02, 1]);
  const at = l.firstLink;
  assert.deepEqual([l.linkId(at), l.linkData(at), l.linkType(at), l.linkMetric(at)], [A('192.168.170.0'), A('255.255.255.0'), LinkType.STUB, 10]);
  const copy = LSU.slice(p.firstLsaOffset, p.firstLsaOffset + 36);
  assert.equal(fillLsaChecksum(copy, 0, 36), 0x2506);
  // The age is not covered; any other byte is.
  copy[0] = 0;
  assert.equal(lsaChecksumOk(copy, 0, 36), true);
  copy[30] ^= 1;
  assert.equal(lsaChecksumOk(copy, 0, 36), false);
  assert.equal(new LsaView().attach(copy, 0, 36).validate(), LsaCheck.BAD_CHECKSUM);
});

test('writers: a router LSA and an external LSA check out; bad shapes are refused', () => {
  const len = routerLsaLength(2);
  const b = new Uint8Array(len);
  writeLsaHeader(b, 0, 0, 0x02, LsaType.ROUTER, A('1.1.1.1'), A('1.1.1.1'), INITIAL_SEQUENCE, len);
  writeRouterBody(b, 0, 0x02, [
    { id: A('2.2.2.2'), data: A('10.0.12.1'), type: LinkType.POINT_TO_POINT, metric: 10 },
    { id: A('10.0.12.0'), data: A('255.255.255.252'), type: LinkType.STUB, metric: 10 },
  ]);
  fillLsaChecksum(b, 0, len);
  const v = new LsaView().attach(b, 0, len);
  assert.equal(v.validate(), LsaCheck.OK);
  assert.equal(v.sequence, INITIAL_SEQUENCE);
  // A link count that does not fill the body exactly.
  const short = b.slice();
  short[23] = 3;
  fillLsaChecksum(short, 0, len);
  assert.equal(new LsaView().attach(short, 0, len).validate(), LsaCheck.BAD_LENGTH);
  const ext = new Uint8Array(LSA_HEADER_LEN + 16);
  writeLsaHeader(ext, 0, 0, 0x02, LsaType.AS_EXTERNAL, A('1.1.1.1'), A('2.2.2.2'), INITIAL_SEQUENCE, ext.length);
  writeExternalBody(ext, 0, A('255.255.255.255'), true, 5, 0, 0);
  fillLsaChecksum(ext, 0, ext.length);
  const e = new LsaView().attach(ext, 0, ext.length);
  assert.deepEqual([e.validate(), e.mask, e.externalType2, e.metric, e.forwardingAddress], [LsaCheck.OK, 0xffffffff, true, 5, 0]);
  const bad = (mutate: (x: Uint8Array) => void) => {
    const x = ext.slice();
    mutate(x);
    fillLsaChecksum(x, 0, x.length);
    return new LsaView().attach(x, 0, x.length).validate();
  };
  assert.equal(bad((x) => { x[3] = 9; }), LsaCheck.BAD_TYPE);
  assert.equal(bad((x) => { x[0] = 0x0e; x[1] = 0x11; }), LsaCheck.BAD_AGE);
  assert.equal(bad((x) => { x.set([0x80, 0, 0, 0], 12); }), LsaCheck.BAD_SEQUENCE);
  assert.equal(new LsaView().attach(ext, 0, 30).validate(), LsaCheck.TRUNCATED);
});

test('§13.1: newer by sequence, then checksum, then MaxAge, then an age difference over 15 minutes', () => {
  assert.ok(compareInstances(2, 0, 0, 1, 0, 0) > 0);
  assert.ok(compareInstances(-5, 0, 0, 1, 0, 0) < 0, 'sequence numbers are signed');
  assert.ok(compareInstances(1, 9, 0, 1, 8, 0) > 0);
  assert.ok(compareInstances(1, 8, MAX_AGE, 1, 8, 10) > 0);
  assert.ok(compareInstances(1, 8, 10, 1, 8, 1000) > 0);
  assert.equal(compareInstances(1, 8, 10, 1, 8, 800), 0);
});

test('packet checks: truncated, version, type, length, body shapes; the header checksum', () => {
  const mk = (type: number, bodyLen: number) => {
    const b = new Uint8Array(OSPF_HEADER_LEN + bodyLen);
    writeOspfHeader(b, 0, type, A('1.1.1.1'), 0);
    finishPacket(b, 0, b.length, AuType.NULL);
    return b;
  };
  const check = (b: Uint8Array, len = b.length) => new OspfView().attach(b, 0, len).validate();
  assert.equal(check(mk(OspfType.HELLO, 20)), OspfCheck.OK);
  assert.equal(check(mk(OspfType.HELLO, 20), 10), OspfCheck.TRUNCATED);
  assert.equal(check(mk(OspfType.HELLO, 22)), OspfCheck.BAD_LENGTH);
  assert.equal(check(mk(OspfType.DD, 8 + 19)), OspfCheck.BAD_LENGTH);
  assert.equal(check(mk(OspfType.LSR, 11)), OspfCheck.BAD_LENGTH);
  assert.equal(check(mk(OspfType.LSU, 2)), OspfCheck.BAD_LENGTH);
  assert.equal(check(mk(OspfType.LSACK, 21)), OspfCheck.BAD_LENGTH);
  const v3 = mk(OspfType.HELLO, 20);
  v3[0] = 3;
  assert.equal(check(v3), OspfCheck.BAD_VERSION);
  assert.equal(check(mk(6, 0)), OspfCheck.BAD_TYPE);
  const longer = mk(OspfType.LSACK, 0);
  longer[3] = 60;
  assert.equal(check(longer), OspfCheck.BAD_LENGTH);
  const dd = mk(OspfType.DD, 8);
  writeDdFixed(dd, 0, 1500, 0x02, DdFlag.I | DdFlag.M | DdFlag.MS, 77);
  finishPacket(dd, 0, dd.length, AuType.NULL);
  const v = new OspfView().attach(dd, 0, dd.length);
  assert.deepEqual([v.validate(), v.checksumOk(), v.ddMtu, v.ddFlags, v.ddSequence, v.ddHeaderCount], [OspfCheck.OK, true, 1500, 7, 77, 0]);
  dd[30] ^= 0xff;
  assert.equal(v.checksumOk(), false);
});
