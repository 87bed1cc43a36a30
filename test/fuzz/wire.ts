// Fuzz target: the packet formats (src/wire) on random and mutated bytes.
// Each input is one byte string — random, or a well-formed IPv4/ICMP/UDP/
// TCP/RIP/BFD message with mutations — read through every view:
// - nothing throws;
// - validators agree with plain re-implementations of their RFC rules here
//   (IPv4 header checks, RIPv2 packet and entry checks, BFD §6.8.6, mask
//   lengths, ICMP/UDP/TCP checksums against a by-the-book RFC 1071 sum,
//   RFC 1812 §4.3.2.7 "may an ICMP error be sent", virtio-net header checks);
// - writers keep packets valid: TTL decrement, address and port rewrites
//   (RFC 1624 incremental updates) leave the checksums right; an ICMP error
//   built about any datagram is valid, ≤ 576 bytes and quotes its start; an
//   echo request turned into a reply is a valid reply (and a non-request is
//   left untouched); fragments of a datagram reassemble to it.
import fc from 'fast-check';
import { fragmentIpv4 } from '../../src/dataplane/fragment.js';
import { BfdCheck, BfdControlView } from '../../src/wire/bfd.js';
import { checksum, updateChecksum16, updateChecksum32 } from '../../src/wire/checksum.js';
import { IcmpView, buildIcmpError, echoRequestToReply, icmpErrorAllowed } from '../../src/wire/icmp.js';
import { Ipv4Check, Ipv4View } from '../../src/wire/ipv4.js';
import { RipCheck, RipView, maskLength } from '../../src/wire/rip.js';
import { TcpView } from '../../src/wire/tcp.js';
import { UdpView } from '../../src/wire/udp.js';
import { VirtioCheck, VirtioNetHdrView } from '../../src/wire/virtio-net.js';
import { edits, mutate } from './mutate.js';
import { fillBytes, put16, put32, refChecksum, refL4ChecksumOk, u16, u32 } from './reference.js';
import type { FuzzTarget, TargetInstance } from './target.js';

class Failure extends Error {}
const hex = (b: Uint8Array, n = 48): string => Buffer.from(b.subarray(0, n)).toString('hex');

// ---- inputs ----

const shape = fc.constantFrom('random', 'ipv4', 'icmp', 'udp', 'tcp', 'rip', 'bfd', 'virtio');
export const wireInput = fc.record({
  shape,
  len: fc.oneof({ weight: 3, arbitrary: fc.nat({ max: 64 }) }, { weight: 2, arbitrary: fc.nat({ max: 600 }) }, fc.nat({ max: 3000 })),
  seed: fc.integer(),
  ihl: fc.oneof({ weight: 4, arbitrary: fc.constant(5) }, fc.nat({ max: 15 })),
  entries: fc.nat({ max: 27 }),
  mutation: fc.oneof({ weight: 1, arbitrary: fc.constant(null) }, { weight: 2, arbitrary: edits(5) }),
  newAddr: fc.nat().map((n) => (n * 2 + (n & 1)) >>> 0),
  newPort: fc.nat({ max: 0xffff }),
  mtu: fc.oneof(fc.constantFrom(68, 576, 1280, 1500), fc.integer({ min: 0, max: 2000 })),
  at: fc.nat({ max: 7 }),
});
type WireInput = typeof wireInput extends fc.Arbitrary<infer T> ? T : never;

/** A well-formed message of the shape (seeded payload bytes), before mutation. */
function build(w: WireInput): Uint8Array {
  const b = new Uint8Array(w.len + 60);
  fillBytes(b, 0, b.length, w.seed);
  const proto = w.shape === 'icmp' ? 1 : w.shape === 'tcp' ? 6 : w.shape === 'udp' ? 17 : b[9]!;
  switch (w.shape) {
    case 'random':
      return b.subarray(0, w.len);
    case 'rip': {
      const n = Math.min(w.entries, 27);
      const r = new Uint8Array(4 + 20 * n);
      fillBytes(r, 0, r.length, w.seed);
      r[0] = 1 + (w.seed & 1);
      r[1] = 2;
      for (let i = 0; i < n; i++) {
        const o = 4 + 20 * i;
        put16(r, o, (w.seed >>> i) & 4 ? r[o]! : 2);
        const len = r[o + 8]! % 33;
        const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
        if ((w.seed >>> i) & 2) put32(r, o + 8, mask);
        if ((w.seed >>> i) & 8) put32(r, o + 4, u32(r, o + 4) & mask);
        if ((w.seed >>> i) & 16) put32(r, o + 16, 1 + (r[o + 19]! % 16));
      }
      return r;
    }
    case 'bfd': {
      const r = b.subarray(0, 24 + (w.len % 8));
      r[0] = (1 << 5) | (r[0]! & 31);
      r[1] = r[1]! & ~0x05;
      r[2] = r[2]! || 3;
      r[3] = 24;
      return r;
    }
    case 'virtio':
      return b.subarray(0, 10 + (w.len % 3));
    default: {
      // IPv4 with options, then an L4 header of the shape.
      const hl = Math.max(5, w.ihl) * 4;
      const total = Math.min(b.length, hl + w.len);
      b[0] = 0x40 | (hl >>> 2);
      put16(b, 2, total);
      b[6] = b[6]! & 0x5f;
      if (w.seed & 3) {
        // Mostly not a fragment (DF may stay).
        b[7] = 0;
        b[6] = b[6]! & 0x40;
      }
      b[9] = proto;
      const l4 = total - hl;
      if (proto === 17 && l4 >= 8) {
        put16(b, hl + 4, l4);
        put16(b, hl + 6, 0);
        let c = refChecksum(b, hl, l4, pseudoOf(b, 17, l4));
        if (c === 0) c = 0xffff;
        put16(b, hl + 6, c);
      } else if (proto === 6 && l4 >= 20) {
        b[hl + 12] = 5 << 4;
        put16(b, hl + 16, 0);
        put16(b, hl + 16, refChecksum(b, hl, l4, pseudoOf(b, 6, l4)));
      } else if (proto === 1 && l4 >= 8) {
        if (w.seed & 4) b[hl] = 8;
        put16(b, hl + 2, 0);
        put16(b, hl + 2, refChecksum(b, hl, l4));
      }
      put16(b, 10, 0);
      put16(b, 10, refChecksum(b, 0, hl));
      return b.subarray(0, w.seed & 8 ? total + (w.len % 9) : total);
    }
  }
}

function pseudoOf(b: Uint8Array, proto: number, len: number): number {
  let s = u16(b, 12) + u16(b, 14) + u16(b, 16) + u16(b, 18) + proto + len;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

// ---- references ----

function refIpv4Check(b: Uint8Array): number {
  if (b.length < 20) return Ipv4Check.TRUNCATED;
  if (b[0]! >> 4 !== 4) return Ipv4Check.BAD_VERSION;
  const hl = (b[0]! & 15) * 4;
  if (hl < 20 || hl > b.length) return Ipv4Check.BAD_IHL;
  const total = u16(b, 2);
  if (total < hl || total > b.length) return Ipv4Check.BAD_TOTAL_LENGTH;
  return refChecksum(b, 0, hl) === 0 ? Ipv4Check.OK : Ipv4Check.BAD_CHECKSUM;
}

function refMaskLength(mask: number): number {
  let len = 0;
  while (len < 32 && mask & (0x80000000 >>> len)) len++;
  for (let k = len; k < 32; k++) if (mask & (0x80000000 >>> k)) return -1;
  return len;
}

function refRipCheck(b: Uint8Array): number {
  if (b.length < 4) return RipCheck.TRUNCATED;
  if (b[1] !== 2) return RipCheck.BAD_VERSION;
  if (b[0] !== 1 && b[0] !== 2) return RipCheck.BAD_COMMAND;
  // RFC 2453 §4.1 / RFC 4822: an auth entry first; type 2 a password, type 3 a trailer after the message.
  let body = b.length;
  if (b.length >= 24 && u16(b, 4) === 0xffff) {
    const type = u16(b, 6);
    if (type === 3) {
      body = u16(b, 8);
      if (body < 24 || body + 4 >= b.length || u32(b, body) !== 0xffff0001 || b.length - body - 4 > 64) return RipCheck.AUTH_MALFORMED;
    } else if (type !== 2) return RipCheck.AUTH_MALFORMED;
  }
  if ((body - 4) % 20 !== 0) return RipCheck.BAD_LENGTH;
  if ((body - 4) / 20 > 25) return RipCheck.TOO_MANY_ENTRIES;
  return RipCheck.OK;
}

function refRipEntry(b: Uint8Array, i: number): number {
  const o = 4 + 20 * i;
  if (u16(b, o) !== 2) return RipCheck.BAD_AFI;
  const metric = u32(b, o + 16);
  if (metric < 1 || metric > 16) return RipCheck.BAD_METRIC;
  const mask = u32(b, o + 8);
  const len = refMaskLength(mask);
  if (len < 0) return RipCheck.BAD_MASK;
  const addr = u32(b, o + 4);
  for (let k = len; k < 32; k++) if (addr & (0x80000000 >>> k)) return RipCheck.HOST_BITS_SET;
  const top = b[o + 4]!;
  if ((top === 0 && len !== 0) || top === 127 || top >= 224) return RipCheck.BAD_ADDRESS;
  return RipCheck.OK;
}

function refBfdCheck(b: Uint8Array): number {
  if (b.length < 24) return BfdCheck.TRUNCATED;
  if (b[0]! >> 5 !== 1) return BfdCheck.BAD_VERSION;
  if (b[3]! < 24) return BfdCheck.LENGTH_TOO_SHORT;
  if (b[3]! > b.length) return BfdCheck.LENGTH_EXCEEDS_DATAGRAM;
  // RFC 5880 §6.8.6: with the A bit, an authentication section of at least 3 bytes within Length.
  if (b[1]! & 0x04 && (b[3]! < 26 || b[25]! < 3 || 24 + b[25]! > b[3]!)) return BfdCheck.AUTH_MALFORMED;
  if (b[2] === 0) return BfdCheck.ZERO_DETECT_MULT;
  if (b[1]! & 0x01) return BfdCheck.MULTIPOINT;
  if (u32(b, 4) === 0) return BfdCheck.ZERO_MY_DISCRIMINATOR;
  const state = b[1]! >> 6;
  if (u32(b, 8) === 0 && state >= 2) return BfdCheck.ZERO_YOUR_DISCRIMINATOR;
  return BfdCheck.OK;
}

/** RFC 1812 §4.3.2.7, from the text. */
function refIcmpErrorAllowed(b: Uint8Array): boolean {
  if (b.length < 20) return false;
  if ((u16(b, 6) & 0x1fff) !== 0) return false;
  const s = b[12]!;
  if (s === 0 || s === 127 || s >= 224) return false;
  if (b[16]! >= 224 && b[16]! <= 239) return false;
  if (u32(b, 16) === 0xffffffff) return false;
  const hl = (b[0]! & 15) * 4;
  if (b[9] === 1 && hl < b.length && [3, 4, 5, 11, 12].includes(b[hl]!)) return false;
  return true;
}

function refVirtioCheck(b: Uint8Array, packetLen: number): number {
  if (b.length < 10) return VirtioCheck.TRUNCATED;
  const le = (o: number) => b[o]! + b[o + 1]! * 256;
  if (b[0]! & 1 && le(6) + le(8) + 2 > packetLen) return VirtioCheck.BAD_CSUM_RANGE;
  const kind = b[1]! & 0x7f;
  if (kind === 0) return b[1] === 0 ? VirtioCheck.OK : VirtioCheck.BAD_GSO_TYPE;
  if (kind !== 1 && kind !== 4 && kind !== 5) return VirtioCheck.BAD_GSO_TYPE;
  return le(4) === 0 ? VirtioCheck.BAD_GSO_SIZE : VirtioCheck.OK;
}

// ---- the checks ----

export class WireHarness {
  fed = 0;
  readonly tally: Record<string, number> = {};
  private readonly ip = new Ipv4View();
  private readonly icmp = new IcmpView();
  private readonly udp = new UdpView();
  private readonly tcp = new TcpView();
  private readonly rip = new RipView();
  private readonly bfd = new BfdControlView();
  private readonly virtio = new VirtioNetHdrView();
  private readonly out = new Uint8Array(8192);
  private readonly fragOffsets = new Int32Array(64);
  private readonly fragLengths = new Int32Array(64);

  private count(k: string): void {
    this.tally[k] = (this.tally[k] ?? 0) + 1;
  }

  run(w: WireInput): void {
    const base = build(w);
    const b = w.mutation ? mutate(base, w.mutation, 4096) : base.slice();
    this.fed++;
    const what = () => `${w.shape} input ${hex(b)}… (${b.length} bytes)`;
    const expect = (ok: boolean, m: () => string) => {
      if (!ok) throw new Failure(`${what()}: ${m()}`);
    };

    // Checksum primitives against the book, at an odd offset too.
    const off = w.at & 1;
    expect(checksum(b, off, Math.max(0, b.length - off)) === refChecksum(b, off, Math.max(0, b.length - off)), () => 'checksum() differs from RFC 1071');
    if (b.length >= 4) {
      const c = refChecksum(b, 0, b.length & ~1);
      const oldWord = u16(b, 0);
      const upd = updateChecksum16(c, oldWord, w.newPort);
      const c2 = b.slice();
      put16(c2, 0, w.newPort);
      const full = refChecksum(c2, 0, b.length & ~1);
      // RFC 1624 eqn. 3 equals a recompute except for the ±0 of an all-zero sum.
      expect(upd === full || (upd === 0xffff && full === 0) || (upd === 0 && full === 0xffff), () => `updateChecksum16 ${upd.toString(16)} ≠ recompute ${full.toString(16)}`);
      const upd32 = updateChecksum32(c, u32(b, 0), w.newAddr);
      put32(c2, 0, w.newAddr);
      const full32 = refChecksum(c2, 0, b.length & ~1);
      expect(upd32 === full32 || (upd32 === 0xffff && full32 === 0) || (upd32 === 0 && full32 === 0xffff), () => `updateChecksum32 ${upd32.toString(16)} ≠ recompute ${full32.toString(16)}`);
    }

    // IPv4
    const ip = this.ip.attach(b, 0, b.length);
    const check = ip.validate();
    expect(check === refIpv4Check(b), () => `Ipv4View.validate() = ${check}, reference ${refIpv4Check(b)}`);
    this.count(`ipv4:${check}`);
    if (b.length >= 20) expect(icmpErrorAllowed(b, 0, b.length) === refIcmpErrorAllowed(b), () => `icmpErrorAllowed() = ${icmpErrorAllowed(b, 0, b.length)}, RFC 1812 says ${refIcmpErrorAllowed(b)}`);
    if (check === Ipv4Check.OK) this.ipv4Checks(b, w, expect);

    // ICMP error about anything at least a header long.
    const e = buildIcmpError(this.out, 0, 11, 0, 0, 0x0a000001, b, 0, b.length);
    if (b.length < 20) expect(e === -1, () => `buildIcmpError built ${e} bytes about a ${b.length}-byte datagram`);
    if (e > 0) {
      const o = this.out.subarray(0, e);
      expect(e <= 576 && refIpv4Check(o) === Ipv4Check.OK, () => `ICMP error of ${e} bytes is not a valid datagram: ${hex(o)}`);
      expect(refChecksum(o, 20, e - 20) === 0, () => 'ICMP error with a bad checksum');
      expect(o.subarray(28).every((x, i) => x === b[i]), () => 'ICMP error does not quote the datagram\'s start');
      expect(u32(o, 16) === u32(b, 12), () => 'ICMP error not sent to the datagram\'s source');
      this.count('icmp-error-built');
    }

    // Echo request → reply: untouched unless it is a whole valid request.
    const copy = b.slice();
    const turned = echoRequestToReply(copy, 0, copy.length, 0x0a000001);
    if (!turned) expect(copy.every((x, i) => x === b[i]), () => 'echoRequestToReply() said no but changed the buffer');
    else {
      const hl = (copy[0]! & 15) * 4;
      const total = u16(copy, 2);
      expect(refChecksum(copy, 0, hl) === 0 && copy[hl] === 0 && refChecksum(copy, hl, total - hl) === 0, () => `echo reply invalid: ${hex(copy)}`);
      expect(u32(copy, 16) === u32(b, 12) && u32(copy, 12) === 0x0a000001, () => 'echo reply not addressed back');
      this.count('echo-reply');
    }

    // The views of the payload formats on the raw bytes.
    const icmp = this.icmp.attach(b, 0, b.length);
    expect(icmp.checksumOk() === (b.length >= 8 && refChecksum(b, 0, b.length) === 0), () => 'IcmpView.checksumOk() disagrees');
    if (b.length >= 8) {
      const udp = this.udp.attach(b, 0, b.length);
      const l = u16(b, 4);
      const want = l >= 8 && l <= b.length && (u16(b, 6) === 0 || refL4ChecksumOk(b, 0, l, w.newAddr, 0x0a000001, 17));
      expect(udp.checksumOk(w.newAddr, 0x0a000001) === want, () => 'UdpView.checksumOk() disagrees');
    }
    const segLen = Math.min(b.length, w.len);
    const tcp = this.tcp.attach(b, 0, b.length);
    const tcpWant = segLen >= 20 && segLen <= b.length && refL4ChecksumOk(b, 0, segLen, w.newAddr, 0x0a000001, 6);
    expect(tcp.checksumOk(w.newAddr, 0x0a000001, segLen) === tcpWant, () => 'TcpView.checksumOk() disagrees');

    const rip = this.rip.attach(b, 0, b.length);
    const rc = rip.validate();
    expect(rc === refRipCheck(b), () => `RipView.validate() = ${rc}, reference ${refRipCheck(b)}`);
    this.count(`rip:${rc}`);
    if (rc === RipCheck.OK) {
      for (let i = 0; i < rip.entryCount; i++) {
        const ec = rip.checkEntry(i);
        expect(ec === refRipEntry(b, i), () => `RipView.checkEntry(${i}) = ${ec}, reference ${refRipEntry(b, i)}`);
        expect(maskLength(rip.mask(i)) === refMaskLength(rip.mask(i)), () => `maskLength(${rip.mask(i).toString(16)}) wrong`);
        this.count(`rip-entry:${ec}`);
      }
      void rip.isWholeTableRequest;
    }
    const bfd = this.bfd.attach(b, 0, b.length);
    const bc = bfd.validate();
    expect(bc === refBfdCheck(b), () => `BfdControlView.validate() = ${bc}, reference ${refBfdCheck(b)}`);
    this.count(`bfd:${bc}`);

    const vlen = Math.min(b.length, 12);
    const v = this.virtio.attach(b, 0, vlen);
    const vc = v.check(w.len);
    expect(vc === refVirtioCheck(b.subarray(0, vlen), w.len), () => `VirtioNetHdrView.check() = ${vc}, reference ${refVirtioCheck(b.subarray(0, vlen), w.len)}`);
  }

  private ipv4Checks(b: Uint8Array, w: WireInput, expect: (ok: boolean, m: () => string) => void): void {
    const hl = (b[0]! & 15) * 4;
    const total = u16(b, 2);
    const ip = this.ip;
    // TTL decrement and address rewrites keep the header checksum right.
    const c = b.slice();
    ip.attach(c, 0, c.length);
    if (c[8]! > 0) {
      ip.decrementTtl();
      expect(c[8] === b[8]! - 1 && refChecksum(c, 0, hl) === 0, () => 'decrementTtl() broke the header checksum');
    }
    ip.setSrcIncremental(w.newAddr);
    ip.setDstIncremental(w.newAddr ^ 0x01010101);
    expect(u32(c, 12) === w.newAddr && refChecksum(c, 0, hl) === 0, () => 'setSrc/DstIncremental() broke the header checksum');

    // L4 fix-ups (NAT) keep a right checksum right.
    const proto = b[9]!;
    const l4 = total - hl;
    const whole = (u16(b, 6) & 0x3fff) === 0;
    if (whole && (proto === 17 || proto === 6)) {
      const view = proto === 17 ? this.udp.attach(c, hl, l4) : this.tcp.attach(c, hl, l4);
      const cover = proto === 17 ? u16(b, hl + 4) : l4;
      const min = proto === 17 ? 8 : 20;
      const okBefore = cover >= min && cover <= l4 && refL4ChecksumOk(b, hl, cover, u32(b, 12), u32(b, 16), proto);
      const none = proto === 17 && l4 >= 8 && u16(b, hl + 6) === 0;
      if (l4 >= min) {
        view.adjustForAddressChange(u32(b, 12), w.newAddr);
        view.adjustForAddressChange(u32(b, 16), (w.newAddr ^ 0x01010101) >>> 0);
        view.setDstPortIncremental(w.newPort);
        if (none) expect(u16(c, hl + 6) === 0, () => 'UDP "no checksum" got a checksum');
        else if (okBefore) {
          expect(refL4ChecksumOk(c, hl, cover, u32(c, 12), u32(c, 16), proto), () => `${proto === 6 ? 'TCP' : 'UDP'} checksum wrong after address/port rewrite: ${hex(c, 64)}`);
          this.count('l4-rewrite-verified');
        }
      }
    }

    // Fragmentation: fragments reassemble to the datagram.
    const n = fragmentIpv4(b, 0, b.length, w.mtu, this.out, 0, this.out.length, this.fragOffsets, this.fragLengths);
    if (n < 0) {
      this.count('fragment:refused');
      return;
    }
    this.count(n === 1 ? 'fragment:fits' : 'fragment:split');
    const payload = new Uint8Array(total - hl);
    const seen = new Uint8Array(total - hl);
    const base = (u16(b, 6) & 0x1fff) * 8;
    for (let i = 0; i < n; i++) {
      const f = this.out.subarray(this.fragOffsets[i]!, this.fragOffsets[i]! + this.fragLengths[i]!);
      expect(f.length <= Math.max(w.mtu, total) && refIpv4Check(f) === Ipv4Check.OK, () => `fragment ${i} invalid: ${hex(f)}`);
      expect(n === 1 || f.length <= w.mtu, () => `fragment ${i} of ${f.length} bytes over MTU ${w.mtu}`);
      const fhl = (f[0]! & 15) * 4;
      const at = (u16(f, 6) & 0x1fff) * 8 - base;
      const len = f.length - fhl;
      expect(at >= 0 && at + len <= payload.length, () => `fragment ${i} at ${at}+${len} outside ${payload.length}`);
      payload.set(f.subarray(fhl), at);
      seen.fill(1, at, at + len);
    }
    expect(seen.every((x) => x === 1) && payload.every((x, i) => x === b[hl + i]), () => 'fragments do not reassemble to the datagram');
  }
}

/** Inputs per property run: the property takes a small batch. */
const BATCH = 16;

export const wireTarget: FuzzTarget = {
  name: 'wire',
  description: 'IPv4/ICMP/UDP/TCP/RIP/BFD/virtio-net views, validators and writers on random and mutated bytes',
  inputsPerRun: BATCH,
  runsPerChunk: 2000,
  create(): TargetInstance {
    const h = new WireHarness();
    return {
      property: fc.property(fc.array(wireInput, { minLength: BATCH, maxLength: BATCH }), (list) => {
        for (const w of list) h.run(w);
        return true;
      }),
      inputs: () => h.fed,
      tally: () => h.tally,
      close: () => undefined,
    };
  },
};
