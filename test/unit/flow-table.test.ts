// The flow table behind `port drain`: flows already on a draining port stay
// there; new flows (and a SYN on a reused tuple) take the new route; idle and
// closed flows let go.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FlowTable } from '../../src/dataplane/flow-table.js';
import type { Port } from '../../src/ports/port.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { tcpPacket, udpPacket } from './packets.js';

function setup() {
  const ports = [{ state: 'up' }, { state: 'up' }, { state: 'up' }] as unknown as Port[];
  const flows = new FlowTable(ports, 5000);
  let now = 1;
  flows.tick = () => { flows.now = now; };
  const at = (ms: number) => { now = ms; flows.tick(); };
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
  // The same tuple reopened with a bare SYN is a new connection.
  assert.equal(flows.track(v(tcpPacket('10.0.0.2', '1.1.1.1', 40000, 80, TcpFlag.SYN)), 2), 2);
  assert.equal(flows.liveFlowsOn(1), 0);
  assert.ok(flows.pinned >= 1);
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
