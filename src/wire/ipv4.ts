// IPv4 header (RFC 791 §3.1) as a reusable, zero-copy view.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |Version|  IHL  |Type of Service|          Total Length         |
// |         Identification        |Flags|      Fragment Offset    |
// |  Time to Live |    Protocol   |         Header Checksum       |
// |                       Source Address                          |
// |                    Destination Address                        |
//
// A view is attach()ed to (buf, off, len) and reused for every packet; no
// method allocates.

import { checksum, updateChecksum16, updateChecksum32 } from './checksum.js';
import { PacketView } from './view.js';

export const IPV4_HEADER_LEN = 20;

export const IpProto = { ICMP: 1, TCP: 6, UDP: 17 } as const;

export const Ipv4Check = {
  OK: 0,
  TRUNCATED: 1,
  BAD_VERSION: 2,
  BAD_IHL: 3,
  BAD_TOTAL_LENGTH: 4,
  BAD_CHECKSUM: 5,
} as const;

/** Indexed by Ipv4Check codes, for logs and counters. */
export const IPV4_CHECK_NAMES: readonly string[] = [
  'ok', 'truncated', 'bad-version', 'bad-ihl', 'bad-total-length', 'bad-checksum',
];

// Flags/fragment-offset word (bytes 6-7).
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_OFFSET_MASK = 0x1fff;

/** An IPv4 datagram; `len` is the bytes captured (may exceed totalLength: link padding). */
export class Ipv4View extends PacketView {
  get version(): number { return this.buf[this.off] >>> 4; }
  get ihl(): number { return this.buf[this.off] & 0x0f; }
  /** Header length in bytes (IHL is in 32-bit words). */
  get headerLength(): number { return (this.buf[this.off] & 0x0f) << 2; }
  get tos(): number { return this.buf[this.off + 1]; }
  set tos(v: number) { this.buf[this.off + 1] = v; }
  get totalLength(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  set totalLength(v: number) { this.buf[this.off + 2] = v >>> 8; this.buf[this.off + 3] = v; }
  get identification(): number { return (this.buf[this.off + 4] << 8) | this.buf[this.off + 5]; }
  set identification(v: number) { this.buf[this.off + 4] = v >>> 8; this.buf[this.off + 5] = v; }
  get dontFragment(): boolean { return (this.buf[this.off + 6] & (FLAG_DF >>> 8)) !== 0; }
  get moreFragments(): boolean { return (this.buf[this.off + 6] & (FLAG_MF >>> 8)) !== 0; }
  /** Fragment offset in 8-byte units (RFC 791). */
  get fragmentOffset(): number {
    return ((this.buf[this.off + 6] << 8) | this.buf[this.off + 7]) & FRAG_OFFSET_MASK;
  }
  /** True for any fragment: MF set or a non-zero offset. */
  get isFragment(): boolean {
    return (((this.buf[this.off + 6] << 8) | this.buf[this.off + 7]) & (FLAG_MF | FRAG_OFFSET_MASK)) !== 0;
  }
  get ttl(): number { return this.buf[this.off + 8]; }
  /** Plain write: the caller must fillChecksum() (or use decrementTtl()). */
  set ttl(v: number) { this.buf[this.off + 8] = v; }
  get protocol(): number { return this.buf[this.off + 9]; }
  get headerChecksum(): number { return (this.buf[this.off + 10] << 8) | this.buf[this.off + 11]; }
  get src(): number { return readU32(this.buf, this.off + 12); }
  set src(v: number) { writeU32(this.buf, this.off + 12, v); }
  get dst(): number { return readU32(this.buf, this.off + 16); }
  set dst(v: number) { writeU32(this.buf, this.off + 16, v); }
  /**
   * The addresses as int32 bits (negative from 128.0.0.0 up): always a small
   * integer to V8, never a boxed number, however the call is compiled — what
   * the packet path passes between its steps. `>>> 0` gives the uint32.
   */
  get srcBits(): number { return readI32(this.buf, this.off + 12); }
  get dstBits(): number { return readI32(this.buf, this.off + 16); }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number { return this.off + ((this.buf[this.off] & 0x0f) << 2); }
  get payloadLength(): number { return this.totalLength - this.headerLength; }
  /**
   * Whether the packet shows TCP/UDP ports: TCP or UDP, the first (or only)
   * fragment, and at least the 4 port bytes of payload.
   */
  get hasPorts(): boolean {
    const p = this.buf[this.off + 9];
    return (p === IpProto.TCP || p === IpProto.UDP) && this.fragmentOffset === 0 && this.payloadLength >= 4;
  }
  /** TCP/UDP source port (check hasPorts first). */
  get srcPort(): number { const o = this.payloadOffset; return (this.buf[o] << 8) | this.buf[o + 1]; }
  /** TCP/UDP destination port (check hasPorts first). */
  get dstPort(): number { const o = this.payloadOffset; return (this.buf[o + 2] << 8) | this.buf[o + 3]; }

  /** Recompute the header checksum from scratch. */
  fillChecksum(): void {
    const b = this.buf, o = this.off;
    b[o + 10] = 0;
    b[o + 11] = 0;
    const c = checksum(b, o, (b[o] & 0x0f) << 2);
    b[o + 10] = c >>> 8;
    b[o + 11] = c;
  }

  /**
   * RFC 1812 §5.2.2 / RFC 791 receive checks. Returns an Ipv4Check code.
   * Bytes beyond totalLength (link padding) are accepted; use totalLength.
   */
  validate(): number {
    const b = this.buf, o = this.off, len = this.len;
    if (len < IPV4_HEADER_LEN) return Ipv4Check.TRUNCATED;
    if (b[o] >>> 4 !== 4) return Ipv4Check.BAD_VERSION;
    const hl = (b[o] & 0x0f) << 2;
    if (hl < IPV4_HEADER_LEN || hl > len) return Ipv4Check.BAD_IHL;
    const total = (b[o + 2] << 8) | b[o + 3];
    if (total < hl || total > len) return Ipv4Check.BAD_TOTAL_LENGTH;
    if (hl === IPV4_HEADER_LEN ? !headerSumOk20(b, o) : checksum(b, o, hl) !== 0) return Ipv4Check.BAD_CHECKSUM;
    return Ipv4Check.OK;
  }

  /**
   * TTL - 1 with the RFC 1624 eqn. 3 incremental update of the TTL/protocol
   * word (RFC 1812 §5.3.1 / §5.2.2 allow this instead of a recompute).
   * Returns the new TTL. A TTL of 0 is left unchanged (the caller must have
   * checked TTL > 1 before forwarding).
   */
  decrementTtl(): number {
    const b = this.buf, o = this.off;
    const ttl = b[o + 8];
    if (ttl === 0) return 0;
    const proto = b[o + 9];
    const c = updateChecksum16((b[o + 10] << 8) | b[o + 11], (ttl << 8) | proto, ((ttl - 1) << 8) | proto);
    b[o + 8] = ttl - 1;
    b[o + 10] = c >>> 8;
    b[o + 11] = c;
    return ttl - 1;
  }

  /** Rewrite the source address, updating the header checksum incrementally. NAT callers fix L4 checksums. */
  setSrcIncremental(addr: number): void {
    this.rewriteAddr(12, addr);
  }

  /** Rewrite the destination address, updating the header checksum incrementally. */
  setDstIncremental(addr: number): void {
    this.rewriteAddr(16, addr);
  }

  private rewriteAddr(rel: number, addr: number): void {
    const b = this.buf, o = this.off;
    // int32, not readU32's uint32: a uint32 ≥ 2^31 passed on is boxed (an allocation per packet).
    const old = (b[o + rel] << 24) | (b[o + rel + 1] << 16) | (b[o + rel + 2] << 8) | b[o + rel + 3];
    const c = updateChecksum32((b[o + 10] << 8) | b[o + 11], old, addr);
    writeU32(b, o + rel, addr);
    b[o + 10] = c >>> 8;
    b[o + 11] = c;
  }
}

/**
 * The checksum check of a 20-byte header (no options: nearly every packet),
 * unrolled: ten words sum to at most 0x9fff6, so two integer folds finish
 * it. Valid when the folded sum is 0xffff (its complement 0).
 */
function headerSumOk20(b: Uint8Array, o: number): boolean {
  let s = ((b[o] << 8) | b[o + 1]) + ((b[o + 2] << 8) | b[o + 3]) + ((b[o + 4] << 8) | b[o + 5]) +
    ((b[o + 6] << 8) | b[o + 7]) + ((b[o + 8] << 8) | b[o + 9]) + ((b[o + 10] << 8) | b[o + 11]) +
    ((b[o + 12] << 8) | b[o + 13]) + ((b[o + 14] << 8) | b[o + 15]) + ((b[o + 16] << 8) | b[o + 17]) +
    ((b[o + 18] << 8) | b[o + 19]);
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16) === 0xffff;
}

/** Big-endian 32-bit read as int32 bits (see Ipv4View.srcBits). */
export function readI32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/** Big-endian uint32 read, normalised to an unsigned number. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/** Big-endian uint32 write. */
export function writeU32(b: Uint8Array, o: number, v: number): void {
  v >>>= 0;
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/**
 * Write a 20-byte IPv4 header (no options) with its checksum at buf[off].
 * Returns 20.
 */
export function writeIpv4Header(
  buf: Uint8Array, off: number, totalLength: number, protocol: number,
  src: number, dst: number, ttl: number, tos = 0, identification = 0,
  dontFragment = false,
): number {
  buf[off] = 0x45;
  buf[off + 1] = tos;
  buf[off + 2] = totalLength >>> 8;
  buf[off + 3] = totalLength;
  buf[off + 4] = identification >>> 8;
  buf[off + 5] = identification;
  buf[off + 6] = dontFragment ? FLAG_DF >>> 8 : 0;
  buf[off + 7] = 0;
  buf[off + 8] = ttl;
  buf[off + 9] = protocol;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  writeU32(buf, off + 12, src);
  writeU32(buf, off + 16, dst);
  const c = checksum(buf, off, IPV4_HEADER_LEN);
  buf[off + 10] = c >>> 8;
  buf[off + 11] = c;
  return IPV4_HEADER_LEN;
}

/**
 * memmove of n bytes between Uint8Arrays (possibly views of the same
 * ArrayBuffer, possibly overlapping). A plain loop: `set(subarray())` would
 * allocate a view per call.
 */
export function copyBytes(src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, n: number): void {
  if (src.buffer === dst.buffer && dst.byteOffset + dstOff > src.byteOffset + srcOff) {
    for (let i = n - 1; i >= 0; i--) dst[dstOff + i] = src[srcOff + i];
  } else {
    for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i];
  }
}
