// The packet path of one router, assembled in one place: which elements
// exist and in which order a received packet meets them.
//
//   receive batch → Forwarder:
//     validate IPv4 → invalid or own source → IP options (IHL > 5 only)
//     → steering [forwarding workers: a NAT flow's packet to its owner worker]
//     → rewriters [virtual-service NAT, when configured]
//     → local delivery (ICMP server: echo, timestamp, mask; TCP reset; UDP
//       to the control protocols) or a source-route hop → martians
//     → selectors [source policy rules] → FIB → flow pinning (drain)
//     → TTL → MTU/DF → options (record route, timestamp)
//     → Output (super-packets whole or cut, partial checksums kept or
//       finished, fragmentation, transmit queues; coalescing at the flush)
//   ICMP errors are built by IcmpErrors and routed back through Output.
//   Each packet carries its offload word (wire/virtio-net.ts) beside its
//   (offset, length): 0 for an ordinary packet.
//
// Everything works in one PacketArena: the ports' receive slots and a
// scratch ring for packets the router builds itself.
import type { RouterConfig } from '../config/router-config.js';
import { PacketArena } from '../packet/arena.js';
import { Drop } from '../packet/drops.js';
import { EthernetLink } from '../ports/ethernet/ethernet-link.js';
import { Port } from '../ports/port.js';
import type { FibLookup } from '../routing/fib.js';
import { RouterAddresses } from './addresses.js';
import { BatchClock } from './batch-clock.js';
import { FlowTable } from './flow-table.js';
import { Forwarder } from './forwarder.js';
import { IcmpErrors } from './icmp-errors.js';
import { IcmpServer } from './icmp-server.js';
import { OptionProcessing } from './ip-options.js';
import { LocalDelivery, type LocalSink } from './local-delivery.js';
import { Ipv4View } from '../wire/ipv4.js';
import { PLAIN_IPV4 } from './ip-options.js';
import { REASSEMBLY_BYTES, Reassembly } from './reassembly.js';
import { VirtualServiceNat } from './nat.js';
import { natSnapshot, type NatSnapshot } from './nat-snapshot.js';
import { Output } from './output.js';
import { PolicyTable, type PolicyRule } from './policy.js';
import { shareOf } from './token-bucket.js';

/** Room for packets the router builds itself (ICMP, fragments, BFD, RIP). */
const ARENA_SCRATCH = 1 << 20;

/** Ports a reload may add beyond the first config's (their receive slots are reserved up front). */
export const SPARE_PORTS = 16;
/** The MTU spare port slots are sized for. */
export const SPARE_MTU = 9000;

/**
 * The arena for a router with these ports: every port's receive slots
 * (64-byte aligned) after the scratch ring, room for SPARE_PORTS more
 * (untouched memory of a large ArrayBuffer costs nothing until used), then
 * reassembly.
 */
export function arenaFor(config: RouterConfig, extraBytes = 0): PacketArena {
  // A port's receive slots (64 KB each for a port in offload mode: 4.2 MB
  // per port, touched only as far as super-packets arrive), and an Ethernet
  // port's link layer (control frames, the hold pool); 64-byte aligned.
  const portBytes = (mtu: number, ethernet: boolean, superSlots: boolean) =>
    Port.rxBytesFor(mtu, superSlots) + 64 + (ethernet ? EthernetLink.regionBytes({ mtu }) + 64 : 0);
  const slots = config.ports.reduce((n, p) => n + portBytes(p.mtu, p.type === 'ethernet', p.offload), 0);
  const spare = SPARE_PORTS * Math.max(portBytes(SPARE_MTU, true, false), portBytes(SPARE_MTU, true, true));
  return new PacketArena(ARENA_SCRATCH + slots + spare + REASSEMBLY_BYTES + (extraBytes > 0 ? extraBytes + 64 : 0), ARENA_SCRATCH);
}

/** What a reload may change on the transit path besides policy and virtual services. */
export type TransitSettings = Pick<RouterConfig, 'icmpRateLimit' | 'drainIdleTimeout'>;

export class PacketPath {
  /** Read once per receive batch; what the per-packet rate limits go by. */
  readonly clock = new BatchClock();
  readonly output: Output;
  readonly addresses: RouterAddresses;
  readonly icmp: IcmpErrors;
  readonly options: OptionProcessing;
  readonly server: IcmpServer;
  readonly reassembly: Reassembly;
  readonly local: LocalDelivery;
  readonly flows: FlowTable;
  readonly policy: PolicyTable;
  /** The virtual-service NAT, when the config has virtual services. */
  nat: VirtualServiceNat | null = null;
  readonly forwarder: Forwarder;
  /** Told of new policy rules (the router passes them on to forwarding workers). */
  onPolicy: ((rules: RouterConfig['policy']) => void) | null = null;
  /** Told of new transit settings (passed on to forwarding workers, as the policy is). */
  onSettings: ((settings: TransitSettings) => void) | null = null;
  /** Told of new virtual services (passed on to forwarding workers: with workers the NAT runs in them). */
  onVirtualServices: ((services: RouterConfig['virtualServices']) => void) | null = null;
  private readonly handedOver = new Ipv4View();
  /** Threads whose ICMP error buckets share the configured limit (the control thread and the workers). */
  private readonly icmpShares: number;

  /**
   * `now`: the wall clock for IP and ICMP timestamps (ms since the epoch).
   * `localSink`: where packets for the router go instead of local delivery
   * (a forwarding worker hands them to the control thread).
   */
  constructor(readonly arena: PacketArena, readonly ports: readonly Port[], fib: FibLookup, config: RouterConfig, now: () => number = Date.now, localSink?: LocalSink) {
    this.output = new Output(arena, ports, fib);
    this.addresses = new RouterAddresses(ports);
    // With forwarding workers every thread sends ICMP errors from its own bucket: each gets an equal share.
    this.icmpShares = config.workers > 0 ? config.workers + 1 : 1;
    this.icmp = new IcmpErrors(this.output, shareOf(config.icmpRateLimit, this.icmpShares), this.clock);
    this.options = new OptionProcessing(this.addresses, this.icmp, now);
    this.server = new IcmpServer(this.addresses, this.output, this.options, config.replyRateLimit, this.clock, now);
    this.reassembly = new Reassembly(arena);
    this.local = new LocalDelivery(this.addresses, this.server, this.icmp, this.reassembly, this.options, this.output);
    this.flows = new FlowTable(ports, config.drainIdleTimeout * 1000, this.clock);
    this.policy = new PolicyTable(ports);
    this.setPolicy(config.policy);
    this.forwarder = new Forwarder(ports, fib, [], [this.policy], this.output, localSink ?? this.local, this.icmp, this.flows, this.addresses, this.options, this.clock);
    this.setVirtualServices(config.virtualServices);
  }

  /**
   * A packet for the router that a forwarding worker took (checked there up
   * to local delivery): into the scratch ring and delivered. A Drop reason,
   * or −1.
   */
  deliverHandedOver(port: Port, packet: Uint8Array): number {
    this.clock.tick();
    const off = this.output.scratch(packet.length);
    this.arena.bytes.set(packet, off);
    const ip = this.handedOver.attach(this.arena.bytes, off, packet.length);
    if (ip.validate() !== 0) return Drop.TRUNCATED;
    const withOptions = packet[0] !== PLAIN_IPV4;
    if (withOptions) {
      // The option state local delivery answers from (record route, timestamps).
      const drop = this.options.check(port, ip);
      if (drop >= 0) return drop;
    }
    return this.local.deliver(port, ip, withOptions);
  }

  /** The source-policy rules, in order (rules name their egress port; ports are looked up by name). */
  setPolicy(rules: RouterConfig['policy']): void {
    this.onPolicy?.(rules);
    this.policy.replace(rules.map((rule) => ({ ...rule, egress: this.portNamed(rule.port) })));
  }

  /** One rule more, at `at` in the order (forwarding workers are given the new list). */
  addPolicyRule(rule: RouterConfig['policy'][number], at: number): void {
    this.policy.add({ ...rule, egress: this.portNamed(rule.port) }, at);
    this.onPolicy?.(this.policyRules());
  }

  /** Remove the rule `name` (forwarding workers are given the new list); undefined if there is none. */
  removePolicyRule(name: string): PolicyRule | undefined {
    const gone = this.policy.remove(name);
    if (gone) this.onPolicy?.(this.policyRules());
    return gone;
  }

  /** The rules as configured (without their port indices). */
  private policyRules(): RouterConfig['policy'] {
    return this.policy.list().map(({ rule: { egress: _egress, ...rule } }) => rule);
  }

  private portNamed(name: string): number {
    return this.ports.findIndex((p) => p.name === name && !p.removed);
  }

  /** This thread's NAT now, with up to `limit` flows (ages from now, not from the last batch); null without virtual services. */
  natSnapshot(limit: number): NatSnapshot | null {
    if (!this.nat) return null;
    this.clock.tick();
    return natSnapshot(this.nat, limit);
  }

  /** A reload's new ICMP error rate limit and drain idle timeout. */
  setTransitSettings(settings: TransitSettings): void {
    this.onSettings?.(settings);
    this.icmp.setLimit(shareOf(settings.icmpRateLimit, this.icmpShares));
    this.flows.idleMs = settings.drainIdleTimeout * 1000;
  }

  /** The virtual services: a NAT element at the head of the path when there are any; their addresses are the router's own. */
  setVirtualServices(services: RouterConfig['virtualServices']): void {
    this.onVirtualServices?.(services);
    // The NAT's per-flow clock is the flow table's per-batch coarse one.
    this.nat = services.length > 0 ? new VirtualServiceNat(services, this.clock) : null;
    this.forwarder.rewriters = this.nat ? [this.nat] : [];
    // A VIP is the router's own address: ping to it is answered.
    this.addresses.setExtra(services.map((s) => s.address));
  }
}
