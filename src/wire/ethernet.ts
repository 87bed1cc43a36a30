// Ethernet II header (IEEE 802.3 with an EtherType, RFC 894) as a reusable,
// zero-copy view, and MAC address helpers.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// |                Destination MAC (6 bytes)                      |
// |                               |        Source MAC (6 bytes)   |
// |                                                               |
// |           EtherType           |  payload …
//
// Inside the router a MAC is 6 bytes at an offset of some Uint8Array; for
// comparisons the view also reads it as two int32 halves (16 high bits, 32
// low bits), which stay small integers and never allocate. Text forms
// ("02:00:5e:10:00:01") exist only at the edges: config, CLI, API, logs.
import { PacketView } from './view.js';

export const ETHERNET_HEADER_LEN = 14;
export const MAC_LEN = 6;
/** Smallest frame on the wire without the FCS; shorter ones are padded by the sender's NIC. */
export const ETHERNET_MIN_FRAME = 60;

export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  IPV6: 0x86dd,
} as const;

/** EtherType values below this are IEEE 802.3 length fields (LLC frames, e.g. STP), not types. */
export const ETHERTYPE_MIN = 0x0600;

export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
export const ZERO_MAC = new Uint8Array(6);

export class EthernetView extends PacketView {
  get etherType(): number { return (this.buf[this.off + 12] << 8) | this.buf[this.off + 13]; }
  set etherType(v: number) { this.buf[this.off + 12] = v >>> 8; this.buf[this.off + 13] = v; }
  /** High 16 bits of the destination MAC. */
  get dstHi(): number { return (this.buf[this.off] << 8) | this.buf[this.off + 1]; }
  /** Low 32 bits of the destination MAC, as an int32. */
  get dstLo(): number { return macLo(this.buf, this.off); }
  get srcHi(): number { return (this.buf[this.off + 6] << 8) | this.buf[this.off + 7]; }
  get srcLo(): number { return macLo(this.buf, this.off + 6); }
  /** Group bit (I/G) of the destination: broadcast or multicast. */
  get dstIsGroup(): boolean { return (this.buf[this.off] & 1) !== 0; }
  get dstIsBroadcast(): boolean { return macIsBroadcast(this.buf, this.off); }
  get srcIsGroup(): boolean { return (this.buf[this.off + 6] & 1) !== 0; }
  /** Absolute offset of the payload in buf. */
  get payloadOffset(): number { return this.off + ETHERNET_HEADER_LEN; }
  get payloadLength(): number { return this.len - ETHERNET_HEADER_LEN; }
}

/** Low 32 bits of the MAC at b[o], as an int32 (a small integer: no allocation). */
export function macLo(b: Uint8Array, o: number): number {
  return (b[o + 2] << 24) | (b[o + 3] << 16) | (b[o + 4] << 8) | b[o + 5];
}

export function macEquals(a: Uint8Array, ao: number, b: Uint8Array, bo: number): boolean {
  return a[ao] === b[bo] && a[ao + 1] === b[bo + 1] && a[ao + 2] === b[bo + 2] &&
    a[ao + 3] === b[bo + 3] && a[ao + 4] === b[bo + 4] && a[ao + 5] === b[bo + 5];
}

export function macIsBroadcast(b: Uint8Array, o: number): boolean {
  return (b[o] & b[o + 1] & b[o + 2] & b[o + 3] & b[o + 4] & b[o + 5]) === 0xff;
}

export function macIsZero(b: Uint8Array, o: number): boolean {
  return (b[o] | b[o + 1] | b[o + 2] | b[o + 3] | b[o + 4] | b[o + 5]) === 0;
}

/** Group (multicast or broadcast) bit of the MAC at b[o]. */
export function macIsGroup(b: Uint8Array, o: number): boolean {
  return (b[o] & 1) !== 0;
}

export function copyMac(src: Uint8Array, so: number, dst: Uint8Array, dO: number): void {
  dst[dO] = src[so];
  dst[dO + 1] = src[so + 1];
  dst[dO + 2] = src[so + 2];
  dst[dO + 3] = src[so + 3];
  dst[dO + 4] = src[so + 4];
  dst[dO + 5] = src[so + 5];
}

/** Write dst, src and EtherType at buf[off]; returns 14. */
export function writeEthernetHeader(buf: Uint8Array, off: number, dst: Uint8Array, dstOff: number,
  src: Uint8Array, srcOff: number, etherType: number): number {
  copyMac(dst, dstOff, buf, off);
  copyMac(src, srcOff, buf, off + 6);
  buf[off + 12] = etherType >>> 8;
  buf[off + 13] = etherType;
  return ETHERNET_HEADER_LEN;
}

/**
 * The MAC an IPv4 multicast group maps to (RFC 1112 §6.4): 01:00:5e and the
 * group's low 23 bits, written at out[o].
 */
export function writeIpv4MulticastMac(group: number, out: Uint8Array, o: number): void {
  out[o] = 0x01;
  out[o + 1] = 0x00;
  out[o + 2] = 0x5e;
  out[o + 3] = (group >>> 16) & 0x7f;
  out[o + 4] = group >>> 8;
  out[o + 5] = group;
}

export class MacError extends Error {}

/** "aa:bb:cc:dd:ee:ff" (or with "-") → 6 bytes. */
export function parseMac(text: string): Uint8Array {
  if (typeof text !== 'string' || !/^[0-9a-f]{2}([:-][0-9a-f]{2}){5}$/i.test(text)) {
    throw new MacError(`"${String(text)}" is not a MAC address (expected aa:bb:cc:dd:ee:ff)`);
  }
  return Uint8Array.from(text.split(/[:-]/), (h) => parseInt(h, 16));
}

export function formatMac(b: Uint8Array, o = 0): string {
  let s = '';
  for (let i = 0; i < MAC_LEN; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}
