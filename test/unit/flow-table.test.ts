// The flow table behind `port drain`: flows already on a draining port stay
// there; new flows (and a SYN on a reused tuple) take the new route; idle and
// closed flows let go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchClock } from '../../src/dataplane/batch-clock.js';
import { FlowTable } from '../../src/dataplane/flow-table.js';
import type { Port } from '../../src/ports/port.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { tcpPacket, udpPacket } from './packets.js';

function setup() {
  const ports = [{ state: 'up' }, { state: 'up' }, { state: 'up' }] as unknown as Port[];
  const clock = new BatchClock();
  const flows = new FlowTable(ports, 5000, clock);
  clock.tick = () => undefined; // the test's time only
  const at = (ms: number) => { clock.now = ms; };
  const v = (b: Uint8Array) => new Ipv4View().attach(b, 0, b.length);
  return { ports, flows, at, v };
}

test('existing TCP flow stays on the draining port, new SYN goes to the new route', () => {
  const { ports, flows, at, v } = setup();
  at(1000);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN)), 1), 1);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 1), 1);
  (ports[1] as { state: string }).state = 'draining';
  at(1100);
  // FIB now says port 2; the running flow keeps port 1.
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 2), 1);
  assert.equal(flows.liveFlowsOn(1), 1);
  // A new connection takes port 2.
  assert.equal(flows.track(v(tcpPacket('10.0.0.3', '1.1.1.1', 40001, 80, TcpFlag.SYN)), 2), 2);
  assert.equal(flows.track(v(tcpPacket('10.0.0.3', '1.1.1.1', 40001, 80, TcpFlag.ACK)), 2), 2);
  // The same tuple reopened with a bare SYN (a new initial sequence number) is a new connection.
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN, 0, 0x7654321)), 2), 2);
  assert.equal(flows.liveFlowsOn(1), 0);
  assert.ok(flows.pinned >= 1);
});

test('a SYN sent again (same sequence number) stays with its flow on the draining port; a new one moves', () => {
  const { ports, flows, at, v } = setup();
  at(1000);
  // SYN out by port 1 just before the drain; its answer is late.
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN, 0, 0x9abcdef0)), 1), 1);
  (ports[1] as { state: string }).state = 'draining';
  at(2000);
  // TCP's retry after 1 s: the same connection, so the same server (the old one's late SYN-ACK must match).
  const before = flows.pinned;
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN, 0, 0x9abcdef0)), 2), 1);
  assert.equal(flows.pinned, before + 1);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 2), 1);
  // A SYN with another sequence number on the tuple: a new connection, on the new route.
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN, 0, 0x9abcdef1)), 2), 2);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN, 0, 0x9abcdef1)), 2), 2);
});

test('FIN ends a flow shortly; idle flows let go after the idle time', () => {
  const { ports, flows, at, v } = setup();
  at(1000);
  flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 1);
  flows.track(v(udpPacket('10.0.0.2', '1.1.1.1', 5000, 53)), 1);
  (ports[1] as { state: string }).state = 'draining';
  at(1200);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.FIN | TcpFlag.ACK)), 2), 1);
  assert.equal(flows.liveFlowsOn(1), 2);
  at(2300); // FIN linger (1 s) over; UDP still live
  assert.equal(flows.liveFlowsOn(1), 1);
  assert.equal(flows.track(v(udpPacket('10.0.0.2', '1.1.1.1', 5000, 53)), 2), 1);
  at(7400); // 5 s idle
  assert.equal(flows.liveFlowsOn(1), 0);
  assert.equal(flows.track(v(udpPacket('10.0.0.2', '1.1.1.1', 5000, 53)), 2), 2);
});

test('without a draining port the FIB choice always stands', () => {
  const { flows, at, v } = setup();
  at(1000);
  flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 1);
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.ACK)), 2), 2);
  assert.equal(flows.pinned, 0);
});

test('the full-table policy: new flows always route; an expired entry first, then the oldest live flow not on a draining port; pinned flows are never evicted', () => {
  // One set of 8 ways: every flow lands in it.
  const setup1 = () => {
    const ports = [{ state: 'up' }, { state: 'up' }, { state: 'up' }] as unknown as Port[];
    const clock = new BatchClock();
    const flows = new FlowTable(ports, 5000, clock, 0);
    clock.tick = () => undefined;
    const at = (ms: number) => { clock.now = ms; };
    // Eight live flows on port 1 fill the set.
    for (let i = 1; i <= 8; i++) {
      at(1000 + i);
      flows.track(syn(i), 1);
    }
    return { ports, flows, at };
  };
  const v = (b: Uint8Array) => new Ipv4View().attach(b, 0, b.length);
  const syn = (i: number) => v(tcpPacket(`10.0.0.${i}`, '1.1.1.1', 40000, 80, TcpFlag.SYN));
  const ack = (i: number) => v(tcpPacket(`10.0.0.${i}`, '1.1.1.1', 40000, 80, TcpFlag.ACK));

  const a = setup1();
  assert.equal(a.flows.capacity, 8);
  assert.equal(a.flows.liveFlows(), 8);
  assert.deepEqual([a.flows.inserted, a.flows.evictedLive, a.flows.untracked], [8, 0, 0]);
  // A ninth flow still routes (the FIB's choice), taking the oldest live entry, flow 1's: counted.
  a.at(2000);
  assert.equal(a.flows.track(syn(9), 2), 2);
  assert.equal(a.flows.evictedLive, 1);
  // Once port 1 drains, flow 1 (evicted) is not kept on it: the cost of a full set, and why it is counted.
  (a.ports[1] as { state: string }).state = 'draining';
  a.at(2100);
  assert.equal(a.flows.track(ack(1), 2), 2, 'the evicted flow follows the FIB');
  assert.equal(a.flows.evictedLive, 2, 'its new entry took flow 9\'s, the only live one not on the draining port');
  for (let i = 2; i <= 8; i++) assert.equal(a.flows.track(ack(i), 2), 1, `flow ${i} stays on the draining port`);
  assert.equal(a.flows.untracked, 0);

  // Every way holds a flow pinned to a draining port: a new flow routes untracked and evicts none of them.
  const b = setup1();
  (b.ports[1] as { state: string }).state = 'draining';
  b.at(2000);
  assert.equal(b.flows.track(syn(20), 2), 2);
  assert.equal(b.flows.track(ack(20), 2), 2);
  assert.deepEqual([b.flows.untracked, b.flows.evictedLive], [2, 0]);
  for (let i = 1; i <= 8; i++) assert.equal(b.flows.track(ack(i), 2), 1, `flow ${i} still pinned`);
  // An expired entry is taken before any live one: after the idle time the set is free again.
  b.at(8000);
  assert.equal(b.flows.hasLiveFlowOn(1), false, 'the pinned flows idled out');
  assert.equal(b.flows.track(syn(21), 2), 2);
  assert.deepEqual([b.flows.untracked, b.flows.evictedLive], [2, 0]);
  assert.equal(b.flows.liveFlows(), 1);
});

test('open connections opened from a port\'s side: until their sender\'s FIN or RST, or silence; UDP and other ports not counted', () => {
  const { flows, at, v } = setup();
  at(1000);
  // Two connections in by port 0 toward port 1, one by port 2; a UDP flow by port 0.
  flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN)), 1, 0, 0);
  flows.track(v(tcpPacket('10.0.0.3', '1.1.1.1', 40001, 80, TcpFlag.SYN)), 1, 0, 0);
  flows.track(v(tcpPacket('10.0.0.4', '1.1.1.1', 40002, 80, TcpFlag.SYN)), 1, 0, 2);
  flows.track(v(udpPacket('10.0.0.5', '1.1.1.1', 5000, 53)), 1, 0, 0);
  // The answers go out by port 0: they came in by port 1, but the connection was opened from port 0's side.
  flows.track(v(tcpPacket('1.1.1.1', '10.0.0.2', 80, 40000, TcpFlag.SYN | TcpFlag.ACK)), 0, 0, 1);
  flows.track(v(tcpPacket('1.1.1.1', '10.0.0.2', 80, 40000, TcpFlag.ACK)), 0, 0, 1);
  assert.equal(flows.openConnectionsFrom(0, 500), 2);
  assert.equal(flows.openConnectionsFrom(2, 500), 1);
  assert.equal(flows.openConnectionsFrom(1, 500), 0);
  // The server's FIN closes nothing on the client's side; the client's does.
  flows.track(v(tcpPacket('1.1.1.1', '10.0.0.2', 80, 40000, TcpFlag.FIN | TcpFlag.ACK)), 0, 0, 1);
  assert.equal(flows.openConnectionsFrom(0, 500), 2);
  flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.FIN | TcpFlag.ACK)), 1, 0, 0);
  flows.track(v(tcpPacket('10.0.0.3', '1.1.1.1', 40001, 80, TcpFlag.RST)), 1, 0, 0);
  assert.equal(flows.openConnectionsFrom(0, 500), 0);
  // A connection silent for longer than the window is not open.
  at(1000 + 499);
  assert.equal(flows.openConnectionsFrom(2, 500), 1);
  at(1000 + 501);
  assert.equal(flows.openConnectionsFrom(2, 500), 0);
});
