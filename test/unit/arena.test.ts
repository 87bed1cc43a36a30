// The packet arena's permanent regions: 64-byte aligned, given back by a
// removed port and reused by a later one that fits, rolled back after a
// step that failed half-way.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArenaFull, PacketArena } from '../../src/packet/arena.js';

test('regions are 64-byte aligned and do not overlap; the arena refuses one that does not fit', () => {
  const a = new PacketArena(4096, 100);
  const r1 = a.reserve(10);
  const r2 = a.reserve(1000);
  assert.equal(r1 % 64, 0);
  assert.equal(r2 % 64, 0);
  assert.ok(r1 >= 100 && r2 >= r1 + 10);
  assert.throws(() => a.reserve(4096), ArenaFull);
});

test('a region given back is reused by the smallest fit, the rest staying free; adjacent ones merge; new room only when none fits', () => {
  const a = new PacketArena(1 << 16, 64);
  const [x, y, z] = [a.reserve(1024), a.reserve(2048), a.reserve(1024)];
  const end = a.reservedEnd;
  a.release(y);
  a.release(x);
  // x and y merged: 3,072 bytes from x.
  assert.equal(a.reserve(2048), x);
  assert.equal(a.reserve(1024), x + 2048, 'the rest of the merged region');
  assert.equal(a.reservedEnd, end, 'no new room taken');
  a.release(z);
  assert.equal(a.reserve(100), z, 'the only free region');
  assert.equal(a.reserve(100), z + 128, 'its rest, from the next 64-byte boundary');
  assert.ok(a.reserve(5000) >= end, 'none fits: new room');
  assert.throws(() => a.release(12345), /no region at 12345/);
  assert.throws(() => a.release(x + 64), /no region/);
});

test('rollback gives back what was reserved since the mark: new room and reused regions alike', () => {
  const a = new PacketArena(1 << 16, 64);
  const x = a.reserve(3000);
  a.reserve(100);
  a.release(x);
  const end = a.reservedEnd;
  const mark = a.mark();
  assert.equal(a.reserve(2000), x, 'reused');
  a.reserve(4000);
  a.rollback(mark);
  assert.equal(a.reservedEnd, end);
  assert.equal(a.reserve(3000), x, 'x free again, whole');
});
