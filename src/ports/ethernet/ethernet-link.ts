// The link layer of an Ethernet port: what sits between the port's device
// (whole Ethernet frames) and the router's packet path (IPv4 packets).
//
// Receive: receive(off, len) classifies a frame in place. IPv4 → the caller
// handles the packet at (off + 14, len - 14); ARP is handled here (requests
// for our address answered in place, senders learned, waiting packets
// released); everything else is a counted drop.
//
// Transmit: transmit(off, len, nextHop) takes an IPv4 packet with at least
// 14 bytes of headroom before it, writes the Ethernet header in front of it
// and returns the frame length (the frame starts at off - 14); or, while the
// next hop's MAC is being resolved, copies the packet into the hold pool,
// sends an ARP request and returns 0. A held packet is sent later without
// an offload header, so a partial checksum is finished as it is held.
//
// Everything it sends itself (ARP replies in the received frame's slot, ARP
// requests and announcements in a small ring of control frames, released
// packets in hold buffers) goes through `send(off, len)` onto the port's
// transmit queue. Those bytes must stay put until the queue is written: the
// port calls txFlushed() after each flush, which frees them for reuse.
//
// Timers: tick(now) every ~100 ms (ARP retransmission, state ageing,
// gratuitous ARP repeats).
import { ARP_LEN, ArpCheck, ArpOp, ArpView, writeArp } from '../../wire/arp.js';
import {
  BROADCAST_MAC, ETHERNET_HEADER_LEN, EtherType, copyMac, macLo, writeEthernetHeader, writeIpv4MulticastMac,
} from '../../wire/ethernet.js';
import { finishTransportChecksum } from '../../wire/checksum.js';
import { copyBytes } from '../../wire/ipv4.js';
import { maskOf } from '../../net/addr.js';
import { HoldPool } from './hold-pool.js';
import type { ReaderFrameCounts } from './ethernet-device.js';
import { L2Drop, L2Event, LinkCounters } from './link-counters.js';
import { NeighbourTable, Resolve, type NeighbourEvents, type NeighbourRow, type NeighbourSettings } from './neighbour-table.js';

/** What receive() found. */
export const Rx = {
  /** Dropped and counted here. */
  DROPPED: 0,
  /** An IPv4 packet at (off + 14, len - 14), sent to our MAC. */
  IPV4: 1,
  /**
   * An IPv4 packet that came in a link-layer broadcast/multicast frame: for
   * local delivery only (RFC 1812 §5.3.4: a router does not forward those).
   */
  IPV4_LINK_GROUP: 2,
  /** ARP, handled. */
  ARP: 3,
} as const;

/** Bytes of one control frame (an ARP packet in an Ethernet frame is 42). */
const CONTROL_FRAME = 64;
const ARP_FRAME = ETHERNET_HEADER_LEN + ARP_LEN;

export interface EthernetLinkOptions {
  /** The packet arena: every offset here is into it. */
  bytes: Uint8Array;
  /** Arena offset of EthernetLink.regionBytes(options) reserved bytes (control frames and hold pool). */
  region: number;
  /** The interface's MAC: our source address and the one ARP answers with. */
  mac: Uint8Array;
  /** Our address on the port (uint32) and its prefix length. */
  address: number;
  prefixLen: number;
  mtu: number;
  /** Hold buffers for packets waiting for resolution (default 64). */
  holdSlots?: number;
  /** Control frames between two flushes (default 32). */
  controlFrames?: number;
  neighbours?: Partial<NeighbourSettings>;
  /** Gratuitous ARPs per linkUp() (default 2) and the time between them. */
  announcements?: number;
  announceIntervalMs?: number;
  /** Milliseconds, monotonic (default performance.now). */
  clock?: () => number;
  /** Where the link counts (a forwarding worker's shard), default its own array. */
  counters?: Float64Array;
  /** Put a frame on the port's transmit queue. */
  send(off: number, len: number): void;
  /**
   * A held packet is given up (its next hop did not resolve): the IPv4
   * packet is at (off, len) for the duration of the call — e.g. to send
   * ICMP host unreachable (RFC 1812 §4.3.3.1). Not called for other drops.
   */
  unresolved?(off: number, len: number, nextHop: number): void;
}

export class EthernetLink {
  readonly counters: LinkCounters;
  /** What relayed frames count into: nobody reads it. */
  private readonly uncounted = new LinkCounters();
  readonly table: NeighbourTable;
  readonly pool: HoldPool;
  readonly mac: Uint8Array;
  readonly address: number;
  readonly prefixLen: number;
  /** Our MAC as two int32 halves, for the per-frame destination check. */
  private readonly macHi: number;
  private readonly macLoI32: number;
  private readonly addressI32: number;
  private readonly broadcastI32: number;
  private readonly bytes: Uint8Array;
  private readonly controlBase: number;
  private readonly controlFrames: number;
  private controlUsed = 0;
  private readonly arp = new ArpView();
  private readonly clock: () => number;
  private readonly send: (off: number, len: number) => void;
  private readonly onUnresolved: ((off: number, len: number, nextHop: number) => void) | undefined;
  private readonly announcements: number;
  private readonly announceIntervalMs: number;
  private announceLeft = 0;
  private nextAnnounceAt = 0;
  private up = false;

  /** Arena bytes a link needs for its control frames and hold pool. */
  static regionBytes(opts: { mtu: number; holdSlots?: number; controlFrames?: number }): number {
    return (opts.controlFrames ?? 32) * CONTROL_FRAME + HoldPool.bytesFor(opts.holdSlots ?? 64, opts.mtu);
  }

  constructor(opts: EthernetLinkOptions) {
    this.counters = new LinkCounters(opts.counters);
    if (opts.mac.length !== 6) throw new RangeError('MAC must be 6 bytes');
    this.bytes = opts.bytes;
    this.mac = Uint8Array.from(opts.mac);
    this.macHi = (this.mac[0]! << 8) | this.mac[1]!;
    this.macLoI32 = macLo(this.mac, 0);
    this.address = opts.address >>> 0;
    this.prefixLen = opts.prefixLen;
    this.addressI32 = opts.address | 0;
    const mask = maskOf(opts.prefixLen);
    this.broadcastI32 = opts.prefixLen >= 31 ? -1 : ((opts.address & mask) | ~mask) | 0;
    this.controlFrames = opts.controlFrames ?? 32;
    this.controlBase = opts.region;
    const holdSlots = opts.holdSlots ?? 64;
    const end = opts.region + EthernetLink.regionBytes({ mtu: opts.mtu, holdSlots, controlFrames: this.controlFrames });
    if (opts.region < 0 || end > opts.bytes.length) throw new RangeError('Ethernet link region does not fit the arena');
    this.pool = new HoldPool(opts.region + this.controlFrames * CONTROL_FRAME, holdSlots, opts.mtu);
    this.clock = opts.clock ?? (() => performance.now());
    this.send = opts.send;
    this.onUnresolved = opts.unresolved;
    this.announcements = opts.announcements ?? 2;
    this.announceIntervalMs = opts.announceIntervalMs ?? 1000;
    const events: NeighbourEvents = {
      solicit: (entry, unicast) => this.solicit(entry, unicast),
      resolved: (entry) => this.release(entry),
      unresolved: (entry) => this.giveUp(entry, L2Drop.UNRESOLVED),
    };
    this.table = new NeighbourTable(opts.neighbours ?? {}, events, this.pool.next, this.clock);
  }

  get isUp(): boolean {
    return this.up;
  }

  // ---- receive ----------------------------------------------------------------

  /**
   * Classify the frame at (off, len); returns an Rx code. `relayed`: an ARP
   * reply another thread read and counted (forwarding workers) — learnt
   * from, not counted again.
   */
  receive(off: number, len: number, relayed = false): number {
    const b = this.bytes;
    const c = relayed ? this.uncounted : this.counters;
    if (len < ETHERNET_HEADER_LEN) {
      c.drop(L2Drop.RUNT);
      return Rx.DROPPED;
    }
    if (!this.up) {
      c.drop(L2Drop.RX_LINK_DOWN);
      return Rx.DROPPED;
    }
    const group = (b[off] & 1) !== 0;
    if (!group && (((b[off] << 8) | b[off + 1]) !== this.macHi || macLo(b, off) !== this.macLoI32)) {
      c.drop(L2Drop.NOT_OUR_MAC);
      return Rx.DROPPED;
    }
    if ((b[off + 6] & 1) !== 0 || (((b[off + 6] << 8) | b[off + 7]) === this.macHi && macLo(b, off + 6) === this.macLoI32)) {
      c.drop(L2Drop.BAD_SOURCE_MAC);
      return Rx.DROPPED;
    }
    const type = (b[off + 12] << 8) | b[off + 13];
    if (type === EtherType.IPV4) return group ? Rx.IPV4_LINK_GROUP : Rx.IPV4;
    if (type === EtherType.ARP) {
      this.receiveArp(off, len, !group, c);
      return Rx.ARP;
    }
    c.drop(type === EtherType.VLAN || type === EtherType.QINQ ? L2Drop.VLAN_TAGGED : L2Drop.UNKNOWN_ETHERTYPE);
    return Rx.DROPPED;
  }

  private receiveArp(off: number, len: number, toOurMac: boolean, c: LinkCounters): void {
    const arp = this.arp.attach(this.bytes, off + ETHERNET_HEADER_LEN, len - ETHERNET_HEADER_LEN);
    const check = arp.validate();
    if (check !== ArpCheck.OK) {
      c.drop(ARP_CHECK_DROPS[check]!);
      return;
    }
    const op = arp.op;
    c.event(op === ArpOp.REQUEST ? L2Event.ARP_REQUESTS_RECEIVED : L2Event.ARP_REPLIES_RECEIVED);
    const spa = arp.senderIpI32;
    const forUs = arp.targetIpI32 === this.addressI32;
    if (spa === this.addressI32) {
      c.drop(L2Drop.ARP_ADDRESS_CONFLICT);
      return;
    }
    // Learn (RFC 826 merge): update any entry of the sender; create one only
    // for a request for us. A sender that cannot be our neighbour (0.0.0.0 of
    // a duplicate-address probe, off our subnet) teaches nothing.
    if (this.isNeighbourAddress(spa)) {
      this.table.learn(spa, this.bytes, arp.senderMacOffset, op === ArpOp.REPLY || toOurMac, forUs && op === ArpOp.REQUEST);
    }
    if (!forUs) {
      if (op === ArpOp.REQUEST) c.drop(L2Drop.ARP_NOT_FOR_US);
      return;
    }
    if (op !== ArpOp.REQUEST) return;
    // Answer in place: the reply goes to the requester's hardware address.
    const b = this.bytes;
    copyMac(b, arp.senderMacOffset, b, off);
    copyMac(this.mac, 0, b, off + 6);
    arp.makeReply(this.mac, 0, this.address);
    this.send(off, ARP_FRAME);
    c.event(L2Event.ARP_REPLIES_SENT);
  }

  /** On our subnet, not ours, not its network or broadcast address (a /31's two are both hosts). */
  private isNeighbourAddress(a: number): boolean {
    const mask = maskOf(this.prefixLen) | 0;
    if ((a & mask) !== (this.addressI32 & mask) || a === this.addressI32) return false;
    if (this.prefixLen >= 31) return true;
    return a !== (this.addressI32 & mask) && a !== this.broadcastI32;
  }

  // ---- transmit ---------------------------------------------------------------

  /**
   * Send the IPv4 packet at (off, len) to `nextHop` (uint32 or int32: the
   * route's gateway, or the packet's destination on a connected subnet).
   * Needs 14 bytes of headroom before off. Returns the frame length with the
   * frame at off - 14, or 0 (held for resolution, or dropped and counted).
   * `partial`: its TCP/UDP checksum is partial (the caller sends a virtio-net
   * header beside the frame); finished here if the packet is held.
   */
  transmit(off: number, len: number, nextHop: number, partial = false): number {
    if (!this.up) {
      this.counters.drop(L2Drop.TX_LINK_DOWN);
      return 0;
    }
    const b = this.bytes;
    const f = off - ETHERNET_HEADER_LEN;
    const nh = nextHop | 0;
    if ((nh >>> 28) === 14) {
      writeIpv4MulticastMac(nh, b, f);
      return this.finishHeader(f, len);
    }
    if (nh === -1 || nh === this.broadcastI32) {
      copyMac(BROADCAST_MAC, 0, b, f);
      return this.finishHeader(f, len);
    }
    if (nh === 0 || nh === this.addressI32) {
      this.counters.drop(L2Drop.BAD_NEXT_HOP);
      return 0;
    }
    const t = this.table;
    const r = t.resolve(nh);
    if (r === Resolve.SEND) {
      copyMac(t.macs, t.entry * 6, b, f);
      return this.finishHeader(f, len);
    }
    if (r === Resolve.FULL) {
      this.counters.drop(L2Drop.NEIGHBOUR_TABLE_FULL);
      return 0;
    }
    this.hold(t.entry, off, len, partial);
    return 0;
  }

  /**
   * Whether transmit() would hold a packet for `nextHop` while it is
   * resolved (a caller cuts a super-packet first: a hold buffer takes one
   * MTU). No side effects.
   */
  wouldHold(nextHop: number): boolean {
    const nh = nextHop | 0;
    if (!this.up || (nh >>> 28) === 14 || nh === -1 || nh === this.broadcastI32 || nh === 0 || nh === this.addressI32) return false;
    return this.table.wouldHold(nh);
  }

  private finishHeader(f: number, len: number): number {
    const b = this.bytes;
    copyMac(this.mac, 0, b, f + 6);
    b[f + 12] = EtherType.IPV4 >>> 8;
    b[f + 13] = EtherType.IPV4 & 0xff;
    return len + ETHERNET_HEADER_LEN;
  }

  private hold(entry: number, off: number, len: number, partial: boolean): void {
    const pool = this.pool;
    if (len > pool.mtu) {
      this.counters.drop(L2Drop.HOLD_TOO_BIG);
      return;
    }
    if (partial && !finishTransportChecksum(this.bytes, off, len)) {
      this.counters.drop(L2Drop.HOLD_BAD_CHECKSUM);
      return;
    }
    const hb = pool.alloc();
    if (hb < 0) {
      this.counters.drop(L2Drop.HOLD_POOL_EMPTY);
      return;
    }
    copyBytes(this.bytes, off, this.bytes, pool.packetOffset(hb), len);
    pool.lengths[hb] = len;
    const dropped = this.table.hold(entry, hb);
    this.counters.event(L2Event.HELD);
    if (dropped >= 0) {
      pool.free(dropped);
      this.counters.drop(L2Drop.HOLD_QUEUE_OVERFLOW);
    }
  }

  /** The entry's MAC is known: send its held packets, oldest first. */
  private release(entry: number): void {
    const pool = this.pool;
    const t = this.table;
    for (let hb = t.takeHeld(entry); hb >= 0;) {
      const next = pool.next[hb]!;
      const ip = pool.packetOffset(hb);
      const f = ip - ETHERNET_HEADER_LEN;
      copyMac(t.macs, entry * 6, this.bytes, f);
      this.send(f, this.finishHeader(f, pool.lengths[hb]!));
      pool.retire(hb);
      this.counters.event(L2Event.RELEASED);
      hb = next;
    }
  }

  private giveUp(entry: number, reason: number): void {
    const pool = this.pool;
    const addr = this.table.addrs[entry]! >>> 0;
    for (let hb = this.table.takeHeld(entry); hb >= 0;) {
      const next = pool.next[hb]!;
      this.counters.drop(reason);
      if (reason === L2Drop.UNRESOLVED) this.onUnresolved?.(pool.packetOffset(hb), pool.lengths[hb]!, addr);
      pool.free(hb);
      hb = next;
    }
  }

  // ---- ARP we originate -------------------------------------------------------

  private controlFrame(): number {
    if (this.controlUsed === this.controlFrames) {
      this.counters.drop(L2Drop.ARP_TX_NO_BUFFER);
      return -1;
    }
    return this.controlBase + CONTROL_FRAME * this.controlUsed++;
  }

  private solicit(entry: number, unicast: boolean): void {
    if (!this.up) return;
    const f = this.controlFrame();
    if (f < 0) return;
    const t = this.table;
    const b = this.bytes;
    writeEthernetHeader(b, f, unicast ? t.macs : BROADCAST_MAC, unicast ? entry * 6 : 0, this.mac, 0, EtherType.ARP);
    writeArp(b, f + ETHERNET_HEADER_LEN, ArpOp.REQUEST, this.mac, 0, this.address, null, 0, t.addrs[entry]! >>> 0);
    this.send(f, ARP_FRAME);
    this.counters.event(L2Event.ARP_REQUESTS_SENT);
  }

  /** Gratuitous ARP (a request for our own address, RFC 5227's announcement): neighbours update their caches. */
  private announce(): void {
    const f = this.controlFrame();
    if (f < 0) return;
    const b = this.bytes;
    writeEthernetHeader(b, f, BROADCAST_MAC, 0, this.mac, 0, EtherType.ARP);
    writeArp(b, f + ETHERNET_HEADER_LEN, ArpOp.REQUEST, this.mac, 0, this.address, null, 0, this.address);
    this.send(f, ARP_FRAME);
    this.counters.event(L2Event.GRATUITOUS_SENT);
  }

  // ---- port life --------------------------------------------------------------

  /** The device's link is up and running (port up or unblocked): announce ourselves. */
  linkUp(): void {
    this.up = true;
    this.announceLeft = this.announcements;
    this.nextAnnounceAt = this.clock();
    if (this.announceLeft > 0) {
      this.announce();
      this.announceLeft--;
      this.nextAnnounceAt += this.announceIntervalMs;
    }
  }

  /** The link goes down (port blocked): drop waiting packets, forget neighbours (as Linux does on carrier loss). */
  linkDown(): void {
    this.up = false;
    this.announceLeft = 0;
    const t = this.table;
    for (let i = 0; i < t.capacity; i++) if (t.heldOn(i) > 0) this.giveUp(i, L2Drop.HELD_AT_LINK_DOWN);
    t.clear();
  }

  /** Timers: ARP retransmission and ageing, gratuitous ARP repeats. */
  tick(now = this.clock()): void {
    if (!this.up) return;
    this.table.tick(now);
    if (this.announceLeft > 0 && now >= this.nextAnnounceAt) {
      this.announce();
      this.announceLeft--;
      this.nextAnnounceAt = now + this.announceIntervalMs;
    }
  }

  /** What the device's reader dropped or repaired below the link (since its last report), into this link's counters. */
  countDevice(d: ReaderFrameCounts): void {
    const c = this.counters;
    c.drop(L2Drop.DEVICE_OVERSIZE, d.oversize);
    c.drop(L2Drop.DEVICE_TRUNCATED, d.truncated);
    c.drop(L2Drop.VLAN_TAGGED, d.vlanTagged);
    c.drop(L2Drop.DEVICE_BAD_OFFLOAD, d.badOffload);
    c.event(L2Event.DEVICE_CHECKSUMS_COMPLETED, d.checksumsCompleted);
    c.event(L2Event.DEVICE_SUPER_FRAMES_CUT, d.gsoFrames);
    c.event(L2Event.DEVICE_SEGMENTS_MADE, d.gsoSegments);
  }

  /** The port's transmit queue was written: control frames and released hold buffers are free again. */
  txFlushed(): void {
    this.controlUsed = 0;
    this.pool.reclaim();
  }

  /**
   * A configured neighbour (a MAC the router is told, as `ip neigh add …
   * permanent`): packets to `address` go to `mac` without ARP, whatever ARP
   * says. False when `address` is not on the link or the table is full.
   */
  setStaticNeighbour(address: number, mac: Uint8Array): boolean {
    if (!this.isNeighbourAddress(address | 0)) return false;
    return this.table.setPermanent(address, mac) >= 0;
  }

  removeStaticNeighbour(address: number): boolean {
    return this.table.removePermanent(address);
  }

  /** The neighbour table, for `neigh list` and the API. */
  neighbours(): NeighbourRow[] {
    return this.table.rows();
  }
}

const ARP_CHECK_DROPS: readonly number[] = [
  -1,
  L2Drop.ARP_TRUNCATED,
  L2Drop.ARP_BAD_HARDWARE_TYPE,
  L2Drop.ARP_BAD_PROTOCOL_TYPE,
  L2Drop.ARP_BAD_ADDRESS_LENGTHS,
  L2Drop.ARP_BAD_OPERATION,
  L2Drop.ARP_BAD_SENDER_MAC,
];
