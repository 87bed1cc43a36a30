// OSPF on the core interface, without a Router: harness routers on one fake
// clock, joined by point-to-point links and a broadcast segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { NbrState } from '../../src/protocols/ospf/neighbour.js';
import { OSPF_DISTANCE, OSPF_DROP_NAMES, OSPF_LSA_DROP_NAMES } from '../../src/protocols/ospf/ospf.js';
import { writeIpv4Header } from '../../src/wire/ipv4.js';
import { INITIAL_SEQUENCE, fillLsaChecksum, writeExternalBody, writeLsaHeader } from '../../src/wire/ospf-lsa.js';
import { ALL_SPF_ROUTERS, finishPacket, writeOspfHeader } from '../../src/wire/ospf.js';
import { OspfNet, ospfConfig } from '../support/ospf-net.js';

function pair(opts: { bfd?: boolean } = {}) {
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
  net.start();
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

test('authentication: MD5 and HMAC-SHA-256 keys that match make Full; a wrong key or type is refused and counted', async (t) => {
  for (const type of ['simple', 'md5', 'hmac-sha-256'] as const) {
    await t.test(type, () => {
      const net = new OspfNet();
      const auth = (key: string) => ({ type, key, keyId: type === 'simple' ? 0 : 7 });
      const a = net.add('a', { ports: { link: '10.0.12.1/30' }, ospf: { routerId: A('1.1.1.1'), ports: [{ port: 'link', auth: auth('secret') }] } });
      net.add('b', { ports: { link: '10.0.12.2/30' }, ospf: { routerId: A('2.2.2.2'), ports: [{ port: 'link', auth: auth('secret') }] } });
      net.add('c', { ports: { link: '10.0.12.3/29' }, ospf: { routerId: A('3.3.3.3'), ports: [{ port: 'link', auth: auth('wrong') }] } });
      net.link('abc', ['a', 'link'], ['b', 'link'], ['c', 'link']);
      net.start();
      try {
        net.clock.advance(5000);
        assert.equal(a.ospf.interfaces[0]!.byRouterId(A('2.2.2.2'))?.state, NbrState.FULL);
        assert.equal(a.ospf.interfaces[0]!.byRouterId(A('3.3.3.3')), undefined, 'c is never a neighbour');
        const drops = Object.fromEntries([...a.ospf.packetDrops].map((n, i) => [i, n]).filter(([, n]) => n > 0));
        assert.ok(Object.keys(drops).length > 0);
        const why = type === 'simple' ? 'bad-password' : 'bad-digest';
        const i = ospfDropIndex(why);
        assert.ok(a.ospf.packetDrops[i]! >= 4, `${why} counted`);
      } finally {
        net.stop();
      }
    });
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
