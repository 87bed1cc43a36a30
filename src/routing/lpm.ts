/**
 * Longest-prefix-match table for the FIB: a DIR-16-8-8 multibit trie on typed
 * arrays (a smaller-footprint variant of DPDK's DIR-24-8).
 *
 * Layout
 * - Level 1: 65,536 entries indexed by addr[31:16] (prefixes /0../16 live here).
 * - Level 2 and 3: groups of 256 entries indexed by addr[15:8] and addr[7:0]
 *   (prefixes /17../24 and /25../32). Both levels share one pool of groups,
 *   allocated on demand from a growable Uint32Array.
 * - Every entry is a Uint32: a leaf value (the FIB value, 0 = no route) or, with
 *   bit 31 set, a pointer to a child group (bits 0..30 = group number). Values
 *   are therefore limited to 1..0x7fffffff.
 * - A parallel Uint8Array holds the length of the prefix that painted each leaf
 *   so an insert never overwrites a longer prefix and a delete repaints exactly
 *   the entries it owned with the next covering prefix (found in the per-length
 *   Maps of exact prefixes, which also back get/entries). The Maps are never
 *   touched by lookup(): at most three typed-array reads, no allocation.
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
 * - Each group records the location of the entry that points to it. When at
 *   most a quarter of the pool is in use after a delete, the live groups are
 *   moved to the low end (fixing parent and child pointers) and the pool is
 *   reallocated at half size or less (never below the initial size), so
 *   deleting everything returns memory to where it started.
 */

/** Pointer flag of an entry; the low 31 bits are then the group number. */
const PTR = 0x80000000;
const IDX_MASK = 0x7fffffff;
const L1_SIZE = 65536;
const MAX_VALUE = 0x7fffffff;
/** Group numbers are kept below 2^22 so `group << 8` plus the level-1 size
 * stays a small int32 (parent locations); that is a 4 GiB pool. */
const MAX_GROUPS = 1 << 22;
const DEFAULT_INITIAL_GROUPS = 64;

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

export class LpmTable {
  private readonly l1 = new Uint32Array(L1_SIZE);
  private readonly l1Len = new Uint8Array(L1_SIZE);
  /** Level-2/3 groups, group g at [g*256, g*256+256). Replaced on grow/shrink. */
  private pool: Uint32Array;
  private poolLen: Uint8Array;
  /** Location of the entry pointing at group g: < 65536 is a level-1 index,
   * otherwise 65536 + pool index; -1 = group is free. */
  private parentOf: Int32Array;
  /** Per group: value and length of the longest prefix no longer than the
   * group's boundary that covers it (what the parent entry held before it
   * became a pointer). Saves the delete path most of its Map probes. */
  private bgVal: Uint32Array;
  private bgLen: Uint8Array;
  /** Stack of free group numbers (low numbers on top). */
  private freeStack: Int32Array;
  private freeTop = 0;
  private capacity: number;
  private readonly initialGroups: number;
  /** Exact prefixes per length. Keys are the int32 view of the prefix
   * (`p | 0`): small integers hash faster and need no boxing in V8. */
  private readonly byLen: Map<number, number>[] = [];
  private count = 0;
  /** Second result of leafAt(). */
  private leafLen = 0;

  constructor(opts?: { initialGroups?: number }) {
    const initial = opts?.initialGroups ?? DEFAULT_INITIAL_GROUPS;
    if (!Number.isInteger(initial) || initial < 1 || initial > MAX_GROUPS) {
      throw new RangeError(`initialGroups must be an integer 1..${MAX_GROUPS}`);
    }
    this.initialGroups = initial;
    this.capacity = initial;
    this.pool = new Uint32Array(initial << 8);
    this.poolLen = new Uint8Array(initial << 8);
    this.parentOf = new Int32Array(initial).fill(-1);
    this.bgVal = new Uint32Array(initial);
    this.bgLen = new Uint8Array(initial);
    this.freeStack = new Int32Array(initial);
    for (let g = initial - 1; g >= 0; g--) this.freeStack[this.freeTop++] = g;
    for (let l = 0; l <= 32; l++) this.byLen.push(new Map());
  }

  /** Number of prefixes stored. */
  get size(): number {
    return this.count;
  }

  /**
   * Longest-prefix match. Hot path: typed-array reads only, returns 0 when no
   * prefix covers addr. Accepts uint32 or int32 addresses.
   */
  lookup(addr: number): number {
    let e = this.l1[addr >>> 16];
    if (e >= PTR) {
      const pool = this.pool;
      e = pool[((e & IDX_MASK) << 8) | ((addr >>> 8) & 0xff)];
      if (e >= PTR) e = pool[((e & IDX_MASK) << 8) | (addr & 0xff)];
    }
    return e;
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
      this.paintInsert(this.l1, this.l1Len, p >>> 16, 1 << (16 - len), value, len);
      return;
    }
    // Expand the path first: allocation may replace this.pool, so read it after.
    const g2 = this.ensureChild(p >>> 16);
    if (len <= 24) {
      this.paintInsert(this.pool, this.poolLen, (g2 << 8) | ((p >>> 8) & 0xff), 1 << (24 - len), value, len);
      return;
    }
    const g3 = this.ensureChild(L1_SIZE + ((g2 << 8) | ((p >>> 8) & 0xff)));
    this.paintInsert(this.pool, this.poolLen, (g3 << 8) | (p & 0xff), 1 << (32 - len), value, len);
  }

  /** Remove prefix/len; the range falls back to the longest covering prefix. */
  delete(prefix: number, len: number): boolean {
    const p = checkPrefix(prefix, len);
    const m = this.byLen[len];
    if (!m.delete(p | 0)) return false;
    this.count--;

    // Longest remaining prefix covering p/len. Within a group only lengths
    // above its boundary need a Map probe; shorter ones are in the group's bg.
    const i1 = p >>> 16;
    let g2 = -1;
    let g3 = -1;
    let i2 = -1;
    let lo = 0;
    if (len > 16) {
      // A stored prefix longer than /16 (/24) guarantees the pointers exist.
      g2 = this.l1[i1] & IDX_MASK;
      i2 = (g2 << 8) | ((p >>> 8) & 0xff);
      lo = 17;
      if (len > 24) {
        g3 = this.pool[i2] & IDX_MASK;
        lo = 25;
      }
    }
    let rd = -1;
    let rv = 0;
    if (len > 0) {
      // The buddy (p/len with its last bit flipped) shares every prefix shorter
      // than len with p, so a buddy address painted by one of those gives the
      // answer without touching the Maps (which, being large, cost a cache miss
      // per probe). Try the buddy's first and last address.
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
    for (let l = len - 1; rd < 0 && l >= lo; l--) {
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
        rd = 0; // nothing covers it
      }
    }

    if (len <= 16) {
      this.paintDelete(this.l1, this.l1Len, i1, 1 << (16 - len), len, rv, rd);
    } else {
      let g3Gone = true;
      if (len <= 24) {
        this.paintDelete(this.pool, this.poolLen, i2, 1 << (24 - len), len, rv, rd);
      } else {
        this.paintDelete(this.pool, this.poolLen, (g3 << 8) | (p & 0xff), 1 << (32 - len), len, rv, rd);
        // Only the groups on the deleted prefix's own path can become uniform.
        g3Gone = this.tryCollapse(this.pool, this.poolLen, i2, g3, 24);
      }
      if (g3Gone) this.tryCollapse(this.l1, this.l1Len, i1, g2, 16);
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

  /** Level-2/3 groups in use (for stats and tests). */
  get groupCount(): number {
    return this.capacity - this.freeTop;
  }

  /** Bytes held by the typed arrays (the Maps of exact prefixes are not counted). */
  memoryBytes(): number {
    return (
      this.l1.byteLength +
      this.l1Len.byteLength +
      this.pool.byteLength +
      this.poolLen.byteLength +
      this.parentOf.byteLength +
      this.bgVal.byteLength +
      this.bgLen.byteLength +
      this.freeStack.byteLength
    );
  }

  // ---- painting -----------------------------------------------------------

  /** Write (v, d) into [start, start+count) where the existing leaf is no longer than d; descend into child groups. */
  private paintInsert(vals: Uint32Array, lens: Uint8Array, start: number, count: number, v: number, d: number): void {
    const end = start + count;
    for (let i = start; i < end; i++) {
      const e = vals[i];
      if (e >= PTR) {
        const g = e & IDX_MASK;
        if (this.bgLen[g] <= d) {
          this.bgVal[g] = v;
          this.bgLen[g] = d;
        }
        this.paintInsert(this.pool, this.poolLen, g << 8, 256, v, d);
      } else if (lens[i] <= d) {
        vals[i] = v;
        lens[i] = d;
      }
    }
  }

  /**
   * Replace leaves painted by length d with (rv, rd) in [start, start+count),
   * descending into child groups. Children need no collapse check here: a
   * group reached this way has d <= its boundary, and its entries deeper than
   * the boundary (which it must have, or it would have been collapsed) stay.
   */
  private paintDelete(vals: Uint32Array, lens: Uint8Array, start: number, count: number, d: number, rv: number, rd: number): void {
    const end = start + count;
    for (let i = start; i < end; i++) {
      const e = vals[i];
      if (e >= PTR) {
        const g = e & IDX_MASK;
        if (this.bgLen[g] === d) {
          this.bgVal[g] = rv;
          this.bgLen[g] = rd;
        }
        this.paintDelete(this.pool, this.poolLen, g << 8, 256, d, rv, rd);
      } else if (lens[i] === d) {
        vals[i] = rv;
        lens[i] = rd;
      }
    }
  }

  /** If group g (pointed to by vals[i]) only holds leaves of depth <= boundary, fold it into vals[i] and free it. */
  private tryCollapse(vals: Uint32Array, lens: Uint8Array, i: number, g: number, boundary: number): boolean {
    const pool = this.pool;
    const plen = this.poolLen;
    const base = g << 8;
    const end = base + 256;
    for (let j = base; j < end; j++) {
      if (pool[j] >= PTR || plen[j] > boundary) return false;
    }
    // All shallow leaves of one group come from the same covering prefix.
    vals[i] = pool[base];
    lens[i] = plen[base];
    this.parentOf[g] = -1;
    this.freeStack[this.freeTop++] = g;
    return true;
  }

  // ---- group allocation ---------------------------------------------------

  /** Leaf value for addr (like lookup); the length that painted it is left in leafLen. */
  private leafAt(addr: number): number {
    let i = addr >>> 16;
    let e = this.l1[i];
    if (e < PTR) {
      this.leafLen = this.l1Len[i];
      return e;
    }
    i = ((e & IDX_MASK) << 8) | ((addr >>> 8) & 0xff);
    e = this.pool[i];
    if (e >= PTR) {
      i = ((e & IDX_MASK) << 8) | (addr & 0xff);
      e = this.pool[i];
    }
    this.leafLen = this.poolLen[i];
    return e;
  }

  /** Make the entry at `loc` (see parentOf) a pointer, expanding its leaf into a new group; returns the group number. */
  private ensureChild(loc: number): number {
    const inL1 = loc < L1_SIZE;
    const idx = inL1 ? loc : loc - L1_SIZE;
    const e = inL1 ? this.l1[idx] : this.pool[idx];
    if (e >= PTR) return e & IDX_MASK;
    const d = inL1 ? this.l1Len[idx] : this.poolLen[idx];
    const g = this.allocGroup(); // may replace this.pool
    const base = g << 8;
    this.pool.fill(e, base, base + 256);
    this.poolLen.fill(d, base, base + 256);
    this.parentOf[g] = loc;
    this.bgVal[g] = e;
    this.bgLen[g] = d;
    if (inL1) {
      this.l1[idx] = (PTR | g) >>> 0;
      this.l1Len[idx] = 0;
    } else {
      this.pool[idx] = (PTR | g) >>> 0;
      this.poolLen[idx] = 0;
    }
    return g;
  }

  private allocGroup(): number {
    // Grow by 1.5x: amortised O(1) copies with less slack than doubling.
    if (this.freeTop === 0) this.resize(Math.min(this.capacity + (this.capacity >>> 1) + 1, MAX_GROUPS));
    if (this.freeTop === 0) throw new RangeError(`LpmTable: more than ${MAX_GROUPS} groups`);
    return this.freeStack[--this.freeTop];
  }

  /** Grow or shrink the pool to newCap groups; all live groups must already be below newCap. */
  private resize(newCap: number): void {
    const old = this.capacity;
    if (newCap === old) return;
    const pool = new Uint32Array(newCap << 8);
    const plen = new Uint8Array(newCap << 8);
    const parents = new Int32Array(newCap).fill(-1);
    const bgVal = new Uint32Array(newCap);
    const bgLen = new Uint8Array(newCap);
    const keep = Math.min(old, newCap);
    bgVal.set(this.bgVal.subarray(0, keep));
    bgLen.set(this.bgLen.subarray(0, keep));
    this.bgVal = bgVal;
    this.bgLen = bgLen;
    pool.set(this.pool.subarray(0, keep << 8));
    plen.set(this.poolLen.subarray(0, keep << 8));
    parents.set(this.parentOf.subarray(0, keep));
    this.pool = pool;
    this.poolLen = plen;
    this.parentOf = parents;
    this.capacity = newCap;
    // Rebuild the free stack so the lowest free numbers are handed out first.
    const stack = new Int32Array(newCap);
    let top = 0;
    for (let g = newCap - 1; g >= 0; g--) if (parents[g] === -1) stack[top++] = g;
    this.freeStack = stack;
    this.freeTop = top;
  }

  /** After deletes: when <= 1/4 of the pool is live, compact live groups to the low end and shrink. */
  private maybeShrink(): void {
    const cap = this.capacity;
    if (cap <= this.initialGroups) return;
    const used = cap - this.freeTop;
    if (used > cap >>> 2) return;
    let newCap = this.initialGroups;
    while (newCap < used * 2) newCap *= 2;
    if (newCap >= cap) return;

    const parents = this.parentOf;
    let hole = 0;
    for (let g = cap - 1; g >= newCap; g--) {
      if (parents[g] === -1) continue;
      while (parents[hole] !== -1) hole++; // hole < newCap: used <= newCap/2
      this.moveGroup(g, hole);
    }
    this.resize(newCap);
  }

  /** Move live group `from` into free slot `to`, fixing the parent's pointer and the children's back references. */
  private moveGroup(from: number, to: number): void {
    const pool = this.pool;
    const src = from << 8;
    const dst = to << 8;
    pool.copyWithin(dst, src, src + 256);
    this.poolLen.copyWithin(dst, src, src + 256);
    const loc = this.parentOf[from];
    this.parentOf[to] = loc;
    this.parentOf[from] = -1;
    this.bgVal[to] = this.bgVal[from];
    this.bgLen[to] = this.bgLen[from];
    const ptr = (PTR | to) >>> 0;
    if (loc < L1_SIZE) this.l1[loc] = ptr;
    else pool[loc - L1_SIZE] = ptr;
    for (let j = dst; j < dst + 256; j++) {
      const e = pool[j];
      if (e >= PTR) this.parentOf[e & IDX_MASK] = L1_SIZE + j;
    }
  }
}
