import test from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/net/addr.js';
import { LpmTable1688 as LpmTable } from '../../src/routing/lpm-16-8-8.js';
import { mulberry32 as prng } from '../../src/testbed/random.js';
import { checkAgainst, churnAgainstReference, lpmSeed, maskOf, randomValue, Reference } from '../support/lpm-reference.js';

const SEED = lpmSeed('lpm-16-8-8.test');

test('empty table, default route, /32s', () => {
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
  assert.equal(t.lookup(0x0a000001), 9);
  assert.equal(t.lookup(0x0a000000), 7);
  assert.equal(t.lookup(0x0a000002), 7);
  assert.equal(t.lookup(0xffffffff), 10);
  assert.equal(t.lookup(-1), 10, 'int32 address is accepted');
  assert.equal(t.lookup(0xfffffffe), 7);
  assert.equal(t.lookup(0), 11);
  assert.equal(t.lookup(1), 7);

  t.set(0x0a000000, 8, 3); // 10/8 between /0 and the /32
  assert.equal(t.lookup(0x0a000001), 9);
  assert.equal(t.lookup(0x0a000002), 3);
  assert.equal(t.lookup(0x0b000000), 7);

  assert.equal(t.delete(0x0a000001, 32), true);
  assert.equal(t.lookup(0x0a000001), 3, '/32 gone, falls back to /8');
  assert.equal(t.delete(0, 0), true);
  assert.equal(t.lookup(0x0b000000), 0, 'default route gone');
  assert.equal(t.lookup(0x0a000001), 3);
  assert.equal(t.size, 3);

  t.set(0x0a000000, 8, 4); // replace
  assert.equal(t.lookup(0x0affffff), 4);
  assert.equal(t.get(0x0a000000, 8), 4);
  assert.equal(t.size, 3);
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
  assert.equal(t.size, 1);
  assert.equal(t.lookup(0x0a010203), 1);
  assert.equal(t.delete(0x0a000000, 8), true);
  assert.equal(t.delete(0x0a000000, 8), false, 'second delete');
  assert.equal(t.size, 0);
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
  assert.equal(t.size, 0);
  // int32 form of a prefix is normalised.
  t.set(0xc0a80000 | 0, 16, 5);
  assert.equal(t.get(0xc0a80000, 16), 5);
  assert.equal([...t.entries()][0][0], 0xc0a80000);
});

test('random inserts, replacements and deletes against brute force', () => {
  const rnd = prng(SEED);
  const targets = [50, 300, 1500, 3000, 800, 2000];
  for (let round = 0; round < targets.length; round++) {
    const t = new LpmTable({ initialGroups: 1 + (rnd() % 8) });
    churnAgainstReference(t, rnd, targets[round], `round ${round} (seed=${SEED})`);
    assert.equal(t.groupCount, 0);
  }
});

test('dense nesting in one /16 and one /24 (all lengths, all deletion orders)', () => {
  const rnd = prng(SEED ^ 0x9e3779b9);
  for (let round = 0; round < 20; round++) {
    const t = new LpmTable({ initialGroups: 1 });
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
    addrs.push(0xc0a7ffff, 0xc0a9ffff, 0xc0a90000, 0, 0xffffffff);
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
    assert.equal(t.memoryBytes(), new LpmTable({ initialGroups: 1 }).memoryBytes());
  }
});

test('a flapping route does not grow memory (free list)', () => {
  const t = new LpmTable({ initialGroups: 4 });
  t.set(0, 0, 1);
  t.set(0x0a000000, 8, 2);
  const before = t.memoryBytes();
  for (let i = 0; i < 20000; i++) {
    const p = (0x0a000000 + ((i % 37) << 12) + ((i % 5) << 4)) >>> 0;
    t.set(p, 28, 100 + i);
    t.set(p & 0xffffff00, 24, 50); // a /24 over it
    assert.equal(t.lookup(p + 1), 100 + i);
    assert.equal(t.delete(p, 28), true);
    assert.equal(t.lookup(p + 1), 50);
    assert.equal(t.delete(p & 0xffffff00, 24), true);
    assert.equal(t.lookup(p + 1), 2);
  }
  assert.equal(t.memoryBytes(), before);
  assert.equal(t.groupCount, 0);
  assert.equal(t.size, 2);
});

test('groups are allocated on demand and collapsed at the stride boundary', () => {
  const t = new LpmTable();
  t.set(0, 0, 1);
  t.set(0x0a000000, 8, 2);
  t.set(0x0a010000, 16, 3);
  assert.equal(t.groupCount, 0, 'prefixes up to /16 live in level 1');
  t.set(0x0a010100, 24, 4);
  assert.equal(t.groupCount, 1, 'a /24 needs one level-2 group');
  t.set(0x0a010110, 28, 5);
  assert.equal(t.groupCount, 2, 'a /28 needs a level-3 group');
  t.set(0x0a010120, 28, 6);
  t.set(0x0a010200, 23, 7);
  assert.equal(t.groupCount, 2);
  assert.equal(t.delete(0x0a010110, 28), true);
  assert.equal(t.groupCount, 2, 'one /28 left');
  assert.equal(t.delete(0x0a010120, 28), true);
  assert.equal(t.groupCount, 1, 'level-3 group folded back into the /24 entry');
  assert.equal(t.lookup(0x0a010111), 4);
  assert.equal(t.delete(0x0a010100, 24), true);
  assert.equal(t.groupCount, 1, 'the /23 still needs the level-2 group');
  assert.equal(t.lookup(0x0a010111), 3);
  assert.equal(t.lookup(0x0a010301), 7);
  assert.equal(t.delete(0x0a010200, 23), true);
  assert.equal(t.groupCount, 0, 'level-2 group folded back into level 1');
  assert.equal(t.lookup(0x0a010301), 3);
  // Deleting a short prefix collapses groups that only held copies of it.
  t.set(0x0a020300, 24, 8);
  t.set(0x0a020380, 25, 9);
  assert.equal(t.groupCount, 2);
  t.delete(0x0a020380, 25);
  assert.equal(t.groupCount, 1);
  t.set(0x0a020380, 25, 9);
  t.delete(0x0a020300, 24);
  assert.equal(t.groupCount, 2, 'the /25 keeps both groups');
  t.delete(0x0a020380, 25);
  assert.equal(t.groupCount, 0);
  assert.equal(t.lookup(0x0a020381), 2);
});

test('compaction keeps groups, pointers and covering prefixes intact', () => {
  // Pairs of buddy /24s (and /32s) make deletes fall back to the covering
  // prefix a group remembers, which compaction must carry along when it
  // moves the group.
  const t = new LpmTable({ initialGroups: 1 });
  const start = t.memoryBytes();
  t.set(0x0a000000, 8, 1000);
  t.set(0x0a400000, 10, 1001);
  t.set(0x0ae00000, 11, 1002); // covers the survivors only, so a stale bg shows
  const pairs: number[] = [];
  for (let i = 0; i < 250; i++) {
    const p24 = (0x0a000000 + (i << 16) + ((i % 7) << 9)) >>> 0; // in 10.i.0.0/16
    pairs.push(p24);
    t.set(p24, 24, 2 * i + 1);
    t.set(p24 + 256, 24, 2 * i + 2);
    if (i % 3 === 0) {
      t.set(p24 + 512, 32, 5000 + i); // a level-3 group with a buddy pair
      t.set(p24 + 513, 32, 6000 + i);
    }
  }
  const peak = t.memoryBytes();
  assert.ok(peak > start, 'grew');
  const cover = (p: number): number =>
    (p & 0xffc00000) >>> 0 === 0x0a400000 ? 1001 : (p & 0xffe00000) >>> 0 === 0x0ae00000 ? 1002 : 1000;
  // Delete the low-numbered groups first so the survivors are moved down.
  for (let i = 0; i < 230; i++) {
    const p = pairs[i];
    assert.equal(t.delete(p, 24), true);
    assert.equal(t.lookup(p + 1), cover(p));
    assert.equal(t.lookup(p + 257), 2 * i + 2);
    assert.equal(t.delete(p + 256, 24), true);
    if (i % 3 === 0) {
      assert.equal(t.delete(p + 512, 32), true);
      assert.equal(t.lookup(p + 512), cover(p));
      assert.equal(t.lookup(p + 513), 6000 + i);
      assert.equal(t.delete(p + 513, 32), true);
    }
    assert.equal(t.lookup(p + 257), cover(p));
    assert.equal(t.lookup(p + 513), cover(p));
  }
  assert.ok(t.memoryBytes() < peak, `shrank (${peak} -> ${t.memoryBytes()})`);
  for (let i = 230; i < 250; i++) {
    const p = pairs[i];
    assert.equal(t.lookup(p + 1), 2 * i + 1);
    if (i % 3 === 0) assert.equal(t.lookup(p + 513), 6000 + i);
    assert.equal(t.delete(p, 24), true);
    assert.equal(t.lookup(p + 1), cover(p), `after compaction, ${formatAddress(p)}/24 falls back to its cover`);
    if (i % 3 === 0) {
      assert.equal(t.delete(p + 512, 32), true);
      assert.equal(t.lookup(p + 512), cover(p), 'level-3 group falls back to its cover');
      assert.equal(t.lookup(p + 513), 6000 + i);
    }
  }
  assert.equal(t.delete(0x0a400000, 10), true);
  assert.equal(t.delete(0x0ae00000, 11), true);
  for (let i = 230; i < 250; i++) assert.equal(t.lookup(pairs[i] + 1), 1000);
  assert.equal(t.delete(0x0a000000, 8), true);
  for (let i = 230; i < 250; i++) {
    assert.equal(t.lookup(pairs[i] + 1), 0);
    assert.equal(t.lookup(pairs[i] + 257), 2 * i + 2);
    t.delete(pairs[i] + 256, 24);
    if (i % 3 === 0) t.delete(pairs[i] + 513, 32);
  }
  assert.equal(t.size, 0);
  assert.equal(t.groupCount, 0);
  assert.equal(t.memoryBytes(), start);
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
  assert.ok(peak > start * 10, `table grew (${start} -> ${peak})`);
  // Delete half: the pool stays large enough but must still answer correctly.
  for (let i = 0; i < stored.length; i += 2) t.delete(stored[i][0], stored[i][1]);
  for (let i = 1; i < stored.length; i += 2) {
    const [p, len] = stored[i];
    assert.equal(t.lookup((p | (~maskOf(len) & rnd())) >>> 0) !== 0, true);
  }
  for (let i = 1; i < stored.length; i += 2) t.delete(stored[i][0], stored[i][1]);
  assert.equal(t.size, 0);
  assert.equal(t.groupCount, 0);
  assert.equal(t.memoryBytes(), start, `memory ${peak} -> ${t.memoryBytes()}, start ${start}`);
  for (let i = 0; i < 1000; i++) assert.equal(t.lookup(rnd()), 0);
});
