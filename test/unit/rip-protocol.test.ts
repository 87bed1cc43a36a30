// RIP plugged into a real Router whose ports are in-memory devices, with a fake
// clock: what is learned and when (RFC 2453 §3.9.2, §3.8) — one route per
// (prefix, neighbour), all in the RIB, the best advertised, an immediate
// fall-back when the best goes — what is sent (split horizon with poisoned
// reverse relative to the best route, triggered updates and their damping),
// BFD gating, port blocking, and hostile packets.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Drop } from '../../src/packet/drops.js';
import { formatAddress } from '../../src/net/addr.js';
import { DRAIN_METRIC, RipDrop } from '../../src/protocols/rip/rip.js';
import { Offer, RipTable, type LearnedRoute } from '../../src/protocols/rip/table.js';
import { FakeClock } from '../support/fake-clock.js';
import { RipCommand, writeRipEntry, writeRipHeader, writeWholeTableRequest } from '../../src/wire/rip.js';
import { A, CONFIG, MCAST, datagram, metricOf, response, responses, setup, type Sent } from '../support/rip-router.js';

// ---------- tests ----------

test('at start: a whole-table Request and our table on every speaking port, as BIRD/FRR send them', () => {
  const { take } = setup();
  const sent = take();
  // b runs BFD and no neighbour's session is Up yet: it asks, but keeps its table until one is.
  assert.deepEqual(sent.filter((s) => s.port === 'b').map((s) => s.command), [RipCommand.REQUEST]);
  for (const port of ['w', 'e']) {
    const here = sent.filter((s) => s.port === port);
    assert.equal(here.length, 2, `${port}: one Request, one Response`);
    const [req, resp] = here as [Sent, Sent];
    assert.deepEqual([req.command, req.entries], [RipCommand.REQUEST, [{ prefix: 'whole-table', metric: 16, nextHop: '0.0.0.0' }]]);
    for (const s of here) assert.deepEqual([s.dst, s.ttl, s.tos, s.sport, s.dport], [MCAST, 1, 0xc0, 520, 520]);
    assert.equal(resp.command, RipCommand.RESPONSE);
    assert.equal(metricOf([resp], '10.0.1.0/24'), 1, 'connected: metric 1');
    assert.equal(metricOf([resp], '172.16.0.0/16'), 3, 'static: its metric');
  }
  assert.equal(sent.filter((s) => s.port === 'w')[0]!.src, '10.0.12.1');
  // Poisoned reverse: the port's own subnet goes back as 16 on it, 1 elsewhere.
  assert.equal(metricOf(sent.filter((s) => s.port === 'w'), '10.0.12.0/24'), 16);
  assert.equal(metricOf(sent.filter((s) => s.port === 'e'), '10.0.12.0/24'), 1);
  assert.equal(sent.filter((s) => s.port === 'q' || s.port === 'lan').length, 0, 'passive and non-RIP ports stay silent');
});

test('learning: metric + port cost, next hop field on-link or else the sender, into the RIB as source rip', () => {
  const { inject, ripRoute } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1], ['10.0.3.0/24', 4, '10.0.12.7'], ['10.0.4.0/24', 1, '192.0.2.1']])));
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.5.0/24', 3]])));
  const r2 = ripRoute('10.0.2.0/24')!;
  assert.deepEqual([r2.port, formatAddress(r2.nextHop), r2.metric, r2.selected], [1, '10.0.12.2', 2, true]);
  assert.equal(formatAddress(ripRoute('10.0.3.0/24')!.nextHop), '10.0.12.7', 'on-link next hop is used');
  assert.equal(ripRoute('10.0.3.0/24')!.metric, 5);
  assert.equal(formatAddress(ripRoute('10.0.4.0/24')!.nextHop), '10.0.12.2', 'off-link next hop: the sender');
  assert.equal(ripRoute('10.0.5.0/24')!.metric, 5, 'cost 2 on port e');
  // 15 + cost saturates at 16: not learned at all.
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.6.0/24', 15]])));
  assert.equal(ripRoute('10.0.6.0/24'), undefined);
});

test('one route per neighbour: the same neighbour updates its own in place; another neighbour\'s is added whatever its metric', () => {
  const { inject, ripRoutes, selected, rip, row } = setup();
  const from = (src: string, port: string, metric: number) => inject(port, datagram(src, MCAST, response([['10.9.0.0/16', metric]])));
  from('10.0.12.2', 'w', 3);
  assert.equal(row('10.9.0.0/16', '10.0.12.2')!.metric, 4);
  const id = ripRoutes('10.9.0.0/16')[0]!.id;
  from('10.0.12.2', 'w', 6);
  assert.deepEqual(ripRoutes('10.9.0.0/16').map((r) => [r.id, r.metric]), [[id, 7]], 'same neighbour, worse: taken, in place');
  from('10.0.12.3', 'w', 8);
  assert.deepEqual(ripRoutes('10.9.0.0/16').map((r) => [formatAddress(r.nextHop), r.metric]), [['10.0.12.2', 7], ['10.0.12.3', 9]],
    'other neighbour, worse: added too');
  assert.equal(formatAddress(selected('10.9.0.0/16')!.nextHop), '10.0.12.2', 'the RIB selects the better');
  from('10.0.12.3', 'w', 2);
  assert.equal(formatAddress(selected('10.9.0.0/16')!.nextHop), '10.0.12.3', 'other neighbour improves: the RIB moves to it');
  assert.equal(row('10.9.0.0/16', '10.0.12.3')!.metric, 3);
  from('10.0.13.2', 'e', 5); // 5 + cost 2
  assert.equal(ripRoutes('10.9.0.0/16').length, 3, 'a third neighbour on another port: a third RIB route');
  assert.deepEqual([row('10.9.0.0/16', '10.0.13.2')!.port, row('10.9.0.0/16', '10.0.13.2')!.metric], [2, 7]);
  assert.equal(rip.table.size, 3);
  assert.equal(rip.table.prefixCount, 1);
  assert.equal(rip.table.best(A('10.9.0.0'), 16)!.neighbour, A('10.0.12.3'));
  // Equal metrics: the older is RIP's best, and the RIB's choice too.
  from('10.0.12.2', 'w', 2); // 10.0.12.2 (learned first) now 3 as well
  assert.equal(rip.table.best(A('10.9.0.0'), 16)!.neighbour, A('10.0.12.2'), 'tie: the older route');
  assert.equal(formatAddress(selected('10.9.0.0/16')!.nextHop), '10.0.12.2', 'the RIB agrees');
});

test('two neighbours, same prefix: both in the RIB, the best advertised; split horizon relative to the best route\'s port', () => {
  const { inject, ripRoutes, selected, clock, take, rip } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]]))); // 2 via w
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]]))); // 5 via e
  const both = ripRoutes('1.1.1.1/32');
  assert.deepEqual(both.map((r) => [r.port, formatAddress(r.nextHop), r.metric]), [[1, '10.0.12.2', 2], [2, '10.0.13.2', 5]]);
  assert.equal(selected('1.1.1.1/32')!.port, 1);
  clock.advance(0);
  const first = responses(take());
  assert.equal(metricOf(first.filter((s) => s.port === 'e'), '1.1.1.1/32'), 2, 'the best metric, on the other route\'s port too');
  assert.equal(metricOf(first.filter((s) => s.port === 'w'), '1.1.1.1/32'), 16, 'poisoned on the best route\'s port');
  assert.equal(metricOf(first.filter((s) => s.port === 'b'), '1.1.1.1/32'), undefined, 'nothing on b: no BFD neighbour Up there');
  clock.advance(30_000);
  const periodic = responses(take());
  assert.equal(metricOf(periodic.filter((s) => s.port === 'e'), '1.1.1.1/32'), 2, 'periodic: 2 on e (not poisoned: the best is not via e)');
  assert.equal(metricOf(periodic.filter((s) => s.port === 'w'), '1.1.1.1/32'), 16);
  assert.equal(periodic.flatMap((s) => s.entries).filter((x) => x.prefix === '1.1.1.1/32').length, 2, 'one entry per port, not per neighbour');
  // A specific Request gets the best metric.
  const q = new Uint8Array(4 + 20);
  writeRipHeader(q, 0, RipCommand.REQUEST);
  writeRipEntry(q, 4, A('1.1.1.1'), 32, 0, 0);
  inject('w', datagram('10.0.12.9', '10.0.12.1', q, 5000));
  assert.equal(metricOf(take('w'), '1.1.1.1/32'), 2);
  assert.equal(rip.metricFor(A('1.1.1.1'), 32), 2);
});

test('the better neighbour sends 16: its route leaves the RIB, the other is selected at once, a triggered update tells the new metric', () => {
  const { inject, ripRoutes, selected, clock, take, rip, events } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]])));
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]])));
  clock.advance(3000); // the first triggered update and its damping interval
  take();
  const triggered = rip.counters.triggeredUpdates;
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 16]])));
  // No timer ran: the fall-back happened inside the receive path.
  const now = ripRoutes('1.1.1.1/32');
  assert.deepEqual(now.map((r) => [r.port, formatAddress(r.nextHop), r.metric, r.selected]), [[2, '10.0.13.2', 5, true]]);
  assert.equal(selected('1.1.1.1/32')!.id, now[0]!.id);
  const changed = events('route.changed').filter((e) => e.prefix === '1.1.1.1/32');
  assert.equal(changed.length, 1, 'one FIB change, from via w to via e (never no route)');
  assert.deepEqual([(changed[0]!.old as { port: string }).port, (changed[0]!.new as { port: string; via: string }).via, changed[0]!.cause],
    ['w', '10.0.13.2', 'rip-withdrawn']);
  assert.equal(events('route.withdrawn').filter((e) => e.prefix === '1.1.1.1/32').length, 0);
  const g = rip.table.route(1, A('10.0.12.2'), A('1.1.1.1'), 32)!;
  assert.deepEqual([g.state, g.metric, g.ribId], ['garbage', 16, 0], 'the withdrawn route waits out its garbage time');
  assert.equal(rip.table.best(A('1.1.1.1'), 32)!.neighbour, A('10.0.13.2'));
  clock.advance(0);
  assert.equal(rip.counters.triggeredUpdates, triggered + 1);
  const upd = responses(take());
  assert.equal(metricOf(upd.filter((s) => s.port === 'w'), '1.1.1.1/32'), 5, 'the new best metric, now also toward w');
  assert.equal(metricOf(upd.filter((s) => s.port === 'e'), '1.1.1.1/32'), 16, 'poisoned toward e, the new best\'s port');
  assert.deepEqual(upd.flatMap((s) => s.entries).map((x) => x.prefix), ['1.1.1.1/32', '1.1.1.1/32', '1.1.1.1/32'], 'only that prefix');
  // Back from the withdrawn neighbour: a new route, selected again by metric.
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]])));
  assert.deepEqual([selected('1.1.1.1/32')!.port, ripRoutes('1.1.1.1/32').length], [1, 2]);
});

test('the better neighbour times out: the other is selected at the exact timeout and advertised', () => {
  const { inject, ripRoutes, selected, clock, take, rip, events } = setup();
  clock.advance(1000); // (off the periodic updates' milliseconds: a periodic update would carry the change instead)
  const t0 = clock.t;
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]])));
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]])));
  // Only the worse neighbour keeps talking.
  for (let t = 30_000; t < 180_000; t += 30_000) {
    clock.advance(t0 + t - clock.t);
    inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]])));
  }
  clock.advance(t0 + 180_000 - 1 - clock.t);
  take();
  assert.equal(selected('1.1.1.1/32')!.port, 1, '1 ms before the timeout: still via w');
  const triggered = rip.counters.triggeredUpdates;
  clock.advance(1);
  assert.deepEqual(ripRoutes('1.1.1.1/32').map((r) => [r.port, r.metric, r.selected]), [[2, 5, true]], 'at the timeout: via e');
  const changed = events('route.changed').filter((e) => e.prefix === '1.1.1.1/32').at(-1)!;
  assert.equal(changed.cause, 'rip-timeout');
  assert.equal(rip.table.route(1, A('10.0.12.2'), A('1.1.1.1'), 32)!.state, 'garbage');
  clock.advance(0);
  assert.equal(rip.counters.triggeredUpdates, triggered + 1);
  const upd = responses(take());
  assert.equal(metricOf(upd.filter((s) => s.port === 'w'), '1.1.1.1/32'), 5);
  assert.equal(metricOf(upd.filter((s) => s.port === 'e'), '1.1.1.1/32'), 16);
  // The timed-out route is deleted after the garbage time; the live one stays.
  clock.advance(120_000);
  assert.equal(rip.table.route(1, A('10.0.12.2'), A('1.1.1.1'), 32), undefined);
  assert.equal(rip.table.size, 1);
});

test('every route of a prefix in garbage collection: advertised as 16 until the last is deleted', () => {
  const { inject, ripRoutes, clock, take, rip } = setup();
  const t0 = clock.t;
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]])));
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]])));
  clock.advance(3000);
  take();
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 16]]))); // at t0 + 3 s
  clock.advance(50_000);
  take();
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 16]]))); // at t0 + 53 s
  assert.equal(ripRoutes('1.1.1.1/32').length, 0, 'nothing left in the RIB');
  const p = rip.table.get(A('1.1.1.1'), 32)!;
  assert.deepEqual([p.routes.map((r) => r.state), p.best, p.metric], [['garbage', 'garbage'], null, 16]);
  clock.advance(0);
  const upd = responses(take());
  for (const port of ['w', 'e']) assert.equal(metricOf(upd.filter((s) => s.port === port), '1.1.1.1/32'), 16, `16 on ${port}`);
  // The first garbage timer ends at t0 + 123 s; the prefix is still advertised as 16 (the other one is in garbage).
  clock.advance(t0 + 123_000 - clock.t);
  assert.equal(rip.table.get(A('1.1.1.1'), 32)!.routes.length, 1);
  take();
  clock.advance(t0 + 173_000 - 1 - clock.t);
  const still = responses(take('e'));
  assert.ok(still.length >= 1, 'periodic updates went out');
  assert.equal(metricOf(still, '1.1.1.1/32'), 16, 'still 16 until the last is deleted');
  clock.advance(1);
  assert.equal(rip.table.get(A('1.1.1.1'), 32), undefined, 'the last one deleted at t0 + 53 s + 120 s');
  take();
  clock.advance(30_000);
  const later = responses(take('e'));
  assert.ok(later.length >= 1);
  assert.equal(metricOf(later, '1.1.1.1/32'), undefined, 'no longer advertised');
});

test('a change of a route that is not the best triggers no update; one that changes the best does', () => {
  const { inject, ripRoutes, selected, clock, take, rip } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]]))); // 2 via w
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 3]]))); // 5 via e
  clock.advance(3000);
  take();
  const triggered = rip.counters.triggeredUpdates;
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 5]]))); // 7 via e
  assert.equal(ripRoutes('1.1.1.1/32').find((r) => r.port === 2)!.metric, 7, 'the RIB route follows');
  inject('e', datagram('10.0.13.2', MCAST, response([['1.1.1.1/32', 1]]))); // 3 via e, still worse than 2
  inject('e', datagram('10.0.13.3', MCAST, response([['1.1.1.1/32', 9]]))); // a third, worse
  clock.advance(0);
  // No triggered update; only the answer to 10.0.13.2, whose path got worse (5 → 7): ours is 2.
  assert.deepEqual(take().map((s) => [s.port, s.dst, s.entries.map((e) => [e.prefix, e.metric])]), [['e', '10.0.13.2', [['1.1.1.1/32', 2]]]]);
  assert.equal(rip.counters.triggeredUpdates, triggered);
  assert.equal(rip.table.hasChanges, false);
  // The best itself gets worse than the other: best and advertised metric change.
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 4]]))); // 5 via w > 3 via e
  assert.equal(selected('1.1.1.1/32')!.port, 2);
  clock.advance(0);
  assert.equal(rip.counters.triggeredUpdates, triggered + 1);
  const upd = responses(take());
  assert.equal(metricOf(upd.filter((s) => s.port === 'w'), '1.1.1.1/32'), 3);
  assert.equal(metricOf(upd.filter((s) => s.port === 'e'), '1.1.1.1/32'), 16);
  // Same metric from the best, another neighbour with an equal one: the older stays best, nothing sent.
  clock.advance(3000);
  take();
  inject('w', datagram('10.0.12.2', MCAST, response([['1.1.1.1/32', 1]]))); // 2 via w: best again, metric 2
  clock.advance(0);
  assert.equal(metricOf(responses(take('e')), '1.1.1.1/32'), 2);
  clock.advance(3000);
  take();
  const n = rip.counters.triggeredUpdates;
  inject('w', datagram('10.0.12.3', MCAST, response([['1.1.1.1/32', 1]]))); // 2 via w from another: equal, younger
  clock.advance(0);
  assert.equal(rip.counters.triggeredUpdates, n, 'an equal, younger route changes nothing advertised');
  assert.equal(rip.table.best(A('1.1.1.1'), 32)!.neighbour, A('10.0.12.2'));
});

test('timeout → garbage collection → deletion, at exact times; a refresh restarts the timeout', () => {
  const { inject, ripRoute, clock, rip, take, events, row } = setup();
  const t0 = clock.t;
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1], ['10.0.3.0/24', 1]])));
  clock.advance(100_000);
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.3.0/24', 1]]))); // only 10.0.3.0 refreshed
  take();
  clock.advance(t0 + 180_000 - 1 - clock.t);
  assert.ok(ripRoute('10.0.2.0/24'), 'still there 1 ms before the timeout');
  clock.advance(1);
  assert.equal(ripRoute('10.0.2.0/24'), undefined, 'gone from the RIB at the timeout');
  const g = row('10.0.2.0/24', '10.0.12.2')!;
  assert.deepEqual([g.state, g.metric], ['garbage', 16]);
  assert.equal(events('route.withdrawn').at(-1)!.cause, 'rip-timeout');
  // The triggered update that follows advertises it as unreachable (on e at once).
  clock.advance(0);
  assert.equal(metricOf(responses(take('e')), '10.0.2.0/24'), 16);
  assert.ok(ripRoute('10.0.3.0/24'), 'the refreshed route lives on');
  // The refreshed one times out at t0 + 100 s + 180 s.
  clock.advance(t0 + 280_000 - 1 - clock.t);
  assert.equal(row('10.0.3.0/24', '10.0.12.2')!.state, 'active');
  clock.advance(1);
  assert.equal(row('10.0.3.0/24', '10.0.12.2')!.state, 'garbage');
  clock.advance(t0 + 180_000 + 120_000 - 1 - clock.t);
  assert.ok(rip.table.get(A('10.0.2.0'), 24), 'in garbage collection until the end of garbageTime');
  clock.advance(1);
  assert.equal(rip.table.get(A('10.0.2.0'), 24), undefined, 'deleted after garbageTime');
  take(); // (a periodic update falls on the same millisecond)
  clock.advance(30_000);
  const later = take('e');
  assert.equal(metricOf(later, '10.0.2.0/24'), undefined, 'no longer advertised');
  assert.equal(metricOf(later, '10.0.3.0/24'), 16, 'the other one still is, as unreachable');
});

test('metric 16 withdraws that neighbour\'s route at once; 16 from a neighbour with no route for it is nothing', () => {
  const { inject, ripRoute, events, rip, row } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  inject('w', datagram('10.0.12.3', MCAST, response([['10.0.2.0/24', 16]])));
  assert.ok(ripRoute('10.0.2.0/24'));
  assert.equal(row('10.0.2.0/24', '10.0.12.3'), undefined, 'not stored');
  assert.equal(rip.table.size, 1);
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 16]])));
  assert.equal(ripRoute('10.0.2.0/24'), undefined);
  assert.equal(events('route.withdrawn').at(-1)!.cause, 'rip-withdrawn');
  // And it comes back with the next finite metric from anyone.
  inject('w', datagram('10.0.12.3', MCAST, response([['10.0.2.0/24', 2]])));
  assert.equal(ripRoute('10.0.2.0/24')!.metric, 3);
  assert.deepEqual([...rip.table.all()].map((r) => [formatAddress(r.neighbour), r.state]), [['10.0.12.2', 'garbage'], ['10.0.12.3', 'active']]);
});

test('split horizon with poisoned reverse in periodic Responses; ≤ 25 entries per datagram', () => {
  const { inject, clock, take } = setup();
  const many: [string, number][] = Array.from({ length: 25 }, (_, i) => [`10.100.${i}.0/24`, 2]);
  inject('w', datagram('10.0.12.2', MCAST, response(many)));
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.5.0/24', 1]])));
  clock.advance(0); // the triggered update
  take();
  clock.advance(30_000);
  const w = responses(take('w'));
  const e = responses(take('e'));
  for (const s of [...w, ...e]) assert.ok(s.entries.length <= 25);
  assert.ok(w.length >= 2, 'more than 25 entries: several datagrams');
  assert.equal(metricOf(w, '10.100.7.0/24'), 16, 'learned on w: poisoned on w');
  assert.equal(metricOf(e, '10.100.7.0/24'), 3, 'learned on w: metric 3 on e');
  assert.equal(metricOf(w, '10.0.5.0/24'), 3, 'learned on e (cost 2): 3 on w');
  assert.equal(metricOf(e, '10.0.5.0/24'), 16);
  assert.equal(metricOf(e, '10.0.13.0/24'), 16, 'own subnet poisoned on its port');
  assert.equal(w.flatMap((s) => s.entries).length, 25 + 1 + 5 + 1, '25 learned, 10.0.5/24, 5 connected, 1 static');
});

test('triggered updates: changed routes only, at once, then at most one per damping interval (1–5 s scaled)', () => {
  const { inject, clock, take, rip } = setup();
  take();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  assert.equal(take('e').length, 0, 'not inside the receive path');
  clock.advance(0);
  const first = responses(take('e'));
  assert.equal(first.length, 1);
  assert.deepEqual(first[0]!.entries.map((x) => x.prefix), ['10.0.2.0/24'], 'only the changed route');
  assert.equal(rip.counters.triggeredUpdates, 1);
  // Damping: 30 s update → 1–5 s; random 0.5 → 3 s.
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.3.0/24', 1]])));
  clock.advance(1000);
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.4.0/24', 1]])));
  clock.advance(1999);
  assert.equal(take('e').length, 0, 'held back during the damping interval');
  clock.advance(1);
  const second = responses(take('e'));
  assert.equal(second.length, 1, 'one triggered update for everything that changed meanwhile');
  assert.deepEqual(second[0]!.entries.map((x) => x.prefix).sort(), ['10.0.3.0/24', '10.0.4.0/24']);
  assert.equal(rip.counters.triggeredUpdates, 2);
  // Damping bounds: random 0 → 1 s, random ~1 → 5 s (update time 30 s).
  clock.rnd = 0;
  clock.advance(3000);
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.6.0/24', 1]])));
  clock.advance(0);
  take();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.7.0/24', 1]])));
  clock.advance(999);
  assert.equal(take('e').length, 0);
  clock.advance(1);
  assert.equal(responses(take('e')).length, 1);
});

test('BFD on the port: Responses ignored until the session is Up; down → routes withdrawn and ignored; up → re-learned', () => {
  const { inject, ripRoute, liveness, port, take, events, rip } = setup();
  const b = port('b');
  const update = () => inject('b', datagram('10.0.15.2', MCAST, response([['10.0.9.0/24', 1]])));
  update();
  assert.deepEqual(liveness.required, ['b/10.0.15.2'], 'a BFD session is required for the neighbour');
  assert.equal(ripRoute('10.0.9.0/24'), undefined, 'not learned while BFD is not Up');
  assert.equal(rip.neighbours.get(b, A('10.0.15.2'))!.state, 'bfd-down');
  take();
  liveness.set(b, '10.0.15.2', 'Up');
  const asked = take('b');
  assert.ok(asked.some((s) => s.command === RipCommand.REQUEST && s.dst === '10.0.15.2'), 'BFD Up: ask the neighbour for its table (unicast)');
  update();
  assert.equal(ripRoute('10.0.9.0/24')!.metric, 2);
  liveness.set(b, '10.0.15.2', 'Down');
  assert.equal(ripRoute('10.0.9.0/24'), undefined, 'BFD down: withdrawn at once');
  assert.equal(events('route.withdrawn').at(-1)!.cause, 'rip-bfd-down');
  update();
  update();
  assert.equal(ripRoute('10.0.9.0/24'), undefined, 'its Responses are ignored while BFD is down');
  assert.equal(rip.neighbours.get(b, A('10.0.15.2'))!.ignored, 3);
  liveness.set(b, '10.0.15.2', 'Init');
  update();
  assert.equal(ripRoute('10.0.9.0/24'), undefined, 'Init is not Up');
  liveness.set(b, '10.0.15.2', 'Up');
  update();
  assert.ok(ripRoute('10.0.9.0/24'), 'back once Up');
  assert.deepEqual(events('rip.neighbour').map((e) => e.state), ['bfd-down', 'up', 'bfd-down', 'up']);
  assert.deepEqual(liveness.required, ['b/10.0.15.2'], 'required once');
});

test('Requests: whole-table → unicast split-horizon table; specific → entries as they are; passive answers only queries', () => {
  const { inject, take } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  take();
  const whole = new Uint8Array(24);
  writeWholeTableRequest(whole, 0);
  inject('w', datagram('10.0.12.2', MCAST, whole));
  const answer = take('w');
  assert.equal(answer.length, 1);
  assert.deepEqual([answer[0]!.dst, answer[0]!.dport, answer[0]!.command], ['10.0.12.2', 520, RipCommand.RESPONSE]);
  assert.equal(metricOf(answer, '10.0.2.0/24'), 16, 'split horizon applies to whole-table requests');
  // A diagnostic query from port 5000 for two entries: no split horizon, unknown → 16.
  const q = new Uint8Array(4 + 40);
  writeRipHeader(q, 0, RipCommand.REQUEST);
  writeRipEntry(q, 4, A('10.0.2.0'), 24, 0, 0);
  writeRipEntry(q, 24, A('10.77.0.0'), 16, 0, 0);
  inject('w', datagram('10.0.12.9', '10.0.12.1', q, 5000));
  const spec = take('w');
  assert.equal(spec.length, 1);
  assert.deepEqual([spec[0]!.dst, spec[0]!.dport], ['10.0.12.9', 5000]);
  assert.deepEqual(spec[0]!.entries.map((e) => [e.prefix, e.metric]), [['10.0.2.0/24', 2], ['10.77.0.0/16', 16]]);
  // Passive port q: a router's Request (port 520) gets nothing, a query does.
  inject('q', datagram('10.0.14.2', MCAST, whole));
  assert.equal(take('q').length, 0);
  inject('q', datagram('10.0.14.2', '10.0.14.1', whole, 5001));
  assert.equal(take('q').length, 1);
});

test('blocking a RIP port: a poisoned Response first, then its routes withdrawn and the other ports told; unblock asks again', () => {
  const { router, inject, ripRoute, take, clock, events, rip } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.5.0/24', 1]])));
  clock.advance(0);
  take();
  router.blockPort('w');
  const last = responses(take('w'));
  assert.ok(last.length >= 1);
  const entries = last.flatMap((s) => s.entries);
  assert.ok(entries.length >= 8, 'everything we advertised there');
  assert.ok(entries.every((e) => e.metric === 16), 'all poisoned');
  assert.equal(ripRoute('10.0.2.0/24'), undefined);
  // One cause for everything the block took away (RIP's own withdrawal of the route comes after, and changes nothing more).
  assert.equal(events('route.withdrawn').find((e) => e.prefix === '10.0.2.0/24')!.cause, 'port-blocked');
  assert.deepEqual(events('rip.neighbour').filter((e) => e.neighbour === '10.0.12.2').map((e) => e.state), ['up', 'down']);
  clock.advance(3000); // the damping interval of the triggered update sent after learning
  const told = responses(take('e'));
  assert.equal(metricOf(told, '10.0.2.0/24'), 16, 'routes via the blocked port: unreachable');
  assert.equal(metricOf(told, '10.0.12.0/24'), 16, 'its subnet too (connected route no longer selected)');
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  assert.equal(ripRoute('10.0.2.0/24'), undefined, 'nothing is taken on a blocked port');
  clock.advance(30_000);
  assert.equal(take('w').length, 0, 'and nothing is sent');
  router.unblockPort('w');
  const again = take('w');
  assert.ok(again.some((s) => s.command === RipCommand.REQUEST && s.dst === MCAST));
  assert.equal(metricOf(responses(again), '10.0.1.0/24'), 1);
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  assert.ok(ripRoute('10.0.2.0/24'));
  assert.equal(rip.ports.find((p) => p.port.name === 'w')!.active, true);
});

test('neighbours silent for the timeout go down; stop() clears every timer and says goodbye', () => {
  const { router, inject, clock, rip, port, take, events, liveness } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  inject('b', datagram('10.0.15.2', MCAST, response([['10.0.9.0/24', 1]])));
  clock.advance(180_000 + 30_000);
  assert.equal(rip.neighbours.get(port('w'), A('10.0.12.2'))!.state, 'down');
  assert.equal(events('rip.neighbour').filter((e) => e.neighbour === '10.0.12.2').at(-1)!.state, 'down');
  clock.advance(120_000);
  assert.equal(rip.neighbours.get(port('w'), A('10.0.12.2')), undefined, 'forgotten after timeout + garbage');
  assert.deepEqual(liveness.released, ['b/10.0.15.2'], 'its BFD session released');
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1]])));
  take();
  router.stop();
  assert.equal(clock.timers.size, 0, 'no timer left');
  const bye = responses(take('w'));
  assert.ok(bye.length >= 1 && bye.flatMap((s) => s.entries).every((e) => e.metric === 16), 'goodbye: everything unreachable');
});

test('hostile packets never throw: random bytes, 26 entries, bad masks, bad checksums, wrong ports and sources', () => {
  const { inject, ripRoute, rip, port, router } = setup();
  let seed = 42;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let n = 0; n < 3000; n++) {
    const len = (rnd() * 700) | 0;
    const p = new Uint8Array(len);
    for (let i = 0; i < len; i++) p[i] = (rnd() * 256) | 0;
    if (n % 2 === 0 && len >= 4) { p[0] = 1 + (n % 4 === 0 ? 1 : 0); p[1] = 2; }
    inject(['w', 'e', 'q', 'b', 'lan'][n % 5]!, datagram('10.0.12.2', MCAST, p));
  }
  const drops = () => port('w').counters.dropCount(Drop.RIP_INVALID);
  const before = drops();
  const d26 = response(Array.from({ length: 26 }, (_, i) => [`10.200.${i}.0/24`, 1] as [string, number]));
  inject('w', datagram('10.0.12.2', MCAST, d26));
  assert.equal(drops(), before + 1, '26 entries: dropped whole');
  assert.equal(ripRoute('10.200.0.0/24'), undefined);
  // Bad entries are dropped one by one; the good ones in the same packet are learned.
  const mixed = response([['10.201.0.0/16', 1], ['10.202.0.0/16', 1], ['10.203.0.0/16', 1], ['10.204.0.0/16', 0]]); // fourth: metric 0
  mixed.set([0xff, 0x00, 0xff, 0x00], 4 + 20 + 8); // second: mask 255.0.255.0
  mixed[4 + 40 + 7] = 0x01; // third: host bits set
  inject('w', datagram('10.0.12.3', MCAST, mixed));
  assert.ok(ripRoute('10.201.0.0/16'));
  assert.equal(ripRoute('10.202.0.0/16'), undefined);
  assert.equal(ripRoute('10.203.0.0/16'), undefined);
  assert.equal(ripRoute('10.204.0.0/16'), undefined);
  assert.equal(rip.neighbours.get(port('w'), A('10.0.12.3'))!.badRoutes, 3);
  // Bad UDP checksum, wrong source port, off-link source, our own source: refused with a reason.
  const good = response([['10.210.0.0/16', 1]]);
  const badSum = datagram('10.0.12.2', MCAST, good);
  badSum[27] ^= 0x55;
  inject('w', badSum);
  inject('w', datagram('10.0.12.2', MCAST, good, 1234));
  inject('w', datagram('10.0.99.2', MCAST, good));
  inject('w', datagram('10.0.12.1', MCAST, good));
  inject('lan', datagram('10.0.1.2', MCAST, good));
  assert.equal(ripRoute('10.210.0.0/16'), undefined);
  for (const r of [RipDrop.BAD_UDP, RipDrop.BAD_SOURCE_PORT, RipDrop.SOURCE_NOT_ON_LINK, RipDrop.NOT_RIP_PORT, RipDrop.TOO_MANY_ENTRIES]) {
    assert.ok(rip.packetDrops[r]! > 0, `counted: reason ${r}`);
  }
  // Our own address as source never reaches RIP: the packet path drops it first (RFC 1812 §5.3.7).
  assert.equal(port('w').counters.dropCount(Drop.OWN_SOURCE), 1);
  assert.equal(rip.packetDrops[RipDrop.INTERNAL_ERROR], 0, 'no internal error');
  // The router still works.
  inject('w', datagram('10.0.12.2', MCAST, good));
  assert.ok(ripRoute('10.210.0.0/16'));
  assert.ok(router.rib.routes().length > 0);
});


/** A RibSink that keeps what it was given, as the RIB would. */
function fakeSink() {
  const ops: string[] = [];
  const rib = new Map<number, { port: number; neighbour: number; metric: number; nextHop: number }>();
  let id = 0;
  return {
    ops, rib,
    sink: {
      install: (r: LearnedRoute) => {
        rib.set(++id, { port: r.port, neighbour: r.neighbour, metric: r.metric, nextHop: r.nextHop });
        ops.push(`install ${id} ${r.port} ${r.metric}`);
        return id;
      },
      update: (i: number, metric: number, nextHop: number) => {
        Object.assign(rib.get(i)!, { metric, nextHop });
        ops.push(`update ${i} ${metric}`);
      },
      remove: (i: number, cause: string) => {
        assert.ok(rib.delete(i), `remove of an installed route (${i})`);
        ops.push(`remove ${i} ${cause}`);
      },
    },
  };
}

test('RipTable alone: offer results per neighbour; every active route in the sink; changed() only when the advertised route changes', () => {
  const clock = new FakeClock();
  const { ops, rib, sink } = fakeSink();
  const table = new RipTable(clock, sink, { timeoutMs: 1000, garbageMs: 500 }, { changed: () => ops.push('changed') });
  const P = A('10.1.0.0');
  assert.equal(table.offer(0, 1, P, 16, 1, 16, 0), Offer.IGNORED, 'unknown and unreachable: nothing');
  assert.equal(table.size, 0);
  assert.equal(table.offer(0, 1, P, 16, 1, 5, 0), Offer.LEARNED);
  assert.equal(table.offer(0, 1, P, 16, 1, 5, 0), Offer.REFRESHED);
  assert.equal(table.offer(1, 2, P, 16, 2, 7, 0), Offer.LEARNED, 'a second neighbour, worse: added');
  assert.deepEqual([...rib.values()].map((r) => [r.neighbour, r.metric]), [[1, 5], [2, 7]], 'two routes installed');
  assert.equal(table.best(P, 16)!.neighbour, 1);
  assert.equal(table.offer(1, 2, P, 16, 2, 6, 0), Offer.UPDATED, 'the worse one changes: updated, nothing advertised changes');
  assert.equal(table.offer(1, 2, P, 16, 3, 6, 0), Offer.UPDATED, 'next hop change');
  assert.deepEqual(rib.get(2), { port: 1, neighbour: 2, metric: 6, nextHop: 3 });
  assert.equal(table.offer(0, 1, P, 16, 1, 16, 0), Offer.WITHDRAWN, 'the best withdraws');
  assert.deepEqual([...rib.keys()], [2], 'the other one is still in the sink');
  assert.equal(table.best(P, 16)!.neighbour, 2);
  assert.equal(table.offer(0, 1, P, 16, 1, 16, 0), Offer.IGNORED, 'a repeated 16 changes nothing');
  assert.deepEqual(ops, [
    'install 1 0 5', 'changed',
    'install 2 1 7', 'update 2 6', 'update 2 6',
    'remove 1 rip-withdrawn', 'changed',
  ]);
  ops.length = 0;
  clock.advance(499);
  assert.equal(table.offer(0, 1, P, 16, 1, 7, 0), Offer.LEARNED, 'revived from garbage: a new sink route');
  assert.equal(table.best(P, 16)!.neighbour, 2, '6 < 7: the other stays best');
  assert.deepEqual(ops, ['install 3 0 7']);
  assert.equal(table.get(P, 16)!.changed, true, '(flag still set from the withdrawal)');
  table.clearChangeFlags();
  // Neighbour 2 times out (last refreshed at 0 ms, now 499 ms): 1 takes over.
  clock.advance(501);
  assert.equal(table.route(1, 2, P, 16)!.state, 'garbage');
  assert.deepEqual([table.best(P, 16)!.neighbour, table.get(P, 16)!.metric, table.get(P, 16)!.port, table.hasChanges], [1, 7, 0, true]);
  assert.deepEqual(ops.slice(1), ['remove 2 rip-timeout', 'changed']);
  // Neighbour 1 (revived at 499 ms) times out at 1499 ms; neighbour 2's route is deleted at 1500 ms.
  clock.advance(499);
  assert.deepEqual([table.size, table.get(P, 16)!.metric, table.get(P, 16)!.best, rib.size], [2, 16, null, 0], 'all in garbage: 16');
  clock.advance(1);
  assert.equal(table.size, 1, 'neighbour 2\'s route deleted after its garbage time');
  clock.advance(498);
  assert.equal(table.size, 1);
  clock.advance(1);
  assert.equal(table.size, 0);
  assert.equal(table.prefixCount, 0);
  table.stop();
  assert.equal(clock.timers.size, 0);
});

test('RipTable alone: thousands of routes from a neighbour that goes silent are all deleted; dropNeighbour leaves the others', () => {
  const clock = new FakeClock();
  const { rib, sink } = fakeSink();
  let changed = 0;
  const table = new RipTable(clock, sink, { timeoutMs: 1000, garbageMs: 500 }, { changed: () => changed++ });
  for (let i = 0; i < 5000; i++) table.offer(0, 1, A('10.0.0.0') + i * 256, 24, 1, 3, 0);
  for (let i = 0; i < 10; i++) table.offer(1, 2, A('10.0.0.0') + i * 256, 24, 2, 4, 0);
  assert.deepEqual([table.size, table.prefixCount, rib.size, changed], [5010, 5000, 5010, 5000]);
  assert.equal(table.countFrom(0, 1), 5000);
  assert.equal(table.dropNeighbour(1, 2, 'test'), 10);
  assert.equal(changed, 5000, 'the non-best routes going: nothing advertised changes');
  clock.advance(1000);
  assert.equal(rib.size, 0);
  assert.equal(table.countFrom(0, 1), 0);
  clock.advance(500);
  assert.deepEqual([table.size, table.prefixCount], [0, 0]);
  assert.ok(clock.timers.size <= 1);
  table.stop();
});

// ---------- neighbours that keep only their best route (BIRD, FRR) ----------

const wholeTableRequest = () => {
  const b = new Uint8Array(24);
  writeWholeTableRequest(b, 0);
  return b;
};
const summary = (s: Sent[]) => s.map((x) => [x.port, x.dst, x.command, x.entries.map((e) => [e.prefix, e.metric])]);

test('a neighbour\'s path gets worse or goes: our entry goes to it at once, unicast, then at most once per damping interval of its own', () => {
  const { inject, take, clock, rip } = setup();
  const from = (who: string, metric: number) => inject('w', datagram(who, MCAST, response([['172.16.0.0/16', metric]])));
  from('10.0.12.2', 5); // it reaches 172.16/16 another way (6 here); ours, the static route, is 3
  clock.advance(0);
  take();
  from('10.0.12.2', 16); // …and loses it: a classic RIP router forgot ours
  clock.advance(0);
  assert.deepEqual(summary(take()), [['w', '10.0.12.2', RipCommand.RESPONSE, [['172.16.0.0/16', 3]]]], 'only the answer, unicast');
  assert.equal(rip.counters.answersSent, 1);
  // Again within its damping interval (1–5 s scaled to 30 s updates: 3 s here): held, then sent when it ends.
  from('10.0.12.2', 4);
  from('10.0.12.2', 16);
  clock.advance(2999);
  assert.deepEqual(summary(take()), []);
  clock.advance(1);
  assert.deepEqual(summary(take()), [['w', '10.0.12.2', RipCommand.RESPONSE, [['172.16.0.0/16', 3]]]]);
  // A worse metric (not a withdrawal) is news too; another neighbour has its own interval, and
  // our own triggered updates (damped now: one went out with the withdrawal) do not hold it back.
  const triggered = rip.counters.triggeredUpdates;
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.99.0/24', 1]])));
  from('10.0.12.3', 2);
  from('10.0.12.3', 7);
  clock.advance(0);
  assert.deepEqual(summary(take()), [['w', '10.0.12.3', RipCommand.RESPONSE, [['172.16.0.0/16', 3]]]], 'the answer, and no triggered update yet');
  assert.equal(rip.counters.triggeredUpdates, triggered);
  assert.equal(rip.counters.answersSent, 3);
  clock.advance(5000);
  assert.ok(take().some((x) => x.dst === MCAST && x.entries.some((e) => e.prefix === '10.0.99.0/24')), 'the triggered update after its damping');
});

test('no answer to a 16 that is not news (poisoned reverse all along), nor for a prefix we reach through that neighbour', () => {
  const { inject, take, clock, rip } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['172.16.0.0/16', 16], ['1.1.1.1/32', 1]])));
  clock.advance(0);
  take();
  inject('w', datagram('10.0.12.2', MCAST, response([['172.16.0.0/16', 16], ['1.1.1.1/32', 16]])));
  clock.advance(5000);
  const sent = take();
  assert.equal(sent.filter((s) => s.dst === '10.0.12.2').length, 0, 'nothing unicast: 172.16/16 was 16 before, 1.1.1.1 we reached through it');
  assert.equal(metricOf(sent.filter((s) => s.port === 'e'), '1.1.1.1/32'), 16, 'the triggered update withdraws 1.1.1.1 elsewhere');
  assert.equal(rip.counters.answersSent, 0);
});

test('standby refresh: every interval, each neighbour that reaches a prefix another way gets our entry for it, unicast', () => {
  const ports = [{ port: 'w', standbyRefresh: 25 }, { port: 'e', cost: 2 }];
  const { inject, take, clock, rip } = setup({ rip: { ...CONFIG.rip, ports } });
  take();
  clock.advance(25);
  assert.deepEqual(take(), [], 'no neighbour yet: nothing');
  // 10.0.12.2 reaches 172.16/16 itself (we can offer 3) and 10.0.2.0/24 (we reach it through 10.0.12.2: nothing to offer);
  // 10.0.12.3 poisons 172.16/16 toward us (it routes through us): nothing to refresh.
  inject('w', datagram('10.0.12.2', MCAST, response([['172.16.0.0/16', 5], ['10.0.2.0/24', 1]])));
  inject('w', datagram('10.0.12.3', MCAST, response([['172.16.0.0/16', 16]])));
  clock.advance(0);
  take();
  for (let i = 0; i < 2; i++) {
    clock.advance(25);
    assert.deepEqual(summary(take()), [['w', '10.0.12.2', RipCommand.RESPONSE, [['172.16.0.0/16', 3]]]], `refresh ${i + 1}`);
  }
  // It loses its path: answered at once; then it has no route of its own to refresh against.
  inject('w', datagram('10.0.12.2', MCAST, response([['172.16.0.0/16', 16]])));
  clock.advance(0);
  assert.equal(take().filter((s) => s.dst === '10.0.12.2').length, 1);
  clock.advance(100);
  assert.deepEqual(take(), []);
  assert.deepEqual([rip.counters.standbyRefreshes, rip.counters.answersSent], [2, 1]);
});

test('a BFD port holds its table back and asks instead until a neighbour\'s session is Up; a Request from a router that never answered ours is asked back, once', () => {
  const { inject, take, clock, liveness, port, rip } = setup();
  take();
  inject('b', datagram('10.0.15.2', MCAST, wholeTableRequest()));
  assert.deepEqual(summary(take('b')), [['b', '10.0.15.2', RipCommand.REQUEST, [['whole-table', 16]]]], 'no table for a router we do not listen to; a Request tells it we are here');
  inject('b', datagram('10.0.15.2', MCAST, wholeTableRequest()));
  assert.deepEqual(take('b'), [], 'two routers that hold back ask each other once, not forever');
  clock.advance(35_000);
  assert.deepEqual(take('b').map((s) => [s.dst, s.command]), [[MCAST, RipCommand.REQUEST]], 'the periodic update is a Request while no session is Up');
  liveness.set(port('b'), '10.0.15.2', 'Up');
  const up = take('b');
  assert.deepEqual(up.map((s) => [s.dst, s.command]).sort(), [['10.0.15.2', RipCommand.REQUEST], ['10.0.15.2', RipCommand.RESPONSE]]);
  assert.equal(metricOf(up, '172.16.0.0/16'), 3, 'its session is Up: our table');
  clock.advance(5000);
  take();
  // w (no BFD): a router that asks but never answered our Request (FRR ripd, deaf for 1 s after its link came up).
  inject('w', datagram('10.0.12.5', MCAST, wholeTableRequest()));
  assert.deepEqual(take('w').map((s) => [s.dst, s.command]), [['10.0.12.5', RipCommand.RESPONSE], ['10.0.12.5', RipCommand.REQUEST]]);
  inject('w', datagram('10.0.12.5', MCAST, response([['10.0.5.0/24', 1]])));
  clock.advance(1000);
  take();
  inject('w', datagram('10.0.12.5', MCAST, wholeTableRequest()));
  assert.deepEqual(take('w').map((s) => [s.dst, s.command]), [['10.0.12.5', RipCommand.RESPONSE]], 'it answered ours: not asked again');
  assert.equal(rip.counters.requestsAskedBack, 2);
});

test('a draining port advertises every reachable prefix at least 14 (poisoned reverse stays 16); its only routes stay usable', () => {
  const { router, inject, take, clock, selected } = setup();
  inject('w', datagram('10.0.12.2', MCAST, response([['10.0.2.0/24', 1], ['10.0.3.0/24', 1]])));
  inject('e', datagram('10.0.13.2', MCAST, response([['10.0.3.0/24', 1]])));
  clock.advance(0);
  take();
  try {
    router.drainPort('w');
    const sent = take('w');
    assert.deepEqual(sent.map((s) => s.dst), [MCAST], 'told at once');
    assert.equal(metricOf(sent, '172.16.0.0/16'), DRAIN_METRIC, 'static 3 → 14');
    assert.equal(metricOf(sent, '10.0.1.0/24'), DRAIN_METRIC, 'connected 1 → 14');
    assert.equal(metricOf(sent, '10.0.2.0/24'), 16, 'poisoned reverse stays 16');
    assert.equal(DRAIN_METRIC + 1, 15, 'a neighbour adding cost 1 still holds it');
    assert.equal(selected('10.0.3.0/24')!.port, port('e').index, 'another path exists: new flows take it');
    assert.equal(selected('10.0.2.0/24')!.port, port('w').index, 'the only path: still used (a drain never cuts a destination off)');
    assert.equal(selected('10.0.2.0/24')!.unusable, 'port-draining');
    clock.advance(35_000);
    assert.equal(metricOf(take('w'), '172.16.0.0/16'), DRAIN_METRIC, 'periodic updates too');
  } finally {
    router.stop();
  }
  function port(name: string) {
    return router.portByName(name);
  }
});
