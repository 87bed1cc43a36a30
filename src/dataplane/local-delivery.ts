// Packets for the router itself: its port addresses, their subnet
// broadcasts, 255.255.255.255 and link-local multicast (224.0.0.0/24, where
// RIP lives). Answers ping; hands UDP to the control protocols by port
// (BFD 3784, RIP 520); refuses the rest with ICMP unreachable.
import { Drop } from '../packet/drops.js';
import type { IcmpErrors } from './icmp-errors.js';
import type { Output } from './output.js';
import type { Port } from '../ports/port.js';
import { IcmpType, UnreachCode, echoRequestToReply } from '../wire/icmp.js';
import { IpProto, type Ipv4View } from '../wire/ipv4.js';

/** Receives a UDP datagram for the router; returns a Drop reason, or -1 if taken. */
export type UdpHandler = (port: Port, ip: Ipv4View) => number;

export class LocalDelivery {
  private addresses = new Uint32Array(0);
  private readonly udp = new Map<number, UdpHandler>();
  /** Handlers of other IP protocols (OSPF: 89), by protocol number. */
  private readonly protocols = new Map<number, UdpHandler>();
  private extra: number[] = [];

  constructor(
    private readonly ports: readonly Port[],
    private readonly output: Output,
    private readonly icmp: IcmpErrors,
  ) {
    this.refresh();
  }

  /** The router's other unicast addresses (virtual service addresses, answering ping). */
  setExtraAddresses(addrs: readonly number[]): void {
    this.extra = addrs.map((a) => a >>> 0);
    this.refresh();
  }

  /** Recompute the local addresses after ports came or went. */
  refresh(): void {
    const live = this.ports.filter((p) => !p.removed);
    this.addresses = Uint32Array.from([...live.flatMap((p) => [p.address, p.broadcast]), ...this.extra]);
  }

  onUdp(port: number, handler: UdpHandler): void {
    this.udp.set(port, handler);
  }

  onIpProtocol(protocol: number, handler: UdpHandler): void {
    this.protocols.set(protocol, handler);
  }

  isLocal(dst: number): boolean {
    if (dst >>> 8 === 0xe00000 || dst === 0xffffffff) return true; // 224.0.0.0/24, broadcast
    const a = this.addresses;
    for (let i = 0; i < a.length; i++) if (a[i] === dst) return true;
    return false;
  }

  /** Whether `dst` is one of the router's unicast addresses. */
  isOwnAddress(dst: number): boolean {
    for (const p of this.ports) if (p.address === dst && !p.removed) return true;
    return this.extra.includes(dst);
  }

  /** Returns a Drop reason, or -1 when the packet was consumed. */
  deliver(port: Port, ip: Ipv4View): number {
    // The router reassembles nothing: its own protocols never fragment.
    if (ip.isFragment) return Drop.LOCAL_UNHANDLED;
    const unicast = this.isOwnAddress(ip.dst);
    switch (ip.protocol) {
      case IpProto.ICMP:
        if (unicast && echoRequestToReply(ip.buf, ip.off, ip.totalLength, ip.dst)) {
          return this.output.route(ip.off, ip.totalLength, ip.dst) ? -1 : Drop.NO_ROUTE;
        }
        return Drop.LOCAL_UNHANDLED;
      case IpProto.UDP: {
        if (ip.payloadLength < 8) return Drop.TRUNCATED;
        const handler = this.udp.get(ip.dstPort);
        if (handler) return handler(port, ip);
        if (unicast) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PORT, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
      }
      case IpProto.TCP:
        if (unicast) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PORT, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
      default: {
        const handler = this.protocols.get(ip.protocol);
        if (handler) return handler(port, ip);
        // IGMP reports and the like arrive from kernel neighbours: counted, not answered.
        if (unicast) this.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.PROTOCOL, 0, port, ip);
        return Drop.LOCAL_UNHANDLED;
      }
    }
  }
}
