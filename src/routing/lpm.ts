/**
 * The FIB's longest-prefix-match table: a Poptrie (multibit trie whose nodes
 * are bitmaps, indexed by popcount) in ONE Int32Array that can live in a
 * SharedArrayBuffer, updated by one writer (this class) while readers in
 * other threads (FibReader) look up without locks.
 *
 * Why this structure (scripts/bench-lookup.ts, 564,580 real prefixes, old
 * and new side by side): the 16-8-8 trie it replaces (lpm-16-8-8.ts) needs
 * 35.8 MB because every level-2/3 group is 256 expanded entries plus a depth
 * byte each. Here a node stores one bit per entry and each run of equal
 * leaves once, so the same table takes about a sixth of that, which also
 * keeps more of it in the CPU caches: single lookups got faster although
 * each level now costs a popcount. Nearly all real prefixes are /24 or
 * shorter, so the directory resolves 18 bits (1 MiB) and one 6-bit node
 * level then reaches /24: most lookups read the directory and one node.
 * DIR_BITS 16 (three node levels to /24... /28) and 20 (a 4 MiB directory)
 * both measured slower. A DXR-style range table would be smaller still but
 * needs a binary search per lookup (unpredictable branches) and rebuilds a
 * whole /16 chunk per update.
 *
 * Layout (word offsets into B; fib-lookup.ts has the lookup code)
 * - B[0 .. 2^18): the directory, indexed by addr[31:14]. An entry >= 0 is a
 *   leaf (the FIB value, 0 = no route); < 0 is PTR | offset of a node block.
 * - A node block covers the 64 /(d+6) sub-blocks of its /d block (the last
 *   level, /30, has 4 entries). Header (8 words): internal bitmap (64 bits as
 *   two words), leaf bitmap, and per half the offset of its first child word
 *   and first leaf word. Then one pointer word per internal entry, then one
 *   word per RUN of equal leaves (leaf compression: the leaf bitmap marks
 *   where a run starts). Entry i is child number popcount(internal & bits
 *   0..i) or leaf number popcount(leafbits & bits 0..i). Blocks are 10..72
 *   words; children are separate blocks reached through their pointer word,
 *   so changing a child never moves its parent.
 * - Writer-only, in a parallel Uint8Array `meta` (not shared): for each leaf
 *   word the length of the prefix that painted it (runs are of equal value
 *   AND length), for each directory entry the same, and in a block's header
 *   bytes the "background" (value, length) of its /d block: the longest
 *   prefix no longer than /d covering it, so a delete finds the covering
 *   prefix without probing every shorter length.
 * - Exact prefixes are also kept in per-length Maps (get, entries, and the
 *   covering prefix on delete); lookups never touch them.
 *
 * Updates: the prefix is painted into the entries it covers (an entry takes
 * the new value if its current prefix is not longer; on delete the entries
 * the prefix painted take the covering prefix), descending into nodes below
 * short prefixes and expanding a leaf into a node on the path of a long one.
 * A node whose entries end up as one run of leaves collapses into its
 * parent's entry.
 *
 * Concurrency: one writer thread, any number of lock-free readers
 * - A block that readers can reach is never written. A node that changes is
 *   rebuilt in a new block (copy-on-write) and published by ONE
 *   Atomics.store of the pointer word that leads to it (a directory entry, or
 *   the child word in its unchanged parent); the store comes after all the
 *   block's words are written. Directory leaves change by one Atomics.store.
 *   So each lookup sees, per directory entry, the state before or after an
 *   update, never a mix (a short prefix spans several directory entries and
 *   becomes visible entry by entry, like any RCU-published FIB).
 * - Reclamation (epochs, quiescent-state based): the control block holds a
 *   global epoch and one slot per reader. A block replaced by an update goes
 *   on a pending list tagged with the epoch current during that update; at
 *   the end of the update the writer bumps the epoch. A reader announces a
 *   quiescent point (FibReader.quiescent(), called between batches: it holds
 *   no pointer into the FIB there) by storing the epoch it reads into its
 *   slot, re-reading the epoch to close the race with a concurrent bump. A
 *   pending block is reused only when every online reader slot of the current
 *   generation shows a later epoch. Offline readers (slot 0) hold nothing.
 *   Readers pay no atomic operation per lookup; a reader that stops calling
 *   quiescent() only delays reuse (the table grows instead), it never reads
 *   freed memory.
 * - Growth: when no free block fits, the writer copies B into a 1.5x larger
 *   new SharedArrayBuffer, posts {generation, buffer} to every reader's
 *   MessagePort, then bumps the generation word (Atomics.store). Readers keep
 *   reading the old buffer (frozen from then on, so still a consistent
 *   snapshot) until their next quiescent(), which sees the new generation and
 *   takes the buffer from the port with receiveMessageOnPort (synchronous, no
 *   event loop needed). Blocks pending when the copy was made are unreachable
 *   in the new buffer and reused at once; readers of older generations are
 *   ignored by reclamation.
 * - After deletes, when under a quarter of the block area is live, the writer
 *   copies the reachable blocks compactly into a smaller new buffer (same
 *   publication as growth), so deleting everything returns to the initial
 *   size.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import {
  CTL_DIR_BITS,
  CTL_EPOCH,
  CTL_GEN,
  CTL_MAX_READERS,
  CTL_SLOT0,
  CTL_SLOT_WORDS,
  DIR_BITS,
  DIR_SIZE,
  HDR,
  OFF_MASK,
  PTR,
  SLOT_CLAIMED,
  SLOT_EPOCH,
  SLOT_GEN,
  STRIDE,
  checkBatchArgs,
  ctlWords,
  lookupBatchIn,
  lookupIn,
  popcnt,
  type FibGenerationMessage,
  type FibHandles,
} from './fib-lookup.js';

export { FibReader } from './fib-reader.js';
export type { FibHandles } from './fib-lookup.js';

const DIR_SHIFT = 32 - DIR_BITS;
const MAX_VALUE = 0x7fffffff;
/** Largest block: header + 64 words (children + leaf runs never exceed the entries). */
const MAX_BLOCK = HDR + 64;
/** Smallest block: a node has at least two leaf runs, or a child and a leaf. */
const MIN_BLOCK = HDR + 2;
/** Block offsets are 31-bit word offsets; 2^29 words = 2 GiB keeps byte lengths sane. */
const MAX_WORDS = 1 << 29;
const DEFAULT_INITIAL_WORDS = 1 << 14;
const DEFAULT_MAX_READERS = 16;
/** Scratch rows: one per node level below the directory. */
const LEVELS = Math.ceil((32 - DIR_BITS) / STRIDE);

/** Network mask for a prefix length 0..32, as uint32. */
function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

function checkPrefix(prefix: number, len: number): number {
  if (!Number.isInteger(len) || len < 0 || len > 32) {
    throw new RangeError(`prefix length must be an integer 0..32, got ${len}`);
  }
  // Accept int32 too (results of `addr & mask` are signed) and normalise.
  if (!Number.isInteger(prefix) || prefix < -0x80000000 || prefix > 0xffffffff) {
    throw new RangeError(`prefix must be a 32-bit integer, got ${prefix}`);
  }
  const p = prefix >>> 0;
  if ((p & ~maskOf(len)) !== 0) {
    throw new RangeError(`prefix ${p >>> 24}.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}/${len} has host bits set`);
  }
  return p;
}

/** Entries of a node at depth d: 6 bits, fewer at the last level. */
function widthAt(d: number): number {
  return 32 - d < STRIDE ? 32 - d : STRIDE;
}

function blockSize(B: Int32Array, o: number): number {
  return HDR + popcnt(B[o]) + popcnt(B[o + 1]) + popcnt(B[o + 2]) + popcnt(B[o + 3]);
}

export interface LpmTableOptions {
  /** Put the lookup structure in SharedArrayBuffers so FibReaders in other threads can read it (see share()). */
  shared?: boolean;
  /** Reader slots in the control block (shared tables). Default 16. */
  maxReaders?: number;
  /** Words for node blocks at the start, beyond the directory; the table never shrinks below. Default 16384. */
  initialWords?: number;
}

export class LpmTable {
  /** Directory then node blocks. Replaced (never resized in place) on growth and compaction. */
  private B: Int32Array;
  /** Writer-only, parallel to B: prefix length per leaf word and directory entry; background per block header. */
  private meta: Uint8Array;
  /** Words in B, and the first word never handed out. */
  private cap: number;
  private top: number;
  private readonly initialCap: number;
  /** Words and number of blocks reachable (or being built by the current update). */
  private liveWords = 0;
  private blocks = 0;
  /** Free blocks by exact size, linked through their first word; -1 ends a list. */
  private readonly freeHead = new Int32Array(MAX_BLOCK + 1).fill(-1);
  private freeWords = 0;
  /** Blocks replaced by the current update: offset, size. */
  private retired = new Int32Array(64);
  private nRetired = 0;
  /** Blocks replaced by earlier updates, waiting for readers: a FIFO of (offset, size, epoch). */
  private pending = new Int32Array(96);
  private pHead = 0;
  private pCount = 0;

  readonly shared: boolean;
  private readonly ctl: Int32Array;
  private readonly maxReaders: number;
  private gen = 0;
  private epoch = 1;
  /** Reader slots handed out by share(), and their ports. */
  private readonly readerPorts = new Map<number, MessagePort>();
  private readerSlots: number[] = [];

  /** Exact prefixes per length. Keys are the int32 view of the prefix (small integers, no boxing). */
  private readonly byLen: Map<number, number>[] = [];
  private count = 0;

  // The update in progress: painting prefix opQ/opLen with opVal (insert), or
  // replacing what it painted by (opRv, opRd) (delete).
  private opInsert = true;
  private opQ = 0;
  private opLen = 0;
  private opVal = 0;
  private opRv = 0;
  private opRd = 0;
  /** Second results: prefix length of a leaf returned by applyEntry()/encode(), of leafAt(), and of coverBelow(). */
  private outDep = 0;
  private leafDep = 0;
  private coverVal = 0;
  private coverLen = 0;
  /** Decoded entries, one 64-entry row per level below the directory: value or pointer, and prefix length. */
  private readonly sVal = new Int32Array(LEVELS * 64);
  private readonly sDep = new Uint8Array(LEVELS * 64);

  constructor(opts?: LpmTableOptions) {
    const initial = opts?.initialWords ?? DEFAULT_INITIAL_WORDS;
    if (!Number.isInteger(initial) || initial < MAX_BLOCK || initial > MAX_WORDS - DIR_SIZE) {
      throw new RangeError(`initialWords must be an integer ${MAX_BLOCK}..${MAX_WORDS - DIR_SIZE}`);
    }
    const maxReaders = opts?.maxReaders ?? DEFAULT_MAX_READERS;
    if (!Number.isInteger(maxReaders) || maxReaders < 1 || maxReaders > 1024) {
      throw new RangeError('maxReaders must be an integer 1..1024');
    }
    this.shared = opts?.shared === true;
    this.maxReaders = this.shared ? maxReaders : 0;
    this.initialCap = DIR_SIZE + initial;
    this.cap = this.initialCap;
    this.top = DIR_SIZE;
    this.B = this.newWords(this.cap);
    this.meta = new Uint8Array(this.cap);
    const nCtl = ctlWords(this.maxReaders);
    this.ctl = new Int32Array(this.shared ? new SharedArrayBuffer(nCtl * 4) : new ArrayBuffer(nCtl * 4));
    this.ctl[CTL_GEN] = this.gen;
    this.ctl[CTL_EPOCH] = this.epoch;
    this.ctl[CTL_MAX_READERS] = this.maxReaders;
    this.ctl[CTL_DIR_BITS] = DIR_BITS;
    for (let l = 0; l <= 32; l++) this.byLen.push(new Map());
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.count;
  }

  /** Node blocks in use (for stats and tests). */
  get blockCount(): number {
    return this.blocks;
  }

  /** Generation of the lookup buffer: changes when it is replaced (growth, compaction). */
  get generation(): number {
    return this.gen;
  }

  /** Longest-prefix match: the value of the longest prefix covering addr (uint32 or int32), 0 if none. */
  lookup(addr: number): number {
    return lookupIn(this.B, addr);
  }

  /** lookup() for addrs[0..count) into out[0..count); faster than a lookup() loop (overlapping cache misses). */
  lookupBatch(addrs: Uint32Array, out: Uint32Array, count: number = addrs.length): void {
    checkBatchArgs(addrs, out, count);
    lookupBatchIn(this.B, addrs, out, count);
  }

  /** Exact-match value of prefix/len, or undefined. */
  get(prefix: number, len: number): number | undefined {
    const p = checkPrefix(prefix, len);
    return this.byLen[len].get(p | 0);
  }

  /** Insert or replace prefix/len with value (1..0x7fffffff). */
  set(prefix: number, len: number, value: number): void {
    const p = checkPrefix(prefix, len);
    if (!Number.isInteger(value) || value < 1 || value > MAX_VALUE) {
      throw new RangeError(`value must be an integer 1..${MAX_VALUE}, got ${value}`);
    }
    const m = this.byLen[len];
    const old = m.get(p | 0);
    if (old === value) return;
    m.set(p | 0, value);
    if (old === undefined) this.count++;
    this.opInsert = true;
    this.opQ = p;
    this.opLen = len;
    this.opVal = value;
    this.applyTop();
    this.endUpdate();
  }

  /** Remove prefix/len; its addresses fall back to the longest covering prefix. */
  delete(prefix: number, len: number): boolean {
    const p = checkPrefix(prefix, len);
    if (!this.byLen[len].delete(p | 0)) return false;
    this.count--;
    this.coverOf(p, len);
    this.opInsert = false;
    this.opQ = p;
    this.opLen = len;
    this.applyTop();
    this.endUpdate();
    return true;
  }

  /** All prefixes as [prefix, len, value], by ascending length (insertion order within a length). */
  *entries(): IterableIterator<[number, number, number]> {
    for (let len = 0; len <= 32; len++) {
      for (const [p, v] of this.byLen[len]) yield [p >>> 0, len, v];
    }
  }

  /** Bytes held by the typed arrays (the Maps of exact prefixes are not counted). */
  memoryBytes(): number {
    return (
      this.B.byteLength +
      this.meta.byteLength +
      this.ctl.byteLength +
      this.freeHead.byteLength +
      this.retired.byteLength +
      this.pending.byteLength +
      this.sVal.byteLength +
      this.sDep.byteLength
    );
  }

  /**
   * Hand out a reader slot: post the result to a worker (with `port` in the
   * transfer list) and attach there with `new FibReader(handles)`. The slot
   * is freed when the reader closes its port (or its thread ends).
   */
  share(): FibHandles {
    if (!this.shared) throw new Error('LpmTable.share: table was not created with { shared: true }');
    let slot = 0;
    while (slot < this.maxReaders && this.readerPorts.has(slot)) slot++;
    if (slot === this.maxReaders) throw new RangeError(`LpmTable.share: all ${this.maxReaders} reader slots in use`);
    const base = CTL_SLOT0 + slot * CTL_SLOT_WORDS;
    Atomics.store(this.ctl, base + SLOT_EPOCH, 0);
    Atomics.store(this.ctl, base + SLOT_GEN, this.gen);
    Atomics.store(this.ctl, base + SLOT_CLAIMED, 1);
    const { port1, port2 } = new MessageChannel();
    port1.on('close', () => this.releaseSlot(slot));
    port1.unref();
    this.readerPorts.set(slot, port1);
    this.readerSlots = [...this.readerPorts.keys()];
    return {
      ctl: this.ctl.buffer as SharedArrayBuffer,
      fib: this.B.buffer as SharedArrayBuffer,
      generation: this.gen,
      slot,
      port: port2,
    };
  }

  private releaseSlot(slot: number): void {
    const base = CTL_SLOT0 + slot * CTL_SLOT_WORDS;
    Atomics.store(this.ctl, base + SLOT_EPOCH, 0);
    Atomics.store(this.ctl, base + SLOT_CLAIMED, 0);
    this.readerPorts.delete(slot);
    this.readerSlots = [...this.readerPorts.keys()];
  }

  // ---- painting -------------------------------------------------------------

  /** Apply the current update to the directory entries its prefix touches. */
  private applyTop(): void {
    const len = this.opLen;
    const first = this.opQ >>> DIR_SHIFT;
    const end = len <= DIR_BITS ? first + (1 << (DIR_BITS - len)) : first + 1;
    for (let i = first; i < end; i++) {
      const e = this.B[i];
      const ne = this.applyEntry(e, this.meta[i], DIR_BITS);
      if (ne >= 0) this.meta[i] = this.outDep;
      if (ne !== e) Atomics.store(this.B, i, ne); // publishes the new node (B may have grown meanwhile)
    }
  }

  /**
   * The new content of an entry that covers a /d block and holds e (a leaf
   * painted by a /ed prefix, or a node pointer) under the current update. A
   * returned leaf's prefix length is left in outDep.
   */
  private applyEntry(e: number, ed: number, d: number): number {
    if (e < 0) return this.rewrite(e, 0, 0, d);
    const len = this.opLen;
    if (this.opInsert ? ed > len : ed !== len) {
      this.outDep = ed; // a longer prefix holds it (insert) or the deleted prefix did not paint it
      return e;
    }
    if (len <= d) {
      if (this.opInsert) {
        this.outDep = len;
        return this.opVal;
      }
      this.outDep = this.opRd;
      return this.opRv;
    }
    return this.rewrite(0, e, ed, d); // the prefix is inside this leaf's block: expand it
  }

  /**
   * Apply the current update inside the node at depth d: the block `ptr`
   * points to, or (ptr 0) a new node of 64 copies of leaf (lv, ld). Returns
   * the node's new pointer (the same one if only child pointers changed:
   * those are swapped in place), or a leaf (length in outDep) if it collapsed.
   */
  private rewrite(ptr: number, lv: number, ld: number, d: number): number {
    const w = widthAt(d);
    const n = 1 << w;
    const dc = d + w;
    const row = ((d - DIR_BITS) / STRIDE) << 6;
    const sVal = this.sVal;
    const sDep = this.sDep;
    const o = ptr & OFF_MASK;
    let bgV: number;
    let bgD: number;
    if (ptr < 0) {
      this.decode(o, n, row);
      bgV = this.bgValue(o);
      bgD = this.meta[o + 4];
    } else {
      sVal.fill(lv, row, row + n);
      sDep.fill(ld, row, row + n);
      if (ld <= d) {
        bgV = lv;
        bgD = ld;
      } else {
        // A run of equal /ld prefixes collapsed into one entry: look the background up.
        this.coverBelow(this.opQ, d + 1, -1);
        bgV = this.coverVal;
        bgD = this.coverLen;
      }
    }

    const len = this.opLen;
    const q = this.opQ;
    let lo: number;
    let hi: number;
    let bgChanged = false;
    if (len <= d) {
      lo = 0;
      hi = n;
      if (this.opInsert ? bgD <= len : bgD === len) {
        bgV = this.opInsert ? this.opVal : this.opRv;
        bgD = this.opInsert ? len : this.opRd;
        bgChanged = true;
      }
    } else {
      lo = (q >>> (32 - dc)) & (n - 1);
      hi = len <= dc ? lo + (1 << (dc - len)) : lo + 1;
    }

    let structural = ptr >= 0;
    let swaps = false;
    for (let i = lo; i < hi; i++) {
      const e = sVal[row + i];
      const ed = sDep[row + i];
      const ne = this.applyEntry(e, ed, dc);
      if (ne < 0) {
        if (ne !== e) {
          sVal[row + i] = ne;
          if (e < 0) swaps = true;
          else structural = true;
        }
      } else {
        const nd = this.outDep;
        if (ne !== e || nd !== ed) {
          sVal[row + i] = ne;
          sDep[row + i] = nd;
          structural = true;
        }
      }
    }

    if (!structural) {
      if (swaps) {
        // Same shape, new children: publish each by storing its pointer word.
        const B = this.B;
        const vLo = B[o];
        const vHi = B[o + 1];
        let c = o + HDR + (lo < 32 ? popcnt(vLo & ((1 << lo) - 1)) : popcnt(vLo) + popcnt(vHi & ((1 << (lo - 32)) - 1)));
        for (let i = lo; i < hi; i++) {
          if ((((i < 32 ? vLo : vHi) >>> (i & 31)) & 1) === 0) continue;
          if (B[c] !== sVal[row + i]) Atomics.store(B, c, sVal[row + i]);
          c++;
        }
      }
      if (bgChanged) this.setBackground(o, bgV, bgD);
      return ptr;
    }
    const res = this.encode(n, row, bgV, bgD);
    if (ptr < 0) this.retire(o);
    return res;
  }

  /** Scratch row <- the n entries of block o. */
  private decode(o: number, n: number, row: number): void {
    const B = this.B;
    const meta = this.meta;
    const sVal = this.sVal;
    const sDep = this.sDep;
    const vLo = B[o];
    const vHi = B[o + 1];
    const lLo = B[o + 2];
    const lHi = B[o + 3];
    let c = o + HDR;
    let l = o + HDR + popcnt(vLo) + popcnt(vHi) - 1;
    for (let i = 0; i < n; i++) {
      const s = i & 31;
      const hiHalf = i >= 32;
      if ((((hiHalf ? vHi : vLo) >>> s) & 1) !== 0) {
        sVal[row + i] = B[c++];
      } else {
        if ((((hiHalf ? lHi : lLo) >>> s) & 1) !== 0) l++;
        sVal[row + i] = B[l];
        sDep[row + i] = meta[l];
      }
    }
  }

  /** A new block from the scratch row (or, if it is one run of leaves, that leaf with its length in outDep). */
  private encode(n: number, row: number, bgV: number, bgD: number): number {
    const sVal = this.sVal;
    const sDep = this.sDep;
    let vLo = 0;
    let vHi = 0;
    let lLo = 0;
    let lHi = 0;
    let k = 0;
    let m = 0;
    let pv = -1;
    let pd = -1;
    for (let i = 0; i < n; i++) {
      const e = sVal[row + i];
      const bit = 1 << (i & 31);
      if (e < 0) {
        if (i < 32) vLo |= bit;
        else vHi |= bit;
        k++;
      } else {
        const dd = sDep[row + i];
        if (e !== pv || dd !== pd) {
          if (i < 32) lLo |= bit;
          else lHi |= bit;
          m++;
          pv = e;
          pd = dd;
        }
      }
    }
    if (k === 0 && m === 1) {
      this.outDep = sDep[row];
      return sVal[row];
    }
    const o = this.alloc(HDR + k + m);
    const B = this.B; // after alloc: it may have grown
    const meta = this.meta;
    B[o] = vLo;
    B[o + 1] = vHi;
    B[o + 2] = lLo;
    B[o + 3] = lHi;
    B[o + 4] = HDR - 1;
    B[o + 5] = HDR - 1 + popcnt(vLo);
    B[o + 6] = HDR + k - 1;
    B[o + 7] = HDR + k - 1 + popcnt(lLo);
    let c = o + HDR;
    let l = o + HDR + k - 1;
    pv = -1;
    pd = -1;
    for (let i = 0; i < n; i++) {
      const e = sVal[row + i];
      if (e < 0) {
        B[c++] = e;
      } else {
        const dd = sDep[row + i];
        if (e !== pv || dd !== pd) {
          l++;
          B[l] = e;
          meta[l] = dd;
          pv = e;
          pd = dd;
        }
      }
    }
    this.setBackground(o, bgV, bgD);
    return PTR | o;
  }

  /** Background of block o: its header's meta bytes 0..3 hold the value, byte 4 the length. */
  private bgValue(o: number): number {
    const meta = this.meta;
    return meta[o] | (meta[o + 1] << 8) | (meta[o + 2] << 16) | (meta[o + 3] << 24);
  }

  private setBackground(o: number, v: number, len: number): void {
    const meta = this.meta;
    meta[o] = v;
    meta[o + 1] = v >>> 8;
    meta[o + 2] = v >>> 16;
    meta[o + 3] = v >>> 24;
    meta[o + 4] = len;
  }

  // ---- covering prefixes (for deletes) ----------------------------------------

  /** (opRv, opRd) <- the longest prefix shorter than len that covers q/len (0, 0 if none). */
  private coverOf(q: number, len: number): void {
    if (len > 0) {
      // q's buddy (last bit flipped) shares every prefix shorter than len with
      // q: if an end of the buddy is painted by one of those, that is the answer.
      const buddy = (q ^ (1 << (32 - len))) >>> 0;
      let v = this.leafAt(buddy);
      if (this.leafDep >= len) v = this.leafAt((buddy | ~maskOf(len)) >>> 0);
      if (this.leafDep < len) {
        this.opRv = v;
        this.opRd = this.leafDep;
        return;
      }
    }
    // The deepest node above len on q's path knows the cover up to its depth.
    const B = this.B;
    let e = B[q >>> DIR_SHIFT];
    let d = DIR_BITS;
    let node = -1;
    let nodeDepth = -1;
    while (e < 0 && d < len) {
      const o = e & OFF_MASK;
      node = o;
      nodeDepth = d;
      const w = widthAt(d);
      const b = (q >>> (32 - d - w)) & ((1 << w) - 1);
      const h = b >>> 5;
      const s = b & 31;
      const v = B[o + h];
      if (((v >>> s) & 1) === 0) break;
      e = B[o + B[o + 4 + h] + popcnt(v & ((2 << s) - 1))];
      d += w;
    }
    this.coverBelow(q, len, nodeDepth);
    if (this.coverLen < 0) {
      if (node >= 0) {
        this.coverVal = this.bgValue(node);
        this.coverLen = this.meta[node + 4];
      } else {
        this.coverVal = 0;
        this.coverLen = 0;
      }
    }
    this.opRv = this.coverVal;
    this.opRd = this.coverLen;
  }

  /**
   * (coverVal, coverLen) <- the longest stored prefix with length in
   * (above, below) covering q, from the Maps; if none, coverLen is -1 when
   * above >= 0 and (0, 0) when above is -1 (nothing covers q).
   */
  private coverBelow(q: number, below: number, above: number): void {
    for (let l = below - 1; l > above; l--) {
      const m = this.byLen[l];
      if (m.size === 0) continue;
      const v = m.get((q & maskOf(l)) | 0);
      if (v !== undefined) {
        this.coverVal = v;
        this.coverLen = l;
        return;
      }
    }
    this.coverVal = 0;
    this.coverLen = above >= 0 ? -1 : 0;
  }

  /** Value at addr (like lookup), with the length of the prefix that painted it in leafDep. */
  private leafAt(addr: number): number {
    const B = this.B;
    const i = addr >>> DIR_SHIFT;
    let e = B[i];
    if (e >= 0) {
      this.leafDep = this.meta[i];
      return e;
    }
    let d = DIR_BITS;
    for (;;) {
      const o = e & OFF_MASK;
      const w = widthAt(d);
      const b = (addr >>> (32 - d - w)) & ((1 << w) - 1);
      const h = b >>> 5;
      const s = b & 31;
      const m = (2 << s) - 1;
      const v = B[o + h];
      if (((v >>> s) & 1) !== 0) {
        e = B[o + B[o + 4 + h] + popcnt(v & m)];
        d += w;
        continue;
      }
      const li = o + B[o + 6 + h] + popcnt(B[o + 2 + h] & m);
      this.leafDep = this.meta[li];
      return B[li];
    }
  }

  // ---- block memory -----------------------------------------------------------

  private newWords(n: number): Int32Array {
    return new Int32Array(this.shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  }

  private alloc(size: number): number {
    let o = this.freeHead[size];
    if (o >= 0) {
      this.freeHead[size] = this.B[o];
      this.freeWords -= size;
    } else if (this.top + size <= this.cap) {
      o = this.top;
      this.top += size;
    } else {
      this.reclaim();
      o = this.takeFree(size);
      if (o < 0) {
        if (this.top + size > this.cap) this.grow(size);
        o = this.top;
        this.top += size;
      }
    }
    this.liveWords += size;
    this.blocks++;
    return o;
  }

  /** A free block of exactly `size`, or the front of a larger one (the rest stays free); -1 if none. */
  private takeFree(size: number): number {
    let o = this.freeHead[size];
    if (o >= 0) {
      this.freeHead[size] = this.B[o];
      this.freeWords -= size;
      return o;
    }
    for (let s = size + MIN_BLOCK; s <= MAX_BLOCK; s++) {
      o = this.freeHead[s];
      if (o < 0) continue;
      this.freeHead[s] = this.B[o];
      this.freeWords -= s;
      this.free(o + size, s - size);
      return o;
    }
    return -1;
  }

  private free(o: number, size: number): void {
    this.B[o] = this.freeHead[size];
    this.freeHead[size] = o;
    this.freeWords += size;
  }

  /** Block o is no longer reachable once the current update publishes. */
  private retire(o: number): void {
    const size = blockSize(this.B, o);
    if (this.nRetired * 2 === this.retired.length) {
      const r = new Int32Array(this.retired.length * 2);
      r.set(this.retired);
      this.retired = r;
    }
    this.retired[this.nRetired * 2] = o;
    this.retired[this.nRetired * 2 + 1] = size;
    this.nRetired++;
    this.liveWords -= size;
    this.blocks--;
  }

  /** The update is published: its replaced blocks wait for the readers, then free. */
  private endUpdate(): void {
    const n = this.nRetired;
    if (n > 0) {
      this.nRetired = 0;
      if (this.readerSlots.length === 0) {
        // Nobody can be inside them (no readers handed out).
        this.freeAllPending();
        for (let i = 0; i < n; i++) this.free(this.retired[i * 2], this.retired[i * 2 + 1]);
      } else {
        for (let i = 0; i < n; i++) this.pushPending(this.retired[i * 2], this.retired[i * 2 + 1], this.epoch);
        this.epoch = (this.epoch + 1) | 0 || 1;
        Atomics.store(this.ctl, CTL_EPOCH, this.epoch);
        this.reclaim();
      }
    }
    const area = this.cap - DIR_SIZE;
    if (this.cap > this.initialCap && this.liveWords < area >>> 2) {
      this.moveTo(Math.max(this.initialCap, DIR_SIZE + 2 * this.liveWords), true);
    }
  }

  private pushPending(o: number, size: number, epoch: number): void {
    let p = this.pending;
    if (this.pCount * 3 === p.length) {
      const np = new Int32Array(p.length * 2);
      const slots = p.length / 3;
      for (let i = 0; i < this.pCount; i++) {
        const j = ((this.pHead + i) % slots) * 3;
        np[i * 3] = p[j];
        np[i * 3 + 1] = p[j + 1];
        np[i * 3 + 2] = p[j + 2];
      }
      this.pending = p = np;
      this.pHead = 0;
    }
    const slots = p.length / 3;
    const j = ((this.pHead + this.pCount) % slots) * 3;
    p[j] = o;
    p[j + 1] = size;
    p[j + 2] = epoch;
    this.pCount++;
  }

  /** Free the pending blocks that no reader of the current buffer can still be in. */
  private reclaim(): void {
    if (this.pCount === 0) return;
    const ctl = this.ctl;
    // The oldest epoch an online reader of this generation announced.
    let oldest = 0;
    let maxLag = -1;
    for (const slot of this.readerSlots) {
      const base = CTL_SLOT0 + slot * CTL_SLOT_WORDS;
      // Generation first, then epoch: see FibReader.quiescent().
      if (Atomics.load(ctl, base + SLOT_GEN) !== this.gen) continue;
      const e = Atomics.load(ctl, base + SLOT_EPOCH);
      if (e === 0) continue;
      const lag = (this.epoch - e) | 0;
      if (lag > maxLag) {
        maxLag = lag;
        oldest = e;
      }
    }
    const p = this.pending;
    const slots = p.length / 3;
    while (this.pCount > 0) {
      const j = this.pHead * 3;
      // A block replaced during epoch t is safe once every reader announced an epoch after t.
      if (maxLag >= 0 && ((oldest - p[j + 2]) | 0) <= 0) break;
      this.free(p[j], p[j + 1]);
      this.pHead = (this.pHead + 1) % slots;
      this.pCount--;
    }
  }

  private freeAllPending(): void {
    const p = this.pending;
    const slots = p.length / 3;
    while (this.pCount > 0) {
      const j = this.pHead * 3;
      this.free(p[j], p[j + 1]);
      this.pHead = (this.pHead + 1) % slots;
      this.pCount--;
    }
  }

  private grow(need: number): void {
    const area = this.cap - DIR_SIZE;
    const cap = Math.max(DIR_SIZE + area + (area >>> 1), this.top + need + MAX_BLOCK);
    if (cap > MAX_WORDS) throw new RangeError(`LpmTable: more than ${MAX_WORDS} words`);
    this.moveTo(cap, false);
  }

  /**
   * Continue in a new buffer of `cap` words and publish it. Growth (compact
   * false, possibly in the middle of an update) copies every word, so offsets
   * and the blocks of the update in progress stay valid. Compaction (only
   * between updates) copies the reachable blocks back to back.
   */
  private moveTo(cap: number, compact: boolean): void {
    const oldB = this.B;
    const oldMeta = this.meta;
    const B = this.newWords(cap);
    const meta = new Uint8Array(cap);
    if (!compact) {
      B.set(oldB.subarray(0, this.top));
      meta.set(oldMeta.subarray(0, this.top));
      this.B = B;
      this.meta = meta;
      this.cap = cap;
      // Blocks pending from finished updates are unreachable in the copy, which no reader has seen yet.
      this.freeAllPending();
    } else {
      B.set(oldB.subarray(0, DIR_SIZE));
      meta.set(oldMeta.subarray(0, DIR_SIZE));
      let top = DIR_SIZE;
      const copy = (o: number): number => {
        const size = blockSize(oldB, o);
        const no = top;
        top += size;
        for (let j = 0; j < size; j++) {
          B[no + j] = oldB[o + j];
          meta[no + j] = oldMeta[o + j];
        }
        const k = popcnt(oldB[o]) + popcnt(oldB[o + 1]);
        for (let j = 0; j < k; j++) B[no + HDR + j] = PTR | copy(oldB[o + HDR + j] & OFF_MASK);
        return no;
      };
      for (let i = 0; i < DIR_SIZE; i++) {
        const e = oldB[i];
        if (e < 0) B[i] = PTR | copy(e & OFF_MASK);
      }
      this.B = B;
      this.meta = meta;
      this.cap = cap;
      this.top = top;
      this.liveWords = top - DIR_SIZE;
      this.freeHead.fill(-1);
      this.freeWords = 0;
      this.pHead = 0;
      this.pCount = 0;
      this.pending = new Int32Array(96);
      this.retired = new Int32Array(64);
    }
    this.gen = (this.gen + 1) | 0;
    if (this.shared) {
      const msg: FibGenerationMessage = { generation: this.gen, fib: B.buffer as SharedArrayBuffer };
      for (const port of this.readerPorts.values()) port.postMessage(msg);
    }
    Atomics.store(this.ctl, CTL_GEN, this.gen);
  }
}
