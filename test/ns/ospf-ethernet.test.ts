// OSPF on Ethernet ports: two tunroute routers and a real BIRD 2 on one
// broadcast segment (a Linux bridge; each is a veth end on it), `network:
// broadcast`. Hellos and the DR's and BDR's updates go to 224.0.0.5 (MAC
// 01:00:5e:00:00:05), a DROther's updates to 224.0.0.6 (AllDRouters) — over
// the routers' AF_PACKET sockets — and DD, request and acknowledgment
// packets to a neighbour's address (ARP).
//
//   h1 ─veth─ [r1] ─┐
//   h2 ─veth─ [r2] ─┼─ br0 (10.0.90.0/24)
//   192.168.90.0/24 on BIRD's lo ─ [BIRD] ─┘
//
// BIRD starts alone and becomes DR; r1 (priority 5) joins and is BDR, r2
// (priority 1) joins as DROther. Every router is Full with the DR and BDR,
// routes go all ways (BIRD's into its kernel table), a host behind r1 reaches
// one behind r2 across the segment and BIRD's network. Then BIRD's OSPF is
// disabled (its Hello lists nobody): the BDR, r1, becomes DR, r2 BDR; BIRD's
// network is gone from both; theirs come back through r1's network (gone
// for about the SPF hold time, 50 ms, while the new DR's network LSA is on
// its way).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Bird } from '../../src/testbed/bird.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';
import type { OspfJson, RouteJson } from '../../src/api/types.js';

let lab: Lab;

before(async () => {
  lab = await Lab.create('ospfeth');
});

after(async () => {
  await lab?.cleanup();
});

const ospf = (r: RouterProcess) => r.api<OspfJson>('GET', '/v1/ospf');

async function ospfRoute(r: RouterProcess, prefix: string): Promise<RouteJson | undefined> {
  return (await r.api<RouteJson[]>('GET', '/v1/routes')).find((x) => x.prefix === prefix && x.source === 'ospf' && x.state === 'active');
}

/** The segment port's interface state, DR and BDR, when they are `want`. */
const segIs = (r: RouterProcess, want: { state: string; dr: string; bdr: string | null }) => async () => {
  const s = await ospf(r);
  const i = s.interfaces.find((x) => x.port === 'seg');
  return i && i.state === want.state && i.dr === want.dr && i.bdr === want.bdr ? s : undefined;
};

/** Full with every router id in `rids` on the segment. */
const fullWith = (r: RouterProcess, rids: string[]) => async () => {
  const s = await ospf(r);
  return rids.every((rid) => s.neighbours.some((n) => n.port === 'seg' && n.routerId === rid && n.state === 'Full')) ? s : undefined;
};

describe('OSPF on Ethernet ports: two tunroutes and BIRD on a bridge (broadcast network)', () => {
  test('BIRD DR, r1 BDR, r2 DROther; Full with DR and BDR; routes all ways; BIRD gone → r1 DR, r2 BDR', { timeout: 120_000 }, async () => {
    const seg = await lab.addNamespace('seg');
    await ip('-n', seg, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', seg, 'link', 'set', 'br0', 'up');
    /** A veth from `ns` (named eth1 there) to a port of the bridge. */
    const join = async (ns: string, port: string) => {
      await ip('link', 'add', 'name', 'eth1', 'netns', ns, 'type', 'veth', 'peer', 'name', port, 'netns', seg);
      await ip('-n', seg, 'link', 'set', port, 'master', 'br0', 'up');
    };
    const bns = await lab.addNamespace('bird');
    await join(bns, 'pb');
    await ip('-n', bns, 'addr', 'add', '10.0.90.10/24', 'dev', 'eth1');
    await ip('-n', bns, 'link', 'set', 'eth1', 'up');
    await ip('-n', bns, 'addr', 'add', '192.168.90.1/24', 'dev', 'lo');
    const routerOn = async (name: string, n: number, priority: number) => {
      const ns = await lab.addNamespace(name);
      await join(ns, `p${n}`);
      const h = await lab.addNamespace(`h${n}`);
      await lab.ethernetHostPort(h, 'eth0', ns, 'eth2', `10.0.9${n}.2/24`, `10.0.9${n}.1`);
      return {
        h,
        start: () => lab.startRouter(name, {
          ports: [
            { name: 'seg', type: 'ethernet', device: 'eth1', address: `10.0.90.${n}/24` },
            { name: 'lan', type: 'ethernet', device: 'eth2', address: `10.0.9${n}.1/24` },
          ],
          ospf: {
            routerId: `10.255.9.${n}`,
            ports: [{ port: 'seg', network: 'broadcast', priority, helloInterval: 1, deadInterval: 4 }, { port: 'lan', passive: true }],
          },
        }),
      };
    };
    const one = await routerOn('r1', 1, 5);
    const two = await routerOn('r2', 2, 1);

    // BIRD alone first: its wait timer (4 s) ends with itself DR.
    const bird = await Bird.start(lab, bns, [
      'router id 10.255.9.10;',
      'protocol device { scan time 1; }',
      'protocol kernel { ipv4 { export where source = RTS_OSPF; }; }',
      'protocol ospf v2 {',
      '  ipv4 { import all; };',
      '  area 0 { interface "eth1" { type broadcast; priority 10; hello 1; dead 4; wait 4; }; interface "lo" { stub yes; }; };',
      '}',
      '',
    ].join('\n'), 'bird-eth');
    await waitFor('BIRD DR alone', async () => /State: DR\b/.test(await bird.cmd('show ospf interface')), 20_000, 100);

    // r1 (priority 5) sees a DR and no BDR (BackupSeen): BDR at once.
    const r1 = await one.start();
    await waitFor('r1 BDR, BIRD DR', segIs(r1, { state: 'Backup', dr: '10.0.90.10', bdr: '10.0.90.1' }), 20_000, 100);
    await waitFor('r1 Full with BIRD', fullWith(r1, ['10.255.9.10']), 20_000, 100);
    // r2 (priority 1) finds both: DROther, adjacent to both (Full), and the only DROther.
    const r2 = await two.start();
    await waitFor('r2 DROther', segIs(r2, { state: 'DROther', dr: '10.0.90.10', bdr: '10.0.90.1' }), 20_000, 100);
    await waitFor('r2 Full with BIRD and r1', fullWith(r2, ['10.255.9.10', '10.255.9.1']), 30_000, 100);
    await waitFor('r1 Full with BIRD and r2', fullWith(r1, ['10.255.9.10', '10.255.9.2']), 30_000, 100);
    const nb = await waitFor('BIRD: r1 Full/BDR, r2 Full/Other', async () => {
      const out = await bird.cmd('show ospf neighbors');
      return /10\.255\.9\.1\s+5\s+Full\/BDR\s/.test(out) && /10\.255\.9\.2\s+1\s+Full\/Other\s/.test(out) ? out : undefined;
    }, 20_000, 100);
    assert.match(nb, /eth1\s+10\.0\.90\.1\b/);
    // BIRD's network LSA (the DR's) describes all three.
    await waitFor('BIRD\'s network LSA in r2\'s database', async () => (await ospf(r2)).database.some((e) => e.type === 'network' && e.id === '10.0.90.10' && e.advRouter === '10.255.9.10'), 15_000, 100);

    // Routes all ways: BIRD's stub to both (via BIRD), each LAN to the other router (direct across the segment) and to BIRD.
    const routes: [RouterProcess, string, string][] = [
      [r1, '192.168.90.0/24', '10.0.90.10'], [r2, '192.168.90.0/24', '10.0.90.10'],
      [r1, '10.0.92.0/24', '10.0.90.2'], [r2, '10.0.91.0/24', '10.0.90.1'],
    ];
    for (const [r, prefix, via] of routes) {
      const route = await waitFor(`${r.name} learns ${prefix}`, () => ospfRoute(r, prefix), 20_000, 100);
      assert.deepEqual([route.port, route.via, route.metric], ['seg', via, 20], `${r.name} ${prefix}`);
    }
    for (const [prefix, via] of [['10.0.91.0/24', '10.0.90.1'], ['10.0.92.0/24', '10.0.90.2']]) {
      await waitFor(`BIRD learns ${prefix} via ${via}`, async () => new RegExp(`${prefix.replace(/\./g, '\\.')}\\s+unicast \\[ospf1[^\\n]*\\n\\s+via ${via.replace(/\./g, '\\.')} on eth1`).test(await bird.cmd('show route protocol ospf1')), 20_000, 100);
    }
    // Traffic: h1 → h2 across the segment (r1 → r2, TTL down by two), h1 → BIRD's network (BIRD's kernel routes back).
    const across = await inNetns(one.h, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.92.2']);
    assert.match(across.stdout, /2 received/);
    assert.match(across.stdout, /ttl=62 /);
    await waitFor('h1 reaches BIRD\'s 192.168.90.1', () => inNetns(one.h, 'ping', ['-c', '1', '-W', '1', '192.168.90.1']).then(() => true, () => false), 10_000, 200);
    for (const r of [r1, r2]) {
      const s = await ospf(r);
      // Multicast updates and acknowledgments from a router not yet heard (or not yet exchanging) reach a
      // router that joins the segment: dropped as RFC 2328 §8.2 and §13 say. Nothing else may be.
      const refused = Object.keys(s.counters.droppedPackets).filter((k) => k !== 'unknown-neighbour' && k !== 'neighbour-state');
      assert.deepEqual(refused, [], `${r.name}: ${JSON.stringify(s.counters.droppedPackets)}`);
      assert.deepEqual(Object.keys(s.counters.droppedLsas).filter((k) => k !== 'min-ls-arrival'), [], `${r.name}: no LSA refused but for MinLSArrival`);
    }

    // The DR goes (BIRD's OSPF disabled: a last Hello that lists nobody). The BDR takes over.
    const t0 = Date.now();
    await bird.cmd('disable ospf1');
    await waitFor('r1 DR, r2 BDR', segIs(r1, { state: 'DR', dr: '10.0.90.1', bdr: '10.0.90.2' }), 10_000, 50);
    await waitFor('r2 BDR', segIs(r2, { state: 'Backup', dr: '10.0.90.1', bdr: '10.0.90.2' }), 10_000, 50);
    const drEvent = r1.firstEvent('ospf.dr', { port: 'seg', dr: '10.0.90.1' }, t0);
    assert.ok(drEvent, 'r1 logged its election');
    console.log(`# BIRD's OSPF disabled: r1 DR after ${drEvent.time - t0} ms`);
    await waitFor('r1 and r2 still Full', fullWith(r1, ['10.255.9.2']), 10_000, 50);
    await waitFor('r1\'s network LSA in r2\'s database', async () => (await ospf(r2)).database.some((e) => e.type === 'network' && e.id === '10.0.90.1' && e.advRouter === '10.255.9.1'), 15_000, 100);
    for (const r of [r1, r2]) await waitFor(`${r.name}: BIRD's network gone`, async () => !(await ospfRoute(r, '192.168.90.0/24')), 10_000, 50);
    // r1 and r2 reach each other across the segment again through r1's network. Between the DR's
    // change and that, each one's transit link names a DR whose network LSA it has not got yet: no path
    // for about the SPF hold time (50 ms).
    for (const [r, prefix, via] of [[r2, '10.0.91.0/24', '10.0.90.1'], [r1, '10.0.92.0/24', '10.0.90.2']] as const) {
      await waitFor(`${r.name} reaches ${prefix} again`, async () => (await ospfRoute(r, prefix))?.via === via, 10_000, 50);
      const ev = r.events().filter((e) => e.prefix === prefix && e.time >= t0);
      const out = ev.find((e) => e.event === 'route.withdrawn');
      const back = ev.filter((e) => e.event === 'route.installed' || e.event === 'route.changed').at(-1);
      const gap = out && back ? back.time - out.time : 0;
      console.log(`# DR change: ${r.name} without a route to ${prefix} for ${gap} ms`);
      assert.ok(gap <= 1000, `${r.name}: ${prefix} gone for ${gap} ms`);
    }
    assert.match((await inNetns(one.h, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.92.2'])).stdout, /2 received/);
  });
});
