// The packet path, per received batch and per packet (RFC 1812 §5.2):
//   validate IPv4 header → invalid/own source → options (only when IHL > 5)
//   → rewriters (NAT) → local delivery? (or a source-route hop) → martian
//   checks → egress choice (selectors: source policy; else the FIB: longest
//   prefix, best metric) → drain pinning → TTL → MTU/DF → options → output.
// Which rewriters and selectors run is decided in one place (packet-path.ts).
// Works in place on the arena's bytes through one reused view: no allocation
// per packet. Every drop is counted by reason on the ingress port.
import { Drop } from '../packet/drops.js';
import { Rx } from '../ports/ethernet/ethernet-link.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { isLinkLocal, type RouterAddresses } from './addresses.js';
import type { FlowTable } from './flow-table.js';
import type { IcmpErrors } from './icmp-errors.js';
import { DST_FIELD, PLAIN_IPV4, type OptionProcessing } from './ip-options.js';
import type { LocalDelivery } from './local-delivery.js';
import type { Output } from './output.js';
import { RX_BATCHES, RX_BYTES, RX_PACKETS } from '../ports/counters.js';
import type { Port } from '../ports/port.js';
import { NO_ROUTE, type Fib } from '../routing/fib.js';
import { IcmpType, UnreachCode } from '../wire/icmp.js';
import { Ipv4Check, Ipv4View } from '../wire/ipv4.js';

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
  rewrite(ingress: Port, ip: Ipv4View): number;
  /**
   * Put back what rewrite() just changed in this packet: an ICMP error
   * about it goes to its real sender and quotes it as it arrived.
   */
  undo(ip: Ipv4View): void;
}

const CHECK_TO_DROP = [-1, Drop.TRUNCATED, Drop.NOT_IPV4, Drop.BAD_IHL, Drop.BAD_TOTAL_LENGTH, Drop.BAD_CHECKSUM];

export class Forwarder {
  private readonly ip = new Ipv4View();

  constructor(
    private readonly ports: readonly Port[],
    private readonly fib: Fib,
    /** Applied to every valid packet first, in order (replaced when virtual services are reconfigured). */
    public rewriters: readonly PacketRewriter[],
    /** Consulted before the FIB, in order. */
    readonly selectors: readonly EgressSelector[],
    private readonly output: Output,
    private readonly local: LocalDelivery,
    private readonly icmp: IcmpErrors,
    private readonly flows: FlowTable,
    private readonly addrs: RouterAddresses,
    private readonly options: OptionProcessing,
  ) {}

  /**
   * A batch of `count` packets (or, on an Ethernet port, frames) sits in
   * `port`'s receive slots, each IPv4 packet HEADROOM bytes into its slot.
   */
  receive(port: Port, count: number): void {
    const lengths = port.rxLengths;
    let off = port.slotPacket(0);
    port.counters.values[RX_BATCHES]! += 1;
    this.flows.tick();
    const link = port.link;
    for (let i = 0; i < count; i++, off += port.slotSize) {
      let drop: number;
      if (link === null) drop = this.process(port, off, lengths[i]!, false);
      else {
        // The frame's header sits just before the packet; ARP and the rest stay in the link.
        const kind = link.receive(off - ETHERNET_HEADER_LEN, lengths[i]!);
        if (kind !== Rx.IPV4 && kind !== Rx.IPV4_LINK_GROUP) continue;
        drop = this.process(port, off, lengths[i]! - ETHERNET_HEADER_LEN, kind === Rx.IPV4_LINK_GROUP);
      }
      if (drop >= 0) port.counters.drop(drop);
    }
    this.output.flushAll();
  }

  /**
   * One packet; returns a Drop reason, or −1 when it was forwarded or
   * consumed. `linkGroup`: it came in a link-layer broadcast or multicast
   * frame — for the router only, never forwarded (RFC 1812 §5.3.4).
   */
  process(ingress: Port, off: number, len: number, linkGroup = false): number {
    const c = ingress.counters.values;
    c[RX_PACKETS]! += 1;
    c[RX_BYTES]! += len;
    if (ingress.state === 'blocked' || ingress.state === 'down') return Drop.PORT_BLOCKED;

    const ip = this.ip.attach(this.output.arena.bytes, off, len);
    const check = ip.validate();
    if (check !== Ipv4Check.OK) return CHECK_TO_DROP[check]!;

    // RFC 1812 §4.2.2.11, §5.3.7: sources no packet may carry, to the router or through it.
    const src = ip.src;
    const srcDrop = this.addrs.sourceDrop(src);
    if (srcDrop >= 0) return srcDrop;
    const withOptions = ip.buf[off] !== PLAIN_IPV4;
    if (withOptions) {
      const drop = this.options.check(ingress, ip);
      if (drop >= 0) return drop;
    }

    for (let i = 0; i < this.rewriters.length; i++) {
      const drop = this.rewriters[i]!.rewrite(ingress, ip);
      if (drop >= 0) return drop;
    }

    let dst = ip.dst;
    if (this.addrs.isLocal(dst)) {
      // A source route that goes on makes the router a hop, not the destination (§5.2.4.1).
      if (!withOptions || !this.options.pendingSourceRoute || !this.addrs.isOwn(dst) || !this.options.sourceRouteHop(ip)) {
        return this.local.deliver(ingress, ip, withOptions);
      }
      dst = ip.dst;
    } else if (withOptions && this.options.strictTransit) {
      // RFC 1812 §5.2.2: a strict source route reached a router it does not name.
      this.error(IcmpType.PARAMETER_PROBLEM, 0, DST_FIELD << 24, ingress, ip);
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

    // A strict source route's next hop must be on a connected network (RFC 791; RFC 1812 §4.3.3.1 code 5).
    const sourceRouted = withOptions && this.options.isSourceRouteHop;
    if (sourceRouted && this.options.strictHop) {
      const nh = this.fib.lookup(dst);
      if (nh === NO_ROUTE || this.fib.gatewayOf(nh) !== 0) {
        this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED, 0, ingress, ip);
        return Drop.SOURCE_ROUTE_FAILED;
      }
    }

    let egress = -1;
    let gateway = 0;
    for (let i = 0; i < this.selectors.length; i++) {
      const s = this.selectors[i]!;
      egress = s.select(ingress, ip);
      if (egress >= 0) {
        gateway = s.nextHop;
        break;
      }
    }
    if (egress < 0) {
      const nh = this.fib.lookup(dst);
      if (nh === NO_ROUTE) {
        if (sourceRouted) {
          this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.SOURCE_ROUTE_FAILED, 0, ingress, ip);
          return Drop.SOURCE_ROUTE_FAILED;
        }
        this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.NET, 0, ingress, ip);
        return Drop.NO_ROUTE;
      }
      egress = this.fib.portOf(nh);
      gateway = this.fib.gatewayOf(nh);
    }
    // Flows already on a draining port stay on it (and keep that port's next hop).
    egress = this.flows.track(ip, egress, gateway);
    gateway = this.flows.nextHop;
    const out = this.ports[egress]!;

    const ttl = ip.ttl;
    if (ttl <= 1) {
      this.error(IcmpType.TIME_EXCEEDED, 0, 0, ingress, ip);
      return Drop.TTL_EXPIRED;
    }
    const total = ip.totalLength;
    if (total > out.mtu && ip.dontFragment) {
      this.error(IcmpType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, out.mtu, ingress, ip);
      return Drop.FRAG_NEEDED;
    }
    if (withOptions) {
      // Options change with the TTL: one full checksum instead of two incremental updates.
      this.options.forward(ip, out);
      ip.ttl = ttl - 1;
      ip.fillChecksum();
    } else {
      ip.decrementTtl();
    }
    return this.output.send(out, off, total, gateway || ip.dst);
  }

  /**
   * An ICMP error about a packet the rewriters have seen: they put it back
   * first. A reply the NAT gave the VIP's source would send the error to
   * the router itself, and a backend's stack (PMTUD, traceroute) or a
   * client's matches an error to its socket by the datagram it sent.
   */
  private error(type: number, code: number, param: number, ingress: Port, ip: Ipv4View): void {
    for (let i = this.rewriters.length - 1; i >= 0; i--) this.rewriters[i]!.undo(ip);
    this.icmp.send(type, code, param, ingress, ip);
  }
}
