/**
 * The FIB's previous longest-prefix-match table, kept for the side-by-side
 * route-lookup benchmark (scripts/bench-lookup.ts); the FIB itself now uses
 * the compact, shareable table in lpm.ts. A DIR-16-8-8 multibit trie on typed
 * arrays (a smaller-footprint variant of DPDK's DIR-24-8).
 *
 * Layout
 * - Level 1: 65,536 entries indexed by addr[31:16] (prefixes /0../16).
 * - Levels 2 and 3: groups of 256 entries indexed by addr[15:8] and addr[7:0]
 *   (prefixes /17../24 and /25../32), allocated on demand.
 * - All entries live in ONE growable Int32Array: level 1 is its first 65,536
 *   entries (groups 0..255), level-2/3 groups follow. One array instead of
 *   two means one bounds/map check less per lookup in V8's code, which is
 *   what limits a memory-bound loop here (fewer instructions per lookup =
 *   more cache misses in flight); measured with scripts/bench-lookup.ts.
 * - An entry is 32 bits: a leaf value (the FIB value, 0 = no route) or, with
 *   bit 31 set, a pointer to a child group (low 31 bits = group number). As an
 *   Int32Array, "pointer" is simply "negative". Values are 1..0x7fffffff.
 * - A parallel Uint8Array holds the length of the prefix that painted each leaf
 *   so an insert never overwrites a longer prefix and a delete repaints exactly
 *   the entries it owned with the next covering prefix. Exact prefixes are also
 *   kept in per-length Maps (for get/entries and to find covering prefixes);
 *   lookup() never touches them: at most three typed-array reads, no allocation.
 *
 * Memory management
 * - A group whose 256 entries are all leaves no longer than its parent's
 *   stride boundary (/16 for level 2, /24 for level 3) is, by construction,
 *   uniform (one covering prefix painted all of them); after a delete such a
 *   group is collapsed back into its parent entry and its number goes on a
 *   free list, so a flapping route allocates and frees the same groups.
 *   Invariant: every live group holds a pointer or a leaf deeper than its
 *   boundary. Inserts never break it (depths only grow); a delete can only
 *   break it for the one or two groups on the deleted prefix's own path, so
 *   only those are checked (a 256-entry scan each).
 * - Each group records the entry that points to it. When at most a quarter of
 *   the groups are in use after a delete, live groups are moved down (fixing
 *   parent and child pointers) and the arrays are reallocated smaller (never
 *   below the initial size), so deleting everything returns memory to where
 *   it started.
 */

import { maskOf } from '../net/addr.js';
import { checkPrefix } from './prefix-check.js';

/** Pointer flag (the sign bit); the low 31 bits are then the group number. */
const PTR = -0x80000000;
const IDX_MASK = 0x7fffffff;
/** Groups 0..255 are level 1. */
const L1_GROUPS = 256;
const MAX_VALUE = 0x7fffffff;
/** Keeps entry indexes (group << 8) well inside int32. 4M groups = 5 GiB. */
const MAX_GROUPS = 1 << 22;
const DEFAULT_INITIAL_GROUPS = 64;
/** parentOf marks: free group, and level-1 group (never allocated or moved). */
const FREE = -1;
const RESERVED = -2;

export class LpmTable1688 {
  /** Entries: level 1 at [0, 65536), group g at [g*256, g*256+256). Replaced on grow/shrink. */
  private tbl: Int32Array;
  /** Length of the prefix that painted each leaf entry. */
  private dep: Uint8Array;
  /** Entry index pointing at group g, FREE, or RESERVED (level 1). */
  private parentOf: Int32Array;
  /** Per group: value and length of the longest prefix no longer than the
   * group's boundary that covers it (what the parent entry held before it
   * became a pointer), so deletes need fewer Map probes. */
  private bgVal: Int32Array;
  private bgLen: Uint8Array;
  /** Stack of free group numbers (low numbers on top). */
  private freeStack: Int32Array;
  private freeTop = 0;
  /** Groups the arrays hold, level 1 included. */
  private capacity: number;
  private readonly initialCapacity: number;
  /** Exact prefixes per length. Keys are the int32 view of the prefix
   * (`p | 0`): small integers hash faster and need no boxing in V8. */
  private readonly byLen: Map<number, number>[] = [];
  private count = 0;
  /** Second result of leafAt(). */
  private leafLen = 0;

  constructor(opts?: { initialGroups?: number }) {
    const initial = opts?.initialGroups ?? DEFAULT_INITIAL_GROUPS;
    if (!Number.isInteger(initial) || initial < 1 || initial > MAX_GROUPS - L1_GROUPS) {
      throw new RangeError(`initialGroups must be an integer 1..${MAX_GROUPS - L1_GROUPS}`);
    }
    const cap = L1_GROUPS + initial;
    this.initialCapacity = cap;
    this.capacity = cap;
    this.tbl = new Int32Array(cap << 8);
    this.dep = new Uint8Array(cap << 8);
    this.parentOf = new Int32Array(cap).fill(FREE).fill(RESERVED, 0, L1_GROUPS);
    this.bgVal = new Int32Array(cap);
    this.bgLen = new Uint8Array(cap);
    this.freeStack = new Int32Array(cap);
    for (let g = cap - 1; g >= L1_GROUPS; g--) this.freeStack[this.freeTop++] = g;
    for (let l = 0; l <= 32; l++) this.byLen.push(new Map());
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.count;
  }

  /** Level-2/3 groups in use (for stats and tests). */
  get groupCount(): number {
    return this.capacity - L1_GROUPS - this.freeTop;
  }

  /**
   * Longest-prefix match. Hot path: typed-array reads only, returns 0 when no
   * prefix covers addr. Accepts uint32 or int32 addresses.
   */
  lookup(addr: number): number {
    const t = this.tbl;
    let e = t[addr >>> 16];
    if (e < 0) {
      e = t[((e & IDX_MASK) << 8) | ((addr >>> 8) & 0xff)];
      if (e < 0) e = t[((e & IDX_MASK) << 8) | (addr & 0xff)];
    }
    return e;
  }

  /**
   * lookup() for addrs[0..count) into out[0..count). About twice the
   * throughput of a lookup() loop on tables larger than the CPU cache: the
   * reads of eight lookups are issued side by side, so their cache misses
   * overlap (the same idea as DPDK's rte_lpm_lookup_bulk).
   */
  lookupBatch(addrs: Uint32Array, out: Uint32Array, count: number = addrs.length): void {
    if (!Number.isInteger(count) || count < 0 || count > addrs.length || count > out.length) {
      throw new RangeError(`count ${count} out of range (addrs ${addrs.length}, out ${out.length})`);
    }
    const t = this.tbl;
    const n8 = count & ~7;
    let i = 0;
    for (; i < n8; i += 8) {
      const a0 = addrs[i];
      const a1 = addrs[i + 1];
      const a2 = addrs[i + 2];
      const a3 = addrs[i + 3];
      const a4 = addrs[i + 4];
      const a5 = addrs[i + 5];
      const a6 = addrs[i + 6];
      const a7 = addrs[i + 7];
      let e0 = t[a0 >>> 16];
      let e1 = t[a1 >>> 16];
      let e2 = t[a2 >>> 16];
      let e3 = t[a3 >>> 16];
      let e4 = t[a4 >>> 16];
      let e5 = t[a5 >>> 16];
      let e6 = t[a6 >>> 16];
      let e7 = t[a7 >>> 16];
      if (e0 < 0) e0 = t[((e0 & IDX_MASK) << 8) | ((a0 >>> 8) & 0xff)];
      if (e1 < 0) e1 = t[((e1 & IDX_MASK) << 8) | ((a1 >>> 8) & 0xff)];
      if (e2 < 0) e2 = t[((e2 & IDX_MASK) << 8) | ((a2 >>> 8) & 0xff)];
      if (e3 < 0) e3 = t[((e3 & IDX_MASK) << 8) | ((a3 >>> 8) & 0xff)];
      if (e4 < 0) e4 = t[((e4 & IDX_MASK) << 8) | ((a4 >>> 8) & 0xff)];
      if (e5 < 0) e5 = t[((e5 & IDX_MASK) << 8) | ((a5 >>> 8) & 0xff)];
      if (e6 < 0) e6 = t[((e6 & IDX_MASK) << 8) | ((a6 >>> 8) & 0xff)];
      if (e7 < 0) e7 = t[((e7 & IDX_MASK) << 8) | ((a7 >>> 8) & 0xff)];
      if (e0 < 0) e0 = t[((e0 & IDX_MASK) << 8) | (a0 & 0xff)];
      if (e1 < 0) e1 = t[((e1 & IDX_MASK) << 8) | (a1 & 0xff)];
      if (e2 < 0) e2 = t[((e2 & IDX_MASK) << 8) | (a2 & 0xff)];
      if (e3 < 0) e3 = t[((e3 & IDX_MASK) << 8) | (a3 & 0xff)];
      if (e4 < 0) e4 = t[((e4 & IDX_MASK) << 8) | (a4 & 0xff)];
      if (e5 < 0) e5 = t[((e5 & IDX_MASK) << 8) | (a5 & 0xff)];
      if (e6 < 0) e6 = t[((e6 & IDX_MASK) << 8) | (a6 & 0xff)];
      if (e7 < 0) e7 = t[((e7 & IDX_MASK) << 8) | (a7 & 0xff)];
      out[i] = e0;
      out[i + 1] = e1;
      out[i + 2] = e2;
      out[i + 3] = e3;
      out[i + 4] = e4;
      out[i + 5] = e5;
      out[i + 6] = e6;
      out[i + 7] = e7;
    }
    for (; i < count; i++) {
      const a = addrs[i];
      let e = t[a >>> 16];
      if (e < 0) {
        e = t[((e & IDX_MASK) << 8) | ((a >>> 8) & 0xff)];
        if (e < 0) e = t[((e & IDX_MASK) << 8) | (a & 0xff)];
      }
      out[i] = e;
    }
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

    if (len <= 16) {
      this.paintInsert(p >>> 16, 1 << (16 - len), value, len);
      return;
    }
    const g2 = this.ensureChild(p >>> 16);
    const i2 = (g2 << 8) | ((p >>> 8) & 0xff);
    if (len <= 24) {
      this.paintInsert(i2, 1 << (24 - len), value, len);
      return;
    }
    const g3 = this.ensureChild(i2);
    this.paintInsert((g3 << 8) | (p & 0xff), 1 << (32 - len), value, len);
  }

  /** Remove prefix/len; the range falls back to the longest covering prefix. */
  delete(prefix: number, len: number): boolean {
    const p = checkPrefix(prefix, len);
    if (!this.byLen[len].delete(p | 0)) return false;
    this.count--;

    const i1 = p >>> 16;
    let g2 = -1;
    let i2 = -1;
    let g3 = -1;
    if (len > 16) {
      // A stored prefix longer than /16 (/24) guarantees the pointers exist.
      g2 = this.tbl[i1] & IDX_MASK;
      i2 = (g2 << 8) | ((p >>> 8) & 0xff);
      if (len > 24) g3 = this.tbl[i2] & IDX_MASK;
    }

    // Longest remaining prefix covering p/len: (rv, rd).
    let rd = -1;
    let rv = 0;
    if (len > 0) {
      // The buddy (p/len with its last bit flipped) shares every prefix shorter
      // than len with p, so a buddy address painted by one of those gives the
      // answer without touching the Maps (which, being large, cost a cache
      // miss per probe). Try the buddy's first and last address.
      const buddy = (p ^ (1 << (32 - len))) >>> 0;
      let v = this.leafAt(buddy);
      if (this.leafLen < len) {
        rv = v;
        rd = this.leafLen;
      } else {
        v = this.leafAt((buddy | ~maskOf(len)) >>> 0);
        if (this.leafLen < len) {
          rv = v;
          rd = this.leafLen;
        }
      }
    }
    if (rd < 0) {
      // Probe the Maps, but only for lengths above the group's boundary:
      // shorter covering prefixes are in the group's bg.
      const lo = len > 24 ? 25 : len > 16 ? 17 : 0;
      for (let l = len - 1; l >= lo; l--) {
        const ml = this.byLen[l];
        if (ml.size === 0) continue;
        const v = ml.get(p & maskOf(l));
        if (v !== undefined) {
          rv = v;
          rd = l;
          break;
        }
      }
      if (rd < 0) {
        const g = g3 >= 0 ? g3 : g2;
        if (g >= 0) {
          rv = this.bgVal[g];
          rd = this.bgLen[g];
        } else {
          rv = 0; // nothing covers it
          rd = 0;
        }
      }
    }

    if (len <= 16) {
      this.paintDelete(i1, 1 << (16 - len), len, rv, rd);
    } else {
      // Only the groups on the deleted prefix's own path can become uniform.
      let g3Gone = true;
      if (len <= 24) {
        this.paintDelete(i2, 1 << (24 - len), len, rv, rd);
      } else {
        this.paintDelete((g3 << 8) | (p & 0xff), 1 << (32 - len), len, rv, rd);
        g3Gone = this.tryCollapse(i2, g3, 24);
      }
      if (g3Gone) this.tryCollapse(i1, g2, 16);
    }
    this.maybeShrink();
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
      this.tbl.byteLength +
      this.dep.byteLength +
      this.parentOf.byteLength +
      this.bgVal.byteLength +
      this.bgLen.byteLength +
      this.freeStack.byteLength
    );
  }

  // ---- painting -----------------------------------------------------------

  /** Write (v, d) into entries [start, start+count) whose leaf is no longer than d; descend into child groups. */
  private paintInsert(start: number, count: number, v: number, d: number): void {
    const t = this.tbl;
    const dep = this.dep;
    const end = start + count;
    for (let i = start; i < end; i++) {
      const e = t[i];
      if (e < 0) {
        const g = e & IDX_MASK;
        if (this.bgLen[g] <= d) {
          this.bgVal[g] = v;
          this.bgLen[g] = d;
        }
        this.paintInsert(g << 8, 256, v, d);
      } else if (dep[i] <= d) {
        t[i] = v;
        dep[i] = d;
      }
    }
  }

  /**
   * Replace leaves painted by length d with (rv, rd) in [start, start+count),
   * descending into child groups. Children need no collapse check here: a
   * group reached this way has d <= its boundary, and its entries deeper than
   * the boundary (which it must have, or it would have been collapsed) stay.
   */
  private paintDelete(start: number, count: number, d: number, rv: number, rd: number): void {
    const t = this.tbl;
    const dep = this.dep;
    const end = start + count;
    for (let i = start; i < end; i++) {
      const e = t[i];
      if (e < 0) {
        const g = e & IDX_MASK;
        if (this.bgLen[g] === d) {
          this.bgVal[g] = rv;
          this.bgLen[g] = rd;
        }
        this.paintDelete(g << 8, 256, d, rv, rd);
      } else if (dep[i] === d) {
        t[i] = rv;
        dep[i] = rd;
      }
    }
  }

  /** If group g (pointed to by entry i) only holds leaves of depth <= boundary, fold it into entry i and free it. */
  private tryCollapse(i: number, g: number, boundary: number): boolean {
    const t = this.tbl;
    const dep = this.dep;
    const base = g << 8;
    const end = base + 256;
    for (let j = base; j < end; j++) {
      if (t[j] < 0 || dep[j] > boundary) return false;
    }
    // All shallow leaves of one group come from the same covering prefix.
    t[i] = t[base];
    dep[i] = dep[base];
    this.parentOf[g] = FREE;
    this.freeStack[this.freeTop++] = g;
    return true;
  }

  /** Leaf value for addr (like lookup); the length that painted it is left in leafLen. */
  private leafAt(addr: number): number {
    const t = this.tbl;
    let i = addr >>> 16;
    let e = t[i];
    if (e < 0) {
      i = ((e & IDX_MASK) << 8) | ((addr >>> 8) & 0xff);
      e = t[i];
      if (e < 0) {
        i = ((e & IDX_MASK) << 8) | (addr & 0xff);
        e = t[i];
      }
    }
    this.leafLen = this.dep[i];
    return e;
  }

  // ---- group allocation ---------------------------------------------------

  /** Make entry i a pointer, expanding its leaf into a new group; returns the group number. */
  private ensureChild(i: number): number {
    const e = this.tbl[i];
    if (e < 0) return e & IDX_MASK;
    const d = this.dep[i];
    const g = this.allocGroup(); // may replace the arrays
    const t = this.tbl;
    const base = g << 8;
    t.fill(e, base, base + 256);
    this.dep.fill(d, base, base + 256);
    this.parentOf[g] = i;
    this.bgVal[g] = e;
    this.bgLen[g] = d;
    t[i] = PTR | g;
    this.dep[i] = 0;
    return g;
  }

  private allocGroup(): number {
    if (this.freeTop === 0) {
      // Grow by 1.5x: amortised O(1) copies with less slack than doubling.
      const cap = this.capacity;
      const grown = Math.min(cap + ((cap - L1_GROUPS) >>> 1) + 1, MAX_GROUPS);
      if (grown === cap) throw new RangeError(`LpmTable: more than ${MAX_GROUPS - L1_GROUPS} groups`);
      this.resize(grown);
    }
    return this.freeStack[--this.freeTop];
  }

  /** Grow or shrink to newCap groups; all live groups must already be below newCap. */
  private resize(newCap: number): void {
    const keep = Math.min(this.capacity, newCap);
    const tbl = new Int32Array(newCap << 8);
    tbl.set(this.tbl.subarray(0, keep << 8));
    const dep = new Uint8Array(newCap << 8);
    dep.set(this.dep.subarray(0, keep << 8));
    const parents = new Int32Array(newCap).fill(FREE);
    parents.set(this.parentOf.subarray(0, keep));
    const bgVal = new Int32Array(newCap);
    bgVal.set(this.bgVal.subarray(0, keep));
    const bgLen = new Uint8Array(newCap);
    bgLen.set(this.bgLen.subarray(0, keep));
    this.tbl = tbl;
    this.dep = dep;
    this.parentOf = parents;
    this.bgVal = bgVal;
    this.bgLen = bgLen;
    this.capacity = newCap;
    // Rebuild the free stack so the lowest free numbers are handed out first.
    const stack = new Int32Array(newCap);
    let top = 0;
    for (let g = newCap - 1; g >= L1_GROUPS; g--) if (parents[g] === FREE) stack[top++] = g;
    this.freeStack = stack;
    this.freeTop = top;
  }

  /** After deletes: when <= 1/4 of the groups are live, compact them to the low end and shrink. */
  private maybeShrink(): void {
    const cap = this.capacity;
    if (cap <= this.initialCapacity) return;
    const used = cap - L1_GROUPS - this.freeTop;
    if (used > (cap - L1_GROUPS) >>> 2) return;
    let newCap = this.initialCapacity;
    while (newCap - L1_GROUPS < used * 2) newCap = L1_GROUPS + (newCap - L1_GROUPS) * 2;
    if (newCap >= cap) return;

    const parents = this.parentOf;
    let hole = L1_GROUPS;
    for (let g = cap - 1; g >= newCap; g--) {
      if (parents[g] === FREE) continue;
      while (parents[hole] !== FREE) hole++; // stays below newCap: used <= half of it
      this.moveGroup(g, hole);
    }
    this.resize(newCap);
  }

  /** Move live group `from` into free slot `to`, fixing the parent's pointer and the children's back references. */
  private moveGroup(from: number, to: number): void {
    const t = this.tbl;
    const src = from << 8;
    const dst = to << 8;
    t.copyWithin(dst, src, src + 256);
    this.dep.copyWithin(dst, src, src + 256);
    const parent = this.parentOf[from];
    this.parentOf[to] = parent;
    this.parentOf[from] = FREE;
    this.bgVal[to] = this.bgVal[from];
    this.bgLen[to] = this.bgLen[from];
    t[parent] = PTR | to;
    for (let j = dst; j < dst + 256; j++) {
      const e = t[j];
      if (e < 0) this.parentOf[e & IDX_MASK] = j;
    }
  }
}
