// A forwarding worker's view of the router's shared FIB (fib.ts share()):
// longest-prefix match through a FibReader, the next hops read from the
// shared arrays. Lookups are what the owner's own cost; quiescent() goes
// between receive batches (the writer may then reuse what it replaced).
import { FibReader } from './fib-reader.js';
import type { FibLookup, SharedFibHandles } from './fib.js';

export class SharedFib implements FibLookup {
  private readonly reader: FibReader;
  private readonly port: Int32Array;
  private readonly gateway: Uint32Array;

  constructor(h: SharedFibHandles) {
    this.reader = new FibReader(h.lpm);
    this.port = new Int32Array(h.nexthops.port);
    this.gateway = new Uint32Array(h.nexthops.gateway);
  }

  lookup(dst: number): number {
    return this.reader.lookup(dst);
  }

  portOf(nh: number): number {
    return this.port[nh]!;
  }

  gatewayOf(nh: number): number {
    return this.gateway[nh]!;
  }

  /** Between batches: no lookup is running. */
  quiescent(): void {
    this.reader.quiescent();
  }

  /** Before sleeping in the event loop: the writer need not wait for this reader. */
  offline(): void {
    this.reader.offline();
  }

  close(): void {
    this.reader.close();
  }
}
