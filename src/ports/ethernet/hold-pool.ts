// Packets waiting for a neighbour's MAC: a fixed pool of MTU-sized buffers
// in the packet arena. A packet to hold is copied in (its receive slot is
// reused by the next batch), queued on its neighbour through `next`, and when
// the neighbour resolves, its Ethernet header is written in place into the
// buffer's headroom and the buffer's bytes go out through the port's transmit
// queue. A buffer handed to the transmit queue is only "retired": it becomes
// free again at reclaim(), which the port calls after its queue was written
// (until then the queue still points into it).
//
// Memory is bounded by construction: `slots` buffers per port, no growth.
export const HOLD_HEADROOM = 64;

export class HoldPool {
  /** Next buffer in the same neighbour's queue, or -1. */
  readonly next: Int32Array;
  /** Length of the IPv4 packet held in each buffer. */
  readonly lengths: Int32Array;
  readonly slotSize: number;
  private readonly freeList: Int32Array;
  private freeCount: number;
  private readonly retiredList: Int32Array;
  private retiredCount = 0;

  /** Bytes of one buffer: headroom for a link header, then up to `mtu` bytes of packet. */
  static slotSizeFor(mtu: number): number {
    return (HOLD_HEADROOM + mtu + 63) & ~63;
  }

  static bytesFor(slots: number, mtu: number): number {
    return slots * HoldPool.slotSizeFor(mtu);
  }

  /** `base`: arena offset of bytesFor(slots, mtu) reserved bytes. */
  constructor(readonly base: number, readonly slots: number, readonly mtu: number) {
    this.slotSize = HoldPool.slotSizeFor(mtu);
    this.next = new Int32Array(slots).fill(-1);
    this.lengths = new Int32Array(slots);
    this.freeList = new Int32Array(slots);
    this.retiredList = new Int32Array(slots);
    for (let i = 0; i < slots; i++) this.freeList[i] = slots - 1 - i;
    this.freeCount = slots;
  }

  get available(): number {
    return this.freeCount;
  }

  /** A free buffer's index, or -1 when all are holding packets or in flight. */
  alloc(): number {
    if (this.freeCount === 0) return -1;
    const b = this.freeList[--this.freeCount]!;
    this.next[b] = -1;
    return b;
  }

  /** Arena offset where buffer b's packet starts (HOLD_HEADROOM bytes into it). */
  packetOffset(b: number): number {
    return this.base + b * this.slotSize + HOLD_HEADROOM;
  }

  /** Give a buffer back at once (its packet was dropped). */
  free(b: number): void {
    this.freeList[this.freeCount++] = b;
  }

  /** Buffer b's bytes are in a transmit queue: free it at the next reclaim(). */
  retire(b: number): void {
    this.retiredList[this.retiredCount++] = b;
  }

  /** The transmit queue was written: retired buffers are free again. */
  reclaim(): void {
    for (let i = 0; i < this.retiredCount; i++) this.freeList[this.freeCount++] = this.retiredList[i]!;
    this.retiredCount = 0;
  }
}
