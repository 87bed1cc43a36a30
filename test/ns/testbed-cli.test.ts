// The testbed CLI as a person runs it: `npm run testbed -- up --topology
// FILE` builds the lab and returns with everything left running; `down`
// removes it. The real script (dist/scripts/testbed.js) on the shipped
// tun-only topology (one tunroute router, two servers, fleet and test
// hosts): after `up`, a namespace per node and every endpoint's interface
// exist and are up, the router's API answers with its ports up, and the
// fleet host reaches server 1 through the router (ping and HTTP); after
// `down`, no namespace, process or state directory of the testbed is left.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { call } from '../../src/api/client.js';
import { Lab, PERSISTENT_DIR, persistentLabId } from '../../src/testbed/lab.js';
import { inNetns, ip } from '../../src/testbed/shell.js';
import { loadTopology } from '../../src/testbed/topology/index.js';

const SCRIPT = new URL('../../scripts/testbed.js', import.meta.url).pathname;
const FILE = new URL('../../../topologies/tun-only/tun-only.clab.yml', import.meta.url).pathname;
// Unique on this machine: other tests and testbeds may be up at the same time.
const NAME = `c${process.pid.toString(36)}`;
const ID = persistentLabId(NAME);

/** The script, to its end (bounded); its exit status and output. */
function testbed(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args, '--name', NAME], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function labNamespaces(): Promise<string[]> {
  return (await ip('netns', 'list')).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(`${ID}-`));
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
}

after(async () => {
  // Also when an assertion failed halfway: the testbed's processes, namespaces and files.
  await Lab.destroyPersistent(NAME);
});

test('testbed up --topology builds the lab and leaves it running; down removes all of it', { timeout: 180_000 }, async () => {
  const topology = loadTopology(FILE);
  const up = await testbed(['up', '--topology', FILE], 120_000);
  assert.equal(up.code, 0, `testbed up exited ${up.code}: ${up.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  assert.match(up.stdout, new RegExp(`testbed "${NAME}" is up: ${topology.name}`));

  // A namespace per node, named as the CLI prints it.
  const nss = await labNamespaces();
  assert.deepEqual(nss.sort(), [...topology.nodes.keys()].map((n) => `${ID}-${n}`).sort());
  for (const n of topology.nodes.keys()) assert.match(up.stdout, new RegExp(`^  ${n} +${ID}-${n} `, 'm'));

  // Every link's two ends, under the endpoint's interface name in its node's namespace, up.
  for (const l of topology.links) {
    for (const end of [l.a, l.b]) {
      const link = (await ip('-n', `${ID}-${end.node}`, '-o', 'link', 'show', 'dev', end.interface)).stdout;
      assert.match(link, /[<,]UP[,>]/, `${end.node}:${end.interface} is not up: ${link.trim()}`);
      assert.match(link, /LOWER_UP/, `${end.node}:${end.interface} has no carrier: ${link.trim()}`);
      assert.match(link, new RegExp(`mtu ${l.mtu} `));
    }
  }

  // The router's daemon answers on the socket the CLI names; its ports are up.
  const state = JSON.parse(readFileSync(join(PERSISTENT_DIR, NAME, 'topology.json'), 'utf8')) as { nodes: Record<string, { ns: string; socket?: string }> };
  const socket = state.nodes.r1?.socket;
  assert.ok(socket && up.stdout.includes(`tunroute --socket ${socket} route list`), 'the CLI names r1\'s socket');
  const ports = await call<{ name: string; state: string }[]>(socket, 'GET', '/v1/ports', undefined, 5000);
  assert.deepEqual(ports.map((p) => [p.name, p.state]).sort(), [['fleet', 'up'], ['s1', 'up'], ['s2', 'up'], ['test', 'up']]);

  // Across the router: the fleet host pings server 1's link address and polls the service, answered by server 1.
  const fleet = `${ID}-fleet`;
  const ping = await inNetns(fleet, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.1.1.2'], { timeoutMs: 10_000 });
  // Server 1's replies (sent with TTL 64) lose two in r1: tunroute's forwarding, then its kernel's out of the veth.
  assert.deepEqual(ping.stdout.match(/ttl=\d+/g), ['ttl=62', 'ttl=62'], ping.stdout);
  const http = await inNetns(fleet, 'curl', ['-sf', '--max-time', '3', '--interface', '10.64.0.1', '-D', '-', '-o', '/dev/null', 'http://1.1.1.1/'], { timeoutMs: 10_000 });
  assert.match(http.stdout, /^x-served-by: server1\r?$/im);

  // down: every process the testbed started ends, every namespace and its state directory go.
  const pids = (JSON.parse(readFileSync(join(PERSISTENT_DIR, NAME, 'state.json'), 'utf8')) as { pids: number[] }).pids;
  assert.ok(pids.length >= 3, `the testbed recorded its processes (${pids.length})`);
  assert.ok(pids.every(alive), 'every process of the testbed runs after up returned');
  const down = await testbed(['down'], 60_000);
  assert.equal(down.code, 0, `testbed down exited ${down.code}: ${down.stderr.trim()}`);
  assert.match(down.stdout, new RegExp(`testbed "${NAME}" removed`));
  assert.deepEqual(await labNamespaces(), []);
  assert.deepEqual(pids.filter(alive), [], 'processes left after down');
  assert.equal(existsSync(join(PERSISTENT_DIR, NAME)), false, 'state directory left after down');
  const again = await testbed(['down'], 60_000);
  assert.match(again.stdout, new RegExp(`testbed "${NAME}" was not up`));
});
