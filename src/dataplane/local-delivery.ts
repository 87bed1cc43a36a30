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
import { IpProto, type Ipv4View } from '../wire/ipv4.js';

/** Receives a UDP datagram for the router; returns a Drop reason, or -1 if taken. */
export type UdpHandler = (port: Port, ip: Ipv4View) => number;

export class LocalDelivery {
  private readonly udp = new Map<number, UdpHandler>();

  constructor(
    readonly addresses: RouterAddresses,
    private readonly server: IcmpServer,
    private readonly icmp: IcmpErrors,
  ) {}

  onUdp(port: number, handler: UdpHandler): void {
    this.udp.set(port, handler);
  }

  isLocal(dst: number): boolean {
    return this.addresses.isLocal(dst);
  }

  /** Whether `addr` is one of the router's unicast addresses. */
  isOwnAddress(addr: number): boolean {
    return this.addresses.isOwn(addr);
  }

  /** Returns a Drop reason, or -1 when the packet was consumed. `withOptions`: parsed by the option element. */
  deliver(port: Port, ip: Ipv4View, withOptions = false): number {
    // The router reassembles nothing: its own protocols never fragment.
    if (ip.isFragment) return Drop.LOCAL_UNHANDLED;
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
      default:
        // IGMP reports and the like arrive from kernel neighbours: counted, not answered.
        if (this.addresses.isOwn(ip.dst)) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
    }
  }
}
