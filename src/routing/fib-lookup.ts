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
export const DIR_BITS = 18;
export const DIR_SIZE = 1 << DIR_BITS;
const DIR_SHIFT = 32 - DIR_BITS;

/** Pointer flag (the sign bit) of a directory entry or child word; the low 31 bits are a block offset in words. */
export const PTR = -0x80000000;
export const OFF_MASK = 0x7fffffff;

/**
 * Block header, in words from the block's start:
 *   0, 1  internal bitmap, entries 0..31 and 32..63 (bit i: entry i is a child node)
 *   2, 3  leaf bitmap (bit i: entry i is a leaf that starts a new run of equal leaves)
 *   4, 5  child-word offset minus one for entries in half 0 / half 1
 *   6, 7  leaf-word offset minus one for entries in half 0 / half 1
 * then the child pointers (one word per set bit of the internal bitmap), then
 * the leaves (one word per set bit of the leaf bitmap). "Half 1" offsets
 * already include the popcount of half 0, so a lookup counts bits in one word.
 */
export const HDR = 8;

/** Levels below the directory: 6-bit strides, the last one shorter. */
export const STRIDE = 6;
const W1 = Math.min(STRIDE, 32 - DIR_BITS);
const SH1 = 32 - DIR_BITS - W1;
const M1 = (1 << W1) - 1;
const W2 = Math.min(STRIDE, SH1);
const SH2 = SH1 - W2;
const M2 = (1 << W2) - 1;
const W3 = Math.min(STRIDE, SH2);
const SH3 = SH2 - W3;
const M3 = (1 << W3) - 1;
if (SH3 !== 0) throw new Error('fib-lookup: DIR_BITS too small for three levels below the directory');

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

/** Set bits of a 32-bit word. */
export function popcnt(x: number): number {
  x = (x - ((x >>> 1) & 0x55555555)) | 0;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * One level: entry b (0..63) of the block `e` points to. Returns the leaf
 * value (>= 0) or the child's pointer word (< 0).
 */
function step(B: Int32Array, e: number, b: number): number {
  const o = e & OFF_MASK;
  const h = b >>> 5;
  const s = b & 31;
  const m = (2 << s) - 1; // bits 0..s (s = 31: 0 - 1 = all bits)
  const v = B[o + h];
  if (((v >>> s) & 1) !== 0) return B[o + B[o + 4 + h] + popcnt(v & m)];
  return B[o + B[o + 6 + h] + popcnt(B[o + 2 + h] & m)];
}

/** Longest-prefix match of addr (uint32 or int32) in the FIB array B; 0 = no route. */
export function lookupIn(B: Int32Array, addr: number): number {
  let e = B[addr >>> DIR_SHIFT];
  if (e >= 0) return e;
  e = step(B, e, (addr >>> SH1) & M1);
  if (e >= 0) return e;
  e = step(B, e, (addr >>> SH2) & M2);
  if (e >= 0) return e;
  return step(B, e, (addr >>> SH3) & M3);
}

export function checkBatchArgs(addrs: Uint32Array, out: Uint32Array, count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > addrs.length || count > out.length) {
    throw new RangeError(`count ${count} out of range (addrs ${addrs.length}, out ${out.length})`);
  }
}

/**
 * lookupIn() for addrs[0..count) into out[0..count). Eight lookups go level
 * by level side by side, so their cache misses overlap (the idea of DPDK's
 * rte_lpm_lookup_bulk); the rare third and fourth levels run one by one.
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
    if (e0 < 0) e0 = step(B, e0, (a0 >>> SH1) & M1);
    if (e1 < 0) e1 = step(B, e1, (a1 >>> SH1) & M1);
    if (e2 < 0) e2 = step(B, e2, (a2 >>> SH1) & M1);
    if (e3 < 0) e3 = step(B, e3, (a3 >>> SH1) & M1);
    if (e4 < 0) e4 = step(B, e4, (a4 >>> SH1) & M1);
    if (e5 < 0) e5 = step(B, e5, (a5 >>> SH1) & M1);
    if (e6 < 0) e6 = step(B, e6, (a6 >>> SH1) & M1);
    if (e7 < 0) e7 = step(B, e7, (a7 >>> SH1) & M1);
    out[i] = e0 >= 0 ? e0 : deeper(B, e0, a0);
    out[i + 1] = e1 >= 0 ? e1 : deeper(B, e1, a1);
    out[i + 2] = e2 >= 0 ? e2 : deeper(B, e2, a2);
    out[i + 3] = e3 >= 0 ? e3 : deeper(B, e3, a3);
    out[i + 4] = e4 >= 0 ? e4 : deeper(B, e4, a4);
    out[i + 5] = e5 >= 0 ? e5 : deeper(B, e5, a5);
    out[i + 6] = e6 >= 0 ? e6 : deeper(B, e6, a6);
    out[i + 7] = e7 >= 0 ? e7 : deeper(B, e7, a7);
  }
  for (; i < count; i++) out[i] = lookupIn(B, addrs[i]);
}

/** Levels two and three for a lookup that reached a second-level block. */
function deeper(B: Int32Array, e: number, addr: number): number {
  e = step(B, e, (addr >>> SH2) & M2);
  if (e >= 0) return e;
  return step(B, e, (addr >>> SH3) & M3);
}
