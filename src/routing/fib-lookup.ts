/**
 * The read side of the FIB (see lpm.ts for the structure and the update
 * protocol): the word layout of its one Int32Array, the control block shared
 * with reader threads, and the lookup functions that the writer's LpmTable and
 * FibReader (another thread) both run over that array.
 *
 * Lookups use plain typed-array reads. Every word they follow was written
 * before an Atomics.store published the pointer to it, and each read's index
 * depends on the value of the read before it; x86-64 and ARM64 do not reorder
 * such dependent loads, and V8 cannot issue a load before its index is known.
 * (Atomics.load would make that ordering formal, but V8 does not inline it:
 * a loop of Atomics.load ran 3-4x slower than plain reads here.)
 */

import type { MessagePort } from 'node:worker_threads';

/** Address bits resolved by the direct-indexed first level (the directory). */
export const DIR_BITS = 16;
export const DIR_SIZE = 65536;
/** Address bits per node level below the directory: two levels, /24 and /32. */
export const STRIDE = 8;

/** Pointer flag (the sign bit) of a directory entry or child word; the low 31 bits are a block offset in words. */
export const PTR = -0x80000000;
export const OFF_MASK = 0x7fffffff;

/**
 * A node block, as lookups see it: HDR words of entry indexes (byte i =
 * entry i, 0..255), then the tail: one word per child pointer and per run of
 * equal leaves. Entry i is tail word (byte i); the word's sign tells a leaf
 * (>= 0) from a child. (The writer keeps its own words around these.)
 */
export const HDR = 64;

// The lookup code's constants, written out as private literals: V8 folds
// those into the code, while computed or exported constants (module cells)
// are loaded at each use, which cost ~20% of lookup speed here. Checked
// against the exported layout below.
const T0 = 64; // = HDR, offset of the tail
const OFF = 0x7fffffff; // = OFF_MASK
const DIR_SHIFT = 16; // = 32 - DIR_BITS
if (T0 !== HDR || OFF !== OFF_MASK || DIR_SHIFT !== 32 - DIR_BITS || DIR_BITS + 2 * STRIDE !== 32 || HDR * 4 !== 1 << STRIDE) {
  throw new Error('fib-lookup: lookup constants do not match the layout');
}

/**
 * What a reader's or the writer's field for the array holds until the
 * constructor sets the real one. A field declared without a value starts as
 * undefined, and V8 then checks what it holds at every lookup (~4 % of
 * single lookups here); one that is an Int32Array from the start is known
 * to be one.
 */
export const NO_WORDS: Int32Array = new Int32Array(0);

// ---- control block (an Int32Array over a small SharedArrayBuffer) ----------

/** Generation of the FIB buffer: bumped when the writer moves to a new (grown or compacted) buffer. */
export const CTL_GEN = 0;
/** Global epoch, 1.. (0 is skipped: a reader slot holding 0 is offline). */
export const CTL_EPOCH = 1;
export const CTL_MAX_READERS = 2;
export const CTL_DIR_BITS = 3;
/** Reader slots start one cache line in; each slot has its own 64-byte line. */
export const CTL_SLOT0 = 16;
export const CTL_SLOT_WORDS = 16;
/** Per slot: 1 while handed out to a reader. */
export const SLOT_CLAIMED = 0;
/** Per slot: the epoch the reader saw at its last quiescent point, 0 = offline. */
export const SLOT_EPOCH = 1;
/** Per slot: the generation of the buffer the reader reads. */
export const SLOT_GEN = 2;

export function ctlWords(maxReaders: number): number {
  return CTL_SLOT0 + maxReaders * CTL_SLOT_WORDS;
}

/** What a reader thread needs to attach: post it to the worker with `port` in the transfer list. */
export interface FibHandles {
  ctl: SharedArrayBuffer;
  fib: SharedArrayBuffer;
  generation: number;
  slot: number;
  /** The writer posts {generation, fib} here when it moves to a new buffer. */
  port: MessagePort;
}

/** Message on a reader's port when the writer moves to a new buffer. */
export interface FibGenerationMessage {
  generation: number;
  fib: SharedArrayBuffer;
}

// ---- lookups ---------------------------------------------------------------

/**
 * Longest-prefix match of addr (uint32 or int32) in the FIB array B; 0 = no
 * route. Both levels inline and no call on any path: a call (even on the
 * rare second level) keeps V8 from holding B's base pointer in a register
 * across the caller's loop (measured: ~10-25% slower).
 */
export function lookupIn(B: Int32Array, addr: number): number {
  let e = B[addr >>> DIR_SHIFT];
  if (e >= 0) return e;
  let o = e & OFF;
  let b = (addr >>> 8) & 255;
  e = B[o + T0 + ((B[o + (b >>> 2)] >>> ((b & 3) << 3)) & 255)];
  if (e >= 0) return e;
  o = e & OFF;
  b = addr & 255;
  return B[o + T0 + ((B[o + (b >>> 2)] >>> ((b & 3) << 3)) & 255)];
}

/** Entry b (0..255) of the block e points to: a leaf value (>= 0) or a child pointer (< 0). */
function entry(B: Int32Array, e: number, b: number): number {
  const o = e & OFF;
  return B[o + T0 + ((B[o + (b >>> 2)] >>> ((b & 3) << 3)) & 255)];
}

export function checkBatchArgs(addrs: Uint32Array, out: Uint32Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > addrs.length || count > out.length) {
    throw new RangeError(`count ${count} out of range (addrs ${addrs.length}, out ${out.length})`);
  }
}

/**
 * lookupIn() for addrs[0..count) into out[0..count). Eight lookups go step
 * by step side by side (directory entries, then index words, then tail
 * words), so their cache misses overlap (the idea of DPDK's
 * rte_lpm_lookup_bulk); the rare second node level runs one by one.
 */
export function lookupBatchIn(B: Int32Array, addrs: Uint32Array, out: Uint32Array, count: number): void {
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
    let e0 = B[a0 >>> DIR_SHIFT];
    let e1 = B[a1 >>> DIR_SHIFT];
    let e2 = B[a2 >>> DIR_SHIFT];
    let e3 = B[a3 >>> DIR_SHIFT];
    let e4 = B[a4 >>> DIR_SHIFT];
    let e5 = B[a5 >>> DIR_SHIFT];
    let e6 = B[a6 >>> DIR_SHIFT];
    let e7 = B[a7 >>> DIR_SHIFT];
    // Index words of the lanes that reached a node (x = -1: a leaf already).
    const x0 = e0 < 0 ? B[(e0 & OFF) + ((a0 >>> 10) & 63)] : -1;
    const x1 = e1 < 0 ? B[(e1 & OFF) + ((a1 >>> 10) & 63)] : -1;
    const x2 = e2 < 0 ? B[(e2 & OFF) + ((a2 >>> 10) & 63)] : -1;
    const x3 = e3 < 0 ? B[(e3 & OFF) + ((a3 >>> 10) & 63)] : -1;
    const x4 = e4 < 0 ? B[(e4 & OFF) + ((a4 >>> 10) & 63)] : -1;
    const x5 = e5 < 0 ? B[(e5 & OFF) + ((a5 >>> 10) & 63)] : -1;
    const x6 = e6 < 0 ? B[(e6 & OFF) + ((a6 >>> 10) & 63)] : -1;
    const x7 = e7 < 0 ? B[(e7 & OFF) + ((a7 >>> 10) & 63)] : -1;
    if (e0 < 0) e0 = B[(e0 & OFF) + T0 + ((x0 >>> ((a0 >>> 5) & 24)) & 255)];
    if (e1 < 0) e1 = B[(e1 & OFF) + T0 + ((x1 >>> ((a1 >>> 5) & 24)) & 255)];
    if (e2 < 0) e2 = B[(e2 & OFF) + T0 + ((x2 >>> ((a2 >>> 5) & 24)) & 255)];
    if (e3 < 0) e3 = B[(e3 & OFF) + T0 + ((x3 >>> ((a3 >>> 5) & 24)) & 255)];
    if (e4 < 0) e4 = B[(e4 & OFF) + T0 + ((x4 >>> ((a4 >>> 5) & 24)) & 255)];
    if (e5 < 0) e5 = B[(e5 & OFF) + T0 + ((x5 >>> ((a5 >>> 5) & 24)) & 255)];
    if (e6 < 0) e6 = B[(e6 & OFF) + T0 + ((x6 >>> ((a6 >>> 5) & 24)) & 255)];
    if (e7 < 0) e7 = B[(e7 & OFF) + T0 + ((x7 >>> ((a7 >>> 5) & 24)) & 255)];
    out[i] = e0 >= 0 ? e0 : entry(B, e0, a0 & 255);
    out[i + 1] = e1 >= 0 ? e1 : entry(B, e1, a1 & 255);
    out[i + 2] = e2 >= 0 ? e2 : entry(B, e2, a2 & 255);
    out[i + 3] = e3 >= 0 ? e3 : entry(B, e3, a3 & 255);
    out[i + 4] = e4 >= 0 ? e4 : entry(B, e4, a4 & 255);
    out[i + 5] = e5 >= 0 ? e5 : entry(B, e5, a5 & 255);
    out[i + 6] = e6 >= 0 ? e6 : entry(B, e6, a6 & 255);
    out[i + 7] = e7 >= 0 ? e7 : entry(B, e7, a7 & 255);
  }
  for (; i < count; i++) out[i] = lookupIn(B, addrs[i]);
}
