// Segmentation offload done in software, for when a super-packet read from an
// offload TUN (virtio-net header with gso_type TCPV4 or UDP_L4) must leave
// through an egress that cannot take it whole: a plain TUN, or a device that
// lacks that GSO type. Also the forwarding MTU rule for super-packets and the
// completion of a partial (NEEDS_CSUM) checksum.
//
// Segments are written back to back into a caller-owned region (the scratch
// of the packet arena), each with `headroom` free bytes in front for a
// virtio-net or link header, and appended to the caller's (offset, length)
// transmit list. Nothing allocates; when source and region are the same
// Uint8Array (one arena), payload moves with copyWithin (a native memmove).

import { fold16, pseudoHeaderSum, sum16 } from '../wire/checksum.js';
import { IpProto, copyBytes, readU32, writeU32 } from '../wire/ipv4.js';
import { TcpFlag } from '../wire/tcp.js';
import { VirtioGso } from '../wire/virtio-net.js';

/** What the forwarding path must do with a datagram at an egress of a given MTU (Linux's ip_forward rule). */
export const MtuVerdict = {
  /** Fits as it is. */
  FITS: 0,
  /** A super-packet larger than the MTU whose segments fit: pass it to an offload egress, or segment it. */
  SEGMENT: 1,
  /** DF set and what would go on the wire is larger than the MTU: ICMP 3/4 with the MTU, drop. */
  FRAG_NEEDED: 2,
  /** Not a super-packet, DF clear, larger than the MTU: fragment (RFC 791). */
  FRAGMENT: 3,
  /** A super-packet with DF clear whose segments exceed the MTU: segment, then fragment each segment. */
  SEGMENT_AND_FRAGMENT: 4,
} as const;

/**
 * The MTU decision for a forwarded datagram of `totalLength` bytes.
 * `segmentLength` is, for a super-packet, the IP length of one full segment
 * (IP header + L4 header + gso_size; gsoSegmentLength()), else 0.
 *
 * This is what Linux does (net/ipv4/ip_forward.c, ip_exceeds_mtu, and
 * ip_finish_output_gso): a super-packet is "too big" only if its
 * *segments* are — its own length is not what goes on the wire — and
 * without DF an oversized segment is fragmented rather than refused.
 */
export function mtuVerdict(totalLength: number, dontFragment: boolean, segmentLength: number, mtu: number): number {
  if (totalLength <= mtu) return MtuVerdict.FITS;
  if (segmentLength > 0) {
    if (segmentLength <= mtu) return MtuVerdict.SEGMENT;
    return dontFragment ? MtuVerdict.FRAG_NEEDED : MtuVerdict.SEGMENT_AND_FRAGMENT;
  }
  return dontFragment ? MtuVerdict.FRAG_NEEDED : MtuVerdict.FRAGMENT;
}

/**
 * Length of the IPv4 + L4 headers of a super-packet at buf[off, off+len) of
 * the given GSO kind (VirtioGso.TCPV4: TCP data offset; UDP_L4: 8), or -1 if
 * the packet does not hold them or is not what the kind says. Derived from
 * the packet because the virtio hdr_len is only a hint (on forwarded
 * packets the kernel sets it past the headers).
 */
export function gsoHeaderLength(buf: Uint8Array, off: number, len: number, gsoKind: number): number {
  if (len < 20 || buf[off] >>> 4 !== 4) return -1;
  const hl = (buf[off] & 0x0f) << 2;
  if (hl < 20) return -1;
  const proto = buf[off + 9];
  if (gsoKind === VirtioGso.TCPV4) {
    if (proto !== IpProto.TCP || len < hl + 20) return -1;
    const thl = (buf[off + hl + 12] >>> 4) << 2;
    if (thl < 20 || len < hl + thl) return -1;
    return hl + thl;
  }
  if (gsoKind === VirtioGso.UDP_L4) {
    if (proto !== IpProto.UDP || len < hl + 8) return -1;
    return hl + 8;
  }
  return -1;
}

/** IP length of one full segment: what the MTU rule compares (skb_gso_network_seglen). */
export function gsoSegmentLength(headerLength: number, gsoSize: number): number {
  return headerLength + gsoSize;
}

/**
 * Bytes of region segmentGso needs for a packet (segments 8-byte aligned,
 * each after `headroom`; 7 more for a region start that is not aligned).
 */
export function segmentedSize(len: number, headerLength: number, gsoSize: number, headroom: number): number {
  const payload = len - headerLength;
  const n = Math.ceil(payload / gsoSize);
  const full = (headroom + headerLength + gsoSize + 7) & ~7;
  const lastLen = payload - (n - 1) * gsoSize;
  return (n - 1) * full + headroom + headerLength + lastLen + 7;
}

export const SegmentError = {
  /** Not an IPv4 super-packet of that kind, bad lengths, or gso_size 0. */
  MALFORMED: -1,
  /** The region cannot hold every segment. */
  NO_ROOM: -2,
  /** More segments than room in the transmit list. */
  TOO_MANY: -3,
} as const;

/** How the segments' L4 checksums are left. */
export const SegmentChecksum = {
  /** Complete: for a plain egress. */
  FULL: 0,
  /** Pseudo-header sum only: for an egress that takes NEEDS_CSUM (csum_start = IP header length). */
  PARTIAL: 1,
} as const;

/**
 * Cut the IPv4 super-packet at buf[off, off+len) (gsoKind TCPV4 or UDP_L4,
 * gso_size `gsoSize` payload bytes per segment) into segments written to
 * out[outOff, outEnd), each after `headroom` bytes. Appends (offset, length)
 * of each segment to offsets/lengths from index `at` on, at most `max`.
 * Returns the number of segments, or a (negative) SegmentError.
 *
 * Per segment, as the kernel's own segmentation does: the IPv4 header with
 * total length, identification + i and a fresh header checksum; TCP: the
 * sequence number advanced by i × gso_size, FIN and PSH only on the last
 * segment, CWR only on the first; UDP: its own length. L4 checksum per
 * `csum` (whatever the super-packet carried in that field is ignored).
 * The source must not overlap the region.
 */
export function segmentGso(
  buf: Uint8Array, off: number, len: number, gsoKind: number, gsoSize: number,
  out: Uint8Array, outOff: number, outEnd: number, headroom: number, csum: number,
  offsets: Int32Array, lengths: Int32Array, at: number, max: number,
): number {
  const hlen = gsoHeaderLength(buf, off, len, gsoKind);
  if (hlen < 0 || gsoSize <= 0 || len > 0xffff || ((buf[off + 2] << 8) | buf[off + 3]) !== len) return SegmentError.MALFORMED;
  const payload = len - hlen;
  if (payload <= 0) return SegmentError.MALFORMED;
  const n = Math.ceil(payload / gsoSize);
  if (n > max || at + n > offsets.length || at + n > lengths.length) return SegmentError.TOO_MANY;
  if (outOff + segmentedSize(len, hlen, gsoSize, headroom) > outEnd) return SegmentError.NO_ROOM;

  let p = outOff;
  for (let i = 0; i < n; i++) {
    const d = p + headroom;
    const segLen = writeSegment(buf, off, hlen, gsoKind, gsoSize, i, n, out, d, csum);
    offsets[at + i] = d;
    lengths[at + i] = segLen;
    p = (d + segLen + 7) & ~7;
  }
  return n;
}

/**
 * The first segment of a super-packet, whole (complete checksums), at
 * out[outOff]: what an ICMP error about the super-packet quotes (segment 0
 * as writeSegment cuts it). Returns its length, or -1 (malformed).
 * out must hold header + gsoSize bytes there; the source must not overlap.
 */
export function firstSegment(buf: Uint8Array, off: number, len: number, gsoKind: number, gsoSize: number, out: Uint8Array, outOff: number): number {
  const hlen = gsoHeaderLength(buf, off, len, gsoKind);
  if (hlen < 0 || gsoSize <= 0 || len <= hlen || len > 0xffff || ((buf[off + 2] << 8) | buf[off + 3]) !== len) return -1;
  const n = Math.ceil((len - hlen) / gsoSize);
  return writeSegment(buf, off, hlen, gsoKind, gsoSize, 0, n, out, outOff, SegmentChecksum.FULL);
}

/** Segment i of n of the super-packet at buf[off] (headers hlen bytes) written at out[d]; returns its length. */
function writeSegment(
  buf: Uint8Array, off: number, hlen: number, gsoKind: number, gsoSize: number, i: number, n: number,
  out: Uint8Array, d: number, csum: number,
): number {
  const len = (buf[off + 2] << 8) | buf[off + 3];
  const payload = len - hlen;
  const hl = (buf[off] & 0x0f) << 2;
  const tcp = gsoKind === VirtioGso.TCPV4;
  const proto = tcp ? IpProto.TCP : IpProto.UDP;
  const csumAt = hl + (tcp ? 16 : 6);
  const segPayload = i < n - 1 ? gsoSize : payload - i * gsoSize;
  const segLen = hlen + segPayload;
  const from = off + hlen + i * gsoSize;
  if (out === buf) {
    out.copyWithin(d, off, off + hlen);
    out.copyWithin(d + hlen, from, from + segPayload);
  } else {
    copyBytes(buf, off, out, d, hlen);
    copyBytes(buf, from, out, d + hlen, segPayload);
  }
  // IPv4: length, identification, header checksum.
  out[d + 2] = segLen >>> 8;
  out[d + 3] = segLen;
  const id = (((buf[off + 4] << 8) | buf[off + 5]) + i) & 0xffff;
  out[d + 4] = id >>> 8;
  out[d + 5] = id;
  out[d + 10] = 0;
  out[d + 11] = 0;
  const ipc = ~fold16(sum16(out, d, hl)) & 0xffff;
  out[d + 10] = ipc >>> 8;
  out[d + 11] = ipc;
  if (tcp) {
    writeU32(out, d + hl + 4, readU32(buf, off + hl + 4) + i * gsoSize);
    let flags = out[d + hl + 13];
    if (i < n - 1) flags &= ~(TcpFlag.FIN | TcpFlag.PSH);
    if (i > 0) flags &= ~TcpFlag.CWR;
    out[d + hl + 13] = flags;
  } else {
    const ul = 8 + segPayload;
    out[d + hl + 4] = ul >>> 8;
    out[d + hl + 5] = ul;
  }
  const l4Len = segLen - hl;
  const pseudo = pseudoHeaderSum(readU32(buf, off + 12), readU32(buf, off + 16), proto, l4Len);
  out[d + csumAt] = 0;
  out[d + csumAt + 1] = 0;
  let c: number;
  if (csum === SegmentChecksum.PARTIAL) {
    c = fold16(pseudo);
  } else {
    c = ~fold16(sum16(out, d + hl, l4Len, pseudo)) & 0xffff;
    if (c === 0 && !tcp) c = 0xffff; // UDP: a computed 0 is sent as all ones (RFC 768)
  }
  out[d + csumAt] = c >>> 8;
  out[d + csumAt + 1] = c;
  return segLen;
}

/**
 * A 32-bit field covered by the pseudo-header (an IPv4 address, NAT)
 * changed from oldValue to newValue in a packet whose L4 checksum is partial
 * (NEEDS_CSUM): the field holds the folded pseudo-header sum itself, not
 * its complement, so the update adds rather than complements
 * (updateChecksum32 is for complete checksums). Returns the new field.
 * A port change needs no update at all: ports lie inside what the
 * checksum will be computed over later.
 */
export function updatePartialChecksum32(field: number, oldValue: number, newValue: number): number {
  oldValue >>>= 0;
  newValue >>>= 0;
  return fold16(field + (~(oldValue >>> 16) & 0xffff) + (~oldValue & 0xffff) + (newValue >>> 16) + (newValue & 0xffff));
}
