// Packets for the router itself: its port addresses, their subnet
// broadcasts, 255.255.255.255 and link-local multicast (224.0.0.0/24, where
// RIP lives) — RFC 1812 §5.2.3. ICMP queries go to the ICMP server (echo,
// timestamp, address mask); UDP to the control protocols by port (BFD 3784,
// RIP 520); TCP gets a reset; the rest is refused with ICMP unreachable
// (RFC 1122 §4.1.3.1 port, RFC 1812 §4.3.3.1 protocol) — never about a
// broadcast (§4.3.2.7).
import { Drop } from '../packet/drops.js';
import type { RouterAddresses } from './addresses.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { IcmpServer } from './icmp-server.js';
import type { Port } from '../ports/port.js';
import { IcmpType, UnreachCode } from '../wire/icmp.js';
import { IpProto, Ipv4View } from '../wire/ipv4.js';
import { PLAIN_IPV4, type OptionProcessing } from './ip-options.js';
import type { Output } from './output.js';
import { ReassemblyResult, type Reassembly } from './reassembly.js';

/** Receives a UDP datagram for the router; returns a Drop reason, or -1 if taken. */
export type UdpHandler = (port: Port, ip: Ipv4View) => number;

/** Where the forwarder hands packets for the router itself (LocalDelivery; a forwarding worker's hand-over). */
export interface LocalSink {
  /** A Drop reason, or −1 when taken. */
  deliver(port: Port, ip: Ipv4View, withOptions?: boolean): number;
}

export class LocalDelivery implements LocalSink {
  private readonly udp = new Map<number, UdpHandler>();
  /** Handlers of other IP protocols (OSPF: 89), by protocol number. */
  private readonly protocols = new Map<number, UdpHandler>();
  /** The view of a datagram reassembly made whole. */
  private readonly whole = new Ipv4View();

  constructor(
    readonly addresses: RouterAddresses,
    private readonly server: IcmpServer,
    private readonly icmp: IcmpErrors,
    private readonly reassembly: Reassembly,
    private readonly options: OptionProcessing,
    private readonly output: Output,
  ) {}

  onUdp(port: number, handler: UdpHandler): void {
    this.udp.set(port, handler);
  }

  onIpProtocol(protocol: number, handler: UdpHandler): void {
    this.protocols.set(protocol, handler);
  }

  /** Whether `addr` is one of the router's unicast addresses. */
  isOwnAddress(addr: number): boolean {
    return this.addresses.isOwn(addr);
  }

  /** Returns a Drop reason, or -1 when the packet was consumed. `withOptions`: parsed by the option element. */
  deliver(port: Port, ip: Ipv4View, withOptions = false): number {
    if (ip.isFragment) return this.reassemble(port, ip);
    switch (ip.protocol) {
      case IpProto.ICMP:
        return this.server.answer(port, ip, withOptions);
      case IpProto.UDP: {
        if (ip.payloadLength < 8) return Drop.TRUNCATED;
        const handler = this.udp.get(ip.dstPort);
        if (handler) return handler(port, ip);
        if (this.addresses.isOwn(ip.dst)) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PORT, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
      }
      case IpProto.TCP:
        return this.addresses.isOwn(ip.dst) ? this.server.reset(ip) : Drop.LOCAL_UNHANDLED;
      default: {
        const handler = this.protocols.get(ip.protocol);
        if (handler) return handler(port, ip);
        // IGMP reports and the like arrive from kernel neighbours: counted, not answered.
        if (this.addresses.isOwn(ip.dst)) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
      }
    }
  }

  /**
   * A fragment for the router (RFC 1812 §4.2.2.8: reassembled, then
   * delivered like any datagram). Only for its unicast addresses.
   */
  private reassemble(port: Port, ip: Ipv4View): number {
    if (!this.addresses.isOwn(ip.dst)) return Drop.LOCAL_UNHANDLED;
    const len = this.reassembly.add(ip);
    if (len === ReassemblyResult.PENDING) return -1;
    if (len < 0) return Drop.REASSEMBLY_FAILED;
    // Into the scratch ring: a reply built in place is queued until the batch is flushed.
    const out = this.output.scratch(len);
    this.reassembly.take(out);
    const whole = this.whole.attach(this.output.arena.bytes, out, len);
    const withOptions = whole.buf[out] !== PLAIN_IPV4;
    // The whole datagram carries the first fragment's options: parse them for it.
    if (withOptions && !this.options.opts.parse(whole.buf, out)) return Drop.BAD_OPTIONS;
    return this.deliver(port, whole, withOptions);
  }
}
