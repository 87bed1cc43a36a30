/**
 * A lookup-only view of a shared LpmTable, for another thread (the protocol
 * is described in lpm.ts). In the writer's thread: `const h = fib.share()`,
 * `worker.postMessage(h, [h.port])`; in the worker: `new FibReader(h)`.
 *
 * lookup()/lookupBatch() cost what the writer's own lookups cost: no atomic
 * operation, no allocation. Call quiescent() between batches (a point where
 * no lookup is running): it lets the writer reuse memory freed since the last
 * call, and moves the reader to a new buffer after the table grew or
 * shrank. Call offline() before blocking for a while, quiescent() again
 * before the next lookup; close() when done.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import {
  CTL_DIR_BITS,
  CTL_EPOCH,
  CTL_GEN,
  CTL_SLOT0,
  CTL_SLOT_WORDS,
  DIR_BITS,
  NO_WORDS,
  SLOT_CLAIMED,
  SLOT_EPOCH,
  SLOT_GEN,
  checkBatchArgs,
  lookupBatchIn,
  lookupIn,
  type FibGenerationMessage,
  type FibHandles,
} from './fib-lookup.js';

export class FibReader {
  private B: Int32Array = NO_WORDS;
  private gen: number;
  private readonly ctl: Int32Array;
  /** This reader's slot in the control block. */
  private readonly base: number;
  private readonly port: MessagePort;
  private closed = false;

  constructor(h: FibHandles) {
    this.ctl = new Int32Array(h.ctl);
    if (this.ctl[CTL_DIR_BITS] !== DIR_BITS) throw new Error('FibReader: table layout differs from this build');
    this.base = CTL_SLOT0 + h.slot * CTL_SLOT_WORDS;
    if (Atomics.load(this.ctl, this.base + SLOT_CLAIMED) !== 1) throw new Error(`FibReader: slot ${h.slot} is not handed out`);
    this.port = h.port;
    this.B = new Int32Array(h.fib);
    this.gen = h.generation;
    Atomics.store(this.ctl, this.base + SLOT_GEN, this.gen);
    this.quiescent();
  }

  /** Generation of the buffer this reader reads (follows the writer's at each quiescent()). */
  get generation(): number {
    return this.gen;
  }

  /** Longest-prefix match of addr (uint32 or int32); 0 = no route. */
  lookup(addr: number): number {
    return lookupIn(this.B, addr);
  }

  /** lookup() for addrs[0..count) into out[0..count). */
  lookupBatch(addrs: Uint32Array, out: Uint32Array, count: number = addrs.length): void {
    checkBatchArgs(addrs, out, count);
    lookupBatchIn(this.B, addrs, out, count);
  }

  /**
   * A point between lookups: pick up a new buffer if the writer moved to one,
   * then announce the current epoch (the writer may reuse blocks replaced
   * before it). The epoch is re-read after the store: if the writer bumped it
   * in between, the writer may have scanned this slot before the store, so
   * announce again.
   */
  quiescent(): void {
    if (this.closed) throw new Error('FibReader: closed');
    const ctl = this.ctl;
    const g = Atomics.load(ctl, CTL_GEN);
    if (g !== this.gen) this.reattach(g);
    const slot = this.base + SLOT_EPOCH;
    for (;;) {
      const e = Atomics.load(ctl, CTL_EPOCH);
      Atomics.store(ctl, slot, e);
      if (Atomics.load(ctl, CTL_EPOCH) === e) return;
    }
  }

  /** Hold no pointer into the table until the next quiescent() (lookups are not allowed meanwhile). */
  offline(): void {
    Atomics.store(this.ctl, this.base + SLOT_EPOCH, 0);
  }

  /** Give the slot back (the writer frees it when it sees the port close). */
  close(): void {
    if (this.closed) return;
    this.offline();
    this.closed = true;
    this.port.close();
  }

  /** The writer posted the buffer of generation g before publishing g; take the newest posted. */
  private reattach(g: number): void {
    let latest: FibGenerationMessage | undefined;
    for (;;) {
      const m = receiveMessageOnPort(this.port);
      if (m === undefined) break;
      latest = m.message as FibGenerationMessage;
      if (latest.generation === g) break;
    }
    if (latest === undefined || latest.generation === this.gen) return;
    this.B = new Int32Array(latest.fib);
    this.gen = latest.generation;
    // Before the epoch announcement that follows: the writer reads a slot's generation first.
    Atomics.store(this.ctl, this.base + SLOT_GEN, this.gen);
  }
}
