// RIP hardening on a real Router over in-memory ports, with a fake clock:
// what a neighbour can make us hold (routes per neighbour, in all, routers
// per port) and how that is told (one rip.limit event, never a line per
// route); GTSM; configured neighbours and unicast updates; authentication
// (password, keyed MD5, HMAC-SHA) between two routers, with wrong keys,
// replays, key roll-over and no valid key; and all of it through a reload.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { test } from 'node:test';
import { parseRouterConfig, type RouterConfig } from '../../src/config/router-config.js';
import { formatAddress } from '../../src/net/addr.js';
import { RIP_DROP_NAMES } from '../../src/protocols/rip/rip.js';
import { RipAuthType, RipView, writeRipCryptoEntry, writeWholeTableRequest } from '../../src/wire/rip.js';
import { FakeClock } from '../support/fake-clock.js';
import { A, MCAST, datagram, response, responses, start, type Sent } from '../support/rip-router.js';

const TIMERS = { updateTime: 30, timeoutTime: 180, garbageTime: 120 };

/** r1 with RIP on w (10.0.12.1/24) and e (10.0.13.1/24), and a LAN it redistributes. */
function config(rip: Record<string, unknown> = {}, w: Record<string, unknown> = {}, e: Record<string, unknown> = {}, name = 'r1', lan = '10.0.1.1/24'): RouterConfig {
  return parseRouterConfig({
    router: name,
    ports: [
      { name: 'lan', device: 'lan0', address: lan },
      { name: 'w', device: 'w0', address: name === 'r1' ? '10.0.12.1/24' : '10.0.12.2/24' },
      { name: 'e', device: 'e0', address: '10.0.13.1/24' },
    ],
    rip: { ports: [{ port: 'w', ...w }, { port: 'e', ...e }], ...TIMERS, ...rip },
  });
}

type Router = ReturnType<typeof start>;

/** `count` /32 routes 172.16.0.0 + from… from `src` on `port`, 25 to a Response. */
function flood(t: Router, port: string, src: string, from: number, count: number, metric = 1): void {
  for (let i = from; i < from + count; i += 25) {
    const entries: [string, number][] = [];
    for (let j = i; j < Math.min(i + 25, from + count); j++) entries.push([`${formatAddress((A('172.16.0.0') + j) >>> 0)}/32`, metric]);
    t.inject(port, datagram(src, MCAST, response(entries)));
  }
}

const drops = (t: Router) => Object.fromEntries([...t.rip.packetDrops].map((n, i) => [RIP_DROP_NAMES[i], n]).filter(([, n]) => n !== 0));
const neighbour = (t: Router, port: string, addr: string) => t.rip.neighbours.get(t.port(port), A(addr));

test('per-neighbour and total limits: 65,000 routes offered, the limits held (counts), one rip.limit event each, no line per route', () => {
  const t = start(config({ maxRoutes: 300, maxRoutesPerNeighbour: 200 }));
  flood(t, 'w', '10.0.12.2', 0, 65_000);
  // What is held: the limit, in RIP's table, its prefixes and the RIB — nothing for the refused ones.
  assert.equal(t.rip.table.size, 200);
  assert.equal(t.rip.table.prefixCount, 200);
  assert.equal(t.router.rib.routes().filter((r) => r.source === 'rip').length, 200);
  assert.equal(t.rip.table.heldFrom(t.port('w').index, A('10.0.12.2')), 200);
  assert.equal(t.rip.counters.entriesOverLimit, 64_800);
  assert.equal(t.rip.counters.entriesAccepted, 200);
  const n = neighbour(t, 'w', '10.0.12.2')!;
  assert.deepEqual([n.limit.hit, n.limit.total, n.limit.refused], [true, 64_800, 64_800]);
  assert.deepEqual(t.events('rip.limit').map((e) => [e.limit, e.state, e.port, e.neighbour, e.max, e.held]),
    [['maxRoutesPerNeighbour', 'reached', 'w', '10.0.12.2', 200, 200]]);
  assert.equal(t.logs.filter((l) => l.event === 'rip.limit').length, 1);
  // The table's size limit: a second neighbour gets what is left of 300.
  flood(t, 'e', '10.0.13.2', 1000, 500);
  assert.equal(t.rip.table.size, 300);
  assert.equal(t.rip.table.heldFrom(t.port('e').index, A('10.0.13.2')), 100);
  assert.deepEqual(t.events('rip.limit').map((e) => [e.limit, e.state]), [['maxRoutesPerNeighbour', 'reached'], ['maxRoutes', 'reached']]);
  assert.equal(t.rip.totalLimit.hit, true);
  // Route lines: at most 50 a second; the rest summed up once the second is over.
  const lines = () => t.logs.filter((l) => /^route\.(installed|changed|withdrawn)$/.test(String(l.event))).length;
  assert.equal(lines(), 50, '50 lines (3 connected routes at start, then 47 of RIP\'s 300) in the first second');
  t.clock.advance(1000);
  const summary = t.events('route.changes');
  assert.equal(summary.length, 1);
  assert.deepEqual(summary[0]!.notLogged, { installed: 303 - 50, changed: 0, withdrawn: 0 });
  assert.equal(t.logs.filter((l) => l.level === 30 && l.event === 'rip.route').length, 0, 'RIP\'s own per-route lines are debug only');
});

test('at the limit, what is held is still refreshed, changed and withdrawn; a freed slot takes a new route', () => {
  const t = start(config({ maxRoutesPerNeighbour: 3 }));
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.1.0/24', 1], ['10.9.2.0/24', 1], ['10.9.3.0/24', 1], ['10.9.4.0/24', 1]])));
  assert.equal(t.ripRoute('10.9.4.0/24'), undefined, 'the fourth refused');
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.1.0/24', 5], ['10.9.2.0/24', 16]])));
  assert.equal(t.ripRoute('10.9.1.0/24')!.metric, 6, 'changed');
  assert.equal(t.ripRoute('10.9.2.0/24'), undefined, 'withdrawn');
  // A withdrawn route is still held (garbage collection) until it is deleted; then its slot is free.
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.4.0/24', 1]])));
  assert.equal(t.ripRoute('10.9.4.0/24'), undefined);
  t.clock.advance(120_001);
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.1.0/24', 5], ['10.9.3.0/24', 1], ['10.9.4.0/24', 1]])));
  assert.equal(t.ripRoute('10.9.4.0/24')!.metric, 2);
  assert.equal(t.rip.table.heldFrom(t.port('w').index, A('10.0.12.2')), 3);
});

test('rip.limit clears once nothing was refused for a route timeout (one event), and again when a neighbour is forgotten', () => {
  const t = start(config({ maxRoutesPerNeighbour: 2 }));
  const table = () => t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.1.0/24', 1], ['10.9.2.0/24', 1]])));
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.1.0/24', 1], ['10.9.2.0/24', 1], ['10.9.3.0/24', 1]])));
  assert.deepEqual(t.events('rip.limit').map((e) => e.state), ['reached']);
  // The neighbour keeps sending what it has (refreshes, nothing refused) every 30 s.
  for (let s = 30; s <= 150; s += 30) {
    t.clock.advance(30_000);
    table();
  }
  assert.deepEqual(t.events('rip.limit').map((e) => e.state), ['reached'], 'not yet: 150 s quiet < 180 s');
  t.clock.advance(30_000);
  table();
  t.clock.advance(30_000);
  const states = t.events('rip.limit');
  assert.deepEqual(states.map((e) => [e.state, e.refused]), [['reached', undefined], ['cleared', 1]]);
  assert.equal(neighbour(t, 'w', '10.0.12.2')!.limit.hit, false);
  // Reached again later: one more event, not one per entry.
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.3.0/24', 1], ['10.9.4.0/24', 1], ['10.9.5.0/24', 1]])));
  assert.deepEqual(t.events('rip.limit').map((e) => e.state), ['reached', 'cleared', 'reached']);
  // It goes silent and is forgotten (timeout + garbage): the limit is clear for it.
  t.clock.advance(330_000);
  assert.equal(neighbour(t, 'w', '10.0.12.2'), undefined);
  assert.deepEqual(t.events('rip.limit').map((e) => e.state), ['reached', 'cleared', 'reached', 'cleared']);
});

test('maxNeighboursPerPort: a packet from one router more is dropped and counted (no neighbour, no BFD, no routes); one event', () => {
  const t = start(config({ maxNeighboursPerPort: 2 }, { bfd: true }));
  for (const last of [2, 3, 4, 5, 6]) t.inject('w', datagram(`10.0.12.${last}`, MCAST, response([[`10.9.${last}.0/24`, 1]])));
  assert.deepEqual(t.rip.neighbours.onPort(t.port('w')).map((n) => formatAddress(n.address)), ['10.0.12.2', '10.0.12.3']);
  assert.deepEqual(t.liveness.required, ['w/10.0.12.2', 'w/10.0.12.3'], 'BFD only for the two');
  assert.deepEqual(drops(t), { 'too-many-neighbours': 3 });
  assert.deepEqual(t.events('rip.limit').map((e) => [e.limit, e.port, e.max]), [['maxNeighboursPerPort', 'w', 2]]);
  // Another port has its own room; a known neighbour is still heard.
  t.inject('e', datagram('10.0.13.9', MCAST, response([['10.8.0.0/16', 1]])));
  assert.ok(t.ripRoute('10.8.0.0/16'));
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.2.0/24', 1]])));
  assert.equal(t.rip.packetDrops[RIP_DROP_NAMES.indexOf('too-many-neighbours')], 3);
});

test('GTSM: ttlSecurity true sends TTL 255 and takes only 255; "tx-only" sends 255 and takes any; off sends 1 and takes any', () => {
  const t = start(config({}, { ttlSecurity: true }, { ttlSecurity: 'tx-only' }));
  const sent = t.take();
  assert.ok(sent.filter((s) => s.port === 'w').every((s) => s.ttl === 255));
  assert.ok(sent.filter((s) => s.port === 'e').every((s) => s.ttl === 255));
  for (const ttl of [1, 64, 254]) t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.0.0/16', 1]]), 520, ttl));
  assert.equal(t.ripRoute('10.9.0.0/16'), undefined);
  assert.deepEqual(drops(t), { 'bad-ttl': 3 });
  assert.equal(neighbour(t, 'w', '10.0.12.2'), undefined, 'not a neighbour either');
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.0.0/16', 1]]), 520, 255));
  assert.ok(t.ripRoute('10.9.0.0/16'));
  t.inject('e', datagram('10.0.13.2', MCAST, response([['10.8.0.0/16', 1]]), 520, 1));
  assert.ok(t.ripRoute('10.8.0.0/16'), 'tx-only takes TTL 1');
  const off = start(config());
  assert.ok(off.take().every((s) => s.ttl === 1), 'the default: TTL 1, as BIRD and FRR send');
});

test('configured neighbours: other sources dropped and counted, never neighbours; unicast sends every update to each of them instead of 224.0.0.9', () => {
  const t = start(config({}, { neighbours: ['10.0.12.2', '10.0.12.5'], unicast: true }, { neighbours: ['10.0.13.2'] }));
  const first = t.take();
  const dst = (port: string, s: Sent[]) => s.filter((x) => x.port === port).map((x) => `${x.command === 1 ? 'request' : 'response'} ${x.dst}`);
  assert.deepEqual(dst('w', first), ['request 10.0.12.2', 'request 10.0.12.5', 'response 10.0.12.2', 'response 10.0.12.5']);
  assert.deepEqual(dst('e', first), ['request 224.0.0.9', 'response 224.0.0.9'], 'neighbours without unicast: multicast as usual');
  t.inject('w', datagram('10.0.12.3', MCAST, response([['10.9.0.0/16', 1]])));
  t.inject('e', datagram('10.0.13.7', MCAST, response([['10.8.0.0/16', 1]])));
  t.inject('w', datagram('10.0.12.3', '10.0.12.1', (() => { const b = new Uint8Array(24); writeWholeTableRequest(b, 0); return b; })()));
  assert.deepEqual(drops(t), { 'not-a-neighbour': 3 });
  assert.equal(t.rip.neighbours.countOn(t.port('w')) + t.rip.neighbours.countOn(t.port('e')), 0);
  assert.equal(t.take().length, 0, 'a Request from elsewhere gets nothing');
  t.inject('w', datagram('10.0.12.5', MCAST, response([['10.9.0.0/16', 1]])));
  assert.ok(t.ripRoute('10.9.0.0/16'));
  // A triggered update (the new route goes out on e) and the periodic one, on w to each neighbour.
  t.clock.advance(1);
  assert.deepEqual(dst('e', t.take()), ['response 224.0.0.9']);
  t.clock.advance(30_000);
  assert.deepEqual(dst('w', t.take()), ['response 10.0.12.2', 'response 10.0.12.5']);
});

// ---------- authentication ----------

/** Two routers, r1 (10.0.12.1) and r2 (10.0.12.2), on one link w; each redistributes its own LAN. */
function pair(auth1: unknown, auth2: unknown = auth1, opts: { clock?: FakeClock; w?: Record<string, unknown> } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const w1 = auth1 === undefined ? {} : { auth: auth1 };
  const w2 = auth2 === undefined ? {} : { auth: auth2 };
  const r1 = start(config({}, { ...w1, ...opts.w }, {}, 'r1', '10.0.1.1/24'), clock);
  const r2 = start(config({}, { ...w2, ...opts.w }, {}, 'r2', '10.0.2.1/24'), clock);
  /** Carry what each sent on w to the other, until nothing more is said (or `rounds` times). */
  const exchange = (rounds = 4) => {
    for (let i = 0; i < rounds; i++) {
      const a = r1.take('w');
      const b = r2.take('w');
      if (a.length + b.length === 0) return;
      for (const s of a) r2.inject('w', s.datagram);
      for (const s of b) r1.inject('w', s.datagram);
      clock.advance(1);
    }
  };
  return { clock, r1, r2, exchange };
}

const key = (id: number, secret: string, more: Record<string, string> = {}) => ({ id, secret, ...more });

test('authentication between two routers: each type learns both ways; datagrams carry the auth entry (and trailer) and stay within 504 bytes', async (t) => {
  const cases: [string, number, number][] = [
    // type, trailer length, route entries per datagram
    ['password', 0, 24], ['md5', 20, 23], ['hmac-sha1', 24, 22], ['hmac-sha256', 36, 22], ['hmac-sha384', 52, 21], ['hmac-sha512', 68, 20],
  ];
  for (const [type, trailer, perDatagram] of cases) {
    await t.test(type, () => {
      const p = pair({ type, keys: [key(9, 'secret-9')] });
      p.exchange();
      assert.equal(p.r1.ripRoute('10.0.2.0/24')?.metric, 2, 'r1 learned r2\'s LAN');
      assert.equal(p.r2.ripRoute('10.0.1.0/24')?.metric, 2, 'r2 learned r1\'s LAN');
      assert.deepEqual(drops(p.r1), {});
      const n = neighbour(p.r2, 'w', '10.0.12.1')!;
      assert.equal(n.authFailures, 0);
      // The clock's seconds (the fake clock starts at 1,000,000 ms).
      assert.equal(n.authSequence, type === 'password' ? -1 : 1000);
      // A big table: datagrams of the type's size.
      const big = start(parseRouterConfig({
        router: 'big', ports: [{ name: 'w', device: 'w0', address: '10.0.12.1/24' }],
        routes: Array.from({ length: 49 }, (_, i) => ({ prefix: `10.50.${i}.0/24`, port: 'w', via: '10.0.12.9' })),
        rip: { ports: [{ port: 'w', auth: { type, keys: [key(9, 'k')] } }], ...TIMERS },
      }));
      big.clock.advance(30_000);
      const sent = responses(big.take('w')).slice(-3);
      const v = new RipView();
      for (const s of sent) {
        assert.ok(s.payload.length <= 504, `${s.payload.length} bytes`);
        v.attach(s.payload, 0, s.payload.length);
        assert.equal(v.validate(), 0);
        assert.equal(v.authType, type === 'password' ? RipAuthType.PASSWORD : RipAuthType.CRYPTO);
        assert.equal(s.payload.length - v.bodyLen, trailer);
      }
      assert.deepEqual(sent.map((s) => s.entries.length), [perDatagram, perDatagram, 50 - 2 * perDatagram], '49 static routes and the connected one');
    });
  }
});

test('keyed MD5 and HMAC digests are RFC 4822\'s, computed here from the bytes alone; Auth Data Len 16 (RFC) and 20 (BIRD, FRR) both taken', () => {
  const p = pair({ type: 'md5', keys: [key(3, 'md5key')] });
  const [s] = responses(p.r1.take('w'));
  const b = s!.payload;
  const v = new RipView().attach(b, 0, b.length);
  assert.equal(v.validate(), 0);
  assert.deepEqual([v.authKeyId, v.authDataLen, v.authPacketLength, v.digestLength], [3, 20, v.bodyLen, 16]);
  const md5 = (data: Uint8Array, keyBytes: string) => createHash('md5').update(data).update(Buffer.concat([Buffer.from(keyBytes), Buffer.alloc(16 - keyBytes.length)])).digest();
  assert.deepEqual(Buffer.from(b.subarray(v.bodyLen + 4)), md5(b.subarray(0, v.bodyLen + 4), 'md5key'));
  // The same message with Auth Data Len 16 (its digest recomputed): r2 takes it.
  const rfc = b.slice();
  rfc[11] = 16;
  md5(rfc.subarray(0, v.bodyLen + 4), 'md5key').copy(rfc, v.bodyLen + 4);
  p.r2.inject('w', datagram('10.0.12.1', MCAST, rfc));
  assert.equal(p.r2.ripRoute('10.0.1.0/24')?.metric, 2);
  // HMAC-SHA-256: HMAC(key, message ‖ 0xffff0001 ‖ Apad).
  const h = pair({ type: 'hmac-sha256', keys: [key(4, 'hmac-key')] });
  const [x] = responses(h.r1.take('w'));
  const hv = new RipView().attach(x!.payload, 0, x!.payload.length);
  hv.validate();
  assert.deepEqual([hv.authKeyId, hv.authDataLen, hv.digestLength], [4, 32, 32]);
  const apad = Buffer.alloc(32);
  for (let i = 0; i < 32; i += 4) apad.writeUInt32BE(0x878fe1f3, i);
  const want = createHmac('sha256', 'hmac-key').update(x!.payload.subarray(0, hv.bodyLen + 4)).update(apad).digest();
  assert.deepEqual(Buffer.from(x!.payload.subarray(hv.bodyLen + 4)), want);
});

test('a wrong key, an unknown key id, another type, none, a tampered byte: dropped by reason, the sender never a neighbour', () => {
  const cases: [unknown, unknown, string][] = [
    [{ type: 'hmac-sha256', keys: [key(1, 'a')] }, { type: 'hmac-sha256', keys: [key(1, 'b')] }, 'auth-bad-digest'],
    [{ type: 'md5', keys: [key(1, 'a')] }, { type: 'md5', keys: [key(2, 'a')] }, 'auth-unknown-key'],
    [{ type: 'md5', keys: [key(1, 'a')] }, { type: 'hmac-sha1', keys: [key(1, 'a')] }, 'auth-bad-length'],
    [{ type: 'password', keys: [key(1, 'a')] }, { type: 'md5', keys: [key(1, 'a')] }, 'auth-wrong-type'],
    [{ type: 'password', keys: [key(1, 'a')] }, { type: 'password', keys: [key(1, 'b')] }, 'auth-bad-digest'],
    [{ type: 'none' }, { type: 'md5', keys: [key(1, 'a')] }, 'auth-missing'],
    [{ type: 'md5', keys: [key(1, 'a')] }, { type: 'none' }, 'auth-not-configured'],
  ];
  for (const [a1, a2, reason] of cases) {
    const p = pair(a1, a2);
    p.exchange();
    assert.equal(p.r2.ripRoute('10.0.1.0/24'), undefined, reason);
    assert.equal(neighbour(p.r2, 'w', '10.0.12.1'), undefined, reason);
    assert.ok((drops(p.r2)[reason] ?? 0) >= 2, `${reason}: ${JSON.stringify(drops(p.r2))}`);
  }
  // One byte changed anywhere in the message or the digest.
  const p = pair({ type: 'hmac-sha1', keys: [key(1, 'k')] });
  const [s] = responses(p.r1.take('w'));
  // The header's must-be-zero byte, a route's address, the digest's last byte.
  for (const at of [2, 30, s!.payload.length - 1]) {
    const bad = s!.payload.slice();
    bad[at]! ^= 0x01;
    // A new UDP checksum: it is the digest that must catch this.
    p.r2.inject('w', datagram('10.0.12.1', MCAST, bad));
  }
  assert.deepEqual(drops(p.r2), { 'auth-bad-digest': 3 });
});

test('sequence numbers: the clock\'s seconds, never going back; an older packet is a replay (dropped) while the neighbour is up, taken again once it timed out', () => {
  const p = pair({ type: 'hmac-sha256', keys: [key(1, 'k')] });
  p.exchange();
  const old = responses(p.r1.take('w'));
  p.clock.advance(30_000);
  const fresh = responses(p.r1.take('w'));
  const seq = (s: Sent) => new RipView().attach(s.payload, 0, s.payload.length).authSequence;
  assert.ok(fresh.length > 0 && old.length === 0, 'nothing new in between');
  const t0 = Math.floor((p.clock.now() - 30_000) / 1000);
  assert.equal(seq(fresh[0]!), t0 + 30);
  for (const s of fresh) p.r2.inject('w', s.datagram);
  assert.equal(neighbour(p.r2, 'w', '10.0.12.1')!.authSequence, t0 + 30);
  // Keep one of these, let time pass, send newer ones, then replay it.
  const kept = fresh[0]!.datagram;
  p.clock.advance(30_000);
  for (const s of responses(p.r1.take('w'))) p.r2.inject('w', s.datagram);
  p.r2.inject('w', kept);
  assert.equal(drops(p.r2)['auth-old-sequence'], 1);
  // r1 goes silent for the timeout: r2 marks it down and takes a lower sequence number again (a restarted router counts from anew).
  p.clock.advance(220_000);
  p.r2.take();
  assert.equal(neighbour(p.r2, 'w', '10.0.12.1')!.state, 'down');
  p.r2.inject('w', kept);
  assert.equal(drops(p.r2)['auth-old-sequence'], 1);
  assert.equal(neighbour(p.r2, 'w', '10.0.12.1')!.state, 'up');
});

test('key roll-over: the newest valid key is sent; the other end accepts both in the overlap; no valid key: nothing sent, counted', () => {
  const clock = new FakeClock();
  clock.t = Date.parse('2026-01-01T11:00:00Z');
  const r1keys = { type: 'md5', keys: [key(1, 'old', { until: '2026-01-01T12:00:00Z', acceptUntil: '2026-01-01T12:30:00Z' }), key(2, 'new', { from: '2026-01-01T12:00:00Z' })] };
  const r2keys = { type: 'md5', keys: [key(1, 'old', { until: '2026-01-01T12:10:00Z', acceptUntil: '2026-01-01T12:30:00Z' }), key(2, 'new', { from: '2026-01-01T12:10:00Z', acceptFrom: '2026-01-01T11:30:00Z' })] };
  const p = pair(r1keys, r2keys, { clock });
  const keyIds = (s: Sent[]) => [...new Set(s.map((x) => new RipView().attach(x.payload, 0, x.payload.length).authKeyId))];
  /** Move to `time`, dropping what was said on the way; then 30 s more, carrying it across. Returns the key ids each sent. */
  const at = (time: string) => {
    clock.advance(Date.parse(time) - clock.now());
    p.r1.take();
    p.r2.take();
    clock.advance(30_000);
    const a = p.r1.take('w');
    const b = p.r2.take('w');
    for (const x of a) p.r2.inject('w', x.datagram);
    for (const x of b) p.r1.inject('w', x.datagram);
    return [keyIds(a), keyIds(b)];
  };
  p.exchange();
  assert.ok(p.r2.ripRoute('10.0.1.0/24'), 'key 1 at 11:00');
  assert.deepEqual(at('2026-01-01T11:45:00Z'), [[1], [1]]);
  assert.deepEqual(at('2026-01-01T12:00:15Z'), [[2], [1]], 'r1 sends key 2 from 12:00, r2 (accepting it since 11:30) still key 1, which r1 accepts until 12:30');
  assert.deepEqual(at('2026-01-01T12:15:00Z'), [[2], [2]]);
  assert.deepEqual([drops(p.r1), drops(p.r2)], [{}, {}], 'nothing refused in the roll-over');
  assert.ok(p.r1.ripRoute('10.0.2.0/24') && p.r2.ripRoute('10.0.1.0/24'));
  // Key 1 is not accepted after 12:30.
  const old = pair({ type: 'md5', keys: [key(1, 'old')] }, undefined, { clock });
  const [stale] = responses(old.r1.take('w'));
  p.r2.inject('w', datagram('10.0.12.1', MCAST, stale!.payload));
  assert.deepEqual(drops(p.r2), {}, '12:15: still accepted');
  clock.advance(Date.parse('2026-01-01T12:31:00Z') - clock.now());
  p.r2.inject('w', datagram('10.0.12.1', MCAST, stale!.payload));
  assert.deepEqual(drops(p.r2), { 'auth-unknown-key': 1 });
  // No key valid: silence, counted.
  const c2 = new FakeClock();
  c2.t = Date.parse('2026-01-01T12:59:45Z');
  const lone = start(config({}, { auth: { type: 'md5', keys: [key(1, 'k', { until: '2026-01-01T13:00:00Z' })] } }), c2);
  assert.ok(lone.take('w').length > 0);
  c2.advance(120_000);
  assert.equal(lone.take('w').length, 0);
  assert.ok(lone.rip.counters.sendsWithoutKey >= 2);
});

test('Requests with authentication: whole-table and specific ones are answered signed, and a signed answer verifies', () => {
  const p = pair({ type: 'hmac-sha384', keys: [key(5, 'req')] });
  // Whole-table Requests (each sends one at start) are answered, signed: both learned.
  p.exchange();
  assert.ok(p.r1.ripRoute('10.0.2.0/24') && p.r2.ripRoute('10.0.1.0/24'));
  assert.ok(p.r1.rip.counters.requestsReceived >= 1);
  // A specific Request for 10.0.1.0/24 from a query tool (port 5000), signed by hand as RFC 4822 says.
  const body = new Uint8Array(4 + 20 + 20);
  body.set([1, 2, 0, 0]);
  writeRipCryptoEntry(body, 4, body.length, 5, 48, 0xffffffff);
  body.set([0, 2, 0, 0, 10, 0, 1, 0, 255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 0, 16], 24);
  const apad = Buffer.alloc(48);
  for (let i = 0; i < 48; i += 4) apad.writeUInt32BE(0x878fe1f3, i);
  const signed = Buffer.concat([body, Buffer.from([0xff, 0xff, 0, 1])]);
  const digest = createHmac('sha384', 'req').update(signed).update(apad).digest();
  p.r1.inject('w', datagram('10.0.12.2', '10.0.12.1', Buffer.concat([signed, digest]), 5000));
  const [reply] = p.r1.take('w');
  assert.ok(reply, 'answered');
  assert.deepEqual([reply.dst, reply.dport, reply.command], ['10.0.12.2', 5000, 2]);
  assert.deepEqual(reply.entries, [{ prefix: '10.0.1.0/24', metric: 1, nextHop: '0.0.0.0' }]);
  const rv = new RipView().attach(reply.payload, 0, reply.payload.length);
  assert.equal(rv.validate(), 0);
  assert.equal(rv.authKeyId, 5);
  const check = createHmac('sha384', 'req').update(reply.payload.subarray(0, rv.bodyLen + 4)).update(apad).digest();
  assert.deepEqual(Buffer.from(reply.payload.subarray(rv.bodyLen + 4)), check);
});

test('a reload applies auth, GTSM, neighbours, unicast and limits in place: a neighbour left out is forgotten with its routes', () => {
  const t = start(config());
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.0.0/16', 1]])));
  t.inject('w', datagram('10.0.12.3', MCAST, response([['10.8.0.0/16', 1]])));
  t.take();
  const next = config({ maxRoutesPerNeighbour: 1 }, { neighbours: ['10.0.12.2'], ttlSecurity: true, auth: { type: 'md5', keys: [key(1, 'k')] } });
  t.router.config = next;
  t.rip.reconfigure(next.rip!);
  assert.equal(t.ripRoute('10.8.0.0/16'), undefined, 'the neighbour left out: routes withdrawn');
  assert.equal(neighbour(t, 'w', '10.0.12.3'), undefined, 'and forgotten');
  assert.ok(t.ripRoute('10.9.0.0/16'), 'the one kept keeps its routes');
  t.clock.advance(30_000);
  const sent = t.take('w');
  assert.ok(sent.length > 0 && sent.every((s) => s.ttl === 255), 'GTSM now');
  assert.ok(sent.every((s) => new RipView().attach(s.payload, 0, s.payload.length).authType === RipAuthType.CRYPTO), 'signed now');
  // Unsigned packets are refused now.
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.7.0.0/16', 1]]), 520, 255));
  assert.equal(drops(t)['auth-missing'], 1);
});

test('a reload that lowers a limit: what is held stays, the next new route is refused', () => {
  const t = start(config());
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.0.0/16', 1], ['10.8.0.0/16', 1]])));
  const next = config({ maxRoutesPerNeighbour: 1 });
  t.rip.reconfigure(next.rip!);
  t.inject('w', datagram('10.0.12.2', MCAST, response([['10.9.0.0/16', 1], ['10.8.0.0/16', 1], ['10.7.0.0/16', 1]])));
  assert.ok(t.ripRoute('10.9.0.0/16') && t.ripRoute('10.8.0.0/16'));
  assert.equal(t.ripRoute('10.7.0.0/16'), undefined);
  assert.deepEqual(t.events('rip.limit').map((e) => [e.limit, e.max]), [['maxRoutesPerNeighbour', 1]]);
});

test('hostile packets on authenticated ports never throw: mutated signed packets, random bytes, truncations — all dropped by reason', () => {
  let seed = 11;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  for (const type of ['password', 'md5', 'hmac-sha1', 'hmac-sha512']) {
    const p = pair({ type, keys: [key(1, 'k')] }, { type, keys: [key(1, 'k')] }, { w: { ttlSecurity: 'tx-only', neighbours: [] } });
    const sent = responses(p.r1.take('w'));
    const base = sent[0]!.payload;
    for (let i = 0; i < 3000; i++) {
      const b = i % 3 === 0 ? Uint8Array.from({ length: rnd() * 3 }, rnd) : base.slice(0, i % 3 === 1 ? base.length : rnd() % (base.length + 1));
      for (let j = 0; j < 1 + (rnd() % 4); j++) if (b.length) b[rnd() % b.length] = rnd();
      p.r2.inject('w', datagram('10.0.12.1', MCAST, b));
    }
    assert.equal(p.r2.rip.packetDrops[RIP_DROP_NAMES.indexOf('internal-error')], 0, type);
    // A password protects nothing of the content (RFC 2453 §4.1 sends it in the clear): a mutated route with the password intact gets in.
    // With a digest, only the packet as r1 signed it gets in (a mutation may write the byte that was there).
    const genuine = new Set(sent[0]!.entries.filter((e) => e.metric < 16).map((e) => `${e.prefix} ${e.metric + 1}`));
    const learned = [...p.r2.rip.table.all()].filter((r) => r.state === 'active').map((r) => `${formatAddress(r.prefix)}/${r.len} ${r.metric}`);
    if (type === 'password') assert.ok(learned.some((x) => !genuine.has(x)), 'the password let a mutated route in');
    else assert.deepEqual(learned.filter((x) => !genuine.has(x)), [], `${type}: nothing mutated got in`);
    const total = [...p.r2.rip.packetDrops].reduce((a, n) => a + n, 0);
    assert.ok(total >= (type === 'password' ? 2000 : 2900), `${type}: ${JSON.stringify(drops(p.r2))}`);
  }
});
