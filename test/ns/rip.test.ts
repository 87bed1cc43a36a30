// RIPv2 against itself and against real BIRD 2 and FRR ripd, over TUN ports.
//   1. host a — r1 ═ r2 — host b (wiring namespace): each learns the other's
//      LAN, ping crosses both; blocking r1's link port makes r2 withdraw
//      r1's LAN at once (the poisoned Response), target < 50 ms.
//   2. BIRD in a namespace whose NIC is a tunroute port: routes both ways;
//      a port block makes BIRD drop our routes within 1 s; unblock restores.
//   3. FRR ripd (+ zebra) the same way: routes both ways.
//   4. r3 ═ r4 with `bfd: true` on the RIP ports: routes only once BFD is Up;
//      SIGKILL r4 → r3 withdraws its routes when BFD declares it down
//      (cause rip-bfd-down), long before the RIP timeout.
//   5. BIRD with `bfd yes` in its RIP interface and us with
//      `bfd: true`: sessions Up, routes both ways.
//   6. The migration's fall-back (R1 from R2 to R3): m1 hears 1.1.1.1/32 from m2
//      (metric 1 + 1) and from m3 (5 + 1), keeps both; `tunroute port block`
//      on m2's port toward m1 → m1's FIB moves to m3 at once (< 50 ms after
//      m2's port.blocked), not an update period later.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';

interface RouteJson { prefix: string; port: string; via: string | null; metric: number; source: string; state: string }
interface RipJson {
  neighbours: { port: string; address: string; state: string; routes: number; badPackets: number; badRoutes: number }[];
  routes: { prefix: string; metric: number; nextHop: string; port: string; neighbour: string; state: string; best: boolean }[];
  counters: { droppedPackets: Record<string, number>; droppedEntries: Record<string, number> } & Record<string, unknown>;
}

const RIP_TIMERS = { updateTime: 5, timeoutTime: 30, garbageTime: 20 };

let lab: Lab;

before(async () => {
  lab = await Lab.create('rip');
});

after(async () => {
  await lab?.cleanup();
});

async function ripRoute(r: RouterProcess, prefix: string): Promise<RouteJson | undefined> {
  const routes = await r.api<RouteJson[]>('GET', '/v1/routes');
  return routes.find((x) => x.prefix === prefix && x.source === 'rip' && x.state === 'active');
}

/** `tunroute rip list --json`, through the CLI. */
async function ripList(r: RouterProcess): Promise<RipJson> {
  return JSON.parse(await r.cli('--json', 'rip', 'list')) as RipJson;
}

describe('tunroute ↔ tunroute', () => {
  let r1: RouterProcess;
  let r2: RouterProcess;
  let a: string;
  let b: string;

  before(async () => {
    a = await lab.addNamespace('a');
    b = await lab.addNamespace('b');
    await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
    await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
    const wire = await lab.link(lab.dev('l1'), lab.dev('l2'));
    r1 = await lab.startRouter('r1', {
      ports: [
        { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
        { name: 'r2', device: lab.dev('l1'), netns: wire, address: '10.0.12.1/30' },
      ],
      rip: { ports: ['r2'], ...RIP_TIMERS },
    });
    r2 = await lab.startRouter('r2', {
      ports: [
        { name: 'r1', device: lab.dev('l2'), netns: wire, address: '10.0.12.2/30' },
        { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
      ],
      rip: { ports: ['r1'], ...RIP_TIMERS },
    });
  });

  test('each learns the other\'s LAN (metric 2, via the other\'s link address); ping crosses both', { timeout: 30_000 }, async () => {
    const on1 = await waitFor('r1 learns 10.0.2.0/24', () => ripRoute(r1, '10.0.2.0/24'), 10_000, 50);
    const on2 = await waitFor('r2 learns 10.0.1.0/24', () => ripRoute(r2, '10.0.1.0/24'), 10_000, 50);
    assert.deepEqual([on1.port, on1.via, on1.metric], ['r2', '10.0.12.2', 2]);
    assert.deepEqual([on2.port, on2.via, on2.metric], ['r1', '10.0.12.1', 2]);
    const list = await ripList(r1);
    assert.deepEqual(list.neighbours.map((n) => [n.port, n.address, n.state, n.badPackets, n.badRoutes]), [['r2', '10.0.12.2', 'up', 0, 0]]);
    assert.ok(list.routes.some((r) => r.prefix === '10.0.2.0/24' && r.metric === 2 && r.state === 'active'));
    // The link subnet comes back poisoned (split horizon), so it is never learned.
    assert.equal(await ripRoute(r1, '10.0.12.0/30'), undefined);
    assert.deepEqual(list.counters.droppedPackets, {});

    const ping = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
    assert.match(ping.stdout, /3 received/);
    assert.match(ping.stdout, /ttl=62 /);
  });

  test('block r1\'s link port → r2 withdraws r1\'s LAN at once (poisoned Response), < 50 ms; unblock → back', { timeout: 30_000 }, async () => {
    await waitFor('r2 has 10.0.1.0/24', () => ripRoute(r2, '10.0.1.0/24'), 10_000, 50);
    const t0 = Date.now();
    await r1.api('POST', '/v1/ports/r2/block');
    const withdrawn = await waitFor('r2 route.withdrawn 10.0.1.0/24',
      () => r2.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '10.0.1.0/24' && e.time >= t0), 5000, 5);
    const blocked = r1.events().find((e) => e.event === 'port.blocked' && e.port === 'r2')!;
    const dt = withdrawn.time - t0;
    console.log(`# block (API call at ${t0}, r1 port.blocked at +${blocked.time - t0} ms) → r2 route.withdrawn at +${dt} ms (cause ${String(withdrawn.cause)})`);
    assert.equal(withdrawn.cause, 'rip-withdrawn');
    assert.ok(dt < 50, `r2 withdrew ${dt} ms after the block`);
    const ping = await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2'], { allowFail: true });
    assert.doesNotMatch(ping.stdout, /1 received/);

    await r1.api('POST', '/v1/ports/r2/unblock');
    await waitFor('r2 re-learns 10.0.1.0/24', () => ripRoute(r2, '10.0.1.0/24'), 10_000, 50);
    await waitFor('r1 re-learns 10.0.2.0/24', () => ripRoute(r1, '10.0.2.0/24'), 10_000, 50);
    const again = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.2.2']);
    assert.match(again.stdout, /2 received/);
  });
});

describe('tunroute ↔ BIRD 2', () => {
  test('routes both ways; a port block makes BIRD drop ours within 1 s; unblock restores them', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('bird');
    const h = await lab.addNamespace('hb');
    const dev = lab.dev('bd');
    await lab.hostPort(ns, dev, '10.0.3.2/24');
    await lab.hostPort(h, lab.dev('hb'), '10.0.30.2/24', '10.0.30.1');
    const r = await lab.startRouter('rb', {
      ports: [
        { name: 'bird', device: dev, netns: ns, address: '10.0.3.1/24' },
        { name: 'lan', device: lab.dev('hb'), netns: h, address: '10.0.30.1/24' },
      ],
      rip: { ports: ['bird'], ...RIP_TIMERS },
    });
    const bird = await Bird.start(lab, ns, [
      'router id 10.0.3.2;',
      'protocol device { scan time 1; }',
      'protocol kernel { ipv4 { export where source = RTS_RIP; }; }',
      'protocol static { ipv4; route 192.168.50.0/24 blackhole; }',
      'protocol rip {',
      '  ipv4 { import all; export all; };',
      `  interface "${dev}" { update time 5; timeout time 30; };`,
      '}',
      '',
    ].join('\n'));
    const birdHasOurs = async () => {
      const out = await bird.cmd('show route protocol rip1');
      return /10\.0\.30\.0\/24\s+unicast \[rip1[^\n]*\n\s+via 10\.0\.3\.1 on /.test(out) ? out : undefined;
    };

    const seen = await waitFor('BIRD learns 10.0.30.0/24 via 10.0.3.1', birdHasOurs, 15_000, 100);
    assert.match(seen, /10\.0\.30\.0\/24\s+unicast \[rip1 [^\]]*\] \* \(120\/2\)/, 'metric 2 (our 1 + its 1)');
    const ours = await waitFor('we learn 192.168.50.0/24 from BIRD', () => ripRoute(r, '192.168.50.0/24'), 15_000, 100);
    assert.deepEqual([ours.port, ours.via, ours.metric], ['bird', '10.0.3.2', 2]);
    const list = await ripList(r);
    const nb = list.neighbours.find((n) => n.address === '10.0.3.2')!;
    assert.equal(nb.state, 'up');
    assert.equal(nb.badPackets + nb.badRoutes, 0);
    // BIRD put our LAN into its kernel table: its namespace reaches the host behind us.
    await waitFor('kernel route in BIRD\'s namespace', async () => (await ip('-n', ns, 'route', 'show', '10.0.30.0/24')).stdout.includes('via 10.0.3.1'), 10_000, 100);
    assert.match((await inNetns(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.30.2'])).stdout, /2 received/);

    const t0 = Date.now();
    await r.api('POST', '/v1/ports/bird/block');
    await waitFor('BIRD drops 10.0.30.0/24', async () => !(await bird.cmd('show route protocol rip1')).includes('10.0.30.0/24'), 1000, 10);
    const dropMs = Date.now() - t0;
    console.log(`# BIRD dropped our route ≤ ${dropMs} ms after the block API call`);
    assert.ok(dropMs < 1000);
    assert.equal(await ripRoute(r, '192.168.50.0/24'), undefined, 'we dropped BIRD\'s routes too');

    await r.api('POST', '/v1/ports/bird/unblock');
    const t1 = Date.now();
    await waitFor('BIRD re-learns 10.0.30.0/24', birdHasOurs, 15_000, 50);
    await waitFor('we re-learn 192.168.50.0/24', () => ripRoute(r, '192.168.50.0/24'), 15_000, 50);
    console.log(`# after unblock, both ways again in ${Date.now() - t1} ms`);
  });
});

describe('tunroute ↔ FRR ripd', () => {
  test('routes both ways (show ip rip / show ip route rip, and ours)', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('frr');
    const h = await lab.addNamespace('hf');
    const dev = lab.dev('fr');
    await lab.hostPort(ns, dev, '10.0.4.2/24');
    await lab.hostPort(h, lab.dev('hf'), '10.0.40.2/24', '10.0.40.1');
    // Something for ripd to redistribute: a connected network (on lo; this kernel has no dummy links).
    await ip('-n', ns, 'addr', 'add', '192.168.60.1/24', 'dev', 'lo');
    const r = await lab.startRouter('rf', {
      ports: [
        { name: 'frr', device: dev, netns: ns, address: '10.0.4.1/24' },
        { name: 'lan', device: lab.dev('hf'), netns: h, address: '10.0.40.1/24' },
      ],
      rip: { ports: ['frr'], ...RIP_TIMERS },
    });
    const frr = await Frr.start(lab, ns, {
      ripd: ['hostname frr-rip', '!', 'router rip', ' version 2', ` network ${dev}`, ' timers basic 5 30 20', ' redistribute connected', '!', ''].join('\n'),
    });

    const ripTable = await waitFor('FRR ripd learns 10.0.40.0/24', async () => {
      const out = await frr.vtysh('show ip rip');
      return /R\(n\)\s+10\.0\.40\.0\/24\s+10\.0\.4\.1\s+2\b/.test(out) ? out : undefined;
    }, 20_000, 200);
    assert.match(ripTable, /10\.0\.40\.0\/24\s+10\.0\.4\.1\s+2/);
    const fib = await waitFor('zebra installs it', async () => {
      const out = await frr.vtysh('show ip route rip');
      return /R>\* 10\.0\.40\.0\/24 \[120\/2\] via 10\.0\.4\.1/.test(out) ? out : undefined;
    }, 10_000, 200);
    assert.match(fib, /via 10\.0\.4\.1, /);
    const ours = await waitFor('we learn 192.168.60.0/24 from FRR', () => ripRoute(r, '192.168.60.0/24'), 20_000, 100);
    assert.deepEqual([ours.port, ours.via, ours.metric], ['frr', '10.0.4.2', 2]);
    const list = await ripList(r);
    const nb = list.neighbours.find((n) => n.address === '10.0.4.2')!;
    assert.equal(nb.state, 'up');
    assert.equal(nb.badPackets + nb.badRoutes, 0);
    assert.match((await inNetns(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.40.2'])).stdout, /2 received/);
  });
});

describe('tunroute ↔ tunroute with BFD on the RIP ports', () => {
  test('routes once BFD is Up; SIGKILL → withdrawn at BFD detection (rip-bfd-down)', { timeout: 40_000 }, async () => {
    const c = await lab.addNamespace('c');
    const d = await lab.addNamespace('d');
    await lab.hostPort(c, lab.dev('c'), '10.0.5.2/24', '10.0.5.1');
    await lab.hostPort(d, lab.dev('d'), '10.0.6.2/24', '10.0.6.1');
    const wire = await lab.link(lab.dev('l3'), lab.dev('l4'));
    const bfd = { interval: 100, multiplier: 3 };
    const r3 = await lab.startRouter('r3', {
      ports: [
        { name: 'c', device: lab.dev('c'), netns: c, address: '10.0.5.1/24' },
        { name: 'r4', device: lab.dev('l3'), netns: wire, address: '10.0.34.1/30' },
      ],
      bfd,
      rip: { ports: [{ port: 'r4', bfd: true }], ...RIP_TIMERS },
    });
    const r4 = await lab.startRouter('r4', {
      ports: [
        { name: 'r3', device: lab.dev('l4'), netns: wire, address: '10.0.34.2/30' },
        { name: 'd', device: lab.dev('d'), netns: d, address: '10.0.6.1/24' },
      ],
      bfd,
      rip: { ports: [{ port: 'r3', bfd: true }], ...RIP_TIMERS },
    });
    await waitFor('r3 learns 10.0.6.0/24', () => ripRoute(r3, '10.0.6.0/24'), 15_000, 50);
    await waitFor('r4 learns 10.0.5.0/24', () => ripRoute(r4, '10.0.5.0/24'), 15_000, 50);
    const nb = (await ripList(r3)).neighbours.find((n) => n.address === '10.0.34.2') as { state: string; bfd: string | null } | undefined;
    assert.deepEqual([nb?.state, nb?.bfd], ['up', 'Up']);
    // Learned only after BFD came Up: the route's install follows the neighbour's "up".
    const ev = r3.events();
    const up = ev.find((e) => e.event === 'rip.neighbour' && e.state === 'up')!;
    const installed = ev.find((e) => e.event === 'route.installed' && e.prefix === '10.0.6.0/24')!;
    assert.ok(installed.time >= up.time);

    const killedAt = Date.now();
    await r4.stop('SIGKILL');
    const gone = await waitFor('r3 withdraws 10.0.6.0/24', () => r3.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '10.0.6.0/24' && e.time >= killedAt), 3000, 10);
    const dt = gone.time - killedAt;
    console.log(`# SIGKILL → RIP route withdrawn after ${dt} ms (cause ${String(gone.cause)}; BFD 100 ms × 3)`);
    assert.equal(gone.cause, 'rip-bfd-down');
    assert.ok(dt < 500, `withdrawn ${dt} ms after the kill`);
    assert.ok(r3.events().some((e) => e.event === 'rip.neighbour' && e.state === 'bfd-down' && e.time >= killedAt));
  });
});

describe('tunroute ↔ BIRD 2 with BFD on RIP', () => {
  test('BIRD `bfd yes` and our `bfd: true`: sessions Up, routes both ways; block → BIRD drops routes and BFD within 1 s; unblock restores', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('birdbfd');
    const h = await lab.addNamespace('hbb');
    const dev = lab.dev('bb');
    await lab.hostPort(ns, dev, '10.0.7.2/24');
    await lab.hostPort(h, lab.dev('hbb'), '10.0.70.2/24', '10.0.70.1');
    const r = await lab.startRouter('rbb', {
      ports: [
        { name: 'bird', device: dev, netns: ns, address: '10.0.7.1/24' },
        { name: 'lan', device: lab.dev('hbb'), netns: h, address: '10.0.70.1/24' },
      ],
      bfd: { interval: 100, multiplier: 3 },
      rip: { ports: [{ port: 'bird', bfd: true }], ...RIP_TIMERS },
    });
    const bird = await Bird.start(lab, ns, [
      'router id 10.0.7.2;',
      'protocol device { scan time 1; }',
      'protocol static { ipv4; route 192.168.70.0/24 blackhole; }',
      `protocol bfd { interface "${dev}" { interval 100 ms; multiplier 3; }; }`,
      'protocol rip {',
      '  ipv4 { import all; export all; };',
      `  interface "${dev}" { update time 5; timeout time 30; bfd yes; };`,
      '}',
      '',
    ].join('\n'), 'birdbfd');
    await waitFor('BIRD BFD session Up', async () => /^10\.0\.7\.1\s+\S+\s+Up/m.test(await bird.cmd('show bfd sessions')), 15_000, 100);
    await waitFor('BIRD learns 10.0.70.0/24', async () => /10\.0\.70\.0\/24\s+unicast \[rip1[^\n]*\n\s+via 10\.0\.7\.1 on /.test(await bird.cmd('show route protocol rip1')), 15_000, 100);
    const ours = await waitFor('we learn 192.168.70.0/24', () => ripRoute(r, '192.168.70.0/24'), 15_000, 100);
    assert.deepEqual([ours.via, ours.metric], ['10.0.7.2', 2]);
    const nb = (await ripList(r)).neighbours.find((n) => n.address === '10.0.7.2') as { state: string; bfd: string | null } | undefined;
    assert.deepEqual([nb?.state, nb?.bfd], ['up', 'Up']);

    // Block: BIRD must drop our routes and take its BFD session down, within 1 s.
    const birdHasOurs = async () => /10\.0\.70\.0\/24\s+unicast \[rip1/.test(await bird.cmd('show route protocol rip1'));
    const birdBfdUp = async () => /^10\.0\.7\.1\s+\S+\s+Up/m.test(await bird.cmd('show bfd sessions'));
    const t0 = Date.now();
    await r.api('POST', '/v1/ports/bird/block');
    await waitFor('BIRD drops our route', async () => !(await birdHasOurs()), 1000, 10);
    await waitFor('BIRD BFD session not Up', async () => !(await birdBfdUp()), 1000, 10);
    console.log(`# BIRD (RIP + BFD): route dropped and BFD down ≤ ${Date.now() - t0} ms after the block`);
    await r.api('POST', '/v1/ports/bird/unblock');
    await waitFor('BIRD BFD Up again', birdBfdUp, 15_000, 50);
    await waitFor('BIRD re-learns our route', birdHasOurs, 15_000, 50);
    await waitFor('we re-learn 192.168.70.0/24', () => ripRoute(r, '192.168.70.0/24'), 15_000, 50);
  });
});

describe('tunroute: one route per neighbour, immediate fall-back (the migration method)', () => {
  test('m1 keeps m2\'s and m3\'s routes to 1.1.1.1/32; blocking m2\'s port toward m1 moves m1 to m3 within 50 ms', { timeout: 60_000 }, async () => {
    const s2 = await lab.addNamespace('s2');
    const s3 = await lab.addNamespace('s3');
    await lab.hostPort(s2, lab.dev('s2'), '10.0.22.2/24', '10.0.22.1');
    await lab.hostPort(s3, lab.dev('s3'), '10.0.33.2/24', '10.0.33.1');
    const wire = await lab.link(lab.dev('m12'), lab.dev('m21'));
    await lab.link(lab.dev('m13'), lab.dev('m31'));
    const m1 = await lab.startRouter('m1', {
      ports: [
        { name: 'm2', device: lab.dev('m12'), netns: wire, address: '10.0.12.1/30' },
        { name: 'm3', device: lab.dev('m13'), netns: wire, address: '10.0.13.1/30' },
      ],
      rip: { ports: ['m2', 'm3'], ...RIP_TIMERS },
    });
    const m2 = await lab.startRouter('m2', {
      ports: [
        { name: 'm1', device: lab.dev('m21'), netns: wire, address: '10.0.12.2/30' },
        { name: 'srv', device: lab.dev('s2'), netns: s2, address: '10.0.22.1/24' },
      ],
      routes: [{ prefix: '1.1.1.1/32', port: 'srv', via: '10.0.22.2', metric: 1 }],
      rip: { ports: ['m1'], redistribute: ['static'], ...RIP_TIMERS },
    });
    const m3 = await lab.startRouter('m3', {
      ports: [
        { name: 'm1', device: lab.dev('m31'), netns: wire, address: '10.0.13.2/30' },
        { name: 'srv', device: lab.dev('s3'), netns: s3, address: '10.0.33.1/24' },
      ],
      routes: [{ prefix: '1.1.1.1/32', port: 'srv', via: '10.0.33.2', metric: 5 }],
      rip: { ports: ['m1'], redistribute: ['static'], ...RIP_TIMERS },
    });

    // Both neighbours' routes are held (and in the RIB); the one via m2 is selected and is RIP's best.
    const rows = await waitFor('m1 holds 1.1.1.1/32 from m2 and from m3', async () => {
      const r = (await ripList(m1)).routes.filter((x) => x.prefix === '1.1.1.1/32' && x.state === 'active');
      return r.length === 2 ? r : undefined;
    }, 15_000, 50);
    assert.deepEqual(rows.map((r) => [r.neighbour, r.metric, r.best]).sort(), [['10.0.12.2', 2, true], ['10.0.13.2', 6, false]]);
    const routes = await m1.api<RouteJson[]>('GET', '/v1/routes');
    assert.deepEqual(routes.filter((x) => x.prefix === '1.1.1.1/32' && x.source === 'rip').map((x) => [x.via, x.metric, x.state]).sort(),
      [['10.0.12.2', 2, 'active'], ['10.0.13.2', 6, 'standby']], 'both in m1\'s RIB');
    const sel = await ripRoute(m1, '1.1.1.1/32');
    assert.deepEqual([sel?.port, sel?.via, sel?.metric], ['m2', '10.0.12.2', 2]);
    assert.match(await m1.cli('rip', 'list'), /1\.1\.1\.1\/32\s+6\s+10\.0\.13\.2/, 'the CLI lists the non-best route too');
    // m3 hears 1.1.1.1/32 from m1 with 3 (split horizon is relative to m1's best route, via m2).
    await waitFor('m3 hears m1\'s 1.1.1.1/32', async () => (await ripList(m3)).routes.some((x) => x.prefix === '1.1.1.1/32' && x.metric === 3), 15_000, 50);

    const t0 = Date.now();
    await m2.cli('port', 'block', 'm1');
    const moved = await waitFor('m1 route.changed 1.1.1.1/32 → via m3', () => m1.events().find((e) => e.event === 'route.changed' &&
      e.prefix === '1.1.1.1/32' && e.time >= t0 && (e.new as { via?: string } | null)?.via === '10.0.13.2'), 5000, 5);
    const blocked = await waitFor('m2 port.blocked', () => m2.events().find((e) => e.event === 'port.blocked' && e.port === 'm1'), 2000, 5);
    const dt = moved.time - blocked.time;
    console.log(`# m2 port.blocked → m1 route.changed 1.1.1.1/32 via m3: ${dt} ms (cause ${String(moved.cause)}, ` +
      `old ${JSON.stringify(moved.old)}, new ${JSON.stringify(moved.new)})`);
    assert.deepEqual([(moved.old as { via: string }).via, (moved.new as { port: string; metric: number }).port, (moved.new as { metric: number }).metric],
      ['10.0.12.2', 'm3', 6]);
    assert.equal(moved.cause, 'rip-withdrawn', 'm2\'s poisoned Response withdrew its route');
    assert.ok(dt < 50, `m1 fell back ${dt} ms after m2's port.blocked`);
    // Never without a route in between: no route.withdrawn for the prefix on m1.
    assert.equal(m1.events().filter((e) => e.event === 'route.withdrawn' && e.prefix === '1.1.1.1/32').length, 0);
    const after = (await ripList(m1)).routes.filter((x) => x.prefix === '1.1.1.1/32');
    assert.deepEqual(after.map((r) => [r.neighbour, r.state, r.best]).sort(), [['10.0.12.2', 'garbage', false], ['10.0.13.2', 'active', true]]);
  });
});
