// Source-based forwarding rules: matching, order, skipped rules, hit counters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePolicyRule } from '../../src/config/policy-config.js';
import { PolicyTable } from '../../src/dataplane/policy.js';
import type { Port } from '../../src/ports/port.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpFlag } from '../../src/wire/tcp.js';
import { tcpPacket, udpPacket } from './packets.js';

const NAMES = ['lan', 'r2', 'line'];
const ports = NAMES.map((name, index) => ({ name, index, state: 'up' })) as unknown as Port[];
const rule = (o: Record<string, unknown>) => {
  const r = parsePolicyRule(o, 'rule', NAMES);
  return { ...r, egress: NAMES.indexOf(r.port) };
};
const view = (b: Uint8Array) => new Ipv4View().attach(b, 0, b.length);

test('first matching rule wins; no match leaves the choice to the FIB', () => {
  const t = new PolicyTable(ports);
  t.add(rule({ name: 'test-appliance', from: '10.200.0.1', to: '1.1.1.1', port: 'line' }));
  t.add(rule({ name: 'web', from: '10.0.0.0/8', protocol: 'tcp', dstPorts: '80-81', port: 'r2' }));
  assert.equal(t.select(ports[0]!, view(tcpPacket('10.200.0.1', '1.1.1.1', 40000, 80, TcpFlag.SYN))), 2);
  assert.equal(t.select(ports[0]!, view(tcpPacket('10.1.0.1', '1.1.1.1', 40000, 80, TcpFlag.SYN))), 1);
  assert.equal(t.select(ports[0]!, view(tcpPacket('10.1.0.1', '1.1.1.1', 40000, 82, TcpFlag.SYN))), -1);
  assert.equal(t.select(ports[0]!, view(udpPacket('10.1.0.1', '1.1.1.1', 40000, 80))), -1);
  assert.equal(t.select(ports[0]!, view(tcpPacket('10.200.0.1', '1.1.1.2', 40000, 80, TcpFlag.SYN))), 1);
  assert.deepEqual(t.list().map((r) => r.hits), [1, 2]);
});

test('insertion order and removal keep the hit counters with their rules', () => {
  const t = new PolicyTable(ports);
  t.add(rule({ name: 'b', from: '10.0.0.0/8', port: 'r2' }));
  t.select(ports[0]!, view(udpPacket('10.0.0.1', '2.2.2.2', 1, 2)));
  t.add(rule({ name: 'a', from: '10.0.0.1', port: 'line' }), 0);
  assert.equal(t.select(ports[0]!, view(udpPacket('10.0.0.1', '2.2.2.2', 1, 2))), 2);
  assert.deepEqual(t.list().map((r) => [r.rule.name, r.hits]), [['a', 1], ['b', 1]]);
  t.remove('a');
  assert.deepEqual(t.list().map((r) => [r.rule.name, r.hits]), [['b', 1]]);
});

test('a rule whose port is not up is skipped', () => {
  const local = NAMES.map((name, index) => ({ name, index, state: 'up' })) as unknown as Port[];
  const t = new PolicyTable(local);
  t.add(rule({ name: 'x', from: '10.0.0.0/8', port: 'line' }));
  t.add(rule({ name: 'y', from: '10.0.0.0/8', port: 'r2' }));
  (local[2] as { state: string }).state = 'blocked';
  assert.equal(t.select(local[0]!, view(udpPacket('10.0.0.1', '2.2.2.2', 1, 2))), 1);
  assert.equal(t.list()[0]!.active, false);
});

test('explain() answers `route lookup --from` for address-only rules', () => {
  const t = new PolicyTable(ports);
  t.add(rule({ name: 'web', from: '10.0.0.0/8', protocol: 'tcp', dstPorts: '80', port: 'r2' }));
  t.add(rule({ name: 'ta', from: '10.200.0.1', port: 'line' }));
  assert.deepEqual(t.explain(0x0ac80001, 0x01010101), { port: 2, by: 'policy:ta' });
  assert.equal(t.explain(0x0a000001, 0x01010101), null);
});

test('rule validation names the field', () => {
  assert.throws(() => parsePolicyRule({ name: 'x', from: '10.0.0.1/8', port: 'lan' }, 'rule', NAMES), /rule\.from: .*host bits/);
  assert.throws(() => parsePolicyRule({ name: 'x', from: '10.0.0.0/8', port: 'nope' }, 'rule', NAMES), /rule\.port: unknown port "nope"/);
  assert.throws(() => parsePolicyRule({ name: 'x', from: '10.0.0.0/8', dstPorts: '80', port: 'lan' }, 'rule', NAMES), /rule\.dstPorts: needs "protocol"/);
  assert.throws(() => parsePolicyRule({ name: 'x', from: '10.0.0.0/8', protocol: 'tcp', dstPorts: '90-80', port: 'lan' }, 'rule', NAMES), /rule\.dstPorts: "90-80"/);
  assert.throws(() => parsePolicyRule({ name: 'x', from: '10.0.0.0/8', protocol: 'sctpx', port: 'lan' }, 'rule', NAMES), /rule\.protocol/);
});
