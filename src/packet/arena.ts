// One ArrayBuffer for all packet bytes of a router: every port's receive
// slots and a scratch ring for packets the router builds itself (ICMP,
// fragments, BFD, RIP). Because it is one buffer, a transmit queue is just a
// list of (offset, length) pairs into it, whatever port the bytes came from,
// and the TUN addon writes a whole queue in one native call without copying.
//
// Every packet has HEADROOM free bytes in front of it — in a receive slot and
// in the scratch ring alike — so a link header (Ethernet: 14 bytes) or a
// virtio-net header can be written in place before it goes out.

/** Free bytes kept in front of every packet, for the egress port's link header. */
export const HEADROOM = 64;

/** No room left for a permanent region (a port a reload adds: see SPARE_PORTS). */
export class ArenaFull extends RangeError {}

export class PacketArena {
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  private reserved = 0;
  private scratchStart = 0;
  private scratchEnd = 0;
  private scratchNext = 0;

  constructor(size: number, scratchSize: number) {
    // Large zeroed ArrayBuffers are mapped lazily: untouched slots cost no RAM.
    this.buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
    this.scratchStart = this.reserve(scratchSize);
    this.scratchEnd = this.scratchStart + scratchSize;
    this.scratchNext = this.scratchStart;
  }

  /** A permanent region (e.g. a port's receive slots), 64-byte aligned. */
  reserve(bytes: number): number {
    const off = (this.reserved + 63) & ~63;
    if (off + bytes > this.buffer.byteLength) {
      throw new ArenaFull(`packet arena full: need ${bytes} more bytes (size ${this.buffer.byteLength})`);
    }
    this.reserved = off + bytes;
    return off;
  }

  /** Where the permanent regions end now: a mark for rollback(). */
  get reservedEnd(): number {
    return this.reserved;
  }

  /** Give back the regions reserved since `mark` (a step that failed half-way: nothing uses them). */
  rollback(mark: number): void {
    if (mark <= this.reserved) this.reserved = mark;
  }

  /**
   * Room for one locally built packet (with HEADROOM free bytes before it),
   * or -1 when the ring is full: the caller must flush its transmit queues
   * (which may still point into the ring) and call resetScratch() before
   * trying again.
   */
  scratch(bytes: number): number {
    const off = this.scratchNext + HEADROOM;
    if (off + bytes > this.scratchEnd) return -1;
    this.scratchNext = (off + bytes + 7) & ~7;
    return off;
  }

  /** Bytes left in the scratch ring (each scratch() takes HEADROOM and up to 7 bytes of alignment more than it is asked for). */
  scratchFree(): number {
    return this.scratchEnd - this.scratchNext;
  }

  resetScratch(): void {
    this.scratchNext = this.scratchStart;
  }
}
