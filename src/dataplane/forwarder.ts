// The packet path, per received batch and per packet (RFC 1812 §5.2):
//   validate IPv4 header → invalid/own source → options (only when IHL > 5)
//   → steering (forwarding workers: a NAT flow's packet to the worker that
//   owns it) → rewriters (NAT) → local delivery? (or a source-route hop) → martian
//   checks → egress choice (selectors: source policy; else the FIB: longest
//   prefix, best metric) → drain pinning → TTL → MTU/DF → options → output.
// Which rewriters and selectors run is decided in one place (packet-path.ts).
// Works in place on the arena's bytes through one reused view: no allocation
// per packet. Every drop is counted by reason on the ingress port.
//
// Offloads: a port in offload mode hands over, behind a virtio-net header,
// TCP/UDP super-packets of up to 64 KB and packets whose L4 checksum is
// partial. Each packet carries its offload word (wire/virtio-net.ts; 0 for
// an ordinary packet) through the path, and a super-packet is forwarded as
// one unit: its IP header is complete, so the header checks, TTL, routing,
// policy, drain pinning and NAT (partial-checksum aware) work on it as on
// any packet; the MTU rule is the kernel's (its segments must fit: gso.ts
// mtuVerdict); an ICMP error about it quotes its first segment; the output
// passes it whole or cuts it for the egress. The rare rest is made ordinary
// first: a partial checksum is finished, and a super-packet with IP options
// or for the router itself is cut into its segments, each of which then
// goes the ordinary way.
import { HEADROOM } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import { Rx } from '../ports/ethernet/ethernet-link.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { isLinkLocal, type RouterAddresses } from './addresses.js';
import type { BatchClock } from './batch-clock.js';
import type { FlowTable } from './flow-table.js';
import type { IcmpErrors } from './icmp-errors.js';
import { DST_FIELD, PLAIN_IPV4, type OptionProcessing } from './ip-options.js';
import { finishPartialChecksum, fold16, pseudoHeaderSum } from '../wire/checksum.js';
import type { LocalSink } from './local-delivery.js';
import type { Output } from './output.js';
import { CHECKSUMS_FINISHED, RX_BATCHES, RX_BYTES, RX_PACKETS, RX_SUPER } from '../ports/counters.js';
import type { Port } from '../ports/port.js';
import { NO_ROUTE, type FibLookup } from '../routing/fib.js';
import { ICMP_ERROR_MAX_LEN, IcmpType, UnreachCode } from '../wire/icmp.js';
import { IpProto, Ipv4Check, Ipv4View } from '../wire/ipv4.js';
import { isBareSyn } from '../wire/tcp.js';
import { OFFLOAD_PARTIAL, VirtioFlag, VirtioGso } from '../wire/virtio-net.js';
import {
  MtuVerdict, SegmentChecksum, firstSegment, gsoHeaderLength, mtuVerdict, segmentGso, segmentedSize,
} from './gso.js';
import { MAX_SEGMENTS } from './output.js';

/**
 * A step before the FIB that may pick the egress port itself (source-based
 * policy, drain). Returns a port index, or −1 to leave the choice to the FIB.
 */
export interface EgressSelector {
  select(ingress: Port, ip: Ipv4View): number;
  /** Set by a select() that chose: the neighbour to send to (0: the packet's destination, on-link). */
  readonly nextHop: number;
  /** For `route lookup --from`: what select() would decide for a packet src → dst. */
  explain?(src: number, dst: number): { port: number; by: string } | null;
}

/**
 * A step that may rewrite a packet in place before anything else looks at
 * its addresses (virtual-address NAT). Returns a Drop reason, or −1 to go on.
 */
export interface PacketRewriter {
  /** `word`: the packet's offload word (a partial L4 checksum is updated as one: gso.ts updatePartialChecksum32). */
  rewrite(ingress: Port, ip: Ipv4View, word: number): number;
  /**
   * Put back what rewrite() just changed in this packet: an ICMP error
   * about it goes to its real sender and quotes it as it arrived.
   */
  undo(ip: Ipv4View): void;
}

/** What a PacketSteering returns for a packet it passed to another thread (not a drop: the other thread forwards it). */
export const HANDED_OFF = -2;

/**
 * A step before the rewriters that may pass a packet to another thread
 * (with forwarding workers: to the worker that owns its NAT flow). Returns
 * −1 to go on here, HANDED_OFF when it took the packet, or a Drop reason.
 */
export interface PacketSteering {
  /** `word`: the packet's offload word, checked (it goes with the packet). */
  steer(ingress: Port, ip: Ipv4View, word: number): number;
}

/** A TCP segment that opens a connection: SYN without ACK, in a first fragment. */
function opensConnection(ip: Ipv4View): boolean {
  return ip.protocol === IpProto.TCP && ip.hasPorts && ip.payloadLength >= 14 && isBareSyn(ip.buf[ip.payloadOffset + 13]!);
}

const CHECK_TO_DROP = [-1, Drop.TRUNCATED, Drop.NOT_IPV4, Drop.BAD_IHL, Drop.BAD_TOTAL_LENGTH, Drop.BAD_CHECKSUM];

export class Forwarder {
  private readonly ip = new Ipv4View();
  /** The quoted first segment of a super-packet, or one segment being delivered. */
  private readonly segment = new Ipv4View();
  private readonly segOffsets = new Int32Array(MAX_SEGMENTS);
  private readonly segLengths = new Int32Array(MAX_SEGMENTS);
  /** Header bytes (IP + L4) of the super-packet in process(), from its offload check. */
  private gsoHeaderLen = 0;
  /** Set by the thread that may pass packets to others (forwarding workers with virtual services). */
  steering: PacketSteering | null = null;
  /** The packet in hand was handed over by another thread: it is not steered again, nor counted as received again. */
  private handedIn = false;

  constructor(
    private readonly ports: readonly Port[],
    private readonly fib: FibLookup,
    /** Applied to every valid packet first, in order (replaced when virtual services are reconfigured). */
    public rewriters: readonly PacketRewriter[],
    /** Consulted before the FIB, in order. */
    readonly selectors: readonly EgressSelector[],
    private readonly output: Output,
    private readonly local: LocalSink,
    private readonly icmp: IcmpErrors,
    private readonly flows: FlowTable,
    private readonly addrs: RouterAddresses,
    private readonly options: OptionProcessing,
    private readonly clock: BatchClock,
  ) {}

  /**
   * A batch of `count` packets (or, on an Ethernet port, frames) sits in
   * `port`'s receive slots, each IPv4 packet HEADROOM bytes into its slot.
   */
  receive(port: Port, count: number): void {
    const lengths = port.rxLengths;
    let off = port.slotPacket(0);
    port.counters.values[RX_BATCHES]! += 1;
    this.clock.tick();
    const link = port.link;
    // Offload mode: each packet's virtio-net header is `back` bytes before it.
    const back = port.rxVnetBack;
    const bytes = this.output.arena.bytes;
    for (let i = 0; i < count; i++, off += port.slotSize) {
      let drop: number;
      if (link === null) {
        if (back === 0) drop = this.process(port, off, lengths[i]!, false, 0);
        // An all-zero header (flags, gso_type): an ordinary packet.
        else if ((bytes[off - back]! | bytes[off - back + 1]!) === 0) drop = this.process(port, off, lengths[i]! - back, false, 0);
        else drop = this.receiveVnet(port, off, lengths[i]! - back, off - back, 0, false);
      } else {
        // The frame's header sits just before the packet; ARP and the rest stay in the link.
        const kind = link.receive(off - ETHERNET_HEADER_LEN, lengths[i]!);
        if (kind !== Rx.IPV4 && kind !== Rx.IPV4_LINK_GROUP) continue;
        const len = lengths[i]! - ETHERNET_HEADER_LEN;
        const group = kind === Rx.IPV4_LINK_GROUP;
        drop = back === 0 ? this.process(port, off, len, group, 0) : this.receiveVnet(port, off, len, off - back, ETHERNET_HEADER_LEN, group);
      }
      if (drop >= 0) port.counters.drop(drop);
    }
    this.output.flushAll();
  }

  /**
   * A packet read with a virtio-net header (at `h`; its offsets count from
   * `linkLen` bytes of link header before the IP packet): its offload word
   * from the header. A partial checksum is kept only where the path knows it
   * (TCP or UDP, from the end of the IP header); any other is finished here.
   * A super-packet is checked in process().
   */
  private receiveVnet(port: Port, off: number, len: number, h: number, linkLen: number, linkGroup: boolean): number {
    const b = this.output.arena.bytes;
    const flags = b[h]!, gsoType = b[h + 1]!;
    if (len < 0) len = 0;
    if (gsoType !== VirtioGso.NONE) {
      const size = b[h + 4]! | (b[h + 5]! << 8);
      if (size === 0) {
        port.counters.values[RX_PACKETS]! += 1;
        return Drop.BAD_OFFLOAD;
      }
      // Without NEEDS_CSUM the checksum field is made partial in process().
      return this.process(port, off, len, linkGroup, ((flags & VirtioFlag.NEEDS_CSUM) !== 0 ? OFFLOAD_PARTIAL : 0) | (gsoType << 16) | size);
    }
    if ((flags & VirtioFlag.NEEDS_CSUM) === 0) return this.process(port, off, len, linkGroup, 0);
    const start = (b[h + 6]! | (b[h + 7]! << 8)) - linkLen, at = b[h + 8]! | (b[h + 9]! << 8);
    const proto = b[off + 9];
    if (start === (b[off]! & 0x0f) << 2 && ((proto === IpProto.TCP && at === 16) || (proto === IpProto.UDP && at === 6))) {
      return this.process(port, off, len, linkGroup, OFFLOAD_PARTIAL);
    }
    if (start >= 0 && finishPartialChecksum(b, off, len, start, at)) port.counters.values[CHECKSUMS_FINISHED]! += 1;
    else {
      port.counters.values[RX_PACKETS]! += 1;
      return Drop.BAD_OFFLOAD;
    }
    return this.process(port, off, len, linkGroup, 0);
  }

  /**
   * One packet; returns a Drop reason, or −1 when it was forwarded or
   * consumed. `linkGroup`: it came in a link-layer broadcast or multicast
   * frame — for the router only, never forwarded (RFC 1812 §5.3.4).
   * `word`: its offload word as read (0: an ordinary packet).
   */
  process(ingress: Port, off: number, len: number, linkGroup = false, word = 0): number {
    const c = ingress.counters.values;
    c[RX_PACKETS]! += 1;
    c[RX_BYTES]! += len;
    return this.admit(ingress, off, len, linkGroup, word);
  }

  /**
   * A packet another thread read on `ingress` and steered here (counted as
   * received there), with its offload word as that thread checked it: the
   * whole path from the header checks on, without steering it again. A
   * Drop reason, or −1. The caller ticks the clock and flushes.
   */
  receiveHandedIn(ingress: Port, off: number, len: number, word: number): number {
    this.handedIn = true;
    try {
      return this.admit(ingress, off, len, false, word);
    } finally {
      this.handedIn = false;
    }
  }

  /** A packet counted as received on `ingress`: dropped if the port is blocked or down, else handled. */
  private admit(ingress: Port, off: number, len: number, linkGroup: boolean, word: number): number {
    if (ingress.state === 'blocked' || ingress.state === 'down') return Drop.PORT_BLOCKED;
    return this.handle(ingress, off, len, linkGroup, word);
  }

  private handle(ingress: Port, off: number, len: number, linkGroup: boolean, word: number): number {
    const ip = this.ip.attach(this.output.arena.bytes, off, len);
    const check = ip.validate();
    if (check !== Ipv4Check.OK) return CHECK_TO_DROP[check]!;
    if (word !== 0) {
      word = this.checkOffload(ingress, ip, word);
      if (word < 0) return Drop.BAD_OFFLOAD;
    }

    // RFC 1812 §4.2.2.11, §5.3.7: sources no packet may carry, to the router or through it.
    // Addresses travel the path as int32 bits: a uint32 ≥ 2^31 that crosses a
    // call is boxed — an allocation per packet for any address from 128.0.0.0
    // up (172.16/12 and 192.168/16 included).
    const src = ip.srcBits;
    const srcDrop = this.addrs.sourceDrop(src);
    if (srcDrop >= 0) return srcDrop;
    const withOptions = ip.buf[off] !== PLAIN_IPV4;
    if (withOptions) {
      // Options and offloads are rare together: the segments take the ordinary way.
      if (word !== 0) return this.ordinary(ingress, ip, word, linkGroup, false);
      const drop = this.options.check(ingress, ip);
      if (drop >= 0) return drop;
    }

    // A packet of a flow another thread owns goes to it (a link-layer group's stays: it is for the router only).
    if (this.steering !== null && !this.handedIn && !linkGroup) {
      const r = this.steering.steer(ingress, ip, word);
      if (r !== -1) return r;
    }

    for (let i = 0; i < this.rewriters.length; i++) {
      const drop = this.rewriters[i]!.rewrite(ingress, ip, word);
      if (drop >= 0) return drop;
    }

    let dst = ip.dstBits;
    if (this.addrs.isLocal(dst)) {
      // The router checks L4 checksums of what it takes itself: finished first.
      if (word !== 0) return this.ordinary(ingress, ip, word, linkGroup, true);
      // A source route that goes on makes the router a hop, not the destination (§5.2.4.1).
      if (!withOptions || !this.options.pendingSourceRoute || !this.addrs.isOwn(dst) || !this.options.sourceRouteHop(ip)) {
        return this.local.deliver(ingress, ip, withOptions);
      }
      dst = ip.dstBits;
    } else if (withOptions && this.options.strictTransit) {
      // RFC 1812 §5.2.2: a strict source route reached a router it does not name.
      this.error(IcmpType.PARAMETER_PROBLEM, 0, DST_FIELD << 24, ingress, ip, word);
      return Drop.STRICT_ROUTE_NOT_OURS;
    }
    if (linkGroup) return Drop.LINK_BROADCAST_NOT_ROUTED;

    // RFC 1812 §5.3.7, RFC 3927 §2.7: not forwarded.
    if (src === 0 || isLinkLocal(src)) return Drop.MARTIAN_SOURCE;
    const dstTop = dst >>> 24;
    if (dstTop >= 224 && dstTop < 240) return Drop.MULTICAST_NOT_ROUTED;
    if (dstTop === 0 || dstTop === 127 || dstTop >= 240 || isLinkLocal(dst)) return Drop.MARTIAN_DESTINATION;
    // §4.2.3.1: an attached subnet's obsolete {prefix, 0} broadcast is silently discarded.
    if (this.addrs.isSubnetNetwork(dst)) return Drop.MARTIAN_DESTINATION;
    // A draining port takes no new connection from its side: its neighbour is
    // moving that traffic to another path, and a connection opened now would be
    // cut in half when it moves (a neighbour that cannot pin flows sends the
    // rest by the new path, to a server that resets it). The client sends the
    // SYN again (TCP's 1 s) — by then by the new path.
    if (ingress.state === 'draining' && opensConnection(ip)) return Drop.PORT_DRAINING;

    // A strict source route's next hop must be on a connected network (RFC 791; RFC 1812 §4.3.3.1 code 5).
    const sourceRouted = withOptions && this.options.isSourceRouteHop;
    if (sourceRouted && this.options.strictHop) {
      const nh = this.fib.lookup(dst);
      if (nh === NO_ROUTE || this.fib.gatewayOf(nh) !== 0) {
        this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED, 0, ingress, ip, word);
        return Drop.SOURCE_ROUTE_FAILED;
      }
    }

    let egress = -1;
    let gateway = 0;
    for (let i = 0; i < this.selectors.length; i++) {
      const s = this.selectors[i]!;
      egress = s.select(ingress, ip);
      if (egress >= 0) {
        gateway = s.nextHop | 0;
        break;
      }
    }
    if (egress < 0) {
      const nh = this.fib.lookup(dst);
      if (nh === NO_ROUTE) {
        if (sourceRouted) {
          this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED, 0, ingress, ip, word);
          return Drop.SOURCE_ROUTE_FAILED;
        }
        this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.NET, 0, ingress, ip, word);
        return Drop.NO_ROUTE;
      }
      egress = this.fib.portOf(nh);
      gateway = this.fib.gatewayOf(nh) | 0;
    }
    // Flows already on a draining port stay on it (and keep that port's next hop).
    egress = this.flows.track(ip, egress, gateway, ingress.index);
    gateway = this.flows.nextHop | 0;
    const out = this.ports[egress]!;

    const ttl = ip.ttl;
    if (ttl <= 1) {
      this.error(IcmpType.TIME_EXCEEDED, 0, 0, ingress, ip, word);
      return Drop.TTL_EXPIRED;
    }
    const total = ip.totalLength;
    if (total > out.mtu) {
      // A super-packet is too big only if its segments are (and without DF those get fragmented).
      const segLen = (word & 0xff0000) === 0 ? 0 : this.gsoHeaderLen + (word & 0xffff);
      if (mtuVerdict(total, ip.dontFragment, segLen, out.mtu) === MtuVerdict.FRAG_NEEDED) {
        this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, out.mtu, ingress, ip, word);
        return Drop.FRAG_NEEDED;
      }
    }
    if (withOptions) {
      // Options change with the TTL: one full checksum instead of two incremental updates.
      this.options.forward(ip, out);
      ip.ttl = ttl - 1;
      ip.fillChecksum();
    } else {
      ip.decrementTtl();
    }
    return this.output.send(out, off, total, gateway || (ip.dstBits), word);
  }

  /**
   * The offload word of a packet with a valid IPv4 header, checked against
   * it: neither kind may be a fragment; a super-packet must be whole (no link padding), of
   * the kind its gso_type says, with a gso_size; one that holds a single
   * segment is just a packet with a partial checksum. −1: refused.
   */
  private checkOffload(ingress: Port, ip: Ipv4View, word: number): number {
    // A fragment's checksum cannot be finished from it alone, nor can it be segmented.
    if (ip.isFragment) return -1;
    const type = (word >>> 16) & 0xff;
    if (type === VirtioGso.NONE) return word;
    const kind = type & ~VirtioGso.ECN;
    const b = ip.buf, off = ip.off, len = ip.totalLength;
    const size = word & 0xffff;
    if (len !== ip.len || size === 0) return -1;
    const hlen = gsoHeaderLength(b, off, len, kind);
    if (hlen < 0 || len <= hlen) return -1;
    if ((word & OFFLOAD_PARTIAL) === 0) {
      // GSO without NEEDS_CSUM: the field becomes the pseudo-header sum every segmenter expects.
      const l4 = ip.payloadOffset;
      const at = l4 + (kind === VirtioGso.TCPV4 ? 16 : 6);
      const sum = fold16(pseudoHeaderSum(ip.src, ip.dst, b[off + 9]!, len - (l4 - off)));
      b[at] = sum >>> 8;
      b[at + 1] = sum;
      word |= OFFLOAD_PARTIAL;
    }
    if (len - hlen <= size) return OFFLOAD_PARTIAL;
    this.gsoHeaderLen = hlen;
    if (!this.handedIn) ingress.counters.values[RX_SUPER]! += 1;
    return word;
  }

  /**
   * An ICMP error about `ip`; about a super-packet, quoting its first
   * segment (what the sender's kernel would have put on the wire).
   */
  private error(type: number, code: number, param: number, ingress: Port, ip: Ipv4View, word: number): void {
    for (let i = this.rewriters.length - 1; i >= 0; i--) this.rewriters[i]!.undo(ip);
    if ((word & 0xff0000) === 0) {
      this.icmp.send(type, code, param, ingress, ip);
      return;
    }
    const kind = (word >>> 16) & ~VirtioGso.ECN & 0xff;
    const at = this.output.scratch(this.gsoHeaderLen + (word & 0xffff));
    const n = firstSegment(ip.buf, ip.off, ip.totalLength, kind, word & 0xffff, ip.buf, at);
    if (n > 0) this.icmp.send(type, code, param, ingress, this.segment.attach(ip.buf, at, n));
  }

  /**
   * A packet with offloads the path cannot keep here (IP options; for the
   * router itself): its checksum finished or its segments cut, it goes on
   * as ordinary packets — through the whole path again, or (`local`)
   * straight to local delivery.
   */
  private ordinary(ingress: Port, ip: Ipv4View, word: number, linkGroup: boolean, local: boolean): number {
    const off = ip.off, len = ip.totalLength;
    if ((word & 0xff0000) === 0) {
      if (!this.output.finishChecksum(ingress, off, len)) return Drop.BAD_OFFLOAD;
      if (local) return this.local.deliver(ingress, this.ip.attach(ip.buf, off, len), false);
      return this.handle(ingress, off, len, linkGroup, 0);
    }
    const kind = (word >>> 16) & ~VirtioGso.ECN & 0xff;
    const size = word & 0xffff;
    const hlen = this.gsoHeaderLen;
    const n = Math.ceil((len - hlen) / size);
    const room = segmentedSize(len, hlen, size, HEADROOM);
    // Room for the segments and for what each may take (fragments, an ICMP error or reply), so no flush overwrites them.
    const per = hlen + size + 64 * (64 + HEADROOM) + ICMP_ERROR_MAX_LEN + 4 * (HEADROOM + 8);
    if (n > MAX_SEGMENTS || !this.output.reserveScratch(room + HEADROOM + 8 + n * per)) return Drop.BAD_OFFLOAD;
    const region = this.output.scratch(room);
    const b = ip.buf;
    const got = segmentGso(b, off, len, kind, size, b, region - HEADROOM, region + room, HEADROOM, SegmentChecksum.FULL,
      this.segOffsets, this.segLengths, 0, MAX_SEGMENTS);
    if (got < 0) return Drop.BAD_OFFLOAD;
    let last = -1;
    for (let i = 0; i < got; i++) {
      const so = this.segOffsets[i]!, sl = this.segLengths[i]!;
      const drop = local ? this.local.deliver(ingress, this.segment.attach(b, so, sl), false) : this.handle(ingress, so, sl, linkGroup, 0);
      if (drop >= 0) {
        if (i < got - 1) ingress.counters.drop(drop);
        else last = drop;
      }
    }
    return last;
  }
}
