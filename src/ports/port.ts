// A router port: one packet device, the router's address on it, its
// administrative state, receive slots in the packet arena, and a transmit
// queue of (offset, length) pairs flushed in one native call per batch.
// A blocked port is mute: the device takes nothing more from it.
//
// A TUN port carries IPv4 packets as they are. An Ethernet port has a link
// layer (EthernetLink: framing, ARP, neighbours): received frames are
// classified there, and a packet to send gets its Ethernet header written
// in the HEADROOM in front of it — or waits in the link while its next hop
// is resolved. Either way each receive slot's IPv4 packet starts HEADROOM
// bytes into the slot.
import { HEADROOM, type PacketArena } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import type { PortState, PortView } from '../control/port-view.js';
import { maskOf } from '../net/addr.js';
import { PortCounters, TX_BYTES, TX_PACKETS } from './counters.js';
import type { PacketDevice } from './device.js';
import type { EthernetLink } from './ethernet/ethernet-link.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';

/** up: forwarding; blocked: sends and receives nothing; draining: only existing flows use it. */
export type { PortState };

export interface PortSettings {
  name: string;
  address: number;
  prefixLen: number;
  mtu: number;
  /** Where the device sits, for display: a netns name or "" for the daemon's own. */
  netns: string;
  deviceName: string;
}

export const RX_BATCH = 64;
const TX_QUEUE = 256;

export class Port implements PortView {
  readonly index: number;
  readonly name: string;
  readonly address: number;
  readonly prefixLen: number;
  readonly network: number;
  readonly broadcast: number;
  readonly mtu: number;
  readonly netns: string;
  readonly deviceName: string;
  readonly counters = new PortCounters();
  state: PortState = 'up';
  stateSince = Date.now();
  /** Nothing is written to the device (set once a block's last words are out). */
  muted = false;
  /** Taken out of the config by a reload: kept only so port indices stay stable. */
  removed = false;

  /** The link layer of an Ethernet port; null for a TUN port. */
  link: EthernetLink | null = null;
  /** Where the link layer's arena region is (kept across a re-created device). */
  linkRegion = -1;

  readonly slotSize: number;
  /** Where the receive slots start; slot i's IPv4 packet is at rxBase + i × slotSize + HEADROOM. */
  readonly rxBase: number;
  readonly rxLengths = new Int32Array(RX_BATCH);
  readonly txOffsets = new Int32Array(TX_QUEUE);
  readonly txLengths = new Int32Array(TX_QUEUE);
  txCount = 0;

  constructor(index: number, settings: PortSettings, public device: PacketDevice, private readonly arena: PacketArena) {
    this.index = index;
    this.name = settings.name;
    this.address = settings.address >>> 0;
    this.prefixLen = settings.prefixLen;
    this.network = (this.address & maskOf(this.prefixLen)) >>> 0;
    this.broadcast = this.prefixLen >= 31 ? 0xffffffff : (this.network | ~maskOf(this.prefixLen)) >>> 0;
    this.mtu = settings.mtu;
    this.netns = settings.netns;
    this.deviceName = settings.deviceName;
    this.slotSize = Port.slotSizeFor(settings.mtu);
    this.rxBase = arena.reserve(Port.rxBytesFor(settings.mtu));
  }

  /** A slot holds HEADROOM and the largest frame the device can hand us (MTU + an Ethernet header). */
  static slotSizeFor(mtu: number): number {
    return Math.max(2048, (HEADROOM + mtu + ETHERNET_HEADER_LEN + 1023) & ~1023);
  }

  /** Arena bytes a port's receive slots take (a frame's header may start in the first slot's headroom). */
  static rxBytesFor(mtu: number): number {
    return Port.slotSizeFor(mtu) * RX_BATCH + HEADROOM;
  }

  /** Where the IPv4 packet of receive slot `i` starts. */
  slotPacket(i: number): number {
    return this.rxBase + i * this.slotSize + HEADROOM;
  }

  /** Where the device writes slot 0: the frame's link header (if any) right before the IPv4 packet. */
  get readOffset(): number {
    return this.rxBase + HEADROOM - (this.link ? ETHERNET_HEADER_LEN : 0);
  }

  /** Whether `addr` is on this port's subnet. */
  onLink(addr: number): boolean {
    return ((addr & maskOf(this.prefixLen)) >>> 0) === this.network;
  }

  /**
   * Whether `addr` can be a neighbour on this port's link: on the subnet,
   * not our own address, not the subnet's network or broadcast address (a
   * /31 or /32 has neither: both of a /31's addresses are hosts).
   */
  isNeighbourAddress(addr: number): boolean {
    if (!this.onLink(addr) || addr === this.address) return false;
    return this.prefixLen >= 31 || (addr !== this.network && addr !== this.broadcast);
  }

  /** The other end of a point-to-point (/30, /31) port, or 0. */
  pointToPointPeer(): number {
    if (this.prefixLen === 31) return (this.address ^ 1) >>> 0;
    if (this.prefixLen === 30) {
      const host = this.address - this.network;
      if (host === 1) return this.network + 2;
      if (host === 2) return this.network + 1;
    }
    return 0;
  }

  get blocked(): boolean {
    return this.state === 'blocked';
  }

  /**
   * Send the IPv4 packet at (off, len) toward `nextHop` (the neighbour on
   * the link: the route's gateway, or the destination itself). On an
   * Ethernet port the link writes the header into the headroom, or holds the
   * packet while the next hop is resolved.
   */
  transmit(off: number, len: number, nextHop: number): void {
    const link = this.link;
    if (link === null) {
      this.enqueue(off, len);
      return;
    }
    const frame = link.transmit(off, len, nextHop);
    if (frame > 0) this.enqueue(off - ETHERNET_HEADER_LEN, frame);
  }

  /** Queue bytes in the arena (a packet, or an already framed frame) for the device; flushed by flush(). */
  enqueue(off: number, len: number): void {
    if (this.txCount === TX_QUEUE) this.flush();
    this.txOffsets[this.txCount] = off;
    this.txLengths[this.txCount] = len;
    this.txCount++;
  }

  flush(): void {
    const n = this.txCount;
    if (n === 0) return;
    this.txCount = 0;
    const ok = this.device.writeBatch(this.arena.buffer, this.txOffsets, this.txLengths, n);
    // The addon marks each packet the kernel refused with a negative length (−errno).
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const l = this.txLengths[i]!;
      if (l > 0) bytes += l;
      else this.counters.drop(Drop.TX_ERROR);
    }
    const c = this.counters.values;
    c[TX_PACKETS]! += ok;
    c[TX_BYTES]! += bytes;
    // The link's control frames and held packets are free again.
    this.link?.txFlushed();
  }
}
