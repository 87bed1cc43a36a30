// Virtual-service NAT on real packets in a buffer: backend by source, both
// rewrites, checksums against a full recomputation, flow reuse and expiry,
// SYN on a reused tuple, a full table, fragments, untouched traffic.
import assert from 'node:assert/strict';
import test from 'node:test';
import type { VirtualServiceConfig } from '../../src/config/migration-config.js';
import { Drop } from '../../src/packet/drops.js';
import { NatFlowTable, UNANSWERED_IDLE_MS } from '../../src/dataplane/nat-flows.js';
import { VirtualServiceNat } from '../../src/dataplane/nat.js';
import { NAT_FLOWS_LISTED, natJson, natJsonOf } from '../../src/api/nat-api.js';
import { mergeNatSnapshots, natSnapshot } from '../../src/dataplane/nat-snapshot.js';
import { parseAddress as a } from '../../src/net/addr.js';
import type { Port } from '../../src/ports/port.js';
import { checksum, pseudoHeaderSum } from '../../src/wire/checksum.js';
import { IpProto, Ipv4Check, Ipv4View, writeIpv4Header, writeU32 } from '../../src/wire/ipv4.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

const PORT = {} as Port;
const VIP = a('1.1.1.1');
const VIP2 = a('2.2.2.2');
const S1 = a('192.168.1.2');
const S2 = a('192.168.2.2');
const S3 = a('192.168.3.2');
const APPLIANCE = a('10.0.0.2');
const TEST_APPLIANCE = a('10.0.0.200');

const SERVICES: VirtualServiceConfig[] = [
  {
    name: 'info', address: VIP, idleTimeout: 30,
    backends: [
      { name: 'server1', address: S1, sources: [] },
      { name: 'server2', address: S2, sources: [{ addr: TEST_APPLIANCE, len: 32 }, { addr: a('172.16.0.0'), len: 12 }] },
    ],
  },
  {
    name: 'other', address: VIP2, idleTimeout: 5,
    backends: [
      { name: 'shared', address: S2, sources: [{ addr: a('10.0.0.0'), len: 24 }] },
      { name: 'server3', address: S3, sources: [] },
    ],
  },
];

/** The backend the brief's rule picks, written independently of the NAT. */
function expectedBackend(vip: number, src: number): number {
  if (vip === VIP) return src === TEST_APPLIANCE || (src >>> 20) === (a('172.16.0.0') >>> 20) ? S2 : S1;
  return (src >>> 8) === (a('10.0.0.0') >>> 8) ? S2 : S3;
}

class Clock {
  now = 1_000_000;
}

interface Pkt {
  buf: Uint8Array;
  len: number;
}

/** IPv4 header with `optWords` words of NOP options, checksum filled. Returns the header length. */
function ipHeader(buf: Uint8Array, total: number, proto: number, src: number, dst: number, optWords = 0, fragWord = 0): number {
  writeIpv4Header(buf, 0, total, proto, src, dst, 64, 0, 0x1234);
  const hl = 20 + 4 * optWords;
  if (optWords > 0) {
    buf[0] = 0x40 | (hl >> 2);
    for (let i = 20; i < hl; i++) buf[i] = 1; // NOP
  }
  buf[6] = fragWord >>> 8;
  buf[7] = fragWord & 0xff;
  buf[10] = 0;
  buf[11] = 0;
  const c = checksum(buf, 0, hl);
  buf[10] = c >>> 8;
  buf[11] = c & 0xff;
  return hl;
}

function tcp(src: number, dst: number, sport: number, dport: number, flags: number, payload = 0, r: () => number = Math.random, optWords = 0, fragWord = 0): Pkt {
  const hl = 20 + 4 * optWords;
  const segLen = 20 + payload;
  const len = hl + segLen;
  const buf = new Uint8Array(len + 8); // + link padding, which must stay untouched
  for (let i = 0; i < buf.length; i++) buf[i] = (r() * 256) | 0;
  ipHeader(buf, len, IpProto.TCP, src, dst, optWords, fragWord);
  const t = hl;
  buf[t] = sport >>> 8; buf[t + 1] = sport & 0xff; buf[t + 2] = dport >>> 8; buf[t + 3] = dport & 0xff;
  buf[t + 12] = 5 << 4;
  buf[t + 13] = flags;
  buf[t + 16] = 0; buf[t + 17] = 0;
  const c = checksum(buf, t, segLen, pseudoHeaderSum(src, dst, IpProto.TCP, segLen));
  buf[t + 16] = c >>> 8; buf[t + 17] = c & 0xff;
  return { buf, len };
}

function udp(src: number, dst: number, sport: number, dport: number, payload = 0, r: () => number = Math.random, noChecksum = false, optWords = 0): Pkt {
  const hl = 20 + 4 * optWords;
  const len = hl + 8 + payload;
  const buf = new Uint8Array(len + 8);
  for (let i = 0; i < buf.length; i++) buf[i] = (r() * 256) | 0;
  buildUdpDatagram(buf, hl - 20, src, dst, sport, dport, payload, 64);
  if (optWords > 0) {
    const udpSum = [buf[hl + 6]!, buf[hl + 7]!];
    ipHeader(buf, len, IpProto.UDP, src, dst, optWords);
    buf[hl + 6] = udpSum[0]!; buf[hl + 7] = udpSum[1]!;
  }
  if (noChecksum) { buf[hl + 6] = 0; buf[hl + 7] = 0; }
  return { buf, len };
}

function run(nat: VirtualServiceNat, p: Pkt): number {
  const ip = new Ipv4View().attach(p.buf, 0, p.len);
  assert.equal(ip.validate(), Ipv4Check.OK);
  return nat.rewrite(PORT, ip);
}

const view = (p: Pkt) => new Ipv4View().attach(p.buf, 0, p.len);

/** Every checksum in the packet equals a from-scratch recomputation over the rewritten bytes. */
function assertChecksumsRecomputed(p: Pkt, udpWasZero = false): void {
  const ip = view(p);
  const b = p.buf;
  const hl = ip.headerLength;
  const copy = b.slice(0, hl);
  copy[10] = 0; copy[11] = 0;
  assert.equal(ip.headerChecksum, checksum(copy, 0, hl), 'IP header checksum');
  const o = ip.payloadOffset;
  const n = ip.payloadLength;
  const seg = b.slice(o, o + n);
  if (ip.protocol === IpProto.TCP) {
    const field = (b[o + 16]! << 8) | b[o + 17]!;
    seg[16] = 0; seg[17] = 0;
    assert.equal(field, checksum(seg, 0, n, pseudoHeaderSum(ip.src, ip.dst, IpProto.TCP, n)), 'TCP checksum');
  } else {
    const field = (b[o + 6]! << 8) | b[o + 7]!;
    if (udpWasZero) {
      assert.equal(field, 0, 'UDP "no checksum" stays 0');
      return;
    }
    seg[6] = 0; seg[7] = 0;
    let ref = checksum(seg, 0, n, pseudoHeaderSum(ip.src, ip.dst, IpProto.UDP, n));
    if (ref === 0) ref = 0xffff;
    assert.equal(field, ref, 'UDP checksum');
  }
}

/** `after` equals `before` except for the bytes listed. */
function assertOnlyChanged(before: Uint8Array, after: Uint8Array, allowed: number[]): void {
  for (let i = 0; i < before.length; i++) {
    if (!allowed.includes(i)) assert.equal(after[i], before[i], `byte ${i} changed`);
  }
}

/** The reply a backend sends for a packet `p` it received (addresses and ports swapped). */
function reply(p: Pkt, r: () => number, flags: number = TcpFlag.ACK, payload = 0, noChecksum = false): Pkt {
  const ip = view(p);
  const o = ip.payloadOffset;
  const sport = (p.buf[o]! << 8) | p.buf[o + 1]!;
  const dport = (p.buf[o + 2]! << 8) | p.buf[o + 3]!;
  return ip.protocol === IpProto.TCP ? tcp(ip.dst, ip.src, dport, sport, flags, payload, r) : udp(ip.dst, ip.src, dport, sport, payload, r, noChecksum);
}

test('backend by source, destination rewritten in and source back out, checksums equal a full recomputation', () => {
  const r = rng(7);
  const nat = new VirtualServiceNat(SERVICES.slice(0, 1), new Clock());
  const sources = [APPLIANCE, TEST_APPLIANCE, a('172.20.3.4'), a('172.32.0.1'), a('10.0.0.199'), a('203.0.113.9')];
  let udpZero = 0;
  for (let k = 0; k < 5000; k++) {
    const src = k < sources.length ? sources[k]! : r() < 0.5 ? sources[(r() * sources.length) | 0]! : (r() * 2 ** 32) >>> 0;
    const sport = 1 + ((r() * 65535) | 0);
    const dport = [80, 443, 53, (r() * 65536) | 0][(r() * 4) | 0]!;
    const payload = (r() * 1400) | 0;
    const optWords = r() < 0.1 ? 1 + ((r() * 10) | 0) : 0;
    const isTcp = r() < 0.5;
    const zero = !isTcp && r() < 0.25;
    const flags = isTcp ? [TcpFlag.SYN, TcpFlag.ACK, TcpFlag.ACK | TcpFlag.PSH, TcpFlag.SYN | TcpFlag.ACK][(r() * 4) | 0]! : 0;
    const p = isTcp ? tcp(src, VIP, sport, dport, flags, payload, r, optWords) : udp(src, VIP, sport, dport, payload, r, zero, optWords);
    if (zero) udpZero++;
    const before = p.buf.slice();
    assert.equal(run(nat, p), -1);
    const ip = view(p);
    const backend = expectedBackend(VIP, src);
    assert.equal(ip.dst, backend, `packet ${k}: backend for source`);
    assert.equal(ip.src, src);
    const o = ip.payloadOffset;
    const l4sum = o + (isTcp ? 16 : 6);
    assertOnlyChanged(before, p.buf, [10, 11, 16, 17, 18, 19, l4sum, l4sum + 1]);
    assertChecksumsRecomputed(p, zero);

    const back = reply(p, r, TcpFlag.ACK, (r() * 1400) | 0, zero);
    const backBefore = back.buf.slice();
    assert.equal(run(nat, back), -1);
    const bip = view(back);
    assert.equal(bip.src, VIP, `packet ${k}: source restored to the VIP`);
    assert.equal(bip.dst, src);
    assertOnlyChanged(backBefore, back.buf, [10, 11, 12, 13, 14, 15, 20 + (isTcp ? 16 : 6), 20 + (isTcp ? 17 : 7)]);
    assertChecksumsRecomputed(back, zero);
  }
  assert.ok(udpZero > 100);
  assert.equal(nat.flows.refusedFull + nat.flows.refusedConflict, 0);
  assert.equal(nat.packetsIn, 5000);
  assert.equal(nat.packetsOut, 5000);
});

test('undo() puts back what rewrite() just changed, both ways (an ICMP error quotes the packet as it arrived); untranslated packets stay as they are', () => {
  const r = rng(1624);
  const nat = new VirtualServiceNat(SERVICES.slice(0, 1), new Clock());
  for (let k = 0; k < 2000; k++) {
    const src = r() < 0.5 ? TEST_APPLIANCE : (r() * 2 ** 32) >>> 0;
    const isTcp = r() < 0.5;
    const zero = !isTcp && r() < 0.25;
    const sport = 1 + ((r() * 65535) | 0), dport = 1 + ((r() * 65535) | 0), payload = (r() * 600) | 0;
    const p = isTcp ? tcp(src, VIP, sport, dport, TcpFlag.SYN, payload, r, r() < 0.2 ? 2 : 0) : udp(src, VIP, sport, dport, payload, r, zero, r() < 0.2 ? 2 : 0);
    const arrived = p.buf.slice();
    assert.equal(run(nat, p), -1);
    assert.notDeepEqual(p.buf, arrived);
    nat.undo(view(p));
    assert.deepEqual(p.buf, arrived, `packet ${k}: to the VIP, put back`);
    assertChecksumsRecomputed(p, zero);

    const back = reply(p, r, TcpFlag.ACK, (r() * 600) | 0, zero);
    // The flow's return tuple: the backend's address as the source.
    view(back).setSrcIncremental(expectedBackend(VIP, src));
    const o = view(back).payloadOffset;
    if (isTcp) {
      back.buf[o + 16] = 0; back.buf[o + 17] = 0;
      const c = checksum(back.buf, o, back.len - o, pseudoHeaderSum(view(back).src, view(back).dst, IpProto.TCP, back.len - o));
      back.buf[o + 16] = c >>> 8; back.buf[o + 17] = c & 0xff;
    } else if (!zero) {
      back.buf[o + 6] = 0; back.buf[o + 7] = 0;
      const c = checksum(back.buf, o, back.len - o, pseudoHeaderSum(view(back).src, view(back).dst, IpProto.UDP, back.len - o)) || 0xffff;
      back.buf[o + 6] = c >>> 8; back.buf[o + 7] = c & 0xff;
    }
    const backArrived = back.buf.slice();
    assert.equal(run(nat, back), -1);
    assert.equal(view(back).src, VIP);
    nat.undo(view(back));
    assert.deepEqual(back.buf, backArrived, `packet ${k}: from the backend, put back`);
    assertChecksumsRecomputed(back, zero);

    // A packet the NAT left alone: undo() leaves it alone too (even right after a rewrite of another).
    const other = udp(src, a('203.0.113.1'), sport, dport, 8, r);
    const otherArrived = other.buf.slice();
    assert.equal(run(nat, other), -1);
    nat.undo(view(other));
    assert.deepEqual(other.buf, otherArrived);
  }
});

test('UDP checksums whose update lands on 0 are sent as 0xffff, never as "no checksum"', () => {
  // Search for packets whose rewritten checksum computes to 0 and check both directions.
  const r = rng(99);
  const nat = new VirtualServiceNat(SERVICES.slice(0, 1), new Clock());
  let hits = 0;
  for (let k = 0; k < 300_000 && hits < 3; k++) {
    const sport = 1 + ((r() * 65535) | 0);
    const p = udp(APPLIANCE, VIP, sport, 53, 2, r);
    const copy = p.buf.slice();
    writeU32(copy, 16, S1);
    copy[26] = 0; copy[27] = 0;
    if (checksum(copy, 20, 10, pseudoHeaderSum(APPLIANCE, S1, IpProto.UDP, 10)) !== 0) continue;
    hits++;
    run(nat, p);
    assert.equal((p.buf[26]! << 8) | p.buf[27]!, 0xffff);
    assertChecksumsRecomputed(p);
  }
  assert.ok(hits > 0, 'found a packet whose checksum computes to 0');
});

test('one flow per tuple: packets reuse it, and the backend is kept', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  for (let i = 0; i < 5; i++) {
    const p = tcp(TEST_APPLIANCE, VIP, 40000, 80, i === 0 ? TcpFlag.SYN : TcpFlag.ACK, i * 10);
    assert.equal(run(nat, p), -1);
    assert.equal(view(p).dst, S2);
    clock.now += 1000;
  }
  assert.equal(nat.flows.created, 1);
  assert.equal(nat.flows.held, 1);
  const e = nat.flows.findInbound(IpProto.TCP, TEST_APPLIANCE, 40000, VIP, 80);
  assert.equal(nat.flows.packets[e], 5);
  // Same client port, other service port: another flow.
  run(nat, tcp(TEST_APPLIANCE, VIP, 40000, 443, TcpFlag.SYN));
  // Same tuple over UDP: another flow.
  run(nat, udp(TEST_APPLIANCE, VIP, 40000, 80));
  assert.equal(nat.flows.created, 3);
  assert.equal(nat.backendFlowsCreated[1], 3); // server2
  assert.equal(nat.backendFlowsCreated[0], 0); // server1
  assert.equal(nat.backendPackets[1], 7);
});

test('idle expiry per service, with a fake clock', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  const r = rng(3);
  const first = tcp(APPLIANCE, VIP, 50000, 80, TcpFlag.SYN, 0, r);
  run(nat, first);
  run(nat, reply(first, r)); // answered: the service's idle timeout applies (an unanswered flow's is 5 s)
  const other = udp(a('192.0.2.1'), VIP2, 50000, 53, 4, r); // service "other": idle 5 s
  run(nat, other);
  assert.equal(view(other).dst, S3);
  assert.equal(nat.flows.liveCount(), 2);

  clock.now += 5000;
  assert.equal(nat.flows.liveCount(), 1, 'the 5 s service forgot its flow');
  const late = reply(other, r);
  const lateBefore = late.buf.slice();
  run(nat, late);
  assert.deepEqual(late.buf, lateBefore, 'return traffic of a forgotten flow is untouched');

  clock.now += 24_999; // 29.999 s after the last packet of the 30 s service
  const ok = reply(first, r);
  run(nat, ok);
  assert.equal(view(ok).src, VIP, 'still live one ms before its idle timeout');
  clock.now += 30_000;
  assert.equal(nat.flows.liveCount(), 0);
  const gone = reply(first, r);
  const goneBefore = gone.buf.slice();
  run(nat, gone);
  assert.deepEqual(gone.buf, goneBefore);
  // The client speaks again: a new flow.
  const again = tcp(APPLIANCE, VIP, 50000, 80, TcpFlag.ACK, 0, r);
  run(nat, again);
  assert.equal(view(again).dst, S1);
  assert.equal(nat.flows.created, 3);
  assert.equal(nat.flows.expired, 2);
  assert.equal(nat.flows.held, 1);
  assert.equal(nat.returnUntranslated, 2);
  // Never answered: forgotten after UNANSWERED_IDLE_MS, long before the service's 30 s.
  clock.now += UNANSWERED_IDLE_MS - 1;
  assert.equal(nat.flows.liveCount(), 1);
  clock.now += 1;
  assert.equal(nat.flows.liveCount(), 0);
});

test('a bare SYN on a closing tuple starts a new flow; a retransmitted SYN does not', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  run(nat, tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.SYN));
  clock.now += 200;
  const syn = tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.SYN); // retransmission
  run(nat, syn);
  assert.equal(nat.flows.created, 1);
  const synAck = reply(syn, Math.random, TcpFlag.SYN | TcpFlag.ACK);
  run(nat, synAck);
  assert.equal(view(synAck).src, VIP);
  run(nat, tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.ACK));
  run(nat, tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.FIN | TcpFlag.ACK));
  const e = nat.flows.findInbound(IpProto.TCP, APPLIANCE, 41000, VIP, 80);
  assert.ok(nat.flows.isClosing(e));
  run(nat, reply(syn, Math.random, TcpFlag.FIN | TcpFlag.ACK));
  run(nat, tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.ACK)); // the last ACK: same flow
  assert.equal(nat.flows.created, 1);
  // Port reuse: a new connection on the same tuple while the old one lingers.
  clock.now += 100;
  const p = tcp(APPLIANCE, VIP, 41000, 80, TcpFlag.SYN);
  assert.equal(run(nat, p), -1);
  assert.equal(view(p).dst, S1);
  assert.equal(nat.flows.created, 2);
  assert.equal(nat.synRestarts, 1);
  assert.equal(nat.flows.isClosing(nat.flows.findInbound(IpProto.TCP, APPLIANCE, 41000, VIP, 80)), false);
  // A closing flow lingers at most 1 s after its last packet (RST this time, from the backend).
  run(nat, reply(p, Math.random, TcpFlag.RST));
  clock.now += 999;
  assert.equal(nat.flows.liveCount(), 1);
  clock.now += 1;
  assert.equal(nat.flows.liveCount(), 0);
});

test('a full table: expired flows go first, then the oldest never-answered one; answered flows are never evicted; full of them, new flows are refused', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES.slice(0, 1), clock, 4);
  const r = rng(11);
  const flows = [0, 1, 2, 3].map((i) => tcp(APPLIANCE, VIP, 42000 + i, 80, TcpFlag.SYN, 0, r));
  for (const p of flows) {
    run(nat, p);
    clock.now += 1;
  }
  run(nat, reply(flows[0]!, r));
  run(nat, reply(flows[1]!, r));
  assert.equal(nat.flows.held, 4);

  // Full, nothing expired: the oldest unanswered flow (2) makes room.
  const fifth = tcp(APPLIANCE, VIP, 42004, 80, TcpFlag.SYN, 0, r);
  assert.equal(run(nat, fifth), -1);
  assert.equal(view(fifth).dst, S1);
  assert.equal(nat.flows.evictedUnanswered, 1);
  const r2 = reply(flows[2]!, r);
  const r2Before = r2.buf.slice();
  run(nat, r2);
  assert.deepEqual(r2.buf, r2Before, 'the evicted flow is gone');
  for (const p of [flows[0]!, flows[1]!, flows[3]!, fifth]) {
    const back = reply(p, r);
    run(nat, back);
    assert.equal(view(back).src, VIP, 'answered and younger flows were kept');
  }

  // Now every flow was answered: a new one is refused, its packet untouched.
  const sixth = tcp(APPLIANCE, VIP, 42005, 80, TcpFlag.SYN, 0, r);
  const sixthBefore = sixth.buf.slice();
  assert.equal(run(nat, sixth), Drop.NAT_NO_FLOW);
  assert.deepEqual(sixth.buf, sixthBefore, 'a refused packet is not modified');
  assert.equal(nat.flows.refusedFull, 1);

  clock.now += 30_000; // all expired: the least recently used goes first
  run(nat, tcp(APPLIANCE, VIP, 42006, 80, TcpFlag.SYN, 0, r));
  assert.equal(nat.flows.findInbound(IpProto.TCP, APPLIANCE, 42000, VIP, 80), -1, 'flow 0 was the least recently used');
  assert.ok(nat.flows.findInbound(IpProto.TCP, APPLIANCE, 42004, VIP, 80) >= 0);
});

test('a flood of one-packet flows cannot lock new connections out: per-client limit, and eviction of unanswered flows', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES.slice(0, 1), clock, 4096);
  const r = rng(12);
  // One client, 70,000 one-packet UDP flows: it stops at its limit.
  for (let i = 0; i < 70_000; i++) run(nat, udp(APPLIANCE, VIP, 1024 + (i % 60_000), 5000 + ((i / 60_000) | 0), 4, r));
  assert.equal(nat.flows.held, nat.flows.maxPerClient);
  assert.ok(nat.flows.refusedClientLimit > 60_000);
  // Many (forged) clients: the table fills with unanswered flows…
  for (let i = 0; i < 8000; i++) run(nat, udp((0x0a400000 + i) >>> 0, VIP, 4000, 53, 4, r));
  assert.equal(nat.flows.held, 4096);
  assert.ok(nat.flows.evictedUnanswered > 0);
  // …and a real client still gets its connection, and keeps it once answered.
  const syn = tcp(TEST_APPLIANCE, VIP, 55555, 80, TcpFlag.SYN, 0, r);
  assert.equal(run(nat, syn), -1);
  assert.equal(view(syn).dst, S2);
  run(nat, reply(syn, r));
  for (let i = 0; i < 8000; i++) run(nat, udp((0x0a600000 + i) >>> 0, VIP, 4000, 53, 4, r));
  const later = reply(syn, r);
  run(nat, later);
  assert.equal(view(later).src, VIP, 'an answered flow survives the flood');
  assert.equal(nat.flows.refusedFull, 0, 'nothing refused while unanswered flows could make room');
});

test('non-first fragments to a VIP are dropped; a first fragment is translated', () => {
  const nat = new VirtualServiceNat(SERVICES, new Clock());
  const later = tcp(APPLIANCE, VIP, 43000, 80, TcpFlag.ACK, 100, Math.random, 0, 0x2000 | 185);
  const before = later.buf.slice();
  assert.equal(run(nat, later), Drop.NAT_NO_FLOW);
  assert.deepEqual(later.buf, before);
  const last = udp(APPLIANCE, VIP, 43000, 53, 64);
  ipHeader(last.buf, last.len, IpProto.UDP, APPLIANCE, VIP, 0, 3); // offset 24 bytes, no MF
  assert.equal(run(nat, last), Drop.NAT_NO_FLOW);
  assert.equal(nat.fragmentsDropped, 2);
  assert.equal(nat.flows.created, 0);

  const first = tcp(APPLIANCE, VIP, 43000, 80, TcpFlag.ACK, 100, Math.random, 0, 0x2000);
  assert.equal(run(nat, first), -1);
  assert.equal(view(first).dst, S1);
  // The TCP checksum covers the whole datagram, so only the IP header can be checked here.
  assert.equal(checksum(first.buf, 0, 20), 0);
});

test('traffic the NAT has no business with is left byte-for-byte untouched', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  const r = rng(5);
  run(nat, tcp(APPLIANCE, VIP, 44000, 80, TcpFlag.SYN, 0, r)); // a flow exists: 10.0.0.2:44000 → server1:80
  const echo = { buf: new Uint8Array(28 + 8), len: 28 };
  writeIpv4Header(echo.buf, 0, 28, IpProto.ICMP, APPLIANCE, VIP, 64);
  echo.buf[20] = 8;
  const c = checksum(echo.buf, 20, 8);
  echo.buf[22] = c >>> 8; echo.buf[23] = c & 0xff;
  const gre = { buf: new Uint8Array(40), len: 40 };
  writeIpv4Header(gre.buf, 0, 40, 47, APPLIANCE, VIP, 64);
  const fragFromBackend = tcp(S1, APPLIANCE, 80, 44000, TcpFlag.ACK, 50, r, 0, 0x2000 | 10);
  const cases: [string, Pkt][] = [
    ['ICMP echo to the VIP (the router answers it)', echo],
    ['another protocol to the VIP', gre],
    ['TCP between other hosts', tcp(APPLIANCE, a('192.168.1.9'), 44000, 80, TcpFlag.SYN, 10, r)],
    ['TCP from a client straight to a backend', tcp(APPLIANCE, S1, 44001, 80, TcpFlag.SYN, 10, r)],
    ['UDP from a backend with no flow', udp(S1, APPLIANCE, 53, 44000, 10, r)],
    ['TCP from a backend, other port', tcp(S1, APPLIANCE, 81, 44000, TcpFlag.ACK, 10, r)],
    ['TCP from a backend, other client', tcp(S1, a('10.0.0.3'), 80, 44000, TcpFlag.ACK, 10, r)],
    ['TCP from the other backend', tcp(S2, APPLIANCE, 80, 44000, TcpFlag.ACK, 10, r)],
    ['a non-first fragment from a backend', fragFromBackend],
    ['TCP from a non-backend with the flow\'s ports', tcp(a('192.168.1.3'), APPLIANCE, 80, 44000, TcpFlag.ACK, 10, r)],
  ];
  for (const [what, p] of cases) {
    const before = p.buf.slice();
    assert.equal(run(nat, p), -1, what);
    assert.deepEqual(p.buf, before, what);
  }
  assert.equal(nat.flows.created, 1);
  assert.equal(nat.packetsOut, 0);
});

test('too short for its header → dropped as truncated', () => {
  const nat = new VirtualServiceNat(SERVICES, new Clock());
  const p = { buf: new Uint8Array(30), len: 30 };
  writeIpv4Header(p.buf, 0, 30, IpProto.TCP, APPLIANCE, VIP, 64);
  assert.equal(run(nat, p), Drop.TRUNCATED);
  const q = { buf: new Uint8Array(26), len: 26 };
  writeIpv4Header(q.buf, 0, 26, IpProto.UDP, APPLIANCE, VIP, 64);
  assert.equal(run(nat, q), Drop.TRUNCATED);
  assert.equal(nat.truncatedDropped, 2);
});

test('two VIPs sharing a backend: a second flow with the same return tuple is refused while the first lives', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  const one = tcp(TEST_APPLIANCE, VIP, 45000, 80, TcpFlag.SYN);
  assert.equal(run(nat, one), -1);
  assert.equal(view(one).dst, S2);
  const two = tcp(TEST_APPLIANCE, VIP2, 45000, 80, TcpFlag.SYN);
  assert.equal(run(nat, two), Drop.NAT_NO_FLOW);
  assert.equal(nat.flows.refusedConflict, 1);
  clock.now += 30_000;
  const three = tcp(TEST_APPLIANCE, VIP2, 45000, 80, TcpFlag.SYN);
  assert.equal(run(nat, three), -1);
  assert.equal(view(three).dst, S2);
  const back = reply(three, Math.random);
  run(nat, back);
  assert.equal(view(back).src, VIP2);
});

test('flow table indexes stay consistent under random create/remove/expire (against a Map)', () => {
  const r = rng(1234);
  const clock = new Clock();
  const table = new NatFlowTable(64, [10_000, 3000], clock, { seed: 42 });
  const model = new Map<string, { e: number; backend: number }>();
  const keyOf = (proto: number, client: number, cport: number, vip: number, port: number) => `${proto}/${client}/${cport}/${vip}/${port}`;
  for (let step = 0; step < 100_000; step++) {
    clock.now += (r() * 50) | 0;
    // Few distinct values, so keys collide and clusters form.
    const proto = r() < 0.5 ? 6 : 17;
    const client = (r() * 8) | 0;
    const cport = (r() * 8) | 0;
    const vip = 100 + ((r() * 2) | 0);
    const port = (r() * 3) | 0;
    const svc = vip - 100;
    const backend = 200 + ((client + vip) & 3);
    const k = keyOf(proto, client, cport, vip, port);
    const e = table.findInbound(proto, client, cport, vip, port);
    const m = model.get(k);
    assert.equal(e, m ? m.e : -1, `step ${step}: inbound lookup`);
    if (m) assert.equal(table.findReturn(proto, m.backend, port, client, cport), m.e, `step ${step}: return lookup`);
    const op = r();
    if (e >= 0 && (op < 0.3 || table.isExpired(e))) {
      table.remove(e);
      model.delete(k);
    } else if (e >= 0) {
      table.touch(e, r() < 0.05 ? TcpFlag.FIN : 0, r() < 0.5);
    } else {
      const held = table.held;
      const expiredBefore = table.expired + table.evictedUnanswered;
      const conflictsBefore = table.refusedConflict;
      const made = table.create(svc, 0, backend, proto, client, cport, vip, port);
      if (made >= 0) {
        model.set(k, { e: made, backend });
        // Whatever the table reclaimed to make room must leave the model too.
        if (table.expired + table.evictedUnanswered > expiredBefore) {
          for (const [mk, mv] of model) if (mk !== k && table.findInbound(...(mk.split('/').map(Number) as [number, number, number, number, number])) !== mv.e) model.delete(mk);
        }
      } else {
        assert.ok(table.refusedConflict > conflictsBefore || held === 64, `step ${step}: refused with room`);
      }
    }
    assert.equal(table.held, model.size, `step ${step}: held`);
  }
  assert.ok(table.created > 5000);
});

test('GET /v1/nat body: services with live flows per backend, the most recent flows, counters', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  for (let i = 0; i < NAT_FLOWS_LISTED + 200; i++) {
    run(nat, udp(i % 2 ? TEST_APPLIANCE : APPLIANCE, VIP, 1000 + i, 53));
    clock.now += 1;
  }
  run(nat, tcp(APPLIANCE, VIP2, 999, 80, TcpFlag.SYN));
  const j = JSON.parse(JSON.stringify(natJson(nat))) as ReturnType<typeof natJson> & { counters: NonNullable<ReturnType<typeof natJson>['counters']> };
  assert.deepEqual(j.services.map((s) => [s.name, s.address, s.idleTimeoutS, s.backends.map((b) => [b.name, b.address, b.sources, b.flows])]), [
    ['info', '1.1.1.1', 30, [['server1', '192.168.1.2', [], 600], ['server2', '192.168.2.2', ['10.0.0.200/32', '172.16.0.0/12'], 600]]],
    ['other', '2.2.2.2', 5, [['shared', '192.168.2.2', ['10.0.0.0/24'], 1], ['server3', '192.168.3.2', [], 0]]],
  ]);
  assert.equal(j.flows.length, NAT_FLOWS_LISTED);
  assert.deepEqual(j.flows[0], {
    protocol: 'tcp', client: '10.0.0.2', clientPort: 999, vip: '2.2.2.2', port: 80, backend: 'shared', backendAddress: '192.168.2.2',
    state: 'open', packets: 1, idleMs: 0,
  });
  assert.equal(j.flows[1]!.clientPort, 1000 + NAT_FLOWS_LISTED + 199);
  assert.equal(j.flows[1]!.idleMs, 1);
  assert.equal(j.counters.live, NAT_FLOWS_LISTED + 201);
  assert.equal(j.counters.created, NAT_FLOWS_LISTED + 201);
  assert.equal(j.counters.packetsIn, NAT_FLOWS_LISTED + 201);
});

test('ownerOf: both directions of a flow (to the VIP, and the backend\'s answer) have one owner; flows spread over the workers; other packets have none', () => {
  const clock = new Clock();
  const nat = new VirtualServiceNat(SERVICES, clock);
  const r = rng(7);
  for (const threads of [1, 2, 3]) {
    const owned = new Array<number>(threads).fill(0);
    for (let i = 0; i < 600; i++) {
      const client = i % 3 === 0 ? TEST_APPLIANCE : (a('10.0.0.0') | (1 + (i % 200))) >>> 0;
      const vip = i % 5 === 0 ? VIP2 : VIP;
      const inbound = i % 2 ? tcp(client, vip, 1024 + i, 80, TcpFlag.SYN, 0, r) : udp(client, vip, 1024 + i, 53, 0, r);
      const owner = nat.ownerOf(view(inbound), threads, 12345);
      assert.ok(owner >= 0 && owner < threads);
      // The seed is part of it, the same in every worker: the same answer twice.
      assert.equal(nat.ownerOf(view(inbound), threads, 12345), owner);
      assert.equal(run(nat, inbound), -1);
      // The rewritten packet's answer, as the backend sends it (from its own address).
      const back = reply(inbound, r);
      assert.equal(nat.ownerOf(view(back), threads, 12345), owner, `flow ${i}, ${threads} threads`);
      owned[owner]! += 1;
    }
    for (const n of owned) assert.ok(n > 600 / threads / 2, `spread: ${owned.join(', ')}`);
  }
  // Not the NAT's: ICMP to a VIP, TCP between others, a non-first fragment to a VIP.
  const ping = udp(APPLIANCE, VIP, 1, 2);
  ping.buf[9] = IpProto.ICMP;
  assert.equal(nat.ownerOf(view(ping), 2, 1), -1);
  assert.equal(nat.ownerOf(view(tcp(APPLIANCE, a('8.8.8.8'), 1000, 80, TcpFlag.SYN)), 2, 1), -1);
  assert.equal(nat.ownerOf(view(tcp(APPLIANCE, VIP, 1000, 80, TcpFlag.ACK, 16, Math.random, 0, 100)), 2, 1), -1);
});

test('several threads\' NAT snapshots merged: counters and per-backend figures summed, the most recent flows of all, up to the limit', () => {
  const clock = new Clock();
  const one = new VirtualServiceNat(SERVICES, clock);
  const two = new VirtualServiceNat(SERVICES, clock);
  for (let i = 0; i < 30; i++) {
    run(i % 3 ? one : two, udp(i % 2 ? TEST_APPLIANCE : APPLIANCE, VIP, 2000 + i, 53));
    clock.now += 10;
  }
  run(two, udp(APPLIANCE, VIP2, 999, 53));
  const merged = mergeNatSnapshots([natSnapshot(one, 25), natSnapshot(two, 25)], 25)!;
  assert.equal(merged.counts.created, 31);
  assert.equal(merged.counts.live, 31);
  assert.equal(merged.counts.packetsIn, 31);
  assert.equal(merged.counts.capacity, 2 * one.flows.capacity);
  assert.equal(merged.counts.maxFlowsPerClient, one.flows.maxPerClient, 'a per-table limit, not a sum');
  assert.deepEqual(merged.backendFlowsCreated, [15, 15, 1, 0]);
  assert.deepEqual(merged.backendLive, [15, 15, 1, 0]);
  assert.equal(merged.flows.length, 25);
  for (let i = 1; i < merged.flows.length; i++) assert.ok(merged.flows[i - 1]!.idleMs <= merged.flows[i]!.idleMs, 'most recent first');
  assert.equal(merged.flows[0]!.clientPort, 999);
  // As GET /v1/nat shows it: the same as one NAT that had seen every packet.
  const j = natJsonOf(SERVICES, merged);
  assert.deepEqual(j.services[0]!.backends.map((b) => [b.name, b.flows, b.flowsCreated]), [['server1', 15, 15], ['server2', 15, 15]]);
  assert.equal(j.counters?.created, 31);
  assert.equal(mergeNatSnapshots([], 10), null);
});
