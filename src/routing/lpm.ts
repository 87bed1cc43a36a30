/**
 * The FIB's longest-prefix-match table: a 16-8-8 multibit trie whose nodes
 * are compressed (a byte per entry indexing one word per run of equal
 * leaves), in ONE Int32Array that can live in a SharedArrayBuffer, updated by
 * one writer (this class) while readers in other threads (FibReader) look up
 * without locks.
 *
 * Why this structure (scripts/bench-lookup.ts: 564,580 real prefixes, old and
 * new side by side; this machine is shared, so figures are indicative)
 * - The uncompressed 16-8-8 trie it replaces (lpm-16-8-8.ts, kept for the
 *   bench) spends 1 KiB + 256 depth bytes on every /24 group: 35.8 MB. Here a
 *   group costs 256 index bytes plus one word per run: 11-14 MB with the
 *   writer's bookkeeping and free space, and no per-length Maps (those were
 *   ~20 MB of heap).
 * - Tried and measured first (see this file's history): a Poptrie (18-bit
 *   directory, 6-bit nodes with 64-bit bitmaps and popcount, leaf
 *   compression): smallest (5.8 MB) and fast on random addresses, but popcount
 *   costs ~12 operations in JavaScript (no intrinsic) and hit-biased lookups
 *   ran at about half the old trie's speed. Byte indexes instead of bitmaps
 *   (no popcount, no leaf/child branch: the tail word's sign tells) recovered
 *   most of it; a 16-bit directory (256 KiB, stays in L2, unlike the 18-bit
 *   one's 1 MiB) with 8-bit nodes (one node from /16 to /24, where nearly all
 *   real prefixes end) beat the 18/6 layout on both address mixes. Bitmaps
 *   with per-group counts (one popcount) and aligned or reversed block
 *   layouts measured slower. A DXR-style range table was not built: its binary
 *   search per lookup has unpredictable branches and an update rebuilds a
 *   whole /16 chunk.
 *
 * Layout (word offsets into B; fib-lookup.ts has the lookup code)
 * - B[0 .. 65536): the directory, indexed by addr[31:16]. An entry >= 0 is a
 *   leaf (the FIB value, 0 = no route); < 0 is PTR | offset o of a node.
 * - A node covers the 256 /(d+8) sub-blocks of its /d block (d = 16 or 24).
 *   Readers see B[o .. o+64): entry indexes, byte i for entry i; then the
 *   tail B[o+64 ..]: one word per child pointer and per run of adjacent
 *   entries with equal value (and prefix length). Entry i's word is
 *   B[o + 64 + byte i]: two reads per level, both in the node.
 * - The writer keeps its own words around that (readers never read them):
 *   before o the node's stored prefixes (a bitmap of which prefixes of
 *   lengths d+1..d+7 inside the block exist, and their values), its
 *   background (the longest prefix of /d or shorter covering the block: what
 *   a delete falls back to) and its tail length; after the tail, the prefix
 *   length of each tail word (runs are of equal value AND length). Prefixes
 *   of a node's entry length (/24, /32) need no bit: an entry painted by that
 *   length, or a child whose background has it, records one. Prefixes of /16
 *   and shorter are kept in a dense writer-only array (2^17 slots).
 *
 * Updates: the prefix is painted into the entries it covers (an entry takes
 * the new value if its current prefix is not longer; on delete the entries
 * the prefix painted take the covering prefix, found in the node's bitmap or
 * background), descending into nodes below short prefixes and expanding a
 * leaf into a node on the path of a long one. A node left with one run of a
 * prefix no longer than its depth, and nothing stored, collapses into its
 * parent's entry. An update that keeps a node's shape (every touched entry
 * keeps its tail word: a next hop changes, a /24 flips between its value and
 * its cover) stores the changed words in place; otherwise the node is
 * rebuilt from the old one by copying its words around the touched entries
 * (index bytes after them shift by one constant), so an update costs the
 * touched entries plus a copy.
 *
 * Concurrency: one writer thread, any number of lock-free readers
 * - What readers can reach changes only by single-word stores: a directory
 *   entry, or a tail word (leaf value or child pointer) of a node that keeps
 *   its shape. A node whose index bytes change is rebuilt in a new block
 *   (copy-on-write) and published by ONE Atomics.store of the pointer word
 *   that leads to it (a directory entry, or a tail word of its parent), after
 *   all its words are written; new children are published the same way
 *   (leaf values need no ordering: plain stores). A lookup reads one word
 *   per level, so it sees each of them before or after an update, never a
 *   torn or half-built node. (A prefix that spans several entries becomes
 *   visible entry by entry, as in any RCU-published FIB.) Readers use plain
 *   reads: each depends on the value of the one before, which x86-64 and
 *   ARM64 order after it, and Atomics.load is not inlined by V8 (3-4x
 *   slower lookups).
 * - Reclamation (epochs, quiescent-state based): the control block holds a
 *   global epoch and one slot per reader. A block replaced by an update goes
 *   on a pending list tagged with the epoch current during that update; at
 *   the end of the update the writer bumps the epoch. A reader announces a
 *   quiescent point (FibReader.quiescent(), called between batches: it holds
 *   no pointer into the FIB there) by storing the epoch it reads into its
 *   slot, then re-reading the epoch to close the race with a concurrent
 *   bump. A pending block is reused only when every online reader slot of
 *   the current generation shows a later epoch; offline slots (0) hold
 *   nothing. Readers pay no atomic operation per lookup; a reader that stops
 *   calling quiescent() only delays reuse (the table grows instead), it
 *   never reads freed memory.
 * - Growth: when no free block fits, the writer copies B into a 1.25x larger
 *   new SharedArrayBuffer, posts {generation, buffer} to every reader's
 *   MessagePort, then stores the new generation (Atomics.store). Readers keep
 *   reading the old buffer (frozen from then on: a consistent snapshot) until
 *   their next quiescent(), which sees the new generation and takes the
 *   buffer from the port with receiveMessageOnPort (synchronous, no event
 *   loop needed). Blocks pending when the copy was made are unreachable in
 *   the new buffer and reused at once; reclamation ignores readers of older
 *   generations.
 * - When under half the block area is live (after deletes, or blocks freed
 *   in sizes nothing needs), the writer copies the reachable blocks back to
 *   back into a new buffer 1.25x their size, published the same way; deleting
 *   everything returns to the initial size.
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
  NO_WORDS,
  type FibGenerationMessage,
  type FibHandles,
} from './fib-lookup.js';
import { maskOf } from '../net/addr.js';
import { checkPrefix } from './prefix-check.js';

export { FibReader } from './fib-reader.js';
export type { FibHandles } from './fib-lookup.js';

// The layout constants the update code uses, as private literals: V8 folds
// those into the code but loads imported ones from their module cell at each
// use. Checked against fib-lookup.ts below.
/** Offset of the tail from a block's pointer (= HDR). */
const TAIL = 64;
const DIRB = 16; // = DIR_BITS
const DIR_SHIFT = 16; // = 32 - DIR_BITS
const OFF = 0x7fffffff; // = OFF_MASK
/** Node levels below the directory, and entries per node. */
const LEVELS = 2;
const FAN = 256;
if (
  TAIL !== HDR ||
  DIRB !== DIR_BITS ||
  DIR_SHIFT !== 32 - DIR_BITS ||
  OFF !== OFF_MASK ||
  LEVELS * STRIDE !== 32 - DIR_BITS ||
  FAN !== 1 << STRIDE
) {
  throw new Error('lpm: layout constants differ from fib-lookup');
}

/**
 * Writer-only words in front of a block's pointer target o (readers never
 * read them): room for stored-prefix values at o-10-room .. o-11 (the first
 * m used), o-10 the background value, o-9 the background length | tail
 * words << 6 | m << 15 | room << 23, o-8..o-1 the stored-prefix bitmap (see
 * prefixBit()).
 */
const W_BG = -10;
const W_LEN = -9;
const W_BITS = -8;
const FIXED_PRE = 10;
const MAX_VALUE = 0x7fffffff;
/** Prefixes of lengths d+1..d+7 inside a node at depth d: 2 + 4 + ... + 128. */
const MAX_STORED = 254;
/** Block words for t tail words and room for `room` stored values: writer words, index, tail, tail prefix lengths (bytes). */
function blockWords(t: number, room: number): number {
  return room + FIXED_PRE + TAIL + t + ((t + 3) >>> 2);
}
/** Room for m stored values in a new block: two spare, so most adds happen in place. */
function roomFor(m: number): number {
  return m + 2 < MAX_STORED ? m + 2 : MAX_STORED;
}
const MAX_BLOCK = blockWords(FAN, MAX_STORED);
/** A node has at least one tail word. */
const MIN_BLOCK = blockWords(1, roomFor(0));
/** Block offsets are 31-bit word offsets; 2^29 words = 2 GiB keeps byte lengths sane. */
const MAX_WORDS = 1 << 29;
const DEFAULT_INITIAL_WORDS = 1 << 14;
const DEFAULT_MAX_READERS = 16;
/** Prefixes of /0../16 live in a dense array indexed by (length, bits): 2^17 - 1 slots. */
const SHORT_SLOTS = (2 << DIRB) - 1;

function popcnt(x: number): number {
  x = (x - ((x >>> 1) & 0x55555555)) | 0;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Slot of a /0../16 prefix in the dense array. */
function shortSlot(p: number, len: number): number {
  return len === 0 ? 0 : (1 << len) - 1 + (p >>> (32 - len));
}

/** Tail index (0..255) of entry i of block o. */
function tailIndex(B: Int32Array, o: number, i: number): number {
  return (B[o + (i >>> 2)] >>> ((i & 3) << 3)) & 255;
}

/** Length of block o's background prefix (0..32). */
function bgLenOf(B: Int32Array, o: number): number {
  return B[o + W_LEN] & 63;
}

/** Tail words of block o (1..256). */
function tailCount(B: Int32Array, o: number): number {
  return (B[o + W_LEN] >>> 6) & 511;
}

/** Stored prefixes of block o (0..254). */
function storedCount(B: Int32Array, o: number): number {
  return (B[o + W_LEN] >>> 15) & 255;
}

/** Room for stored values of block o. */
function storedRoom(B: Int32Array, o: number): number {
  return (B[o + W_LEN] >>> 23) & 255;
}

function lenWord(bgLen: number, t: number, m: number, room: number): number {
  return bgLen | (t << 6) | (m << 15) | (room << 23);
}

/** Byte offset (in the byte view) of the prefix lengths of block o's tail. */
function depthBase(o: number, t: number): number {
  return (o + TAIL + t) << 2;
}

/**
 * Bit of prefix p/l in the stored-prefix bitmap of the node at depth nd
 * (nd < l < nd + 8): by length, then by the prefix's bits after the first nd.
 */
function prefixBit(p: number, l: number, nd: number): number {
  const k = l - nd;
  return (1 << k) - 2 + ((p >>> (32 - l)) & ((1 << k) - 1));
}

/** Set bits of block o's stored-prefix bitmap below `bit`: the index of its value. */
function rankOf(B: Int32Array, o: number, bit: number): number {
  const w = o + W_BITS + (bit >>> 5);
  let r = popcnt(B[w] & ((1 << (bit & 31)) - 1));
  for (let k = o + W_BITS; k < w; k++) r += popcnt(B[k]);
  return r;
}

function hasBit(B: Int32Array, o: number, bit: number): boolean {
  return ((B[o + W_BITS + (bit >>> 5)] >>> (bit & 31)) & 1) !== 0;
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
  private B: Int32Array = NO_WORDS;
  /** Byte view of B, for the writer's packed prefix lengths. */
  private B8: Uint8Array;
  /** Writer-only: length of the prefix that painted each directory leaf. */
  private readonly dirDep = new Uint8Array(DIR_SIZE);
  /** Writer-only: values of the stored /0../16 prefixes (0 = none), at shortSlot(). */
  private readonly shortVal = new Int32Array(SHORT_SLOTS);
  /** Words in B, and the first word never handed out. */
  private cap: number;
  private top: number;
  private readonly initialCap: number;
  /** Words and number of blocks reachable (or being built by the current update). */
  private liveWords = 0;
  private blocks = 0;
  /** Free blocks by exact size, linked through their first word; -1 ends a list. */
  private readonly freeHead = new Int32Array(MAX_BLOCK + 1).fill(-1);
  /** Blocks replaced by the current update: start, size. */
  private retired = new Int32Array(64);
  private nRetired = 0;
  /** Blocks replaced by earlier updates, waiting for readers: a FIFO of (start, size, epoch). */
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

  private count = 0;

  // The update in progress: painting prefix opQ/opLen with opVal (insert), or
  // replacing what it painted by (opRv, opRd) (delete).
  private opInsert = true;
  private opQ = 0;
  private opLen = 0;
  private opVal = 0;
  private opRv = 0;
  private opRd = 0;
  /** Second results: prefix length of a leaf returned by applyEntry() and friends; findNode()'s depth. */
  private outDep = 0;
  private walkDepth = -1;
  /** New content of the touched entries, one row per node level: value or pointer, and prefix length. */
  private readonly sVal = new Int32Array(LEVELS * FAN);
  private readonly sDep = new Uint8Array(LEVELS * FAN);
  /** A new block's segment of tail words and their prefix lengths, and encode()'s index words. */
  private readonly tailVal = new Int32Array(FAN);
  private readonly tailDep = new Uint8Array(FAN);
  private readonly idxWords = new Int32Array(TAIL);
  /** rewriteBlock()'s new tail index per touched entry, and entryRange()'s result. */
  private readonly segIdx = new Uint8Array(FAN);
  private lo = 0;
  private hi = 0;

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
    this.B8 = new Uint8Array(this.B.buffer);
    const nCtl = ctlWords(this.maxReaders);
    this.ctl = new Int32Array(this.shared ? new SharedArrayBuffer(nCtl * 4) : new ArrayBuffer(nCtl * 4));
    this.ctl[CTL_GEN] = this.gen;
    this.ctl[CTL_EPOCH] = this.epoch;
    this.ctl[CTL_MAX_READERS] = this.maxReaders;
    this.ctl[CTL_DIR_BITS] = DIR_BITS;
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
    const v = this.stored(checkPrefix(prefix, len), len);
    return v === 0 ? undefined : v;
  }

  /** Insert or replace prefix/len with value (1..0x7fffffff). */
  set(prefix: number, len: number, value: number): void {
    const p = checkPrefix(prefix, len);
    if (!Number.isInteger(value) || value < 1 || value > MAX_VALUE) {
      throw new RangeError(`value must be an integer 1..${MAX_VALUE}, got ${value}`);
    }
    const old = this.stored(p, len);
    if (old === value) return;
    if (old === 0) this.count++;
    if (len <= DIRB) this.shortVal[shortSlot(p, len)] = value;
    // Longer prefixes are recorded in their node by the update itself.
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
    if (this.stored(p, len) === 0) return false;
    this.count--;
    if (len <= DIRB) {
      this.shortVal[shortSlot(p, len)] = 0;
      this.coverShort(p, len);
    } else {
      this.coverInNode(p, len);
    }
    this.opInsert = false;
    this.opQ = p;
    this.opLen = len;
    this.applyTop();
    this.endUpdate();
    return true;
  }

  /** All prefixes as [prefix, len, value]: /0../16 by length, then the rest by node. */
  *entries(): IterableIterator<[number, number, number]> {
    for (let len = 0; len <= DIRB; len++) {
      const first = shortSlot(0, len);
      for (let i = 0; i < 1 << len; i++) {
        const v = this.shortVal[first + i];
        if (v !== 0) yield [len === 0 ? 0 : (i << (32 - len)) >>> 0, len, v];
      }
    }
    const nodes: [number, number, number][] = []; // (pointer target, its block's address, depth)
    for (let i = 0; i < DIR_SIZE; i++) if (this.B[i] < 0) nodes.push([this.B[i] & OFF, (i << DIR_SHIFT) >>> 0, DIRB]);
    while (nodes.length > 0) {
      const [o, base, d] = nodes.pop()!;
      const B = this.B; // (callers must not update the table while iterating)
      const m = storedCount(B, o);
      const values = o + W_BG - storedRoom(B, o);
      let r = 0;
      for (let bit = 0; bit < MAX_STORED && r < m; bit++) {
        if (!hasBit(B, o, bit)) continue;
        const k = 31 - Math.clz32(bit + 2); // prefixBit() inverted
        const bits = bit + 2 - (1 << k);
        yield [(base | (bits << (32 - d - k))) >>> 0, d + k, B[values + r]];
        r++;
      }
      // Entry-length prefixes: entries painted by that length, children whose background has it.
      const dc = d + STRIDE;
      const db = depthBase(o, tailCount(B, o));
      for (let i = 0; i < FAN; i++) {
        const j = tailIndex(B, o, i);
        const e = B[o + TAIL + j];
        const p = (base | (dc === 32 ? i : i << (32 - dc))) >>> 0;
        if (e >= 0) {
          if (this.B8[db + j] === dc) yield [p, dc, e];
          continue;
        }
        const c = e & OFF;
        if (bgLenOf(B, c) === dc) yield [p, dc, B[c + W_BG]];
        nodes.push([c, p, dc]);
      }
    }
  }

  /** Bytes held by the typed arrays: the lookup structure with the writer's words, and the writer's own arrays. */
  memoryBytes(): number {
    return (
      this.B.byteLength +
      this.dirDep.byteLength +
      this.shortVal.byteLength +
      this.ctl.byteLength +
      this.freeHead.byteLength +
      this.retired.byteLength +
      this.pending.byteLength +
      this.sVal.byteLength +
      this.sDep.byteLength +
      this.tailVal.byteLength +
      this.tailDep.byteLength +
      this.idxWords.byteLength +
      this.segIdx.byteLength
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

  // ---- stored prefixes ------------------------------------------------------

  /**
   * Value of stored prefix p/len, 0 if none. A prefix of a node's entry
   * length is not in its bitmap: the entry tells (a leaf painted by that
   * length, or a child whose background has it).
   */
  private stored(p: number, len: number): number {
    if (len <= DIRB) return this.shortVal[shortSlot(p, len)];
    const o = this.findNode(p, len);
    if (o < 0) return 0;
    const B = this.B;
    const nd = this.walkDepth;
    if (len === nd + STRIDE) {
      const j = tailIndex(B, o, (p >>> (32 - len)) & (FAN - 1));
      const e = B[o + TAIL + j];
      if (e >= 0) return this.B8[depthBase(o, tailCount(B, o)) + j] === len ? e : 0;
      const c = e & OFF;
      return bgLenOf(B, c) === len ? B[c + W_BG] : 0;
    }
    const bit = prefixBit(p, len, nd);
    if (!hasBit(B, o, bit)) return 0;
    return B[o + W_BG - storedRoom(B, o) + rankOf(B, o, bit)];
  }

  /**
   * The node q/len belongs to: the one at depth nd with nd < len <= nd + 8
   * (nd left in walkDepth), or -1 if q's path ends above it in a leaf.
   */
  private findNode(q: number, len: number): number {
    const B = this.B;
    let e = B[q >>> DIR_SHIFT];
    let d = DIRB;
    while (e < 0) {
      const o = e & OFF;
      if (len <= d + STRIDE) {
        this.walkDepth = d;
        return o;
      }
      e = B[o + TAIL + tailIndex(B, o, (q >>> (32 - d - STRIDE)) & (FAN - 1))];
      d += STRIDE;
    }
    return -1;
  }

  /** (opRv, opRd) <- the longest stored prefix shorter than len covering q/len (len <= 16). */
  private coverShort(q: number, len: number): void {
    for (let l = len - 1; l >= 0; l--) {
      const v = this.shortVal[shortSlot(q & maskOf(l), l)];
      if (v !== 0) {
        this.opRv = v;
        this.opRd = l;
        return;
      }
    }
    this.opRv = 0;
    this.opRd = 0;
  }

  /**
   * (opRv, opRd) <- the longest stored prefix shorter than len covering q/len
   * (len > 16, q stored): one of its own node's stored prefixes, or else the
   * node's background (the cover up to the node's depth).
   */
  private coverInNode(q: number, len: number): void {
    const o = this.findNode(q, len);
    const nd = this.walkDepth;
    const B = this.B;
    for (let l = len - 1; l > nd; l--) {
      const bit = prefixBit(q, l, nd);
      if (!hasBit(B, o, bit)) continue;
      this.opRv = B[o + W_BG - storedRoom(B, o) + rankOf(B, o, bit)];
      this.opRd = l;
      return;
    }
    this.opRv = B[o + W_BG];
    this.opRd = bgLenOf(B, o);
  }

  // ---- painting -------------------------------------------------------------

  /** Apply the current update to the directory entries its prefix touches. */
  private applyTop(): void {
    const len = this.opLen;
    const first = this.opQ >>> DIR_SHIFT;
    const end = len <= DIRB ? first + (1 << (DIRB - len)) : first + 1;
    const dirDep = this.dirDep;
    for (let i = first; i < end; i++) {
      const e = this.B[i];
      const ne = this.applyEntry(e, dirDep[i], DIRB);
      // B may have grown meanwhile. A new node is published by an atomic
      // store, after its words; a leaf has nothing to order before it (and
      // may keep its value under a prefix of another length).
      if (ne >= 0) {
        dirDep[i] = this.outDep;
        if (ne !== e) this.B[i] = ne;
      } else if (ne !== e) {
        Atomics.store(this.B, i, ne);
      }
    }
  }

  /**
   * The new content of an entry that covers a /d block and holds e (a leaf
   * painted by a /ed prefix, or a node pointer) under the current update. A
   * returned leaf's prefix length is left in outDep.
   */
  private applyEntry(e: number, ed: number, d: number): number {
    if (e < 0) return this.rewriteBlock(e, d);
    const len = this.opLen;
    if (len <= d) {
      if (this.opInsert ? ed <= len : ed === len) {
        this.outDep = this.opInsert ? len : this.opRd;
        return this.opInsert ? this.opVal : this.opRv;
      }
      this.outDep = ed;
      return e;
    }
    // The prefix is inside this leaf's block. Every stored prefix longer
    // than d lives in a node, so the leaf comes from one no longer than d:
    // an insert needs a node here; a deleted prefix had a node, so a delete
    // never gets here (and would have nothing to change).
    if (!this.opInsert) {
      this.outDep = ed;
      return e;
    }
    return this.expand(e, ed, d);
  }

  /** [lo, hi) <- the entries of a node at depth d that the current update touches. */
  private entryRange(d: number): void {
    const len = this.opLen;
    if (len <= d) {
      this.lo = 0;
      this.hi = FAN;
      return;
    }
    const dc = d + STRIDE;
    const lo = (this.opQ >>> (32 - dc)) & (FAN - 1);
    this.lo = lo;
    this.hi = len <= dc ? lo + (1 << (dc - len)) : lo + 1;
  }

  /**
   * Apply the current update inside the node at depth d whose block `ptr`
   * points to. Returns the node's pointer: the same one if the node kept its
   * shape (its changed tail words, child pointers and writer words are then
   * stored in place), a new block's otherwise; or a leaf (its length in
   * outDep) if the node collapsed.
   *
   * A new block is built from the old one: tail words before and after the
   * touched entries [lo, hi) are copied, index bytes after them shift by the
   * same amount (index bytes never decrease along the entries, and a tail
   * word serves one contiguous run of entries), so an update costs the
   * touched entries plus a copy, not a pass over all 256 entries.
   */
  private rewriteBlock(ptr: number, d: number): number {
    const o = ptr & OFF;
    const dc = d + STRIDE;
    const row = ((d - DIRB) / STRIDE) * FAN;
    const len = this.opLen;
    const ins = this.opInsert;
    let B = this.B;
    let B8 = this.B8;
    const t = tailCount(B, o);
    let bgV = B[o + W_BG];
    let bgD = bgLenOf(B, o);
    let bgChanged = false;
    // The update's own prefix is in this node's bitmap.
    const own = len > d && len < dc;
    if (len <= d) {
      if (ins ? bgD <= len : bgD === len) {
        bgV = ins ? this.opVal : this.opRv;
        bgD = ins ? len : this.opRd;
        bgChanged = true;
      }
      // The whole node is under the prefix: nothing to do unless it has a
      // child or a leaf the update changes.
      let touched = false;
      const db = depthBase(o, t);
      for (let j = 0; j < t; j++) {
        const dj = B8[db + j];
        if (B[o + TAIL + j] < 0 || (ins ? dj <= len : dj === len)) {
          touched = true;
          break;
        }
      }
      if (!touched) {
        if (bgChanged) this.setBackground(o, bgV, bgD);
        return ptr;
      }
    }
    this.entryRange(d);
    const lo = this.lo;
    const hi = this.hi;

    const sVal = this.sVal;
    const sDep = this.sDep;
    let structural = false;
    let swaps = false;
    for (let i = lo; i < hi; i++) {
      const j = tailIndex(B, o, i);
      const e = B[o + TAIL + j];
      let ne: number;
      if (e >= 0) {
        // A leaf, inline: the common case of an update's few entries.
        const ed = B8[depthBase(o, t) + j];
        let nd = ed;
        ne = e;
        if (len > dc) {
          ne = this.expand(e, ed, dc);
          B = this.B;
          B8 = this.B8;
        } else if (ins ? ed <= len : ed === len) {
          ne = ins ? this.opVal : this.opRv;
          nd = ins ? len : this.opRd;
        }
        sVal[row + i] = ne;
        if (ne >= 0) sDep[row + i] = nd;
        if (ne !== e || nd !== ed) structural = true;
      } else {
        ne = this.rewriteBlock(e, dc);
        B = this.B; // the child's rebuild may have grown the buffer (offsets stay valid)
        B8 = this.B8;
        sVal[row + i] = ne;
        if (ne >= 0) {
          sDep[row + i] = this.outDep;
          structural = true;
        } else if (ne !== e) {
          swaps = true;
        }
      }
    }

    if (!structural && !own) {
      if (swaps) {
        // Same shape, new children: publish each by storing its pointer word.
        for (let i = lo; i < hi; i++) {
          const c = o + TAIL + tailIndex(B, o, i);
          if (B[c] !== sVal[row + i]) Atomics.store(B, c, sVal[row + i]);
        }
      }
      if (bgChanged) this.setBackground(o, bgV, bgD);
      return ptr;
    }

    // The stored prefixes: add, replace or remove the update's own.
    const m = storedCount(B, o);
    const room = storedRoom(B, o);
    let nm = m;
    let qBit = -1;
    let qRank = 0;
    let qHad = false;
    if (own) {
      qBit = prefixBit(this.opQ, len, d);
      qRank = rankOf(B, o, qBit);
      qHad = hasBit(B, o, qBit);
      nm = ins ? (qHad ? m : m + 1) : m - 1;
    }

    // Old tail words [0, a) serve entries before lo, [b, t) entries from hi on.
    const a = lo > 0 ? tailIndex(B, o, lo - 1) + 1 : 0;
    const b = hi < FAN ? tailIndex(B, o, hi) : t;
    const odb = depthBase(o, t);
    // New runs for [lo, hi), continuing the run before lo if equal.
    const tV = this.tailVal;
    const tD = this.tailDep;
    const segIdx = this.segIdx;
    let pv = -1;
    let pd = -1;
    if (a > 0 && B[o + TAIL + a - 1] >= 0) {
      pv = B[o + TAIL + a - 1];
      pd = B8[odb + a - 1];
    }
    let pj = a - 1;
    let s = 0;
    for (let i = lo; i < hi; i++) {
      const e = sVal[row + i];
      if (e < 0) {
        segIdx[i] = a + s;
        tD[s] = 0;
        tV[s++] = e;
        pv = -1;
        pd = -1;
        continue;
      }
      const dd = sDep[row + i];
      if (e !== pv || dd !== pd) {
        pj = a + s;
        tV[s] = e;
        tD[s] = dd;
        s++;
        pv = e;
        pd = dd;
      }
      segIdx[i] = pj;
    }
    // The last run continues into the run at hi if equal: that old word is dropped.
    let from = b;
    if (b < t && pv >= 0 && B[o + TAIL + b] === pv && B8[odb + b] === pd) from = b + 1;
    const shift = a + s - from; // new index - old index, for every entry from hi on
    const nt = a + s + (t - from);
    if (nt === 1 && nm === 0) {
      // One run of leaves from a prefix no longer than d, nothing stored: the
      // node collapses into its parent's entry. (A run of entry-length
      // prefixes keeps its node: the node is what records them.)
      const v = a === 1 ? B[o + TAIL] : s === 1 ? tV[0] : B[o + TAIL + from];
      const vd = a === 1 ? B8[odb] : s === 1 ? tD[0] : B8[odb + from];
      if (vd <= d) {
        this.outDep = vd;
        this.retire(o);
        return v;
      }
    }

    // Same shape (every touched entry keeps its tail word, no run split or
    // merged): change those words in place. Each is one word, so a reader
    // sees it before or after, as with a directory leaf; a new child is
    // published by an atomic store. The stored values are the writer's own
    // words and change in place while the block has room.
    let same = shift === 0 && nt === t && nm <= room;
    for (let i = lo; same && i < hi; i++) if (segIdx[i] !== tailIndex(B, o, i)) same = false;
    if (same) {
      for (let j = 0; j < s; j++) {
        const w = o + TAIL + a + j;
        const nv = tV[j];
        if (B[w] !== nv) {
          if (nv < 0) Atomics.store(B, w, nv);
          else B[w] = nv;
        }
        B8[odb + a + j] = tD[j];
      }
      if (own) {
        const vs = o + W_BG - room;
        if (!ins) {
          for (let k = qRank; k < m - 1; k++) B[vs + k] = B[vs + k + 1];
        } else if (!qHad) {
          for (let k = m; k > qRank; k--) B[vs + k] = B[vs + k - 1];
        }
        if (ins) B[vs + qRank] = this.opVal;
        const w = o + W_BITS + (qBit >>> 5);
        if (ins) B[w] |= 1 << (qBit & 31);
        else B[w] &= ~(1 << (qBit & 31));
      }
      B[o + W_BG] = bgV;
      B[o + W_LEN] = lenWord(bgD, t, nm, room);
      return ptr;
    }

    const nroom = roomFor(nm);
    const start = this.alloc(blockWords(nt, nroom));
    B = this.B; // after alloc: it may have grown
    B8 = this.B8;
    const no = start + nroom + FIXED_PRE;
    // Writer words: stored values (with the update's own), background, bitmap.
    const ov = o + W_BG - room;
    const nv = no + W_BG - nroom;
    if (!own) {
      for (let k = 0; k < m; k++) B[nv + k] = B[ov + k];
    } else {
      for (let k = 0; k < qRank; k++) B[nv + k] = B[ov + k];
      const skip = qHad ? 1 : 0;
      if (ins) {
        B[nv + qRank] = this.opVal;
        for (let k = qRank + skip; k < m; k++) B[nv + k + 1 - skip] = B[ov + k];
      } else {
        for (let k = qRank + 1; k < m; k++) B[nv + k - 1] = B[ov + k];
      }
    }
    B[no + W_BG] = bgV;
    B[no + W_LEN] = lenWord(bgD, nt, nm, nroom);
    for (let k = W_BITS; k < 0; k++) B[no + k] = B[o + k];
    if (own) {
      const w = no + W_BITS + (qBit >>> 5);
      if (ins) B[w] |= 1 << (qBit & 31);
      else B[w] &= ~(1 << (qBit & 31));
    }
    // Index words: before the touched ones copied, touched ones per byte, the rest shifted.
    const wLo = lo >>> 2;
    const wHi = (hi - 1) >>> 2;
    for (let k = 0; k < wLo; k++) B[no + k] = B[o + k];
    for (let k = wLo; k <= wHi; k++) {
      const old = B[o + k];
      let word = 0;
      for (let x = 0; x < 4; x++) {
        const i = (k << 2) + x;
        const sh = x << 3;
        const ob = (old >>> sh) & 255;
        const nb = i < lo ? ob : i < hi ? segIdx[i] : ob + shift;
        word |= nb << sh;
      }
      B[no + k] = word;
    }
    // Bytes of untouched words all shift alike; no byte carries (all stay 0..255).
    const packed = Math.imul(shift < 0 ? -shift : shift, 0x01010101);
    for (let k = wHi + 1; k < TAIL; k++) B[no + k] = shift < 0 ? B[o + k] - packed : B[o + k] + packed;
    // Tail words and their prefix lengths.
    const ot = o + TAIL;
    const ntl = no + TAIL;
    const ndb = depthBase(no, nt);
    for (let j = 0; j < a; j++) {
      B[ntl + j] = B[ot + j];
      B8[ndb + j] = B8[odb + j];
    }
    for (let j = 0; j < s; j++) {
      B[ntl + a + j] = tV[j];
      B8[ndb + a + j] = tD[j];
    }
    for (let j = from; j < t; j++) {
      B[ntl + j + shift] = B[ot + j];
      B8[ndb + j + shift] = B8[odb + j];
    }
    this.retire(o);
    return PTR | no;
  }

  /**
   * Apply the current insert to a new node at depth d made of 256 copies of
   * leaf (lv, ld), ld <= d: the inserted prefix lies inside the leaf's block.
   * Returns the new node's pointer.
   */
  private expand(lv: number, ld: number, d: number): number {
    const dc = d + STRIDE;
    const row = ((d - DIRB) / STRIDE) * FAN;
    const sVal = this.sVal;
    const sDep = this.sDep;
    sVal.fill(lv, row, row + FAN);
    sDep.fill(ld, row, row + FAN);
    this.entryRange(d);
    for (let i = this.lo, hi = this.hi; i < hi; i++) {
      const ne = this.applyEntry(lv, ld, dc);
      sVal[row + i] = ne;
      if (ne >= 0) sDep[row + i] = this.outDep;
    }
    const len = this.opLen;
    return this.encode(row, lv, ld, len < dc ? prefixBit(this.opQ, len, d) : -1);
  }

  /**
   * A new block from the scratch row, with background (bgV, bgD) and, if
   * qBit >= 0, the update's prefix stored. Adjacent leaf entries with equal
   * value and length share a tail word.
   */
  private encode(row: number, bgV: number, bgD: number, qBit: number): number {
    const sVal = this.sVal;
    const sDep = this.sDep;
    const tV = this.tailVal;
    const tD = this.tailDep;
    const idx = this.idxWords;
    let t = 0;
    let pv = -1;
    let pd = -1;
    let pj = 0;
    let w = 0;
    for (let i = 0; i < FAN; i++) {
      const e = sVal[row + i];
      let j: number;
      if (e < 0) {
        j = t;
        tD[t] = 0;
        tV[t++] = e;
        pv = -1; // a child ends a run: every tail word serves contiguous entries
        pd = -1;
      } else {
        const dd = sDep[row + i];
        if (e !== pv || dd !== pd) {
          pj = t;
          tV[t] = e;
          tD[t] = dd;
          t++;
          pv = e;
          pd = dd;
        }
        j = pj;
      }
      w |= j << ((i & 3) << 3);
      if ((i & 3) === 3) {
        idx[i >>> 2] = w;
        w = 0;
      }
    }
    const m = qBit >= 0 ? 1 : 0;
    const room = roomFor(m);
    const start = this.alloc(blockWords(t, room));
    const B = this.B; // after alloc: it may have grown
    const B8 = this.B8;
    const o = start + room + FIXED_PRE;
    if (m === 1) B[o + W_BG - room] = this.opVal;
    B[o + W_BG] = bgV;
    B[o + W_LEN] = lenWord(bgD, t, m, room);
    for (let k = W_BITS; k < 0; k++) B[o + k] = 0;
    if (m === 1) B[o + W_BITS + (qBit >>> 5)] = 1 << (qBit & 31);
    for (let k = 0; k < TAIL; k++) B[o + k] = idx[k];
    const db = depthBase(o, t);
    for (let k = 0; k < t; k++) {
      B[o + TAIL + k] = tV[k];
      B8[db + k] = tD[k];
    }
    return PTR | o;
  }

  private setBackground(o: number, v: number, len: number): void {
    const B = this.B;
    B[o + W_BG] = v;
    B[o + W_LEN] = (B[o + W_LEN] & ~63) | len;
  }

  // ---- block memory -----------------------------------------------------------

  private newWords(n: number): Int32Array {
    return new Int32Array(this.shared ? new SharedArrayBuffer(n * 4) : new ArrayBuffer(n * 4));
  }

  /** Start of a new block of `size` words. */
  private alloc(size: number): number {
    let s = this.freeHead[size];
    if (s >= 0) {
      this.freeHead[size] = this.B[s];
    } else if (this.top + size <= this.cap) {
      s = this.top;
      this.top += size;
    } else {
      this.reclaim();
      s = this.takeFree(size);
      if (s < 0) {
        if (this.top + size > this.cap) this.grow(size);
        s = this.top;
        this.top += size;
      }
    }
    this.liveWords += size;
    this.blocks++;
    return s;
  }

  /** A free block of exactly `size`, or the front of a larger one (the rest stays free); -1 if none. */
  private takeFree(size: number): number {
    let s = this.freeHead[size];
    if (s >= 0) {
      this.freeHead[size] = this.B[s];
      return s;
    }
    for (let z = size + MIN_BLOCK; z <= MAX_BLOCK; z++) {
      s = this.freeHead[z];
      if (s < 0) continue;
      this.freeHead[z] = this.B[s];
      this.free(s + size, z - size);
      return s;
    }
    return -1;
  }

  private free(start: number, size: number): void {
    this.B[start] = this.freeHead[size];
    this.freeHead[size] = start;
  }

  /** Block o is no longer reachable once the current update publishes. */
  private retire(o: number): void {
    const B = this.B;
    const room = storedRoom(B, o);
    const size = blockWords(tailCount(B, o), room);
    if (this.nRetired * 2 === this.retired.length) {
      const r = new Int32Array(this.retired.length * 2);
      r.set(this.retired);
      this.retired = r;
    }
    this.retired[this.nRetired * 2] = o - FIXED_PRE - room;
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
    // Under half the block area live (deletes, or free blocks of unusable
    // sizes): copy the live blocks into a buffer 1.25x their size.
    const area = this.cap - DIR_SIZE;
    if (this.cap > this.initialCap && this.liveWords < area >>> 1) {
      this.moveTo(Math.max(this.initialCap, DIR_SIZE + this.liveWords + (this.liveWords >>> 2)), true);
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
    const cap = Math.max(DIR_SIZE + area + (area >>> 2), this.top + need + MAX_BLOCK);
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
    const B = this.newWords(cap);
    if (!compact) {
      B.set(oldB.subarray(0, this.top));
      this.B = B;
      this.B8 = new Uint8Array(B.buffer);
      this.cap = cap;
      // Blocks pending from finished updates are unreachable in the copy, which no reader has seen yet.
      this.freeAllPending();
    } else {
      B.set(oldB.subarray(0, DIR_SIZE));
      let top = DIR_SIZE;
      const copy = (o: number): number => {
        const t = tailCount(oldB, o);
        const room = storedRoom(oldB, o);
        const size = blockWords(t, room);
        const no = top + room + FIXED_PRE;
        B.set(oldB.subarray(o - FIXED_PRE - room, o - FIXED_PRE - room + size), top);
        top += size;
        for (let j = no + TAIL; j < no + TAIL + t; j++) if (B[j] < 0) B[j] = PTR | copy(B[j] & OFF);
        return no;
      };
      for (let i = 0; i < DIR_SIZE; i++) {
        const e = oldB[i];
        if (e < 0) B[i] = PTR | copy(e & OFF);
      }
      this.B = B;
      this.B8 = new Uint8Array(B.buffer);
      this.cap = cap;
      this.top = top;
      this.liveWords = top - DIR_SIZE;
      this.freeHead.fill(-1);
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
