// The forwarding table the packet path reads: longest-prefix match from an
// address to a next-hop id, and per id the egress port and the gateway (0 =
// the destination is on-link). The RIB is its only writer; the packet path
// only reads it, with uint32 addresses and no allocation.
import { LpmTable } from './lpm.js';
import { NextHopTable } from './nexthops.js';

/** What the FIB's lookup returns when no prefix covers the address. */
export const NO_ROUTE = 0;

export class Fib {
  readonly lpm = new LpmTable();
  readonly nexthops = new NextHopTable();

  /** The next-hop id for `dst`, or NO_ROUTE. */
  lookup(dst: number): number {
    return this.lpm.lookup(dst);
  }

  /** The egress port index of a next-hop id. */
  portOf(nh: number): number {
    return this.nexthops.port[nh]!;
  }

  /** The gateway of a next-hop id (0: on-link, the packet's destination is the neighbour). */
  gatewayOf(nh: number): number {
    return this.nexthops.gateway[nh]!;
  }

  /** Point prefix/len at (port, gateway); returns the next-hop id now held for it. */
  install(prefix: number, len: number, port: number, gateway: number): number {
    const nh = this.nexthops.acquire(port, gateway);
    this.lpm.set(prefix, len, nh);
    return nh;
  }

  remove(prefix: number, len: number): void {
    this.lpm.delete(prefix, len);
  }

  /** Give back a next-hop id that install() returned, once no prefix uses it. */
  release(nh: number): void {
    this.nexthops.release(nh);
  }

  get size(): number {
    return this.lpm.size;
  }
}
