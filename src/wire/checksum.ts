// Internet checksum (RFC 1071) and incremental update (RFC 1624).
//
// Sums are kept in a plain JS number and folded only at the end: every
// 16-bit word adds at most 0xffff, so even a 64 KiB packet stays far below
// 2^53 and no intermediate folding is needed. Nothing here allocates.

/**
 * Ones'-complement partial sum of big-endian 16-bit words of
 * buf[off, off+len), an odd trailing byte padded with zero (RFC 1071 §4.1).
 * Returns the UNFOLDED accumulator (acc + words).
 */
export function sum16(buf: Uint8Array, off: number, len: number, acc = 0): number {
  const end = off + len;
  const even = end - (len & 1);
  let i = off;
  // Unrolled by 4 words: the hot path is 20-byte headers and small payloads.
  for (; i + 8 <= even; i += 8) {
    acc += ((buf[i] << 8) | buf[i + 1]) + ((buf[i + 2] << 8) | buf[i + 3]) +
      ((buf[i + 4] << 8) | buf[i + 5]) + ((buf[i + 6] << 8) | buf[i + 7]);
  }
  for (; i < even; i += 2) acc += (buf[i] << 8) | buf[i + 1];
  if (len & 1) acc += buf[end - 1] << 8;
  return acc;
}

/** Fold carries into 16 bits (end-around carry). Safe for sums up to 2^53. */
export function fold16(sum: number): number {
  // Division rather than >>> 16: the accumulator may exceed 32 bits.
  while (sum > 0xffff) {
    const lo = sum % 0x10000;
    sum = lo + (sum - lo) / 0x10000;
  }
  return sum;
}

/**
 * Final Internet checksum of buf[off, off+len) plus a partial sum `acc`
 * (e.g. a pseudo-header). Verifying data that contains its own checksum
 * yields 0.
 */
export function checksum(buf: Uint8Array, off: number, len: number, acc = 0): number {
  return ~fold16(sum16(buf, off, len, acc)) & 0xffff;
}

/** Partial (unfolded) sum of the IPv4 pseudo-header (RFC 768, RFC 793 §3.1). */
export function pseudoHeaderSum(src: number, dst: number, protocol: number, length: number): number {
  src >>>= 0;
  dst >>>= 0;
  return (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) +
    (protocol & 0xff) + (length & 0xffff);
}

/**
 * RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from
 * m to m'. Eqn. 3 (not eqn. 2 of RFC 1141) avoids the 0x0000/0xffff
 * ambiguity: for any data whose sum is non-zero it equals a full recompute.
 */
export function updateChecksum16(csum: number, oldWord: number, newWord: number): number {
  const s = (~csum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  return ~fold16(s) & 0xffff;
}

/** Incremental update for a 32-bit field (an address rewritten by NAT). */
export function updateChecksum32(csum: number, oldValue: number, newValue: number): number {
  oldValue >>>= 0;
  newValue >>>= 0;
  const s = (~csum & 0xffff) +
    (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) +
    (newValue >>> 16) + (newValue & 0xffff);
  return ~fold16(s) & 0xffff;
}

/** IPv4's protocol numbers of TCP and UDP (ipv4.ts imports this file: not IpProto). */
const PROTO_TCP = 6;
const PROTO_UDP = 17;

/**
 * Finish a partial checksum in place (virtio-net NEEDS_CSUM, no GSO) for an
 * egress that does not take partial checksums, or for a packet that leaves
 * without its offload header (an Ethernet port's held packets): the field at
 * csumStart+csumOffset holds the pseudo-header sum; the checksum covers
 * [csumStart, len) from the IP header at buf[off]. Returns false (nothing
 * written) if the offsets do not fit the packet.
 */
export function finishPartialChecksum(buf: Uint8Array, off: number, len: number, csumStart: number, csumOffset: number): boolean {
  const at = off + csumStart + csumOffset;
  if (csumStart >= len || csumStart + csumOffset + 2 > len) return false;
  const initial = (buf[at] << 8) | buf[at + 1];
  buf[at] = 0;
  buf[at + 1] = 0;
  let c = ~fold16(sum16(buf, off + csumStart, len - csumStart, initial)) & 0xffff;
  // UDP's field at offset 6: a computed 0 goes out as all ones (0 would mean "no checksum").
  if (c === 0 && csumOffset === 6 && buf[off + 9] === PROTO_UDP) c = 0xffff;
  buf[at] = c >>> 8;
  buf[at + 1] = c;
  return true;
}

/**
 * Finish the kind of partial checksum the packet path keeps — TCP's or UDP's,
 * right after the IPv4 header at buf[off] — in place. False if it does not fit.
 */
export function finishTransportChecksum(buf: Uint8Array, off: number, len: number): boolean {
  return finishPartialChecksum(buf, off, len, (buf[off] & 0x0f) << 2, buf[off + 9] === PROTO_TCP ? 16 : 6);
}
