// Embodiment 2's MAC-address variant, from its shipped topology file: the
// transfer distribution device shares a bridge with both servers (both own
// 1.1.1.1) and picks the destination by MAC — the test appliance's packets
// to server 2's, everyone else's to server 1's — with no address rewritten.
// Then the method runs on: server 2's history line fires R2's trigger, R2
// blocks its port toward R1, and R1 reaches server 2 via R3.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { NeighbourPortJson, LookupJson } from '../../src/api/types.js';
import { readJsonLines } from '../../src/testbed/json-lines.js';
import { inNetns, waitFor } from '../../src/testbed/shell.js';
import { loadTopology } from '../../src/testbed/topology/index.js';
import { TopologyLab } from '../../src/testbed/topology-lab.js';

const FILE = new URL('../../../topologies/embodiment2-mac/embodiment2-mac.clab.yml', import.meta.url).pathname;

let tl: TopologyLab | undefined;
after(async () => {
  await tl?.down();
});

interface Answer { server: string }

test('by MAC on one segment: the fleet reaches server 1, the test appliance server 2; then the cut-over moves everyone to server 2', { timeout: 120_000 }, async () => {
  tl = await TopologyLab.up(loadTopology(FILE));
  const lab = tl;
  const ns = (n: string) => lab.ns(n);
  const poll = async (node: string, from?: string) => {
    const args = ['-sS', '--max-time', '3', ...(from ? ['--interface', from] : []), 'http://1.1.1.1/poll'];
    return (JSON.parse((await inNetns(ns(node), 'curl', args)).stdout) as Answer).server;
  };
  await waitFor('the service answers the fleet', () => poll('fleet', '10.100.0.1').then((s) => s === 'server1', () => false), 30_000, 250);
  for (let i = 2; i < 6; i++) assert.equal(await poll('fleet', `10.100.0.${i}`), 'server1');

  // The tdd sends by the MACs it was given: both configured, neither asked for.
  const tdd = lab.routers.get('tdd')!;
  const servers = (await tdd.api<NeighbourPortJson[]>('GET', '/v1/neighbours')).find((p) => p.port === 'servers')!;
  assert.deepEqual(servers.neighbours.map((n) => [n.address, n.mac, n.state]), [
    ['10.1.0.11', '02:00:00:00:01:11', 'permanent'],
    ['10.1.0.12', '02:00:00:00:01:12', 'permanent'],
  ]);
  assert.equal(servers.counters.events['arp-requests-sent'] ?? 0, 0, 'no ARP for the servers');

  // The test appliance: to server 2 over the same segment; its history line fires R2's trigger.
  assert.equal(await poll('test'), 'server2');
  const r1 = lab.routers.get('r1')!;
  await waitFor('R1 moves 1.1.1.1 to R3', async () => (await r1.api<LookupJson>('GET', '/v1/routes/lookup?addr=1.1.1.1')).port === 'r3', 10_000, 50);
  await waitFor('the fleet now reaches server 2', () => poll('fleet', '10.100.0.9').then((s) => s === 'server2', () => false), 10_000, 100);
  // No address was rewritten: both servers saw the clients' own addresses.
  const seen = (name: string) => readJsonLines<{ client: string }>(join(lab.lab.dir, 'logs', `${name}.access.log`)).map((l) => l.client);
  assert.ok(seen('server1').includes('10.100.0.1'));
  assert.ok(seen('server2').includes('10.0.2.2'));
});
