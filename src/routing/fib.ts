// The forwarding table the packet path reads: longest-prefix match from an
// address to a next-hop id, and per id the egress port and the gateway (0 =
// the destination is on-link). The RIB is its only writer; the packet path
// only reads it, with uint32 addresses and no allocation.
//
// Shared (forwarding workers): the LPM table and the next hops live in
// SharedArrayBuffers; share() hands a worker what SharedFib (fib-view.ts)
// reads them with, lock-free, while this thread keeps updating.
import { LpmTable, type FibHandles } from './lpm.js';
import { NextHopTable, type NextHopHandles } from './nexthops.js';

/** What the FIB's lookup returns when no prefix covers the address. */
export const NO_ROUTE = 0;

/** What the packet path reads of a FIB (the Fib itself, or a worker's view of a shared one). */
export interface FibLookup {
  lookup(dst: number): number;
  portOf(nh: number): number;
  gatewayOf(nh: number): number;
}

/** One reader's handles on a shared FIB (transferable to a worker: list `lpm.port` in the transfer list). */
export interface SharedFibHandles {
  lpm: FibHandles;
  nexthops: NextHopHandles;
}

export class Fib implements FibLookup {
  readonly lpm: LpmTable;
  readonly nexthops: NextHopTable;

  constructor(opts: { shared?: boolean } = {}) {
    this.lpm = new LpmTable({ shared: opts.shared === true, maxReaders: 64 });
    this.nexthops = new NextHopTable(opts.shared === true);
  }

  /** A reader slot for a worker (the FIB must have been made shared). */
  share(): SharedFibHandles {
    return { lpm: this.lpm.share(), nexthops: this.nexthops.handles() };
  }

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
