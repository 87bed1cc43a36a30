// Ethernet II and ARP views against real frames and every malformation.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { ARP_CHECK_NAMES, ARP_LEN, ArpCheck, ArpOp, ArpView, writeArp } from '../../src/wire/arp.js';
import {
  BROADCAST_MAC, ETHERNET_HEADER_LEN, EtherType, EthernetView, MacError, formatMac, macEquals, macIsBroadcast, macIsGroup,
  macIsZero, macLo, parseMac, writeEthernetHeader, writeIpv4MulticastMac,
} from '../../src/wire/ethernet.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// Who has 172.17.0.1? Tell 172.17.0.2 — as Linux sends it (42 bytes, no padding).
const ARP_REQUEST = hex(`
  ffffffffffff 0242ac110002 0806
  0001 0800 06 04 0001 0242ac110002 ac110002 000000000000 ac110001`);

test('Ethernet header fields of a real frame', () => {
  const e = new EthernetView().attach(ARP_REQUEST, 0, ARP_REQUEST.length);
  assert.equal(e.etherType, EtherType.ARP);
  assert.equal(e.dstIsGroup, true);
  assert.equal(e.dstIsBroadcast, true);
  assert.equal(e.srcIsGroup, false);
  assert.equal(e.srcHi, 0x0242);
  assert.equal(e.srcLo, 0xac110002 | 0);
  assert.equal(e.dstHi, 0xffff);
  assert.equal(e.dstLo, -1);
  assert.equal(e.payloadOffset, ETHERNET_HEADER_LEN);
  assert.equal(e.payloadLength, 28);
  e.etherType = EtherType.IPV4;
  assert.equal(ARP_REQUEST[12], 0x08);
  assert.equal(ARP_REQUEST[13], 0x00);
  e.etherType = EtherType.ARP;
});

test('a view at an offset reads the same fields', () => {
  const buf = new Uint8Array(100);
  buf.set(ARP_REQUEST, 37);
  const e = new EthernetView().attach(buf, 37, ARP_REQUEST.length);
  assert.equal(e.etherType, EtherType.ARP);
  assert.equal(e.srcLo, macLo(ARP_REQUEST, 6));
  assert.equal(e.payloadOffset, 51);
});

test('MAC helpers: parse, format, compare, group and broadcast bits', () => {
  const m = parseMac('02:42:AC:11:00:02');
  assert.deepEqual([...m], [0x02, 0x42, 0xac, 0x11, 0x00, 0x02]);
  assert.equal(formatMac(m), '02:42:ac:11:00:02');
  assert.deepEqual([...parseMac('02-42-ac-11-00-02')], [...m]);
  assert.equal(formatMac(ARP_REQUEST, 6), '02:42:ac:11:00:02');
  for (const bad of ['', '02:42:ac:11:00', '02:42:ac:11:00:02:03', 'zz:42:ac:11:00:02', '0242ac110002', '2:42:ac:11:0:2']) {
    assert.throws(() => parseMac(bad), MacError, bad);
  }
  assert.equal(macEquals(m, 0, ARP_REQUEST, 6), true);
  assert.equal(macEquals(m, 0, ARP_REQUEST, 0), false);
  assert.equal(macIsBroadcast(BROADCAST_MAC, 0), true);
  assert.equal(macIsBroadcast(parseMac('ff:ff:ff:ff:ff:fe'), 0), false);
  assert.equal(macIsGroup(parseMac('01:00:5e:00:00:09'), 0), true);
  assert.equal(macIsGroup(m, 0), false);
  assert.equal(macIsZero(new Uint8Array(6), 0), true);
  assert.equal(macIsZero(m, 0), false);
  // The low half is an int32: equal MACs give equal numbers, and no number exceeds 31 bits.
  assert.equal(macLo(parseMac('00:00:ff:ff:ff:ff'), 0), -1);
});

test('IPv4 multicast MACs (RFC 1112): 01:00:5e + the low 23 bits of the group', () => {
  const out = new Uint8Array(6);
  writeIpv4MulticastMac(A('224.0.0.9'), out, 0);
  assert.equal(formatMac(out), '01:00:5e:00:00:09');
  writeIpv4MulticastMac(A('239.129.2.3'), out, 0);
  assert.equal(formatMac(out), '01:00:5e:01:02:03');
  writeIpv4MulticastMac(A('224.0.0.9') | 0, out, 0);
  assert.equal(formatMac(out), '01:00:5e:00:00:09');
});

test('writeEthernetHeader', () => {
  const buf = new Uint8Array(20);
  const n = writeEthernetHeader(buf, 2, BROADCAST_MAC, 0, ARP_REQUEST, 6, EtherType.ARP);
  assert.equal(n, 14);
  assert.deepEqual(buf.subarray(2, 16), ARP_REQUEST.subarray(0, 14));
});

test('ARP fields of a real request', () => {
  const arp = new ArpView().attach(ARP_REQUEST, 14, 28);
  assert.equal(arp.validate(), ArpCheck.OK);
  assert.equal(arp.hardwareType, 1);
  assert.equal(arp.protocolType, EtherType.IPV4);
  assert.equal(arp.hardwareLength, 6);
  assert.equal(arp.protocolLength, 4);
  assert.equal(arp.op, ArpOp.REQUEST);
  assert.equal(formatMac(ARP_REQUEST, arp.senderMacOffset), '02:42:ac:11:00:02');
  assert.equal(arp.senderIp, A('172.17.0.2'));
  assert.equal(arp.senderIpI32, A('172.17.0.2') | 0);
  assert.equal(arp.targetIp, A('172.17.0.1'));
  assert.equal(formatMac(ARP_REQUEST, arp.targetMacOffset), '00:00:00:00:00:00');
});

test('writeArp builds the same bytes Linux sends', () => {
  const buf = new Uint8Array(28);
  const n = writeArp(buf, 0, ArpOp.REQUEST, ARP_REQUEST, 6, A('172.17.0.2'), null, 0, A('172.17.0.1'));
  assert.equal(n, ARP_LEN);
  assert.deepEqual(buf, ARP_REQUEST.subarray(14));
  // With a target MAC (a reply).
  writeArp(buf, 0, ArpOp.REPLY, ARP_REQUEST, 6, A('10.0.0.1'), BROADCAST_MAC, 0, A('10.0.0.2'));
  const v = new ArpView().attach(buf, 0, 28);
  assert.equal(v.validate(), ArpCheck.OK);
  assert.equal(v.op, ArpOp.REPLY);
  assert.equal(formatMac(buf, v.targetMacOffset), 'ff:ff:ff:ff:ff:ff');
  assert.equal(v.targetIp, A('10.0.0.2'));
});

test('makeReply turns a request around in place', () => {
  const frame = Uint8Array.from(ARP_REQUEST);
  const arp = new ArpView().attach(frame, 14, 28);
  const ours = parseMac('02:00:00:00:00:01');
  arp.makeReply(ours, 0, A('172.17.0.1'));
  assert.equal(arp.validate(), ArpCheck.OK);
  assert.equal(arp.op, ArpOp.REPLY);
  assert.equal(formatMac(frame, arp.senderMacOffset), '02:00:00:00:00:01');
  assert.equal(arp.senderIp, A('172.17.0.1'));
  assert.equal(formatMac(frame, arp.targetMacOffset), '02:42:ac:11:00:02');
  assert.equal(arp.targetIp, A('172.17.0.2'));
});

test('every malformation has its own check code and name', () => {
  const cases: [string, (b: Uint8Array) => void, number, number?][] = [
    ['truncated', () => undefined, ArpCheck.TRUNCATED, 27],
    ['hardware type 6 (IEEE 802)', (b) => { b[1] = 6; }, ArpCheck.BAD_HARDWARE_TYPE],
    ['protocol type IPv6', (b) => { b[2] = 0x86; b[3] = 0xdd; }, ArpCheck.BAD_PROTOCOL_TYPE],
    ['hardware length 8', (b) => { b[4] = 8; }, ArpCheck.BAD_ADDRESS_LENGTHS],
    ['protocol length 16', (b) => { b[5] = 16; }, ArpCheck.BAD_ADDRESS_LENGTHS],
    ['op 3 (RARP request)', (b) => { b[7] = 3; }, ArpCheck.BAD_OPERATION],
    ['op 0', (b) => { b[7] = 0; }, ArpCheck.BAD_OPERATION],
    ['op 0x0101', (b) => { b[6] = 1; }, ArpCheck.BAD_OPERATION],
    ['broadcast sender MAC', (b) => { b.fill(0xff, 8, 14); }, ArpCheck.BAD_SENDER_MAC],
    ['multicast sender MAC', (b) => { b[8] = 0x01; }, ArpCheck.BAD_SENDER_MAC],
    ['zero sender MAC', (b) => { b.fill(0, 8, 14); }, ArpCheck.BAD_SENDER_MAC],
  ];
  for (const [what, mutate, code, len] of cases) {
    const b = ARP_REQUEST.slice(14);
    mutate(b);
    assert.equal(new ArpView().attach(b, 0, len ?? 28).validate(), code, what);
  }
  assert.equal(ARP_CHECK_NAMES[ArpCheck.BAD_ADDRESS_LENGTHS], 'bad-address-lengths');
  assert.equal(ARP_CHECK_NAMES.length, Object.keys(ArpCheck).length);
  // Padding after the 28 bytes (a 60-byte minimum frame) is fine.
  const padded = new Uint8Array(46);
  padded.set(ARP_REQUEST.subarray(14));
  assert.equal(new ArpView().attach(padded, 0, 46).validate(), ArpCheck.OK);
});
