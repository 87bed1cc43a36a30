// OSPF on the core interface, without a Router: harness routers on one fake
// clock, joined by point-to-point links and a broadcast segment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress as A } from '../../src/net/addr.js';
import { NbrState } from '../../src/protocols/ospf/neighbour.js';
import { OSPF_DISTANCE } from '../../src/protocols/ospf/ospf.js';
import { OspfNet } from '../support/ospf-net.js';

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
