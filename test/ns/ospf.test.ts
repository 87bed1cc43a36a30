// OSPFv2 against itself and against real BIRD 2 and FRR ospfd, over TUN
// ports (the peer's kernel side of the TUN sits in the peer's namespace; a
// TUN has no L2, so multicast to 224.0.0.5 just works there).
//   1. BIRD, point-to-point, hello 1 dead 4, BFD: Full, routes both ways
//      (BIRD's into its kernel table too), a cost change respected both
//      ways, a block tells BIRD at once, a silent peer (BIRD killed) is
//      found by BFD.
//   2. FRR ospfd the same way (with bfdd).
//   3. Cryptographic authentication: BIRD with HMAC-SHA-256 (RFC 5709) and
//      FRR with MD5 (RFC 2328 D.3): Full and routes; a wrong key is refused
//      and counted; a key roll-over with BIRD (a reload adds the new key,
//      both switch to it, the old one stops being accepted) keeps the
//      adjacency Full throughout.
//   4. Every authentication type with BIRD (password, keyed MD5, HMAC-SHA-1,
//      -256, -384, -512) and a password with FRR: Full, routes both ways, nothing
//      refused.
//   5. A broadcast network with BIRD: DR/BDR election, BIRD's network LSA,
//      routes both ways through it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';

interface RouteJson { prefix: string; port: string; via: string | null; metric: number; source: string; state: string }
interface OspfJson {
  interfaces: { port: string; state: string; dr: string | null; bdr: string | null; auth: { type: string; keys: number[]; sendKey: number | null } }[];
  neighbours: { port: string; routerId: string; address: string; state: string; bfd: string | null; adjacencyChanges: number; authKey: number | null }[];
  routes: { prefix: string; type: string; cost: number; nextHops: { port: string; via: string | null }[] }[];
  database: { type: string; id: string; advRouter: string }[];
  counters: { droppedPackets: Record<string, number>; droppedLsas: Record<string, number> } & Record<string, unknown>;
}

let lab: Lab;

before(async () => {
  lab = await Lab.create('ospf');
});

after(async () => {
  await lab?.cleanup();
});

async function ospfRoute(r: RouterProcess, prefix: string): Promise<RouteJson | undefined> {
  const routes = await r.api<RouteJson[]>('GET', '/v1/routes');
  return routes.find((x) => x.prefix === prefix && x.source === 'ospf' && x.state === 'active');
}

async function ospfNeighbours(r: RouterProcess): Promise<OspfJson> {
  return JSON.parse(await r.cli('--json', 'ospf', 'neighbours')) as OspfJson;
}

const fullWith = (r: RouterProcess, rid: string) => async () => (await ospfNeighbours(r)).neighbours.find((n) => n.routerId === rid && n.state === 'Full');

async function ospfState(r: RouterProcess): Promise<OspfJson> {
  return r.api<OspfJson>('GET', '/v1/ospf');
}

/** Rewrite a router's config file (a function of the old) and reload it. */
async function reloadWith(r: RouterProcess, change: (c: { ospf: { ports: { cost?: number }[] } }) => void): Promise<void> {
  const c = JSON.parse(readFileSync(r.configFile, 'utf8'));
  change(c);
  writeFileSync(r.configFile, JSON.stringify(c, null, 2));
  await r.cli('reload');
}

/**
 * A peer's namespace on 10.0.<n>.0/30 (a network on its loopback), a host on
 * 10.0.<n>0.0/24, and tunroute between them: OSPF cost 10 toward the peer
 * with BFD at 100 ms × 3, the host's LAN passive.
 */
async function peerWithHost(o: { peer: string; dev: string; host: string; router: string; n: number; loopback: string }) {
  const ns = await lab.addNamespace(o.peer);
  const h = await lab.addNamespace(o.host);
  const dev = lab.dev(o.dev);
  await lab.hostPort(ns, dev, `10.0.${o.n}.2/30`);
  await lab.hostPort(h, lab.dev(o.host), `10.0.${o.n}0.2/24`, `10.0.${o.n}0.1`);
  await ip('-n', ns, 'addr', 'add', o.loopback, 'dev', 'lo');
  const r = await lab.startRouter(o.router, {
    ports: [
      { name: o.peer, device: dev, netns: ns, address: `10.0.${o.n}.1/30` },
      { name: 'lan', device: lab.dev(o.host), netns: h, address: `10.0.${o.n}0.1/24` },
    ],
    bfd: { interval: 100, multiplier: 3 },
    ospf: { routerId: '10.255.0.1', ports: [{ port: o.peer, cost: 10, helloInterval: 1, deadInterval: 4, bfd: true }, { port: 'lan', passive: true }] },
  });
  return { ns, dev, r };
}

function killPidFile(file: string): void {
  process.kill(Number(readFileSync(file, 'utf8').trim()), 'SIGKILL');
}

describe('tunroute ↔ BIRD 2 (OSPF point-to-point, BFD)', () => {
  test('Full; routes both ways; cost changes both ways; block → BIRD drops us at once; BIRD killed → BFD finds it', { timeout: 90_000 }, async () => {
    // An intra-area network behind BIRD (a stub on its loopback) and an external one (a static route).
    const { ns, dev, r } = await peerWithHost({ peer: 'bird', dev: 'bd', host: 'hb', router: 'rb', n: 3, loopback: '192.168.51.1/24' });
    const conf = (cost: number) => [
      'router id 10.255.0.2;',
      `log "${lab.dir}/bird-ospf.log" all;`,
      'debug protocols { states, events };',
      'protocol device { scan time 1; }',
      'protocol kernel { ipv4 { export where source = RTS_OSPF; }; }',
      'protocol static { ipv4; route 192.168.50.0/24 blackhole; }',
      `protocol bfd { interface "${dev}" { interval 100 ms; multiplier 3; }; }`,
      'protocol ospf v2 {',
      '  ipv4 { import all; export where source = RTS_STATIC; };',
      `  area 0 { interface "${dev}" { type ptp; cost ${cost}; hello 1; dead 4; bfd yes; }; interface "lo" { stub yes; }; };`,
      '}',
      '',
    ].join('\n');
    const bird = await Bird.start(lab, ns, conf(10), 'bird-ospf');
    const t0 = Date.now();
    await waitFor('BIRD Full with us', async () => /10\.255\.0\.1\s+\d+\s+Full/.test(await bird.cmd('show ospf neighbors')), 20_000, 50);
    await waitFor('we are Full with BIRD', fullWith(r, '10.255.0.2'), 10_000, 50);
    console.log(`# BIRD: Full ${Date.now() - t0} ms after BIRD started`);
    const birdRoute = (prefix: string, metric: number) => async () => {
      const out = await bird.cmd(`show route ${prefix}`).catch(() => '');
      return new RegExp(`${prefix.replace(/\./g, '\\.')}\\s+unicast \\[ospf1[^\\]]*\\] \\* I \\(150/${metric}\\)[^\\n]*\\n\\s+via 10\\.0\\.3\\.1 on `).test(out) ? out : undefined;
    };
    await waitFor('BIRD learns 10.0.30.0/24 (cost 10 + 10)', birdRoute('10.0.30.0/24', 20), 15_000, 50);
    const stub = await waitFor('we learn BIRD\'s 192.168.51.0/24 (intra-area)', () => ospfRoute(r, '192.168.51.0/24'), 15_000, 50);
    assert.deepEqual([stub.port, stub.via, stub.metric], ['bird', '10.0.3.2', 10 + 10]);
    const ext = await waitFor('we learn BIRD\'s 192.168.50.0/24 (external)', () => ospfRoute(r, '192.168.50.0/24'), 15_000, 50);
    assert.deepEqual([ext.port, ext.via], ['bird', '10.0.3.2']);
    const st = await ospfState(r);
    assert.equal(st.neighbours[0]?.bfd, 'Up');
    assert.equal(st.routes.find((x) => x.prefix === '192.168.50.0/24')?.type, 'external-2');
    assert.deepEqual(st.counters.droppedPackets, {});
    // As with FRR below: BIRD may send a new instance within MinLSArrival (1 s) of the last (seen on a
    // loaded machine, on main too): those are dropped (and resent by BIRD), nothing else.
    assert.deepEqual(Object.keys(st.counters.droppedLsas).filter((k) => k !== 'min-ls-arrival'), []);
    await waitFor('kernel route in BIRD\'s namespace', async () => (await ip('-n', ns, 'route', 'show', '10.0.30.0/24')).stdout.includes('via 10.0.3.1'), 10_000, 100);
    assert.match((await inNetns(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.30.2'])).stdout, /2 received/);

    // Cost changes: BIRD's (its route to our LAN), then ours (our route to its stub).
    writeFileSync(`${lab.dir}/bird-ospf.conf`, conf(30));
    await bird.cmd('configure');
    await waitFor('BIRD: 10.0.30.0/24 at 30 + 10', birdRoute('10.0.30.0/24', 40), 15_000, 50);
    await reloadWith(r, (c) => { c.ospf.ports[0].cost = 25; });
    await waitFor('we: 192.168.51.0/24 at 25 + 10', async () => (await ospfRoute(r, '192.168.51.0/24'))?.metric === 35, 15_000, 50);

    // BIRD re-originates its own router LSA at most every 5 s (MinLSInterval) and recalculates only
    // when an LSA's contents change: a flap within 5 s of its last LSA would leave it stale. Let that pass.
    await sleep(5500);
    // Block: BFD AdminDown and a Hello that lists nobody; BIRD drops the adjacency and our routes.
    const tb = Date.now();
    await r.api('POST', '/v1/ports/bird/block');
    await waitFor('BIRD drops 10.0.30.0/24', async () => !/10\.0\.30\.0\/24/.test(await bird.cmd('show route protocol ospf1')), 5000, 5);
    const droppedMs = Date.now() - tb;
    const nbr = await bird.cmd('show ospf neighbors');
    console.log(`# BIRD dropped our route ≤ ${droppedMs} ms after the block API call (BIRD's neighbours now: ${nbr.split('\n').filter((l) => /10\.255/.test(l)).join(' | ') || 'none'})`);
    assert.equal(await ospfRoute(r, '192.168.51.0/24'), undefined, 'ours are gone too');
    await r.api('POST', '/v1/ports/bird/unblock');
    const tu = Date.now();
    try {
      await waitFor('BIRD re-learns 10.0.30.0/24', birdRoute('10.0.30.0/24', 40), 20_000, 50);
    } catch (e) {
      console.log(readFileSync(`${lab.dir}/bird-ospf.log`, 'utf8').split('\n').slice(-60).join('\n'));
      console.log(r.events().filter((x) => x.time >= tu && String(x.event).startsWith('ospf')).map((x) => JSON.stringify(x)).join('\n'));
      throw e;
    }
    await waitFor('we re-learn 192.168.51.0/24', () => ospfRoute(r, '192.168.51.0/24'), 20_000, 50);
    console.log(`# after unblock, routes both ways again in ${Date.now() - tu} ms`);

    // A silent peer: BIRD killed; BFD (100 ms × 3) finds it and the adjacency goes at once.
    const killedAt = Date.now();
    killPidFile(`${lab.dir}/bird-ospf.pid`);
    const gone = await waitFor('we withdraw 192.168.51.0/24', () => r.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '192.168.51.0/24' && e.time >= killedAt), 5000, 10);
    const down = r.events().find((e) => e.event === 'ospf.neighbour' && e.to === 'Down' && e.time >= killedAt);
    console.log(`# BIRD killed → adjacency Down (${String(down?.cause)}) after ${down ? down.time - killedAt : '?'} ms, route withdrawn after ${gone.time - killedAt} ms`);
    assert.equal(down?.cause, 'bfd-down');
    assert.ok(gone.time - killedAt < 500, `withdrawn ${gone.time - killedAt} ms after the kill`);
  });
});

describe('tunroute ↔ FRR ospfd (point-to-point, BFD)', () => {
  test('Full; routes both ways; FRR\'s cost change; block → FRR drops us; FRR killed → BFD finds it', { timeout: 90_000 }, async () => {
    // Something for ospfd to redistribute: a connected network on its loopback.
    const { ns, dev, r } = await peerWithHost({ peer: 'frr', dev: 'fr', host: 'hf', router: 'rf', n: 4, loopback: '192.168.60.1/24' });
    const ospfd = (cost: number) => [
      'hostname frr-ospf', '!',
      `interface ${dev}`, ' ip ospf network point-to-point', ` ip ospf cost ${cost}`, ' ip ospf hello-interval 1', ' ip ospf dead-interval 4',
      ' ip ospf bfd', ' ip ospf bfd profile fast', '!',
      'router ospf', ' ospf router-id 10.255.0.3', ' network 10.0.4.0/30 area 0', ' redistribute connected', '!', '',
    ].join('\n');
    const bfdd = ['hostname frr-bfd', '!', 'bfd', ' profile fast', '  receive-interval 100', '  transmit-interval 100', '  detect-multiplier 3', ' !', '!', ''].join('\n');
    const t0 = Date.now();
    const frr = await Frr.start(lab, ns, { bfdd, ospfd: ospfd(10) }, 'frr-ospf');
    await waitFor('FRR Full with us', async () => /10\.255\.0\.1\s+\d+\s+Full\//.test(await frr.vtysh('show ip ospf neighbor')), 30_000, 100);
    await waitFor('we are Full with FRR', fullWith(r, '10.255.0.3'), 10_000, 50);
    console.log(`# FRR: Full ${Date.now() - t0} ms after ospfd started`);
    const frrRoute = (cost: number) => async () => {
      const out = await frr.vtysh('show ip route ospf');
      return new RegExp(`O>\\* 10\\.0\\.40\\.0/24 \\[110/${cost}\\] via 10\\.0\\.4\\.1, `).test(out) ? out : undefined;
    };
    await waitFor('FRR installs 10.0.40.0/24 (10 + 10)', frrRoute(20), 15_000, 100);
    const ext = await waitFor('we learn FRR\'s 192.168.60.0/24 (external)', () => ospfRoute(r, '192.168.60.0/24'), 15_000, 50);
    assert.deepEqual([ext.port, ext.via, ext.metric], ['frr', '10.0.4.2', 20]);
    const st = await ospfState(r);
    assert.equal(st.neighbours[0]?.bfd, 'Up');
    assert.deepEqual(st.counters.droppedPackets, {});
    // FRR may send a new instance within MinLSArrival (1 s) of the last: those are dropped (and resent by FRR), nothing else.
    assert.deepEqual(Object.keys(st.counters.droppedLsas).filter((k) => k !== 'min-ls-arrival'), []);
    assert.match((await inNetns(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.40.2'])).stdout, /2 received/);

    // FRR's cost change.
    await inNetns(ns, 'vtysh', ['--vty_socket', frr.dir, '-c', 'configure terminal', '-c', `interface ${dev}`, '-c', 'ip ospf cost 30']);
    await waitFor('FRR: 10.0.40.0/24 at 30 + 10', frrRoute(40), 15_000, 100);

    const tb = Date.now();
    await r.api('POST', '/v1/ports/frr/block');
    await waitFor('FRR drops 10.0.40.0/24', async () => !(await frr.vtysh('show ip route ospf')).includes('10.0.40.0/24'), 5000, 5);
    console.log(`# FRR dropped our route ≤ ${Date.now() - tb} ms after the block API call`);
    await r.api('POST', '/v1/ports/frr/unblock');
    const tu = Date.now();
    await waitFor('we re-learn 192.168.60.0/24', () => ospfRoute(r, '192.168.60.0/24'), 20_000, 50);
    const ours = Date.now() - tu;
    await waitFor('FRR re-learns 10.0.40.0/24', frrRoute(40), 20_000, 50);
    console.log(`# after unblock: we have FRR's routes again in ${ours} ms, FRR ours in ${Date.now() - tu} ms`);

    const killedAt = Date.now();
    killPidFile(`${frr.dir}/ospfd.pid`);
    killPidFile(`${frr.dir}/bfdd.pid`);
    const gone = await waitFor('we withdraw 192.168.60.0/24', () => r.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '192.168.60.0/24' && e.time >= killedAt), 5000, 10);
    const down = r.events().find((e) => e.event === 'ospf.neighbour' && e.to === 'Down' && e.time >= killedAt);
    console.log(`# FRR killed → adjacency Down (${String(down?.cause)}) after ${down ? down.time - killedAt : '?'} ms, route withdrawn after ${gone.time - killedAt} ms`);
    assert.equal(down?.cause, 'bfd-down');
    assert.ok(gone.time - killedAt < 500, `withdrawn ${gone.time - killedAt} ms after the kill`);
  });
});

describe('cryptographic authentication with BIRD (HMAC-SHA-256) and FRR (MD5)', () => {
  test('BIRD, HMAC-SHA-256: Full and routes; then a wrong key: dropped and counted, the adjacency goes', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('birdauth');
    const dev = lab.dev('ba');
    await lab.hostPort(ns, dev, '10.0.5.2/30');
    await ip('-n', ns, 'addr', 'add', '192.168.55.1/24', 'dev', 'lo');
    const r = await lab.startRouter('ra', {
      ports: [{ name: 'bird', device: dev, netns: ns, address: '10.0.5.1/30' }],
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'bird', helloInterval: 1, deadInterval: 4, auth: { type: 'hmac-sha256', keys: [{ id: 7, secret: 'tunroute-secret' }] } }] },
    });
    await Bird.start(lab, ns, [
      'router id 10.255.0.5;',
      'protocol device { scan time 1; }',
      'protocol ospf v2 {',
      '  ipv4 { import all; };',
      `  area 0 { interface "${dev}" { type ptp; hello 1; dead 4; authentication cryptographic; password "tunroute-secret" { id 7; algorithm hmac sha256; }; }; interface "lo" { stub yes; }; };`,
      '}',
      '',
    ].join('\n'), 'bird-auth');
    await waitFor('Full with BIRD (HMAC-SHA-256)', fullWith(r, '10.255.0.5'), 20_000, 100);
    await waitFor('we learn 192.168.55.0/24', () => ospfRoute(r, '192.168.55.0/24'), 15_000, 100);
    assert.deepEqual((await ospfState(r)).counters.droppedPackets, {});
    await reloadWith(r, (c) => { (c.ospf.ports[0] as { auth?: unknown }).auth = { type: 'hmac-sha256', keys: [{ id: 7, secret: 'wrong' }] }; });
    const dropped = await waitFor('BIRD\'s packets refused (bad digest)', async () => (await ospfState(r)).counters.droppedPackets['bad-digest'], 10_000, 100);
    assert.ok(dropped > 0);
    await waitFor('the adjacency is gone', async () => !(await fullWith(r, '10.255.0.5')()), 10_000, 100);
  });

  test('FRR, MD5: Full and routes both ways', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('frrauth');
    const dev = lab.dev('fa');
    await lab.hostPort(ns, dev, '10.0.6.2/30');
    await ip('-n', ns, 'addr', 'add', '192.168.66.1/24', 'dev', 'lo');
    const r = await lab.startRouter('rfa', {
      ports: [{ name: 'frr', device: dev, netns: ns, address: '10.0.6.1/30' }],
      routes: [{ prefix: '172.20.0.0/16', port: 'frr', via: '10.0.6.2' }],
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'frr', helloInterval: 1, deadInterval: 4, auth: { type: 'md5', keys: [{ id: 3, secret: 'md5-secret' }] } }], redistribute: ['static'] },
    });
    const frr = await Frr.start(lab, ns, {
      ospfd: ['hostname frr-auth', '!', `interface ${dev}`, ' ip ospf network point-to-point', ' ip ospf hello-interval 1', ' ip ospf dead-interval 4',
        ' ip ospf authentication message-digest', ' ip ospf message-digest-key 3 md5 md5-secret', '!',
        'router ospf', ' ospf router-id 10.255.0.6', ' network 10.0.6.0/30 area 0', ' redistribute connected', '!', ''].join('\n'),
    }, 'frr-auth');
    await waitFor('Full with FRR (MD5)', fullWith(r, '10.255.0.6'), 30_000, 100);
    await waitFor('we learn 192.168.66.0/24', () => ospfRoute(r, '192.168.66.0/24'), 15_000, 100);
    await waitFor('FRR learns our 172.20.0.0/16 (external, metric 1)', async () => /O>\* 172\.20\.0\.0\/16 \[110\/1\] via 10\.0\.6\.1/.test(await frr.vtysh('show ip route ospf')), 15_000, 100);
    assert.deepEqual((await ospfState(r)).counters.droppedPackets, {});
  });
});

/** A time as BIRD reads it ("YYYY-MM-DD hh:mm:ss", local time: BIRD runs with our time zone). */
function birdTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe('a key roll-over with BIRD (OSPF, HMAC-SHA-256)', () => {
  test('a reload adds key 2 in place; BIRD switches from key 1 to key 2, we 5 s later; key 1 stops being accepted — the adjacency stays Full throughout', { timeout: 90_000 }, async () => {
    const ns = await lab.addNamespace('birdroll');
    const dev = lab.dev('br');
    await lab.hostPort(ns, dev, '10.0.7.2/30');
    await ip('-n', ns, 'addr', 'add', '192.168.77.1/24', 'dev', 'lo');
    // Whole seconds: BIRD's times have no fraction.
    const start = Math.ceil(Date.now() / 1000) * 1000;
    // BIRD sends key 2 from switchAt, we from ourSwitch: for 5 s (longer than the dead interval) each must take the other's key.
    const switchAt = start + 25_000, ourSwitch = switchAt + 5000, oldGone = switchAt + 10_000, long = start - 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString();
    const r = await lab.startRouter('rbr', {
      ports: [{ name: 'bird', device: dev, netns: ns, address: '10.0.7.1/30' }],
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'bird', helloInterval: 1, deadInterval: 4, auth: { type: 'hmac-sha256', keys: [{ id: 1, secret: 'old-secret' }] } }] },
    });
    // BIRD has the whole roll-over from the start: key 1 sent until switchAt and accepted until oldGone, key 2 accepted already and sent from switchAt.
    const bird = await Bird.start(lab, ns, [
      'router id 10.255.0.7;',
      'protocol device { scan time 1; }',
      'protocol ospf v2 {',
      '  ipv4 { import all; };',
      `  area 0 { interface "${dev}" { type ptp; hello 1; dead 4; authentication cryptographic;`,
      `    password "old-secret" { id 1; generate to "${birdTime(switchAt)}"; accept to "${birdTime(oldGone)}"; algorithm hmac sha256; };`,
      `    password "new-secret" { id 2; generate from "${birdTime(switchAt)}"; accept from "${birdTime(long)}"; algorithm hmac sha256; };`,
      '  }; interface "lo" { stub yes; }; };',
      '}',
      '',
    ].join('\n'), 'bird-roll');
    const full = await waitFor('Full with BIRD (key 1)', async () => (await ospfState(r)).neighbours.find((n) => n.routerId === '10.255.0.7' && n.state === 'Full'), 20_000, 100);
    await waitFor('we learn 192.168.77.0/24', () => ospfRoute(r, '192.168.77.0/24'), 15_000, 100);
    const fullAt = Date.now();
    assert.equal(full.authKey, 1);
    // Our half of the roll-over, by reload: key 2 accepted at once and sent from ourSwitch, key 1 sent until then and accepted until oldGone.
    await reloadWith(r, (c) => {
      (c.ospf.ports[0] as { auth?: unknown }).auth = {
        type: 'hmac-sha256',
        keys: [{ id: 1, secret: 'old-secret', until: iso(ourSwitch), acceptUntil: iso(oldGone) }, { id: 2, secret: 'new-secret', from: iso(ourSwitch), acceptFrom: iso(long) }],
      };
    });
    assert.ok(Date.now() < switchAt - 5000, `the reload came ${switchAt - Date.now()} ms before the switch; the test needs it earlier`);
    assert.deepEqual((await ospfState(r)).interfaces[0]!.auth, { type: 'hmac-sha256', keys: [1, 2], sendKey: 1 });
    // Watch until well past the dead interval after key 1's accept window closed on both sides.
    const at = () => `switch${Date.now() >= switchAt ? '+' : ''}${Date.now() - switchAt} ms`;
    // Key ids seen, BIRD's (its last packet we took) and ours (the one we send now), as they change.
    const seen: string[] = [];
    while (Date.now() < oldGone + 4000 + 3000) {
      const s = await ospfState(r);
      const n = s.neighbours.find((x) => x.routerId === '10.255.0.7');
      assert.ok(n, `BIRD is still a neighbour at ${at()}`);
      assert.deepEqual([n.state, n.adjacencyChanges], ['Full', full.adjacencyChanges], `at ${at()}`);
      const keys = `bird ${n.authKey} us ${s.interfaces[0]!.auth.sendKey}`;
      if (seen.at(-1) !== keys) seen.push(keys);
      await sleep(200);
    }
    const s = await ospfState(r);
    assert.deepEqual(seen, ['bird 1 us 1', 'bird 2 us 1', 'bird 2 us 2'], 'BIRD moved to key 2 first, then we did');
    assert.equal(s.interfaces[0]!.auth.sendKey, 2);
    assert.deepEqual(s.counters.droppedPackets, {}, 'nothing refused on our side');
    assert.deepEqual(r.events().filter((e) => e.event === 'ospf.neighbour' && e.time >= fullAt), [], 'no neighbour state change logged since Full');
    // BIRD's side: it takes only key 2 now, and we are still Full there.
    assert.match(await bird.cmd('show ospf neighbors'), /10\.255\.0\.1\s+\d+\s+Full\/PtP/);
    assert.ok(await ospfRoute(r, '192.168.77.0/24'));
  });
});

/** Each type with BIRD as BIRD spells it (ours, BIRD's interface lines). */
const BIRD_OSPF_AUTH: [string, Record<string, unknown>, string[]][] = [
  ['password', { type: 'password', keys: [{ id: 1, secret: 'pass-wd' }] }, ['authentication simple;', 'password "pass-wd";']],
  ['keyed MD5', { type: 'md5', keys: [{ id: 3, secret: 'md5-secret' }] }, ['authentication cryptographic;', 'password "md5-secret" { id 3; algorithm keyed md5; };']],
  ['HMAC-SHA-1', { type: 'hmac-sha1', keys: [{ id: 4, secret: 'sha1-secret' }] }, ['authentication cryptographic;', 'password "sha1-secret" { id 4; algorithm hmac sha1; };']],
  ['HMAC-SHA-256', { type: 'hmac-sha256', keys: [{ id: 5, secret: 'sha256-secret' }] }, ['authentication cryptographic;', 'password "sha256-secret" { id 5; algorithm hmac sha256; };']],
  ['HMAC-SHA-384', { type: 'hmac-sha384', keys: [{ id: 8, secret: 'sha384-secret' }] }, ['authentication cryptographic;', 'password "sha384-secret" { id 8; algorithm hmac sha384; };']],
  ['HMAC-SHA-512', { type: 'hmac-sha512', keys: [{ id: 6, secret: 'sha512-secret' }] }, ['authentication cryptographic;', 'password "sha512-secret" { id 6; algorithm hmac sha512; };']],
];

// Each test has its own namespace, peer and router, and mostly waits on Hello timers: run them side by side.
describe('every authentication type with BIRD, a password with FRR', { concurrency: true }, () => {
  // 10.0.2N.0/30 toward the peer (ours .1), the peer's stub 192.168.2N.0/24, our static 172.2N.0.0/16.
  let n = 20;
  async function peerLab(label: string, auth: Record<string, unknown>) {
    const i = n++;
    const ns = await lab.addNamespace(label);
    const dev = lab.dev(`a${i}`);
    await lab.hostPort(ns, dev, `10.0.${i}.2/30`);
    await ip('-n', ns, 'addr', 'add', `192.168.${i}.1/24`, 'dev', 'lo');
    const r = await lab.startRouter(`r${label}`, {
      ports: [{ name: 'peer', device: dev, netns: ns, address: `10.0.${i}.1/30` }],
      routes: [{ prefix: `172.${i}.0.0/16`, port: 'peer', via: `10.0.${i}.2` }],
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'peer', helloInterval: 1, deadInterval: 4, auth }], redistribute: ['static'] },
    });
    return { i, ns, dev, r, theirs: `192.168.${i}.0/24`, ours: `172.${i}.0.0/16` };
  }

  for (const [name, ours, theirs] of BIRD_OSPF_AUTH) {
    test(`BIRD, ${name}: Full both ways, routes both ways, nothing refused`, { timeout: 45_000 }, async () => {
      const label = `ba${name.replace(/[^a-z0-9]/gi, '').toLowerCase()}`;
      const p = await peerLab(label, ours);
      const bird = await Bird.start(lab, p.ns, [
        'router id 10.255.0.9;',
        'protocol device { scan time 1; }',
        'protocol ospf v2 {',
        '  ipv4 { import all; };',
        `  area 0 { interface "${p.dev}" { type ptp; hello 1; dead 4; ${theirs.join(' ')} }; interface "lo" { stub yes; }; };`,
        '}',
        '',
      ].join('\n'), `bird-${label}`);
      try {
        const nb = await waitFor(`Full with BIRD (${name})`, fullWith(p.r, '10.255.0.9'), 20_000, 100);
        await waitFor(`we learn ${p.theirs}`, () => ospfRoute(p.r, p.theirs), 15_000, 100);
        await waitFor(`BIRD learns ${p.ours}`, async () => new RegExp(`${p.ours.replace(/\./g, '\\.')}\\s+unicast \\[ospf1`).test(await bird.cmd('show route')), 15_000, 100);
        assert.match(await bird.cmd('show ospf neighbors'), /10\.255\.0\.1\s+\d+\s+Full\/PtP/);
        const s = await ospfState(p.r);
        assert.equal(s.interfaces[0]!.auth.type, ours.type);
        // The key id BIRD signs with (cryptographic types; a password has none).
        assert.equal(nb.authKey, ours.type === 'password' ? null : (ours.keys as { id: number }[])[0]!.id);
        assert.deepEqual(s.counters.droppedPackets, {});
      } finally {
        killPidFile(join(lab.dir, `bird-${label}.pid`));
        await p.r.stop();
      }
    });
  }

  test('FRR, password (ip ospf authentication): Full, routes both ways, nothing refused', { timeout: 60_000 }, async () => {
    const p = await peerLab('frrpw', { type: 'password', keys: [{ id: 0, secret: 'pass-wd' }] });
    const frr = await Frr.start(lab, p.ns, {
      ospfd: ['hostname frr-pw', '!', `interface ${p.dev}`, ' ip ospf network point-to-point', ' ip ospf hello-interval 1', ' ip ospf dead-interval 4',
        ' ip ospf authentication', ' ip ospf authentication-key pass-wd', '!',
        'router ospf', ' ospf router-id 10.255.0.10', ` network 10.0.${p.i}.0/30 area 0`, ' redistribute connected', '!', ''].join('\n'),
    }, 'frr-pw');
    await waitFor('Full with FRR (password)', fullWith(p.r, '10.255.0.10'), 30_000, 100);
    await waitFor(`we learn ${p.theirs}`, () => ospfRoute(p.r, p.theirs), 15_000, 100);
    await waitFor(`FRR learns ${p.ours}`, async () => new RegExp(`O>\\* ${p.ours.replace(/\./g, '\\.')} \\[110/1\\] via 10\\.0\\.${p.i}\\.1`).test(await frr.vtysh('show ip route ospf')), 15_000, 100);
    assert.deepEqual((await ospfState(p.r)).counters.droppedPackets, {});
  });
});

describe('tunroute ↔ BIRD 2 on a broadcast network', () => {
  test('DR/BDR election with BIRD (BIRD priority 10 → DR, us BDR), BIRD\'s network LSA, routes both ways', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('birdbc');
    const h = await lab.addNamespace('hbc');
    const dev = lab.dev('bc');
    await lab.hostPort(ns, dev, '10.0.8.2/24');
    await lab.hostPort(h, lab.dev('hbc'), '10.0.80.2/24', '10.0.80.1');
    await ip('-n', ns, 'addr', 'add', '192.168.88.1/24', 'dev', 'lo');
    const r = await lab.startRouter('rbc', {
      ports: [
        { name: 'bird', device: dev, netns: ns, address: '10.0.8.1/24' },
        { name: 'lan', device: lab.dev('hbc'), netns: h, address: '10.0.80.1/24' },
      ],
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'bird', network: 'broadcast', priority: 1, helloInterval: 1, deadInterval: 4 }, { port: 'lan', passive: true }] },
    });
    const bird = await Bird.start(lab, ns, [
      'router id 10.255.0.8;',
      'protocol device { scan time 1; }',
      'protocol ospf v2 {',
      '  ipv4 { import all; };',
      `  area 0 { interface "${dev}" { type broadcast; priority 10; hello 1; dead 4; wait 4; }; interface "lo" { stub yes; }; };`,
      '}',
      '',
    ].join('\n'), 'bird-bc');
    await waitFor('Full with BIRD on the broadcast network', fullWith(r, '10.255.0.8'), 30_000, 100);
    const st = await waitFor('BIRD is DR, we are BDR', async () => {
      const s = await ospfState(r);
      const i = s.interfaces.find((x) => x.port === 'bird');
      return i?.dr === '10.0.8.2' && i.bdr === '10.0.8.1' ? s : undefined;
    }, 15_000, 100);
    assert.equal(st.interfaces.find((x) => x.port === 'bird')?.state, 'Backup');
    assert.match(await bird.cmd('show ospf interface'), /State: DR/);
    await waitFor('BIRD\'s network LSA', async () => (await ospfState(r)).database.some((e) => e.type === 'network' && e.id === '10.0.8.2' && e.advRouter === '10.255.0.8'), 15_000, 100);
    const stub = await waitFor('we learn 192.168.88.0/24 through the DR\'s network', () => ospfRoute(r, '192.168.88.0/24'), 15_000, 100);
    assert.deepEqual([stub.port, stub.via, stub.metric], ['bird', '10.0.8.2', 20]);
    await waitFor('BIRD learns 10.0.80.0/24', async () => /10\.0\.80\.0\/24\s+unicast \[ospf1[^\n]*\n\s+via 10\.0\.8\.1 on /.test(await bird.cmd('show route protocol ospf1')), 15_000, 100);
    // The CLI's tables: the database with BIRD's network LSA, the routes with their type, cost and next hop.
    assert.match(await r.cli('ospf', 'database'), /network\s+10\.0\.8\.2\s+10\.255\.0\.8\s/);
    assert.match(await r.cli('ospf', 'routes'), /192\.168\.88\.0\/24\s+intra\s+20\s+10\.0\.8\.2 on bird\s+10\.255\.0\.8/);
    assert.match(await r.cli('ospf', 'neighbours'), /bird\s+10\.0\.8\.1\/24\s+broadcast\s+Backup\s+10\s+10\.0\.8\.2\s+10\.0\.8\.1\s+none\s+1\/4\s+1\n[^]*bird\s+10\.255\.0\.8\s+10\.0\.8\.2\s+Full\s+10\s/);
    assert.deepEqual((await ospfState(r)).counters.droppedPackets, {});
  });
});
