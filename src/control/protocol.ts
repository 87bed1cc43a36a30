// The narrow core interface of the control plane (in the spirit of BIRD's
// nest/proto split): what a routing protocol — or any other part that plugs
// into a router — gets from the router, and nothing else. A protocol sees
// ports through PortView, puts routes into the RIB through its own
// RouteChannel (under its own source and administrative distance), reads
// what the RIB selected for redistribution, sends and receives its packets
// through PacketIo, and keeps time with a Clock. It never touches the RIB,
// the FIB, the packet arena or the packet path directly, so it can be run
// and tested without a Router.
import type { Logger } from 'pino';
import type { Ipv4View } from '../wire/ipv4.js';
import type { Clock } from './clock.js';
import type { NeighbourLiveness } from './liveness.js';
import type { PortView } from './port-view.js';

export type { PortState, PortView } from './port-view.js';

/** What a protocol offers the RIB for one prefix. */
export interface RouteOffer {
  prefix: number;
  len: number;
  port: number;
  /** 0 = on-link. */
  nextHop: number;
  metric: number;
}

/** A protocol's own door into the RIB; every route it imports carries its source. */
export interface RouteChannel {
  readonly source: string;
  readonly distance: number;
  /** Returns the route's id. */
  import(route: RouteOffer, cause?: string): number;
  update(id: number, change: { metric?: number; nextHop?: number }, cause?: string): void;
  withdraw(id: number, cause?: string): void;
}

/** A route the RIB selected (what a protocol may redistribute). */
export interface SelectedRoute {
  readonly prefix: number;
  readonly len: number;
  readonly port: number;
  readonly nextHop: number;
  readonly metric: number;
  readonly source: string;
}

export interface RouteTableView {
  /** The selected route of every prefix whose source is one of `sources`. */
  selected(sources: readonly string[]): SelectedRoute[];
  /** Called after the selected route of a prefix changed (`before`/`after`: null when none); returns the unsubscribe. */
  onChange(listener: (before: SelectedRoute | null, after: SelectedRoute | null) => void): () => void;
}

/** Receives a datagram for the router (valid only during the call); returns a Drop reason, or −1 if taken. */
export type PacketReceiver = (port: PortView, ip: Ipv4View) => number;
export type UdpReceiver = PacketReceiver;

export interface UdpHeader {
  dst: number;
  srcPort: number;
  dstPort: number;
  ttl: number;
  tos: number;
}

export interface IpHeader {
  dst: number;
  /** IP protocol number (e.g. 89 for OSPF). */
  protocol: number;
  ttl: number;
  tos: number;
}

/** A protocol's packets: it writes payloads, the core wraps them in UDP/IPv4 (or IPv4) and sends them. */
export interface PacketIo {
  listenUdp(port: number, receiver: PacketReceiver): void;
  /** Room for a UDP payload of up to `maxLen` bytes; write it at `off` in `bytes`, then sendUdp(). */
  udpPayload(maxLen: number): { bytes: Uint8Array; off: number };
  /** Send the payload written at `off` (from udpPayload) now, from the port's address; false if the port is mute. */
  sendUdp(port: PortView, off: number, len: number, header: UdpHeader): boolean;
  /** Datagrams of an IP protocol for the router (unicast to it, or link-local multicast such as 224.0.0.5). */
  listenIp(protocol: number, receiver: PacketReceiver): void;
  /** Room for an IP payload of up to `maxLen` bytes; write it at `off`, then sendIp(). */
  ipPayload(maxLen: number): { bytes: Uint8Array; off: number };
  /** Send the IP payload written at `off` (from ipPayload) now, from the port's address; false if the port is mute. */
  sendIp(port: PortView, off: number, len: number, header: IpHeader): boolean;
  /** Whether `addr` is one of the router's own addresses. */
  isOwnAddress(addr: number): boolean;
}

/** What a protocol is given when it is made. */
export interface ProtocolContext {
  readonly routerName: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly ports: readonly PortView[];
  /** The port named `name`; an OperationError (not-found) if there is none. */
  port(name: string): PortView;
  readonly routes: RouteChannel;
  readonly table: RouteTableView;
  readonly packets: PacketIo;
  /** Neighbour liveness (BFD): absent in the protocol that provides it. */
  readonly liveness: NeighbourLiveness;
}

/** A part of the router with a life cycle: a protocol, or a daemon feature (triggers, NAT counters). */
export interface RouterPlugin {
  readonly name: string;
  start(): void;
  stop(): void;
  /**
   * The port was blocked: routes through it are already withdrawn. Last words
   * (a poisoned RIP update, BFD AdminDown) may still be sent now; the port
   * goes silent when every plugin has been told. Plugins are told in the
   * reverse order of their adding, the liveness provider last. Returns
   * true when it sent last words a neighbour should read before liveness
   * goes down: the router then gives it a moment (GOODBYE_MS).
   */
  portBlocked?(port: PortView): boolean | void;
  /** The port drains: new flows move elsewhere, traffic still arriving is forwarded. */
  portDraining?(port: PortView): void;
  /** The port carries traffic again. */
  portUnblocked?(port: PortView): void;
  /** A port was added by a config reload. */
  portAdded?(port: PortView): void;
  /** The port is gone (removed by a reload, or its device vanished): forget what lives on it. Nothing can be sent there. */
  portDown?(port: PortView): void;
  /** The port's device is back (the port itself was never removed). */
  portRestored?(port: PortView): void;
}
