// The shipped topologies (topologies/): each passes containerlab's own schema
// (vendored) and every check of the testbed, and the native configs they
// bind in are ones BIRD and FRR accept.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadTopology } from '../../src/testbed/topology/index.js';
import { schemaProblems } from '../../src/testbed/topology/schema.js';
import { YamlSource } from '../../src/testbed/topology/source.js';

const ROOT = new URL('../../../topologies/', import.meta.url).pathname;

function shipped(dir = ROOT): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? shipped(join(dir, e.name)) : e.name.endsWith('.clab.yml') ? [join(dir, e.name)] : []));
}

const files = shipped();

test('the shipped topologies are there: the embodiments (1 also over OSPF, 2 with its two variants), FRR and BIRD as R1, the FRR–BIRD example, the TUN-only lab', () => {
  const names = files.map((f) => f.slice(ROOT.length)).sort();
  assert.deepEqual(names, [
    'bird-r1/bird-r1.clab.yml', 'embodiment1-ospf/embodiment1-ospf.clab.yml', 'embodiment1/embodiment1.clab.yml', 'embodiment2-mac/embodiment2-mac.clab.yml', 'embodiment2-vip/embodiment2-vip.clab.yml',
    'embodiment2/embodiment2.clab.yml', 'examples/frr-bird/frr-bird.clab.yml', 'frr-r1/frr-r1.clab.yml', 'tun-only/tun-only.clab.yml',
  ]);
});

for (const file of files) {
  const name = file.slice(ROOT.length);
  test(`${name}: valid by containerlab's schema and the testbed's checks`, () => {
    assert.deepEqual(schemaProblems(YamlSource.load(file).value), []);
    const t = loadTopology(file);
    const tunOnly = name.startsWith('tun-only/');
    for (const n of t.nodes.values()) {
      // Every link interface of a tunroute router is one of its Ethernet ports (the TUN-only lab has none).
      if (n.tunroute?.kind === 'run') assert.deepEqual([...n.tunroute.ethernetPorts].sort(), tunOnly ? [] : [...n.interfaces].sort(), `${n.name}'s ports`);
      if (n.bird) execFileSync('bird', ['-p', '-c', n.bird.configFile]);
      if (n.frr) execFileSync('vtysh', ['--dryrun', '-f', n.frr.configFile]);
    }
    if (!name.startsWith('examples/')) {
      const m = t.migration;
      assert.ok(m, 'migration settings');
      assert.deepEqual([m.service, m.servers, m.testAppliance, m.fleet.prefix], ['1.1.1.1', { from: 'server1', to: 'server2' }, { node: 'test', address: '10.0.2.2' }, tunOnly ? '10.64.0.0/10' : '10.100.0.0/16']);
      assert.deepEqual(m.cutover.block && [m.cutover.block.router, m.cutover.block.port], tunOnly ? ['r1', 's1'] : ['r2', 'r1']);
      // With a real R1 the fall-back is seen in R1's kernel: its route to the service leaving eth3 (toward R2).
      if (name.startsWith('bird-r1/') || name.startsWith('frr-r1/')) assert.deepEqual(m.fallback, { router: 'r1', port: 'eth3', kernel: true });
    }
  });
}

test('embodiment 1 as the testbed builds it today: addresses, costs, BFD and RIP timers', () => {
  const t = loadTopology(join(ROOT, 'embodiment1/embodiment1.clab.yml'));
  const run = (n: string) => {
    const c = t.nodes.get(n)!.tunroute;
    assert.ok(c?.kind === 'run');
    return c.config;
  };
  const r1 = run('r1');
  assert.deepEqual(r1.rip?.ports.map((p) => [p.port, p.cost, p.bfd]), [['r2', 1, true], ['r3', 1, true]]);
  assert.deepEqual([r1.rip?.updateTime, r1.rip?.timeoutTime, r1.rip?.garbageTime, r1.bfd.interval, r1.bfd.multiplier], [5, 30, 20, 100, 3]);
  assert.deepEqual(run('r2').routes.map((r) => r.metric), [1]);
  assert.deepEqual(run('r3').routes.map((r) => r.metric), [5]);
  assert.deepEqual(run('tu').policy.map((p) => p.name), ['test-appliance']);
  assert.deepEqual(t.links.map((l) => `${l.a.node}:${l.a.interface}-${l.b.node}:${l.b.interface}`), [
    'fleet:eth1-r1:eth1', 'test:eth1-r1:eth2', 'r1:eth3-r2:eth1', 'r1:eth4-r3:eth1', 'r2:eth2-tu:eth1', 'tu:eth2-server1:eth1', 'tu:eth3-server2:eth2', 'r3:eth2-server2:eth1',
  ]);
});

test('embodiment 1 over OSPF: the same lab, OSPF with BFD on the router links, the service as external routes', () => {
  const t = loadTopology(join(ROOT, 'embodiment1-ospf/embodiment1-ospf.clab.yml'));
  const run = (n: string) => {
    const c = t.nodes.get(n)!.tunroute;
    assert.ok(c?.kind === 'run');
    return c.config;
  };
  const r1 = run('r1');
  assert.equal(r1.rip, null);
  assert.deepEqual(r1.ospf?.ports.map((p) => [p.port, p.cost, p.bfd, p.passive, p.helloInterval, p.deadInterval]),
    [['r2', 10, true, false, 1, 4], ['r3', 10, true, false, 1, 4], ['fleet', 10, false, true, 10, 40], ['test', 10, false, true, 10, 40]]);
  for (const r of ['r2', 'r3']) assert.deepEqual(run(r).ospf?.redistribute.map((x) => x.source), ['static']);
  assert.deepEqual(run('r3').routes.map((r) => r.metric), [5]);
});
