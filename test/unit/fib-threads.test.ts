// The FIB shared with a reader in a real worker thread: the worker looks up
// without pause while this thread churns updates (growth, compaction and
// block reuse included); every answer must be one the table could give at
// some moment. This file is also the worker's code (see the end).
import test from 'node:test';
import assert from 'node:assert/strict';
import { Worker, isMainThread, workerData, parentPort } from 'node:worker_threads';
import { formatAddress } from '../../src/net/addr.js';
import { FibReader, LpmTable, type FibHandles } from '../../src/routing/lpm.js';
import { mulberry32 as prng } from '../../src/testbed/random.js';

const SEED = process.env.LPM_SEED !== undefined ? Number(process.env.LPM_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
const UPDATES = 150_000;
const MIN_LOOKUPS = 4_000_000;

// Shared counters between the threads (Int32Array over a SharedArrayBuffer).
const C_STOP = 0; // main -> worker: churn over, check the final answers
const C_ROUNDS = 1; // worker: passes over the address set
const C_LOOKUPS_M = 2; // worker: lookups done, in units of 1000
const C_WRONG = 3; // worker: answers outside the valid set
const C_GENS = 4; // worker: buffer generations it read
const C_FINAL_WRONG = 5; // worker: wrong answers after the churn
const C_DONE = 6; // worker: finished

interface ReaderData {
  role: 'fib-reader';
  handles: FibHandles;
  counters: SharedArrayBuffer;
  /** Addresses to look up, their valid answers (valid[start[i] .. start[i+1])), and the final answers. */
  addrs: Uint32Array;
  start: Int32Array;
  valid: Int32Array;
  final: SharedArrayBuffer;
}

interface Prefix {
  p: number;
  len: number;
}

/** Stable prefixes (never touched) and churned ones, overlapping in the same nodes. */
function makePrefixes(rnd: () => number): { stable: (Prefix & { v: number })[]; churn: (Prefix & { vals: number[] })[] } {
  const stable: (Prefix & { v: number })[] = [];
  const churn: (Prefix & { vals: number[] })[] = [];
  const seen = new Set<string>();
  const add = (p: number, len: number): boolean => {
    const k = `${p}/${len}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  };
  // Everything inside 20.0.0.0/8 and 150.0.0.0/8 (an address above 2^31),
  // a few /16s of each, so churned and stable prefixes share nodes.
  const bases = [0x14000000, 0x96000000];
  for (let i = 0; i < 1500; i++) {
    const base = bases[i % 2] | ((rnd() % 6) << 16);
    const len = 12 + (rnd() % 21);
    const p = ((base | (rnd() & 0xffff)) & maskOf(len)) >>> 0;
    if (add(p, len)) stable.push({ p, len, v: 1 + (i % 1000) });
  }
  for (let i = 0; i < 1500; i++) {
    const base = bases[i % 2] | ((rnd() % 6) << 16);
    const len = 12 + (rnd() % 21);
    const p = ((base | (rnd() & 0xffff)) & maskOf(len)) >>> 0;
    if (add(p, len)) churn.push({ p, len, vals: [5000 + 2 * i, 5001 + 2 * i] });
  }
  // Short churned prefixes over everything: whole-node repaints.
  for (const [p, len] of [
    [0, 0],
    [0x10000000, 4],
    [0x80000000, 1],
    [0x96000000, 8],
  ]) {
    if (add(p >>> 0, len)) churn.push({ p: p >>> 0, len, vals: [90001 + len, 90100 + len] });
  }
  return { stable, churn };
}

/** For each address, every answer it may get: the stable longest match, or any churned prefix longer than it. */
function validAnswers(addrs: Uint32Array, stable: (Prefix & { v: number })[], churn: (Prefix & { vals: number[] })[]): { start: Int32Array; valid: Int32Array; nStable: number } {
  const start = new Int32Array(addrs.length + 1);
  const valid: number[] = [];
  let nStable = 0;
  for (let i = 0; i < addrs.length; i++) {
    const a = addrs[i];
    let best = -1;
    let v = 0;
    for (const s of stable) {
      if (s.len > best && ((a ^ s.p) & maskOf(s.len)) === 0) {
        best = s.len;
        v = s.v;
      }
    }
    start[i] = valid.length;
    valid.push(v);
    for (const c of churn) if (c.len > best && ((a ^ c.p) & maskOf(c.len)) === 0) valid.push(...c.vals);
    if (valid.length - start[i] === 1) nStable++;
  }
  start[addrs.length] = valid.length;
  return { start, valid: Int32Array.from(valid), nStable };
}

if (isMainThread) {
  test('a reader thread looks up correctly while this thread churns 150k updates', { timeout: 180_000 }, async () => {
    console.log(`fib-threads.test seed=${SEED} (set LPM_SEED to reproduce)`);
    const rnd = prng(SEED);
    const { stable, churn } = makePrefixes(rnd);
    // Small start: the churn grows and compacts it, moving the reader between buffers.
    const t = new LpmTable({ shared: true, initialWords: 4096 });
    for (const s of stable) t.set(s.p, s.len, s.v);
    const present = churn.map(() => 0); // 0 = absent, else the value set
    const addrList: number[] = [];
    for (const x of [...stable, ...churn]) {
      const last = (x.p | ~maskOf(x.len)) >>> 0;
      addrList.push(x.p, last, (x.p - 1) >>> 0, (last + 1) >>> 0, (x.p | (rnd() & ~maskOf(x.len))) >>> 0);
    }
    for (let i = 0; i < 2000; i++) addrList.push(rnd(), ((0x14000000 | (rnd() & 0x7ffff)) >>> 0), (0x96000000 | (rnd() & 0x7ffff)) >>> 0);
    const addrs = Uint32Array.from(addrList);
    const { start, valid, nStable } = validAnswers(addrs, stable, churn);
    assert.ok(nStable > 1000 && addrs.length - nStable > 1000, `stable ${nStable}, changing ${addrs.length - nStable}`);

    const counters = new Int32Array(new SharedArrayBuffer(64));
    const final = new Int32Array(new SharedArrayBuffer(addrs.length * 4));
    const handles = t.share();
    const data: ReaderData = { role: 'fib-reader', handles, counters: counters.buffer as SharedArrayBuffer, addrs, start, valid, final: final.buffer as SharedArrayBuffer };
    const worker = new Worker(new URL(import.meta.url), { workerData: data, transferList: [handles.port] });
    const exited = new Promise<number>((resolve, reject) => {
      worker.on('error', reject);
      worker.on('exit', resolve);
    });
    const waitFor = async (what: string, ok: () => boolean, ms: number): Promise<void> => {
      const deadline = Date.now() + ms;
      while (!ok()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    try {
      await waitFor('the reader to start', () => Atomics.load(counters, C_ROUNDS) > 0, 30_000);
      const gens = new Set<number>([t.generation]);
      const roundsBefore = Atomics.load(counters, C_ROUNDS);
      let sinceYield = Date.now();
      for (let u = 0; u < UPDATES; u++) {
        const k = rnd() % churn.length;
        const c = churn[k];
        if (present[k] !== 0 && rnd() % 3 === 0) {
          assert.equal(t.delete(c.p, c.len), true);
          present[k] = 0;
        } else {
          const v = c.vals[rnd() & 1];
          t.set(c.p, c.len, v);
          present[k] = v;
        }
        gens.add(t.generation);
        // Let the event loop run now and then (the reader's port 'close' and the like).
        if (Date.now() - sinceYield > 50) {
          await new Promise((r) => setImmediate(r));
          sinceYield = Date.now();
        }
      }
      const roundsDuring = Atomics.load(counters, C_ROUNDS) - roundsBefore;
      // The final answers, from a brute-force pass over what is stored now.
      const now = [...stable.map((s) => ({ p: s.p, len: s.len, v: s.v })), ...churn.flatMap((c, k) => (present[k] !== 0 ? [{ p: c.p, len: c.len, v: present[k] }] : []))];
      for (let i = 0; i < addrs.length; i++) {
        let best = -1;
        let v = 0;
        for (const r of now) {
          if (r.len > best && ((addrs[i] ^ r.p) & maskOf(r.len)) === 0) {
            best = r.len;
            v = r.v;
          }
        }
        final[i] = v;
        assert.equal(t.lookup(addrs[i]), v, `writer's own lookup of ${formatAddress(addrs[i])} (seed=${SEED})`);
      }
      await waitFor('the reader to do enough lookups', () => Atomics.load(counters, C_LOOKUPS_M) * 1000 >= MIN_LOOKUPS, 120_000);
      Atomics.store(counters, C_STOP, 1);
      await waitFor('the reader to finish', () => Atomics.load(counters, C_DONE) === 1, 30_000);
      assert.equal(await exited, 0);

      const lookups = Atomics.load(counters, C_LOOKUPS_M) * 1000;
      console.log(
        `reader: ${lookups.toLocaleString('en-US')} lookups of ${addrs.length} addresses (${nStable} with one valid answer), ` +
          `${roundsDuring} passes during ${UPDATES} updates; buffer generations: writer ${gens.size}, reader ${Atomics.load(counters, C_GENS)}`,
      );
      assert.equal(Atomics.load(counters, C_WRONG), 0, `wrong answers during the churn (seed=${SEED})`);
      assert.equal(Atomics.load(counters, C_FINAL_WRONG), 0, `wrong answers after the churn (seed=${SEED})`);
      assert.ok(lookups >= MIN_LOOKUPS);
      assert.ok(roundsDuring >= 2, `the reader ran during the churn (${roundsDuring} passes)`);
      assert.ok(gens.size > 3, `the table moved to new buffers during the churn (${gens.size} generations)`);
      assert.ok(Atomics.load(counters, C_GENS) > 1, 'the reader followed it');
    } finally {
      Atomics.store(counters, C_STOP, 1);
      await worker.terminate();
    }
  });
} else if ((workerData as ReaderData | undefined)?.role === 'fib-reader') {
  // The reader: passes over the addresses with lookupBatch and lookup, a
  // quiescent point between passes, until told to stop.
  const d = workerData as ReaderData;
  const counters = new Int32Array(d.counters);
  const final = new Int32Array(d.final);
  const reader = new FibReader(d.handles);
  const n = d.addrs.length;
  const out = new Uint32Array(n);
  const gens = new Set<number>();
  let lookups = 0;
  let wrong = 0;
  const isValid = (i: number, got: number): boolean => {
    for (let k = d.start[i]; k < d.start[i + 1]; k++) if (d.valid[k] === got) return true;
    return false;
  };
  const report = (i: number, got: number, how: string): void => {
    wrong++;
    if (wrong <= 10) console.error(`reader: ${how} ${formatAddress(d.addrs[i])} = ${got}, valid ${[...d.valid.subarray(d.start[i], d.start[i + 1])]}`);
  };
  while (Atomics.load(counters, C_STOP) === 0) {
    reader.quiescent();
    gens.add(reader.generation);
    reader.lookupBatch(d.addrs, out, n);
    for (let i = 0; i < n; i++) if (!isValid(i, out[i])) report(i, out[i], 'lookupBatch');
    for (let i = 0; i < n; i++) {
      const got = reader.lookup(d.addrs[i]);
      if (!isValid(i, got)) report(i, got, 'lookup');
    }
    lookups += 2 * n;
    Atomics.add(counters, C_ROUNDS, 1);
    Atomics.store(counters, C_LOOKUPS_M, Math.floor(lookups / 1000));
    Atomics.store(counters, C_WRONG, wrong);
  }
  // The writer is idle now: after a quiescent point every answer is the final one.
  reader.quiescent();
  gens.add(reader.generation);
  let finalWrong = 0;
  for (let i = 0; i < n; i++) {
    const got = reader.lookup(d.addrs[i]);
    if (got !== final[i]) {
      finalWrong++;
      if (finalWrong <= 10) console.error(`reader: final ${formatAddress(d.addrs[i])} = ${got}, want ${final[i]}`);
    }
  }
  Atomics.store(counters, C_FINAL_WRONG, finalWrong);
  Atomics.store(counters, C_GENS, gens.size);
  reader.close();
  Atomics.store(counters, C_DONE, 1);
  parentPort?.close();
}
