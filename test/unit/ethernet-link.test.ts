// The Ethernet link layer on a fake clock: classification, ARP answering and
// learning, resolution with held packets, announcements, and hostile input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { EthernetLink, Rx, type EthernetLinkOptions } from '../../src/ports/ethernet/ethernet-link.js';
import { L2Drop, L2Event } from '../../src/ports/ethernet/link-counters.js';
import { seededRandom } from '../../src/testbed/random.js';
import { ArpOp, ArpView, writeArp } from '../../src/wire/arp.js';
import { BROADCAST_MAC, EtherType, formatMac, parseMac, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { fold16, pseudoHeaderSum, sum16 } from '../../src/wire/checksum.js';
import { Ipv4View, writeIpv4Header } from '../../src/wire/ipv4.js';

const OURS = parseMac('02:00:00:00:00:01');
const HOST = parseMac('02:00:00:00:00:99');
const OTHER = parseMac('02:00:00:00:00:77');
const RX = 4096; // where test frames are put in the arena
const REGION = 1 << 16;

interface Sent { off: number; len: number; bytes: Uint8Array }

function setup(opts: Partial<EthernetLinkOptions> = {}) {
  const bytes = new Uint8Array(1 << 20);
  const clock = { now: 1000 };
  const sent: Sent[] = [];
  const unresolved: { len: number; nextHop: number; dst: number }[] = [];
  const link = new EthernetLink({
    bytes, region: REGION, mac: OURS, address: A('10.0.0.1'), prefixLen: 24, mtu: 1500,
    clock: () => clock.now,
    send: (off, len) => sent.push({ off, len, bytes: bytes.slice(off, off + len) }),
    unresolved: (off, len, nextHop) => unresolved.push({ len, nextHop, dst: new Ipv4View().attach(bytes, off, len).dst }),
    announcements: 1,
    ...opts,
  });
  link.linkUp();
  sent.length = 0; // the announcement (tested on its own)
  link.txFlushed();
  const arpFrame = (op: number, dst: Uint8Array, src: Uint8Array, sha: Uint8Array, spa: string, tpa: string, at = RX) => {
    writeEthernetHeader(bytes, at, dst, 0, src, 0, EtherType.ARP);
    writeArp(bytes, at + 14, op, sha, 0, A(spa), null, 0, A(tpa));
    return 42;
  };
  /** An IPv4 packet at `ip` (with headroom before it), `len` bytes. */
  const ipPacket = (ip: number, dst: string, len = 100) => {
    writeIpv4Header(bytes, ip, len, 17, A('10.9.9.9'), A(dst), 64);
    for (let i = 20; i < len; i++) bytes[ip + i] = i & 0xff;
    return len;
  };
  const tick = (ms: number) => {
    for (let end = clock.now + ms; clock.now < end;) {
      clock.now = Math.min(end, clock.now + 100);
      link.tick(clock.now);
    }
  };
  const drops = (reason: number) => link.counters.dropCount(reason);
  const events = (what: number) => link.counters.eventCount(what);
  return { link, bytes, clock, sent, unresolved, arpFrame, ipPacket, tick, drops, events };
}

const arpOf = (s: Sent) => new ArpView().attach(s.bytes, 14, s.len - 14);

test('IPv4 frames: to our MAC → IPV4; broadcast/multicast → IPV4_LINK_GROUP; to another MAC → dropped', () => {
  const { link, bytes, drops } = setup();
  const frame = (dst: Uint8Array) => {
    writeEthernetHeader(bytes, RX, dst, 0, HOST, 0, EtherType.IPV4);
    return 60;
  };
  assert.equal(link.receive(RX, frame(OURS)), Rx.IPV4);
  assert.equal(link.receive(RX, frame(BROADCAST_MAC)), Rx.IPV4_LINK_GROUP);
  assert.equal(link.receive(RX, frame(parseMac('01:00:5e:00:00:09'))), Rx.IPV4_LINK_GROUP);
  assert.equal(link.receive(RX, frame(OTHER)), Rx.DROPPED);
  assert.equal(link.receive(RX, frame(parseMac('02:00:00:00:01:01'))), Rx.DROPPED, 'same low half, other high half');
  assert.equal(drops(L2Drop.NOT_OUR_MAC), 2);
});

test('hostile frames: runts, bad source MACs, other EtherTypes, VLAN tags — each counted', () => {
  const { link, bytes, drops, sent } = setup();
  for (let len = 0; len < 14; len++) assert.equal(link.receive(RX, len), Rx.DROPPED);
  assert.equal(drops(L2Drop.RUNT), 14);
  for (const src of [BROADCAST_MAC, parseMac('01:00:5e:00:00:01'), OURS]) {
    writeEthernetHeader(bytes, RX, OURS, 0, src, 0, EtherType.IPV4);
    assert.equal(link.receive(RX, 60), Rx.DROPPED);
  }
  assert.equal(drops(L2Drop.BAD_SOURCE_MAC), 3);
  for (const type of [EtherType.IPV6, 0x88cc /* LLDP */, 0x0026 /* 802.3 length: STP */, 0]) {
    writeEthernetHeader(bytes, RX, OURS, 0, HOST, 0, type);
    assert.equal(link.receive(RX, 60), Rx.DROPPED);
  }
  assert.equal(drops(L2Drop.UNKNOWN_ETHERTYPE), 4);
  for (const type of [EtherType.VLAN, EtherType.QINQ]) {
    writeEthernetHeader(bytes, RX, OURS, 0, HOST, 0, type);
    assert.equal(link.receive(RX, 64), Rx.DROPPED);
  }
  assert.equal(drops(L2Drop.VLAN_TAGGED), 2);
  assert.equal(sent.length, 0);
});

test('an ARP request for our address is answered in place, exactly', () => {
  const { link, arpFrame, sent, events } = setup();
  const len = arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.2', '10.0.0.1');
  assert.equal(link.receive(RX, len), Rx.ARP);
  assert.equal(sent.length, 1);
  const s = sent[0]!;
  assert.equal(s.off, RX, 'in the received frame itself');
  assert.equal(s.len, 42);
  assert.equal(formatMac(s.bytes, 0), '02:00:00:00:00:99', 'to the requester');
  assert.equal(formatMac(s.bytes, 6), '02:00:00:00:00:01');
  assert.equal((s.bytes[12]! << 8) | s.bytes[13]!, EtherType.ARP);
  const arp = arpOf(s);
  assert.equal(arp.op, ArpOp.REPLY);
  assert.equal(formatMac(s.bytes, arp.senderMacOffset), '02:00:00:00:00:01');
  assert.equal(arp.senderIp, A('10.0.0.1'));
  assert.equal(formatMac(s.bytes, arp.targetMacOffset), '02:00:00:00:00:99');
  assert.equal(arp.targetIp, A('10.0.0.2'));
  assert.equal(events(L2Event.ARP_REPLIES_SENT), 1);
  // The requester is learned: STALE from a broadcast request, REACHABLE from a unicast one.
  assert.deepEqual(link.neighbours().map((r) => [r.address, r.mac, r.state]), [['10.0.0.2', '02:00:00:00:00:99', 'stale']]);
  link.receive(RX, arpFrame(ArpOp.REQUEST, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  assert.equal(link.neighbours()[0]!.state, 'reachable');
});

test('a duplicate-address probe (sender 0.0.0.0) for our address is answered, and teaches nothing', () => {
  const { link, arpFrame, sent } = setup();
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '0.0.0.0', '10.0.0.1'));
  assert.equal(sent.length, 1);
  assert.equal(arpOf(sent[0]!).targetIp, 0);
  assert.equal(link.table.size, 0);
});

test('malformed ARP: every reason counted, nothing answered or learned', () => {
  const { link, bytes, arpFrame, sent, drops } = setup();
  const mutations: [number, (o: number) => void, number?][] = [
    [L2Drop.ARP_TRUNCATED, () => undefined, 41],
    [L2Drop.ARP_TRUNCATED, () => undefined, 14],
    [L2Drop.ARP_BAD_HARDWARE_TYPE, (o) => { bytes[o + 1] = 6; }],
    [L2Drop.ARP_BAD_PROTOCOL_TYPE, (o) => { bytes[o + 2] = 0x86; bytes[o + 3] = 0xdd; }],
    [L2Drop.ARP_BAD_ADDRESS_LENGTHS, (o) => { bytes[o + 4] = 16; }],
    [L2Drop.ARP_BAD_ADDRESS_LENGTHS, (o) => { bytes[o + 5] = 6; }],
    [L2Drop.ARP_BAD_OPERATION, (o) => { bytes[o + 7] = 9; }],
    [L2Drop.ARP_BAD_SENDER_MAC, (o) => { bytes.fill(0xff, o + 8, o + 14); }],
    [L2Drop.ARP_BAD_SENDER_MAC, (o) => { bytes.fill(0, o + 8, o + 14); }],
  ];
  for (const [reason, mutate, len] of mutations) {
    const before = drops(reason);
    arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.2', '10.0.0.1');
    mutate(RX + 14);
    assert.equal(link.receive(RX, len ?? 42), Rx.ARP);
    assert.equal(drops(reason), before + 1, `reason ${reason}`);
  }
  assert.equal(sent.length, 0);
  assert.equal(link.table.size, 0);
});

test('ARP for other addresses: no answer, no entry; but a known sender is updated (RFC 826 merge)', () => {
  const { link, arpFrame, sent, drops, clock } = setup();
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.2', '10.0.0.50'));
  assert.equal(sent.length, 0);
  assert.equal(link.table.size, 0);
  assert.equal(drops(L2Drop.ARP_NOT_FOR_US), 1);
  // An unsolicited reply (to us, even) creates nothing either.
  link.receive(RX, arpFrame(ArpOp.REPLY, OURS, HOST, HOST, '10.0.0.3', '10.0.0.1'));
  assert.equal(link.table.size, 0);
  // Known sender, new MAC in a request for someone else: updated (after the lock time).
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  clock.now += 2000;
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, OTHER, OTHER, '10.0.0.2', '10.0.0.50'));
  assert.equal(link.neighbours()[0]!.mac, '02:00:00:00:00:77');
  // Off-subnet senders and the subnet broadcast address teach nothing.
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '192.168.1.1', '10.0.0.1'));
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.255', '10.0.0.1'));
  assert.equal(link.table.size, 1);
});

test('someone claiming our address is counted and not answered', () => {
  const { link, arpFrame, sent, drops } = setup();
  link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.1', '10.0.0.1'));
  link.receive(RX, arpFrame(ArpOp.REPLY, BROADCAST_MAC, HOST, HOST, '10.0.0.1', '10.0.0.2'));
  assert.equal(drops(L2Drop.ARP_ADDRESS_CONFLICT), 2);
  assert.equal(sent.length, 0);
});

test('transmit: unknown next hop → ARP request and hold; the reply releases the packet with its header', () => {
  const { link, bytes, arpFrame, ipPacket, sent, events } = setup();
  const ip = 20_000;
  const len = ipPacket(ip, '192.168.5.5', 300);
  const original = bytes.slice(ip, ip + len);
  assert.equal(link.transmit(ip, len, A('10.0.0.2')), 0);
  assert.equal(sent.length, 1);
  const req = sent[0]!;
  assert.equal(formatMac(req.bytes, 0), 'ff:ff:ff:ff:ff:ff');
  assert.equal(formatMac(req.bytes, 6), '02:00:00:00:00:01');
  const q = arpOf(req);
  assert.equal(q.op, ArpOp.REQUEST);
  assert.equal(q.senderIp, A('10.0.0.1'));
  assert.equal(q.targetIp, A('10.0.0.2'));
  assert.equal(formatMac(req.bytes, q.targetMacOffset), '00:00:00:00:00:00');
  bytes.fill(0xee, ip - 14, ip + len); // the receive slot is reused: the held copy must not care
  link.receive(RX, arpFrame(ArpOp.REPLY, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  assert.equal(sent.length, 2);
  const out = sent[1]!;
  assert.equal(out.len, len + 14);
  assert.equal(formatMac(out.bytes, 0), '02:00:00:00:00:99');
  assert.equal(formatMac(out.bytes, 6), '02:00:00:00:00:01');
  assert.equal((out.bytes[12]! << 8) | out.bytes[13]!, EtherType.IPV4);
  assert.deepEqual(out.bytes.subarray(14), original);
  assert.equal(events(L2Event.HELD), 1);
  assert.equal(events(L2Event.RELEASED), 1);
  // Now resolved: the header is written in place and the frame returned.
  ipPacket(ip, '192.168.5.5', 300);
  assert.equal(link.transmit(ip, len, A('10.0.0.2')), len + 14);
  assert.equal(formatMac(bytes, ip - 14), '02:00:00:00:00:99');
  assert.equal(formatMac(bytes, ip - 8), '02:00:00:00:00:01');
  assert.equal(sent.length, 2);
});

test('a packet with a partial checksum is held with its checksum finished (it leaves later without its offload header); resolved, it stays partial', () => {
  const { link, bytes, arpFrame, ipPacket, sent, drops } = setup();
  const ip = 20_000;
  const udp = ip + 20;
  const len = 300;
  const udpLen = len - 20;
  // NEEDS_CSUM: the checksum field holds the folded pseudo-header sum.
  const partial = fold16(pseudoHeaderSum(A('10.9.9.9'), A('192.168.5.5'), 17, udpLen));
  /** A UDP packet to 192.168.5.5 at `ip`, its checksum partial. */
  const partialPacket = () => {
    ipPacket(ip, '192.168.5.5', len);
    bytes[udp + 4] = udpLen >>> 8;
    bytes[udp + 5] = udpLen & 0xff;
    bytes[udp + 6] = partial >>> 8;
    bytes[udp + 7] = partial & 0xff;
  };
  partialPacket();
  const complete = (b: Uint8Array, at: number) => fold16(sum16(b, at, udpLen, pseudoHeaderSum(A('10.9.9.9'), A('192.168.5.5'), 17, udpLen))) === 0xffff;
  assert.equal(complete(bytes, udp), false, 'partial before');
  assert.equal(link.transmit(ip, len, A('10.0.0.2'), true), 0);
  link.receive(RX, arpFrame(ArpOp.REPLY, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  const out = sent.at(-1)!;
  assert.equal(out.len, len + 14);
  assert.ok(complete(out.bytes, 14 + 20), 'the released frame carries a complete UDP checksum');
  // Resolved now: sent at once, the checksum left partial for the kernel (the port sends the header beside it).
  partialPacket();
  assert.equal(link.transmit(ip, len, A('10.0.0.2'), true), len + 14);
  assert.equal((bytes[udp + 6]! << 8) | bytes[udp + 7]!, partial);
  // A partial checksum that does not fit its packet (a UDP header cut short) is not held: counted.
  const short = ipPacket(ip, '192.168.5.6', 24);
  assert.equal(link.transmit(ip, short, A('10.0.0.3'), true), 0);
  assert.equal(drops(L2Drop.HOLD_BAD_CHECKSUM), 1);
});

test('multicast and broadcast next hops need no ARP; ours and 0.0.0.0 are refused', () => {
  const { link, bytes, ipPacket, sent, drops } = setup();
  const ip = 20_000;
  const len = ipPacket(ip, '224.0.0.9');
  assert.equal(link.transmit(ip, len, A('224.0.0.9')), len + 14);
  assert.equal(formatMac(bytes, ip - 14), '01:00:5e:00:00:09');
  assert.equal(link.transmit(ip, len, A('10.0.0.255')), len + 14);
  assert.equal(formatMac(bytes, ip - 14), 'ff:ff:ff:ff:ff:ff');
  assert.equal(link.transmit(ip, len, A('255.255.255.255')), len + 14);
  assert.equal(formatMac(bytes, ip - 14), 'ff:ff:ff:ff:ff:ff');
  assert.equal(link.transmit(ip, len, A('10.0.0.1')), 0);
  assert.equal(link.transmit(ip, len, 0), 0);
  assert.equal(drops(L2Drop.BAD_NEXT_HOP), 2);
  assert.equal(sent.length, 0);
});

test('a /31 has no broadcast address: both ends are neighbours', () => {
  const { link, ipPacket, sent } = setup({ address: A('10.0.0.1'), prefixLen: 31 });
  const ip = 20_000;
  assert.equal(link.transmit(ip, ipPacket(ip, '10.0.0.0'), A('10.0.0.0')), 0);
  assert.equal(arpOf(sent[0]!).targetIp, A('10.0.0.0'));
});

test('no answer: 3 requests a second apart, then the held packets are given up (for ICMP)', () => {
  const { link, ipPacket, sent, unresolved, tick, drops, events } = setup();
  const ip = 20_000;
  link.transmit(ip, ipPacket(ip, '192.168.5.5', 120), A('10.0.0.2'));
  link.transmit(ip, ipPacket(ip, '192.168.5.6', 130), A('10.0.0.2'));
  tick(2900);
  assert.equal(sent.length, 3);
  assert.equal(unresolved.length, 0);
  tick(200);
  assert.deepEqual(unresolved, [
    { len: 120, nextHop: A('10.0.0.2'), dst: A('192.168.5.5') },
    { len: 130, nextHop: A('10.0.0.2'), dst: A('192.168.5.6') },
  ]);
  assert.equal(drops(L2Drop.UNRESOLVED), 2);
  assert.equal(events(L2Event.ARP_REQUESTS_SENT), 3);
  assert.equal(link.pool.available, link.pool.slots, 'hold buffers are free again');
  assert.equal(link.neighbours()[0]!.state, 'failed');
});

test('hold limits: per neighbour (oldest dropped) and per port (pool), both counted', () => {
  const { link, ipPacket, drops } = setup({ holdSlots: 8, neighbours: { holdPerNeighbour: 3 } });
  const ip = 20_000;
  for (let i = 0; i < 5; i++) link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.2'));
  assert.equal(drops(L2Drop.HOLD_QUEUE_OVERFLOW), 2);
  assert.equal(link.table.heldOn(link.table.find(A('10.0.0.2'))), 3);
  for (let h = 3; h < 10; h++) link.transmit(ip, ipPacket(ip, '192.168.5.5'), A(`10.0.0.${h}`));
  assert.equal(link.pool.available, 0);
  assert.equal(drops(L2Drop.HOLD_POOL_EMPTY), 2);
  assert.equal(link.transmit(ip, 1600, A('10.0.0.2')), 0);
  assert.equal(drops(L2Drop.HOLD_TOO_BIG), 1);
});

test('released buffers and control frames are reused only after txFlushed()', () => {
  const { link, arpFrame, ipPacket, sent, drops } = setup({ holdSlots: 4, controlFrames: 4 });
  const ip = 20_000;
  for (let h = 2; h < 6; h++) link.transmit(ip, ipPacket(ip, '192.168.5.5'), A(`10.0.0.${h}`));
  assert.equal(sent.length, 4);
  // A fifth ARP request before the queue was written finds no control frame.
  link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.6'));
  assert.equal(drops(L2Drop.ARP_TX_NO_BUFFER), 1);
  link.receive(RX, arpFrame(ArpOp.REPLY, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  assert.equal(link.pool.available, 0, 'the released buffer is still in the transmit queue');
  link.txFlushed();
  assert.equal(link.pool.available, 1);
  link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.7'));
  assert.equal(sent.at(-1)!.len, 42, 'control frames are usable again');
});

test('a STALE neighbour is probed with a unicast request while packets keep flowing', () => {
  const { link, arpFrame, ipPacket, sent, tick } = setup({ neighbours: { reachableMs: 5000 } });
  link.receive(RX, arpFrame(ArpOp.REQUEST, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  sent.length = 0;
  tick(5100);
  const ip = 20_000;
  assert.equal(link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.2')), 114);
  assert.equal(sent.length, 1);
  assert.equal(formatMac(sent[0]!.bytes, 0), '02:00:00:00:00:99', 'unicast to the cached MAC');
  assert.equal(arpOf(sent[0]!).targetIp, A('10.0.0.2'));
  link.txFlushed();
  link.receive(RX, arpFrame(ArpOp.REPLY, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  assert.equal(link.neighbours()[0]!.state, 'reachable');
});

test('gratuitous ARP on link up, repeated once a second later; none while down', () => {
  const { link, sent, tick, events } = setup({ announcements: 2, announceIntervalMs: 1000 });
  link.linkDown();
  link.linkUp();
  assert.equal(sent.length, 1);
  const g = sent[0]!;
  assert.equal(formatMac(g.bytes, 0), 'ff:ff:ff:ff:ff:ff');
  const arp = arpOf(g);
  assert.equal(arp.op, ArpOp.REQUEST);
  assert.equal(arp.senderIp, A('10.0.0.1'));
  assert.equal(arp.targetIp, A('10.0.0.1'));
  assert.equal(formatMac(g.bytes, arp.senderMacOffset), '02:00:00:00:00:01');
  assert.equal(formatMac(g.bytes, arp.targetMacOffset), '00:00:00:00:00:00');
  link.txFlushed();
  tick(900);
  assert.equal(sent.length, 1);
  tick(200);
  assert.equal(sent.length, 2);
  tick(5000);
  assert.equal(sent.length, 2);
  assert.equal(events(L2Event.GRATUITOUS_SENT), 3);
  link.linkDown();
  tick(5000);
  assert.equal(sent.length, 2);
});

test('link down: held packets dropped, neighbours forgotten, nothing in or out until up', () => {
  const { link, arpFrame, ipPacket, sent, drops, tick } = setup();
  link.receive(RX, arpFrame(ArpOp.REQUEST, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  const ip = 20_000;
  link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.3'));
  sent.length = 0;
  link.linkDown();
  assert.equal(drops(L2Drop.HELD_AT_LINK_DOWN), 1);
  assert.equal(link.table.size, 0);
  assert.equal(link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.2')), 0);
  assert.equal(drops(L2Drop.TX_LINK_DOWN), 1);
  assert.equal(link.receive(RX, arpFrame(ArpOp.REQUEST, BROADCAST_MAC, HOST, HOST, '10.0.0.2', '10.0.0.1')), Rx.DROPPED);
  assert.equal(drops(L2Drop.RX_LINK_DOWN), 1);
  tick(10_000);
  assert.equal(sent.length, 0);
  link.txFlushed();
  assert.equal(link.pool.available, link.pool.slots);
});

test('a flood of ARP requests from random sources for other addresses creates nothing', () => {
  const { link, bytes, sent, drops } = setup({ prefixLen: 8, address: A('10.0.0.1') });
  const rnd = seededRandom(3);
  const mac = new Uint8Array(6);
  for (let i = 0; i < 100_000; i++) {
    const spa = (A('10.0.0.0') + 2 + Math.floor(rnd() * 0xfffff0)) >>> 0;
    mac[0] = 0x06; // never our MAC
    mac[5] = i;
    mac[4] = i >> 8;
    writeEthernetHeader(bytes, RX, BROADCAST_MAC, 0, mac, 0, EtherType.ARP);
    writeArp(bytes, RX + 14, ArpOp.REQUEST, mac, 0, spa, null, 0, (spa + 1) >>> 0);
    link.receive(RX, 42);
  }
  assert.equal(link.table.size, 0);
  assert.equal(sent.length, 0);
  assert.equal(drops(L2Drop.ARP_NOT_FOR_US), 100_000);
});

test('a flood of requests FOR US from random sources: answered, table bounded, busy neighbours kept', () => {
  const capacity = 64;
  const { link, bytes, arpFrame, ipPacket, sent, tick, clock, drops } = setup({ prefixLen: 8, neighbours: { capacity } });
  // Two real neighbours: one REACHABLE in use, one resolving with a held packet.
  link.receive(RX, arpFrame(ArpOp.REQUEST, OURS, HOST, HOST, '10.0.0.2', '10.0.0.1'));
  const ip = 20_000;
  link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.3'));
  const rnd = seededRandom(5);
  const mac = new Uint8Array(6);
  let answered = 0;
  for (let i = 0; i < 100_000; i++) {
    const spa = (A('10.0.0.0') + 10 + Math.floor(rnd() * 0xfffff0)) >>> 0;
    mac[0] = 0x06; // never our MAC
    mac[3] = i >> 16;
    mac[4] = i >> 8;
    mac[5] = i;
    writeEthernetHeader(bytes, RX, BROADCAST_MAC, 0, mac, 0, EtherType.ARP);
    writeArp(bytes, RX + 14, ArpOp.REQUEST, mac, 0, spa, null, 0, A('10.0.0.1'));
    sent.length = 0;
    link.receive(RX, 42);
    answered += sent.length;
    link.txFlushed();
    if (i % 1000 === 0) {
      // The real neighbour keeps carrying traffic.
      assert.equal(link.transmit(ip, ipPacket(ip, '192.168.5.5'), A('10.0.0.2')), 114);
      clock.now += 50;
      link.tick(clock.now);
    }
    assert.ok(link.table.size <= capacity);
  }
  assert.equal(answered, 100_000, 'every request for us is answered (one reply each, in its own frame)');
  const rows = link.neighbours();
  assert.equal(rows.length, capacity);
  assert.equal(rows.find((r) => r.address === '10.0.0.2')?.state, 'reachable');
  // The resolving neighbour was not evicted while INCOMPLETE: it ran its 3 requests and failed
  // properly (its held packet given up, counted); as FAILED it may then make room.
  assert.equal(drops(L2Drop.UNRESOLVED), 1);
  assert.ok(link.table.stats.evicted > 90_000);
  tick(100);
});
