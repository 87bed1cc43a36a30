// ICMP for IPv4 (RFC 792) with the router requirements of RFC 1812 §4.3.
//
//  0                   1                   2                   3
// |     Type      |     Code      |          Checksum             |
// |   Identifier / unused / pointer / next-hop MTU (RFC 1191)      |
// |   data: echo payload, or the offending IP header + >= 8 bytes   |

import { checksum, updateChecksum16 } from './checksum.js';
import { IPV4_HEADER_LEN, IpProto, copyBytes, readU32, writeIpv4Header, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const IcmpType = {
  ECHO_REPLY: 0,
  DEST_UNREACHABLE: 3,
  REDIRECT: 5,
  ECHO_REQUEST: 8,
  TIME_EXCEEDED: 11,
  PARAMETER_PROBLEM: 12,
  TIMESTAMP_REQUEST: 13,
  TIMESTAMP_REPLY: 14,
  ADDRESS_MASK_REQUEST: 17,
  ADDRESS_MASK_REPLY: 18,
} as const;

export const UnreachCode = {
  NET: 0,
  HOST: 1,
  PROTOCOL: 2,
  PORT: 3,
  FRAG_NEEDED: 4,
  SOURCE_ROUTE_FAILED: 5,
  ADMIN_PROHIBITED: 13,
} as const;

export const ICMP_HEADER_LEN = 8;

/** RFC 1812 §4.3.2.3: an ICMP error datagram SHOULD NOT exceed 576 bytes. */
export const ICMP_ERROR_MAX_LEN = 576;

/** RFC 1812 §4.3.2.5: ICMP errors are sent with precedence 6 (internetwork control). */
export const ICMP_ERROR_TOS = 0xc0;

/** An ICMP message; `len` is its length (the IP payload length). */
export class IcmpView extends PacketView {
  get type(): number { return this.buf[this.off]; }
  get code(): number { return this.buf[this.off + 1]; }
  get checksum(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  /** Echo identifier (bytes 4-5). */
  get identifier(): number { return (this.buf[this.off + 4] << 8) | this.buf[this.off + 5]; }
  /** Echo sequence number (bytes 6-7). */
  get sequence(): number { return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7]; }
  /** Next-hop MTU of a FRAG_NEEDED unreachable: low 16 bits of word 1 (RFC 1191 §4). */
  get nextHopMtu(): number { return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7]; }
  /** The whole second 32-bit word (unused / pointer / gateway / id+seq). */
  get restOfHeader(): number { return readU32(this.buf, this.off + 4); }
  /** Checksum over the whole message (no pseudo-header for ICMPv4). */
  checksumOk(): boolean {
    return this.len >= ICMP_HEADER_LEN && checksum(this.buf, this.off, this.len) === 0;
  }
}

/** Error (as opposed to query) message types, RFC 1812 §4.3.2.7. 4 is Source Quench. */
export function isIcmpErrorType(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/**
 * RFC 1812 §4.3.2.7: may an ICMP error be sent about this (validated) IPv4
 * datagram? Not about an ICMP error, a non-initial fragment, a datagram to
 * the limited broadcast or a multicast address, or one whose source is not
 * a single host (0/8, 127/8, multicast, class E, broadcast). Directed
 * broadcasts are the caller's business (it knows its prefixes).
 */
export function icmpErrorAllowed(buf: Uint8Array, off: number, len: number): boolean {
  if (len < IPV4_HEADER_LEN) return false;
  if ((((buf[off + 6] << 8) | buf[off + 7]) & 0x1fff) !== 0) return false;
  const src = readU32(buf, off + 12);
  const dst = readU32(buf, off + 16);
  const s8 = src >>> 24;
  if (s8 === 0 || s8 === 127 || s8 >= 224) return false;
  if (dst >>> 28 === 0xe || dst === 0xffffffff) return false;
  if (buf[off + 9] === IpProto.ICMP) {
    const hl = (buf[off] & 0x0f) << 2;
    if (hl < len && isIcmpErrorType(buf[off + hl])) return false;
  }
  return true;
}

/**
 * Build a complete IPv4 + ICMP error datagram at out[outOff] about the
 * datagram orig[origOff, origOff+origLen).
 *  - IP: src = `src` (the router), dst = original source, protocol 1,
 *    TOS 0xc0 (RFC 1812 §4.3.2.5), TTL `ttl`, id 0, DF clear.
 *  - ICMP word 1 = `param` (for FRAG_NEEDED the next-hop MTU in the low 16
 *    bits, RFC 1191; for PARAMETER_PROBLEM the pointer in the top byte).
 *  - Data: as much of the original as fits in 576 bytes total (RFC 1812
 *    §4.3.2.3), never less than its header + 8 bytes when it has them.
 *    The original's totalLength bounds the quote (link padding is not
 *    quoted), itself bounded by origLen.
 * out and orig may be the same buffer (overlap is handled).
 * Returns the total length written, or -1 if the original is shorter than an
 * IPv4 header or out cannot hold header + 8 quoted bytes.
 */
export function buildIcmpError(
  out: Uint8Array, outOff: number, type: number, code: number, param: number,
  src: number, orig: Uint8Array, origOff: number, origLen: number, ttl = 64,
): number {
  if (origLen < IPV4_HEADER_LEN) return -1;
  let quote = (orig[origOff + 2] << 8) | orig[origOff + 3];
  if (quote > origLen || quote < IPV4_HEADER_LEN) quote = origLen;
  const hl = (orig[origOff] & 0x0f) << 2;
  let minQuote = hl + 8;
  if (minQuote > quote) minQuote = quote;
  const room = ICMP_ERROR_MAX_LEN - IPV4_HEADER_LEN - ICMP_HEADER_LEN;
  if (quote > room) quote = room; // room (548) > 60 + 8, so minQuote still holds
  const cap = out.length - outOff - IPV4_HEADER_LEN - ICMP_HEADER_LEN;
  if (quote > cap) quote = cap;
  if (quote < minQuote) return -1;

  // Read before writing: out may overlap orig.
  const dst = readU32(orig, origOff + 12);
  const icmpOff = outOff + IPV4_HEADER_LEN;
  copyBytes(orig, origOff, out, icmpOff + ICMP_HEADER_LEN, quote);

  const icmpLen = ICMP_HEADER_LEN + quote;
  out[icmpOff] = type;
  out[icmpOff + 1] = code;
  out[icmpOff + 2] = 0;
  out[icmpOff + 3] = 0;
  writeU32(out, icmpOff + 4, param);
  const c = checksum(out, icmpOff, icmpLen);
  out[icmpOff + 2] = c >>> 8;
  out[icmpOff + 3] = c;

  const total = IPV4_HEADER_LEN + icmpLen;
  writeIpv4Header(out, outOff, total, IpProto.ICMP, src, dst, ttl, ICMP_ERROR_TOS, 0, false);
  return total;
}

/** Bytes of an ICMP timestamp message (RFC 792): header + originate, receive, transmit. */
export const ICMP_TIMESTAMP_LEN = 20;
/** Bytes of an ICMP address mask message (RFC 950): header + mask. */
export const ICMP_ADDRESS_MASK_LEN = 12;

/** The reply type of an ICMP query the router answers (echo, timestamp, address mask), or -1. */
export function icmpReplyType(requestType: number): number {
  switch (requestType) {
    case IcmpType.ECHO_REQUEST: return IcmpType.ECHO_REPLY;
    case IcmpType.TIMESTAMP_REQUEST: return IcmpType.TIMESTAMP_REPLY;
    case IcmpType.ADDRESS_MASK_REQUEST: return IcmpType.ADDRESS_MASK_REPLY;
    default: return -1;
  }
}

/**
 * Turn the ICMP query at buf[io, io+len) into its reply in place: echo →
 * echo reply (identifier, sequence and data kept, RFC 792), timestamp →
 * timestamp reply with receive and transmit times `time` (RFC 792: ms
 * since midnight UT), address mask → reply carrying `mask` (RFC 950). The
 * checksum is updated incrementally (RFC 1624) for echo — its data may be
 * large — and recomputed for the short ones. Returns false, the buffer
 * untouched, when this is not a complete valid query (unknown type, code
 * not 0 where RFC 792 says 0, too short, bad checksum).
 */
export function icmpQueryToReply(buf: Uint8Array, io: number, len: number, time: number, mask: number): boolean {
  if (len < ICMP_HEADER_LEN) return false;
  const type = buf[io];
  const reply = icmpReplyType(type);
  if (reply < 0) return false;
  if (type === IcmpType.TIMESTAMP_REQUEST && (len < ICMP_TIMESTAMP_LEN || buf[io + 1] !== 0)) return false;
  if (type === IcmpType.ADDRESS_MASK_REQUEST && (len < ICMP_ADDRESS_MASK_LEN || buf[io + 1] !== 0)) return false;
  if (checksum(buf, io, len) !== 0) return false;
  if (type === IcmpType.ECHO_REQUEST) {
    // Type/code word changes from 0x08cc to 0x00cc.
    const code = buf[io + 1];
    let c = updateChecksum16((buf[io + 2] << 8) | buf[io + 3], (IcmpType.ECHO_REQUEST << 8) | code, code);
    buf[io] = IcmpType.ECHO_REPLY;
    if (c === 0) {
      // Eqn. 3 gives 0 when the reply's words sum to zero, and an all-zero
      // reply (identifier, sequence, data 0) needs 0xffff: a full sum knows.
      buf[io + 2] = 0;
      buf[io + 3] = 0;
      c = checksum(buf, io, len);
    }
    buf[io + 2] = c >>> 8;
    buf[io + 3] = c;
    return true;
  }
  buf[io] = reply;
  if (type === IcmpType.TIMESTAMP_REQUEST) {
    writeU32(buf, io + 12, time);
    writeU32(buf, io + 16, time);
  } else {
    writeU32(buf, io + 8, mask);
  }
  buf[io + 2] = 0;
  buf[io + 3] = 0;
  const c = checksum(buf, io, len);
  buf[io + 2] = c >>> 8;
  buf[io + 3] = c;
  return true;
}

/**
 * Turn an ICMP echo request (IP header already validated) into the echo
 * reply in place (RFC 792; RFC 1122 §3.2.2.6): IP dst = original src,
 * src = replySrc, TTL 64, ICMP type 0, ICMP checksum updated incrementally
 * (RFC 1624), IP header checksum recomputed. Options and payload are kept
 * as they are (the packet path handles options: icmp-server.ts).
 * Returns false, leaving the buffer untouched, if this is not a complete
 * valid echo request (fragment, too short, not type 8, bad ICMP checksum).
 */
export function echoRequestToReply(buf: Uint8Array, off: number, len: number, replySrc: number): boolean {
  if (len < IPV4_HEADER_LEN || buf[off + 9] !== IpProto.ICMP) return false;
  // A fragment cannot be checksummed or answered alone.
  if ((((buf[off + 6] << 8) | buf[off + 7]) & 0x3fff) !== 0) return false;
  const hl = (buf[off] & 0x0f) << 2;
  const total = (buf[off + 2] << 8) | buf[off + 3];
  if (total > len || hl < IPV4_HEADER_LEN || total < hl + ICMP_HEADER_LEN) return false;
  const io = off + hl;
  if (buf[io] !== IcmpType.ECHO_REQUEST) return false;
  if (!icmpQueryToReply(buf, io, total - hl, 0, 0)) return false;

  const origSrc = readU32(buf, off + 12);
  writeU32(buf, off + 16, origSrc);
  writeU32(buf, off + 12, replySrc);
  buf[off + 8] = 64;
  buf[off + 10] = 0;
  buf[off + 11] = 0;
  const h = checksum(buf, off, hl);
  buf[off + 10] = h >>> 8;
  buf[off + 11] = h;
  return true;
}

/**
 * Build an IPv4 ICMP echo request at out[outOff] with a payload of
 * `payloadLen` bytes of the pattern (i & 0xff). Returns the total length.
 */
export function buildEchoRequest(
  out: Uint8Array, outOff: number, src: number, dst: number, id: number, seq: number,
  payloadLen: number, ttl = 64,
): number {
  const io = outOff + IPV4_HEADER_LEN;
  out[io] = IcmpType.ECHO_REQUEST;
  out[io + 1] = 0;
  out[io + 2] = 0;
  out[io + 3] = 0;
  out[io + 4] = id >>> 8;
  out[io + 5] = id;
  out[io + 6] = seq >>> 8;
  out[io + 7] = seq;
  const p = io + ICMP_HEADER_LEN;
  for (let i = 0; i < payloadLen; i++) out[p + i] = i;
  const c = checksum(out, io, ICMP_HEADER_LEN + payloadLen);
  out[io + 2] = c >>> 8;
  out[io + 3] = c;
  const total = IPV4_HEADER_LEN + ICMP_HEADER_LEN + payloadLen;
  writeIpv4Header(out, outOff, total, IpProto.ICMP, src, dst, ttl, 0, 0, false);
  return total;
}
