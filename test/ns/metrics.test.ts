// /metrics values (not only their presence) with the things they count in
// use, real kernel TCP on every host:
//   1. a BFD session between two tunroute routers: its state sample says Up
//      and the packet counters rise between two scrapes;
//   2. NAT and a drain together:
//
//        client 10.0.0.2 — [c] router [s1] — server1 192.168.1.2, 10.9.9.9 on lo
//                                     [s2] — server2 192.168.2.2, 10.9.9.9 on lo
//
//      The router owns 1.1.1.1 (virtual service → 10.9.9.9), and reaches
//      10.9.9.9 by s1 (metric 1) or s2 (metric 2). A request held open on
//      server1 while s1 drains: the NAT flows gauge and the drain flow
//      table's live gauge are above 0, its packets are pinned to s1, a new
//      request goes to server2.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';
import { metricSample, scrapeMetrics } from './helpers.js';

let lab: Lab;

before(async () => {
  lab = await Lab.create('met');
});

after(async () => {
  await lab?.cleanup();
});

describe('BFD between two tunroute routers', () => {
  let r1: RouterProcess;

  before(async () => {
    const wire = await lab.link(lab.dev('l1'), lab.dev('l2'));
    const bfd = { interval: 100, multiplier: 3 };
    r1 = await lab.startRouter('r1', {
      ports: [{ name: 'r2', device: lab.dev('l1'), netns: wire, address: '10.0.12.1/30' }],
      bfd: { ...bfd, sessions: [{ port: 'r2', peer: '10.0.12.2' }] },
    });
    await lab.startRouter('r2', {
      ports: [{ name: 'r1', device: lab.dev('l2'), netns: wire, address: '10.0.12.2/30' }],
      bfd: { ...bfd, sessions: [{ port: 'r1', peer: '10.0.12.1' }] },
    });
  });

  test('the session\'s state sample is Up (1, and no sample for another state); packets sent and received rise between scrapes', { timeout: 30_000 }, async () => {
    const first = await waitFor('the session Up in /metrics', async () => {
      const text = await scrapeMetrics(r1);
      return metricSample(text, 'tunroute_bfd_session_up', 'port="r2",peer="10.0.12.2",state="Up"') === 1 ? text : undefined;
    }, 15_000, 50);
    const states = first.split('\n').filter((l) => l.startsWith('tunroute_bfd_session_up{'));
    assert.deepEqual(states, ['tunroute_bfd_session_up{port="r2",peer="10.0.12.2",state="Up"} 1'], 'one sample: the state the session is in');
    assert.ok(metricSample(first, 'tunroute_bfd_session_up_transitions_total', 'port="r2",peer="10.0.12.2"') >= 1);
    assert.equal(metricSample(first, 'tunroute_bfd_session_down_transitions_total', 'port="r2",peer="10.0.12.2"'), 0);
    // 100 ms intervals: about five packets each way in half a second.
    await sleep(500);
    const second = await scrapeMetrics(r1);
    for (const name of ['tunroute_bfd_packets_sent_total', 'tunroute_bfd_packets_received_total']) {
      const a = metricSample(first, name);
      const b = metricSample(second, name);
      assert.ok(a > 0 && b > a, `${name}: ${a} then ${b}`);
    }
    assert.equal(metricSample(second, 'tunroute_bfd_session_up', 'port="r2",peer="10.0.12.2",state="Up"'), 1);
  });
});

// HTTP on 10.9.9.9:80 answering "<name> <client address>"; ?holdMs=N delays the answer.
const SERVER = `
const http = require('http');
const [name] = process.argv.slice(1);
http.createServer((req, res) => {
  const hold = Number(new URL(req.url, 'http://x').searchParams.get('holdMs') ?? 0);
  setTimeout(() => res.end(name + ' ' + req.socket.remoteAddress), hold);
}).listen(80, '10.9.9.9');
`;

describe('NAT and a drain', () => {
  let r: RouterProcess;
  let client: string;

  before(async () => {
    client = await lab.addNamespace('client');
    const server1 = await lab.addNamespace('server1');
    const server2 = await lab.addNamespace('server2');
    await lab.hostPort(client, lab.dev('c'), '10.0.0.2/24', '10.0.0.1');
    await lab.hostPort(server1, lab.dev('s1'), '192.168.1.2/24', '192.168.1.1');
    await lab.hostPort(server2, lab.dev('s2'), '192.168.2.2/24', '192.168.2.1');
    r = await lab.startRouter('r', {
      ports: [
        { name: 'c', device: lab.dev('c'), netns: client, address: '10.0.0.1/24' },
        { name: 's1', device: lab.dev('s1'), netns: server1, address: '192.168.1.1/24' },
        { name: 's2', device: lab.dev('s2'), netns: server2, address: '192.168.2.1/24' },
      ],
      routes: [
        { prefix: '10.9.9.9/32', port: 's1', via: '192.168.1.2', metric: 1 },
        { prefix: '10.9.9.9/32', port: 's2', via: '192.168.2.2', metric: 2 },
      ],
      virtualServices: [{ name: 'app', address: '1.1.1.1', backends: [{ name: 'app', address: '10.9.9.9' }] }],
      // A held request is idle on the wire: keep its flow on the draining port longer than the hold.
      drainIdleTimeout: 30,
    });
    for (const [ns, name] of [[server1, 'server1'], [server2, 'server2']] as const) {
      await ip('-n', ns, 'addr', 'add', '10.9.9.9/32', 'dev', 'lo');
      lab.spawnIn(ns, process.execPath, ['-e', SERVER, name]);
      await waitFor(`${name} HTTP`, async () => {
        await inNetns(ns, 'curl', ['-sf', '--max-time', '1', 'http://10.9.9.9/']);
        return true;
      }, 10_000, 50);
    }
  });

  const get = (path = '/') => inNetns(client, 'curl', ['-sS', '--max-time', '15', `http://1.1.1.1${path}`], { timeoutMs: 20_000 });

  test('NAT flows and drain flows are counted while a connection is open; a drain pins its packets', { timeout: 60_000 }, async () => {
    const idle = await scrapeMetrics(r);
    assert.equal(metricSample(idle, 'tunroute_nat_flows', 'kind="live"'), 0, 'no NAT flow yet');
    assert.ok(metricSample(idle, 'tunroute_nat_flows', 'kind="capacity"') > 0);
    assert.equal(metricSample(idle, 'tunroute_drain_flows', 'kind="capacity"'), 262_144);
    assert.equal(metricSample(idle, 'tunroute_drain_pinned_packets_total'), 0);

    // One request server1 holds for 3 s: its connection stays open meanwhile.
    const held = get('/?holdMs=3000');
    // Its SYN makes the NAT flow and the first direction's drain flow; the SYN-ACK, a moment later, the second.
    const open = await waitFor('the held connection in /metrics (a NAT flow, both directions in the drain flow table)', async () => {
      const text = await scrapeMetrics(r);
      return metricSample(text, 'tunroute_nat_flows', 'kind="live"') >= 1 && metricSample(text, 'tunroute_drain_flows', 'kind="live"') >= 2 ? text : undefined;
    }, 5000, 50);
    assert.ok(metricSample(open, 'tunroute_nat_flow_events_total', 'event="created"') >= 1);
    // Both directions of the connection are in the drain flow table.
    assert.ok(metricSample(open, 'tunroute_drain_flows', 'kind="live"') >= 2, `drain flows live: ${metricSample(open, 'tunroute_drain_flows', 'kind="live"')}`);
    assert.ok(metricSample(open, 'tunroute_drain_flow_events_total', 'event="inserted"') >= 2);

    // Drain s1 while the request is held: new connections take s2 at once.
    await r.api('POST', '/v1/ports/s1/drain', { maxMs: 20_000 });
    assert.equal((await get()).stdout, 'server2 10.0.0.2');
    const draining = await scrapeMetrics(r);
    assert.equal(metricSample(draining, 'tunroute_port_up', 'port="s1",state="draining"'), 1);
    // The held connection is still open (the new one may already have closed and lingered out).
    assert.ok(metricSample(draining, 'tunroute_nat_flows', 'kind="live"') >= 1);
    assert.ok(metricSample(draining, 'tunroute_drain_flows', 'kind="live"') >= 2, `drain flows live: ${metricSample(draining, 'tunroute_drain_flows', 'kind="live"')}`);

    // The held answer comes from server1: the client's packets after it (ACKs, FIN) were pinned to the draining port.
    assert.equal((await held).stdout, 'server1 10.0.0.2');
    const pinned = await waitFor('packets pinned to s1', async () => {
      const text = await scrapeMetrics(r);
      return metricSample(text, 'tunroute_drain_pinned_packets_total') > 0 ? text : undefined;
    }, 5000, 50);
    // The held connection closed: s1 has no live flow left and blocks itself.
    const blocked = await waitFor('s1 drained and blocked', async () => {
      const text = await scrapeMetrics(r);
      return metricSample(text, 'tunroute_port_up', 'port="s1",state="blocked"') === 1 ? text : undefined;
    }, 10_000, 100);
    assert.ok(metricSample(blocked, 'tunroute_drain_pinned_packets_total') >= metricSample(pinned, 'tunroute_drain_pinned_packets_total'));
  });
});
