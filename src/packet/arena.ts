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
  /** Every permanent region handed out: offset → bytes it holds (a reused region may hold up to 63 more than was asked). */
  private readonly held = new Map<number, number>();
  /** Regions given back (a removed port's), sorted by offset, adjacent ones merged. */
  private free: { off: number; bytes: number }[] = [];
  /** Each reserve() in order, for rollback(): its offset and, when it moved the end, the end before. */
  private readonly journal: { off: number; endBefore: number }[] = [];

  constructor(size: number, scratchSize: number) {
    // Large zeroed ArrayBuffers are mapped lazily: untouched slots cost no RAM.
    this.buffer = new ArrayBuffer(size);
    this.bytes = new Uint8Array(this.buffer);
    this.scratchStart = this.reserve(scratchSize);
    this.scratchEnd = this.scratchStart + scratchSize;
    this.scratchNext = this.scratchStart;
  }

  /** A permanent region (e.g. a port's receive slots), 64-byte aligned: the smallest given-back region that fits, else new room. */
  reserve(bytes: number): number {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i]!.bytes >= bytes && (best < 0 || this.free[i]!.bytes < this.free[best]!.bytes)) best = i;
    }
    if (best >= 0) {
      // Its start; the rest (from the next 64-byte boundary) stays free.
      const r = this.free[best]!;
      const off = r.off;
      const rest = (off + bytes + 63) & ~63;
      if (rest < r.off + r.bytes) {
        r.bytes = r.off + r.bytes - rest;
        r.off = rest;
        this.held.set(off, bytes);
      } else {
        this.free.splice(best, 1);
        this.held.set(off, r.bytes);
      }
      this.journal.push({ off, endBefore: -1 });
      return off;
    }
    const off = (this.reserved + 63) & ~63;
    if (off + bytes > this.buffer.byteLength) {
      throw new ArenaFull(`packet arena full: need ${bytes} more bytes (size ${this.buffer.byteLength})`);
    }
    this.held.set(off, bytes);
    this.journal.push({ off, endBefore: this.reserved });
    this.reserved = off + bytes;
    return off;
  }

  /**
   * Give a region back for a later reserve() (a removed port's receive
   * slots: the caller makes sure nothing reads or writes it any more).
   */
  release(off: number): void {
    const bytes = this.held.get(off);
    if (bytes === undefined) throw new RangeError(`arena: no region at ${off}`);
    this.held.delete(off);
    const free = [...this.free, { off, bytes }].sort((a, b) => a.off - b.off);
    this.free = [];
    for (const r of free) {
      const last = this.free[this.free.length - 1];
      // Merged across the alignment gap between them (at most 63 bytes, unused).
      if (last && ((last.off + last.bytes + 63) & ~63) === r.off) last.bytes = r.off + r.bytes - last.off;
      else this.free.push({ ...r });
    }
  }

  /** Where the permanent regions end now (regions given back and reused do not move it). */
  get reservedEnd(): number {
    return this.reserved;
  }

  /** A mark for rollback(): the reservations made so far. */
  mark(): number {
    return this.journal.length;
  }

  /** Give back the regions reserved since `mark` (a step that failed half-way: nothing uses them). */
  rollback(mark: number): void {
    while (this.journal.length > mark) {
      const { off, endBefore } = this.journal.pop()!;
      if (endBefore < 0) this.release(off);
      else {
        this.held.delete(off);
        this.reserved = endBefore;
      }
    }
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
