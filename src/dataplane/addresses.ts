// The router's own addresses and what they make of others' (RFC 1812
// §4.2.2.11, §4.2.3.1, §5.3.7): which destinations are the router's, and
// which source addresses no packet may carry. Typed arrays, index loops:
// the packet path asks for every packet.
import { Drop } from '../packet/drops.js';
import type { Port } from '../ports/port.js';

export class RouterAddresses {
  /** Unicast addresses: every port's, then any extra (a virtual service address). */
  private own: Uint32Array;
  /** Delivered locally (§5.2.3): own, then each attached subnet's broadcast. */
  private local: Uint32Array;
  /** No source may be one of these: own (the first ownCount), then attached {prefix, -1} and {prefix, 0}. */
  private invalidSources: Uint32Array;
  private ownCount: number;
  /** Attached subnets' obsolete {prefix, 0} broadcasts (prefix ≤ 30). */
  private networks = new Uint32Array(0);
  /** Unicast addresses that are no port's (virtual service addresses answer ping). */
  private extra: number[] = [];
  /**
   * A quick no for the per-packet checks: marked at the hash of every
   * address in the lists above. Nearly every packet's addresses hit an
   * unmarked entry and skip the list scans.
   */
  private readonly marks = new Uint8Array(1 << MARK_BITS);

  constructor(private readonly ports: readonly Port[]) {
    this.own = this.local = this.invalidSources = new Uint32Array(0);
    this.ownCount = 0;
    this.refresh();
  }

  /** The router's other unicast addresses (virtual service addresses). */
  setExtra(addrs: readonly number[]): void {
    this.extra = addrs.map((a) => a >>> 0);
    this.refresh();
  }

  /** Recompute everything from the ports in the config now (after a reload added or removed some). */
  refresh(): void {
    const live = this.ports.filter((p) => !p.removed);
    const withHosts = live.filter((p) => p.prefixLen <= 30);
    const own = [...live.map((p) => p.address), ...this.extra];
    this.networks = Uint32Array.from(withHosts.map((p) => p.network));
    this.own = Uint32Array.from(own);
    this.ownCount = own.length;
    this.local = Uint32Array.from([...own, ...withHosts.map((p) => p.broadcast)]);
    this.invalidSources = Uint32Array.from([...own, ...withHosts.flatMap((p) => [p.broadcast, p.network])]);
    this.marks.fill(0);
    for (const list of [this.local, this.invalidSources, this.networks]) for (const a of list) this.marks[markOf(a)] = 1;
  }

  // Each check takes an address as uint32 or int32 bits (the packet path passes int32).

  /** Whether `addr` is one of the router's unicast addresses. */
  isOwn(addr: number): boolean {
    if (this.marks[markOf(addr)] === 0) return false;
    addr >>>= 0;
    const a = this.own;
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
    if (this.marks[markOf(dst)] === 0) return false;
    const a = this.local;
    for (let i = 0; i < a.length; i++) if (a[i] === dst) return true;
    return false;
  }

  /** An attached subnet's obsolete {prefix, 0} broadcast (RFC 1812 §4.2.3.1). */
  isSubnetNetwork(addr: number): boolean {
    if (this.marks[markOf(addr)] === 0) return false;
    addr >>>= 0;
    const a = this.networks;
    for (let i = 0; i < a.length; i++) if (a[i] === addr) return true;
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
    if (this.marks[markOf(src)] === 0) return -1;
    const a = this.invalidSources;
    for (let i = 0; i < a.length; i++) if (a[i] === src) return i < this.ownCount ? Drop.OWN_SOURCE : Drop.MARTIAN_SOURCE;
    return -1;
  }

  /**
   * Whether `addr` can be a single other host's: what a datagram the router
   * originates may be sent to (RFC 1122 §3.2.1.3, RFC 1812 §4.2.2.11) — no
   * martian, broadcast or group address, none of the router's own.
   */
  isOtherHost(addr: number): boolean {
    return addr !== 0 && this.sourceDrop(addr) < 0;
  }
}

const MARK_BITS = 12;

/** The entry of RouterAddresses.marks for an address (uint32 or int32 bits: the same). */
function markOf(addr: number): number {
  return Math.imul(addr, 0x9e3779b1) >>> (32 - MARK_BITS);
}

/** RFC 3927 §2.7: 169.254/16 is never forwarded, as source or destination. */
export function isLinkLocal(addr: number): boolean {
  return addr >>> 16 === 0xa9fe;
}
