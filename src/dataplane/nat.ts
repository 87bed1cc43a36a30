// Virtual-service NAT: the patent's second embodiment, virtual-address
// variant. The router owns the service address (VIP) and sends each flow to a
// backend on a private address chosen by the flow's source (the test
// appliance → server 2, everyone else → server 1): the destination is
// rewritten on the way in, the source on the way back. Ports are kept. IP and
// TCP/UDP checksums are updated incrementally (RFC 1624); a UDP checksum of 0
// ("none") stays 0.
//
// What is not translated, on purpose:
// - ICMP to a VIP: echo is answered by the router itself (the VIP is a local
//   address); anything else goes to local delivery like any other.
// - ICMP errors about NATed flows (e.g. port unreachable from a backend) pass
//   untranslated: the client sees them from the backend's private address
//   with the private address quoted inside, and ignores them. TCP recovers by
//   retransmission/timeouts; a UDP client waits for its own timeout.
// - Non-first fragments to a VIP carry no ports, so no flow can be found for
//   them: they are dropped (counted). Such datagrams never arrive whole;
//   TCP avoids fragments (MSS, PMTUD), UDP services must fit the MTU.
//   Non-first fragments from a backend pass untranslated for the same reason.
// - Traffic from a backend that belongs to no flow (the backend's own
//   lookups, pings, replies to direct connections) passes untouched.
// An ICMP error the router itself sends about a rewritten packet (TTL
// expired, fragmentation needed, no route) is about the packet as it
// arrived: undo() puts it back first, so the error goes to its sender (a
// backend, not the VIP) and quotes what that sender's stack can match.
import type { VirtualServiceConfig } from '../config/migration-config.js';
import { maskOf } from '../net/addr.js';
import type { Port } from '../ports/port.js';
import { IpProto, type Ipv4View } from '../wire/ipv4.js';
import { TCP_HEADER_LEN, TcpView, isBareSyn } from '../wire/tcp.js';
import { UDP_HEADER_LEN, UdpView } from '../wire/udp.js';
import { Drop } from '../packet/drops.js';
import type { PacketRewriter } from './forwarder.js';
import { NatFlowTable, type CoarseClock } from './nat-flows.js';
import { updatePartialChecksum32 } from './gso.js';
import { OFFLOAD_PARTIAL } from '../wire/virtio-net.js';

export const DEFAULT_NAT_CAPACITY = 65_536;

/** Offsets of the address fields rewrite() changes (for undo()). */
const SRC_ADDRESS = 12;
const DST_ADDRESS = 16;

export class VirtualServiceNat implements PacketRewriter {
  readonly flows: NatFlowTable;
  private readonly tcp = new TcpView();
  private readonly udp = new UdpView();
  /** The packet being rewritten has a partial L4 checksum. */
  private partial = false;

  // Addresses are int32 here, as in NatFlowTable (no boxing per packet).
  /** Per service: its virtual address and default backend. */
  private readonly vips: Int32Array;
  private readonly defaultBackend: Int32Array;
  /** Per service: its source rules ruleStart[s] … ruleEnd[s] − 1, in backend order. */
  private readonly ruleStart: Int32Array;
  private readonly ruleEnd: Int32Array;
  private readonly ruleNet: Int32Array;
  private readonly ruleMask: Int32Array;
  private readonly ruleBackend: Int32Array;
  /** Per backend (numbered across all services). */
  readonly backendAddress: Int32Array;
  readonly backendFlowsCreated: Float64Array;
  readonly backendPackets: Float64Array;

  packetsIn = 0;
  packetsOut = 0;
  /** Non-first fragments to a VIP, dropped. */
  fragmentsDropped = 0;
  /** TCP/UDP to a VIP too short to carry the header, dropped. */
  truncatedDropped = 0;
  /** A bare SYN reopened a closing flow's tuple. */
  synRestarts = 0;
  /** TCP/UDP from a backend address that matched no live flow, passed untouched. */
  returnUntranslated = 0;
  /** With forwarding workers: packets this thread read of a flow another worker owns, handed to that worker. */
  handedOff = 0;

  /** What rewrite() changed in the packet in hand, for undo(): the address field (0: nothing), from and to. */
  private changed = 0;
  private changedFrom = 0;
  private changedTo = 0;

  constructor(readonly services: readonly VirtualServiceConfig[], clock: CoarseClock, capacity = DEFAULT_NAT_CAPACITY) {
    if (services.length === 0) throw new RangeError('no virtual services');
    const backends = services.flatMap((s, si) => s.backends.map((b) => ({ ...b, service: si })));
    const rules = services.flatMap((_, si) => backends.flatMap((b, bi) => (b.service === si ? b.sources.map((p) => ({ net: p.addr, len: p.len, backend: bi })) : [])));
    this.vips = Int32Array.from(services, (s) => s.address | 0);
    this.defaultBackend = Int32Array.from(services, (_, si) => backends.findIndex((b) => b.service === si && b.sources.length === 0));
    if (this.defaultBackend.includes(-1)) throw new RangeError('every virtual service needs a backend without sources');
    this.ruleStart = new Int32Array(services.length);
    this.ruleEnd = new Int32Array(services.length);
    // Rules were listed service by service: each service's are contiguous.
    let r = 0;
    services.forEach((_, si) => {
      this.ruleStart[si] = r;
      while (r < rules.length && backends[rules[r]!.backend]!.service === si) r++;
      this.ruleEnd[si] = r;
    });
    this.ruleNet = Int32Array.from(rules, (r) => r.net & maskOf(r.len));
    this.ruleMask = Int32Array.from(rules, (r) => maskOf(r.len) | 0);
    this.ruleBackend = Int32Array.from(rules, (r) => r.backend);
    this.backendAddress = Int32Array.from(backends, (b) => b.address | 0);
    this.backendFlowsCreated = new Float64Array(backends.length);
    this.backendPackets = new Float64Array(backends.length);
    this.flows = new NatFlowTable(capacity, services.map((s) => s.idleTimeout * 1000), clock);
  }

  /** `word`: the packet's offload word — with OFFLOAD_PARTIAL, its L4 checksum field holds the pseudo-header sum. */
  rewrite(_ingress: Port, ip: Ipv4View, word = 0): number {
    this.changed = 0;
    const proto = ip.protocol;
    if (proto !== IpProto.TCP && proto !== IpProto.UDP) return -1;
    this.partial = (word & OFFLOAD_PARTIAL) !== 0;
    const dst = readI32(ip.buf, ip.off + 16);
    const vips = this.vips;
    for (let s = 0; s < vips.length; s++) if (vips[s] === dst) return this.inbound(s, ip, proto);
    const src = readI32(ip.buf, ip.off + 12);
    const backends = this.backendAddress;
    for (let b = 0; b < backends.length; b++) {
      if (backends[b] === src) {
        this.outbound(ip, proto);
        break;
      }
    }
    return -1;
  }

  /**
   * With `threads` forwarding workers: the one that owns the flow of this
   * packet, from what both its directions carry — protocol, client, client
   * port, service port (to a VIP: the source and its port, the destination
   * port; from a backend: the destination and its port, the source port) —
   * hashed with `seed`, the same in every worker. −1: no NAT flow's packet
   * (not TCP/UDP with ports; neither to a VIP nor from a backend), which any
   * thread handles as it comes.
   */
  ownerOf(ip: Ipv4View, threads: number, seed: number): number {
    const proto = ip.protocol;
    if ((proto !== IpProto.TCP && proto !== IpProto.UDP) || ip.fragmentOffset !== 0 || ip.payloadLength < 4) return -1;
    const b = ip.buf;
    const o = ip.off;
    const dst = readI32(b, o + 16);
    const vips = this.vips;
    for (let s = 0; s < vips.length; s++) {
      if (vips[s] === dst) return (ownerHash(seed, proto, readI32(b, o + 12), (ip.srcPort << 16) | ip.dstPort) >>> 1) % threads;
    }
    const src = readI32(b, o + 12);
    const backends = this.backendAddress;
    for (let i = 0; i < backends.length; i++) {
      if (backends[i] === src) return (ownerHash(seed, proto, dst, (ip.dstPort << 16) | ip.srcPort) >>> 1) % threads;
    }
    return -1;
  }

  /** The backend a new flow from `src` to service `s` goes to. */
  backendFor(s: number, src: number): number {
    src |= 0;
    for (let r = this.ruleStart[s]!, end = this.ruleEnd[s]!; r < end; r++) {
      if ((src & this.ruleMask[r]!) === this.ruleNet[r]) return this.ruleBackend[r]!;
    }
    return this.defaultBackend[s]!;
  }

  /** Client → VIP: find or make the flow, rewrite the destination to its backend. */
  private inbound(s: number, ip: Ipv4View, proto: number): number {
    if (ip.fragmentOffset !== 0) {
      this.fragmentsDropped++;
      return Drop.NAT_NO_FLOW;
    }
    if (ip.payloadLength < (proto === IpProto.TCP ? TCP_HEADER_LEN : UDP_HEADER_LEN)) {
      this.truncatedDropped++;
      return Drop.TRUNCATED;
    }
    const b = ip.buf;
    const o = ip.payloadOffset;
    const src = readI32(b, ip.off + 12);
    const vip = readI32(b, ip.off + 16);
    const srcPort = ip.srcPort;
    const dstPort = ip.dstPort;
    const tcpFlags = proto === IpProto.TCP ? b[o + 13]! : 0;
    const flows = this.flows;
    let e = flows.findInbound(proto, src, srcPort, vip, dstPort);
    if (e >= 0) {
      if (flows.isExpired(e)) {
        flows.expire(e);
        e = -1;
      } else if (isBareSyn(tcpFlags) && flows.isClosing(e)) {
        // A new connection on the tuple of one that is closing (client port reuse).
        flows.remove(e);
        this.synRestarts++;
        e = -1;
      }
    }
    if (e < 0) {
      const bi = this.backendFor(s, src);
      e = flows.create(s, bi, this.backendAddress[bi]!, proto, src, srcPort, vip, dstPort);
      if (e < 0) return Drop.NAT_NO_FLOW;
      this.backendFlowsCreated[bi]! += 1;
    }
    flows.touch(e, tcpFlags);
    const backend = flows.backend[e]!;
    ip.setDstIncremental(backend);
    this.adjustL4(proto, ip, vip, backend);
    this.remember(DST_ADDRESS, vip, backend);
    this.backendPackets[flows.backendIndex[e]!]! += 1;
    this.packetsIn++;
    return -1;
  }

  /** Backend → client: if it belongs to a flow, rewrite the source back to the VIP. */
  private outbound(ip: Ipv4View, proto: number): void {
    if (ip.fragmentOffset !== 0 || ip.payloadLength < (proto === IpProto.TCP ? TCP_HEADER_LEN : UDP_HEADER_LEN)) {
      this.returnUntranslated++;
      return;
    }
    const b = ip.buf;
    const o = ip.payloadOffset;
    const backend = readI32(b, ip.off + 12);
    const client = readI32(b, ip.off + 16);
    const srcPort = ip.srcPort;
    const dstPort = ip.dstPort;
    const flows = this.flows;
    const e = flows.findReturn(proto, backend, srcPort, client, dstPort);
    if (e < 0 || flows.isExpired(e)) {
      if (e >= 0) flows.expire(e);
      this.returnUntranslated++;
      return;
    }
    flows.touch(e, proto === IpProto.TCP ? b[o + 13]! : 0, true);
    const vip = flows.vip[e]!;
    ip.setSrcIncremental(vip);
    this.adjustL4(proto, ip, backend, vip);
    this.remember(SRC_ADDRESS, backend, vip);
    this.backendPackets[flows.backendIndex[e]!]! += 1;
    this.packetsOut++;
  }

  /** The packet in hand is dropped with an ICMP error: put back the address (and checksums) rewrite() changed. */
  undo(ip: Ipv4View): void {
    if (this.changed === 0) return;
    if (this.changed === SRC_ADDRESS) ip.setSrcIncremental(this.changedFrom);
    else ip.setDstIncremental(this.changedFrom);
    this.adjustL4(ip.protocol, ip, this.changedTo, this.changedFrom);
    this.changed = 0;
  }

  private remember(field: number, from: number, to: number): void {
    this.changed = field;
    this.changedFrom = from;
    this.changedTo = to;
  }

  /**
   * The pseudo-header changed with the address: fix the TCP/UDP checksum —
   * a partial one (offloads) holds the pseudo-header sum itself, so it takes
   * the change as it is rather than complemented.
   */
  private adjustL4(proto: number, ip: Ipv4View, from: number, to: number): void {
    if (this.partial) {
      const at = ip.payloadOffset + (proto === IpProto.TCP ? 16 : 6);
      const b = ip.buf;
      const c = updatePartialChecksum32((b[at]! << 8) | b[at + 1]!, from, to);
      b[at] = c >>> 8;
      b[at + 1] = c;
      return;
    }
    if (proto === IpProto.TCP) this.tcp.attach(ip.buf, ip.payloadOffset, ip.payloadLength).adjustForAddressChange(from, to);
    else this.udp.attach(ip.buf, ip.payloadOffset, ip.payloadLength).adjustForAddressChange(from, to);
  }
}

/** Seeded 32-bit mix of (protocol, client, client port << 16 | service port): a NAT flow's owner worker. */
function ownerHash(seed: number, proto: number, client: number, ports: number): number {
  let h = Math.imul(seed ^ proto ^ client, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 15) ^ ports, 0x1b873593);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** A big-endian address as int32 (not uint32: see NatFlowTable). */
function readI32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}
