// Topology files (containerlab's format): every mistake is one line
// `FILE:LINE: field: problem`, at the line where the mistake is.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadTopology, TopologyError, type Topology } from '../../src/testbed/topology/index.js';
import { schemaProblems } from '../../src/testbed/topology/schema.js';
import { YamlSource } from '../../src/testbed/topology/source.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Write a topology (and files beside it) to a fresh directory and load it. */
function load(yaml: string, files: Record<string, string> = {}): { file: string; topology?: Topology; error?: TopologyError } {
  const dir = mkdtempSync(join(tmpdir(), 'topo-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const file = join(dir, 'lab.clab.yml');
  writeFileSync(file, yaml);
  try {
    return { file, topology: loadTopology(file) };
  } catch (e) {
    if (e instanceof TopologyError) return { file, error: e };
    throw e;
  }
}

/** 1-based line of the first line containing `marker`. */
function lineOf(text: string, marker: string, from = 0): number {
  const lines = text.split('\n');
  const i = lines.findIndex((l, n) => n >= from && l.includes(marker));
  assert.ok(i >= 0, `marker ${marker} not in the text`);
  return i + 1;
}

/** The load fails with one line: FILE:LINE: FIELD: PROBLEM. */
function fails(yaml: string, marker: string, field: string, problem: RegExp, files: Record<string, string> = {}): TopologyError {
  const r = load(yaml, files);
  assert.ok(r.error, `expected an error, got a topology (${r.topology?.name})`);
  const e = r.error;
  assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
  assert.equal(e.file, r.file, e.message);
  assert.equal(e.line, lineOf(yaml, marker), e.message);
  assert.equal(e.field, field, e.message);
  assert.match(e.problem, problem, e.message);
  assert.ok(e.message.startsWith(`${r.file}:${e.line}: ${field}: `), e.message);
  return e;
}

const HOSTS = `name: t
topology:
  defaults:
    kind: linux
  nodes:
    h1:
      image: alpine:3
      exec:
        - ip addr add 10.0.0.1/24 dev eth1
    h2:
      image: alpine:3
      exec:
        - ip addr add 10.0.0.2/24 dev eth1
  links:
    - endpoints: ["h1:eth1", "h2:eth1"]
`;

describe('a good topology', () => {
  test('two hosts and a brief link: nodes, roles, interfaces, exec words, default MTU 9500', () => {
    const { topology: t } = load(HOSTS);
    assert.ok(t);
    assert.equal(t.name, 't');
    assert.deepEqual([...t.nodes.keys()], ['h1', 'h2']);
    const h1 = t.nodes.get('h1')!;
    assert.equal(h1.role, 'host');
    assert.deepEqual(h1.interfaces, ['eth1']);
    assert.deepEqual(h1.exec.map((e) => [e.argv, e.line, e.field]), [[['ip', 'addr', 'add', '10.0.0.1/24', 'dev', 'eth1'], 9, 'topology.nodes.h1.exec[0]']]);
    assert.deepEqual(t.links.map((l) => [l.a, l.b, l.mtu, l.line]), [[{ node: 'h1', interface: 'eth1', mac: null }, { node: 'h2', interface: 'eth1', mac: null }, 9500, 15]]);
    assert.equal(t.migration, null);
  });

  test('the extended veth form: interface, MAC, MTU', () => {
    const { topology: t } = load(HOSTS.replace('    - endpoints: ["h1:eth1", "h2:eth1"]\n', `    - type: veth
      mtu: 1500
      endpoints:
        - node: h1
          interface: eth1
          mac: AA:C1:AB:00:00:01
        - node: h2
          interface: eth1
`));
    assert.ok(t);
    assert.deepEqual([t.links[0]!.a.mac, t.links[0]!.mtu], ['aa:c1:ab:00:00:01', 1500]);
  });

  test('settings are inherited as containerlab does: node → group → kind → defaults; lists joined, binds replaced by destination, maps merged', () => {
    const { topology: t, error } = load(`name: t
topology:
  defaults:
    kind: linux
    image: alpine:3
    exec: ["ip link set eth1 up"]
    binds: ["a.txt:/etc/x.txt", "b:/data"]
    labels: { a: "1", b: "2" }
    sysctls: { net.ipv4.ip_forward: 1 }
  kinds:
    linux:
      labels: { b: "3" }
  groups:
    g:
      image: debian:12
      exec: ["ip addr add 10.0.0.1/24 dev eth1"]
  nodes:
    n:
      group: g
      binds: ["c.txt:/etc/x.txt"]
      labels: { c: 4 }
      exec: ["ip link set eth1 up", "ip route add default via 10.0.0.2"]
    m:
      image: alpine:3
      exec: ["ip addr add 10.0.0.2/24 dev eth1"]
  links:
    - endpoints: ["n:eth1", "m:eth1"]
`);
    assert.ok(t, error?.message);
    const n = t.nodes.get('n')!;
    assert.equal(n.image, 'debian:12');
    assert.deepEqual(n.exec.map((e) => e.argv.join(' ')), ['ip link set eth1 up', 'ip addr add 10.0.0.1/24 dev eth1', 'ip route add default via 10.0.0.2']);
    assert.deepEqual(n.binds.map((b) => [b.host.split('/').pop(), b.container]), [['b', '/data'], ['c.txt', '/etc/x.txt']]);
    assert.deepEqual(n.labels, { a: '1', b: '3', c: '4' });
    assert.deepEqual(n.sysctls, { 'net.ipv4.ip_forward': '1' });
  });
});

describe('mistakes in the topology, each at its line', () => {
  test('unknown node in a link (brief and extended)', () => {
    fails(HOSTS.replace('"h2:eth1"]', '"h3:eth1"]'), 'h3:eth1', 'topology.links[0].endpoints[1]', /unknown node "h3" \(nodes: h1, h2\)/);
    fails(HOSTS.replace('    - endpoints: ["h1:eth1", "h2:eth1"]\n', '    - type: veth\n      endpoints:\n        - node: h1\n          interface: eth1\n        - node: h9\n          interface: eth1\n'),
      'node: h9', 'topology.links[0].endpoints[1].node', /unknown node "h9"/);
  });

  test('an endpoint used twice names the link that has it', () => {
    const yaml = `${HOSTS}    - endpoints: ["h1:eth2", "h2:eth1"]\n`;
    fails(yaml, '"h1:eth2", "h2:eth1"', 'topology.links[1].endpoints[1]', /endpoint h2:eth1 is already used by link 1 \(line 15\)/);
  });

  test('interface names: at most 15 bytes, no "/", not lo or eth0', () => {
    fails(HOSTS.replace('"h2:eth1"]', '"h2:averylonginterface"]'), 'averylong', 'topology.links[0].endpoints[1]', /"averylonginterface" is 18 bytes; Linux allows at most 15/);
    fails(HOSTS.replace('"h2:eth1"]', '"h2:e/1"]'), 'e/1', 'topology.links[0].endpoints[1]', /not a Linux interface name/);
    fails(HOSTS.replace('"h2:eth1"]', '"h2:eth0"]'), 'h2:eth0', 'topology.links[0].endpoints[1]', /eth0 is the management interface/);
    fails(HOSTS.replace('"h2:eth1"]', '"h2"]'), '"h2"]', 'topology.links[0].endpoints[1]', /"h2" is not "node:interface"/);
  });

  test('a duplicate node (a YAML key twice)', () => {
    const yaml = HOSTS.replace('    h2:\n', '    h1:\n      image: alpine:3\n    h2:\n');
    const r = load(yaml);
    assert.equal(r.error?.line, lineOf(yaml, '    h1:', 6));
    assert.match(r.error!.message, /: YAML: duplicate key/);
  });

  test('kind: another kind, a misspelt one, none', () => {
    fails(HOSTS.replace('      image: alpine:3\n      exec:\n        - ip addr add 10.0.0.2', '      kind: nokia_srlinux\n      image: alpine:3\n      exec:\n        - ip addr add 10.0.0.2'),
      'nokia_srlinux', 'topology.nodes.h2.kind', /the testbed runs only kind linux nodes/);
    fails(HOSTS.replace('kind: linux', 'kind: linx'), 'linx', 'topology.defaults.kind', /containerlab's schema: must be one of nokia_srlinux/);
    fails(HOSTS.replace('  defaults:\n    kind: linux\n', ''), '    h1:', 'topology.nodes.h1', /no kind/);
  });

  test('a field containerlab does not know, and one the testbed does not emulate', () => {
    fails(HOSTS.replace('      exec:\n        - ip addr add 10.0.0.1', '      exce:\n        - ip addr add 10.0.0.1'), 'exce:', 'topology.nodes.h1.exce', /containerlab's schema: unknown field/);
    fails(HOSTS.replace('  nodes:\n', '  nodes:\n    h0:\n      image: alpine:3\n      network-mode: host\n'), 'network-mode', 'topology.nodes.h0.network-mode', /not supported by the testbed/);
  });

  test('no image; a plain host with a command', () => {
    fails(HOSTS.replace('    h1:\n      image: alpine:3\n', '    h1:\n      labels: { x: y }\n'), '    h1:', 'topology.nodes.h1', /no image/);
    fails(HOSTS.replace('    h1:\n      image: alpine:3\n', '    h1:\n      image: alpine:3\n      cmd: sleep infinity\n'), 'sleep infinity', 'topology.nodes.h1.cmd', /not run by the testbed/);
  });

  test('bad addresses and prefixes in exec lines', () => {
    fails(HOSTS.replace('10.0.0.2/24', '10.0.0.300/24'), '10.0.0.300', 'topology.nodes.h2.exec[0]', /bad address: "10.0.0.300\/24": "10.0.0.300" is not an IPv4 address/);
    fails(HOSTS.replace('10.0.0.2/24', '10.0.0.2/33'), '10.0.0.2/33', 'topology.nodes.h2.exec[0]', /prefix length must be 0-32/);
    fails(`${HOSTS.replace('    h2:', '        - ip route add 10.9.0.1/24 via 10.0.0.2\n    h2:')}`, '10.9.0.1/24', 'topology.nodes.h1.exec[1]', /bad destination: .*host bits set \(did you mean 10.9.0.0\/24\?\)/);
    fails(`${HOSTS.replace('    h2:', '        - ip route add default via 10.0.0.256\n    h2:')}`, '10.0.0.256', 'topology.nodes.h1.exec[1]', /bad gateway/);
    fails(HOSTS.replace('10.0.0.2/24 dev eth1', '10.0.0.2/24 dev eth2'), 'dev eth2', 'topology.nodes.h2.exec[0]', /interface "eth2" is not one of this node's \(lo, eth1/);
  });

  test('exec lines: no shell, nothing outside the namespace', () => {
    fails(HOSTS.replace('ip addr add 10.0.0.2/24 dev eth1', 'touch /tmp/x'), 'touch', 'topology.nodes.h2.exec[0]', /"touch": the testbed runs only ip, tc, sysctl, ethtool/);
    fails(HOSTS.replace('ip addr add 10.0.0.2/24 dev eth1', 'ip addr add 10.0.0.2/24 dev eth1 > /tmp/log'), '/tmp/log', 'topology.nodes.h2.exec[0]', /">" is shell syntax/);
    fails(HOSTS.replace('ip addr add 10.0.0.2/24 dev eth1', 'ip -n other addr add 10.0.0.2/24 dev eth1'), '-n other', 'topology.nodes.h2.exec[0]', /acts on another namespace/);
    fails(HOSTS.replace('ip addr add 10.0.0.2/24 dev eth1', 'sysctl -w kernel.panic=1'), 'kernel.panic', 'topology.nodes.h2.exec[0]', /only net\.\* settings/);
  });

  test('what containerlab would change before reading: templates and $VARIABLES', () => {
    fails(HOSTS.replace('10.0.0.2/24', '{{ .addr }}'), '{{', 'topology.nodes.h2.exec[0]', /Go template/);
    fails(HOSTS.replace('alpine:3\n      exec:\n        - ip addr add 10.0.0.2', '${IMAGE}\n      exec:\n        - ip addr add 10.0.0.2'), '${IMAGE}', 'topology.nodes.h2.image', /expands "\$VAR"/);
  });

  test('links: other types, addresses on links, MTU', () => {
    fails(HOSTS.replace('    - endpoints: ["h1:eth1", "h2:eth1"]\n', '    - type: macvlan\n      endpoint: { node: h1, interface: eth1 }\n      host-interface: eth9\n'), 'macvlan', 'topology.links[0].type', /link type "macvlan" is not built by the testbed/);
    fails(`${HOSTS}      ipv4: ["10.0.0.1/24", "10.0.0.2/24"]\n`, 'ipv4:', 'topology.links[0].ipv4', /not on kind linux: add them with "ip addr add"/);
    fails(`${HOSTS}      mtu: 40\n`, 'mtu: 40', 'topology.links[0].mtu', /from 68 to 65535/);
    fails(HOSTS.replace('"h1:eth1"', '"host:veth9"'), 'host:veth9', 'topology.links[0].endpoints[0]', /containerlab's host endpoint/);
  });

  test('name: missing, or not a lab name; YAML syntax', () => {
    fails(HOSTS.replace('name: t\n', ''), 'topology:', 'name', /missing \(required\)/);
    fails(HOSTS.replace('name: t', 'name: "a b"'), 'name:', 'name', /must match pattern|must be letters/);
    const r = load(HOSTS.replace('    h2:\n', '    h2: [\n'));
    assert.match(r.error!.message, new RegExp(`^${r.file}:\\d+: YAML: `));
  });
});

const ROUTER_JSON = JSON.stringify({
  router: 'r1',
  ports: [
    { name: 'h1', type: 'ethernet', device: 'eth1', address: '10.0.0.2/24' },
    { name: 'lab', device: 'tunlab0', address: '10.8.0.1/24' },
  ],
}, null, 2);

const ROUTER = `name: t
topology:
  defaults:
    kind: linux
  nodes:
    h1:
      image: alpine:3
      exec:
        - ip addr add 10.0.0.1/24 dev eth1
    r1:
      image: tunroute:latest
      cmd: run --config /config/r1.json
      binds:
        - configs/r1.json:/config/r1.json:ro
  links:
    - endpoints: ["h1:eth1", "r1:eth1"]
`;

describe('node software: config files found through the binds, checked', () => {
  test('a tunroute router: its config checked by tunroute\'s own reader; Ethernet ports are link interfaces', () => {
    const { topology: t, error } = load(ROUTER, { 'configs/r1.json': ROUTER_JSON });
    assert.ok(t, error?.message);
    const r1 = t.nodes.get('r1')!;
    assert.equal(r1.role, 'tunroute');
    assert.equal(r1.tunroute?.kind, 'run');
    if (r1.tunroute?.kind !== 'run') return;
    assert.deepEqual(r1.tunroute.ethernetPorts, ['eth1']);
    assert.deepEqual(r1.tunroute.config.ports.map((p) => p.name), ['h1', 'lab']);
    assert.ok(r1.tunroute.configFile.endsWith('/configs/r1.json'));
  });

  test('missing config: not bound, no such file, not a file', () => {
    fails(ROUTER.replace('/config/r1.json:ro', '/etc/r1.json:ro'), 'binds:', 'topology.nodes.r1.binds', /router config \/config\/r1.json is not bound into the container/, { 'configs/r1.json': ROUTER_JSON });
    fails(ROUTER, 'configs/r1.json:', 'topology.nodes.r1.binds[0]', /router config .*configs\/r1.json \(bound to \/config\/r1.json\) cannot be read: ENOENT/);
    fails(ROUTER.replace('configs/r1.json:/config/r1.json', 'configs:/config'), 'configs:/config', 'topology.nodes.r1.binds[0]', /is not a file/, { 'configs/r1.json/x': '' });
    fails(ROUTER.replace('configs/r1.json:/config', '__clabDir__/r1.json:/config'), '__clabDir__', 'topology.nodes.r1.binds[0]', /containerlab creates empty at deploy/);
  });

  test('a mistake inside the router config names that file, its line and field, and the node', () => {
    const bad = ROUTER_JSON.replace('10.8.0.1/24', '10.8.0.1/40');
    const r = load(ROUTER, { 'configs/r1.json': bad });
    const e = r.error!;
    assert.ok(e.file.endsWith('configs/r1.json'), e.message);
    assert.equal(e.line, lineOf(bad, '10.8.0.1/40'));
    assert.equal(e.field, 'ports[1].address');
    assert.match(e.message, /prefix length must be 0-32, without leading zeros \(router config of node "r1", .*lab\.clab\.yml:12\)$/);
  });

  test('router config: Ethernet ports must be link interfaces; link interfaces must be Ethernet ports; no netns', () => {
    const r = load(ROUTER, { 'configs/r1.json': ROUTER_JSON.replace('"eth1"', '"eth2"') });
    assert.match(r.error!.message, /r1\.json:\d+: ports\[0\]\.device: "eth2" is not one of this node's link interfaces \(eth1\)/);
    const r2 = load(ROUTER, { 'configs/r1.json': ROUTER_JSON.replace('"type": "ethernet",', '') });
    assert.match(r2.error!.message, /ports\[0\]\.device: "eth1" is a link interface: make the port "type": "ethernet"/);
    const r3 = load(ROUTER, { 'configs/r1.json': ROUTER_JSON.replace('"device": "tunlab0",', '"device": "tunlab0", "netns": "x",') });
    assert.match(r3.error!.message, /ports\[1\]\.netns: .*leave "netns" out/);
    const r4 = load(ROUTER, { 'configs/r1.json': ROUTER_JSON.replace('"ethernet"', '"eth"') });
    assert.match(r4.error!.message, /ports\[0\]\.type: must be "ethernet"/);
  });

  test('tunroute commands: known ones, their addresses checked', () => {
    fails(ROUTER.replace('cmd: run --config /config/r1.json', 'cmd: route list'), 'route list', 'topology.nodes.r1.cmd', /"route" is not a tunroute command the testbed runs/, { 'configs/r1.json': ROUTER_JSON });
    fails(ROUTER.replace('cmd: run --config /config/r1.json', 'cmd: serve --address 1.1.1.x --name s'), 'serve', 'topology.nodes.r1.cmd', /--address: bad address/);
    fails(ROUTER.replace('cmd: run --config /config/r1.json', 'cmd: serve --name s'), 'serve', 'topology.nodes.r1.cmd', /tunroute serve needs --address/);
    fails(ROUTER.replace('cmd: run --config /config/r1.json', 'cmd: probe --target http://1.1.1.1/ --source 10.0.0.999'), 'probe', 'topology.nodes.r1.cmd', /--source: bad address/);
    fails(ROUTER.replace('cmd: run --config /config/r1.json', 'cmd: fleet --target http://1.1.1.1/ --prefix 10.100.0.1/16 --count 10'), 'fleet', 'topology.nodes.r1.cmd', /--prefix: bad address: .*host bits/);
  });

  test('FRR needs frr.conf and daemons bound in; BIRD its bird.conf; neither a cmd', () => {
    const frr = `name: t
topology:
  nodes:
    r:
      kind: linux
      image: quay.io/frrouting/frr:8.4.1
      binds:
        - frr.conf:/etc/frr/frr.conf
`;
    fails(frr, 'binds:', 'topology.nodes.r.binds', /FRR daemons file \/etc\/frr\/daemons is not bound into the container/, { 'frr.conf': '' });
    const ok = load(`${frr}        - daemons:/etc/frr/daemons\n`, { 'frr.conf': '', daemons: 'ripd=yes\nbfdd=no\nstaticd=yes\nvtysh_enable=yes\nzebra_options="-A 127.0.0.1"\n' });
    assert.deepEqual(ok.topology?.nodes.get('r')?.frr?.daemons, ['zebra', 'ripd', 'staticd']);
    const bad = load(`${frr}        - daemons:/etc/frr/daemons\n`, { 'frr.conf': '', daemons: 'ripd=yes\nfoo=yes\n' });
    assert.match(bad.error!.message, /:9: topology\.nodes\.r\.binds\[1\]: .*daemons:2: "foo" is not an FRR daemon/);
    fails(frr.replace('      binds:', '      cmd: /usr/lib/frr/zebra\n      binds:'), 'cmd:', 'topology.nodes.r.cmd', /starts its daemons itself/, { 'frr.conf': '' });
    fails(frr.replace('quay.io/frrouting/frr:8.4.1', 'ghcr.io/srl-labs/bird:2.13'), 'binds:', 'topology.nodes.r.binds', /BIRD config \/etc\/bird.conf is not bound/);
  });
});

const MIGRATION_FILES = {
  'r2.json': JSON.stringify({ router: 'r2', ports: [{ name: 's2', type: 'ethernet', device: 'eth1', address: '10.1.2.1/24' }, { name: 't', type: 'ethernet', device: 'eth2', address: '10.0.2.1/24' }] }, null, 2),
  'migration.yml': `service: 1.1.1.1
servers: { from: s1, to: s2 }
fleet: { node: test, prefix: 10.100.0.0/16, count: 100, interval: 5s }
test-appliance: { node: test, address: 10.0.2.2 }
cutover:
  mode: block
  block: { router: r2, port: s2 }
`,
};

const MIGRATION = `name: t
topology:
  defaults:
    kind: linux
    image: tunroute:latest
    labels:
      tunroute.migration: migration.yml
    binds:
      - __clabDir__/logs:/var/log/tunroute
  nodes:
    r2:
      cmd: run --config /config/r2.json
      binds: ["r2.json:/config/r2.json"]
    s1:
      cmd: serve --address 1.1.1.1 --name s1
    s2:
      cmd: serve --address 1.1.1.1 --name s2 --log /var/log/tunroute/s2.log
      exec: ["ip addr add 10.1.2.2/24 dev eth1"]
    test:
      exec: ["ip addr add 10.0.2.2/24 dev eth1"]
  links:
    - endpoints: ["r2:eth1", "s2:eth1"]
    - endpoints: ["r2:eth2", "test:eth1"]
`;

describe('the migration settings file', () => {
  test('read and cross-checked: servers, fleet, test appliance, cut-over and where the router reads the access log', () => {
    const { topology: t, error } = load(MIGRATION, MIGRATION_FILES);
    assert.ok(t?.migration, error?.message);
    assert.deepEqual({ ...t.migration, file: undefined }, {
      file: undefined, service: '1.1.1.1', servers: { from: 's1', to: 's2' },
      fleet: { node: 'test', prefix: '10.100.0.0/16', count: 100, intervalMs: 5000 },
      testAppliance: { node: 'test', address: '10.0.2.2' },
      cutover: { mode: 'block', block: { router: 'r2', port: 's2', accessLog: '/var/log/tunroute/s2.log' }, drain: null },
      fallback: null,
      trigger: true,
    });
  });

  test('the fall-back: by default where the drain acts; or named (a tunroute router\'s port)', () => {
    const s = MIGRATION_FILES['migration.yml'];
    const drain = load(MIGRATION, { ...MIGRATION_FILES, 'migration.yml': `${s}  drain: { router: r2, port: t }\n` });
    assert.deepEqual(drain.topology?.migration?.fallback, { router: 'r2', port: 't', kernel: false }, drain.error?.message);
    const named = load(MIGRATION, { ...MIGRATION_FILES, 'migration.yml': `${s}fallback: { router: r2, port: s2 }\n` });
    assert.deepEqual(named.topology?.migration?.fallback, { router: 'r2', port: 's2', kernel: false }, named.error?.message);
  });

  /** The settings file's line of `marker`, for errors reported there. */
  function settingsFails(settings: string, marker: string, field: string, problem: RegExp, yaml = MIGRATION): void {
    const r = load(yaml, { ...MIGRATION_FILES, 'migration.yml': settings });
    const e = r.error;
    assert.ok(e, 'expected an error');
    assert.ok(e.file.endsWith('migration.yml'), e.message);
    assert.equal(e.line, lineOf(settings, marker), e.message);
    assert.equal(e.field, field, e.message);
    assert.match(e.problem, problem, e.message);
  }

  test('mistakes in it, at their lines', () => {
    const s = MIGRATION_FILES['migration.yml'];
    settingsFails(s.replace('to: s2', 'to: s9'), 'servers:', 'servers.to', /unknown node "s9"/);
    settingsFails(s.replace('to: s2', 'to: test'), 'servers:', 'servers.to', /must run tunroute serve/);
    settingsFails(s.replace('to: s2', 'to: s1').replace('from: s1', 'from: s2'), 'servers:', 'servers.to', /must write an access log/);
    settingsFails(s.replace('address: 10.0.2.2', 'address: 10.0.2.3'), 'test-appliance', 'test-appliance.address', /10.0.2.3 is not an address of node "test"/);
    settingsFails(s.replace('address: 10.0.2.2', 'address: 10.0.2'), 'test-appliance', 'test-appliance.address', /bad address/);
    settingsFails(s.replace('port: s2', 'port: r1'), 'block:', 'cutover.block.port', /router "r2" has no port "r1" \(ports: s2, t\)/);
    settingsFails(s.replace('mode: block', 'mode: drain'), 'mode: drain', 'cutover.mode', /drain: say where it acts/);
    settingsFails(s.replace('interval: 5s', 'interval: soon'), 'fleet:', 'fleet.interval', /is not a duration/);
    settingsFails(`${s}colour: blue\n`, 'colour', 'colour', /unknown field/);
    settingsFails(`${s}fallback: { router: r2, port: eth1 }\n`, 'fallback:', 'fallback.port', /router "r2" has no port "eth1" \(ports: s2, t\)/);
    settingsFails(`${s}fallback: { router: test, port: eth1 }\n`, 'fallback:', 'fallback.router', /must be a tunroute router, or an FRR or BIRD node/);
    settingsFails(s, 'block:', 'cutover.block.router', /router "r2" cannot read s2's access log/, MIGRATION.replace('      binds: ["r2.json:/config/r2.json"]', '      binds: ["r2.json:/config/r2.json", "/tmp:/var/log/tunroute"]'));
  });

  test('the label naming a file that is not there', () => {
    const r = load(MIGRATION, { 'r2.json': MIGRATION_FILES['r2.json'] });
    assert.equal(r.error?.field, 'topology.defaults.labels.tunroute.migration');
    assert.equal(r.error?.line, lineOf(MIGRATION, 'tunroute.migration'));
    assert.match(r.error!.problem, /migration settings: .*migration\.yml:0: cannot read: ENOENT/);
  });
});

describe('containerlab\'s schema (vendored)', () => {
  test('catches what containerlab refuses, with the field', () => {
    assert.deepEqual(schemaProblems(YamlSource.parse('x', HOSTS).value), []);
    const bad = schemaProblems({ name: 't', topology: { nodes: { a: { kind: 'linux', imagee: 'x' } } }, extra: 1 });
    assert.deepEqual(bad.filter((p) => !p.inBranch).map((p) => p.path.join('.')).sort(), ['extra', 'topology.nodes.a.imagee']);
  });
});

test('a file that is not there', () => {
  assert.throws(() => loadTopology('/nonexistent/lab.clab.yml'), (e: unknown) => e instanceof TopologyError && e.message === '/nonexistent/lab.clab.yml:0: cannot read: ENOENT');
});
