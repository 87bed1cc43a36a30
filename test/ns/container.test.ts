// tunroute's container image in a lab, as containerlab runs it: build the
// image with the project's one command (reused when up to date), then bring
// up the shipped embodiment-1 topology in container mode — its four tunroute
// routers as containers of that image (no network but what the lab moves
// in, the node's binds, CLAB_INTFS, the node's cmd), every link a veth pair
// whose ends are moved into the containers' namespaces and renamed as the
// endpoints say; hosts and servers as namespaces:
//
//   fleet ──┐                      ┌─ [r2] ── [tu] ── server1
//           ├── [r1] ──────────────┤           └── line ──┐
//   test ───┘                      └─ [r3] ─────────── server2      [ ] = container
//
//   1. the image ships the CLI and no compilers;
//   2. the lab: containers as containerlab starts them, each entry point
//      waited for its links, Ethernet ports up on eth1…, RIP across the
//      containers, the CLI through the bound socket and `docker exec`,
//      HTTP from the fleet to the service, `docker stop` a clean exit; down
//      removes containers, namespaces and veths;
//   3. the demo with `--containers`: block and drain rehearsed over it, every
//      check passes;
//   4. a failure while building removes the containers made so far.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildImage, docker, engineRunning, IMAGE, LAB_LABEL, stopEngine } from '../../src/testbed/containers.js';
import type { ContainerRouter } from '../../src/testbed/container-nodes.js';
import type { RehearsalResult } from '../../src/testbed/rehearsal.js';
import { inNetns, ip, run, waitFor } from '../../src/testbed/shell.js';
import { loadTopology } from '../../src/testbed/topology/index.js';
import { TopologyLab } from '../../src/testbed/topology-lab.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const EMB1 = join(ROOT, 'topologies/embodiment1/embodiment1.clab.yml');
const ROUTERS = ['r1', 'r2', 'r3', 'tu'];
const BUILD_TIMEOUT_MS = 20 * 60_000; // a fresh machine: engine, base image and a cold build
const MINE = `tr-${process.pid.toString(36)}-`;

interface PortJson { name: string; device: string; state: string; rxPackets: number; txPackets: number }

let startedEngine = false;
let buildOutput = '';
const dir = mkdtempSync(join(tmpdir(), 'tunroute-ctlab-'));

before(async () => {
  startedEngine = !(await engineRunning());
  buildOutput = await buildImage(BUILD_TIMEOUT_MS, IMAGE);
}, { timeout: BUILD_TIMEOUT_MS + 60_000 });

after(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (startedEngine) await stopEngine();
});

/** What this process left: containers, namespaces, veths being wired. */
async function leftovers(): Promise<string[]> {
  const containers = (await docker(['ps', '-a', '--filter', `name=^${MINE}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  const namespaces = (await ip('netns', 'list')).stdout.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(MINE));
  const veths = [...(await ip('-o', 'link', 'show')).stdout.matchAll(new RegExp(`^\\d+: (trv${process.pid.toString(36)}-[^@:]+)`, 'gm'))].map((m) => m[1]!);
  return [...containers, ...namespaces, ...veths];
}

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

describe('embodiment 1 with its routers as containers of the image', () => {
  let tl: TopologyLab | undefined;
  after(async () => {
    await tl?.down();
  });

  test('started and wired as containerlab does it; traffic and RIP across the containers; down removes everything', { timeout: 180_000 }, async (t) => {
    const topology = loadTopology(EMB1);
    tl = await TopologyLab.up(topology, { containers: { image: IMAGE } });
    const lab = tl;
    const router = (n: string) => lab.routers.get(n) as ContainerRouter;

    // One container per router, of the image, as containerlab starts a linux node.
    const ids = (await docker(['ps', '--filter', `label=${LAB_LABEL}=${lab.lab.id}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(ids, ROUTERS.map((n) => lab.ns(n)).sort());
    for (const n of ROUTERS) {
      const r = router(n);
      const [image, network, pid, env, cmd] = (await docker(['inspect', '-f', '{{.Config.Image}}|{{.HostConfig.NetworkMode}}|{{.State.Pid}}|{{json .Config.Env}}|{{json .Config.Cmd}}', r.container])).stdout.trim().split('|');
      assert.equal(image, IMAGE);
      assert.equal(network, 'none');
      assert.ok((JSON.parse(env!) as string[]).includes(`CLAB_INTFS=${topology.nodes.get(n)!.interfaces.length}`), env);
      // The node's cmd, plus the log the testbed places.
      assert.deepEqual(JSON.parse(cmd!), ['run', '--config', `/config/${n}.json`, '--log-file', `/run/tunroute/${n}.log`]);
      // The daemon the rehearsal measures is the container's PID 1 (the entry point exec'd it), in the namespace the links went into.
      assert.equal(r.pid(), Number(pid));
      assert.match(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '), /^node \/opt\/tunroute\/bin\/tunroute\.js run --config/);
      assert.equal((await ip('netns', 'identify', pid!)).stdout.trim(), lab.ns(n));
    }

    // Each entry point waited for its links (all up, under their final names) before the daemon started.
    const logs = await docker(['logs', router('r1').container]);
    assert.match(logs.stdout + logs.stderr, /tunroute-entrypoint: interfaces: eth1 eth2 eth3 eth4 lo/);

    // The CLI inside the container (docker exec) and on this machine (the bound socket) reach the same daemon.
    const text = (await router('r1').exec(['tunroute', 'port', 'list'])).stdout;
    for (const line of text.trimEnd().split('\n')) t.diagnostic(line);
    const ports = JSON.parse((await router('r1').exec(['tunroute', '--json', 'port', 'list'])).stdout) as PortJson[];
    assert.deepEqual(ports.map((p) => [p.name, p.device, p.state]), [['fleet', 'eth1', 'up'], ['test', 'eth2', 'up'], ['r2', 'eth3', 'up'], ['r3', 'eth4', 'up']]);
    assert.deepEqual((JSON.parse(await router('r1').cli('--json', 'port', 'list')) as PortJson[]).map((p) => p.name), ['fleet', 'test', 'r2', 'r3']);

    // RIP across the containers' veths: r1 learns the service from r2 (better) and r3.
    await waitFor('r1 learns 1.1.1.1 via r2 and r3 over RIP', async () => {
      const routes = await router('r1').cli('route', 'list');
      return /^1\.1\.1\.1\/32\s+10\.0\.12\.2\s+r2\s+2\s+rip\s+\*active/m.test(routes) && /^1\.1\.1\.1\/32\s+10\.0\.13\.2\s+r3\s+6\s+rip\s+standby/m.test(routes);
    }, 30_000, 200);

    // A poll from the fleet's namespace through r1, r2 and tu (all containers) to server 1; ping shows the three hops.
    const poll = await inNetns(lab.ns('fleet'), 'curl', ['-sS', '--max-time', '5', '-o', '/dev/null', '-w', '%{http_code} %header{x-served-by}', 'http://1.1.1.1/']);
    assert.equal(poll.stdout, '200 server1');
    const ping = await inNetns(lab.ns('fleet'), 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '1.1.1.1']);
    assert.match(ping.stdout, /2 received/);
    assert.match(ping.stdout, /ttl=61 /);

    // docker stop: SIGTERM to the daemon, a clean exit.
    await docker(['stop', '-t', '10', router('tu').container], 30_000);
    const exit = (await docker(['inspect', '-f', '{{.State.ExitCode}}', router('tu').container])).stdout.trim();
    assert.equal(exit, '0');

    await lab.down();
    tl = undefined;
    assert.deepEqual(await leftovers(), []);
  });
});

test('the demo rehearses embodiment 1 with its routers in containers: block and drain pass', { timeout: 360_000 }, async (t) => {
  const out = join(dir, 'demo');
  const started = Date.now();
  const r = await run(process.execPath, [join(ROOT, 'dist/scripts/demo.js'), '--topology', EMB1, '--containers', '--image', IMAGE,
    '--fleet', '300', '--interval', '2s', '--warmup', '2s', '--after', '4s', '--out', out], { timeoutMs: 300_000, allowFail: true });
  t.diagnostic(`demo --containers: ${((Date.now() - started) / 1000).toFixed(1)} s, exit ${r.code}`);
  const runs = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RehearsalResult[];
  assert.deepEqual(runs.map((x) => x.options.cutover), ['block', 'drain']);
  for (const x of runs) {
    assert.equal(x.lab.name, 'tunroute-emb1 (routers in containers)');
    t.diagnostic(`${x.options.cutover}: ${x.metrics.fleetPolls} polls, ${x.metrics.failedPolls} failed, ${x.metrics.answeredByNewAfterSwitch}/${x.metrics.sentAfterSwitch} after the switch on server2`);
    for (const c of x.checks) assert.ok(c.ok, `${x.options.cutover}: ${c.name}: ${c.detail}`);
    // The routers' costs were read from the containers' daemons.
    for (const n of ROUTERS) assert.ok(x.costs.processes.some((p) => p.name === n && p.role === 'router' && p.cpuS > 0), `${n} measured`);
  }
  assert.equal(r.code, 0, r.stderr.slice(-800));
  assert.match(r.stdout, /Overall verdict: PASS/);
  assert.deepEqual(await leftovers(), []);
});

test('a failure while building removes the containers made so far', { timeout: 120_000 }, async () => {
  // embodiment 1 with one more exec line on server 2 that the kernel refuses (a gateway on no link).
  const copy = join(dir, 'emb1-broken');
  cpSync(join(ROOT, 'topologies/embodiment1'), copy, { recursive: true });
  const file = join(copy, 'embodiment1.clab.yml');
  const text = readFileSync(file, 'utf8');
  const last = '        - ip route add 10.0.2.2/32 via 10.9.0.1 dev eth2\n';
  assert.ok(text.includes(last));
  writeFileSync(file, text.replace(last, `${last}        - ip route add 10.77.0.0/16 via 10.66.0.1\n`));
  const line = text.slice(0, text.indexOf(last) + last.length).split('\n').length;
  await assert.rejects(TopologyLab.up(loadTopology(file), { containers: { image: IMAGE } }), (e: Error) => {
    assert.match(e.message, new RegExp(`embodiment1\\.clab\\.yml:${line}: topology\\.nodes\\.server2\\.exec\\[5\\]: "ip route add 10\\.77\\.0\\.0/16 via 10\\.66\\.0\\.1" failed`));
    return true;
  });
  assert.deepEqual(await leftovers(), []);
});
