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
//
// Offload mode (device.offload): a TUN port's device puts a virtio-net
// header in front of every packet it reads and wants one in front of every
// packet written — the port writes it into the headroom from the packet's
// offload word (0: ordinary, all zero) — and its receive slots hold 64 KB
// super-packets. An Ethernet port in offload mode writes the header for a
// super-packet in the headroom before the frame and hands its place to the
// device beside the frame.
import { HEADROOM, type PacketArena } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import type { PortState, PortView } from '../control/port-view.js';
import { maskOf } from '../net/addr.js';
import { PortCounters, TX_BYTES, TX_PACKETS } from './counters.js';
import type { DeviceOffload, PacketDevice } from './device.js';
import type { EthernetLink } from './ethernet/ethernet-link.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { VIRTIO_NET_HDR_LEN, writeVnetHeader } from '../wire/virtio-net.js';

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
  /** Receive slots for 64 KB super-packets (a TUN port in offload mode). */
  superSlots?: boolean;
  /** Where to count (a forwarding worker's shard in shared memory); default a fresh array. */
  counters?: Float64Array;
}

/** A port's state as a number in shared memory (what forwarding workers follow): its index here. */
const STATE_NAMES: readonly PortState[] = ['up', 'blocked', 'draining', 'down'];
/** Int32 slots of a port's shared state cell: state code, muted. */
export const PORT_CELL_SLOTS = 2;

export const RX_BATCH = 64;
export const TX_QUEUE = 256;
/** The largest IPv4 datagram: what a super-packet can be. */
const MAX_IPV4 = 65535;
/** Offload word of a queued frame that is not an IPv4 packet of the path (ARP, held packets released). */
export const TX_NOT_IP = -1;

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
  readonly counters: PortCounters;
  /** Whether the receive slots hold super-packets (see PortSettings.superSlots). */
  readonly superSlots: boolean;
  /** Bytes of virtio-net header in front of every packet the device reads and takes (0: none). */
  vnetHdrSize = 0;
  /**
   * Where a received packet's virtio-net header is: this many bytes before
   * the IPv4 packet (a TUN's right before it; an Ethernet frame's before
   * the frame's header); 0: received packets have none.
   */
  rxVnetBack = 0;
  /** The device may be given packets with a partial L4 checksum / TCP / UDP super-packets whole. */
  txCsum = false;
  txTso4 = false;
  txUso4 = false;
  private dev!: PacketDevice;
  private readonly bytes: Uint8Array;
  private stateValue: PortState = 'up';
  private mutedValue = false;
  /** Shared state cell the owner publishes state and muted to (forwarding workers read it). */
  private cell: Int32Array | null = null;
  stateSince = Date.now();
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
  /** Per queued packet: its offload word (0 ordinary; TX_NOT_IP for a frame the link layer made). */
  readonly txWords = new Int32Array(TX_QUEUE);
  /** Per queued frame of an Ethernet port: where its virtio-net header is (−1: none). */
  readonly txVnet = new Int32Array(TX_QUEUE);
  /** Frames in the queue with a virtio-net header of their own. */
  private txVnetCount = 0;
  txCount = 0;

  constructor(index: number, settings: PortSettings, device: PacketDevice, private readonly arena: PacketArena) {
    this.index = index;
    this.counters = new PortCounters(settings.counters);
    this.name = settings.name;
    this.address = settings.address >>> 0;
    this.prefixLen = settings.prefixLen;
    this.network = (this.address & maskOf(this.prefixLen)) >>> 0;
    this.broadcast = this.prefixLen >= 31 ? 0xffffffff : (this.network | ~maskOf(this.prefixLen)) >>> 0;
    this.mtu = settings.mtu;
    this.netns = settings.netns;
    this.deviceName = settings.deviceName;
    this.bytes = arena.bytes;
    this.superSlots = settings.superSlots ?? false;
    this.slotSize = Port.slotSizeFor(settings.mtu, this.superSlots);
    this.rxBase = arena.reserve(Port.rxBytesFor(settings.mtu, this.superSlots));
    this.device = device;
  }

  get state(): PortState {
    return this.stateValue;
  }

  set state(s: PortState) {
    this.stateValue = s;
    if (this.cell) Atomics.store(this.cell, 0, STATE_NAMES.indexOf(s));
  }

  /** Nothing is written to the device (set once a block's last words are out). */
  get muted(): boolean {
    return this.mutedValue;
  }

  set muted(m: boolean) {
    this.mutedValue = m;
    if (this.cell) Atomics.store(this.cell, 1, m ? 1 : 0);
  }

  /** Publish state and muted to `cell` from now on (PORT_CELL_SLOTS Int32s in shared memory). */
  publishTo(cell: Int32Array): void {
    this.cell = cell;
    this.state = this.stateValue;
    this.muted = this.mutedValue;
  }

  /** A forwarding worker's copy: take state and muted from the owner's cell; returns whether muted changed. */
  followCell(cell: Int32Array): boolean {
    this.stateValue = STATE_NAMES[Atomics.load(cell, 0)] ?? 'down';
    const m = Atomics.load(cell, 1) === 1;
    if (m === this.mutedValue) return false;
    this.mutedValue = m;
    return true;
  }

  /** The device under the port (replaced when a vanished device comes back). */
  get device(): PacketDevice {
    return this.dev;
  }

  set device(d: PacketDevice) {
    this.dev = d;
    const o: DeviceOffload | null = d.offload ?? null;
    // A device that may hand over super-packets needs slots that hold them.
    if (o?.rxSuper && !this.superSlots) throw new RangeError(`port ${this.name}: device in offload mode, receive slots too small`);
    this.vnetHdrSize = o?.vnetHdrSize ?? 0;
    this.rxVnetBack = !o ? 0 : o.vnetHdrSize !== 0 ? o.vnetHdrSize : o.rxSuper ? ETHERNET_HEADER_LEN + VIRTIO_NET_HDR_LEN : 0;
    this.txCsum = o?.csum ?? false;
    this.txTso4 = o?.tso4 ?? false;
    this.txUso4 = o?.uso4 ?? false;
  }

  /**
   * A slot holds HEADROOM and the largest frame the device can hand us (MTU
   * + an Ethernet header; with super-packets: a virtio-net header and the
   * largest IPv4 datagram).
   */
  static slotSizeFor(mtu: number, superSlots = false): number {
    if (superSlots) return (HEADROOM + MAX_IPV4 + 1023) & ~1023;
    return Math.max(2048, (HEADROOM + mtu + ETHERNET_HEADER_LEN + 1023) & ~1023);
  }

  /** Arena bytes a port's receive slots take (a frame's header may start in the first slot's headroom). */
  static rxBytesFor(mtu: number, superSlots = false): number {
    return Port.slotSizeFor(mtu, superSlots) * RX_BATCH + HEADROOM;
  }

  /** Where the IPv4 packet of receive slot `i` starts. */
  slotPacket(i: number): number {
    return this.rxBase + i * this.slotSize + HEADROOM;
  }

  /** Where the device writes slot 0: the frame's link header or virtio-net header (if any) right before the IPv4 packet. */
  get readOffset(): number {
    return this.rxBase + HEADROOM - (this.link ? ETHERNET_HEADER_LEN : this.vnetHdrSize);
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
   * packet while the next hop is resolved. `word`: the packet's offload word
   * (wire/virtio-net.ts; 0 for an ordinary packet) — only what the device
   * takes (txCsum, txTso4, txUso4): the caller checks.
   */
  transmit(off: number, len: number, nextHop: number, word = 0): void {
    const link = this.link;
    if (link === null) {
      const vh = this.vnetHdrSize;
      if (vh === 0) {
        this.enqueue(off, len, 0);
        return;
      }
      writeVnetHeader(this.bytes, off - vh, vh, off, word, 0);
      this.enqueue(off - vh, len + vh, word);
      return;
    }
    // The only offload word that can be held: a partial checksum (the path cuts a super-packet for a neighbour being resolved).
    const frame = link.transmit(off, len, nextHop, word !== 0);
    if (frame <= 0) return;
    const f = off - ETHERNET_HEADER_LEN;
    if (word === 0) {
      this.enqueue(f, frame, 0);
      return;
    }
    this.enqueue(f, frame, word);
    this.vnetBeside(this.txCount - 1, f, off, word);
  }

  /** Queue entry i's frame at f (its IP packet at ip) gets its virtio-net header in the headroom before it; the device sends it beside the frame. */
  private vnetBeside(i: number, f: number, ip: number, word: number): void {
    const h = f - VIRTIO_NET_HDR_LEN;
    writeVnetHeader(this.bytes, h, VIRTIO_NET_HDR_LEN, ip, word, ETHERNET_HEADER_LEN);
    this.txVnet[i] = h;
    this.txVnetCount++;
  }

  /** Where the IP packet starts in a queued entry: after a TUN's virtio-net header, or an Ethernet frame's header. */
  get txIpOffset(): number {
    return this.link === null ? this.vnetHdrSize : ETHERNET_HEADER_LEN;
  }

  /** The room a super-packet built for this port (coalesced at the flush) needs in front of it for the headers. */
  get txFront(): number {
    return this.link === null ? this.vnetHdrSize : ETHERNET_HEADER_LEN + VIRTIO_NET_HDR_LEN;
  }

  /**
   * Put the super-packet at (ip, len), built with txFront bytes free in
   * front of it, in queue entry `i` with offload word `word`: its
   * virtio-net header, and on an Ethernet port the frame header of the
   * queued frame at `frameLike` (the first of the packets it merges: same
   * flow, same neighbour).
   */
  requeueSuper(i: number, ip: number, len: number, word: number, frameLike: number): void {
    const b = this.bytes;
    if (this.link === null) {
      const vh = this.vnetHdrSize;
      writeVnetHeader(b, ip - vh, vh, ip, word, 0);
      this.txOffsets[i] = ip - vh;
      this.txLengths[i] = len + vh;
      this.txVnet[i] = -1;
    } else {
      const f = ip - ETHERNET_HEADER_LEN;
      b.copyWithin(f, frameLike, frameLike + ETHERNET_HEADER_LEN);
      this.txOffsets[i] = f;
      this.txLengths[i] = len + ETHERNET_HEADER_LEN;
      this.vnetBeside(i, f, ip, word);
    }
    this.txWords[i] = word;
  }

  /**
   * Queue bytes in the arena (a packet, or an already framed frame) for the
   * device; flushed by flush(). `word`: its offload word, TX_NOT_IP for a
   * frame the link layer made.
   */
  enqueue(off: number, len: number, word = TX_NOT_IP): void {
    if (this.txCount === TX_QUEUE) this.flush();
    const n = this.txCount;
    this.txOffsets[n] = off;
    this.txLengths[n] = len;
    this.txWords[n] = word;
    this.txVnet[n] = -1;
    this.txCount = n + 1;
  }

  /**
   * Every 50–100 ms, from each thread that has the port: what its device
   * counted below it since the last tick (the kernel's drops; an Ethernet
   * reader's own drops and repairs, into the link counters), then an
   * Ethernet port's link timers.
   */
  tick(): void {
    if (this.removed) return;
    const below = this.device.takeCounts?.();
    if (below) {
      this.counters.drop(Drop.KERNEL_DROPPED, below.kernelDrops);
      if (below.frames) this.link?.countDevice(below.frames);
    }
    const link = this.link;
    if (!link) return;
    link.tick();
    this.flush();
  }

  flush(): void {
    const n = this.txCount;
    if (n === 0) return;
    this.txCount = 0;
    const vnet = this.txVnetCount > 0 ? this.txVnet : null;
    this.txVnetCount = 0;
    const ok = this.device.writeBatch(this.arena.buffer, this.txOffsets, this.txLengths, n, vnet);
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
