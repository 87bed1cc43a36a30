// The neighbour table's states, timers, creation rule and eviction, on a fake clock.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { HoldPool } from '../../src/ports/ethernet/hold-pool.js';
import { NeighbourTable, Resolve, type NeighbourSettings } from '../../src/ports/ethernet/neighbour-table.js';
import { seededRandom } from '../../src/testbed/random.js';
import { formatMac, parseMac } from '../../src/wire/ethernet.js';

const MAC1 = parseMac('02:00:00:00:00:01');
const MAC2 = parseMac('02:00:00:00:00:02');

function setup(settings: Partial<NeighbourSettings> = {}) {
  const clock = { now: 1000 };
  const log: string[] = [];
  const pool = new HoldPool(0, 16, 1500);
  const t = new NeighbourTable(settings, {
    solicit: (e, unicast) => log.push(`solicit ${t.addrs[e]! >>> 0} ${unicast ? 'unicast' : 'broadcast'}`),
    resolved: (e) => log.push(`resolved ${t.addrs[e]! >>> 0}`),
    unresolved: (e) => log.push(`unresolved ${t.addrs[e]! >>> 0}`),
  }, pool.next, () => clock.now);
  const state = (addr: string) => {
    const i = t.find(A(addr));
    return i < 0 ? 'none' : ['free', 'incomplete', 'reachable', 'stale', 'probe', 'failed'][t.state[i]!];
  };
  const run = (ms: number, step = 100) => {
    for (let end = clock.now + ms; clock.now < end;) {
      clock.now += Math.min(step, end - clock.now);
      t.tick(clock.now);
    }
  };
  return { t, clock, log, pool, state, run };
}

const H = A('10.0.0.2');
const H_ = String(H);

test('resolution: INCOMPLETE with a broadcast request, a reply makes it REACHABLE and releases', () => {
  const { t, log, state } = setup();
  assert.equal(t.resolve(H), Resolve.HOLD);
  assert.equal(state('10.0.0.2'), 'incomplete');
  assert.deepEqual(log, [`solicit ${H_} broadcast`]);
  // A second packet for it is held too, with no second request.
  assert.equal(t.resolve(H), Resolve.HOLD);
  assert.equal(log.length, 1);
  assert.equal(t.learn(H, MAC1, 0, true, false), t.entry);
  assert.deepEqual(log, [`solicit ${H_} broadcast`, `resolved ${H_}`]);
  assert.equal(state('10.0.0.2'), 'reachable');
  assert.equal(t.resolve(H), Resolve.SEND);
  assert.equal(formatMac(t.macs, t.entry * 6), '02:00:00:00:00:01');
});

test('retransmits every retransMs up to multicastProbes, then FAILED and unresolved; FAILED ages out', () => {
  const { t, log, state, run } = setup({ retransMs: 1000, multicastProbes: 3, failedMs: 5000 });
  t.resolve(H);
  run(950);
  assert.equal(log.length, 1);
  run(100);
  assert.deepEqual(log, [`solicit ${H_} broadcast`, `solicit ${H_} broadcast`]);
  run(1000);
  assert.equal(log.length, 3);
  assert.equal(state('10.0.0.2'), 'incomplete');
  run(1000);
  assert.equal(log[3], `unresolved ${H_}`);
  assert.equal(state('10.0.0.2'), 'failed');
  assert.equal(t.resolve(H), Resolve.HOLD, 'a new packet tries again');
  assert.equal(log[4], `solicit ${H_} broadcast`);
  assert.equal(state('10.0.0.2'), 'incomplete');
  run(3100);
  assert.equal(state('10.0.0.2'), 'failed');
  run(5100);
  assert.equal(state('10.0.0.2'), 'none');
  assert.equal(t.size, 0);
});

test('REACHABLE → STALE after reachableMs; use starts PROBE (unicast), a reply makes it REACHABLE again', () => {
  const { t, log, state, run } = setup({ reachableMs: 30_000 });
  t.resolve(H);
  t.learn(H, MAC1, 0, true, false);
  log.length = 0;
  run(29_900);
  assert.equal(state('10.0.0.2'), 'reachable');
  run(200);
  assert.equal(state('10.0.0.2'), 'stale');
  assert.equal(t.resolve(H), Resolve.SEND, 'a STALE MAC is still used');
  assert.equal(state('10.0.0.2'), 'probe');
  assert.deepEqual(log, [`solicit ${H_} unicast`]);
  assert.equal(t.resolve(H), Resolve.SEND);
  assert.equal(log.length, 1);
  t.learn(H, MAC1, 0, true, false);
  assert.equal(state('10.0.0.2'), 'reachable');
});

test('PROBE without an answer: unicastProbes requests, then FAILED; the next packet is held', () => {
  const { t, log, state, run } = setup({ reachableMs: 1000, unicastProbes: 3 });
  t.resolve(H);
  t.learn(H, MAC1, 0, true, false);
  run(1100);
  log.length = 0;
  t.resolve(H);
  run(2050);
  assert.deepEqual(log, [`solicit ${H_} unicast`, `solicit ${H_} unicast`, `solicit ${H_} unicast`]);
  run(1000);
  assert.equal(state('10.0.0.2'), 'failed');
  assert.equal(t.resolve(H), Resolve.HOLD);
});

test('STALE entries unused for staleMs are removed; used ones stay', () => {
  const { t, state, run } = setup({ staleMs: 10_000 });
  t.learn(A('10.0.0.2'), MAC1, 0, false, true);
  t.learn(A('10.0.0.3'), MAC2, 0, false, true);
  assert.equal(state('10.0.0.2'), 'stale');
  run(5000);
  // 10.0.0.3 carries a packet (→ PROBE), answers (→ REACHABLE), then goes STALE again and is not removed at once.
  t.resolve(A('10.0.0.3'));
  t.learn(A('10.0.0.3'), MAC2, 0, true, false);
  run(5100);
  assert.equal(state('10.0.0.2'), 'none');
  assert.equal(state('10.0.0.3'), 'reachable');
});

test('learning: confirm → REACHABLE, else STALE; no entry without create; same MAC keeps the state', () => {
  const { t, state } = setup();
  assert.equal(t.learn(H, MAC1, 0, false, false), -1);
  assert.equal(state('10.0.0.2'), 'none');
  t.learn(H, MAC1, 0, false, true);
  assert.equal(state('10.0.0.2'), 'stale');
  t.learn(H, MAC1, 0, true, false);
  assert.equal(state('10.0.0.2'), 'reachable');
  t.learn(H, MAC1, 0, false, false);
  assert.equal(state('10.0.0.2'), 'reachable', 'a broadcast request with the same MAC does not demote');
});

test('a changed MAC is ignored within lockMs of the last change, taken after', () => {
  const { t, clock, state } = setup({ lockMs: 1000 });
  t.learn(H, MAC1, 0, true, true);
  clock.now += 500;
  assert.equal(t.learn(H, MAC2, 0, true, false), -1);
  assert.equal(t.stats.locked, 1);
  t.resolve(H);
  assert.equal(formatMac(t.macs, t.entry * 6), '02:00:00:00:00:01');
  clock.now += 600;
  t.learn(H, MAC2, 0, false, false);
  t.resolve(H);
  assert.equal(formatMac(t.macs, t.entry * 6), '02:00:00:00:00:02');
  assert.equal(state('10.0.0.2'), 'probe', 'changed by a broadcast: STALE, then probed on use');
});

test('a request from an INCOMPLETE neighbour resolves it too (STALE) and releases its packets', () => {
  const { t, log, state } = setup();
  t.resolve(H);
  t.learn(H, MAC1, 0, false, true);
  assert.equal(log.at(-1), `resolved ${H_}`);
  assert.equal(state('10.0.0.2'), 'stale');
});

test('hold queue: per-neighbour limit drops the oldest', () => {
  const { t, pool } = setup({ holdPerNeighbour: 3 });
  t.resolve(H);
  const e = t.entry;
  const bufs = [pool.alloc(), pool.alloc(), pool.alloc(), pool.alloc()];
  assert.equal(t.hold(e, bufs[0]!), -1);
  assert.equal(t.hold(e, bufs[1]!), -1);
  assert.equal(t.hold(e, bufs[2]!), -1);
  assert.equal(t.hold(e, bufs[3]!), bufs[0], 'the oldest goes');
  assert.equal(t.heldOn(e), 3);
  const order: number[] = [];
  for (let b = t.takeHeld(e); b >= 0; b = pool.next[b]!) order.push(b);
  assert.deepEqual(order, bufs.slice(1));
  assert.equal(t.heldOn(e), 0);
  assert.equal(t.takeHeld(e), -1);
});

test('full table: creation evicts FAILED, then never-used STALE, never REACHABLE/INCOMPLETE/PROBE', () => {
  const { t, clock, state } = setup({ capacity: 4 });
  t.resolve(A('10.0.0.1')); // INCOMPLETE
  t.learn(A('10.0.0.2'), MAC1, 0, true, true); // REACHABLE
  t.learn(A('10.0.0.3'), MAC1, 0, false, true); // STALE → used → PROBE
  t.resolve(A('10.0.0.3'));
  t.learn(A('10.0.0.4'), MAC1, 0, false, true); // STALE, never used
  assert.equal(t.size, 4);
  clock.now += 10;
  assert.ok(t.learn(A('10.0.0.5'), MAC2, 0, false, true) >= 0);
  assert.equal(state('10.0.0.4'), 'none', 'the unused STALE entry made room');
  assert.equal(t.stats.evicted, 1);
  // 10.0.0.5 is now the only evictable entry.
  assert.ok(t.learn(A('10.0.0.6'), MAC2, 0, false, true) >= 0);
  assert.equal(state('10.0.0.5'), 'none');
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.notEqual(state(a), 'none', a);
  // Make 10.0.0.6 REACHABLE: nothing is evictable; creation fails, a packet to a new address is refused.
  t.learn(A('10.0.0.6'), MAC2, 0, true, false);
  assert.equal(t.learn(A('10.0.0.7'), MAC2, 0, false, true), -1);
  assert.equal(t.resolve(A('10.0.0.7')), Resolve.FULL);
  assert.equal(t.stats.full, 2);
  assert.equal(t.size, 4);
});

test('eviction prefers the least recently used STALE entry', () => {
  const { t, run, state } = setup({ capacity: 3, reachableMs: 10_000 });
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) t.learn(A(a), MAC1, 0, true, true);
  // Packets through .1, then .3, then .2 (REACHABLE: sent as is; the next tick notes the time).
  for (const a of ['10.0.0.1', '10.0.0.3', '10.0.0.2']) {
    run(1000);
    t.resolve(A(a));
  }
  run(8000);
  for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(state(a), 'stale', a);
  t.learn(A('10.0.0.9'), MAC2, 0, false, true);
  assert.equal(state('10.0.0.1'), 'none', 'least recently used went first');
  t.learn(A('10.0.0.10'), MAC2, 0, false, true);
  assert.equal(state('10.0.0.9'), 'none', 'then the one never used');
  t.resolve(A('10.0.0.10'));
  t.learn(A('10.0.0.10'), MAC2, 0, true, false);
  t.learn(A('10.0.0.11'), MAC2, 0, false, true);
  assert.equal(state('10.0.0.3'), 'none');
  assert.equal(state('10.0.0.2'), 'stale');
});

test('the index stays right under random inserts and removals (compared with a Map)', () => {
  const rnd = seededRandom(7);
  const { t, clock } = setup({ capacity: 64, failedMs: 0, retransMs: 1, multicastProbes: 1 });
  const model = new Map<number, boolean>();
  for (let step = 0; step < 20_000; step++) {
    const addr = A('10.9.0.0') + Math.floor(rnd() * 200);
    const r = t.resolve(addr);
    if (r !== Resolve.FULL) model.set(addr, true);
    if (step % 50 === 0) {
      // Expire everything: INCOMPLETE → FAILED (probes=1 already) → removed at the next tick.
      clock.now += 10;
      t.tick(clock.now);
      clock.now += 10;
      t.tick(clock.now);
      model.clear();
    }
    if (step % 7 === 0) {
      for (let a = A('10.9.0.0'); a < A('10.9.0.0') + 200; a++) {
        assert.equal(t.find(a) >= 0, model.has(a), `step ${step} addr ${a}`);
      }
    }
    assert.ok(t.size <= 64);
  }
});

test('eviction one entry at a time keeps every other entry findable', () => {
  const rnd = seededRandom(11);
  const { t } = setup({ capacity: 64 });
  const present = new Set<number>();
  for (let step = 0; step < 5000; step++) {
    const addr = A('10.8.0.0') + Math.floor(rnd() * 5000);
    if (present.has(addr)) continue;
    const full = present.size === 64;
    assert.ok(t.learn(addr, MAC1, 0, false, true) >= 0);
    present.add(addr);
    let gone = 0;
    for (const a of present) {
      if (t.find(a) < 0) {
        present.delete(a);
        gone++;
      }
    }
    assert.equal(gone, full ? 1 : 0, `step ${step}: exactly the evicted entry is gone`);
    assert.equal(t.size, present.size);
    assert.ok(t.find(addr) >= 0);
  }
  assert.equal(t.size, 64);
  assert.equal(t.stats.evicted, t.stats.created - 64);
});

test('rows: sorted, with state names, MAC only when known', () => {
  const { t } = setup();
  t.learn(A('10.0.0.20'), MAC2, 0, true, true);
  t.resolve(A('10.0.0.3'));
  const rows = t.rows();
  assert.deepEqual(rows.map((r) => [r.address, r.state, r.mac]), [
    ['10.0.0.3', 'incomplete', null],
    ['10.0.0.20', 'reachable', '02:00:00:00:00:02'],
  ]);
  assert.equal(rows[1]!.confirmedMsAgo, 0);
  assert.equal(rows[0]!.confirmedMsAgo, null);
});

test('capacity is checked', () => {
  assert.throws(() => setup({ capacity: 0 }), RangeError);
  assert.throws(() => setup({ capacity: 1.5 }), RangeError);
});

test('configured (permanent) neighbours: sent to at once, never asked for, never changed by ARP, never aged, kept over a link-down', () => {
  const { t, log, run } = setup({ capacity: 4 });
  const a = A('10.1.0.11');
  assert.ok(t.setPermanent(a, parseMac('02:00:00:00:01:11')) >= 0);
  assert.equal(t.resolve(a), Resolve.SEND);
  assert.deepEqual(log, [], 'no ARP request');
  t.learn(a, parseMac('02:00:00:00:09:09'), 0, true, true);
  run(10 * 60_000, 1000);
  t.clear();
  const row = t.rows().find((r) => r.address === '10.1.0.11')!;
  assert.deepEqual([row.state, row.mac], ['permanent', '02:00:00:00:01:11']);
  assert.ok(t.removePermanent(a));
  assert.equal(t.find(a), -1);
});
