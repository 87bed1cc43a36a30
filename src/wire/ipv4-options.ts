// IPv4 options (RFC 791 §3.1) that a router acts on: Record Route, Internet
// Timestamp, Loose and Strict Source and Record Route. One walk over the
// option bytes finds them and checks them; the helpers below change them in
// place. Nothing allocates, and a header without options (IHL 5) never gets
// here: the packet path checks the first byte (0x45) before parsing.
//
//  option:  | type | length | pointer | data … |   (RR, TS, LSRR, SSRR)
//  pointer: 1-based offset in the option of the next free slot; the slot
//           area is full (the route complete) when no whole entry fits
//           from the pointer on (pointer > length when entries line up:
//           a sender's odd pointer or length must not make the router
//           read or write past the option).
//  TS:      | 68 | length | pointer | overflow(4) flag(4) | [address] time … |

import { readU32, writeU32 } from './ipv4.js';

export const IpOption = {
  EOL: 0,
  NOP: 1,
  RECORD_ROUTE: 7,
  TIMESTAMP: 68,
  SECURITY: 130,
  LOOSE_SOURCE_ROUTE: 131,
  STREAM_ID: 136,
  STRICT_SOURCE_ROUTE: 137,
  ROUTER_ALERT: 148,
} as const;

const EMPTY = new Uint8Array(0);

/** Timestamp option flag (low 4 bits of its 4th byte). */
export const TimestampFlag = { TIMESTAMPS: 0, ADDRESSES: 1, PRESPECIFIED: 3 } as const;

/**
 * What one IPv4 header's options hold. parse() fills it; offsets are
 * absolute in the buffer (-1: absent).
 */
export class Ipv4Options {
  /** The buffer of the header last parsed. */
  buf: Uint8Array = EMPTY;
  /** Record Route option. */
  rr = -1;
  /** Internet Timestamp option. */
  ts = -1;
  /** Loose or strict source route option. */
  sr = -1;
  /** The source route is strict (SSRR). */
  strict = false;
  /**
   * When the options are malformed: the offset of the offending octet from
   * the start of the header — the pointer of the ICMP Parameter Problem
   * (RFC 792; RFC 1812 §4.3.3.5). -1 when well formed.
   */
  problem = -1;

  /**
   * Walk the options of the (validated) header at buf[off]. Returns true
   * when they are well formed. Checks (RFC 791 §3.1): each option's length
   * fits the header and is at least 2; RR/SR/TS appear at most once
   * (RFC 1122 §3.2.1.8: more than one source route has no defined meaning);
   * their pointer is at least 4 (TS: 5); a slot area with some room but less
   * than one whole entry is an error; a TS flag is 0, 1 or 3; a full TS
   * whose overflow counter would pass 15 is an error.
   */
  parse(buf: Uint8Array, off: number): boolean {
    this.buf = buf;
    this.rr = this.ts = this.sr = this.problem = -1;
    this.strict = false;
    const end = off + ((buf[off] & 0x0f) << 2);
    let i = off + 20;
    let bad: number;
    while (i < end) {
      const type = buf[i];
      if (type === IpOption.EOL) break;
      if (type === IpOption.NOP) { i++; continue; }
      if (i + 1 >= end) return this.fail(i, off); // a type with no length byte
      const len = buf[i + 1];
      if (len < 2 || i + len > end) return this.fail(i + 1, off);
      switch (type) {
        case IpOption.LOOSE_SOURCE_ROUTE:
        case IpOption.STRICT_SOURCE_ROUTE:
          if (this.sr >= 0) return this.fail(i, off);
          if ((bad = this.slotError(buf, i, len, 4, 4)) >= 0) return this.fail(bad, off);
          this.sr = i;
          this.strict = type === IpOption.STRICT_SOURCE_ROUTE;
          break;
        case IpOption.RECORD_ROUTE:
          if (this.rr >= 0) return this.fail(i, off);
          if ((bad = this.slotError(buf, i, len, 4, 4)) >= 0) return this.fail(bad, off);
          this.rr = i;
          break;
        case IpOption.TIMESTAMP: {
          if (this.ts >= 0) return this.fail(i, off);
          if (len < 4) return this.fail(i + 1, off);
          const flag = buf[i + 3] & 0x0f;
          if (flag !== TimestampFlag.TIMESTAMPS && flag !== TimestampFlag.ADDRESSES && flag !== TimestampFlag.PRESPECIFIED) {
            return this.fail(i + 3, off);
          }
          if ((bad = this.slotError(buf, i, len, 5, flag === TimestampFlag.TIMESTAMPS ? 4 : 8)) >= 0) return this.fail(bad, off);
          // Full: every router that cannot stamp counts itself in the overflow (4 bits).
          if (buf[i + 2] > len && flag !== TimestampFlag.PRESPECIFIED && buf[i + 3] >>> 4 === 15) return this.fail(i + 3, off);
          this.ts = i;
          break;
        }
        default:
          // Unrecognised, security, stream id, router alert: passed through unchanged (RFC 1812 §5.3.13.1-3).
          break;
      }
      i += len;
    }
    return true;
  }

  /** Any option the router acts on? */
  get any(): boolean {
    return (this.rr & this.ts & this.sr) !== -1;
  }

  private fail(at: number, off: number): boolean {
    this.problem = at - off;
    return false;
  }

  /**
   * A slot option at buf[o] of length len: the offending octet, or -1 when
   * its pointer and room are right (minimum pointer, bytes per entry).
   */
  private slotError(buf: Uint8Array, o: number, len: number, minPointer: number, entry: number): number {
    if (len < minPointer - 1) return o + 1;
    const ptr = buf[o + 2];
    if (ptr < minPointer) return o + 2;
    // Some room but not a whole entry: RFC 791 calls the datagram in error.
    if (ptr <= len && ptr + entry - 1 > len) return o + 2;
    return -1;
  }
}

/** Whether a route option (RR, SR) at buf[o] has no room left for an address (the source route is complete). */
export function optionFull(buf: Uint8Array, o: number): boolean {
  return buf[o + 2] + 3 > buf[o + 1];
}

/** Whether a timestamp option at buf[o] has no room left for an entry (a time, or an address and a time). */
function timestampFull(buf: Uint8Array, o: number): boolean {
  return buf[o + 2] + ((buf[o + 3] & 0x0f) === TimestampFlag.TIMESTAMPS ? 3 : 7) > buf[o + 1];
}

/**
 * RFC 791 Record Route: write `addr` in the next free slot and advance the
 * pointer; a full option is left unchanged. The caller fixes the checksum.
 */
export function recordRoute(buf: Uint8Array, o: number, addr: number): void {
  const ptr = buf[o + 2];
  if (optionFull(buf, o)) return;
  writeU32(buf, o + ptr - 1, addr);
  buf[o + 2] = ptr + 4;
}

/** The address the source route at buf[o] names next (check optionFull first). */
export function sourceRouteNext(buf: Uint8Array, o: number): number {
  return readU32(buf, o + buf[o + 2] - 1);
}

/**
 * A source route hop (RFC 791): the slot of the address now reached is
 * overwritten with `recorded` (the router's address on the way out) and
 * the pointer moves past it.
 */
export function sourceRouteRecord(buf: Uint8Array, o: number, recorded: number): void {
  const ptr = buf[o + 2];
  writeU32(buf, o + ptr - 1, recorded);
  buf[o + 2] = ptr + 4;
}

/** Skip the next source-route address without recording (it is one of the router's own). */
export function sourceRouteSkip(buf: Uint8Array, o: number): void {
  buf[o + 2] += 4;
}

/**
 * The next prespecified address of a flag-3 timestamp option, or 0 when
 * there is none (full, or another flag).
 */
export function timestampPrespecified(buf: Uint8Array, o: number): number {
  if ((buf[o + 3] & 0x0f) !== TimestampFlag.PRESPECIFIED || timestampFull(buf, o)) return 0;
  return readU32(buf, o + buf[o + 2] - 1);
}

/**
 * RFC 791 Internet Timestamp, one module's entry: flag 0 writes `time`;
 * flag 1 writes `addr` then `time`; flag 3 writes `time` only when
 * `prespecifiedIsOurs` (the next prespecified address is the router's). A
 * full option gets its overflow counter incremented instead (not for flag
 * 3: there the router was not asked). parse() has ruled out a counter at
 * 15. The caller fixes the checksum.
 */
export function stampTimestamp(buf: Uint8Array, o: number, addr: number, time: number, prespecifiedIsOurs: boolean): void {
  const ptr = buf[o + 2];
  const flag = buf[o + 3] & 0x0f;
  // (parse() let only full or whole-entry room in; a second stamp — the echo reply's — may find less.)
  if (timestampFull(buf, o)) {
    const overflow = buf[o + 3] >>> 4;
    if (flag !== TimestampFlag.PRESPECIFIED && overflow < 15) buf[o + 3] = ((overflow + 1) << 4) | flag;
    return;
  }
  if (flag === TimestampFlag.TIMESTAMPS) {
    writeU32(buf, o + ptr - 1, time);
    buf[o + 2] = ptr + 4;
  } else if (flag === TimestampFlag.ADDRESSES) {
    writeU32(buf, o + ptr - 1, addr);
    writeU32(buf, o + ptr + 3, time);
    buf[o + 2] = ptr + 8;
  } else if (prespecifiedIsOurs) {
    writeU32(buf, o + ptr + 3, time);
    buf[o + 2] = ptr + 8;
  }
}

/**
 * RFC 791's standard timestamp: milliseconds since midnight UT. The caller
 * passes the wall clock (Date.now()), so tests can fix it.
 */
export function standardTimestamp(epochMs: number): number {
  return epochMs % 86_400_000;
}

/**
 * Turn the completed source route at buf[o] into the return route of a
 * reply, in place (RFC 1122 §3.2.1.8 c; RFC 1812 §4.3.3.6). The request
 * recorded {G1 … Gn} on its way from `origSrc`; the reply goes to Gn
 * (returned: the reply's IP destination) carrying {Gn-1 … G1, origSrc}
 * with the pointer at the first. When G1 is origSrc itself (a route the
 * source wrongly began with its own address) it is not repeated. A route
 * that leaves nothing to carry is replaced by NOPs and origSrc returned.
 */
export function reverseSourceRoute(buf: Uint8Array, o: number, origSrc: number): number {
  const len = buf[o + 1];
  const ptr = buf[o + 2] > len ? len + 1 : buf[o + 2];
  const n = (ptr - 4) >>> 2; // addresses recorded
  const first = o + 3;
  if (n === 0) { fillNop(buf, o, len); return origSrc >>> 0; }
  const firstHop = readU32(buf, first + 4 * (n - 1));
  // Reverse A[0 .. n-2] in place, then S in slot n-1.
  for (let a = 0, b = n - 2; a < b; a++, b--) {
    const x = readU32(buf, first + 4 * a);
    writeU32(buf, first + 4 * a, readU32(buf, first + 4 * b));
    writeU32(buf, first + 4 * b, x);
  }
  let slots = n;
  if (n >= 2 && readU32(buf, first + 4 * (n - 2)) === origSrc >>> 0) slots = n - 1; // G1 was the source
  else writeU32(buf, first + 4 * (n - 1), origSrc);
  // Nothing left between the reply and the source: send it straight back.
  if (slots === 1 && firstHop === origSrc >>> 0) { fillNop(buf, o, len); return origSrc >>> 0; }
  const newLen = 3 + 4 * slots;
  buf[o + 1] = newLen;
  buf[o + 2] = 4;
  fillNop(buf, o + newLen, len - newLen);
  return firstHop;
}

/**
 * Keep only the options named (absolute offsets, -1 for none) and turn
 * every other option into NOPs (RFC 791 type 1), so a reply built in the
 * request's buffer carries only what RFC 1122 §3.2.2.6 asks to return.
 */
export function keepOnlyOptions(buf: Uint8Array, off: number, a: number, b: number, c: number): void {
  const end = off + ((buf[off] & 0x0f) << 2);
  let i = off + 20;
  while (i < end) {
    const type = buf[i];
    if (type === IpOption.EOL) break;
    if (type === IpOption.NOP) { i++; continue; }
    const len = buf[i + 1]; // parse() has checked every length
    if (i !== a && i !== b && i !== c) fillNop(buf, i, len);
    i += len;
  }
}

function fillNop(buf: Uint8Array, o: number, n: number): void {
  for (let k = 0; k < n; k++) buf[o + k] = IpOption.NOP;
}
