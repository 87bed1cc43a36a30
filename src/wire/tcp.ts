// TCP header (RFC 793 §3.1 / RFC 9293 §3.1) as a reusable, zero-copy view.
// The router only needs ports, flags and checksum fix-ups (NAT, filters).

import { checksum, pseudoHeaderSum, updateChecksum16, updateChecksum32 } from './checksum.js';
import { IPV4_HEADER_LEN, IpProto, readU32, writeIpv4Header, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const TCP_HEADER_LEN = 20;

export const TcpFlag = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16, URG: 32, ECE: 64, CWR: 128 } as const;

/** Flags of a segment that opens a connection: SYN without ACK. */
export const isBareSyn = (flags: number): boolean => (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN;

/** A TCP segment; `len` is the IP payload length. */
export class TcpView extends PacketView {
  get srcPort(): number { return (this.buf[this.off] << 8) | this.buf[this.off + 1]; }
  get dstPort(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  get seq(): number { return readU32(this.buf, this.off + 4); }
  get ack(): number { return readU32(this.buf, this.off + 8); }
  /** Data offset field, in 32-bit words. */
  get dataOffset(): number { return this.buf[this.off + 12] >>> 4; }
  /** Header length in bytes (dataOffset * 4). */
  get headerLength(): number { return (this.buf[this.off + 12] >>> 4) << 2; }
  /** The 8 flag bits of byte 13 (CWR..FIN); see TcpFlag. */
  get flags(): number { return this.buf[this.off + 13]; }
  get window(): number { return (this.buf[this.off + 14] << 8) | this.buf[this.off + 15]; }
  get checksum(): number { return (this.buf[this.off + 16] << 8) | this.buf[this.off + 17]; }
  /** Absolute offset of the checksum field (for NAT fix-ups). */
  get checksumOffset(): number { return this.off + 16; }

  /** Verify over segmentLen bytes (header + data) plus the IPv4 pseudo-header. */
  checksumOk(ipSrc: number, ipDst: number, segmentLen: number): boolean {
    if (segmentLen < TCP_HEADER_LEN || segmentLen > this.len) return false;
    return checksum(this.buf, this.off, segmentLen, pseudoHeaderSum(ipSrc, ipDst, IpProto.TCP, segmentLen)) === 0;
  }

  setSrcPortIncremental(port: number): void { this.rewrite16(0, port); }
  setDstPortIncremental(port: number): void { this.rewrite16(2, port); }

  /** The IP source or destination was rewritten (NAT): fix the pseudo-header part of the checksum. */
  adjustForAddressChange(oldAddr: number, newAddr: number): void {
    const b = this.buf, o = this.off;
    const c = updateChecksum32((b[o + 16] << 8) | b[o + 17], oldAddr, newAddr);
    b[o + 16] = c >>> 8;
    b[o + 17] = c;
  }

  private rewrite16(rel: number, v: number): void {
    const b = this.buf, o = this.off;
    const oldWord = (b[o + rel] << 8) | b[o + rel + 1];
    b[o + rel] = v >>> 8;
    b[o + rel + 1] = v;
    const c = updateChecksum16((b[o + 16] << 8) | b[o + 17], oldWord, v & 0xffff);
    b[o + 16] = c >>> 8;
    b[o + 17] = c;
  }
}

/**
 * Offset of the L4 checksum relative to the L4 header for protocols whose
 * checksum covers the IPv4 pseudo-header (so NAT must fix it): TCP 16,
 * UDP 6, otherwise -1 (ICMP's checksum does not cover addresses).
 */
export function l4ChecksumOffset(protocol: number): number {
  return protocol === IpProto.TCP ? 16 : protocol === IpProto.UDP ? 6 : -1;
}

/**
 * Write the 40-byte IPv4 + TCP reset a closed port answers with (RFC 9293
 * §3.10.7.1, state CLOSED): to a segment with ACK, <SEQ=SEG.ACK><CTL=RST>;
 * without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SEG.LEN counts SYN
 * and FIN). `segAck` < 0 means the segment had no ACK. Returns 40.
 */
export function buildTcpReset(
  out: Uint8Array, off: number, src: number, dst: number, srcPort: number, dstPort: number,
  segSeqPlusLen: number, segAck: number,
): number {
  const t = off + IPV4_HEADER_LEN;
  for (let i = 0; i < TCP_HEADER_LEN; i++) out[t + i] = 0;
  out[t] = srcPort >>> 8;
  out[t + 1] = srcPort;
  out[t + 2] = dstPort >>> 8;
  out[t + 3] = dstPort;
  if (segAck >= 0) {
    writeU32(out, t + 4, segAck);
    out[t + 13] = TcpFlag.RST;
  } else {
    writeU32(out, t + 8, segSeqPlusLen);
    out[t + 13] = TcpFlag.RST | TcpFlag.ACK;
  }
  out[t + 12] = (TCP_HEADER_LEN / 4) << 4;
  const c = checksum(out, t, TCP_HEADER_LEN, pseudoHeaderSum(src, dst, IpProto.TCP, TCP_HEADER_LEN));
  out[t + 16] = c >>> 8;
  out[t + 17] = c;
  return writeIpv4Header(out, off, IPV4_HEADER_LEN + TCP_HEADER_LEN, IpProto.TCP, src, dst, 64) + TCP_HEADER_LEN;
}
