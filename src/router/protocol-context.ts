// The ProtocolContext a router hands each protocol: its route channel
// (routes in the RIB under the protocol's own source and distance), a view of
// what the RIB selected, UDP in and out through the packet path, the ports,
// the clock and the log.
import type { NeighbourLiveness } from '../control/liveness.js';
import type { IpHeader, PacketIo, ProtocolContext, RouteChannel, RouteTableView, SelectedRoute, UdpHeader } from '../control/protocol.js';
import { IPV4_HEADER_LEN, writeIpv4Header } from '../wire/ipv4.js';
import { UDP_HEADER_LEN, buildUdpDatagram } from '../wire/udp.js';
import type { Logger } from 'pino';
import type { Clock } from '../control/clock.js';
import type { PacketPath } from '../dataplane/packet-path.js';
import type { Port } from '../ports/port.js';
import type { FibChange, Rib, Route } from '../routing/rib.js';

/** What the context is made of: the router's parts a protocol may reach through it. */
export interface ContextHost {
  readonly name: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly ports: readonly Port[];
  readonly rib: Rib;
  readonly path: PacketPath;
  portByName(name: string): Port;
  onFibChange(listener: (c: FibChange) => void): () => void;
}

const HEADERS = IPV4_HEADER_LEN + UDP_HEADER_LEN;

const selectedRoute = (r: Route): SelectedRoute => ({ prefix: r.prefix, len: r.len, port: r.port, nextHop: r.nextHop, metric: r.metric, source: r.source });

export function makeProtocolContext(router: ContextHost, source: string, distance: number, liveness: () => NeighbourLiveness): ProtocolContext {
  const rib = router.rib;
  const routes: RouteChannel = {
    source,
    distance,
    import: (r, cause = `${source}-added`) => rib.addFrom(r, source, distance, cause).id,
    update: (id, change, cause = `${source}-update`) => rib.update(id, change, cause),
    withdraw: (id, cause = `${source}-removed`) => void rib.remove(id, cause),
  };
  const table: RouteTableView = {
    selected: (sources) => [...rib.selected()].filter((r) => sources.includes(r.source)).map(selectedRoute),
    onChange: (listener) => router.onFibChange((c) => listener(c.before && selectedRoute(c.before), c.after && selectedRoute(c.after))),
  };
  const { output, local } = router.path;
  const packets: PacketIo = {
    listenUdp: (udpPort, receiver) => local.onUdp(udpPort, receiver),
    udpPayload(maxLen) {
      return { bytes: output.arena.bytes, off: output.scratch(HEADERS + maxLen) + HEADERS };
    },
    sendUdp(port, off, len, h: UdpHeader) {
      const p = router.ports[port.index]!;
      const total = buildUdpDatagram(output.arena.bytes, off - HEADERS, p.address, h.dst, h.srcPort, h.dstPort, len, h.ttl, h.tos);
      return output.sendNow(p, off - HEADERS, total, h.dst);
    },
    listenIp: (protocol, receiver) => local.onIpProtocol(protocol, receiver),
    ipPayload(maxLen) {
      return { bytes: output.arena.bytes, off: output.scratch(IPV4_HEADER_LEN + maxLen) + IPV4_HEADER_LEN };
    },
    sendIp(port, off, len, h: IpHeader) {
      const p = router.ports[port.index]!;
      const at = off - IPV4_HEADER_LEN;
      writeIpv4Header(output.arena.bytes, at, IPV4_HEADER_LEN + len, h.protocol, p.address, h.dst, h.ttl, h.tos);
      return output.sendNow(p, at, IPV4_HEADER_LEN + len, h.dst);
    },
    isOwnAddress: (addr) => local.isOwnAddress(addr),
  };
  return {
    routerName: router.name,
    log: router.log,
    clock: router.clock,
    ports: router.ports,
    port: (name) => router.portByName(name),
    routes,
    table,
    packets,
    get liveness() {
      return liveness();
    },
  };
}
