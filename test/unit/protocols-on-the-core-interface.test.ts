// BFD and RIP need nothing but the core interface (ProtocolContext): here
// they run without a Router, two "routers" being two harnesses whose ports
// are joined by a wire the test controls, on one fake clock. BFD comes Up,
// RIP learns across the link into the RIB under its own source and
// distance, a block tells the neighbour at once, silence is detected.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouterConfig, type RipConfig } from '../../src/config/router-config.js';
import { NO_AUTH } from '../../src/config/auth-config.js';
import { formatPrefix, parseAddress as A } from '../../src/net/addr.js';
import { BfdProtocol } from '../../src/protocols/bfd/bfd.js';
import { RIP_DISTANCE, RipProtocol } from '../../src/protocols/rip/rip.js';
import { FakeClock } from '../support/fake-clock.js';
import { ProtocolHarness } from '../support/protocol-harness.js';

const RIP: RipConfig = parseRouterConfig({
  router: 'x', ports: [{ name: 'link', device: 'l', address: '10.0.12.1/30' }],
  rip: { ports: [{ port: 'link', bfd: true }], redistribute: ['connected'], updateTime: 5, timeoutTime: 30, garbageTime: 20 },
}).rip!;

function pair() {
  const clock = new FakeClock();
  const a = new ProtocolHarness(clock, { link: '10.0.12.1/30', lan: '10.0.1.1/24' });
  const b = new ProtocolHarness(clock, { link: '10.0.12.2/30', lan: '10.0.2.1/24' });
  let wireUp = true;
  // 1 ms across the link; a cut wire loses everything.
  const join = (from: ProtocolHarness, to: ProtocolHarness) => {
    from.wire = (port, datagram) => {
      if (wireUp) clock.setTimer(1, () => to.deliver(port.name, datagram));
    };
  };
  join(a, b);
  join(b, a);
  for (const h of [a, b]) {
    for (const p of h.ports) h.rib.add({ prefix: p.network, len: p.prefixLen, port: p.index, nextHop: 0, metric: 0, source: 'connected', distance: 0 });
  }
  const make = (h: ProtocolHarness, peer: string) => {
    const bfd = new BfdProtocol(h.context('bfd', 255), { interval: 100, multiplier: 3, sessions: [{ port: 'link', peer: A(peer), interval: 100, multiplier: 3, auth: null }], auth: NO_AUTH, ports: [] });
    const rip = new RipProtocol(h.context('rip', RIP_DISTANCE, bfd), RIP);
    bfd.start();
    rip.start();
    return { bfd, rip, plugins: [bfd, rip] };
  };
  const pa = make(a, '10.0.12.2');
  const pb = make(b, '10.0.12.1');
  const ripRoute = (h: ProtocolHarness, prefix: string) => h.rib.routes().find((r) => r.source === 'rip' && formatPrefix(r.prefix, r.len) === prefix);
  return { clock, a, b, pa, pb, ripRoute, cut: () => { wireUp = false; } };
}

test('BFD comes Up and RIP learns across the link, into the RIB with its own distance', () => {
  const t = pair();
  try {
    t.clock.advance(3000);
    assert.equal(t.pa.bfd.state(t.a.port('link'), A('10.0.12.2')), 'Up');
    assert.equal(t.pb.bfd.state(t.b.port('link'), A('10.0.12.1')), 'Up');
    const learned = t.ripRoute(t.a, '10.0.2.0/24');
    assert.ok(learned, 'A learned B\'s LAN');
    assert.equal(learned.distance, RIP_DISTANCE);
    assert.equal(learned.nextHop, A('10.0.12.2'));
    assert.equal(learned.metric, 2);
    assert.equal(learned.selected, true);
    assert.ok(t.ripRoute(t.b, '10.0.1.0/24')?.selected, 'and B learned A\'s');
  } finally {
    for (const p of [...t.pa.plugins, ...t.pb.plugins]) p.stop();
  }
});

test('a block tells the neighbour at once (BFD AdminDown, RIP poison); silence is detected in 3 intervals', () => {
  const t = pair();
  try {
    t.clock.advance(3000);
    assert.ok(t.ripRoute(t.a, '10.0.2.0/24'));
    const blockedAt = t.clock.t;
    t.b.block('link', t.pb.plugins);
    t.clock.advance(5);
    assert.equal(t.pa.bfd.state(t.a.port('link'), A('10.0.12.2')), 'Down', 'AdminDown heard within a millisecond or two');
    assert.equal(t.ripRoute(t.a, '10.0.2.0/24'), undefined, 'its routes gone with it');
    assert.ok(t.clock.t - blockedAt <= 5);

    // A fresh pair, then the wire is cut: nothing more is heard.
    const u = pair();
    try {
      u.clock.advance(3000);
      assert.ok(u.ripRoute(u.a, '10.0.2.0/24'));
      u.cut();
      u.clock.advance(250);
      assert.equal(u.pa.bfd.state(u.a.port('link'), A('10.0.12.2')), 'Up', 'not yet: 300 ms detection time');
      u.clock.advance(100);
      assert.equal(u.pa.bfd.state(u.a.port('link'), A('10.0.12.2')), 'Down');
      assert.equal(u.ripRoute(u.a, '10.0.2.0/24'), undefined);
    } finally {
      for (const p of [...u.pa.plugins, ...u.pb.plugins]) p.stop();
    }
  } finally {
    for (const p of [...t.pa.plugins, ...t.pb.plugins]) p.stop();
  }
});
