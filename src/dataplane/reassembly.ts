// Reassembly of datagrams addressed to the router itself (RFC 1812
// §4.2.2.8: a router MUST reassemble what it delivers to itself; §4.3.3.6:
// echo requests at least as large as 576 and every connected MTU; RFC 791
// §3.2 reassembly). A few fixed contexts in the packet arena, each room for
// the largest datagram; a bitmap of 8-byte units says what has arrived.
// When no context is free the oldest is given up (a flood of fragment
// starts costs the flood, not the router). Nothing is allocated per
// fragment. Contexts time out after REASSEMBLY_TIMEOUT_MS, checked lazily.
import type { PacketArena } from '../packet/arena.js';
import { checksum } from '../wire/checksum.js';
import { copyBytes, readU32, type Ipv4View } from '../wire/ipv4.js';

/** Datagrams in reassembly at once. */
export const REASSEMBLY_CONTEXTS = 4;
/** The largest IPv4 datagram. */
const MAX_DATAGRAM = 65535;
/** Room for the largest header in front of the data. */
const HEADER_ROOM = 60;
const UNITS = 8192; // 65536 / 8
/** RFC 1122 §3.3.2 suggests 60-120 s; a router's own traffic is small: 30 s. */
export const REASSEMBLY_TIMEOUT_MS = 30_000;

/** Arena bytes the contexts take. */
export const REASSEMBLY_BYTES = REASSEMBLY_CONTEXTS * (HEADER_ROOM + MAX_DATAGRAM + 64);

export const ReassemblyResult = {
  /** Kept; the datagram is not complete yet. */
  PENDING: -1,
  /** Refused: inconsistent or too large (RFC 791: more than 65535 bytes). */
  INVALID: -2,
} as const;

export class Reassembly {
  private readonly base: Int32Array;
  private readonly src = new Uint32Array(REASSEMBLY_CONTEXTS);
  private readonly dst = new Uint32Array(REASSEMBLY_CONTEXTS);
  /** Identification << 8 | protocol; -1 = free. */
  private readonly key = new Int32Array(REASSEMBLY_CONTEXTS).fill(-1);
  private readonly started = new Float64Array(REASSEMBLY_CONTEXTS);
  /** Header length of the first fragment once seen, else 0. */
  private readonly headerLen = new Int32Array(REASSEMBLY_CONTEXTS);
  /** Data bytes in all, once the last fragment is seen, else -1. */
  private readonly dataLen = new Int32Array(REASSEMBLY_CONTEXTS);
  private readonly filled = new Int32Array(REASSEMBLY_CONTEXTS);
  /** The furthest data byte any fragment reached. */
  private readonly maxEnd = new Int32Array(REASSEMBLY_CONTEXTS);
  private readonly units = new Uint8Array(REASSEMBLY_CONTEXTS * UNITS);
  /** The context add() last completed. */
  private whole = -1;
  /** Datagrams completed; contexts given up (timed out or evicted). */
  completed = 0;
  abandoned = 0;

  constructor(private readonly arena: PacketArena, private readonly now: () => number = () => performance.now()) {
    this.base = new Int32Array(REASSEMBLY_CONTEXTS);
    for (let i = 0; i < REASSEMBLY_CONTEXTS; i++) this.base[i] = arena.reserve(HEADER_ROOM + MAX_DATAGRAM);
  }

  /**
   * Add the fragment `ip` (validated, in the arena). Returns PENDING,
   * INVALID, or — the datagram is whole — the length take() will copy.
   */
  add(ip: Ipv4View): number {
    const b = ip.buf;
    const hl = ip.headerLength;
    const dataLen = ip.totalLength - hl;
    const unitOff = ip.fragmentOffset;
    const start = unitOff * 8;
    const more = ip.moreFragments;
    if (start + dataLen + hl > MAX_DATAGRAM || (more && (dataLen & 7) !== 0) || dataLen <= 0) return ReassemblyResult.INVALID;
    const c = this.context(ip);
    const base = this.base[c]!;
    const ab = this.arena.bytes;
    copyBytes(b, ip.payloadOffset, ab, base + HEADER_ROOM + start, dataLen);
    if (unitOff === 0) {
      this.headerLen[c] = hl;
      copyBytes(b, ip.off, ab, base + HEADER_ROOM - hl, hl);
    }
    const end = start + dataLen;
    if (end > this.maxEnd[c]!) this.maxEnd[c] = end;
    if (!more) {
      if (this.dataLen[c]! >= 0 && this.dataLen[c] !== end) return this.abandon(c, ReassemblyResult.INVALID);
      this.dataLen[c] = end;
    }
    // Data past the end the last fragment set: inconsistent (RFC 791 leaves it undefined; refuse).
    if (this.dataLen[c]! >= 0 && this.maxEnd[c]! > this.dataLen[c]!) return this.abandon(c, ReassemblyResult.INVALID);
    const u0 = c * UNITS;
    const last = (start + dataLen + 7) >>> 3;
    for (let u = unitOff; u < last; u++) {
      if (this.units[u0 + u] === 0) { this.units[u0 + u] = 1; this.filled[c]! += 1; }
    }
    const total = this.dataLen[c]!;
    if (total < 0 || this.headerLen[c] === 0 || this.filled[c]! < ((total + 7) >>> 3)) return ReassemblyResult.PENDING;
    if (this.headerLen[c]! + total > MAX_DATAGRAM) return this.abandon(c, ReassemblyResult.INVALID);
    this.whole = c;
    return this.headerLen[c]! + total;
  }

  /**
   * Copy the datagram add() just completed to arena offset `out` (room for
   * the length add() returned) and free its context: the first fragment's
   * header with length, flags, offset and checksum fixed, then the data.
   */
  take(out: number): void {
    const c = this.whole;
    const ab = this.arena.bytes;
    const base = this.base[c]!;
    const h = this.headerLen[c]!;
    const total = this.dataLen[c]!;
    const at = base + HEADER_ROOM - h;
    const length = h + total;
    copyBytes(ab, at, ab, out, length);
    ab[out + 2] = length >>> 8;
    ab[out + 3] = length;
    ab[out + 6] &= 0xc0; // reserved bit and DF as the first fragment had them; MF and offset 0
    ab[out + 7] = 0;
    ab[out + 10] = 0;
    ab[out + 11] = 0;
    const sum = checksum(ab, out, h);
    ab[out + 10] = sum >>> 8;
    ab[out + 11] = sum;
    this.free(c);
    this.completed++;
  }

  /** The context for this fragment's datagram: found, free, timed out, or the oldest. */
  private context(ip: Ipv4View): number {
    const src = readU32(ip.buf, ip.off + 12), dst = readU32(ip.buf, ip.off + 16);
    const key = (ip.identification << 8) | ip.protocol;
    const now = this.now();
    let free = -1, oldest = 0;
    for (let i = 0; i < REASSEMBLY_CONTEXTS; i++) {
      if (this.key[i] !== -1 && now - this.started[i]! > REASSEMBLY_TIMEOUT_MS) this.abandon(i, 0);
      if (this.key[i] === key && this.src[i] === src && this.dst[i] === dst) return i;
      if (this.key[i] === -1) { if (free < 0) free = i; } else if (this.started[i]! < this.started[oldest]!) oldest = i;
    }
    let c = free;
    if (c < 0) { this.abandon(oldest, 0); c = oldest; }
    this.key[c] = key;
    this.src[c] = src;
    this.dst[c] = dst;
    this.started[c] = now;
    this.headerLen[c] = 0;
    this.dataLen[c] = -1;
    this.filled[c] = 0;
    this.maxEnd[c] = 0;
    return c;
  }

  private abandon(c: number, result: number): number {
    this.abandoned++;
    this.free(c);
    return result;
  }

  private free(c: number): void {
    this.key[c] = -1;
    this.units.fill(0, c * UNITS, (c + 1) * UNITS);
  }
}

/** The room a caller gives add() for a completed datagram. */
export const REASSEMBLED_MAX = MAX_DATAGRAM;
