// The packet path, per received batch and per packet (RFC 1812):
//   validate IPv4 header → rewriters (NAT) → local delivery? → martian checks
//   → egress choice (selectors: source policy; else the FIB: longest prefix,
//   best metric) → drain pinning → TTL → MTU/DF → output.
// Which rewriters and selectors run is decided in one place (packet-path.ts).
// Works in place on the arena's bytes through one reused view: no allocation
// per packet. Every drop is counted by reason on the ingress port.
import { Drop } from '../packet/drops.js';
import type { FlowTable } from './flow-table.js';
import type { IcmpErrors } from './icmp-errors.js';
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
  /** For `route lookup --from`: what select() would decide for a packet src → dst. */
  explain?(src: number, dst: number): { port: number; by: string } | null;
}

/**
 * A step that may rewrite a packet in place before anything else looks at
 * its addresses (virtual-address NAT). Returns a Drop reason, or −1 to go on.
 */
export interface PacketRewriter {
  rewrite(ingress: Port, ip: Ipv4View): number;
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
  ) {}

  /** A batch of `count` packets sits in `port`'s receive slots. */
  receive(port: Port, count: number): void {
    const lengths = port.rxLengths;
    let off = port.rxBase;
    port.counters.values[RX_BATCHES]! += 1;
    this.flows.tick();
    for (let i = 0; i < count; i++, off += port.slotSize) {
      const drop = this.process(port, off, lengths[i]!);
      if (drop >= 0) port.counters.drop(drop);
    }
    this.output.flushAll();
  }

  /** One packet; returns a Drop reason, or −1 when it was forwarded or consumed. */
  process(ingress: Port, off: number, len: number): number {
    const c = ingress.counters.values;
    c[RX_PACKETS]! += 1;
    c[RX_BYTES]! += len;
    if (ingress.state === 'blocked' || ingress.state === 'down') return Drop.PORT_BLOCKED;

    const ip = this.ip.attach(this.output.arena.bytes, off, len);
    const check = ip.validate();
    if (check !== Ipv4Check.OK) return CHECK_TO_DROP[check]!;

    for (let i = 0; i < this.rewriters.length; i++) {
      const drop = this.rewriters[i]!.rewrite(ingress, ip);
      if (drop >= 0) return drop;
    }

    const dst = ip.dst;
    if (this.local.isLocal(dst)) return this.local.deliver(ingress, ip);

    const src = ip.src;
    const srcTop = src >>> 24;
    if (srcTop === 0 || srcTop === 127 || srcTop >= 224) return Drop.MARTIAN_SOURCE;
    const dstTop = dst >>> 24;
    if (dstTop >= 224 && dstTop < 240) return Drop.MULTICAST_NOT_ROUTED;
    if (dstTop === 0 || dstTop === 127 || dstTop >= 240) return Drop.MARTIAN_DESTINATION;

    let egress = -1;
    for (let i = 0; i < this.selectors.length; i++) {
      egress = this.selectors[i]!.select(ingress, ip);
      if (egress >= 0) break;
    }
    if (egress < 0) {
      const nh = this.fib.lookup(dst);
      if (nh === NO_ROUTE) {
        this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.NET, 0, ingress, ip);
        return Drop.NO_ROUTE;
      }
      egress = this.fib.portOf(nh);
    }
    // Flows already on a draining port stay on it.
    egress = this.flows.track(ip, egress);
    const out = this.ports[egress]!;

    if (ip.ttl <= 1) {
      this.icmp.send(IcmpType.TIME_EXCEEDED, 0, 0, ingress, ip);
      return Drop.TTL_EXPIRED;
    }
    const total = ip.totalLength;
    if (total > out.mtu && ip.dontFragment) {
      this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.FRAG_NEEDED, out.mtu, ingress, ip);
      return Drop.FRAG_NEEDED;
    }
    ip.decrementTtl();
    return this.output.send(out, off, total);
  }
}
