// RFC 1812 conformance of the packet path, one test per rule: a real Router
// whose ports are in-memory devices; packets in, packets (or counted drops)
// out. The README's conformance table names these tests.
//
//   host a 10.0.1.2 ── [a 10.0.1.1/24] router [b 10.0.2.1/24] ── host b 10.0.2.2
//                                      [c 10.0.3.1/30] ── gateway 10.0.3.2 ── 10.9.0.0/16
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { silentLogger } from '../../src/daemon/log.js';
import { formatAddress, parseAddress } from '../../src/net/addr.js';
import { Router } from '../../src/router/router.js';
import { checksum } from '../../src/wire/checksum.js';
import { IcmpType, UnreachCode, buildEchoRequest } from '../../src/wire/icmp.js';
import { IpProto, Ipv4View, readU32, writeIpv4Header, writeU32 } from '../../src/wire/ipv4.js';
import { TcpFlag, TcpView } from '../../src/wire/tcp.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';
import { fragmentIpv4 } from '../../src/dataplane/fragment.js';
import { MemoryDevice } from '../support/memory-device.js';

const A = parseAddress;
const HOST_A = '10.0.1.2';
const HOST_B = '10.0.2.2';

function setup(extra: Record<string, unknown> = {}) {
  const devices = new Map<string, MemoryDevice>();
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '10.0.1.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
      { name: 'c', device: 'c0', address: '10.0.3.1/30' },
    ],
    routes: [{ prefix: '10.9.0.0/16', port: 'c', via: '10.0.3.2' }],
    ...extra,
  });
  const router = new Router(config, silentLogger(), (p) => {
    const d = new MemoryDevice(p.name);
    devices.set(p.name, d);
    return d;
  });
  router.start();
  const inject = (port: string, pkt: Uint8Array) => {
    const p = router.portByName(port);
    router.arena.bytes.set(pkt, p.slotPacket(0));
    p.rxLengths[0] = pkt.length;
    router.path.forwarder.receive(p, 1);
  };
  /** What `port` sent since the last call, each checked as a valid IPv4 datagram. */
  const sent = (port: string) => devices.get(port)!.written.splice(0).map((b) => {
    const ip = new Ipv4View().attach(b, 0, b.length);
    assert.equal(ip.validate(), 0, 'a valid IPv4 header (checksum included)');
    return b;
  });
  const drops = (port: string) => router.portByName(port).counters.snapshot().drops;
  return { router, inject, sent, drops };
}

/** Put option bytes (padded with EOL) into a datagram built with a 20-byte header. */
function withOptions(pkt: Uint8Array, opts: number[]): Uint8Array {
  const padded = (opts.length + 3) & ~3;
  const out = new Uint8Array(pkt.length + padded);
  out.set(pkt.subarray(0, 20));
  out.set(opts, 20);
  out.set(pkt.subarray(20), 20 + padded);
  const ip = new Ipv4View().attach(out, 0, out.length);
  out[0] = 0x40 | ((20 + padded) >> 2);
  ip.totalLength = out.length;
  ip.fillChecksum();
  return out;
}

function echo(src: string, dst: string, opts: number[] = [], ttl = 64): Uint8Array {
  const b = new Uint8Array(28 + 16);
  buildEchoRequest(b, 0, A(src), A(dst), 0x1234, 7, 16, ttl);
  return opts.length ? withOptions(b, opts) : b;
}

function udp(src: string, dst: string, opts: number[] = [], ttl = 64, dport = 33434): Uint8Array {
  const b = new Uint8Array(28 + 8);
  buildUdpDatagram(b, 0, A(src), A(dst), 40000, dport, 8, ttl);
  return opts.length ? withOptions(b, opts) : b;
}

const addr = (s: string) => [...A(s).toString(16).padStart(8, '0').match(/../g)!].map((h) => parseInt(h, 16));
const view = (b: Uint8Array) => new Ipv4View().attach(b, 0, b.length);
const optionBytes = (b: Uint8Array) => [...b.subarray(20, view(b).headerLength)];
const icmpOf = (b: Uint8Array) => b.subarray(view(b).headerLength);
/** Milliseconds since midnight UT, as RFC 791 timestamps are. */
const msToday = () => Date.now() % 86_400_000;

/** The one ICMP error `port` sent: type, code, word 1, and the quoted datagram. */
function icmpError(b: Uint8Array) {
  const ip = view(b);
  assert.equal(ip.protocol, IpProto.ICMP);
  const m = icmpOf(b);
  assert.equal(checksum(m, 0, m.length), 0, 'ICMP checksum');
  return { src: formatAddress(ip.src), dst: formatAddress(ip.dst), type: m[0], code: m[1], word: readU32(m, 4), quoted: m.subarray(8) };
}

// ---- §5.3.13.5 Record Route, §4.2.2.2 addresses in options ----

test('§5.3.13.5: a forwarded Record Route gets the address of the port it leaves by; a full one passes unchanged', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, HOST_B, [7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0]));
  const [out] = t.sent('b');
  assert.deepEqual(optionBytes(out!), [7, 11, 8, ...addr('10.0.2.1'), 0, 0, 0, 0, 0], 'slot 1 = 10.0.2.1, pointer 8');
  assert.equal(view(out!).ttl, 63);

  const full = [7, 7, 8, ...addr('10.0.1.2')];
  t.inject('a', udp(HOST_A, HOST_B, full));
  assert.deepEqual(optionBytes(t.sent('b')[0]!), [...full, 0], 'full: forwarded without inserting');
});

// ---- §5.3.13.6 Timestamp ----

test('§5.3.13.6: forwarded timestamps — flag 0 time, flag 1 address and time, flag 3 only at a prespecified own address; full → overflow + 1', () => {
  const t = setup();
  const before = msToday();
  t.inject('a', udp(HOST_A, HOST_B, [68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
  let o = optionBytes(t.sent('b')[0]!);
  assert.equal(o[2], 9, 'pointer advanced by one entry');
  const stamped = readU32(Uint8Array.from(o), 4);
  assert.ok(stamped >= before && stamped <= msToday(), `standard time ${stamped} (ms since midnight UT)`);

  t.inject('a', udp(HOST_A, HOST_B, [68, 20, 5, 1, ...new Array(16).fill(0)]));
  o = optionBytes(t.sent('b')[0]!);
  assert.equal(o[2], 13);
  assert.deepEqual(o.slice(4, 8), addr('10.0.2.1'), 'flag 1: the egress address');

  // Flag 3: the next prespecified address is the router's ingress address (any of its addresses counts).
  t.inject('a', udp(HOST_A, HOST_B, [68, 20, 5, 3, ...addr('10.0.1.1'), 0, 0, 0, 0, ...addr('10.0.2.2'), 0, 0, 0, 0]));
  o = optionBytes(t.sent('b')[0]!);
  assert.equal(o[2], 13, 'stamped and advanced');
  assert.ok(readU32(Uint8Array.from(o), 8) > 0 || before === 0);
  // … and not when it names someone else.
  t.inject('a', udp(HOST_A, HOST_B, [68, 12, 5, 3, ...addr('10.0.2.2'), 0, 0, 0, 0]));
  assert.equal(optionBytes(t.sent('b')[0]!)[2], 5, 'not ours: unchanged');

  // Full: the overflow counter (high nibble of byte 4) counts the router.
  t.inject('a', udp(HOST_A, HOST_B, [68, 8, 9, 0x20, 0, 0, 0, 1]));
  assert.equal(optionBytes(t.sent('b')[0]!)[3], 0x30);
});

// ---- §4.3.3.5 Parameter Problem for malformed options ----

test('§4.3.3.5: malformed options → Parameter Problem pointing at the offending octet, the header quoted unchanged, nothing forwarded', () => {
  const t = setup();
  const cases: [string, number[], number][] = [
    ['option length 0', [7, 0, 4, 0], 21],
    ['option length past the header', [7, 12, 4, 0], 21],
    ['a type byte with no length byte', [1, 1, 1, 7], 23],
    ['record route pointer below 4', [7, 7, 3, 0, 0, 0, 0], 22],
    ['record route: room for less than an address', [7, 6, 4, 0, 0, 0], 22],
    ['timestamp flag 2', [68, 8, 5, 2, 0, 0, 0, 0], 23],
    ['timestamp full with overflow 15', [68, 8, 9, 0xf0, 0, 0, 0, 0], 23],
    ['timestamp pointer below 5', [68, 8, 4, 0, 0, 0, 0, 0], 22],
    ['two record routes', [7, 3, 4, 7, 3, 4, 0, 0], 23],
    ['two source routes', [131, 3, 4, 137, 3, 4, 0, 0], 23],
  ];
  for (const [name, opts, pointer] of cases) {
    const pkt = udp(HOST_A, HOST_B, opts);
    t.inject('a', pkt);
    assert.equal(t.sent('b').length, 0, `${name}: not forwarded`);
    const errs = t.sent('a');
    assert.equal(errs.length, 1, `${name}: one ICMP error`);
    const e = icmpError(errs[0]!);
    assert.deepEqual([e.type, e.code, e.word >>> 24], [IcmpType.PARAMETER_PROBLEM, 0, pointer], name);
    assert.equal(e.dst, HOST_A);
    assert.deepEqual([...e.quoted.subarray(0, view(pkt).headerLength)], [...pkt.subarray(0, view(pkt).headerLength)], `${name}: header quoted as received`);
  }
  assert.equal(t.drops('a')['bad-ip-options'], cases.length);
});

test('§4.2.2.6, §5.3.13.1-3: unrecognised, security, stream id and router alert options pass through unchanged', () => {
  const t = setup();
  const opts = [0x99, 4, 0xab, 0xcd, 130, 11, 0xf1, 0x35, 0, 0, 0, 0, 0, 0, 0, 136, 4, 0x12, 0x34, 148, 4, 0, 0];
  t.inject('a', udp(HOST_A, HOST_B, opts));
  assert.deepEqual(optionBytes(t.sent('b')[0]!), [...opts, 0]);
});

// ---- §5.2.4.1 / RFC 791 source routes ----

test('§5.3.13.4: a loose source route through the router — next address becomes the destination, the egress address is recorded', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, '10.0.1.1', [131, 7, 4, ...addr(HOST_B)]));
  const [out] = t.sent('b');
  assert.equal(formatAddress(view(out!).dst), HOST_B);
  assert.deepEqual(optionBytes(out!), [131, 7, 8, ...addr('10.0.2.1'), 0]);
  // The router's own addresses in the route are hops it has already reached.
  t.inject('a', udp(HOST_A, '10.0.1.1', [131, 11, 4, ...addr('10.0.2.1'), ...addr(HOST_B)]));
  const [skip] = t.sent('b');
  assert.equal(formatAddress(view(skip!).dst), HOST_B);
  assert.deepEqual(optionBytes(skip!), [131, 11, 12, ...addr('10.0.2.1'), ...addr('10.0.2.1'), 0]);
  // A source-routed packet not addressed to the router is forwarded as it is (only TTL changes).
  const transit = udp(HOST_A, HOST_B, [131, 7, 4, ...addr('10.9.0.9')]);
  t.inject('a', transit);
  assert.deepEqual(optionBytes(t.sent('b')[0]!), optionBytes(transit));
});

test('§4.3.3.1 code 5: strict route to a next hop not on a connected network, or no route for a source route → Source Route Failed', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, '10.0.1.1', [137, 7, 4, ...addr('10.9.0.5')])); // via a gateway: not strict
  let e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.code], [IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED]);
  assert.equal(t.sent('c').length, 0);
  t.inject('a', udp(HOST_A, '10.0.1.1', [131, 7, 4, ...addr('10.77.0.1')])); // no route at all
  e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.code], [IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED]);
  assert.equal(t.drops('a')['source-route-failed'], 2);
  // On a connected network the strict hop is fine.
  t.inject('a', udp(HOST_A, '10.0.1.1', [137, 7, 4, ...addr(HOST_B)]));
  assert.equal(formatAddress(view(t.sent('b')[0]!).dst), HOST_B);
});

test('§5.2.2: a strict source route that reaches a router not named as its next hop → Parameter Problem at the destination address', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, HOST_B, [137, 7, 4, ...addr('10.9.0.5')]));
  assert.equal(t.sent('b').length, 0);
  const e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.code, e.word >>> 24], [IcmpType.PARAMETER_PROBLEM, 0, 16]);
  assert.equal(t.drops('a')['strict-route-not-ours'], 1);
});

// ---- §4.3.3.6 echo, the router as a host (RFC 1122 §3.2.2.6, §3.2.1.8) ----

test('§4.3.3.6: echo reply with Record Route — the route includes the router; unknown options are not returned', () => {
  const t = setup();
  t.inject('a', echo(HOST_A, '10.0.1.1', [7, 11, 8, ...addr(HOST_A), 0, 0, 0, 0, 148, 4, 0, 0]));
  const [r] = t.sent('a');
  const ip = view(r!);
  assert.deepEqual([formatAddress(ip.src), formatAddress(ip.dst)], ['10.0.1.1', HOST_A]);
  assert.deepEqual(optionBytes(r!), [7, 11, 12, ...addr(HOST_A), ...addr('10.0.1.1'), 1, 1, 1, 1, 0]);
  const m = icmpOf(r!);
  assert.deepEqual([m[0], checksum(m, 0, m.length)], [IcmpType.ECHO_REPLY, 0]);
});

test('§4.2.2.1, §4.3.3.6: echo with a Timestamp — stamped when received and when the reply is sent', () => {
  const t = setup();
  const before = msToday();
  t.inject('a', echo(HOST_A, '10.0.2.1', [68, 20, 5, 1, ...new Array(16).fill(0)]));
  const [r] = t.sent('a');
  const o = Uint8Array.from(optionBytes(r!));
  assert.equal(o[2], 21, 'two address+time entries');
  assert.equal(formatAddress(readU32(o, 4)), '10.0.2.1', 'received on the address it was sent to');
  assert.equal(formatAddress(readU32(o, 12)), '10.0.1.1', 'sent from the port the reply leaves by');
  for (const at of [8, 16]) assert.ok(readU32(o, at) >= before && readU32(o, at) <= msToday());
  assert.equal(formatAddress(view(r!).src), '10.0.2.1', 'RFC 1122 §3.2.2.6: source = the specific destination');
});

test('RFC 1122 §3.2.1.8: echo with a completed source route → the reply takes the reversed route', () => {
  const t = setup();
  // From 10.9.0.7 via gateway 10.0.3.2, which recorded itself: {10.0.3.2 >>}.
  t.inject('c', echo('10.9.0.7', '10.0.3.1', [131, 7, 8, ...addr('10.0.3.2')]));
  let [r] = t.sent('c');
  assert.equal(formatAddress(view(r!).dst), '10.0.3.2', 'first hop of the return route');
  assert.deepEqual(optionBytes(r!), [131, 7, 4, ...addr('10.9.0.7'), 0]);
  // A route the source began with itself ({S, G1 >>}) is returned well formed: no S twice.
  t.inject('c', echo('10.9.0.7', '10.0.3.1', [131, 11, 12, ...addr('10.9.0.7'), ...addr('10.0.3.2')]));
  [r] = t.sent('c');
  assert.equal(formatAddress(view(r!).dst), '10.0.3.2');
  assert.deepEqual(optionBytes(r!), [131, 7, 4, ...addr('10.9.0.7'), 1, 1, 1, 1, 0]);
  // A route that ends at the router through its own addresses is delivered and answered.
  t.inject('a', echo(HOST_A, '10.0.1.1', [131, 7, 4, ...addr('10.0.2.1')]));
  [r] = t.sent('a');
  assert.equal(icmpOf(r!)[0], IcmpType.ECHO_REPLY);
  assert.equal(formatAddress(view(r!).dst), HOST_A, 'the router\'s own addresses in the return route are skipped');
});

test('RFC 1122 §3.2.1.3, RFC 1812 §4.2.2.11: a reversed source route that leads to no host (a broadcast, the router, a martian) gets no reply', () => {
  const t = setup();
  // Each a completed route whose last recorded hop — the reply's first — names no single host (found by npm run fuzz).
  for (const hop of ['10.0.1.255', '10.0.3.0', '255.255.255.255', '224.0.0.9', '127.0.0.1', '0.0.0.0', '240.0.0.1']) {
    t.inject('c', echo('10.9.0.7', '10.0.3.1', [131, 7, 8, ...addr(hop)]));
    assert.deepEqual([t.sent('a').length, t.sent('b').length, t.sent('c').length], [0, 0, 0], `no reply toward ${hop}`);
  }
  assert.equal(t.drops('c')['source-route-failed'], 7);
  // A host's address there is answered; the router's own is passed over (the reply goes on to the source).
  t.inject('c', echo('10.9.0.7', '10.0.3.1', [131, 7, 8, ...addr('10.0.3.2')]));
  assert.equal(t.sent('c').length, 1);
  t.inject('c', echo('10.9.0.7', '10.0.3.1', [131, 7, 8, ...addr('10.0.2.1')]));
  assert.equal(formatAddress(view(t.sent('c')[0]!).dst), '10.9.0.7');
});

test('§4.3.3.8: timestamp request → reply with receive and transmit times (ms since midnight UT)', () => {
  const t = setup();
  const b = new Uint8Array(40);
  b[20] = IcmpType.TIMESTAMP_REQUEST;
  b[24] = 0xab; b[25] = 0xcd; b[27] = 1;
  writeU32(b, 28, 123456);
  const c = checksum(b, 20, 20); b[22] = c >> 8; b[23] = c & 255;
  writeIpv4Header(b, 0, 40, IpProto.ICMP, A(HOST_A), A('10.0.1.1'), 64);
  const before = msToday();
  t.inject('a', b);
  const [r] = t.sent('a');
  const m = icmpOf(r!);
  assert.deepEqual([m[0], m[1], checksum(m, 0, m.length)], [IcmpType.TIMESTAMP_REPLY, 0, 0]);
  assert.deepEqual([...m.subarray(4, 8)], [0xab, 0xcd, 0, 1], 'identifier and sequence');
  assert.equal(readU32(m, 8), 123456, 'originate time kept');
  assert.ok(readU32(m, 12) >= before && readU32(m, 16) <= msToday());
});

test('§4.3.3.9: address mask request → the mask of the port it came in on; from 0.0.0.0 the reply is broadcast on that link', () => {
  const t = setup();
  const req = (src: string, dst: string) => {
    const b = new Uint8Array(32);
    b[20] = IcmpType.ADDRESS_MASK_REQUEST;
    const c = checksum(b, 20, 12); b[22] = c >> 8; b[23] = c & 255;
    writeIpv4Header(b, 0, 32, IpProto.ICMP, A(src), A(dst), 64);
    return b;
  };
  t.inject('c', req('10.0.3.2', '10.0.3.1'));
  let [r] = t.sent('c');
  assert.equal(icmpOf(r!)[0], IcmpType.ADDRESS_MASK_REPLY);
  assert.equal(formatAddress(readU32(icmpOf(r!), 8)), '255.255.255.252');
  t.inject('a', req('0.0.0.0', '255.255.255.255'));
  [r] = t.sent('a');
  assert.deepEqual([formatAddress(view(r!).src), formatAddress(view(r!).dst)], ['10.0.1.1', '255.255.255.255']);
  assert.equal(formatAddress(readU32(icmpOf(r!), 8)), '255.255.255.0');
});

test('RFC 9293 §3.10.7.1, RFC 1812 §4.3.3.1: TCP to the router gets a reset (not a port unreachable); a reset gets nothing', () => {
  const t = setup();
  const seg = (flags: number, seq: number, ack: number, data = 0) => {
    const b = new Uint8Array(40 + data);
    b[20] = 0x9c; b[21] = 0x40; b[22] = 0; b[23] = 22; // 40000 → 22
    writeU32(b, 24, seq); writeU32(b, 28, ack);
    b[32] = 0x50; b[33] = flags; b[34] = 0xff;
    writeIpv4Header(b, 0, 40 + data, IpProto.TCP, A(HOST_A), A('10.0.1.1'), 64);
    const tv = new TcpView().attach(b, 20, 20 + data);
    const c = checksum(b, 20, 20 + data, (A(HOST_A) >>> 16) + (A(HOST_A) & 0xffff) + (A('10.0.1.1') >>> 16) + (A('10.0.1.1') & 0xffff) + 6 + 20 + data);
    b[36] = c >> 8; b[37] = c & 255;
    assert.ok(tv.checksumOk(A(HOST_A), A('10.0.1.1'), 20 + data));
    return b;
  };
  t.inject('a', seg(TcpFlag.SYN, 1000, 0));
  let [r] = t.sent('a');
  let tcp = new TcpView().attach(r!, 20, 20);
  assert.ok(tcp.checksumOk(A('10.0.1.1'), A(HOST_A), 20));
  assert.deepEqual([view(r!).protocol, tcp.flags, tcp.seq, tcp.ack, tcp.srcPort, tcp.dstPort], [IpProto.TCP, TcpFlag.RST | TcpFlag.ACK, 0, 1001, 22, 40000]);
  t.inject('a', seg(TcpFlag.ACK | TcpFlag.PSH, 5000, 777, 10));
  [r] = t.sent('a');
  tcp = new TcpView().attach(r!, 20, 20);
  assert.deepEqual([tcp.flags, tcp.seq], [TcpFlag.RST, 777]);
  t.inject('a', seg(TcpFlag.RST, 5000, 0));
  assert.equal(t.sent('a').length, 0);
});

test('RFC 1122 §4.1.3.1: UDP to a port nobody listens on → Port Unreachable from the router', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, '10.0.2.1'));
  const e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.code, e.src], [IcmpType.DEST_UNREACHABLE, UnreachCode.PORT, '10.0.1.1']);
});

test('§4.3.2.8: replies are rate-limited — an echo flood gets the burst, the rest is counted', () => {
  const t = setup({ replyRateLimit: { rate: 1, burst: 5 } });
  for (let i = 0; i < 50; i++) t.inject('a', echo(HOST_A, '10.0.1.1'));
  const replies = t.sent('a').length;
  assert.ok(replies >= 5 && replies <= 6, `${replies} replies`);
  assert.equal(t.router.path.server.suppressed, 50 - replies);
  assert.equal(t.drops('a')['reply-rate-limited'], 50 - replies);
});

// ---- §5.3.7 / §4.2.2.11 source and destination addresses ----

test('§5.3.7: a packet with the router\'s own address as source is dropped and counted — forwarded or for the router', () => {
  const t = setup();
  t.inject('a', udp('10.0.2.1', HOST_B));
  t.inject('a', udp('10.0.1.1', HOST_B));
  t.inject('a', echo('10.0.3.1', '10.0.1.1'));
  assert.equal(t.sent('b').length + t.sent('a').length + t.sent('c').length, 0);
  assert.equal(t.drops('a')['own-source-address'], 3);
});

test('§4.2.2.11, §5.3.7, RFC 3927: invalid sources are not forwarded; invalid destinations neither', () => {
  const t = setup();
  for (const src of ['10.0.1.255', '10.0.1.0', '10.0.3.3', '0.0.0.0', '0.1.2.3', '127.0.0.1', '224.0.0.5', '240.0.0.1', '255.255.255.255', '169.254.7.7']) {
    t.inject('a', udp(src, HOST_B));
  }
  assert.equal(t.sent('b').length, 0);
  assert.equal(t.drops('a')['martian-source'], 10);
  for (const dst of ['10.0.2.0', '169.254.1.1', '0.0.0.1', '127.0.0.1', '240.0.0.1']) t.inject('a', udp(HOST_A, dst));
  assert.equal(t.sent('b').length, 0);
  assert.equal(t.drops('a')['martian-destination'], 5);
  assert.equal(t.sent('a').length, 0, 'no ICMP error about any of them');
});

// ---- §4.3.2.4 ICMP source, §4.2.2.3 reserved bits ----

test('§4.3.2.4: an ICMP error\'s source is the router\'s address on the port the error leaves by', () => {
  const t = setup();
  // From host a's address but arriving on port b (asymmetric): the error goes back by port a.
  t.inject('b', udp(HOST_A, '10.9.0.1', [], 1));
  const e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.src, e.dst], [IcmpType.TIME_EXCEEDED, '10.0.1.1', HOST_A]);
});

test('§4.3.2.4 through the NAT: an error about a packet the NAT rewrote goes to its sender and quotes the datagram as it arrived', () => {
  const VIP = '10.0.100.1';
  const t = setup({ virtualServices: [{ name: 'svc', address: VIP, idleTimeout: 30, backends: [{ name: 's1', address: HOST_A }] }] });
  const datagram = (src: string, dst: string, sport: number, dport: number, ttl: number) => {
    const b = new Uint8Array(28 + 8);
    buildUdpDatagram(b, 0, A(src), A(dst), sport, dport, 8, ttl);
    return b;
  };
  // A client on b opens a flow to the service; the NAT sends it to the backend on a.
  t.inject('b', datagram(HOST_B, VIP, 40000, 53, 64));
  const [toBackend] = t.sent('a');
  assert.equal(formatAddress(view(toBackend!).dst), HOST_A);
  // The backend answers with TTL 1: the NAT gives it the VIP's source, and TTL expires.
  // Time Exceeded goes to the backend (not the VIP, the router itself) about what it sent.
  const answer = datagram(HOST_A, HOST_B, 53, 40000, 1);
  t.inject('a', answer.slice());
  const back = icmpError(t.sent('a')[0]!);
  assert.deepEqual([back.type, back.src, back.dst], [IcmpType.TIME_EXCEEDED, '10.0.1.1', HOST_A]);
  assert.deepEqual([...back.quoted], [...answer], 'the backend\'s datagram as it sent it (its address, its UDP checksum)');
  // A client's packet to the VIP that expires: the error quotes the VIP it sent to, not the backend's address.
  const request = datagram(HOST_B, VIP, 40001, 53, 1);
  t.inject('b', request.slice());
  const out = icmpError(t.sent('b')[0]!);
  assert.deepEqual([out.type, out.src, out.dst], [IcmpType.TIME_EXCEEDED, '10.0.2.1', HOST_B]);
  assert.deepEqual([...out.quoted], [...request]);
  assert.deepEqual(t.sent('a'), []);
});

test('§4.2.2.3: the reserved flag bit and the TOS bits are passed through unchanged', () => {
  const t = setup();
  const p = udp(HOST_A, HOST_B);
  p[1] = 0x03; p[6] |= 0x80;
  view(p).fillChecksum();
  t.inject('a', p);
  const [out] = t.sent('b');
  assert.deepEqual([out![1], out![6]! & 0x80], [0x03, 0x80]);
  // … and into every fragment.
  const big = new Uint8Array(1400);
  buildUdpDatagram(big, 0, A(HOST_A), A(HOST_B), 40000, 9, 1372, 64);
  big[6] |= 0x80;
  view(big).fillChecksum();
  const frags = fragments(big, 576);
  assert.equal(frags.length, 3);
  for (const f of frags) assert.equal(f[6]! & 0x80, 0x80);
});

test('§5.3.1, §4.2.2.9: TTL is checked only when forwarding — a TTL-1 echo to the router is answered', () => {
  const t = setup();
  t.inject('a', echo(HOST_A, '10.0.2.1', [], 1));
  assert.equal(icmpOf(t.sent('a')[0]!)[0], IcmpType.ECHO_REPLY);
});

// ---- §4.2.2.8 reassembly, §4.3.3.6 large echo ----

/** Split a datagram into fragments of at most `mtu` bytes. */
function fragments(pkt: Uint8Array, mtu: number): Uint8Array[] {
  const out = new Uint8Array(pkt.length * 2 + 4096);
  const offs = new Int32Array(64), lens = new Int32Array(64);
  const n = fragmentIpv4(pkt, 0, pkt.length, mtu, out, 0, out.length, offs, lens);
  assert.ok(n > 1);
  return Array.from({ length: n }, (_, i) => out.slice(offs[i]!, offs[i]! + lens[i]!));
}

/** Put fragments back together (the test's own reassembly: by offset, header of the first). */
function join(frags: Uint8Array[]): Uint8Array {
  const first = frags.find((f) => view(f).fragmentOffset === 0)!;
  const hl = view(first).headerLength;
  const end = Math.max(...frags.map((f) => view(f).fragmentOffset * 8 + view(f).payloadLength));
  const whole = new Uint8Array(hl + end);
  whole.set(first.subarray(0, hl));
  for (const f of frags) whole.set(f.subarray(view(f).headerLength, view(f).totalLength), hl + view(f).fragmentOffset * 8);
  view(whole).totalLength = whole.length;
  return whole;
}

test('§4.2.2.8, §4.3.3.6: a fragmented echo request to the router is reassembled and answered in full', () => {
  const t = setup();
  const big = new Uint8Array(20 + 8 + 4000);
  buildEchoRequest(big, 0, A(HOST_A), A('10.0.1.1'), 0x4242, 1, 4000);
  big[4] = 0x12; big[5] = 0x34; view(big).fillChecksum(); // an identification, as a fragmenting host sets
  const frags = fragments(big, 1000);
  for (const f of [frags[2]!, frags[0]!, frags[4]!, frags[1]!, frags[3]!]) t.inject('a', f); // out of order
  const reply = join(t.sent('a'));
  const ip = view(reply);
  assert.deepEqual([formatAddress(ip.src), formatAddress(ip.dst), ip.totalLength], ['10.0.1.1', HOST_A, big.length]);
  const m = icmpOf(reply);
  assert.deepEqual([m[0], checksum(m, 0, m.length)], [IcmpType.ECHO_REPLY, 0]);
  assert.deepEqual([...m.subarray(4)], [...big.subarray(24)], 'identifier, sequence and all 4000 data bytes');
  assert.equal(t.router.path.reassembly.completed, 1);
});

test('§4.2.2.8: fragments that would make more than 65535 bytes, or data past the last fragment, are refused and counted', () => {
  const t = setup();
  const f = udp(HOST_A, '10.0.1.1');
  f[6] = 0x1f; f[7] = 0xff; // offset 8191 × 8: past 65535 with any data
  view(f).fillChecksum();
  t.inject('a', f);
  const big = new Uint8Array(20 + 8 + 2000);
  buildEchoRequest(big, 0, A(HOST_A), A('10.0.1.1'), 1, 1, 2000);
  const frags = fragments(big, 1000);
  const last = frags.at(-1)!;
  t.inject('a', last);
  const beyond = frags[0]!.slice();
  beyond[7] = (view(last).fragmentOffset + 8) & 0xff; // a middle fragment past the end the last one set
  beyond[6] = (beyond[6]! | 0x20) | ((view(last).fragmentOffset + 8) >> 8);
  view(beyond).fillChecksum();
  t.inject('a', beyond);
  assert.equal(t.drops('a')['reassembly-failed'], 2);
  assert.equal(t.sent('a').length, 0);
});

test('§4.3.2.1, §4.3.3.7: unknown ICMP types and Information Requests are silently discarded', () => {
  const t = setup();
  for (const type of [42, 15]) {
    const b = new Uint8Array(28);
    b[20] = type;
    const c = checksum(b, 20, 8); b[22] = c >> 8; b[23] = c & 255;
    writeIpv4Header(b, 0, 28, IpProto.ICMP, A(HOST_A), A('10.0.1.1'), 64);
    t.inject('a', b);
  }
  assert.equal(t.sent('a').length, 0);
  assert.equal(t.drops('a')['local-unhandled'], 2);
});

test('§4.3.3.1 code 2: a protocol the router does not speak → Protocol Unreachable', () => {
  const t = setup();
  const b = new Uint8Array(28);
  writeIpv4Header(b, 0, 28, 99, A(HOST_A), A('10.0.1.1'), 64);
  t.inject('a', b);
  const e = icmpError(t.sent('a')[0]!);
  assert.deepEqual([e.type, e.code], [IcmpType.DEST_UNREACHABLE, UnreachCode.PROTOCOL]);
});

test('§5.2.3, §5.3.5 (RFC 2644): a directed broadcast to an attached subnet is the router\'s, never forwarded, never answered with an error', () => {
  const t = setup();
  t.inject('a', udp(HOST_A, '10.0.2.255'));
  t.inject('a', echo(HOST_A, '10.0.2.255'));
  assert.equal(t.sent('b').length + t.sent('a').length, 0);
});

test('§4.3.2.5: an echo reply has the request\'s precedence', () => {
  const t = setup();
  const p = echo(HOST_A, '10.0.1.1');
  p[1] = 0xa0;
  view(p).fillChecksum();
  t.inject('a', p);
  assert.equal(t.sent('a')[0]![1], 0xa0);
});

test('§4.3.2.8: ICMP errors are rate-limited by the configured bucket', () => {
  const t = setup({ icmpRateLimit: { rate: 1, burst: 3 } });
  for (let i = 0; i < 10; i++) t.inject('a', udp(HOST_A, HOST_B, [], 1));
  const errors = t.sent('a').length;
  assert.ok(errors >= 3 && errors <= 4, `${errors} errors`);
  assert.equal(t.router.path.icmp.suppressed, 10 - errors);
  assert.equal(t.drops('a')['ttl-expired'], 10);
});

test('§5.3.4: a packet that came in a link-layer broadcast or multicast frame is the router\'s only, never forwarded', () => {
  const mac = Uint8Array.from([0x02, 0, 0, 0, 0, 0x0e]);
  const devices = new Map<string, MemoryDevice>();
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'e', type: 'ethernet', device: 'e0', address: '10.0.5.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
    ],
  });
  const router = new Router(config, silentLogger(), (p) => {
    const d = new MemoryDevice(p.name, p.type === 'ethernet' ? mac : undefined);
    devices.set(p.name, d);
    return d;
  });
  router.start();
  try {
    const e = router.portByName('e');
    const frameTo = (dstMac: number[]) => {
      const pkt = udp('10.0.5.2', HOST_B);
      const at = e.slotPacket(0) - 14;
      router.arena.bytes.set([...dstMac, 0x02, 0, 0, 0, 0, 0x99, 0x08, 0x00], at);
      router.arena.bytes.set(pkt, at + 14);
      e.rxLengths[0] = 14 + pkt.length;
      router.path.forwarder.receive(e, 1);
      return devices.get('b')!.written.splice(0).length;
    };
    assert.equal(frameTo([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 0, 'a broadcast frame is not forwarded');
    assert.equal(frameTo([0x01, 0x00, 0x5e, 0x00, 0x00, 0x09]), 0, 'a multicast frame is not forwarded');
    assert.equal(e.counters.snapshot().drops['link-broadcast-not-routed'], 2);
    assert.equal(frameTo([...mac]), 1, 'the same packet in a frame to the port\'s MAC is');
  } finally {
    router.stop();
  }
});
