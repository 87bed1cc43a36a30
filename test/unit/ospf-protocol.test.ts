// OSPF on the core interface, without a Router: harness routers on one fake
// clock, joined by point-to-point links and a broadcast segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { formatAddress, parseAddress as A } from '../../src/net/addr.js';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { lsaKey } from '../../src/protocols/ospf/lsdb.js';
import { NbrState } from '../../src/protocols/ospf/neighbour.js';
import { OSPF_DISTANCE, OSPF_DROP_NAMES, OSPF_LSA_DROP_NAMES } from '../../src/protocols/ospf/ospf.js';
import { readU32, writeIpv4Header } from '../../src/wire/ipv4.js';
import {
  INITIAL_SEQUENCE, LinkType, LsaType, LsaView, MAX_AGE, RouterFlag, fillLsaChecksum, writeExternalBody, writeLsaHeader,
} from '../../src/wire/ospf-lsa.js';
import { ALL_SPF_ROUTERS, OspfType, finishPacket, writeHelloBody, writeOspfHeader } from '../../src/wire/ospf.js';
import { OspfNet, ospfConfig } from '../support/ospf-net.js';
import type { AuthKeyConfig, OspfPortConfig } from '../../src/config/router-config.js';
import { OspfAuth } from '../../src/protocols/ospf/auth.js';

/** a and b on a point-to-point link, each with a passive LAN; b redistributes its static 1.1.1.1/32. `start: false`: not started yet (to watch from the first packet). */
function pair(opts: { bfd?: boolean; start?: boolean } = {}) {
  const net = new OspfNet();
  const a = net.add('a', {
    ports: { link: '10.0.12.1/30', lan: '10.0.1.1/24' },
    ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link', bfd: opts.bfd ?? false }, { port: 'lan', passive: true }] },
  });
  const b = net.add('b', {
    ports: { link: '10.0.12.2/30', lan: '10.0.2.1/24', srv: '10.0.22.1/24' },
    ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link', bfd: opts.bfd ?? false }, { port: 'lan', passive: true }], redistribute: [{ source: 'static', metric: null, metricType: 2 }] },
    statics: [['1.1.1.1/32', 'srv', '10.0.22.2']],
  });
  net.link('ab', ['a', 'link'], ['b', 'link']);
  if (opts.start !== false) net.start();
  return { net, a, b };
}

test('two routers on a point-to-point link: Full, routes both ways into the RIB with distance 110, externals too', () => {
  const { net, a, b } = pair();
  try {
    net.clock.advance(5000);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.FULL}`]);
    assert.deepEqual(b.neighbourStates(), [`link:${NbrState.FULL}`]);
    const r = a.route('10.0.2.0/24');
    assert.ok(r, 'a learned b\'s LAN');
    assert.equal(r.distance, OSPF_DISTANCE);
    assert.equal(r.nextHop, A('10.0.12.2'));
    assert.equal(r.metric, 20);
    assert.ok(b.route('10.0.1.0/24'));
    const ext = a.route('1.1.1.1/32');
    assert.ok(ext, 'b\'s static route, as an external');
    assert.equal(ext.metric, 1);
    assert.equal(a.route('10.0.12.0/30'), undefined, 'the link itself is connected, not OSPF\'s');
    assert.equal(a.ospf.lsdb.size, b.ospf.lsdb.size);
  } finally {
    net.stop();
  }
});

test('a block: the peer hears a Hello without it and drops the adjacency at once; our LSA without the link is flooded; unblock restores', () => {
  const { net, a, b } = pair();
  try {
    net.clock.advance(5000);
    assert.ok(a.route('10.0.2.0/24'));
    b.h.block('link', b.plugins);
    net.clock.advance(2);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.INIT}`], 'a went 1-Way (Init) on b\'s last Hello');
    assert.equal(a.route('10.0.2.0/24'), undefined, 'and its routes through b are gone');
    assert.equal(b.route('10.0.1.0/24'), undefined);
    const bLsa = b.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2'))!;
    assert.equal(bLsa.length, 20 + 4 + 12, 'b\'s router LSA now has only its passive LAN');
    b.h.port('link').state = 'up';
    b.h.port('link').muted = false;
    for (const p of b.plugins) p.portUnblocked?.(b.h.port('link'));
    net.clock.advance(6000);
    assert.ok(a.route('10.0.2.0/24'), 'back after the unblock');
  } finally {
    net.stop();
  }
});

test('a lost adjacency does not wait out the SPF hold time: SPF ran 10 ms before the peer\'s last Hello, the routes still go at once', () => {
  const { net, a, b } = pair();
  try {
    net.clock.advance(5000);
    assert.ok(a.route('10.0.2.0/24'));
    a.ospf.runSpfNow('test');
    net.clock.advance(10);
    b.h.block('link', b.plugins);
    net.clock.advance(2);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.INIT}`]);
    assert.equal(a.route('10.0.2.0/24'), undefined, 'gone 2 ms after the Hello, not 40 ms later');
  } finally {
    net.stop();
  }
});

test('a drain: SPF runs again without the draining port at once (not after the hold time), though the table did not change; the adjacency stays', () => {
  // a reaches 1.1.1.1 via b (external metric 1) and via c (metric 5).
  const net = new OspfNet();
  const ext = [{ source: 'static' as const, metric: null, metricType: 2 as const }];
  const a = net.add('a', {
    ports: { ab: '10.0.12.1/30', ac: '10.0.13.1/30' },
    ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'ab' }, { port: 'ac' }] },
  });
  const b = net.add('b', { ports: { ab: '10.0.12.2/30', srv: '10.0.22.1/24' }, ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'ab' }], redistribute: ext }, statics: [['1.1.1.1/32', 'srv', '10.0.22.2']] });
  net.add('c', { ports: { ac: '10.0.13.2/30', srv: '10.0.33.1/24' }, ospf: { routerId: A('3.3.3.3'), ports: [{ port: 'ac' }], redistribute: ext }, statics: [['1.1.1.1/32', 'srv', '10.0.33.2']] });
  net.routers.get('c')!.h.rib.routes().find((r) => r.source === 'static')!.metric = 5;
  net.link('ab', ['a', 'ab'], ['b', 'ab']);
  net.link('ac', ['a', 'ac'], ['c', 'ac']);
  net.start();
  try {
    net.clock.advance(5000);
    assert.equal(a.route('1.1.1.1/32')?.nextHop, A('10.0.12.2'), 'via b first');
    a.h.drain('ab', a.plugins);
    // No time passes: a new flow arriving right after the drain starts already takes c.
    assert.equal(a.route('1.1.1.1/32')?.nextHop, A('10.0.13.2'), 'new flows via c as soon as the port drains');
    assert.deepEqual(a.neighbourStates(), [`ab:${NbrState.FULL}`, `ac:${NbrState.FULL}`], 'running flows still have b');
    assert.ok(b.route('10.0.13.0/30'), 'b still routes through a');
  } finally {
    net.stop();
  }
});

test('BFD coupling: a cut wire is found in 3 × 100 ms and the adjacency drops at once (not at the 4 s dead interval)', () => {
  const { net, a } = pair({ bfd: true });
  try {
    net.clock.advance(5000);
    assert.ok(a.route('10.0.2.0/24'));
    assert.equal(a.bfd.state(a.h.port('link'), A('10.0.12.2')), 'Up');
    net.cut('ab');
    net.clock.advance(150);
    assert.ok(a.route('10.0.2.0/24'), 'not yet');
    net.clock.advance(200);
    assert.equal(a.route('10.0.2.0/24'), undefined, 'gone with BFD, within 300 ms of the last packet heard');
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.DOWN}`], 'held Down while BFD is not Up');
    net.restore('ab');
    net.clock.advance(6000);
    assert.ok(a.route('10.0.2.0/24'), 'BFD Up again, the adjacency is back');
  } finally {
    net.stop();
  }
});

test('BFD Down holds the neighbour at Init, not Down, until BFD is Up: a peer that starts BFD only at 2-Way (as FRR does) comes back', () => {
  // b as FRR runs: its OSPF is not held by BFD, and its BFD session runs only while its neighbour is 2-Way or above.
  const net = new OspfNet();
  const a = net.add('a', {
    ports: { link: '10.0.12.1/30', lan: '10.0.1.1/24' },
    ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link', bfd: true }, { port: 'lan', passive: true }] },
  });
  const b = net.add('b', {
    ports: { link: '10.0.12.2/30', lan: '10.0.2.1/24' },
    ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link' }, { port: 'lan', passive: true }] },
    bfdSessions: [['link', '10.0.12.1']],
  });
  net.link('ab', ['a', 'link'], ['b', 'link']);
  const isBfd = (d: Uint8Array) => d[9] === 17 && ((d[22]! << 8) | d[23]!) === 3784;
  const bTwoWay = () => [...b.ospf.interfaces[0]!.neighbours.values()].some((n) => n.state >= NbrState.TWO_WAY);
  const aBfdUp = () => a.bfd.state(a.h.port('link'), A('10.0.12.2')) === 'Up';
  let outage = false;
  let afterOutage = false;
  // Seen on the wire once BFD was lost: a's Hellos listing b (2.2.2.2) while BFD is not Up; a held b beyond Init.
  let listedWhileDown = false;
  let beyondInitWhileDown = false;
  net.filter('ab', (d) => {
    if (afterOutage && !aBfdUp()) {
      const n = [...a.ospf.interfaces[0]!.neighbours.values()][0];
      if (n?.bfdHeld && n.state > NbrState.INIT) beyondInitWhileDown = true;
      // IPv4 (20) + OSPF header (24) + Hello body (20), then the neighbours; a Hello (type 1) from 1.1.1.1.
      if (d[9] === 89 && d[21] === 1 && d[24] === 1 && d[25] === 1 && d[26] === 1 && d[27] === 1 && d.length >= 68 && d[64] === 2 && d[65] === 2) listedWhileDown = true;
    }
    return isBfd(d) && (outage || !bTwoWay());
  });
  net.start();
  try {
    net.clock.advance(5000);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.FULL}`]);
    assert.ok(aBfdUp());
    assert.ok(a.route('10.0.2.0/24'));
    // BFD lost for a while (OSPF's Hellos still pass): a drops the adjacency and holds b.
    outage = afterOutage = true;
    net.clock.advance(400);
    assert.equal(a.route('10.0.2.0/24'), undefined, 'gone with BFD');
    assert.ok(!aBfdUp());
    outage = false;
    net.clock.advance(8000);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.FULL}`], 'b reached 2-Way, its BFD came Up, the adjacency is back');
    assert.ok(aBfdUp());
    assert.ok(a.route('10.0.2.0/24'));
    assert.ok(listedWhileDown, 'a listed b in its Hellos while BFD was Down (b could reach 2-Way and start BFD)');
    assert.ok(!beyondInitWhileDown, 'a took b no further than Init while BFD was Down');
    assert.ok(a.ospf.packetDrops[OSPF_DROP_NAMES.indexOf('bfd-down')]! > 0, 'b\'s Hellos while held are counted');
  } finally {
    net.stop();
  }
});

test('a held neighbour\'s DD counts when BFD comes Up: the peer (master) blocked and unblocked its port, Full again without waiting for its DD to be sent again (5 s)', () => {
  // a (1.1.1.1) is the slave of the exchange, b (2.2.2.2) the master; BFD on both.
  const { net, a, b } = pair({ bfd: true });
  try {
    net.clock.advance(5000);
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.FULL}`]);
    b.h.block('link', b.plugins);
    net.clock.advance(700);
    assert.notEqual(a.bfd.state(a.h.port('link'), A('10.0.12.2')), 'Up');
    assert.equal(a.route('10.0.2.0/24'), undefined);
    const port = b.h.port('link');
    port.state = 'up';
    port.muted = false;
    for (const p of b.plugins) p.portUnblocked?.(port);
    // b hears a (a Hello a second), goes to ExStart and sends its DD while a still waits for BFD; BFD's
    // handshake takes up to a slow (1 s) interval. Then a takes b's DD and the exchange runs.
    const start = net.clock.now();
    while (a.neighbourStates()[0] !== `link:${NbrState.FULL}` && net.clock.now() - start < 6000) net.clock.advance(50);
    const took = net.clock.now() - start;
    assert.deepEqual(a.neighbourStates(), [`link:${NbrState.FULL}`]);
    assert.ok(took < 4000, `Full again ${took} ms after the unblock`);
    // The routes follow with b's new router LSA (its MinLSInterval for a new adjacency: 1.1 s).
    net.clock.advance(1500);
    assert.ok(a.route('10.0.2.0/24'));
  } finally {
    net.stop();
  }
});

test('a broadcast segment of three: DR and BDR by priority then router id, a network LSA, routes through the DR\'s network', () => {
  const net = new OspfNet();
  const mk = (name: string, rid: string, addr: string, lan: string, priority: number) => net.add(name, {
    ports: { seg: addr, lan },
    ospf: { routerId: A(rid), ports: [{ port: 'seg', network: 'broadcast', priority }, { port: 'lan', passive: true }] },
  });
  const x = mk('x', '1.1.1.1', '10.0.0.1/24', '10.1.1.1/24', 1);
  const y = mk('y', '2.2.2.2', '10.0.0.2/24', '10.1.2.1/24', 1);
  const z = mk('z', '3.3.3.3', '10.0.0.3/24', '10.1.3.1/24', 0);
  net.link('seg', ['x', 'seg'], ['y', 'seg'], ['z', 'seg']);
  net.start();
  try {
    net.clock.advance(12_000);
    for (const r of [x, y, z]) {
      const i = r.ospf.interfaces[0]!;
      assert.equal(i.dr, A('10.0.0.2'), `${r.name}: DR is y (highest router id among priority > 0)`);
      assert.equal(i.bdr, A('10.0.0.1'), `${r.name}: BDR is x`);
    }
    // z (priority 0, DROther) is adjacent to the DR and BDR only.
    assert.deepEqual(z.neighbourStates().sort(), [`seg:${NbrState.FULL}`, `seg:${NbrState.FULL}`]);
    const net2 = x.ospf.lsdb.find(2, A('10.0.0.2'), A('2.2.2.2'));
    assert.ok(net2, 'the DR\'s network LSA');
    const r = x.route('10.1.3.0/24');
    assert.ok(r, 'x reaches z\'s LAN');
    assert.deepEqual([r.nextHop, r.metric], [A('10.0.0.3'), 20]);
    assert.equal(x.route('10.0.0.0/24'), undefined, 'the segment is connected');
    // The DR goes: the BDR takes over, z follows.
    y.h.block('seg', y.plugins);
    net.clock.advance(6000);
    assert.equal(x.ospf.interfaces[0]!.dr, A('10.0.0.1'));
    assert.ok(x.route('10.1.3.0/24'));
    assert.equal(x.route('10.1.2.0/24'), undefined);
  } finally {
    net.stop();
  }
});

test('authentication: password, MD5 and HMAC-SHA-256 keys that match make Full; a wrong key is refused and counted', async (t) => {
  for (const type of ['password', 'md5', 'hmac-sha256'] as const) {
    await t.test(type, () => {
      const net = new OspfNet();
      const auth = (secret: string) => ({ type, keys: [key(7, secret)] });
      const a = net.add('a', { ports: { link: '10.0.12.1/30' }, ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link', auth: auth('secret') }] } });
      net.add('b', { ports: { link: '10.0.12.2/30' }, ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link', auth: auth('secret') }] } });
      net.add('c', { ports: { link: '10.0.12.3/29' }, ospf: { routerId: A('3.3.3.3'), ports: [{ port: 'link', auth: auth('wrong') }] } });
      net.link('abc', ['a', 'link'], ['b', 'link'], ['c', 'link']);
      net.start();
      try {
        net.clock.advance(5000);
        assert.equal(a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))?.state, NbrState.FULL);
        assert.equal(a.ospf.interfaces[0]!.byRouterId(A('3.3.3.3')), undefined, 'c is never a neighbour');
        const why = type === 'password' ? 'bad-password' : 'bad-digest';
        assert.ok(a.ospf.packetDrops[ospfDropIndex(why)]! >= 4, `${why} counted`);
        assert.deepEqual(Object.keys(authDrops(a)), [why], 'nothing else refused');
      } finally {
        net.stop();
      }
    });
  }
});

/** A key of a chain: times are the fake clock's milliseconds (null: no bound). */
function key(id: number, secret: string, times: Partial<Record<'from' | 'until' | 'acceptFrom' | 'acceptUntil', number>> = {}): AuthKeyConfig {
  return { id, secret, from: null, until: null, acceptFrom: null, acceptUntil: null, ...times };
}

/** Two routers on a link with these port auths; returns them and a probe that the adjacency is Full both ways and has not moved since. */
function authPair(authA: OspfPortConfig['auth'], authB: OspfPortConfig['auth']) {
  const net = new OspfNet();
  const a = net.add('a', { ports: { link: '10.0.12.1/30', lan: '10.0.1.1/24' }, ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link', auth: authA }, { port: 'lan', passive: true }] } });
  const b = net.add('b', { ports: { link: '10.0.12.2/30', lan: '10.0.2.1/24' }, ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link', auth: authB }, { port: 'lan', passive: true }] } });
  net.link('ab', ['a', 'link'], ['b', 'link']);
  net.start();
  const nbr = (r: typeof a, rid: string) => r.ospf.interfaces[0]!.byRouterId(A(rid));
  return { net, a, b, ab: () => nbr(a, '2.2.2.2'), ba: () => nbr(b, '1.1.1.1') };
}

const authDrops = (r: { ospf: { packetDrops: Float64Array } }) => Object.fromEntries([...r.ospf.packetDrops].flatMap((n, i) => (n > 0 ? [[OSPF_DROP_NAMES[i]!, n]] : [])));

test('key roll-over: two routers switch from key 1 to key 2 (at different times) and the adjacency stays Full throughout; key 1 is refused afterwards', () => {
  const t0 = new OspfNet().clock.now();
  const switchA = t0 + 20_000, switchB = t0 + 23_000, oldGone = t0 + 30_000;
  // Each accepts key 2 from the start and key 1 until oldGone; a sends key 2 from switchA, b from switchB (as if configured apart).
  const chain = (sw: number) => ({
    type: 'hmac-sha256' as const,
    keys: [key(1, 'old-secret', { until: sw, acceptUntil: oldGone }), key(2, 'new-secret', { from: sw, acceptFrom: t0 })],
  });
  const { net, a, b, ab, ba } = authPair(chain(switchA), chain(switchB));
  try {
    net.clock.advance(5000);
    const na = ab()!, nb = ba()!;
    assert.deepEqual([na.state, nb.state], [NbrState.FULL, NbrState.FULL]);
    assert.ok(a.route('10.0.2.0/24'));
    const changes = [na.adjacencyChanges, nb.adjacencyChanges];
    const keyFrom = (r: typeof a, rid: string) => r.ospf.interfaces[0]!.cryptoKeys.get(A(rid));
    assert.deepEqual([keyFrom(a, '2.2.2.2'), keyFrom(b, '1.1.1.1')], [1, 1]);
    // Step through the roll-over; at every step both are Full, the same neighbour objects, no state change since.
    const seen: string[] = [];
    while (net.clock.now() < oldGone + 10_000) {
      net.clock.advance(250);
      assert.ok(ab() === na && ba() === nb, 'the neighbours were never dropped');
      assert.deepEqual([na.state, nb.state, na.adjacencyChanges, nb.adjacencyChanges], [NbrState.FULL, NbrState.FULL, ...changes], `at +${net.clock.now() - t0} ms`);
      const keys = `${keyFrom(b, '1.1.1.1')}/${keyFrom(a, '2.2.2.2')}`;
      if (seen.at(-1) !== keys) seen.push(keys);
    }
    // Key ids heard (a's at b / b's at a): both on 1, a moved first, then b.
    assert.deepEqual(seen, ['1/1', '2/1', '2/2']);
    assert.deepEqual(authDrops(a), {});
    assert.deepEqual(authDrops(b), {});
    assert.ok(a.route('10.0.2.0/24') && b.route('10.0.1.0/24'));
    // Key 1 is past its accept window now: a packet signed with it is refused as an unknown key.
    const old = new OspfAuth({ type: 'hmac-sha256', keys: [key(1, 'old-secret')] });
    const bytes = new Uint8Array(200);
    const hello = { mask: 0xfffffffc, helloInterval: 1, options: 2, priority: 1, deadInterval: 4, dr: 0, bdr: 0 };
    const len = writeOspfHeader(bytes, 20, 1, A('2.2.2.2'), 0) + writeHelloBody(bytes, 20, hello, [A('1.1.1.1')]);
    const total = old.sign(bytes, 20, len, net.clock.now());
    writeIpv4Header(bytes, 0, 20 + total, 89, A('10.0.12.2'), ALL_SPF_ROUTERS, 1);
    a.h.deliver('link', bytes.subarray(0, 20 + total));
    assert.deepEqual(authDrops(a), { 'unknown-key-id': 1 });
  } finally {
    net.stop();
  }
});

test('a key outside its accept window is refused: before it no adjacency, inside it Full, after it refused again and the adjacency dies', () => {
  const t0 = new OspfNet().clock.now();
  const opens = t0 + 20_000, closes = t0 + 40_000;
  // a sends key 6 and accepts key 5 only in [opens, closes); b sends key 5 (the last of equals) and accepts both.
  const { net, a, ab } = authPair(
    { type: 'md5', keys: [key(6, 'a-secret'), key(5, 'b-secret', { from: 0, until: 1, acceptFrom: opens, acceptUntil: closes })] },
    { type: 'md5', keys: [key(6, 'a-secret'), key(5, 'b-secret')] },
  );
  try {
    const unknown = () => a.ospf.packetDrops[ospfDropIndex('unknown-key-id')]!;
    net.clock.advance(15_000);
    assert.equal(ab(), undefined, 'b\'s packets are refused before key 5 may be accepted');
    assert.ok(unknown() >= 14, `unknown-key-id counted (${unknown()})`);
    net.clock.advance(opens - net.clock.now() + 5000);
    assert.equal(ab()?.state, NbrState.FULL, 'Full once key 5 is accepted');
    assert.ok(a.route('10.0.2.0/24'));
    const before = unknown();
    net.clock.advance(closes - net.clock.now() + 3000);
    assert.equal(ab()?.state, NbrState.FULL, 'still Full within the dead interval');
    net.clock.advance(2000);
    assert.ok(!ab() || ab()!.state < NbrState.TWO_WAY, 'the dead interval passed: b is gone');
    assert.equal(a.route('10.0.2.0/24'), undefined);
    assert.ok(unknown() >= before + 4, 'b\'s packets refused again');
    assert.deepEqual(Object.keys(authDrops(a)), ['unknown-key-id'], 'nothing else refused');
  } finally {
    net.stop();
  }
});

test('no key valid for sending: nothing is sent, counted; the neighbour loses us', () => {
  const t0 = new OspfNet().clock.now();
  const { net, a, b, ba } = authPair(
    { type: 'hmac-sha1', keys: [key(1, 's', { until: t0 + 10_000, acceptUntil: t0 + 100_000 })] },
    { type: 'hmac-sha1', keys: [key(1, 's')] },
  );
  try {
    net.clock.advance(5000);
    assert.equal(ba()?.state, NbrState.FULL);
    const sent = a.ospf.counters.sent.hello!;
    net.clock.advance(10_000);
    assert.ok(a.ospf.counters.sendsWithoutKey >= 5, `sendsWithoutKey ${a.ospf.counters.sendsWithoutKey}`);
    assert.ok(a.ospf.counters.sent.hello! - sent <= 5, 'no Hello counted as sent after the key expired');
    assert.ok(!ba() || ba()!.state < NbrState.TWO_WAY, 'b lost a');
    assert.equal(b.route('10.0.1.0/24'), undefined);
  } finally {
    net.stop();
  }
});

test('reload: keys added, re-timed or removed in place keep the adjacency; a type change restarts it', () => {
  const t0 = new OspfNet().clock.now();
  const one = { type: 'hmac-sha256' as const, keys: [key(1, 'old-secret')] };
  const { net, a, b, ab, ba } = authPair(one, one);
  const reload = (r: typeof a, auth: OspfPortConfig['auth']) => r.ospf.reconfigure(ospfConfig({ ...r.spec.ospf, ports: [{ port: 'link', auth }, { port: 'lan', passive: true }] }));
  try {
    net.clock.advance(5000);
    const na = ab()!, nb = ba()!;
    assert.deepEqual([na.state, nb.state], [NbrState.FULL, NbrState.FULL]);
    const changes = [na.adjacencyChanges, nb.adjacencyChanges];
    const stillFull = (when: string) => {
      assert.ok(ab() === na && ba() === nb, `${when}: the same neighbours`);
      assert.deepEqual([na.state, nb.state, na.adjacencyChanges, nb.adjacencyChanges], [NbrState.FULL, NbrState.FULL, ...changes], when);
    };
    // Key 2 added on a (sent from switchAt); b learns it 3 s later — both accept it before either sends it.
    const switchAt = t0 + 20_000;
    const two = { type: 'hmac-sha256' as const, keys: [key(1, 'old-secret', { until: switchAt, acceptUntil: switchAt + 10_000 }), key(2, 'new-secret', { from: switchAt, acceptFrom: t0 })] };
    reload(a, two);
    net.clock.advance(3000);
    stillFull('key 2 added on a');
    reload(b, two);
    net.clock.advance(switchAt + 15_000 - net.clock.now());
    stillFull('after the switch');
    assert.equal(a.ospf.interfaces[0]!.cryptoKeys.get(A('2.2.2.2')), 2);
    // Key 1 removed for good.
    reload(a, { type: 'hmac-sha256', keys: [key(2, 'new-secret')] });
    reload(b, { type: 'hmac-sha256', keys: [key(2, 'new-secret')] });
    net.clock.advance(10_000);
    stillFull('key 1 removed');
    assert.deepEqual(authDrops(a), {});
    assert.deepEqual(authDrops(b), {});
    // The sequence numbers sent went on across the reloads (never back).
    assert.ok(b.ospf.interfaces[0]!.cryptoSequences.get(A('1.1.1.1'))! >= Math.floor(t0 / 1000));
    // Another type is a flag day: the interface restarts at once.
    reload(a, { type: 'md5', keys: [key(2, 'new-secret')] });
    assert.notEqual(ab()?.state, NbrState.FULL);
  } finally {
    net.stop();
  }
});

test('restart: the new instance finds its old LSAs at the neighbour and outdoes them (§13.4)', () => {
  const { net, a, b } = pair();
  try {
    net.clock.advance(5000);
    const before = a.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2'))!.seq;
    b.stop();
    b.start();
    net.clock.advance(8000);
    const after = a.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2'))!;
    assert.ok(after.seq > before, `b's router LSA at a: ${after.seq} > ${before}`);
    assert.ok(a.route('10.0.2.0/24'));
    assert.ok(b.route('10.0.1.0/24'));
    assert.equal(b.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2'))!.seq, after.seq);
  } finally {
    net.stop();
  }
});

test('hostile input is dropped and counted: malformed, wrong area, bad checksum, bad LSAs, an LSA storm, more LSAs than the limit', () => {
  const net = new OspfNet();
  const a = net.add('a', { ports: { link: '10.0.12.1/30' }, ospf: { routerId: A('1.1.1.1'), lsdbLimit: 10, ports: [{ port: 'link' }] } });
  const statics: [string, string, string][] = Array.from({ length: 30 }, (_, i) => [`172.16.${i}.0/24`, 'srv', '10.0.22.2']);
  const b = net.add('b', {
    ports: { link: '10.0.12.2/30', srv: '10.0.22.1/24' },
    ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link' }], redistribute: [{ source: 'static', metric: null, metricType: 2 }] }, statics,
  });
  net.link('ab', ['a', 'link'], ['b', 'link']);
  net.start();
  try {
    net.clock.advance(8000);
    assert.ok(a.ospf.lsdb.size <= 10, `a's database holds ${a.ospf.lsdb.size} LSAs (limit 10)`);
    assert.ok(a.ospf.lsaDrops[lsaDropIndex('lsdb-full')]! > 0, 'the rest dropped and counted');
    assert.ok(b.ospf.lsdb.size >= 31, 'b holds its own externals all the same');
    const ospfPacket = (type: number, body: Uint8Array, opts: { area?: number; corrupt?: boolean } = {}) => {
      const d = new Uint8Array(20 + 24 + body.length);
      writeIpv4Header(d, 0, d.length, 89, A('10.0.12.2'), ALL_SPF_ROUTERS, 1, 0xc0);
      writeOspfHeader(d, 20, type, A('2.2.2.2'), opts.area ?? 0);
      d.set(body, 44);
      finishPacket(d, 20, 24 + body.length, 0);
      if (opts.corrupt) d[d.length - 1]! ^= 0xff;
      return d;
    };
    const dropped = (name: string) => a.ospf.packetDrops[ospfDropIndex(name)]!;
    a.h.deliver('link', ospfPacket(1, new Uint8Array(20), { area: 1 }));
    assert.equal(dropped('wrong-area'), 1);
    a.h.deliver('link', ospfPacket(1, new Uint8Array(20), { corrupt: true }));
    assert.equal(dropped('bad-checksum'), 1);
    a.h.deliver('link', ospfPacket(1, new Uint8Array(18)));
    assert.equal(dropped('bad-length'), 1);
    const truncated = ospfPacket(4, new Uint8Array(4));
    truncated[20 + 3] = 200; // claims more than there is
    a.h.deliver('link', truncated);
    assert.ok(dropped('bad-length') >= 2);
    // An update whose LSA has a bad Fletcher checksum, and one that claims 5 LSAs but carries 1 truncated one.
    const lsa = new Uint8Array(36);
    writeLsaHeader(lsa, 0, 1, 0x02, 5, A('192.0.2.0'), A('2.2.2.2'), INITIAL_SEQUENCE, 36);
    writeExternalBody(lsa, 0, A('255.255.255.0'), true, 1, 0, 0);
    fillLsaChecksum(lsa, 0, 36);
    lsa[30]! ^= 1;
    const lsu = new Uint8Array(4 + 36);
    lsu[3] = 1;
    lsu.set(lsa, 4);
    a.h.deliver('link', ospfPacket(4, lsu));
    assert.equal(a.ospf.lsaDrops[lsaDropIndex('lsa-bad-checksum')], 1);
    lsu[3] = 5;
    lsu[4 + 19] = 200;
    a.h.deliver('link', ospfPacket(4, lsu));
    assert.equal(a.ospf.lsaDrops[lsaDropIndex('lsa-truncated')], 1);
    // A storm: the same LSA again and again, newer each time — one taken per MinLSArrival.
    const storm = b.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2'))!;
    const before = a.ospf.lsaDrops[lsaDropIndex('min-ls-arrival')]!;
    for (let i = 1; i <= 50; i++) {
      const x = storm.bytes.slice();
      const seq = storm.seq + i;
      x.set([seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff], 12);
      fillLsaChecksum(x, 0, x.length);
      const u = new Uint8Array(4 + x.length);
      u[3] = 1;
      u.set(x, 4);
      a.h.deliver('link', ospfPacket(4, u));
    }
    assert.ok(a.ospf.lsaDrops[lsaDropIndex('min-ls-arrival')]! - before >= 49, 'at most one of the storm taken');
    // The adjacency stands (Loading: what did not fit the database is still wanted), not reset by any of it.
    assert.ok(a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))!.state >= NbrState.LOADING);
    assert.equal(a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))!.adjacencyChanges, 4, 'Init, ExStart, Exchange, Loading: never back');
  } finally {
    net.stop();
  }
});

function ospfDropIndex(name: string): number {
  const i = OSPF_DROP_NAMES.indexOf(name);
  assert.ok(i >= 0, name);
  return i;
}

function lsaDropIndex(name: string): number {
  const i = OSPF_LSA_DROP_NAMES.indexOf(name);
  assert.ok(i >= 0, name);
  return i;
}

test('aging: our LSAs are refreshed every 30 minutes; a router that vanished has its LSAs age out at MaxAge and removed', () => {
  const net = new OspfNet();
  const a = net.add('a', { ports: { ab: '10.0.12.1/30', ac: '10.0.13.1/30' }, ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'ab' }, { port: 'ac' }] } });
  net.add('b', { ports: { ab: '10.0.12.2/30', lan: '10.0.2.1/24' }, ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'ab' }, { port: 'lan', passive: true }] } });
  const c = net.add('c', { ports: { ac: '10.0.13.2/30' }, ospf: { routerId: A('3.3.3.3'), ports: [{ port: 'ac' }] } });
  net.link('ab', ['a', 'ab'], ['b', 'ab']);
  net.link('ac', ['a', 'ac'], ['c', 'ac']);
  net.start();
  try {
    net.clock.advance(6000);
    assert.ok(c.route('10.0.2.0/24'), 'c reaches b\'s LAN through a');
    const seq = a.ospf.lsdb.find(1, A('1.1.1.1'), A('1.1.1.1'))!.seq;
    net.clock.advance(31 * 60_000);
    assert.ok(a.ospf.lsdb.find(1, A('1.1.1.1'), A('1.1.1.1'))!.seq > seq, 'refreshed');
    assert.ok(c.route('10.0.2.0/24'), 'still reachable after the refreshes');
    // b goes without a word (its link cut and its plugins stopped): a drops it at the dead interval;
    // c keeps b's LSAs (unreachable) until they reach MaxAge, then they are gone everywhere.
    net.cut('ab');
    net.routers.get('b')!.stop();
    net.clock.advance(5000);
    assert.equal(c.route('10.0.2.0/24'), undefined);
    assert.ok(c.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2')), 'b\'s LSA is still held');
    net.clock.advance(61 * 60_000);
    assert.equal(c.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2')), undefined, 'aged out and removed');
    assert.equal(a.ospf.lsdb.find(1, A('2.2.2.2'), A('2.2.2.2')), undefined);
    assert.equal(c.neighbourStates()[0], `ac:${NbrState.FULL}`, 'the rest stays up');
  } finally {
    for (const r of net.routers.values()) if (r.ospf.running) r.stop();
  }
});

test('reconfigure: a cost change reaches the neighbour\'s routes; a port that leaves OSPF takes its adjacency and routes along', () => {
  const { net, a, b } = pair();
  try {
    net.clock.advance(5000);
    assert.equal(b.route('10.0.1.0/24')?.metric, 20);
    const next = ospfConfig({ routerId: A('1.1.1.1'), ports: [{ port: 'link', cost: 30 }, { port: 'lan', passive: true, cost: 5 }] });
    a.ospf.reconfigure(next);
    net.clock.advance(3000);
    assert.equal(b.route('10.0.1.0/24')?.metric, 10 + 5, 'b\'s own link cost (10) and a\'s LAN cost (5)');
    assert.equal(a.route('10.0.2.0/24')?.metric, 30 + 10, 'a\'s link cost (30) and b\'s LAN cost (10)');
    a.ospf.reconfigure(ospfConfig({ routerId: A('1.1.1.1'), ports: [{ port: 'lan', passive: true }] }));
    net.clock.advance(10);
    assert.deepEqual(b.neighbourStates(), [`link:${NbrState.INIT}`], 'a said its last Hello');
    assert.equal(a.route('10.0.2.0/24'), undefined);
    net.clock.advance(5000);
    assert.equal(b.route('10.0.1.0/24'), undefined);
  } finally {
    net.stop();
  }
});

// ---- retransmission, redistribution, passive ports, flushing, logs ----

interface LsaSeen { key: string; seq: number; age: number; at: number }

/** The LSAs a Link State Update datagram (IPv4 + OSPF, no auth trailer) carries; [] for any other packet. */
function lsasIn(d: Uint8Array, at: number): LsaSeen[] {
  if (d[9] !== 89 || d[21] !== OspfType.LSU) return [];
  const v = new LsaView();
  const out: LsaSeen[] = [];
  let off = 20 + 24 + 4;
  for (let i = 0; i < readU32(d, 20 + 24); i++) {
    v.attach(d, off, d.length - off);
    out.push({ key: lsaKey(v.type, v.id, v.advRouter), seq: v.sequence, age: v.age, at });
    off += v.length;
  }
  return out;
}

/** Watch the `ab` link of pair(): what b sends (LSAs) and, while `loseAcks` is set, drop every LSAck a sends (one way only). */
function watchLink(net: OspfNet) {
  const w = { fromB: [] as LsaSeen[], loseAcks: false, acksLost: 0 };
  net.filter('ab', (d) => {
    const src = readU32(d, 12);
    if (src === A('10.0.12.2')) w.fromB.push(...lsasIn(d, net.clock.now()));
    if (w.loseAcks && src === A('10.0.12.1') && d[9] === 89 && d[21] === OspfType.LSACK) {
      w.acksLost++;
      return true;
    }
    return false;
  });
  return w;
}

test('retransmission: an LSA whose acknowledgments are lost goes out again every RxmtInterval (5 s); once one arrives the list empties and it stops', () => {
  const { net, a, b } = pair();
  const w = watchLink(net);
  try {
    net.clock.advance(5000);
    assert.deepEqual([a.neighbourStates(), b.neighbourStates()], [[`link:${NbrState.FULL}`], [`link:${NbrState.FULL}`]]);
    w.loseAcks = true;
    // A new static route at b: a new AS-external LSA, flooded to a.
    b.h.rib.add({ prefix: A('192.0.2.0'), len: 24, port: b.h.port('srv').index, nextHop: A('10.0.22.2'), metric: 3, source: 'static', distance: 1 });
    net.clock.advance(1000);
    const key = lsaKey(LsaType.AS_EXTERNAL, A('192.0.2.0'), A('2.2.2.2'));
    const lsa = b.ospf.lsdb.get(key)!;
    assert.ok(lsa, 'b originated it');
    assert.equal(a.ospf.lsdb.get(key)?.seq, lsa.seq, 'a took it the first time');
    assert.ok(w.acksLost >= 1, 'a acknowledged it (and the ack was lost)');
    const toA = b.ospf.interfaces[0]!.byRouterId(A('1.1.1.1'))!;
    const fromB = a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))!;
    assert.equal(toA.retransmit.get(key), lsa, 'unacknowledged: on b\'s retransmission list for a');
    const sent = () => w.fromB.filter((x) => x.key === key && x.seq === lsa.seq).length;
    assert.equal(sent(), 1);
    assert.equal(b.ospf.counters.lsasRetransmitted, 0);
    const received = fromB.lsasReceived;
    net.clock.advance(5000);
    assert.equal(sent(), 2, 'sent again after the retransmission interval');
    assert.equal(toA.lsasRetransmitted, 1);
    assert.equal(b.ospf.counters.lsasRetransmitted, 1);
    assert.equal(fromB.lsasReceived, received + 1, 'a received it again');
    net.clock.advance(5000);
    assert.equal(sent(), 3, 'and again, one interval later');
    assert.equal(b.ospf.counters.lsasRetransmitted, 2);
    assert.equal(toA.retransmit.get(key), lsa, 'still waiting');
    assert.deepEqual([toA.state, fromB.state], [NbrState.FULL, NbrState.FULL], 'lost acks do not touch the adjacency');
    // The acks get through again: the next retransmission is acknowledged (a duplicate at a: a direct ack) and the list empties.
    w.loseAcks = false;
    const lost = w.acksLost;
    net.clock.advance(5000);
    assert.equal(sent(), 4);
    assert.equal(toA.retransmit.size, 0, 'b\'s retransmission list for a is empty');
    const retransmitted = b.ospf.counters.lsasRetransmitted;
    net.clock.advance(30_000);
    assert.equal(b.ospf.counters.lsasRetransmitted, retransmitted, 'no retransmission since');
    assert.equal(sent(), 4, 'nothing more of it on the wire');
    assert.equal(w.acksLost, lost);
    assert.equal(a.route('192.0.2.0/24')?.metric, 3, 'and a routes by it (type 2: the static route\'s own metric)');
  } finally {
    net.stop();
  }
});

/** b as a config file would have it (parsed by the config checker): OSPF on `link`, a passive `lan`, `srv` outside OSPF. */
function parsedOspf(redistribute: unknown[]) {
  return parseRouterConfig({
    router: 'b',
    ports: [
      { name: 'link', device: 'b-link', address: '10.0.12.2/30' },
      { name: 'lan', device: 'b-lan', address: '10.0.2.1/24' },
      { name: 'srv', device: 'b-srv', address: '10.0.22.1/24' },
    ],
    ospf: { routerId: '2.2.2.2', ports: [{ port: 'link', helloInterval: 1 }, { port: 'lan', passive: true }], redistribute },
  }).ospf!;
}

test('redistributing connected routes ("redistribute": [{ "source": "connected", "metric": 7, "metricType": 1 }]): one type-5 LSA for the prefix outside OSPF; the peer installs it as external', () => {
  const cfg = parsedOspf([{ source: 'connected', metric: 7, metricType: 1 }]);
  assert.deepEqual(cfg.redistribute, [{ source: 'connected', metric: 7, metricType: 1 }]);
  const net = new OspfNet();
  const a = net.add('a', { ports: { link: '10.0.12.1/30', lan: '10.0.1.1/24' }, ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link' }, { port: 'lan', passive: true }] } });
  const b = net.add('b', { ports: { link: '10.0.12.2/30', lan: '10.0.2.1/24', srv: '10.0.22.1/24' }, ospf: cfg });
  net.link('ab', ['a', 'link'], ['b', 'link']);
  net.start();
  const externals = (r: typeof a) => [...r.ospf.lsdb.all()].filter((e) => e.type === LsaType.AS_EXTERNAL && !e.maxAged).map((e) => formatAddress(e.id));
  const external = () => [...a.ospf.spf.routes.values()].find((r) => r.prefix === A('10.0.22.0') && r.len === 24);
  try {
    net.clock.advance(5000);
    // Only srv's prefix: the link and the passive LAN are OSPF's own (in the router LSA), not externals.
    assert.deepEqual(externals(b), ['10.0.22.0']);
    assert.deepEqual(externals(a), ['10.0.22.0'], 'flooded to a');
    const v = a.ospf.lsdb.find(LsaType.AS_EXTERNAL, A('10.0.22.0'), A('2.2.2.2'))!.view(new LsaView());
    assert.deepEqual([v.mask, v.metric, v.externalType2, v.forwardingAddress], [A('255.255.255.0'), 7, false, 0]);
    assert.ok(b.ospf.lsdb.find(LsaType.ROUTER, A('2.2.2.2'), A('2.2.2.2'))!.view(new LsaView()).routerFlags & RouterFlag.E, 'b says it is an AS boundary router');
    const r = a.route('10.0.22.0/24');
    assert.ok(r, 'a installed the external route');
    assert.deepEqual([r.nextHop, r.metric, r.distance], [A('10.0.12.2'), 10 + 7, OSPF_DISTANCE], 'type 1: the link cost (10) plus the external metric (7)');
    assert.equal(external()?.type, 'external-1');
    assert.equal(a.route('10.0.2.0/24')?.metric, 20, 'b\'s passive LAN stays an intra-area route');
    // The shorthand "connected": metric 1, type 2 (the internal cost not added), by reload.
    b.ospf.reconfigure(parsedOspf(['connected']));
    net.clock.advance(3000);
    assert.deepEqual([a.route('10.0.22.0/24')?.metric, external()?.type], [1, 'external-2']);
    assert.deepEqual(externals(a), ['10.0.22.0']);
  } finally {
    net.stop();
  }
});

test('a passive port: nothing goes out of it (no Hello), OSPF packets arriving there are refused, and its network is a stub link of the router LSA', () => {
  const { net, a, b } = pair({ start: false });
  const out = new Map<string, number>();
  const wire = a.h.wire;
  a.h.wire = (port, d) => {
    out.set(port.name, (out.get(port.name) ?? 0) + 1);
    wire(port, d);
  };
  net.start();
  try {
    net.clock.advance(10_000);
    assert.equal(out.get('lan'), undefined, 'nothing sent on the passive LAN');
    assert.ok(out.get('link')! >= 10, `Hellos and the rest on the link (${out.get('link')})`);
    const lan = a.ospf.interfaces.find((i) => i.port.name === 'lan')!;
    assert.equal(lan.helloesSent, 0);
    // A would-be neighbour's Hello on the LAN is refused (counted), and no neighbour comes of it.
    const d = new Uint8Array(20 + 24 + 20);
    const hello = { mask: A('255.255.255.0'), helloInterval: 1, options: 2, priority: 1, deadInterval: 4, dr: 0, bdr: 0 };
    const len = writeOspfHeader(d, 20, OspfType.HELLO, A('9.9.9.9'), 0) + writeHelloBody(d, 20, hello, []);
    finishPacket(d, 20, len, 0);
    writeIpv4Header(d, 0, 20 + len, 89, A('10.0.1.2'), ALL_SPF_ROUTERS, 1);
    assert.ok(a.h.deliver('lan', d) >= 0, 'dropped');
    assert.equal(a.ospf.packetDrops[ospfDropIndex('port-inactive')], 1);
    assert.equal(lan.neighbours.size, 0);
    net.clock.advance(1000);
    assert.equal(out.get('lan'), undefined, 'and still nothing sent there');
    // a's router LSA, as b holds it: the link (point-to-point to b and its stub) and the LAN as a stub network at its cost.
    const v = b.ospf.lsdb.find(LsaType.ROUTER, A('1.1.1.1'), A('1.1.1.1'))!.view(new LsaView());
    const links: string[] = [];
    for (let i = 0, at = v.firstLink; i < v.linkCount; i++, at = v.nextLink(at)) {
      links.push(`${v.linkType(at)} ${formatAddress(v.linkId(at))} ${formatAddress(v.linkData(at))} ${v.linkMetric(at)}`);
    }
    assert.deepEqual(links, [
      `${LinkType.POINT_TO_POINT} 2.2.2.2 10.0.12.1 10`,
      `${LinkType.STUB} 10.0.12.0 255.255.255.252 10`,
      `${LinkType.STUB} 10.0.1.0 255.255.255.0 10`,
    ]);
    assert.equal(b.route('10.0.1.0/24')?.metric, 20, 'b reaches the LAN through it');
  } finally {
    net.stop();
  }
});

test('a withdrawn redistributed route: its AS-external LSA is flushed (sent at MaxAge), the peer drops the route, and both databases let it go', () => {
  const { net, a, b } = pair();
  const w = watchLink(net);
  const key = lsaKey(LsaType.AS_EXTERNAL, A('1.1.1.1'), A('2.2.2.2'));
  try {
    net.clock.advance(5000);
    const seq = b.ospf.lsdb.get(key)!.seq;
    assert.equal(a.ospf.lsdb.get(key)?.seq, seq);
    assert.ok(a.route('1.1.1.1/32'));
    const flushed = b.ospf.counters.lsasFlushed;
    const t = net.clock.now();
    b.h.rib.remove(b.h.rib.routes().find((r) => r.source === 'static')!.id, 'test');
    net.clock.advance(100);
    assert.equal(b.ospf.counters.lsasFlushed, flushed + 1);
    const sentSince = w.fromB.filter((x) => x.key === key && x.at >= t);
    assert.deepEqual(sentSince.map((x) => [x.seq, x.age]), [[seq, MAX_AGE]], 'the same instance, at MaxAge');
    assert.equal(a.route('1.1.1.1/32'), undefined, 'a dropped the route at once');
    assert.ok(a.ospf.lsdb.get(key)?.maxAged, 'a holds it at MaxAge (until it is out of every list)');
    net.clock.advance(3000);
    assert.equal(a.ospf.lsdb.get(key), undefined, 'gone from a\'s database');
    assert.equal(b.ospf.lsdb.get(key), undefined, 'and from b\'s, once a acknowledged');
    assert.equal(b.ospf.interfaces[0]!.byRouterId(A('1.1.1.1'))!.retransmit.size, 0);
    net.clock.advance(10_000);
    assert.equal(w.fromB.filter((x) => x.key === key && x.at >= t).length, 1, 'flushed once, never re-originated');
    assert.ok(a.route('10.0.2.0/24'), 'the rest stays');
  } finally {
    net.stop();
  }
});

test('logs: each SPF run is an ospf.spf event with its cause and a numeric durationMs; each neighbour state change is an ospf.neighbour event', () => {
  const { net, a, b } = pair({ start: false });
  const events: Record<string, unknown>[] = [];
  a.h.log = pino({ level: 'info' }, { write: (line: string) => void events.push(JSON.parse(line)) });
  net.start();
  try {
    net.clock.advance(5000);
    const spf = events.filter((e) => e.event === 'ospf.spf');
    assert.equal(spf.length, a.ospf.counters.spfRuns, 'one event per run');
    assert.ok(spf.length >= 1);
    for (const e of spf) {
      assert.equal(typeof e.durationMs, 'number', JSON.stringify(e));
      assert.ok((e.durationMs as number) >= 0 && Number.isFinite(e.durationMs));
      assert.equal(typeof e.cause, 'string');
    }
    assert.equal(spf.at(-1)!.durationMs, Math.round(a.ospf.counters.lastSpfMs * 1000) / 1000, 'the time the counters show');
    const changes = () => events.filter((e) => e.event === 'ospf.neighbour').map((e) => `${e.neighbour} ${e.from}→${e.to} (${e.cause})`);
    const up = changes();
    assert.deepEqual(up, [
      '2.2.2.2 Down→Init (hello-received)', '2.2.2.2 Init→ExStart (2-way-received)', '2.2.2.2 ExStart→Exchange (negotiation-done)',
      '2.2.2.2 Exchange→Loading (exchange-done)', '2.2.2.2 Loading→Full (loading-done)',
    ]);
    assert.equal(up.length, a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))!.adjacencyChanges, 'one event per change');
    b.stop();
    net.clock.advance(10);
    assert.deepEqual(changes().slice(up.length), ['2.2.2.2 Full→Init (1-way-received)']);
    assert.equal(events.filter((e) => e.event === 'ospf.spf').length, a.ospf.counters.spfRuns);
  } finally {
    for (const r of [a, b]) if (r.ospf.running) r.stop();
  }
});
