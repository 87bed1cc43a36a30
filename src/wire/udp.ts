// UDP (RFC 768) as a reusable, zero-copy view.
//
// |          Source Port          |       Destination Port        |
// |            Length             |           Checksum            |
//
// A transmitted checksum of 0 means "none"; a computed 0 is sent as 0xffff.

import { checksum, pseudoHeaderSum, updateChecksum16, updateChecksum32 } from './checksum.js';
import { IPV4_HEADER_LEN, IpProto, writeIpv4Header } from './ipv4.js';
import { PacketView } from './view.js';

export const UDP_HEADER_LEN = 8;

/** A UDP datagram; `len` is the IP payload length. */
export class UdpView extends PacketView {
  get srcPort(): number { return (this.buf[this.off] << 8) | this.buf[this.off + 1]; }
  get dstPort(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  /** UDP length field: header + data. */
  get length(): number { return (this.buf[this.off + 4] << 8) | this.buf[this.off + 5]; }
  get checksum(): number { return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7]; }
  /** Absolute offset of the checksum field (for NAT fix-ups). */
  get checksumOffset(): number { return this.off + 6; }

  /**
   * Verify against the IPv4 pseudo-header. A zero checksum means the sender
   * computed none and is accepted (RFC 768). A length field below 8 or
   * beyond the captured bytes fails.
   */
  checksumOk(ipSrc: number, ipDst: number): boolean {
    const l = this.length;
    if (l < UDP_HEADER_LEN || l > this.len) return false;
    if (this.checksum === 0) return true;
    return checksum(this.buf, this.off, l, pseudoHeaderSum(ipSrc, ipDst, IpProto.UDP, l)) === 0;
  }

  setSrcPortIncremental(port: number): void { this.rewrite16(0, port); }
  setDstPortIncremental(port: number): void { this.rewrite16(2, port); }

  /**
   * The IP source or destination was rewritten (NAT): fix the checksum for
   * the pseudo-header change. A zero ("no checksum") stays zero.
   */
  adjustForAddressChange(oldAddr: number, newAddr: number): void {
    const b = this.buf, o = this.off;
    const old = (b[o + 6] << 8) | b[o + 7];
    if (old === 0) return;
    this.putChecksum(updateChecksum32(old, oldAddr, newAddr));
  }

  private rewrite16(rel: number, v: number): void {
    const b = this.buf, o = this.off;
    const oldWord = (b[o + rel] << 8) | b[o + rel + 1];
    b[o + rel] = v >>> 8;
    b[o + rel + 1] = v;
    const old = (b[o + 6] << 8) | b[o + 7];
    if (old === 0) return; // no checksum: stays none
    this.putChecksum(updateChecksum16(old, oldWord, v & 0xffff));
  }

  private putChecksum(c: number): void {
    if (c === 0) c = 0xffff; // 0 would mean "no checksum" (RFC 768)
    this.buf[this.off + 6] = c >>> 8;
    this.buf[this.off + 7] = c;
  }
}

/**
 * Write the UDP header at buf[off] for a payload of payloadLen bytes already
 * placed at off + 8, with the checksum over the IPv4 pseudo-header. Returns 8.
 */
export function writeUdpHeader(
  buf: Uint8Array, off: number, srcPort: number, dstPort: number, payloadLen: number,
  ipSrc: number, ipDst: number,
): number {
  const l = UDP_HEADER_LEN + payloadLen;
  buf[off] = srcPort >>> 8;
  buf[off + 1] = srcPort;
  buf[off + 2] = dstPort >>> 8;
  buf[off + 3] = dstPort;
  buf[off + 4] = l >>> 8;
  buf[off + 5] = l;
  buf[off + 6] = 0;
  buf[off + 7] = 0;
  let c = checksum(buf, off, l, pseudoHeaderSum(ipSrc, ipDst, IpProto.UDP, l));
  if (c === 0) c = 0xffff;
  buf[off + 6] = c >>> 8;
  buf[off + 7] = c;
  return UDP_HEADER_LEN;
}

/**
 * Build IPv4 + UDP around a payload already placed at off + 28. Returns the
 * total datagram length.
 */
export function buildUdpDatagram(
  buf: Uint8Array, off: number, src: number, dst: number, srcPort: number, dstPort: number,
  payloadLen: number, ttl: number, tos = 0, dontFragment = false,
): number {
  writeUdpHeader(buf, off + IPV4_HEADER_LEN, srcPort, dstPort, payloadLen, src, dst);
  const total = IPV4_HEADER_LEN + UDP_HEADER_LEN + payloadLen;
  writeIpv4Header(buf, off, total, IpProto.UDP, src, dst, ttl, tos, 0, dontFragment);
  return total;
}
