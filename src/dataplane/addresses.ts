// The router's own addresses and what they make of others' (RFC 1812
// §4.2.2.11, §4.2.3.1, §5.3.7): which destinations are the router's, and
// which source addresses no packet may carry. Typed arrays, index loops:
// the packet path asks for every packet.
import { Drop } from '../packet/drops.js';
import type { Port } from '../ports/port.js';

export class RouterAddresses {
  /** Unicast addresses: every port's, then any extra (a virtual service address). */
  private own: Uint32Array;
  /** Destinations delivered locally besides own: each port's subnet broadcast. */
  private broadcasts: Uint32Array;
  /**
   * Per attached subnet with a host part (prefix ≤ 30): its all-ones and
   * all-zeros addresses — {prefix, -1} and the obsolete {prefix, 0}.
   */
  private subnetEdges: Uint32Array;

  constructor(ports: readonly Port[]) {
    this.own = Uint32Array.from(ports.map((p) => p.address));
    this.broadcasts = Uint32Array.from(ports.filter((p) => p.prefixLen < 31).map((p) => p.broadcast));
    this.subnetEdges = Uint32Array.from(ports.filter((p) => p.prefixLen <= 30).flatMap((p) => [p.broadcast, p.network]));
  }

  /** Own one more unicast address (a virtual service address answers ping). */
  add(addr: number): void {
    this.own = Uint32Array.from([...this.own, addr >>> 0]);
  }

  /** Whether `addr` is one of the router's unicast addresses. */
  isOwn(addr: number): boolean {
    const a = this.own;
    addr >>>= 0;
    for (let i = 0; i < a.length; i++) if (a[i] === addr) return true;
    return false;
  }

  /**
   * RFC 1812 §5.2.3: delivered locally — own addresses, an attached
   * subnet's broadcast, 255.255.255.255, and 224.0.0.0/24 (RIP lives there).
   */
  isLocal(dst: number): boolean {
    dst >>>= 0;
    if (dst >>> 8 === 0xe00000 || dst === 0xffffffff) return true;
    if (this.isOwn(dst)) return true;
    const b = this.broadcasts;
    for (let i = 0; i < b.length; i++) if (b[i] === dst) return true;
    return false;
  }

  /** An attached subnet's {prefix, -1} or obsolete {prefix, 0} address. */
  isSubnetBroadcast(addr: number): boolean {
    const e = this.subnetEdges;
    addr >>>= 0;
    for (let i = 0; i < e.length; i++) if (e[i] === addr) return true;
    return false;
  }

  /**
   * Sources no received datagram may carry, whether for the router or to
   * forward (RFC 1812 §4.2.2.11, §5.3.7; RFC 1122 §3.2.1.3): 127/8,
   * multicast, class E and 255.255.255.255, an attached subnet's broadcast
   * (either form), {0, host} — and the router's own addresses: nothing it
   * sends comes back to it, so such a packet is forged, and answering it
   * would send to itself. 0.0.0.0 passes here: a host that does not know
   * its address yet may use it toward the router (§4.2.2.11 a); the
   * forwarder refuses it. Returns a Drop reason, or -1.
   */
  sourceDrop(src: number): number {
    src >>>= 0;
    const top = src >>> 24;
    if (top === 127 || top >= 224 || (top === 0 && src !== 0)) return Drop.MARTIAN_SOURCE;
    if (this.isOwn(src)) return Drop.OWN_SOURCE;
    return this.isSubnetBroadcast(src) ? Drop.MARTIAN_SOURCE : -1;
  }
}

/** RFC 3927 §2.7: 169.254/16 is never forwarded, as source or destination. */
export function isLinkLocal(addr: number): boolean {
  return addr >>> 16 === 0xa9fe;
}
