// Labs built from containerlab topology files, for real:
//   1. the shipped FRR–BIRD example (h1 ── frr ── bird ── h2): veths named
//      by the endpoints in each node's namespace, FRR and BIRD learn each
//      other's LANs over RIP, ping and HTTP cross both kernels; down leaves
//      no namespace, process or veth behind.
//   2. a tunroute router node with the migration settings: its daemon runs
//      with the config from the topology's directory, the cut-over trigger
//      is armed on it and follows server s2's access log through the binds;
//      the test appliance's poll answered by s2 blocks the router's port.
//   3. a veth pair left by a process that died while wiring is removed.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { readJsonLines } from '../../src/testbed/json-lines.js';
import { removeStaleLabs } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';
import { loadTopology } from '../../src/testbed/topology/index.js';
import { TopologyLab } from '../../src/testbed/topology-lab.js';

const EXAMPLE = new URL('../../../topologies/examples/frr-bird/frr-bird.clab.yml', import.meta.url).pathname;

/** Every namespace on the machine. */
async function namespaces(): Promise<string[]> {
  return (await ip('netns', 'list')).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
}

describe('host ── FRR ── BIRD ── host, from the shipped example', () => {
  let tl: TopologyLab | undefined;
  after(async () => {
    await tl?.down();
  });

  test('wired as containerlab wires it; RIP between FRR and BIRD; ping and HTTP across; down removes everything', { timeout: 90_000 }, async () => {
    tl = await TopologyLab.up(loadTopology(EXAMPLE));
    const ns = (n: string) => tl!.ns(n);

    // Interfaces named by the endpoints, in the right namespaces, with the link's MTU, up.
    const links = async (n: string) => (await ip('-n', ns(n), '-o', 'link', 'show')).stdout;
    assert.match(await links('frr'), /: eth1@if\d+: <[^>]*UP[^>]*> mtu 1500 /);
    assert.match(await links('frr'), /: eth2@if\d+: <[^>]*UP[^>]*> mtu 1500 /);
    assert.match(await links('bird'), /: eth1@if\d+: .* mtu 1500 /);
    assert.doesNotMatch(await links('h1'), /eth2/);
    // Transmit checksum offload off, as containerlab sets it.
    assert.match((await inNetns(ns('h1'), 'ethtool', ['-k', 'eth1'])).stdout, /tx-checksumming: off/);
    // zebra set FRR's addresses (frr.conf); exec lines set the others.
    assert.match((await ip('-n', ns('frr'), '-o', 'addr', 'show', 'eth2')).stdout, /inet 10\.12\.0\.1\/30/);
    assert.match((await ip('-n', ns('bird'), '-o', 'addr', 'show', 'eth1')).stdout, /inet 10\.12\.0\.2\/30/);

    const frr = tl.frr.get('frr')!;
    const bird = tl.bird.get('bird')!;
    await waitFor('FRR learns h2\'s LAN from BIRD', async () => /R>\* 10\.2\.0\.0\/24 \[120\/2\] via 10\.12\.0\.2, eth2/.test(await frr.vtysh('show ip route')), 30_000, 200);
    await waitFor('BIRD learns h1\'s LAN from FRR', async () => /10\.1\.0\.0\/24\s+unicast \[rip1[^\n]*\n\s+via 10\.12\.0\.1 on eth1/.test(await bird.cmd('show route')), 30_000, 200);
    // BIRD installs what it learned in the kernel, which forwards.
    assert.match((await ip('-n', ns('bird'), 'route', 'show', '10.1.0.0/24')).stdout, /via 10\.12\.0\.1 dev eth1 proto bird/);

    const ping = await inNetns(ns('h1'), 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.2.0.2']);
    assert.match(ping.stdout, /3 received/);
    assert.match(ping.stdout, /ttl=62 /);
    const http = await inNetns(ns('h1'), 'curl', ['-s', '-i', '--max-time', '5', 'http://10.2.0.2/']);
    assert.match(http.stdout, /^HTTP\/1\.1 200/);
    assert.match(http.stdout, /x-served-by: h2/i);
    // h2's access log, at its container path bound from __clabDir__/logs, is in the lab's directory.
    const accessLog = join(tl.lab.dir, 'logs', 'h2.access.log');
    // The server writes the line after it answers: wait for it.
    const lines = await waitFor('h2\'s access-log line', () => {
      const l = readJsonLines<{ client: string; server: string; status: number }>(accessLog);
      return l.length ? l : undefined;
    }, 5000, 20);
    assert.deepEqual(lines.map((l) => [l.client, l.server, l.status]), [['10.1.0.2', 'h2', 200]]);

    const ours = Object.values(tl.state).map((s) => s.ns);
    // Every process in the lab's namespaces: FRR's and BIRD's daemons, tunroute serve.
    const pids: number[] = [];
    for (const n of ours) pids.push(...(await ip('netns', 'pids', n)).stdout.split('\n').filter(Boolean).map(Number));
    assert.ok(pids.length >= 5, `processes: ${pids.length}`);
    const tmpVeths = new RegExp(`^\\d+: trv${process.pid.toString(36)}-`, 'm');
    await tl.down();
    tl = undefined;
    const left = await namespaces();
    assert.deepEqual(ours.filter((n) => left.includes(n)), []);
    assert.deepEqual(pids.filter(alive), []);
    assert.doesNotMatch((await ip('-o', 'link', 'show')).stdout, tmpVeths);
  });
});

describe('a tunroute router node and the migration settings', () => {
  let tl: TopologyLab | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'topo-ns-'));
  after(async () => {
    await tl?.down();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the router runs its config; the trigger is armed on it, follows s2\'s access log, and blocks its port', { timeout: 60_000 }, async () => {
    // The router's one port is a TUN device of its own (Ethernet ports are not in this build yet).
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ router: 'r', ports: [{ name: 'p', type: 'tun', device: 'tunp0', address: '10.8.0.1/24' }] }));
    writeFileSync(join(dir, 'migration.yml'), [
      'service: 10.7.0.1',
      'servers: { from: s1, to: s2 }',
      'fleet: { node: test, prefix: 10.100.0.0/16, count: 10, interval: 1s }',
      'test-appliance: { node: test, address: 10.0.2.2 }',
      'cutover: { mode: block, block: { router: r, port: p } }',
      '',
    ].join('\n'));
    writeFileSync(join(dir, 'lab.clab.yml'), `name: trig
topology:
  defaults:
    kind: linux
    image: tunroute:latest
    labels:
      tunroute.migration: migration.yml
    binds:
      - __clabDir__/logs:/var/log/tunroute
  nodes:
    r:
      cmd: run --config /config/r.json
      binds: ["r.json:/config/r.json:ro"]
    s1:
      cmd: serve --address 10.7.0.1 --name s1 --log /var/log/tunroute/s1.log
      exec: ["ip addr add 10.7.0.1/32 dev lo"]
    s2:
      cmd: serve --address 10.0.2.1 --name s2 --log /var/log/tunroute/s2.log
      exec: ["ip addr add 10.0.2.1/24 dev eth1"]
    test:
      exec: ["ip addr add 10.0.2.2/24 dev eth1"]
  links:
    - endpoints: ["test:eth1", "s2:eth1"]
`);
    tl = await TopologyLab.up(loadTopology(join(dir, 'lab.clab.yml')));
    const r = tl.routers.get('r')!;
    assert.equal(r.netns, tl.ns('r'));
    const ports = await r.api<{ name: string; device: string; state: string }[]>('GET', '/v1/ports');
    assert.deepEqual(ports.map((p) => [p.name, p.device, p.state]), [['p', 'tunp0', 'up']]);
    assert.match((await ip('-n', tl.ns('r'), '-o', 'link', 'show', 'tunp0')).stdout, /tunp0/);

    interface Trigger { name: string; state: string; watch: { file: string | null }; match: { client: string; server: string | null }; action: string; port: string }
    const [trig] = await r.api<Trigger[]>('GET', '/v1/triggers');
    const logOnHost = join(tl.lab.dir, 'logs', 's2.log');
    assert.deepEqual([trig?.name, trig?.watch.file, trig?.match.client, trig?.match.server, trig?.action, trig?.port], ['cutover', logOnHost, '10.0.2.2', 's2', 'block', 'p']);

    // A poll from the test appliance answered by s2 is the history line the trigger waits for.
    await inNetns(tl.ns('test'), 'curl', ['-sf', '--max-time', '5', '-o', '/dev/null', 'http://10.0.2.1/']);
    await waitFor('port p blocked', async () => (await r.api<{ name: string; state: string }[]>('GET', '/v1/ports'))[0]?.state === 'blocked', 5000, 20);
    assert.ok(r.events().some((e) => e.event === 'trigger.fired'));
  });
});

test('a veth pair left half-wired by a dead process is removed by the next lab', async () => {
  // A pid that no process has now.
  let pid = 4_000_000;
  while (existsSync(`/proc/${pid}`)) pid++;
  const a = `trv${pid.toString(36)}-0a`;
  await ip('link', 'add', a, 'type', 'veth', 'peer', 'name', `trv${pid.toString(36)}-0b`);
  try {
    await removeStaleLabs();
    assert.doesNotMatch((await ip('-o', 'link', 'show')).stdout, new RegExp(`: ${a}@`));
  } finally {
    await ip('link', 'del', a).catch(() => undefined);
  }
});

describe('failures while building name their line, and leave nothing behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'topo-ns-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function upFails(yaml: string, files: Record<string, string>, message: RegExp): Promise<void> {
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    const file = join(dir, 'lab.clab.yml');
    writeFileSync(file, yaml);
    const before = await namespaces();
    await assert.rejects(TopologyLab.up(loadTopology(file)), (e: Error) => {
      assert.match(e.message, message);
      assert.ok(!e.message.includes('\n'), e.message);
      return true;
    });
    assert.deepEqual((await namespaces()).filter((n) => !before.includes(n) && n.startsWith(`tr-${process.pid.toString(36)}-`)), []);
  }

  test('an exec line the kernel refuses', { timeout: 30_000 }, async () => {
    const yaml = `name: x
topology:
  nodes:
    h:
      kind: linux
      image: alpine:3
      exec:
        - ip addr add 10.0.0.1/24 dev eth1
        - ip route add default via 10.9.9.9
    g:
      kind: linux
      image: alpine:3
  links:
    - endpoints: ["h:eth1", "g:eth1"]
`;
    await upFails(yaml, {}, /lab\.clab\.yml:9: topology\.nodes\.h\.exec\[1\]: "ip route add default via 10\.9\.9\.9" failed: .*(gateway|unreachable)/i);
  });

  test('a line of frr.conf FRR refuses', { timeout: 30_000 }, async () => {
    const yaml = `name: x
topology:
  nodes:
    r:
      kind: linux
      image: quay.io/frrouting/frr:8.4.1
      binds: ["daemons:/etc/frr/daemons", "frr.conf:/etc/frr/frr.conf"]
`;
    await upFails(yaml, { daemons: 'ripd=yes\n', 'frr.conf': 'hostname r\n!\nrouter rip\n ip rip bfd\n!\n' }, /frr\.conf:4: FRR refused: Unknown command.*ip rip bfd/);
  });
});
