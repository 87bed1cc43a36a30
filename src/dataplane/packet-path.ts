// The packet path of one router, assembled in one place: which elements
// exist and in which order a received packet meets them.
//
//   receive batch → Forwarder:
//     validate IPv4 → invalid or own source → IP options (IHL > 5 only)
//     → rewriters [virtual-service NAT, when configured]
//     → local delivery (ICMP server: echo, timestamp, mask; TCP reset; UDP
//       to the control protocols) or a source-route hop → martians
//     → selectors [source policy rules] → FIB → flow pinning (drain)
//     → TTL → MTU/DF → options (record route, timestamp)
//     → Output (fragmentation, transmit queues)
//   ICMP errors are built by IcmpErrors and routed back through Output.
//
// Everything works in one PacketArena: the ports' receive slots and a
// scratch ring for packets the router builds itself.
import type { RouterConfig } from '../config/router-config.js';
import { PacketArena } from '../packet/arena.js';
import { Port } from '../ports/port.js';
import type { Fib } from '../routing/fib.js';
import { RouterAddresses } from './addresses.js';
import { FlowTable } from './flow-table.js';
import { Forwarder } from './forwarder.js';
import { IcmpErrors } from './icmp-errors.js';
import { IcmpServer } from './icmp-server.js';
import { OptionProcessing } from './ip-options.js';
import { LocalDelivery } from './local-delivery.js';
import { REASSEMBLY_BYTES, Reassembly } from './reassembly.js';
import { VirtualServiceNat } from './nat.js';
import { Output } from './output.js';
import { PolicyTable } from './policy.js';

/** Room for packets the router builds itself (ICMP, fragments, BFD, RIP). */
const ARENA_SCRATCH = 1 << 20;

/** The arena for a router with these ports: every port's receive slots (64-byte aligned) after the scratch ring, then reassembly. */
export function arenaFor(config: RouterConfig): PacketArena {
  const slots = config.ports.reduce((n, p) => n + Port.rxBytesFor(p.mtu) + 64, 0);
  return new PacketArena(ARENA_SCRATCH + slots + REASSEMBLY_BYTES, ARENA_SCRATCH);
}

export class PacketPath {
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
  readonly nat: VirtualServiceNat | null;
  readonly forwarder: Forwarder;

  /** `now`: the wall clock for IP and ICMP timestamps (ms since the epoch). */
  constructor(readonly arena: PacketArena, readonly ports: readonly Port[], fib: Fib, config: RouterConfig, now: () => number = Date.now) {
    this.output = new Output(arena, ports, fib);
    this.addresses = new RouterAddresses(ports);
    this.icmp = new IcmpErrors(this.output, config.icmpRateLimit);
    this.options = new OptionProcessing(this.addresses, this.icmp, now);
    this.server = new IcmpServer(this.addresses, this.output, this.options, config.replyRateLimit, now);
    this.reassembly = new Reassembly(arena);
    this.local = new LocalDelivery(this.addresses, this.server, this.icmp, this.reassembly, this.options, this.output);
    this.flows = new FlowTable(ports, config.drainIdleTimeout * 1000);
    this.policy = new PolicyTable(ports);
    for (const rule of config.policy) this.policy.add({ ...rule, egress: ports.findIndex((p) => p.name === rule.port) });
    // The NAT's per-flow clock is the flow table's per-batch coarse one.
    this.nat = config.virtualServices.length > 0 ? new VirtualServiceNat(config.virtualServices, this.flows) : null;
    // A VIP is the router's own address: ping to it is answered.
    for (const s of config.virtualServices) this.addresses.add(s.address);
    this.forwarder = new Forwarder(ports, fib, this.nat ? [this.nat] : [], [this.policy], this.output, this.local, this.icmp, this.flows,
      this.addresses, this.options);
  }
}
