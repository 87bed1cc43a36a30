// tunroute's container image, proven: build it (scripts/container-image.sh,
// reused when up to date), run two routers in containers and wire them the
// way containerlab does — a veth pair whose ends are moved into the running
// containers as eth1. The entry point waits for that link (CLAB_INTFS), then
// starts the daemon.
//
// Router traffic uses TUN ports (tunroute has no Ethernet ports yet): each
// daemon makes its TUNs inside its container, and the test moves their
// kernel sides out — host ports into the host namespaces, the r1–r2 link
// into a wiring namespace where tc joins the pair:
//
//   host a ─TUN─ [r1 container] ─TUN═tc═TUN─ [r2 container] ─TUN─ host b
//                      └──────── eth1 ═veth═ eth1 ────────┘
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Lab } from '../../src/testbed/lab.js';
import { buildImage, docker, engineRunning, IMAGE, linkContainers, removeStaleContainers, RouterContainer, stopEngine } from '../../src/testbed/containers.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';
import { startHttpEcho } from './helpers.js';

interface PortJson { name: string; state: string; rxPackets: number; txPackets: number }

const BUILD_TIMEOUT_MS = 20 * 60_000; // a fresh machine: engine, base image and a cold build
let startedEngine = false;
let buildOutput = '';
let lab: Lab;
let a: string;
let b: string;
let r1: RouterContainer | undefined;
let r2: RouterContainer | undefined;
let pid1BeforeLink = '';

before(async () => {
  startedEngine = !(await engineRunning());
  buildOutput = await buildImage(BUILD_TIMEOUT_MS);
  await removeStaleContainers();
  lab = await Lab.create('ctr');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  const wire = await lab.wiring();
  const dev = { a: lab.dev('a'), l1: lab.dev('l1'), l2: lab.dev('l2'), b: lab.dev('b') };
  const config = (name: string, cfg: object): string => {
    const file = join(lab.dir, `${name}.json`);
    writeFileSync(file, JSON.stringify({ router: `${lab.id}-${name}`, ...cfg }, null, 2));
    return file;
  };
  // No `netns` on the ports: each daemon makes its TUNs in its own container.
  const r1Config = config('r1', {
    ports: [
      { name: 'a', device: dev.a, address: '10.0.1.1/24' },
      { name: 'r2', device: dev.l1, address: '10.0.12.1/30' },
    ],
    routes: [{ prefix: '10.0.2.0/24', port: 'r2', via: '10.0.12.2' }],
  });
  const r2Config = config('r2', {
    ports: [
      { name: 'r1', device: dev.l2, address: '10.0.12.2/30' },
      { name: 'b', device: dev.b, address: '10.0.2.1/24' },
    ],
    routes: [{ prefix: '10.0.1.0/24', port: 'r1', via: '10.0.12.1' }],
  });
  // containerlab tells each node how many links it will move in.
  r1 = await RouterContainer.start(lab, 'r1', r1Config, { CLAB_INTFS: '1' });
  r2 = await RouterContainer.start(lab, 'r2', r2Config, { CLAB_INTFS: '1' });
  pid1BeforeLink = await r1.pid1();

  await linkContainers(lab, r1, 'eth1', r2, 'eth1');
  for (const [c, addr] of [[r1, '10.0.99.1/30'], [r2, '10.0.99.2/30']] as const) {
    await ip('-n', c.netns, 'addr', 'add', addr, 'dev', 'eth1');
  }
  for (const c of [r1, r2]) {
    await waitFor(`daemon in ${c.name}`, () => c.cli('port', 'list').then(() => true), 20_000, 100)
      .catch(async (e: Error) => { throw new Error(`${e.message}; container output: ${(await c.logs()).slice(-600)}`); });
  }

  // The kernel sides of the daemons' TUNs: out of the containers.
  await r1.moveOut(dev.a, a);
  await r1.moveOut(dev.l1, wire);
  await r2.moveOut(dev.l2, wire);
  await r2.moveOut(dev.b, b);
  for (const [ns, d, addr, gw] of [[a, dev.a, '10.0.1.2/24', '10.0.1.1'], [b, dev.b, '10.0.2.2/24', '10.0.2.1']] as const) {
    await ip('-n', ns, 'link', 'set', d, 'up');
    await ip('-n', ns, 'addr', 'add', addr, 'dev', d);
    await ip('-n', ns, 'route', 'add', 'default', 'via', gw, 'dev', d);
  }
  await ip('-n', wire, 'link', 'set', dev.l1, 'up');
  await ip('-n', wire, 'link', 'set', dev.l2, 'up');
  await lab.join(wire, dev.l1, dev.l2);
}, { timeout: BUILD_TIMEOUT_MS + 120_000 });

after(async () => {
  await r1?.remove();
  await r2?.remove();
  await lab?.cleanup();
  if (startedEngine) await stopEngine();
});

test('the image is built by the one command; it ships the CLI and no compilers', { timeout: 60_000 }, async (t) => {
  const summary = buildOutput.trim().split('\n').filter((l) => l.startsWith('container-image: built')).pop();
  assert.ok(summary, `no build summary in the script's output:\n${buildOutput.slice(-1000)}`);
  t.diagnostic(summary);
  const version = await docker(['run', '--rm', '--network', 'none', IMAGE, '--version']);
  assert.equal(version.stdout.trim(), '0.1.0');
  const tools = await docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sh', IMAGE, '-c',
    'for c in gcc g++ cc make python3 tsc node-gyp; do command -v $c; done; for c in ip ping curl tunroute; do command -v $c >/dev/null || echo "missing $c"; done']);
  assert.equal(tools.stdout.trim(), '', `compilers present or runtime tools missing: ${tools.stdout}`);
});

test('the entry point waited for the containerlab link before starting the router', async () => {
  assert.match(pid1BeforeLink, /container-entrypoint\.sh/, `PID 1 before the link: ${pid1BeforeLink}`);
  assert.match(await r1!.pid1(), /^node .*tunroute\.js run --config/);
  const logs = await r1!.logs();
  assert.match(logs, /tunroute-entrypoint: interfaces: .*eth1/);
});

test('ping from host a through both containerised routers to host b (TTL − 2)', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
  assert.match(r.stdout, /3 received/);
  assert.match(r.stdout, /ttl=62 /);
  const back = await inNetns(b, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.1.2']);
  assert.match(back.stdout, /2 received/);
});

test('HTTP from host a to host b through the containers', { timeout: 30_000 }, async () => {
  const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
  try {
    const r = await inNetns(a, 'curl', ['-sS', '--max-time', '5', 'http://10.0.2.2:8080/?bytes=100000']);
    assert.equal(r.stdout, 'x'.repeat(100000));
  } finally {
    server.kill('SIGKILL');
  }
});

test('`tunroute port list` through docker exec shows both ports up and carrying traffic', { timeout: 20_000 }, async (t) => {
  const text = await r1!.cli('port', 'list');
  t.diagnostic(`docker exec ${r1!.name} tunroute port list`);
  for (const line of text.trimEnd().split('\n')) t.diagnostic(line);
  assert.match(text, /^PORT\s+DEVICE/m);
  for (const c of [r1!, r2!]) {
    const ports = JSON.parse(await c.cli('--json', 'port', 'list')) as PortJson[];
    assert.equal(ports.length, 2);
    for (const p of ports) {
      assert.equal(p.state, 'up', `${c.name} port ${p.name}`);
      assert.ok(p.rxPackets > 0 && p.txPackets > 0, `${c.name} port ${p.name} rx ${p.rxPackets} tx ${p.txPackets}`);
    }
  }
});

test('the containerlab link (eth1 veth) carries traffic between the containers', { timeout: 20_000 }, async () => {
  const r = await r1!.exec(['ping', '-c', '2', '-i', '0.2', '-W', '2', '10.0.99.2']);
  assert.match(r.stdout, /2 received/);
});

test('docker stop ends the router cleanly (SIGTERM to PID 1, exit status 0)', { timeout: 30_000 }, async () => {
  await docker(['stop', '-t', '10', r2!.name], 25_000);
  const state = (await docker(['inspect', '-f', '{{.State.ExitCode}}', r2!.name])).stdout.trim();
  assert.equal(state, '0', `exit status ${state}; output: ${(await r2!.logs()).slice(-600)}`);
  const r = await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2'], { allowFail: true });
  assert.notEqual(r.code, 0, 'host b still reachable with r2 stopped');
});
