// The RIB: selection by metric among usable routes, fallback when routes
// become unusable, FIB events — and the whole table against a brute-force
// reference (longest prefix, then lowest metric among usable routes).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DISTANCE, Rib, type FibChange, type Route } from '../../src/routing/rib.js';
import { maskOf, parseAddress } from '../../src/net/addr.js';

function makeRib(blocked: Set<number>) {
  const changes: FibChange[] = [];
  const rib = new Rib((r: Route) => (blocked.has(r.port) ? 'port-blocked' : null), (c) => changes.push(c));
  const egress = (addr: string | number) => {
    const nh = rib.fib.lookup(typeof addr === 'string' ? parseAddress(addr) : addr);
    return nh === 0 ? -1 : rib.fib.portOf(nh);
  };
  return { rib, changes, egress };
}

const P = (s: string) => parseAddress(s);
/** Administrative distance by source, as the router and its protocols give it (RIP: 120). */
const D = { ...DISTANCE, rip: 120 } as const;

test('lowest metric wins; blocking its port falls back to the next; unblocking returns', () => {
  const blocked = new Set<number>();
  const { rib, changes, egress } = makeRib(blocked);
  rib.add({ prefix: P('1.1.1.1'), len: 32, port: 1, nextHop: P('10.0.12.2'), metric: 1, source: 'static', distance: D.static });
  rib.add({ prefix: P('1.1.1.1'), len: 32, port: 2, nextHop: P('10.0.13.2'), metric: 10, source: 'static', distance: D.static });
  assert.equal(egress('1.1.1.1'), 1);
  blocked.add(1);
  rib.reevaluate((r) => r.port === 1, 'port-blocked');
  assert.equal(egress('1.1.1.1'), 2);
  const last = changes.at(-1)!;
  assert.equal(last.before?.port, 1);
  assert.equal(last.after?.port, 2);
  assert.equal(last.cause, 'port-blocked');
  blocked.delete(1);
  rib.reevaluate((r) => r.port === 1, 'port-unblocked');
  assert.equal(egress('1.1.1.1'), 1);
});

test('a draining port\'s route is used only when nothing else can be: a drain moves traffic, it never cuts a destination off', () => {
  const state = new Map<number, string>();
  const changes: FibChange[] = [];
  const rib = new Rib((r: Route) => state.get(r.port) ?? null, (c) => changes.push(c));
  const egress = (a: string) => {
    const nh = rib.fib.lookup(P(a));
    return nh === 0 ? -1 : rib.fib.portOf(nh);
  };
  rib.add({ prefix: P('1.1.1.1'), len: 32, port: 1, nextHop: P('10.0.12.2'), metric: 1, source: 'static', distance: D.static });
  rib.add({ prefix: P('1.1.1.1'), len: 32, port: 2, nextHop: P('10.0.13.2'), metric: 10, source: 'static', distance: D.static });
  rib.add({ prefix: P('10.100.0.0'), len: 24, port: 1, nextHop: P('10.0.12.2'), metric: 2, source: 'rip', distance: D.rip });
  state.set(1, 'port-draining');
  rib.reevaluate((r) => r.port === 1, 'port-draining');
  assert.equal(egress('1.1.1.1'), 2, 'another path: taken');
  assert.equal(egress('10.100.0.1'), 1, 'the only path: kept');
  // The other path goes too: back to the draining port rather than nowhere.
  state.set(2, 'port-blocked');
  rib.reevaluate((r) => r.port === 2, 'port-blocked');
  assert.equal(egress('1.1.1.1'), 1);
  // Blocked is never a last resort.
  state.set(1, 'port-blocked');
  rib.reevaluate((r) => r.port === 1, 'port-blocked');
  assert.deepEqual([egress('1.1.1.1'), egress('10.100.0.1')], [-1, -1]);
  assert.equal(changes.at(-1)!.after, null);
});

test('a prefix with no usable route leaves the FIB: lookups fall back to a shorter prefix', () => {
  const blocked = new Set<number>();
  const { rib, changes, egress } = makeRib(blocked);
  rib.add({ prefix: 0, len: 0, port: 3, nextHop: 0, metric: 100, source: 'static', distance: D.static });
  rib.add({ prefix: P('1.1.1.0'), len: 24, port: 1, nextHop: 0, metric: 1, source: 'static', distance: D.static });
  assert.equal(egress('1.1.1.1'), 1);
  blocked.add(1);
  rib.reevaluate((r) => r.port === 1, 'port-blocked');
  assert.equal(egress('1.1.1.1'), 3);
  assert.equal(changes.at(-1)!.after, null); // withdrawn
});

test('distance first (connected < static = api < rip), then metric, then the older route', () => {
  const { rib, egress } = makeRib(new Set());
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 4, nextHop: 0, metric: 1, source: 'rip', distance: D.rip });
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 3, nextHop: 0, metric: 5, source: 'api', distance: D.api });
  // A static/API route beats a RIP route whatever the metrics.
  assert.equal(egress('10.1.2.3'), 3);
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 2, nextHop: 0, metric: 4, source: 'static', distance: D.static });
  assert.equal(egress('10.1.2.3'), 2);
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 5, nextHop: 0, metric: 4, source: 'static', distance: D.static });
  assert.equal(egress('10.1.2.3'), 2);
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 6, nextHop: 0, metric: 9, source: 'connected', distance: D.connected });
  assert.equal(egress('10.1.2.3'), 6);
});

test('update changes the metric and reselects; remove withdraws', () => {
  const { rib, egress, changes } = makeRib(new Set());
  const a = rib.add({ prefix: P('1.1.1.1'), len: 32, port: 1, nextHop: 0, metric: 1, source: 'rip', distance: D.rip });
  rib.add({ prefix: P('1.1.1.1'), len: 32, port: 2, nextHop: 0, metric: 5, source: 'rip', distance: D.rip });
  rib.update(a.id, { metric: 9 });
  assert.equal(egress('1.1.1.1'), 2);
  const n = changes.length;
  rib.update(a.id, { metric: 9 }); // no change → no event
  assert.equal(changes.length, n);
  for (const r of rib.find(() => true)) rib.remove(r.id);
  assert.equal(egress('1.1.1.1'), -1);
  assert.equal(rib.fib.size, 0);
});

test('lookup() (slow path, for the CLI) agrees with the FIB', () => {
  const { rib } = makeRib(new Set());
  rib.add({ prefix: P('10.0.0.0'), len: 8, port: 1, nextHop: 0, metric: 1, source: 'static', distance: D.static });
  rib.add({ prefix: P('10.1.0.0'), len: 16, port: 2, nextHop: 0, metric: 1, source: 'static', distance: D.static });
  assert.equal(rib.lookup(P('10.1.9.9'))?.port, 2);
  assert.equal(rib.lookup(P('10.2.9.9'))?.port, 1);
  assert.equal(rib.lookup(P('11.0.0.1')), undefined);
});

test('random tables against a brute-force reference (prefix, metric, usability)', () => {
  let seed = Number(process.env.SEED ?? 12345);
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const blocked = new Set<number>();
  const { rib, egress } = makeRib(blocked);
  const routes: Route[] = [];
  const PORTS = 6;
  for (let i = 0; i < 3000; i++) {
    const len = Math.floor(rnd() * 33);
    // Crowd prefixes into 10/8 so they nest and collide.
    const base = (0x0a000000 | Math.floor(rnd() * 2 ** 24)) >>> 0;
    const prefix = (base & maskOf(len)) >>> 0;
    routes.push(rib.add({ prefix, len, port: Math.floor(rnd() * PORTS), nextHop: 0, metric: Math.floor(rnd() * 20), source: 'static', distance: D.static }));
  }
  // The reference scans every route for every address (brute force), over the routes'
  // fields copied into flat arrays once per round: the same scan, without a property
  // lookup and a function call per route (12,000 addresses × ~2,500 routes a run).
  let flat = { n: 0, prefix: new Uint32Array(0), mask: new Uint32Array(0), len: new Uint8Array(0), port: new Uint8Array(0), metric: new Uint32Array(0), id: new Float64Array(0) };
  const blockedPort = new Uint8Array(PORTS);
  const snapshot = () => {
    const n = routes.length;
    flat = { n, prefix: new Uint32Array(n), mask: new Uint32Array(n), len: new Uint8Array(n), port: new Uint8Array(n), metric: new Uint32Array(n), id: new Float64Array(n) };
    routes.forEach((r, i) => {
      [flat.prefix[i], flat.mask[i], flat.len[i], flat.port[i], flat.metric[i], flat.id[i]] = [r.prefix, maskOf(r.len), r.len, r.port, r.metric, r.id];
    });
    for (let p = 0; p < PORTS; p++) blockedPort[p] = blocked.has(p) ? 1 : 0;
  };
  const reference = (addr: number): number => {
    const { n, prefix, mask, len, port, metric, id } = flat;
    let best = -1;
    for (let i = 0; i < n; i++) {
      if (blockedPort[port[i]!] || ((addr & mask[i]!) >>> 0) !== prefix[i]) continue;
      if (best < 0 || len[i]! > len[best]! || (len[i] === len[best] && (metric[i]! < metric[best]! || (metric[i] === metric[best] && id[i]! < id[best]!)))) best = i;
    }
    return best < 0 ? -1 : port[best]!;
  };
  for (let round = 0; round < 6; round++) {
    // Block/unblock ports, and delete some routes.
    const p = Math.floor(rnd() * PORTS);
    if (blocked.has(p)) blocked.delete(p); else blocked.add(p);
    rib.reevaluate((r) => r.port === p, 'test');
    for (let k = 0; k < 100; k++) {
      const i = Math.floor(rnd() * routes.length);
      rib.remove(routes[i]!.id);
      routes.splice(i, 1);
    }
    snapshot();
    for (let k = 0; k < 2000; k++) {
      const addr = rnd() < 0.9 ? (0x0a000000 | Math.floor(rnd() * 2 ** 24)) >>> 0 : Math.floor(rnd() * 2 ** 32) >>> 0;
      assert.equal(egress(addr), reference(addr), `seed ${process.env.SEED ?? 12345}, round ${round}, addr ${addr}`);
    }
  }
});

test('routesInChunks: the order of routes(), in bounded chunks, skipping what was removed meanwhile', () => {
  const { rib } = makeRib(new Set());
  const ids: number[] = [];
  // 40,000 prefixes (three sorting runs), some with two routes, inserted out of order.
  for (let i = 0; i < 40_000; i++) {
    const prefix = ((i * 2654435761) >>> 0) & 0xffffff00;
    ids.push(rib.add({ prefix, len: 24, port: 1, nextHop: 0, metric: 5, source: 'static', distance: D.static }).id);
    if (i % 7 === 0) rib.add({ prefix, len: 24, port: 2, nextHop: 0, metric: 1, source: 'static', distance: D.static });
  }
  const whole = rib.routes();
  const chunks = [...rib.routesInChunks(1000)];
  assert.ok(chunks.every((c) => c.length <= 1000 + 1), 'a chunk may pass its size by one prefix\'s routes only');
  assert.deepEqual(chunks.flat().map((r) => r.id), whole.map((r) => r.id));

  const it = rib.routesInChunks(1000);
  const seen: Route[] = [];
  let before = -1;
  for (let step = it.next(); !step.done; step = it.next()) {
    seen.push(...step.value);
    if (seen.length > 0 && before < 0) {
      before = seen.length;
      for (const id of ids.slice(30_000)) rib.remove(id);
    }
  }
  assert.ok(seen.slice(before).every((r) => rib.get(r.id) !== undefined), 'routes removed before they were reached are skipped');
  assert.ok(seen.length < whole.length);
});
