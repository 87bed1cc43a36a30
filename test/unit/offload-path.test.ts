// The packet path with offloads, one packet kind at a time: a real Router
// whose ports are in-memory devices — some in offload mode (a virtio-net
// header in front of every packet, super-packets and partial checksums),
// some plain — packets in, what each device was given out. Segments are
// checked against an independent reference (naive RFC 1071 sums over the
// literal pseudo-header; DataView for the fields).
//
//   a 10.0.1.1/24 (offload) ── router ── b 10.0.2.1/24 (offload)
//                                   ├── p 10.0.3.1/24 (plain, MTU 1500)
//                                   ├── m 10.0.4.1/24 (plain, MTU 1280)
//                                   └── n 10.0.5.1/24 (offload without TSO/USO: checksum only)
// and, on a router of its own, an Ethernet port in offload mode whose
// neighbour is being resolved (a super-packet cut and held for ARP).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { silentLogger } from '../../src/daemon/log.js';
import { parseAddress } from '../../src/net/addr.js';
import type { DeviceOffload } from '../../src/ports/device.js';
import { Router } from '../../src/router/router.js';
import { MemoryDevice } from '../support/memory-device.js';
import { L2Drop, L2Event } from '../../src/ports/ethernet/link-counters.js';
import { ArpOp, writeArp } from '../../src/wire/arp.js';
import { EtherType, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { VIRTIO_NET_HDR_LEN, VirtioFlag, VirtioGso, VirtioNetHdrView } from '../../src/wire/virtio-net.js';

const A = parseAddress;
const VH = VIRTIO_NET_HDR_LEN;

const FULL: DeviceOffload = { vnetHdrSize: VH, csum: true, tso4: true, uso4: true, rxSuper: true };
const CSUM_ONLY: DeviceOffload = { vnetHdrSize: VH, csum: true, tso4: false, uso4: false, rxSuper: true };

function setup(extra: Record<string, unknown> = {}) {
  const devices = new Map<string, MemoryDevice>();
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '10.0.1.1/24' },
      { name: 'b', device: 'b0', address: '10.0.2.1/24' },
      { name: 'p', device: 'p0', address: '10.0.3.1/24', offload: false },
      { name: 'm', device: 'm0', address: '10.0.4.1/24', offload: false, mtu: 1280 },
      { name: 'n', device: 'n0', address: '10.0.5.1/24' },
    ],
    ...extra,
  });
  const router = new Router(config, silentLogger(), (pc) => {
    const d = new MemoryDevice(pc.name, undefined, !pc.offload ? null : pc.name === 'n' ? CSUM_ONLY : FULL);
    devices.set(pc.name, d);
    return d;
  });
  router.start();
  /** Hand `pkts` to port `name` as one read batch; `hdrs[i]` the virtio-net header bytes (offload ports; default zero). */
  const inject = (name: string, pkts: Uint8Array[], hdrs: (number[] | undefined)[] = []) => {
    const p = router.portByName(name);
    pkts.forEach((pkt, i) => {
      const at = p.slotPacket(i);
      router.arena.bytes.set(pkt, at);
      if (p.vnetHdrSize) router.arena.bytes.set(hdrs[i] ?? new Array(VH).fill(0), at - VH);
      p.rxLengths[i] = pkt.length + p.vnetHdrSize;
    });
    router.path.forwarder.receive(p, pkts.length);
  };
  /** What port `name` was given since the last call: the virtio-net header (offload ports) and the IP packet. */
  const sent = (name: string) => devices.get(name)!.written.splice(0).map((w) => {
    const vh = router.portByName(name).vnetHdrSize;
    const hdr = vh ? new VirtioNetHdrView().attach(w, 0, vh) : null;
    return { hdr, ip: w.subarray(vh) };
  });
  const counters = (name: string) => router.portByName(name).counters.snapshot();
  return { router, inject, sent, counters };
}

// ---- packets, built independently of src/wire ------------------------------

function naiveSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 2) s += bytes[i]! * 256 + (i + 1 < bytes.length ? bytes[i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return s;
}

/** Sum of the pseudo-header of an L4 part of `len` bytes. */
function pseudo(src: number, dst: number, proto: number, len: number): number {
  const ph = new Uint8Array(12);
  const v = new DataView(ph.buffer);
  v.setUint32(0, src); v.setUint32(4, dst); ph[9] = proto; v.setUint16(10, len);
  return naiveSum(ph);
}

/** Whether the L4 checksum of the IPv4 packet `p` verifies (whole packet). */
function l4ChecksumOk(p: Uint8Array): boolean {
  const hl = (p[0]! & 15) * 4;
  const v = new DataView(p.buffer, p.byteOffset);
  const len = v.getUint16(2);
  const l4 = p.subarray(hl, len);
  const s = naiveSum(l4) + pseudo(v.getUint32(12), v.getUint32(16), p[9]!, l4.length);
  return ((s & 0xffff) + Math.floor(s / 65536)) === 0xffff;
}

function ipChecksumOk(p: Uint8Array): boolean {
  return naiveSum(p.subarray(0, (p[0]! & 15) * 4)) === 0xffff;
}

interface Build {
  src?: string; dst?: string; proto?: 'tcp' | 'udp'; payload: number; ttl?: number; df?: boolean; id?: number;
  flags?: number; seq?: number; ipOpts?: number[];
  /** Leave the L4 checksum partial (pseudo-header sum of the whole L4 length), as a kernel hands it over. */
  partial?: boolean;
}

/** A TCP or UDP/IPv4 packet (or super-packet) with a patterned payload. */
function build(o: Build): Uint8Array {
  const tcp = (o.proto ?? 'tcp') === 'tcp';
  const opts = o.ipOpts ?? [];
  const hl = 20 + opts.length;
  const l4h = tcp ? 32 : 8;
  const len = hl + l4h + o.payload;
  const p = new Uint8Array(len);
  const v = new DataView(p.buffer);
  const src = A(o.src ?? '10.0.1.2'), dst = A(o.dst ?? '10.0.2.2');
  p[0] = 0x40 | (hl / 4); v.setUint16(2, len); v.setUint16(4, o.id ?? 0x1000);
  v.setUint16(6, o.df === false ? 0 : 0x4000); p[8] = o.ttl ?? 64; p[9] = tcp ? 6 : 17;
  v.setUint32(12, src); v.setUint32(16, dst);
  p.set(opts, 20);
  v.setUint16(10, ~naiveSum(p.subarray(0, hl)) & 0xffff);
  v.setUint16(hl, 40000); v.setUint16(hl + 2, tcp ? 5201 : 9000);
  if (tcp) {
    v.setUint32(hl + 4, o.seq ?? 1_000_000); v.setUint32(hl + 8, 777); p[hl + 12] = 8 << 4;
    p[hl + 13] = o.flags ?? (TcpFlag.ACK | TcpFlag.PSH); v.setUint16(hl + 14, 512);
    p.set([1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 3], hl + 20); // NOP NOP timestamp
  } else {
    v.setUint16(hl + 4, len - hl);
  }
  for (let i = 0; i < o.payload; i++) p[hl + l4h + i] = (i * 31 + 7) & 0xff;
  const at = hl + (tcp ? 16 : 6);
  const ps = pseudo(src, dst, p[9]!, len - hl);
  if (o.partial) v.setUint16(at, ps);
  else {
    let c = ~((s: number) => ((s & 0xffff) + Math.floor(s / 65536)))(naiveSum(p.subarray(hl)) + ps) & 0xffff;
    if (!tcp && c === 0) c = 0xffff;
    v.setUint16(at, c);
  }
  return p;
}

/** A virtio-net header (little-endian fields). */
function vnet(o: { flags?: number; gsoType?: number; hdrLen?: number; gsoSize?: number; csumStart?: number; csumOffset?: number }): number[] {
  const h = [o.flags ?? 0, o.gsoType ?? 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const le = (at: number, x: number) => { h[at] = x & 0xff; h[at + 1] = x >> 8; };
  le(2, o.hdrLen ?? 0); le(4, o.gsoSize ?? 0); le(6, o.csumStart ?? 0); le(8, o.csumOffset ?? 0);
  return h;
}

/** The header a kernel puts on a TCP super-packet with `gso` bytes per segment (or on a UDP one). */
const tsoHdr = (gso: number, udp = false) => vnet({
  flags: VirtioFlag.NEEDS_CSUM, gsoType: udp ? VirtioGso.UDP_L4 : VirtioGso.TCPV4, hdrLen: udp ? 28 : 52, gsoSize: gso, csumStart: 20, csumOffset: udp ? 6 : 16,
});
const partialHdr = (udp = false) => vnet({ flags: VirtioFlag.NEEDS_CSUM, csumStart: 20, csumOffset: udp ? 6 : 16 });

const u16 = (p: Uint8Array, at: number) => (p[at]! << 8) | p[at + 1]!;
const u32 = (p: Uint8Array, at: number) => ((p[at]! << 24) | (p[at + 1]! << 16) | (p[at + 2]! << 8) | p[at + 3]!) >>> 0;

/**
 * The segments of super-packet `sp` with `gso` bytes each, made by hand from
 * the definition (what the sender's kernel puts on the wire), TTL as given.
 */
function expectedSegments(sp: Uint8Array, gso: number, ttl: number): Uint8Array[] {
  const hl = (sp[0]! & 15) * 4;
  const tcp = sp[9] === 6;
  const hlen = hl + (tcp ? (sp[hl + 12]! >> 4) * 4 : 8);
  const payload = sp.length - hlen;
  const n = Math.ceil(payload / gso);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const size = Math.min(gso, payload - i * gso);
    const s = new Uint8Array(hlen + size);
    s.set(sp.subarray(0, hlen));
    s.set(sp.subarray(hlen + i * gso, hlen + i * gso + size), hlen);
    const v = new DataView(s.buffer);
    v.setUint16(2, s.length); v.setUint16(4, (u16(sp, 4) + i) & 0xffff); s[8] = ttl;
    v.setUint16(10, 0); v.setUint16(10, ~naiveSum(s.subarray(0, hl)) & 0xffff);
    if (tcp) {
      v.setUint32(hl + 4, (u32(sp, hl + 4) + i * gso) >>> 0);
      if (i < n - 1) s[hl + 13]! &= ~(TcpFlag.FIN | TcpFlag.PSH);
      if (i > 0) s[hl + 13]! &= ~TcpFlag.CWR;
    } else {
      v.setUint16(hl + 4, 8 + size);
    }
    const at = hl + (tcp ? 16 : 6);
    v.setUint16(at, 0);
    let c = ~((x: number) => ((x & 0xffff) + Math.floor(x / 65536)))(naiveSum(s.subarray(hl)) + pseudo(u32(s, 12), u32(s, 16), s[9]!, s.length - hl)) & 0xffff;
    if (!tcp && c === 0) c = 0xffff;
    v.setUint16(at, c);
    out.push(s);
  }
  return out;
}

/** `p` with a partial L4 checksum finished (what a receiving kernel computes). */
function finished(p: Uint8Array): Uint8Array {
  const q = p.slice();
  const hl = (q[0]! & 15) * 4;
  const at = hl + (q[9] === 6 ? 16 : 6);
  const init = u16(q, at);
  q[at] = 0; q[at + 1] = 0;
  let s = naiveSum(q.subarray(hl, u16(q, 2))) + init;
  s = (s & 0xffff) + Math.floor(s / 65536);
  s = (s & 0xffff) + Math.floor(s / 65536);
  let c = ~s & 0xffff;
  if (q[9] === 17 && c === 0) c = 0xffff;
  q[at] = c >> 8; q[at + 1] = c & 0xff;
  return q;
}

const withTtl = (p: Uint8Array, ttl: number) => {
  const q = p.slice();
  q[8] = ttl;
  q[10] = 0; q[11] = 0;
  const c = ~naiveSum(q.subarray(0, (q[0]! & 15) * 4)) & 0xffff;
  q[10] = c >> 8; q[11] = c & 0xff;
  return q;
};

// ---- the kinds of packet ----------------------------------------------------

test('a TCP super-packet between offload ports passes whole: one write, its GSO header, TTL − 1, partial checksum kept', () => {
  const t = setup();
  const sp = build({ payload: 40 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const out = t.sent('b');
  assert.equal(out.length, 1);
  const { hdr, ip } = out[0]!;
  assert.equal(hdr!.gsoType, VirtioGso.TCPV4);
  assert.equal(hdr!.gsoSize, 1448);
  assert.equal(hdr!.needsCsum, true);
  assert.equal(hdr!.csumStart, 20);
  assert.equal(hdr!.csumOffset, 16);
  assert.equal(hdr!.hdrLen, 52);
  assert.deepEqual(ip, withTtl(sp, 63), 'the bytes are the super-packet\'s, but for the TTL and header checksum');
  assert.equal(t.counters('a').offload.rxSuperPackets, 1);
  assert.equal(t.counters('b').offload.txSuperPackets, 1);
  // What the receiving kernel makes of it: the sender's segments.
  const segs = expectedSegments(finished(ip), 1448, 63);
  assert.equal(segs.length, 40);
});

test('a super-packet for a plain port is cut in the router: the sender\'s segments exactly, each with complete checksums', () => {
  const t = setup();
  const payload = 20 * 1448 + 999;
  const sp = build({ dst: '10.0.3.2', payload, partial: true, flags: TcpFlag.ACK | TcpFlag.PSH | TcpFlag.FIN | TcpFlag.CWR, seq: 0xffffff00 });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const out = t.sent('p');
  const want = expectedSegments(finished(sp), 1448, 63);
  assert.equal(out.length, 21);
  out.forEach((o, i) => {
    assert.equal(o.hdr, null);
    assert.deepEqual(o.ip, want[i], `segment ${i}`);
    assert.ok(ipChecksumOk(o.ip) && l4ChecksumOk(o.ip), `segment ${i} checksums`);
  });
  assert.equal(out[0]!.ip[33]! & TcpFlag.CWR, TcpFlag.CWR, 'CWR on the first only');
  assert.equal(out[20]!.ip[33]! & (TcpFlag.FIN | TcpFlag.PSH), TcpFlag.FIN | TcpFlag.PSH, 'FIN and PSH on the last only');
  assert.equal(u32(out[1]!.ip, 24), (0xffffff00 + 1448) >>> 0, 'sequence numbers wrap');
  assert.deepEqual(t.counters('p').offload, { segmented: 1, segments: 21 });
});

test('a UDP (USO) super-packet: passed whole to an offload port, cut into datagrams for a plain one', () => {
  const t = setup();
  const sp = build({ proto: 'udp', payload: 10 * 1200, partial: true });
  t.inject('a', [sp], [tsoHdr(1200, true)]);
  const [whole] = t.sent('b');
  assert.equal(whole!.hdr!.gsoType, VirtioGso.UDP_L4);
  assert.equal(whole!.hdr!.gsoSize, 1200);
  assert.equal(whole!.hdr!.csumOffset, 6);
  const plain = build({ proto: 'udp', dst: '10.0.3.2', payload: 10 * 1200 + 5, partial: true });
  t.inject('a', [plain], [tsoHdr(1200, true)]);
  const out = t.sent('p');
  assert.equal(out.length, 11);
  const want = expectedSegments(finished(plain), 1200, 63);
  out.forEach((o, i) => assert.deepEqual(o.ip, want[i], `datagram ${i}`));
});

test('into a 1280-byte plain egress with DF: Fragmentation Needed with MTU 1280, quoting the first segment; nothing sent on', () => {
  const t = setup();
  const sp = build({ dst: '10.0.4.2', payload: 30 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  assert.equal(t.sent('m').length, 0);
  const [err] = t.sent('a');
  assert.ok(err, 'an ICMP error back');
  assert.equal(err!.hdr!.flags, 0, 'the router\'s own packet: an all-zero virtio-net header');
  assert.equal(err!.hdr!.gsoType, 0);
  const icmp = err!.ip.subarray(20);
  assert.deepEqual([icmp[0], icmp[1], u16(icmp, 6)], [3, 4, 1280]);
  const quoted = icmp.subarray(8);
  const first = expectedSegments(finished(sp), 1448, 64)[0]!;
  assert.equal(u16(quoted, 2), 20 + 32 + 1448, 'the quoted header says the first segment\'s length');
  assert.ok(ipChecksumOk(quoted), 'and its checksum is right for it');
  assert.deepEqual(quoted, first.subarray(0, quoted.length), 'the quote is the first segment as sent');
  assert.equal(quoted.length, 576 - 28, 'as much as fits 576 bytes');
  assert.equal(t.counters('a').drops['frag-needed-df'], 1);
});

test('segments that fit a 1280 egress (small gso_size) are cut for it; a UDP super-packet without DF whose segments do not fit is cut and each fragmented', () => {
  const t = setup();
  const sp = build({ dst: '10.0.4.2', payload: 10 * 1200, partial: true });
  t.inject('a', [sp], [tsoHdr(1200)]);
  assert.equal(t.sent('m').length, 10);
  const u = build({ proto: 'udp', dst: '10.0.4.2', payload: 4 * 1400, df: false, partial: true });
  t.inject('a', [u], [tsoHdr(1400, true)]);
  const out = t.sent('m');
  assert.equal(out.length, 8, 'four datagrams of 1428 bytes, two fragments each');
  for (const o of out) assert.ok(o.ip.length <= 1280 && ipChecksumOk(o.ip));
  assert.equal(u16(out[0]!.ip, 6) & 0x2000, 0x2000, 'MF on the first fragment');
  assert.equal(t.sent('a').length, 0, 'no ICMP');
});

test('an offload egress that takes partial checksums but not TSO/USO: segments with partial checksums and NEEDS_CSUM headers', () => {
  const t = setup();
  const sp = build({ dst: '10.0.5.2', payload: 5 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const out = t.sent('n');
  assert.equal(out.length, 5);
  const want = expectedSegments(finished(sp), 1448, 63);
  out.forEach((o, i) => {
    assert.equal(o.hdr!.needsCsum, true);
    assert.equal(o.hdr!.gsoType, 0);
    assert.deepEqual([o.hdr!.csumStart, o.hdr!.csumOffset], [20, 16]);
    assert.deepEqual(finished(o.ip), want[i], `segment ${i}, once its checksum is finished`);
  });
});

test('a partial checksum (no GSO): kept for an offload port, finished for a plain one; a plain packet gets an all-zero header', () => {
  const t = setup();
  const pk = build({ payload: 300, partial: true });
  t.inject('a', [pk], [partialHdr()]);
  const [kept] = t.sent('b');
  assert.deepEqual([kept!.hdr!.flags, kept!.hdr!.gsoType, kept!.hdr!.csumStart, kept!.hdr!.csumOffset], [VirtioFlag.NEEDS_CSUM, 0, 20, 16]);
  assert.deepEqual(kept!.ip, withTtl(pk, 63));
  const up = build({ proto: 'udp', dst: '10.0.3.2', payload: 333, partial: true });
  t.inject('a', [up], [partialHdr(true)]);
  const [done] = t.sent('p');
  assert.deepEqual(done!.ip, withTtl(finished(up), 63));
  assert.ok(l4ChecksumOk(done!.ip));
  assert.equal(t.counters('p').offload.checksumsFinished, 1);
  const plain = build({ src: '10.0.3.2', dst: '10.0.1.2', payload: 10 });
  t.inject('p', [plain]);
  const [z] = t.sent('a');
  assert.deepEqual([...z!.ip.subarray(-10)], [...plain.subarray(-10)]);
  assert.deepEqual([...new Uint8Array(z!.hdr!.buf.buffer, z!.hdr!.buf.byteOffset, VH)], new Array(VH).fill(0));
});

test('a partial checksum at an offset the path does not keep is finished on the way in', () => {
  const t = setup();
  const pk = build({ payload: 100 });
  const full = pk.slice();
  // The kernel may describe the same checksum from another start: the TCP field, summed from byte 20.
  const at = 20 + 16;
  const v = new DataView(pk.buffer);
  const hl = 20;
  v.setUint16(at, 0);
  // Partial sum over [0, 20) of the L4 part would be the pseudo-header; here start at 24 (inside TCP) with the sum of bytes 20-23 folded in.
  const s = pseudo(A('10.0.1.2'), A('10.0.2.2'), 6, pk.length - hl) + naiveSum(pk.subarray(20, 24));
  v.setUint16(at, (s & 0xffff) + Math.floor(s / 65536));
  t.inject('a', [pk], [vnet({ flags: VirtioFlag.NEEDS_CSUM, csumStart: 24, csumOffset: 12 })]);
  const [out] = t.sent('b');
  assert.equal(out!.hdr!.flags, 0, 'finished: an ordinary packet now');
  assert.deepEqual(out!.ip, withTtl(full, 63));
});

test('a "super-packet" that holds one segment goes as one packet with a partial checksum', () => {
  const t = setup();
  const sp = build({ dst: '10.0.3.2', payload: 1000, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const [out] = t.sent('p');
  assert.deepEqual(out!.ip, withTtl(finished(sp), 63));
  assert.equal(t.counters('a').offload.rxSuperPackets, undefined);
});

test('TTL 1 and no route: ICMP errors about a super-packet quote its first segment', () => {
  const t = setup();
  const sp = build({ payload: 20 * 1448, partial: true, ttl: 1 });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const [te] = t.sent('a');
  const icmp = te!.ip.subarray(20);
  assert.deepEqual([icmp[0], icmp[1]], [11, 0]);
  assert.deepEqual(icmp.subarray(8), expectedSegments(finished(sp), 1448, 1)[0]!.subarray(0, 548));
  const nr = build({ dst: '192.0.2.9', payload: 20 * 1448, partial: true });
  t.inject('a', [nr], [tsoHdr(1448)]);
  const [un] = t.sent('a');
  assert.deepEqual([un!.ip[20], un!.ip[21]], [3, 0]);
  assert.equal(u16(un!.ip.subarray(28), 2), 1500);
  assert.equal(t.sent('b').length, 0);
});

test('source policy and drain pinning steer a super-packet like any packet', () => {
  const t = setup({ policy: [{ name: 'to-plain', from: '10.0.1.7', port: 'p' }] });
  const sp = build({ src: '10.0.1.7', payload: 10 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  assert.equal(t.sent('b').length, 0);
  assert.equal(t.sent('p').length, 10, 'out the policy\'s plain port, cut');
});

test('NAT on a super-packet: the partial checksum follows the rewritten address; the segments\' checksums are right', () => {
  const t = setup({ virtualServices: [{ name: 'v', address: '1.1.1.1', backends: [{ name: 'b', address: '10.0.2.2' }] }] });
  const sp = build({ dst: '1.1.1.1', payload: 8 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const [out] = t.sent('b');
  assert.equal(out!.hdr!.gsoType, VirtioGso.TCPV4);
  assert.equal(u32(out!.ip, 16), A('10.0.2.2'));
  for (const s of expectedSegments(finished(out!.ip), 1448, 63)) assert.ok(l4ChecksumOk(s));
  // What the rewritten super-packet must be: the same built for the backend.
  assert.deepEqual(finished(out!.ip), withTtl(finished(build({ dst: '10.0.2.2', payload: 8 * 1448, partial: true })), 63));
  // Back: the backend's super-packet gets the VIP as its source, checksum still partial and right.
  const back = build({ src: '10.0.2.2', dst: '10.0.1.2', payload: 8 * 1448, partial: true });
  back[20] = 0x14; back[21] = 0x51; back[22] = 0x9c; back[23] = 0x40; // ports 5201 → 40000
  const bv = new DataView(back.buffer);
  bv.setUint16(36, pseudo(A('10.0.2.2'), A('10.0.1.2'), 6, back.length - 20));
  t.inject('b', [back], [tsoHdr(1448)]);
  const [ret] = t.sent('a');
  assert.equal(u32(ret!.ip, 12), A('1.1.1.1'));
  for (const s of expectedSegments(finished(ret!.ip), 1448, 63)) assert.ok(l4ChecksumOk(s), 'segment checksum after NAT');
});

test('a super-packet for the router itself is cut and delivered segment by segment (TCP: resets)', () => {
  const t = setup();
  const sp = build({ dst: '10.0.1.1', payload: 3 * 1448, partial: true });
  t.inject('a', [sp], [tsoHdr(1448)]);
  const out = t.sent('a');
  assert.equal(out.length, 3, 'a reset per segment');
  for (const o of out) {
    assert.equal(o.ip[33]! & TcpFlag.RST, TcpFlag.RST);
    assert.ok(l4ChecksumOk(o.ip));
  }
  assert.equal(u32(out[1]!.ip, 24), 777, 'seq = the segment\'s ACK');
  assert.equal(out[1]!.ip[33]! & TcpFlag.ACK, 0, 'a segment with ACK gets a reset without (RFC 9293 §3.10.7.1)');
});

test('a super-packet with IP options is cut, and each segment takes the ordinary way (Record Route in each)', () => {
  const t = setup();
  const rr = [7, 7, 4, 0, 0, 0, 0, 1]; // Record Route, one slot, then NOP
  const sp = build({ payload: 4 * 1440, partial: true, ipOpts: rr });
  t.inject('a', [sp], [vnet({ flags: VirtioFlag.NEEDS_CSUM, gsoType: VirtioGso.TCPV4, hdrLen: 60, gsoSize: 1440, csumStart: 28, csumOffset: 16 })]);
  const out = t.sent('b');
  assert.equal(out.length, 4, JSON.stringify(t.counters('a')));
  for (const o of out) {
    assert.equal(o.hdr!.flags, 0);
    assert.deepEqual([...o.ip.subarray(20, 27)], [7, 7, 8, 10, 0, 2, 1], 'the route records 10.0.2.1');
    assert.ok(ipChecksumOk(o.ip) && l4ChecksumOk(o.ip));
  }
});

test('bad offload headers are counted drops: gso_size 0, an IPv6 GSO type on IPv4, link padding, a checksum beyond the packet, a partial fragment', () => {
  const t = setup();
  const sp = build({ payload: 4 * 1448, partial: true });
  t.inject('a', [sp], [vnet({ flags: 1, gsoType: VirtioGso.TCPV4, gsoSize: 0, csumStart: 20, csumOffset: 16 })]);
  t.inject('a', [sp], [vnet({ flags: 1, gsoType: VirtioGso.TCPV6, gsoSize: 1448, csumStart: 20, csumOffset: 16 })]);
  const padded = new Uint8Array(sp.length + 4);
  padded.set(sp);
  t.inject('a', [padded], [tsoHdr(1448)]);
  const small = build({ payload: 20 });
  t.inject('a', [small], [vnet({ flags: 1, csumStart: 20, csumOffset: 200 })]);
  const frag = build({ payload: 200, partial: true, df: false });
  frag[6]! |= 0x20; // MF: a fragment's checksum cannot be finished from it
  frag[10] = 0; frag[11] = 0;
  const fc = ~naiveSum(frag.subarray(0, 20)) & 0xffff;
  frag[10] = fc >> 8; frag[11] = fc & 0xff;
  t.inject('a', [frag], [partialHdr()]);
  assert.equal(t.counters('a').drops['bad-offload'], 5);
  assert.equal(t.sent('b').length, 0);
});

test('coalescing: in-order TCP segments of a flow from a plain port leave an offload port as one super-packet that segments back to them', () => {
  const t = setup();
  const segs = [0, 1, 2, 3, 4].map((i) => build({ src: '10.0.3.2', dst: '10.0.2.2', payload: 1448, seq: 5000 + i * 1448, id: 10 + i, flags: TcpFlag.ACK }));
  const other = build({ proto: 'udp', src: '10.0.3.2', dst: '10.0.2.2', payload: 50 });
  t.inject('p', [segs[0]!, segs[1]!, other, segs[2]!, segs[3]!, segs[4]!]);
  const out = t.sent('b');
  assert.equal(out.length, 2, 'one super-packet and the UDP datagram');
  const [sp, udp] = out;
  assert.equal(sp!.hdr!.gsoType, VirtioGso.TCPV4);
  assert.equal(sp!.hdr!.gsoSize, 1448);
  assert.equal(sp!.hdr!.needsCsum, true);
  assert.equal(udp!.hdr!.flags, 0);
  const back = expectedSegments(finished(sp!.ip), 1448, 63);
  assert.equal(back.length, 5);
  back.forEach((s, i) => {
    // IDs are the first segment's plus i (the kernel's rule when it segments): compare the rest.
    const want = withTtl(segs[i]!, 63);
    assert.deepEqual([...s.subarray(20)], [...want.subarray(20)], `segment ${i}'s TCP part`);
  });
  assert.deepEqual(t.counters('b').offload, { txSuperPackets: 1, coalesced: 1, coalescedSegments: 5 });
});

test('coalescing: the UDP datagrams of a flow leave an offload port that takes USO as one super-packet that segments back to them', () => {
  const t = setup();
  // From a plain port: complete checksums, verified before merging.
  const dgrams = [0, 1, 2, 3].map((i) => build({ proto: 'udp', src: '10.0.3.2', dst: '10.0.2.2', payload: i === 3 ? 300 : 1000, id: 0xfffe + i }));
  t.inject('p', dgrams);
  const [sp, ...rest] = t.sent('b');
  assert.equal(rest.length, 0);
  assert.equal(sp!.hdr!.gsoType, VirtioGso.UDP_L4);
  assert.equal(sp!.hdr!.gsoSize, 1000);
  assert.equal(sp!.hdr!.needsCsum, true);
  const back = expectedSegments(finished(sp!.ip), 1000, 63);
  assert.equal(back.length, 4);
  back.forEach((d, i) => assert.deepEqual([...d], [...withTtl(dgrams[i]!, 63)], `datagram ${i}, its IP identification too`));
  assert.deepEqual(t.counters('b').offload, { txSuperPackets: 1, coalesced: 1, coalescedSegments: 4 });
  // From an offload port (a local sender's partial checksums): merged for 'b', not for 'n' (no USO): each goes as it came.
  const partial = [0, 1, 2].map((i) => build({ proto: 'udp', dst: '10.0.2.2', payload: 64, id: 50 + i, partial: true }));
  t.inject('a', partial, partial.map(() => partialHdr(true)));
  assert.equal(t.sent('b').length, 1);
  const toN = partial.map((_, i) => build({ proto: 'udp', dst: '10.0.5.2', payload: 64, id: 60 + i, partial: true }));
  t.inject('a', toN, toN.map(() => partialHdr(true)));
  const out = t.sent('n');
  assert.equal(out.length, 3);
  assert.ok(out.every((o) => o.hdr!.gsoType === 0 && o.hdr!.needsCsum));
});

test('coalescing never merges a segment whose checksum is wrong', () => {
  const t = setup();
  const segs = [0, 1, 2].map((i) => build({ src: '10.0.3.2', dst: '10.0.2.2', payload: 1448, seq: 5000 + i * 1448, flags: TcpFlag.ACK }));
  segs[1]![40] ^= 0xff;
  t.inject('p', segs);
  const out = t.sent('b');
  assert.ok(out.every((o) => o.hdr!.gsoType === 0), 'no super-packet made around the bad segment');
  assert.equal(out.length, 3);
});

test('the router\'s own packets on an offload port carry an all-zero header (echo reply)', () => {
  const t = setup();
  const echo = new Uint8Array(28 + 8);
  const v = new DataView(echo.buffer);
  echo[0] = 0x45; v.setUint16(2, 36); echo[8] = 64; echo[9] = 1; v.setUint32(12, A('10.0.1.2')); v.setUint32(16, A('10.0.1.1'));
  v.setUint16(10, ~naiveSum(echo.subarray(0, 20)) & 0xffff);
  echo[20] = 8; v.setUint16(24, 0x1234); v.setUint16(26, 1);
  v.setUint16(22, ~naiveSum(echo.subarray(20)) & 0xffff);
  t.inject('a', [echo]);
  const [r] = t.sent('a');
  assert.equal(r!.ip[20], 0, 'echo reply');
  assert.deepEqual([...new Uint8Array(r!.hdr!.buf.buffer, r!.hdr!.buf.byteOffset, VH)], new Array(VH).fill(0));
});

const OURS = Uint8Array.from([0x02, 0, 0, 0, 0, 0x0e]);
const PEER = Uint8Array.from([0x02, 0, 0, 0, 0, 0x99]);

/** A router with an offload TUN port 'a' and an Ethernet port 'e' (10.0.6.1/24) in offload mode; its neighbour 10.0.6.2 is PEER. */
function ethernetSetup() {
  const ethernetOffload: DeviceOffload = { vnetHdrSize: 0, csum: true, tso4: true, uso4: true, rxSuper: true };
  const devices = new Map<string, MemoryDevice>();
  const config = parseRouterConfig({
    router: 'r',
    ports: [
      { name: 'a', device: 'a0', address: '10.0.1.1/24' },
      { name: 'e', type: 'ethernet', device: 'e0', address: '10.0.6.1/24' },
    ],
  });
  const router = new Router(config, silentLogger(), (pc) => {
    const d = pc.type === 'ethernet' ? new MemoryDevice(pc.name, OURS, ethernetOffload) : new MemoryDevice(pc.name, undefined, FULL);
    devices.set(pc.name, d);
    return d;
  });
  router.start();
  const a = router.portByName('a'), e = router.portByName('e');
  const out = devices.get('e')!;
  out.written.length = 0; // the start's announcement
  /** Hand `pkts` (with virtio-net headers `hdrs`) to port 'a' as one read batch. */
  const toA = (pkts: Uint8Array[], hdrs: number[][]) => {
    pkts.forEach((pkt, i) => {
      router.arena.bytes.set(pkt, a.slotPacket(i));
      router.arena.bytes.set(hdrs[i]!, a.slotPacket(i) - VH);
      a.rxLengths[i] = pkt.length + VH;
    });
    router.path.forwarder.receive(a, pkts.length);
  };
  /** The neighbour's ARP reply arrives on 'e'. */
  const arpReply = () => {
    const at = e.slotPacket(0) - 14;
    writeEthernetHeader(router.arena.bytes, at, OURS, 0, PEER, 0, EtherType.ARP);
    writeArp(router.arena.bytes, at + 14, ArpOp.REPLY, PEER, 0, A('10.0.6.2'), OURS, 0, A('10.0.6.1'));
    router.arena.bytes.fill(0, e.slotPacket(0) - e.rxVnetBack, at);
    e.rxLengths[0] = 42;
    router.path.forwarder.receive(e, 1);
  };
  return { router, link: e.link!, out, toA, arpReply };
}

test('a super-packet for an Ethernet neighbour not yet resolved is cut; its segments are held, then sent with complete checksums once ARP answers', () => {
  const { router, link, out, toA, arpReply } = ethernetSetup();
  try {
    const sp = build({ dst: '10.0.6.2', payload: 3 * 1448, partial: true });
    toA([sp], [tsoHdr(1448)]);
    assert.equal(out.written.length, 1, 'only the ARP request goes out');
    assert.equal(u16(out.written.splice(0)[0]!, 12), 0x0806);
    assert.equal(link.counters.eventCount(L2Event.HELD), 3, 'the three segments are held');
    assert.equal(link.counters.dropCount(L2Drop.HOLD_TOO_BIG), 0);

    // The neighbour answers: the held segments go, oldest first, their checksums finished.
    arpReply();
    const want = expectedSegments(finished(sp), 1448, 63);
    const released = out.written.splice(0);
    assert.equal(released.length, 3);
    released.forEach((f, i) => {
      assert.deepEqual([...f.subarray(0, 6)], [...PEER], `segment ${i} to the neighbour's MAC`);
      assert.deepEqual(f.subarray(14), want[i], `segment ${i}`);
      assert.ok(l4ChecksumOk(f.subarray(14)), `segment ${i}'s checksum is complete`);
    });

    // Resolved now: the next super-packet leaves whole, beside its GSO header.
    toA([sp], [tsoHdr(1448)]);
    const [whole] = out.written.splice(0);
    assert.equal(whole!.length, 14 + sp.length);
    assert.equal(out.headerOf.get(whole!)![1], VirtioGso.TCPV4);
  } finally {
    router.stop();
  }
});

test('coalescing out of an Ethernet port: the datagrams of a flow leave as one super-frame, beside a GSO header that counts the frame header', () => {
  const { router, out, toA, arpReply } = ethernetSetup();
  try {
    toA([build({ proto: 'udp', dst: '10.0.6.2', payload: 10, partial: true })], [partialHdr(true)]);
    arpReply();
    out.written.length = 0;
    const dgrams = [0, 1, 2, 3, 4].map((i) => build({ proto: 'udp', dst: '10.0.6.2', payload: 1200, id: 300 + i, partial: true }));
    toA(dgrams, dgrams.map(() => partialHdr(true)));
    const [frame, ...rest] = out.written.splice(0);
    assert.equal(rest.length, 0, 'one frame');
    assert.deepEqual([...frame!.subarray(0, 6)], [...PEER]);
    assert.equal(u16(frame!, 12), 0x0800);
    const h = out.headerOf.get(frame!)!;
    const le = (at: number) => h[at]! | (h[at + 1]! << 8);
    assert.deepEqual([h[0], h[1], le(2), le(4), le(6), le(8)], [VirtioFlag.NEEDS_CSUM, VirtioGso.UDP_L4, 14 + 28, 1200, 14 + 20, 6]);
    const back = expectedSegments(finished(frame!.subarray(14)), 1200, 63);
    back.forEach((d, i) => assert.deepEqual([...d], [...withTtl(finished(dgrams[i]!), 63)], `datagram ${i}`));
    assert.deepEqual(router.portByName('e').counters.snapshot().offload, { txSuperPackets: 1, coalesced: 1, coalescedSegments: 5 });
  } finally {
    router.stop();
  }
});
