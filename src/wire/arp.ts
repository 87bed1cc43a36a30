// ARP (RFC 826) for IPv4 over Ethernet as a reusable, zero-copy view.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |     Hardware type (1)         |     Protocol type (0x0800)    |
// |  HW len (6)   | Proto len (4) |     Operation (1 req, 2 rep)  |
// |          Sender hardware address (6 bytes) …                  |
// |  … sender HW  |          Sender protocol address              |
// |  … sender IP  |      Target hardware address (6 bytes) …      |
// |                       … target HW                             |
// |                      Target protocol address                  |
//
// Only the Ethernet/IPv4 form exists here: validate() refuses any other
// hardware or protocol type or address length, so every field offset below
// is fixed. The view works on the ARP payload (after the Ethernet header).
import { EtherType, MAC_LEN, copyMac, macIsGroup, macIsZero } from './ethernet.js';
import { readU32, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const ARP_LEN = 28;
export const ARP_HTYPE_ETHERNET = 1;

export const ArpOp = { REQUEST: 1, REPLY: 2 } as const;

export const ArpCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_HARDWARE_TYPE: 2,
  BAD_PROTOCOL_TYPE: 3,
  BAD_ADDRESS_LENGTHS: 4,
  BAD_OPERATION: 5,
  /** Sender hardware address is a group (multicast/broadcast) or all-zero address. */
  BAD_SENDER_MAC: 6,
} as const;

/** Indexed by ArpCheck codes, for logs and counters. */
export const ARP_CHECK_NAMES: readonly string[] = [
  'ok', 'truncated', 'bad-hardware-type', 'bad-protocol-type', 'bad-address-lengths', 'bad-operation', 'bad-sender-mac',
];

const SHA = 8;
const SPA = 14;
const THA = 18;
const TPA = 24;

export class ArpView extends PacketView {
  get hardwareType(): number { return (this.buf[this.off] << 8) | this.buf[this.off + 1]; }
  get protocolType(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  get hardwareLength(): number { return this.buf[this.off + 4]; }
  get protocolLength(): number { return this.buf[this.off + 5]; }
  get op(): number { return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7]; }
  set op(v: number) { this.buf[this.off + 6] = v >>> 8; this.buf[this.off + 7] = v; }
  /** Absolute offsets of the hardware addresses in buf. */
  get senderMacOffset(): number { return this.off + SHA; }
  get targetMacOffset(): number { return this.off + THA; }
  get senderIp(): number { return readU32(this.buf, this.off + SPA); }
  set senderIp(v: number) { writeU32(this.buf, this.off + SPA, v); }
  get targetIp(): number { return readU32(this.buf, this.off + TPA); }
  set targetIp(v: number) { writeU32(this.buf, this.off + TPA, v); }
  /** The sender's IPv4 address as an int32 (a small integer: for keys and comparisons on hot paths). */
  get senderIpI32(): number { return readI32(this.buf, this.off + SPA); }
  get targetIpI32(): number { return readI32(this.buf, this.off + TPA); }

  /** Checks for IPv4-over-Ethernet ARP; returns an ArpCheck code. Bytes beyond 28 (padding) are ignored. */
  validate(): number {
    const b = this.buf, o = this.off;
    if (this.len < ARP_LEN) return ArpCheck.TRUNCATED;
    if (((b[o] << 8) | b[o + 1]) !== ARP_HTYPE_ETHERNET) return ArpCheck.BAD_HARDWARE_TYPE;
    if (((b[o + 2] << 8) | b[o + 3]) !== EtherType.IPV4) return ArpCheck.BAD_PROTOCOL_TYPE;
    if (b[o + 4] !== MAC_LEN || b[o + 5] !== 4) return ArpCheck.BAD_ADDRESS_LENGTHS;
    const op = (b[o + 6] << 8) | b[o + 7];
    if (op !== ArpOp.REQUEST && op !== ArpOp.REPLY) return ArpCheck.BAD_OPERATION;
    if (macIsGroup(b, o + SHA) || macIsZero(b, o + SHA)) return ArpCheck.BAD_SENDER_MAC;
    return ArpCheck.OK;
  }

  /**
   * Turn a (validated) request into its reply, in place (RFC 826: swap the
   * sender fields into the target fields, put ours as sender, set REPLY).
   */
  makeReply(ourMac: Uint8Array, ourMacOff: number, ourIp: number): void {
    const b = this.buf, o = this.off;
    copyMac(b, o + SHA, b, o + THA);
    for (let i = 0; i < 4; i++) b[o + TPA + i] = b[o + SPA + i];
    copyMac(ourMac, ourMacOff, b, o + SHA);
    writeU32(b, o + SPA, ourIp);
    this.op = ArpOp.REPLY;
  }
}

function readI32(b: Uint8Array, o: number): number {
  return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];
}

/**
 * Write an IPv4-over-Ethernet ARP packet at buf[off]; returns 28. A null
 * target MAC writes zeros (what requests carry: the address is unknown).
 */
export function writeArp(buf: Uint8Array, off: number, op: number,
  senderMac: Uint8Array, senderMacOff: number, senderIp: number,
  targetMac: Uint8Array | null, targetMacOff: number, targetIp: number): number {
  buf[off] = 0;
  buf[off + 1] = ARP_HTYPE_ETHERNET;
  buf[off + 2] = EtherType.IPV4 >>> 8;
  buf[off + 3] = EtherType.IPV4 & 0xff;
  buf[off + 4] = MAC_LEN;
  buf[off + 5] = 4;
  buf[off + 6] = op >>> 8;
  buf[off + 7] = op;
  copyMac(senderMac, senderMacOff, buf, off + SHA);
  writeU32(buf, off + SPA, senderIp);
  if (targetMac) copyMac(targetMac, targetMacOff, buf, off + THA);
  else for (let i = 0; i < MAC_LEN; i++) buf[off + THA + i] = 0;
  writeU32(buf, off + TPA, targetIp);
  return ARP_LEN;
}
