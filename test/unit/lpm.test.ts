import test from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/net/addr.js';
import { FibReader, LpmTable } from '../../src/routing/lpm.js';
import { mulberry32 as prng } from '../../src/testbed/random.js';
import { checkAgainst, churnAgainstReference, lpmSeed, maskOf, probeAddresses, randomValue, Reference } from '../support/lpm-reference.js';

const SEED = lpmSeed('lpm.test');
/** Small enough that tests grow, compact and publish new buffers often. */
const SMALL = { initialWords: 1000 };

test('empty table, default route, /32s, addresses above 2^31', () => {
  const t = new LpmTable();
  assert.equal(t.lookup(0), 0);
  assert.equal(t.lookup(0xffffffff), 0);
  assert.equal(t.size, 0);

  t.set(0, 0, 7);
  assert.equal(t.lookup(0), 7);
  assert.equal(t.lookup(0xffffffff), 7);
  assert.equal(t.lookup(0x0a000001), 7);

  t.set(0x0a000001, 32, 9); // 10.0.0.1/32
  t.set(0xffffffff, 32, 10);
  t.set(0, 32, 11);
  t.set(0x80000000, 32, 12);
  assert.equal(t.lookup(0x0a000001), 9);
  assert.equal(t.lookup(0x0a000000), 7);
  assert.equal(t.lookup(0x0a000002), 7);
  assert.equal(t.lookup(0xffffffff), 10);
  assert.equal(t.lookup(-1), 10, 'int32 address is accepted');
  assert.equal(t.lookup(0xfffffffe), 7);
  assert.equal(t.lookup(0), 11);
  assert.equal(t.lookup(1), 7);
  assert.equal(t.lookup(0x80000000), 12);
  assert.equal(t.lookup(0x80000000 | 0), 12, 'int32 form of 128.0.0.0');
  assert.equal(t.lookup(0x7fffffff), 7);
  assert.equal(t.lookup(0x80000001), 7);

  t.set(0x0a000000, 8, 3); // 10/8 between /0 and the /32
  assert.equal(t.lookup(0x0a000001), 9);
  assert.equal(t.lookup(0x0a000002), 3);
  assert.equal(t.lookup(0x0b000000), 7);

  t.set(0x80000000, 1, 20); // the upper half
  t.set(0xc0000000, 2, 21);
  assert.equal(t.lookup(0xbfffffff), 20);
  assert.equal(t.lookup(0xc0000000), 21);
  assert.equal(t.lookup(0xfffffffe), 21);
  assert.equal(t.lookup(0xffffffff), 10);
  assert.equal(t.lookup(0x80000000), 12);

  assert.equal(t.delete(0x0a000001, 32), true);
  assert.equal(t.lookup(0x0a000001), 3, '/32 gone, falls back to /8');
  assert.equal(t.delete(0, 0), true);
  assert.equal(t.lookup(0x0b000000), 0, 'default route gone');
  assert.equal(t.lookup(0x0a000001), 3);
  assert.equal(t.delete(0xc0000000, 2), true);
  assert.equal(t.lookup(0xfffffffe), 20);
  assert.equal(t.size, 5);

  t.set(0x0a000000, 8, 4); // replace
  assert.equal(t.lookup(0x0affffff), 4);
  assert.equal(t.get(0x0a000000, 8), 4);
  assert.equal(t.size, 5);
  t.set(0xffffffff, 32, 13); // replace a /32 (a node's entry-length prefix)
  assert.equal(t.lookup(0xffffffff), 13);
  assert.equal(t.get(0xffffffff, 32), 13);
  assert.equal(t.size, 5);
});

test('lookupBatch matches lookup, any count', () => {
  const rnd = prng(SEED ^ 0x5bd1e995);
  const t = new LpmTable();
  t.set(0, 0, 1);
  for (let i = 0; i < 3000; i++) {
    const len = 8 + (rnd() % 25);
    t.set((rnd() & maskOf(len)) >>> 0, len, 2 + (rnd() % 1000));
  }
  t.set(0x0a000000, 8, 0x7fffffff);
  const addrs = new Uint32Array(1000);
  for (let i = 0; i < addrs.length; i++) addrs[i] = i % 3 === 0 ? (0x0a000000 | (rnd() & 0xffffff)) >>> 0 : rnd();
  for (const count of [0, 1, 7, 8, 9, 15, 16, 17, 999, 1000]) {
    const out = new Uint32Array(1000).fill(0xdeadbeef);
    t.lookupBatch(addrs, out, count);
    for (let i = 0; i < count; i++) assert.equal(out[i], t.lookup(addrs[i]), `count ${count} [${i}] (seed=${SEED})`);
    for (let i = count; i < out.length; i++) assert.equal(out[i], 0xdeadbeef, 'nothing written past count');
  }
  assert.throws(() => t.lookupBatch(addrs, new Uint32Array(10)), RangeError);
  assert.throws(() => t.lookupBatch(addrs, new Uint32Array(2000), 1001), RangeError);
  assert.throws(() => t.lookupBatch(addrs, new Uint32Array(2000), -1), RangeError);
});

test('deleting a prefix that does not exist', () => {
  const t = new LpmTable();
  assert.equal(t.delete(0x0a000000, 8), false);
  t.set(0x0a000000, 8, 1);
  assert.equal(t.delete(0x0a000000, 16), false, 'same address, other length');
  assert.equal(t.delete(0x0b000000, 8), false);
  assert.equal(t.delete(0, 0), false);
  assert.equal(t.get(0x0a000000, 16), undefined);
  // Long prefixes: absent inside an existing node, and where no node exists.
  t.set(0x0a010100, 24, 2);
  assert.equal(t.delete(0x0a010200, 24), false, 'another /24 of the same node');
  assert.equal(t.delete(0x0a010000, 23), false, 'a /23 (bitmap) not stored');
  assert.equal(t.delete(0x0a010180, 25), false, 'below the /24 entry: no node');
  assert.equal(t.delete(0x0b010100, 24), false, 'no node at all');
  assert.equal(t.get(0x0a010000, 23), undefined);
  assert.equal(t.get(0x0a010180, 25), undefined);
  assert.equal(t.size, 2);
  assert.equal(t.lookup(0x0a010203), 1);
  assert.equal(t.lookup(0x0a010103), 2);
  assert.equal(t.delete(0x0a010100, 24), true);
  assert.equal(t.delete(0x0a000000, 8), true);
  assert.equal(t.delete(0x0a000000, 8), false, 'second delete');
  assert.equal(t.size, 0);
  assert.equal(t.blockCount, 0);
});

test('bad input throws RangeError', () => {
  const t = new LpmTable();
  assert.throws(() => t.set(0x0a000001, 24, 1), RangeError, 'host bits set');
  assert.throws(() => t.set(0x0a000080, 24, 1), RangeError);
  assert.throws(() => t.set(1, 0, 1), RangeError);
  assert.throws(() => t.delete(0x0a000001, 8), RangeError);
  assert.throws(() => t.get(0x0a000001, 8), RangeError);
  assert.throws(() => t.set(0, 33, 1), RangeError, 'len > 32');
  assert.throws(() => t.set(0, -1, 1), RangeError);
  assert.throws(() => t.set(0, 1.5, 1), RangeError);
  assert.throws(() => t.set(0x0a000000, 8, 0), RangeError, 'value 0 means no route');
  assert.throws(() => t.set(0x0a000000, 8, 0x80000000), RangeError, 'value uses the pointer bit');
  assert.throws(() => t.set(0x0a000000, 8, 1.5), RangeError);
  assert.throws(() => t.set(2 ** 32, 32, 1), RangeError);
  assert.throws(() => new LpmTable({ initialWords: 10 }), RangeError);
  assert.throws(() => new LpmTable({ shared: true, maxReaders: 0 }), RangeError);
  assert.throws(() => t.share(), /not created with \{ shared: true \}/);
  assert.equal(t.size, 0);
  // int32 form of a prefix is normalised.
  t.set(0xc0a80000 | 0, 16, 5);
  assert.equal(t.get(0xc0a80000, 16), 5);
  assert.equal([...t.entries()][0][0], 0xc0a80000);
  t.set(0xc0a80180 | 0, 25, 6);
  assert.equal(t.get(0xc0a80180, 25), 6);
  assert.deepEqual(
    [...t.entries()].sort((a, b) => a[1] - b[1]),
    [
      [0xc0a80000, 16, 5],
      [0xc0a80180, 25, 6],
    ],
  );
});

test('random inserts, replacements and deletes against brute force', () => {
  const rnd = prng(SEED);
  const targets = [50, 300, 1500, 3000, 800, 2000, 400, 2500];
  for (let round = 0; round < targets.length; round++) {
    const t = new LpmTable(round % 2 === 0 ? SMALL : { ...SMALL, shared: true });
    churnAgainstReference(t, rnd, targets[round], `round ${round} (seed=${SEED})`);
    assert.equal(t.blockCount, 0);
  }
});

test('every length nested in one /16 and one /24, all deletion orders', () => {
  // Around the node boundaries: /16 (directory), /17../23 (a node's bitmap),
  // /24 (a node's entries, with children below), /25../31, /32.
  const rnd = prng(SEED ^ 0x9e3779b9);
  for (let round = 0; round < 25; round++) {
    const t = new LpmTable(SMALL);
    const ref = new Reference();
    const base = (0xc0a80000 | ((rnd() & 1) * 0x0100)) >>> 0; // 192.168.0.0 or 192.168.1.0
    for (let i = 0; i < 200; i++) {
      const len = rnd() % 33;
      const p = ((base | (rnd() & (len > 16 ? 0x1ff : 0))) & maskOf(len)) >>> 0;
      const v = randomValue(rnd);
      t.set(p, len, v);
      ref.set(p, len, v);
    }
    const addrs: number[] = [];
    for (let a = 0; a < 512; a++) addrs.push((0xc0a80000 + a) >>> 0);
    addrs.push(0xc0a7ffff, 0xc0a9ffff, 0xc0a90000, 0xc0a8ffff, 0, 0xffffffff);
    checkAgainst(t, ref, addrs, `dense round ${round}`);
    const order = [...ref.routes.values()];
    for (let i = order.length - 1; i > 0; i--) {
      const j = rnd() % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (let i = 0; i < order.length; i++) {
      t.delete(order[i].p, order[i].len);
      ref.delete(order[i].p, order[i].len);
      if (i % 10 === 0) checkAgainst(t, ref, addrs, `dense round ${round} delete ${i}`);
    }
    checkAgainst(t, ref, addrs, `dense round ${round} emptied`);
    assert.equal(t.blockCount, 0);
    assert.equal(t.memoryBytes(), new LpmTable(SMALL).memoryBytes());
  }
});

test('a node full of equal entry-length prefixes keeps them apart', () => {
  // 256 /24s with one value make one run of leaves: the node must stay (it is
  // what records them) and each /24 must stay deletable on its own.
  const t = new LpmTable();
  const ref = new Reference();
  t.set(0x0a000000, 8, 1);
  ref.set(0x0a000000, 8, 1);
  for (let i = 0; i < 256; i++) {
    t.set((0x0a140000 | (i << 8)) >>> 0, 24, 7);
    ref.set((0x0a140000 | (i << 8)) >>> 0, 24, 7);
  }
  const addrs: number[] = [];
  for (let i = 0; i < 256; i++) addrs.push((0x0a140000 | (i << 8) | 5) >>> 0);
  addrs.push(0x0a13ffff, 0x0a150000);
  checkAgainst(t, ref, addrs, 'full node');
  assert.equal(t.blockCount, 1);
  // The same with /32s under one /24 (the second level's entry length), and a child under a /24 entry.
  for (let i = 0; i < 256; i++) {
    t.set((0x0a1e0500 | i) >>> 0, 32, 9);
    ref.set((0x0a1e0500 | i) >>> 0, 32, 9);
  }
  t.set(0x0a140580, 25, 8);
  ref.set(0x0a140580, 25, 8);
  for (let i = 0; i < 300; i++) addrs.push((0x0a1e0400 + i) >>> 0, (0x0a140500 + i) >>> 0);
  checkAgainst(t, ref, addrs, 'full second level');
  for (let i = 255; i >= 0; i -= 3) {
    assert.equal(t.delete((0x0a140000 | (i << 8)) >>> 0, 24), true);
    ref.delete((0x0a140000 | (i << 8)) >>> 0, 24);
    assert.equal(t.delete((0x0a1e0500 | i) >>> 0, 32), true);
    ref.delete((0x0a1e0500 | i) >>> 0, 32);
  }
  checkAgainst(t, ref, addrs, 'every third deleted');
  for (const r of [...ref.routes.values()]) {
    t.delete(r.p, r.len);
    ref.delete(r.p, r.len);
  }
  checkAgainst(t, ref, addrs, 'emptied');
  assert.equal(t.blockCount, 0);
});

test('a flapping route does not grow memory (blocks are reused)', () => {
  const t = new LpmTable(SMALL);
  t.set(0, 0, 1);
  t.set(0x0a000000, 8, 2);
  let peak = 0;
  for (let i = 0; i < 20000; i++) {
    const p = (0x0a000000 + ((i % 37) << 12) + ((i % 5) << 4)) >>> 0;
    t.set(p, 28, 100 + i);
    t.set(p & 0xffffff00, 24, 50); // a /24 over it
    assert.equal(t.lookup(p + 1), 100 + i);
    assert.equal(t.delete(p, 28), true);
    assert.equal(t.lookup(p + 1), 50);
    assert.equal(t.delete(p & 0xffffff00, 24), true);
    assert.equal(t.lookup(p + 1), 2);
    if (i === 100) peak = t.memoryBytes();
    if (i > 100) assert.ok(t.memoryBytes() <= peak, `memory grew at flap ${i}`);
  }
  assert.equal(t.blockCount, 0);
  assert.equal(t.size, 2);
});

test('nodes are created on demand and collapse when nothing needs them', () => {
  const t = new LpmTable();
  t.set(0, 0, 1);
  t.set(0x0a000000, 8, 2);
  t.set(0x0a010000, 16, 3);
  assert.equal(t.blockCount, 0, 'prefixes up to /16 live in the directory');
  t.set(0x0a010100, 24, 4);
  assert.equal(t.blockCount, 1, 'a /24 needs one first-level node');
  t.set(0x0a010110, 28, 5);
  assert.equal(t.blockCount, 2, 'a /28 needs a second-level node');
  t.set(0x0a010120, 28, 6);
  t.set(0x0a010200, 23, 7);
  assert.equal(t.blockCount, 2);
  assert.equal(t.delete(0x0a010110, 28), true);
  assert.equal(t.blockCount, 2, 'one /28 left');
  assert.equal(t.delete(0x0a010120, 28), true);
  assert.equal(t.blockCount, 1, 'second-level node folded back into the /24 entry');
  assert.equal(t.lookup(0x0a010111), 4);
  assert.equal(t.delete(0x0a010100, 24), true);
  assert.equal(t.blockCount, 1, 'the /23 still needs the node');
  assert.equal(t.lookup(0x0a010111), 3);
  assert.equal(t.lookup(0x0a010301), 7);
  assert.equal(t.delete(0x0a010200, 23), true);
  assert.equal(t.blockCount, 0, 'node folded back into the directory');
  assert.equal(t.lookup(0x0a010301), 3);
  // A /17 and its buddy with the same value: one run, but both are stored, so the node stays.
  t.set(0x0a020000, 17, 8);
  t.set(0x0a028000, 17, 8);
  assert.equal(t.blockCount, 1);
  assert.equal(t.lookup(0x0a02ffff), 8);
  assert.equal(t.delete(0x0a020000, 17), true);
  assert.equal(t.lookup(0x0a020001), 2);
  assert.equal(t.lookup(0x0a028001), 8);
  assert.equal(t.delete(0x0a028000, 17), true);
  assert.equal(t.blockCount, 0);
  assert.equal(t.lookup(0x0a028001), 2);
});

test('growth and compaction keep every prefix and move readers to the new buffer', () => {
  const rnd = prng(SEED + 7);
  const t = new LpmTable({ ...SMALL, shared: true });
  const reader = new FibReader(t.share());
  const ref = new Reference();
  const start = t.memoryBytes();
  const gens = new Set<number>([t.generation]);
  const stored: [number, number][] = [];
  for (let i = 0; i < 6000; i++) {
    const len = 17 + (rnd() % 16);
    const p = (rnd() & maskOf(len)) >>> 0;
    if (ref.has(p, len) === undefined) stored.push([p, len]);
    const v = 1 + (i % 1000);
    t.set(p, len, v);
    ref.set(p, len, v);
    gens.add(t.generation);
  }
  assert.ok(gens.size > 3, `the buffer was replaced while growing (${gens.size} generations)`);
  const addrs = probeAddresses(rnd, ref, 1000);
  checkAgainst(t, ref, addrs, 'grown');
  // The reader still reads the buffer it attached to until its next quiescent point.
  reader.quiescent();
  assert.equal(reader.generation, t.generation);
  for (const a of addrs) assert.equal(reader.lookup(a), ref.lookup(a), `reader lookup ${formatAddress(a)} (seed=${SEED})`);
  // Delete most: the table compacts into smaller buffers, still correct.
  const peak = t.memoryBytes();
  for (let i = 0; i < stored.length; i++) {
    if (i % 10 === 0) continue;
    t.delete(stored[i][0], stored[i][1]);
    ref.delete(stored[i][0], stored[i][1]);
    if (i % 500 === 0) reader.quiescent();
  }
  assert.ok(t.memoryBytes() < peak / 2, `shrank (${peak} -> ${t.memoryBytes()})`);
  checkAgainst(t, ref, probeAddresses(rnd, ref, 1000), 'compacted');
  reader.quiescent();
  for (const a of probeAddresses(rnd, ref, 1000)) assert.equal(reader.lookup(a), ref.lookup(a));
  for (const r of [...ref.routes.values()]) {
    t.delete(r.p, r.len);
    ref.delete(r.p, r.len);
  }
  assert.equal(t.memoryBytes(), start, 'memory back to the start');
  reader.quiescent();
  assert.equal(reader.lookup(rnd()), 0);
  reader.close();
});

test('memory returns to its start after a large table is deleted', () => {
  const rnd = prng(SEED + 1);
  const t = new LpmTable();
  const start = t.memoryBytes();
  const stored: [number, number][] = [];
  for (let i = 0; i < 40000; i++) {
    const len = 17 + (rnd() % 16);
    const p = (rnd() & maskOf(len)) >>> 0;
    if (t.get(p, len) === undefined) stored.push([p, len]);
    t.set(p, len, 1 + (i % 1000));
  }
  const peak = t.memoryBytes();
  assert.ok(peak > start * 4, `table grew (${start} -> ${peak})`);
  // Delete half: it must still answer correctly.
  for (let i = 0; i < stored.length; i += 2) t.delete(stored[i][0], stored[i][1]);
  for (let i = 1; i < stored.length; i += 2) {
    const [p, len] = stored[i];
    assert.notEqual(t.lookup((p | (~maskOf(len) & rnd())) >>> 0), 0);
  }
  for (let i = 1; i < stored.length; i += 2) t.delete(stored[i][0], stored[i][1]);
  assert.equal(t.size, 0);
  assert.equal(t.blockCount, 0);
  assert.equal(t.memoryBytes(), start, `memory ${peak} -> ${t.memoryBytes()}, start ${start}`);
  for (let i = 0; i < 1000; i++) assert.equal(t.lookup(rnd()), 0);
});

test('a reader that has not passed a quiescent point keeps its blocks from reuse', () => {
  // White-box: the block a lookup walks through is replaced when an update
  // changes its shape (copy-on-write). Until the reader announces a later
  // epoch the old block's words must stay as they were, though the writer
  // reuses freed blocks eagerly. (Room enough that the table does not grow
  // meanwhile: growth moves everyone to a new buffer, where the old blocks
  // are free at once.)
  const t = new LpmTable({ shared: true, initialWords: 1 << 20 });
  const reader = new FibReader(t.share());
  const p22 = (i: number): number => (0x0a000000 | (i << 10)) >>> 0;
  for (let i = 0; i < 64; i++) t.set(p22(i), 22, 1 + i);
  // Even /22s take their odd neighbour's value (runs merge) or a value of their own (runs split).
  const churn = (round: number): void => {
    for (let i = 0; i < 64; i += 2) t.set(p22(i), 22, round % 2 === 0 ? 2 + i : 10000 + round);
  };
  // A few rounds first, so the block sizes the churn needs are the ones in rotation.
  for (let round = 0; round < 4; round++) churn(round);
  const inner = t as unknown as { B: Int32Array };
  const ptr = inner.B[0x0a00];
  assert.ok(ptr < 0, 'a node under 10.0.0.0/16');
  const o = ptr & 0x7fffffff;
  const before = inner.B.slice(o, o + 64 + 64);
  reader.quiescent();
  const gen = t.generation;
  for (let round = 0; round < 50; round++) churn(round);
  assert.equal(t.generation, gen, 'same buffer');
  assert.notEqual(inner.B[0x0a00], ptr, 'the node was replaced');
  assert.deepEqual(inner.B.slice(o, o + 128), before, 'the old block was not reused while the reader could be in it');
  // After the reader's next quiescent point, blocks are reused: memory stops growing.
  const grown = t.memoryBytes();
  for (let round = 50; round < 250; round++) {
    reader.quiescent();
    churn(round);
  }
  assert.ok(t.memoryBytes() <= grown, `memory ${grown} -> ${t.memoryBytes()}`);
  assert.equal(reader.lookup(0x0a000001), 10000 + 249);
  assert.equal(reader.lookup(0x0a000401), 2);
  // An offline reader holds nothing.
  reader.offline();
  for (let round = 250; round < 450; round++) churn(round);
  assert.ok(t.memoryBytes() <= grown);
  reader.close();
});

test('reader slots are handed out, refused when full, and freed when a reader closes', async () => {
  const t = new LpmTable({ shared: true, maxReaders: 2 });
  t.set(0x0a000000, 8, 3);
  const a = new FibReader(t.share());
  const h = t.share();
  assert.throws(() => t.share(), /all 2 reader slots in use/);
  const b = new FibReader(h);
  assert.equal(a.lookup(0x0a010203), 3);
  assert.equal(b.lookup(0x0a010203), 3);
  b.close();
  assert.throws(() => b.quiescent(), /closed/);
  // The writer frees the slot when it sees the port close (an event).
  const deadline = Date.now() + 5000;
  let c: FibReader | undefined;
  while (c === undefined) {
    try {
      c = new FibReader(t.share());
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  assert.equal(c.lookup(0x0a010203), 3);
  a.close();
  c.close();
});
