// The virtio-net header (struct virtio_net_hdr, linux/virtio_net.h) that a
// TUN opened with IFF_VNET_HDR puts in front of every packet it hands over
// and expects in front of every packet written to it: 10 bytes, or 12 with
// num_buffers (whichever TUNSETVNETHDRSZ set). The addon asks for
// little-endian fields (TUNSETVNETLE).
//
//  0        1         2 .. 3    4 .. 5     6 .. 7       8 .. 9        10 .. 11
// | flags | gso_type | hdr_len | gso_size | csum_start | csum_offset | num_buffers |
//
// NEEDS_CSUM: the L4 checksum is partial — the field at csum_start +
// csum_offset holds only the folded pseudo-header sum; whoever delivers the
// packet finishes it over [csum_start, end). A GSO packet (gso_type != NONE)
// is one TCP/UDP "super-packet" to be cut into segments of gso_size payload
// bytes each. csum_start and hdr_len count from the start of the IP header
// (a TUN has no link header). hdr_len is only a hint (the kernel sets it to
// its linear length, which may include payload): derive the real header
// length from the packet.

import { PacketView } from './view.js';

export const VIRTIO_NET_HDR_LEN = 10;
/** With num_buffers (VIRTIO_NET_F_MRG_RXBUF layout). */
export const VIRTIO_NET_HDR_MRG_LEN = 12;

export const VirtioFlag = {
  NEEDS_CSUM: 1,
  /** The kernel already checked the L4 checksum (only on packets read, and only if it says so). */
  DATA_VALID: 2,
} as const;

export const VirtioGso = {
  NONE: 0,
  TCPV4: 1,
  /** UFO (IPv4/IPv6 UDP fragmentation offload): the kernel no longer produces it. */
  UDP: 3,
  TCPV6: 4,
  /** USO: UDP segmentation (each segment a whole UDP datagram). */
  UDP_L4: 5,
  /** Flag bit on gso_type: a TCP super-packet whose first segment carries CWR. */
  ECN: 0x80,
} as const;

export const VirtioCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_GSO_TYPE: 2,
  BAD_GSO_SIZE: 3,
  /** csum_start + csum_offset + 2 lies beyond the packet. */
  BAD_CSUM_RANGE: 4,
} as const;

/** Indexed by VirtioCheck codes, for counters and logs. */
export const VIRTIO_CHECK_NAMES: readonly string[] = ['ok', 'truncated', 'bad-gso-type', 'bad-gso-size', 'bad-csum-range'];

/**
 * A virtio-net header; `len` is the header size in use (10 or 12). Reused
 * for packet after packet: nothing here allocates.
 */
export class VirtioNetHdrView extends PacketView {
  get flags(): number { return this.buf[this.off]; }
  set flags(v: number) { this.buf[this.off] = v; }
  get needsCsum(): boolean { return (this.buf[this.off] & VirtioFlag.NEEDS_CSUM) !== 0; }
  get dataValid(): boolean { return (this.buf[this.off] & VirtioFlag.DATA_VALID) !== 0; }
  /** Raw gso_type, with the ECN bit. */
  get gsoType(): number { return this.buf[this.off + 1]; }
  set gsoType(v: number) { this.buf[this.off + 1] = v; }
  /** gso_type without the ECN bit: a VirtioGso value. */
  get gsoKind(): number { return this.buf[this.off + 1] & ~VirtioGso.ECN; }
  get gsoEcn(): boolean { return (this.buf[this.off + 1] & VirtioGso.ECN) !== 0; }
  get isGso(): boolean { return this.buf[this.off + 1] !== VirtioGso.NONE; }
  get hdrLen(): number { return this.le16(2); }
  set hdrLen(v: number) { this.setLe16(2, v); }
  get gsoSize(): number { return this.le16(4); }
  set gsoSize(v: number) { this.setLe16(4, v); }
  get csumStart(): number { return this.le16(6); }
  set csumStart(v: number) { this.setLe16(6, v); }
  get csumOffset(): number { return this.le16(8); }
  set csumOffset(v: number) { this.setLe16(8, v); }
  /** num_buffers (12-byte layout only; 0 for the 10-byte one). */
  get numBuffers(): number { return this.len >= VIRTIO_NET_HDR_MRG_LEN ? this.le16(10) : 0; }

  /** A plain packet: no GSO, checksum complete (all fields zero). */
  setNone(): void {
    this.buf.fill(0, this.off, this.off + this.len);
  }

  /** One packet whose L4 checksum field holds only the pseudo-header sum. */
  setPartial(csumStart: number, csumOffset: number): void {
    this.setNone();
    this.buf[this.off] = VirtioFlag.NEEDS_CSUM;
    this.setLe16(6, csumStart);
    this.setLe16(8, csumOffset);
  }

  /** A super-packet (always with a partial checksum: the kernel needs csum_start to find L4). */
  setGso(gsoType: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): void {
    this.setPartial(csumStart, csumOffset);
    this.buf[this.off + 1] = gsoType;
    this.setLe16(2, hdrLen);
    this.setLe16(4, gsoSize);
  }

  /**
   * Check the header against the IP packet of `packetLen` bytes behind it.
   * Returns a VirtioCheck code (the packet itself is not looked at).
   */
  check(packetLen: number): number {
    if (this.len < VIRTIO_NET_HDR_LEN) return VirtioCheck.TRUNCATED;
    if (this.needsCsum && this.csumStart + this.csumOffset + 2 > packetLen) return VirtioCheck.BAD_CSUM_RANGE;
    const kind = this.gsoKind;
    if (kind === VirtioGso.NONE) return this.gsoType === VirtioGso.NONE ? VirtioCheck.OK : VirtioCheck.BAD_GSO_TYPE;
    if (kind !== VirtioGso.TCPV4 && kind !== VirtioGso.TCPV6 && kind !== VirtioGso.UDP_L4) return VirtioCheck.BAD_GSO_TYPE;
    if (this.gsoSize === 0) return VirtioCheck.BAD_GSO_SIZE;
    return VirtioCheck.OK;
  }

  private le16(rel: number): number {
    return this.buf[this.off + rel] | (this.buf[this.off + rel + 1] << 8);
  }

  private setLe16(rel: number, v: number): void {
    this.buf[this.off + rel] = v;
    this.buf[this.off + rel + 1] = v >>> 8;
  }
}

// ---- the offload word: what a packet in the router's path needs of its egress ----
//
// The packet path carries, beside each packet's (offset, length), one small
// integer saying what is special about it — 0 for an ordinary packet with a
// complete checksum; else its gso_type (with the ECN bit), gso_size and
// whether its L4 checksum is partial — so no object is made per packet and
// the egress writes the virtio-net header it needs from the packet itself.
// A partial checksum always starts at the end of the IPv4 header (TCP: field
// at +16, UDP: at +6): the only kind the path keeps partial.

/** The packet's L4 checksum holds only the pseudo-header sum (NEEDS_CSUM). */
export const OFFLOAD_PARTIAL = 1 << 24;

/** An offload word: a super-packet (gsoType with its ECN bit, gsoSize > 0) or, with gsoType NONE, a partial checksum. */
export function offloadWord(gsoType: number, gsoSize: number): number {
  return OFFLOAD_PARTIAL | ((gsoType & 0xff) << 16) | (gsoSize & 0xffff);
}

/** gso_type of an offload word, with its ECN bit (VirtioGso.NONE: not a super-packet). */
export function offloadGsoType(word: number): number {
  return (word >>> 16) & 0xff;
}

/** gso_size of an offload word. */
export function offloadGsoSize(word: number): number {
  return word & 0xffff;
}

/**
 * Write the virtio-net header (`size` bytes at buf[at]) for the IPv4 packet
 * at buf[ip] described by offload word `word`; `linkLen` bytes of link header
 * (an Ethernet frame's 14) sit before the IP header, and csum_start and
 * hdr_len count from the frame's start. Word 0: an all-zero header.
 */
export function writeVnetHeader(buf: Uint8Array, at: number, size: number, ip: number, word: number, linkLen: number): void {
  if (word === 0) {
    // (Unrolled: this runs for every ordinary packet an offload port sends.)
    buf[at] = 0; buf[at + 1] = 0; buf[at + 2] = 0; buf[at + 3] = 0; buf[at + 4] = 0;
    buf[at + 5] = 0; buf[at + 6] = 0; buf[at + 7] = 0; buf[at + 8] = 0; buf[at + 9] = 0;
    if (size > 10) { buf[at + 10] = 0; buf[at + 11] = 0; }
    return;
  }
  const ihl = (buf[ip] & 0x0f) << 2;
  const tcp = buf[ip + 9] === 6;
  const gsoType = (word >>> 16) & 0xff;
  const csumStart = linkLen + ihl;
  const hdrLen = gsoType === VirtioGso.NONE ? 0 : csumStart + (tcp ? (buf[ip + ihl + 12] >>> 4) << 2 : 8);
  const gsoSize = gsoType === VirtioGso.NONE ? 0 : word & 0xffff;
  const csumOffset = tcp ? 16 : 6;
  buf[at] = VirtioFlag.NEEDS_CSUM;
  buf[at + 1] = gsoType;
  buf[at + 2] = hdrLen;
  buf[at + 3] = hdrLen >>> 8;
  buf[at + 4] = gsoSize;
  buf[at + 5] = gsoSize >>> 8;
  buf[at + 6] = csumStart;
  buf[at + 7] = csumStart >>> 8;
  buf[at + 8] = csumOffset;
  buf[at + 9] = 0;
  if (size > 10) { buf[at + 10] = 0; buf[at + 11] = 0; }
}
