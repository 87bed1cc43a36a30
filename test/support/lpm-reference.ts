// What both longest-prefix tables (src/routing/lpm.ts and the older
// lpm-16-8-8.ts kept for the benchmark) are checked against: a brute-force
// reference, random overlapping prefixes, and the probes at every edge.
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/net/addr.js';

/** The surface both tables share. */
export interface PrefixTable {
  readonly size: number;
  lookup(addr: number): number;
  lookupBatch(addrs: Uint32Array, out: Uint32Array, count?: number): void;
  get(prefix: number, len: number): number | undefined;
  set(prefix: number, len: number, value: number): void;
  delete(prefix: number, len: number): boolean;
  entries(): IterableIterator<[number, number, number]>;
  memoryBytes(): number;
}

/** The seed of this run; reproduce a failure with LPM_SEED=<seed printed>. */
export function lpmSeed(testName: string): number {
  const seed = process.env.LPM_SEED !== undefined ? Number(process.env.LPM_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${testName} seed=${seed} (set LPM_SEED to reproduce)`);
  return seed;
}

export const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const key = (p: number, len: number): string => `${p}/${len}`;

/** Brute-force reference: a flat list of prefixes, longest match wins. */
export class Reference {
  readonly routes = new Map<string, { p: number; len: number; v: number }>();
  set(p: number, len: number, v: number): void {
    this.routes.set(key(p, len), { p, len, v });
  }
  delete(p: number, len: number): boolean {
    return this.routes.delete(key(p, len));
  }
  has(p: number, len: number): { p: number; len: number; v: number } | undefined {
    return this.routes.get(key(p, len));
  }
  lookup(addr: number): number {
    let best = -1;
    let v = 0;
    for (const r of this.routes.values()) {
      if (r.len > best && ((addr ^ r.p) & maskOf(r.len)) === 0) {
        best = r.len;
        v = r.v;
      }
    }
    return v;
  }

  /** lookup() of each address: the same scan, over the prefixes copied into flat arrays once (not a Map walk per address). */
  lookupMany(addrs: readonly number[]): number[] {
    const n = this.routes.size;
    const prefix = new Uint32Array(n);
    const mask = new Uint32Array(n);
    const lens = new Int8Array(n);
    const values = new Uint32Array(n);
    let i = 0;
    for (const r of this.routes.values()) {
      [prefix[i], mask[i], lens[i], values[i]] = [r.p, maskOf(r.len), r.len, r.v];
      i++;
    }
    return addrs.map((addr) => {
      let best = -1;
      let v = 0;
      for (let k = 0; k < n; k++) {
        if (lens[k]! > best && ((addr ^ prefix[k]!) & mask[k]!) === 0) {
          best = lens[k]!;
          v = values[k]!;
        }
      }
      return v;
    });
  }
}

function randomLen(rnd: () => number): number {
  const x = rnd() % 100;
  if (x < 5) return rnd() % 8; // /0../7 rarely
  if (x < 75) return 8 + (rnd() % 17); // /8../24 mostly
  return 25 + (rnd() % 8); // /25../32
}

export function randomValue(rnd: () => number): number {
  const x = rnd() % 20;
  if (x === 0) return 1;
  if (x === 1) return 0x7fffffff;
  if (x < 8) return 1 + (rnd() % 4); // few values: equal neighbours merge into runs
  return 1 + (rnd() % 0x7fffffff);
}

/** A random prefix; often nested inside (or around) one already present, so prefixes overlap. */
export function randomPrefix(rnd: () => number, existing: { p: number; len: number }[]): [number, number] {
  const x = rnd() % 10;
  if (existing.length > 0 && x < 5) {
    const base = existing[rnd() % existing.length];
    if (x < 4 && base.len < 32) {
      // Longer prefix inside base.
      const len = base.len + 1 + (rnd() % (32 - base.len));
      return [((base.p | (rnd() & ~maskOf(base.len))) & maskOf(len)) >>> 0, len];
    }
    // Shorter prefix covering base.
    const len = rnd() % (base.len + 1);
    return [(base.p & maskOf(len)) >>> 0, len];
  }
  const len = randomLen(rnd);
  return [(rnd() & maskOf(len)) >>> 0, len];
}

/** Addresses to probe: random ones plus the edges of every stored prefix (first, last, and just outside). */
export function probeAddresses(rnd: () => number, ref: Reference, nRandom: number): number[] {
  const out: number[] = [0, 0xffffffff, 0x7fffffff, 0x80000000];
  for (let i = 0; i < nRandom; i++) out.push(rnd());
  for (const { p, len } of ref.routes.values()) {
    const last = (p | ~maskOf(len)) >>> 0;
    out.push(p, last, (p - 1) >>> 0, (last + 1) >>> 0, (p | (rnd() & ~maskOf(len))) >>> 0);
  }
  return out;
}

/** The table answers every probe, single and batched, as the reference does, and holds exactly its prefixes. */
export function checkAgainst(t: PrefixTable, ref: Reference, addrs: number[], ctx: string): void {
  const batchIn = Uint32Array.from(addrs);
  const batchOut = new Uint32Array(addrs.length);
  t.lookupBatch(batchIn, batchOut);
  const wanted = ref.lookupMany(addrs);
  for (let i = 0; i < addrs.length; i++) {
    const a = addrs[i];
    const want = wanted[i];
    const got = t.lookup(a);
    if (got !== want) assert.fail(`${ctx}: lookup(${formatAddress(a)}) = ${got}, want ${want}`);
    if (batchOut[i] !== want) assert.fail(`${ctx}: lookupBatch [${i}] ${formatAddress(a)} = ${batchOut[i]}, want ${want}`);
  }
  assert.equal(t.size, ref.routes.size, `${ctx}: size`);
  for (const { p, len, v } of ref.routes.values()) {
    if (t.get(p, len) !== v) assert.fail(`${ctx}: get(${formatAddress(p)}/${len}) = ${t.get(p, len)}, want ${v}`);
    // A prefix one bit longer is stored only if the reference has it.
    if (len < 32) {
      const longer = t.get(p, len + 1);
      const r = ref.has(p, len + 1);
      if (longer !== r?.v) assert.fail(`${ctx}: get(${formatAddress(p)}/${len + 1}) = ${longer}, want ${r?.v}`);
    }
  }
  let n = 0;
  for (const [p, len, v] of t.entries()) {
    n++;
    const r = ref.has(p, len);
    if (r === undefined || r.v !== v) assert.fail(`${ctx}: entries() has ${formatAddress(p)}/${len}=${v}`);
  }
  assert.equal(n, ref.routes.size, `${ctx}: entries() count`);
}

/**
 * Fourteen batches of random inserts, replacements and deletes of about
 * `target` routes (growing first, then shrinking), checked after each batch;
 * then everything deleted, every lookup a miss and memory back to the start.
 */
export function churnAgainstReference(t: PrefixTable, rnd: () => number, target: number, ctx: string): void {
  const ref = new Reference();
  const startBytes = t.memoryBytes();
  for (let batch = 0; batch < 14; batch++) {
    const ops = 1 + (rnd() % Math.max(1, target >>> 2));
    const insertShare = batch < 7 ? 75 : 30;
    for (let k = 0; k < ops; k++) {
      const list = [...ref.routes.values()];
      const x = rnd() % 100;
      if (x < insertShare || list.length === 0) {
        const [p, len] = randomPrefix(rnd, list);
        const v = randomValue(rnd);
        t.set(p, len, v);
        ref.set(p, len, v);
      } else if (x < insertShare + 10) {
        const r = list[rnd() % list.length]; // replace the value
        const v = randomValue(rnd);
        t.set(r.p, r.len, v);
        ref.set(r.p, r.len, v);
      } else if (x < insertShare + 15) {
        const [p, len] = randomPrefix(rnd, list); // mostly absent
        assert.equal(t.delete(p, len), ref.delete(p, len), `${ctx}: delete ${formatAddress(p)}/${len}`);
      } else {
        const r = list[rnd() % list.length];
        assert.equal(t.delete(r.p, r.len), true);
        ref.delete(r.p, r.len);
      }
    }
    checkAgainst(t, ref, probeAddresses(rnd, ref, 500), `${ctx} batch ${batch}`);
  }
  for (const r of [...ref.routes.values()]) {
    assert.equal(t.delete(r.p, r.len), true);
    ref.delete(r.p, r.len);
  }
  checkAgainst(t, ref, probeAddresses(rnd, ref, 2000), `${ctx} emptied`);
  assert.equal(t.memoryBytes(), startBytes, `${ctx}: memory back to start`);
}
