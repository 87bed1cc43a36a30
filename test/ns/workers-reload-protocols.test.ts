// Protocols on a port a reload adds while forwarding workers run:
//   host hx (10.0.1.2) — [h] X [y] ═ [x] Y [h] — host hy (10.0.2.2)
// the link X ═ Y once of TUNs (joined by tc), once a veth pair (Ethernet
// ports: ARP, multicast frames on the workers' fanout sockets).
// X and Y each run 2 forwarding workers and RIP (short timers) with BFD on
// their RIP ports. X starts without its port toward Y. A reload adds it,
// with RIP and BFD on it: the RIP packets and BFD control packets Y sends
// arrive on the workers' queues of the new port and must be handed to X's
// control thread, and X's answers leave on it. Checked: BFD comes Up on both
// sides, each router learns the other's LAN over RIP through the new port,
// and the hosts ping each other through both routers' workers. A reload that
// removes the port: Y drops X's LAN at once (X's last words: a poisoned
// Response, BFD AdminDown), not at its RIP timeout, and X says nothing more
// on it. A reload that adds it back (a new index): all of it again. Between
// them a reload that changes it (a new address, the same device: its queues
// taken over): BFD and RIP come up again from the new address.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { BfdJson, OspfJson, PortJson, ReloadJson, RipJson, RouteJson } from '../../src/api/types.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';

/** Short RIP timers: an update a second, a neighbour's routes time out after 3 s. */
const RIP_TIMERS = { updateTime: 1, timeoutTime: 3, garbageTime: 2 };
const BFD = { interval: 100, multiplier: 3 };

for (const kind of ['tun', 'ethernet'] as const) describe(`2 forwarding workers: RIP and BFD on a port (${kind}) a reload adds, then removes`, () => {
  let lab: Lab;
  let x: RouterProcess;
  let y: RouterProcess;
  let hx: string;
  let hy: string;
  /** X's port toward Y, as the reloads add it. */
  let portY: Record<string, unknown>;
  /** X's config as it started (without the port toward Y). */
  let base: { ports: Record<string, unknown>[]; rip: Record<string, unknown> } & Record<string, unknown>;

  before(async () => {
    lab = await Lab.create(`wkp${kind}`);
    // Each worker opens one queue of every TUN: they must be multi-queue.
    lab.multiQueueTuns = true;
    hx = await lab.addNamespace('hx');
    hy = await lab.addNamespace('hy');
    await lab.hostPort(hx, lab.dev('hx'), '10.0.1.2/24', '10.0.1.1');
    await lab.hostPort(hy, lab.dev('hy'), '10.0.2.2/24', '10.0.2.1');
    let portX: Record<string, unknown>;
    if (kind === 'tun') {
      const wire = await lab.link(lab.dev('lx'), lab.dev('ly'));
      portY = { name: 'y', device: lab.dev('lx'), netns: wire, address: '10.0.12.1/29' };
      portX = { name: 'x', device: lab.dev('ly'), netns: wire, address: '10.0.12.2/29' };
    } else {
      // A veth pair, one end in each router's namespace, both left down and bare: the routers' Ethernet devices take them.
      const [nx, ny] = [await lab.addNamespace('x'), await lab.addNamespace('y')];
      await ip('link', 'add', 'name', lab.dev('ex'), 'netns', nx, 'type', 'veth', 'peer', 'name', lab.dev('ey'), 'netns', ny);
      portY = { name: 'y', type: 'ethernet', device: lab.dev('ex'), address: '10.0.12.1/29' };
      portX = { name: 'x', type: 'ethernet', device: lab.dev('ey'), address: '10.0.12.2/29' };
    }
    x = await lab.startRouter('x', {
      workers: 2,
      ports: [{ name: 'h', device: lab.dev('hx'), netns: hx, address: '10.0.1.1/24' }],
      bfd: BFD,
      rip: { ports: [], ...RIP_TIMERS },
    });
    y = await lab.startRouter('y', {
      workers: 2,
      ports: [
        { name: 'h', device: lab.dev('hy'), netns: hy, address: '10.0.2.1/24' },
        portX,
      ],
      bfd: BFD,
      rip: { ports: [{ port: 'x', bfd: true }], ...RIP_TIMERS },
    });
    base = JSON.parse(readFileSync(x.configFile, 'utf8')) as typeof base;
  });

  after(async () => {
    await lab?.cleanup();
  });

  /** Rewrite X's config (its ports and RIP ports) and reload it through the API. */
  const reloadX = async (ports: Record<string, unknown>[], ripPorts: unknown[]) => {
    writeFileSync(x.configFile, JSON.stringify({ ...base, ports, rip: { ...base.rip, ports: ripPorts } }));
    return (await x.api<ReloadJson>('POST', '/v1/reload')).ports;
  };
  const ripRoute = async (r: RouterProcess, prefix: string) =>
    (await r.api<RouteJson[]>('GET', '/v1/routes')).find((route) => route.prefix === prefix && route.source === 'rip' && route.state === 'active');
  const bfdState = async (r: RouterProcess, peer: string) => (await r.api<BfdJson>('GET', '/v1/bfd')).sessions.find((s) => s.peer === peer)?.state;
  const ripNeighbour = async (r: RouterProcess, address: string) => (await r.api<RipJson>('GET', '/v1/rip')).neighbours.find((n) => n.address === address);
  const rxPackets = async (r: RouterProcess, port: string) => (await r.api<PortJson[]>('GET', '/v1/ports')).find((p) => p.name === port)!.rxPackets;

  /** After a reload added X's port y: BFD Up, each learns the other's LAN through it, the hosts ping across. */
  async function protocolsUp(): Promise<void> {
    const t0 = Date.now();
    await waitFor('X: BFD session to Y Up', async () => (await bfdState(x, '10.0.12.2')) === 'Up', 10_000, 50);
    await waitFor('Y: BFD session to X Up', async () => (await bfdState(y, '10.0.12.1')) === 'Up', 10_000, 50);
    const onY = await waitFor('Y learns 10.0.1.0/24 from X', () => ripRoute(y, '10.0.1.0/24'), 10_000, 50);
    const onX = await waitFor('X learns 10.0.2.0/24 from Y', () => ripRoute(x, '10.0.2.0/24'), 10_000, 50);
    console.log(`# reload → BFD Up and RIP routes both ways in ${Date.now() - t0} ms`);
    assert.deepEqual([onY.port, onY.via, onY.metric], ['x', '10.0.12.1', 2]);
    assert.deepEqual([onX.port, onX.via, onX.metric], ['y', '10.0.12.2', 2]);
    const nx = await ripNeighbour(x, '10.0.12.2');
    assert.deepEqual([nx?.port, nx?.state, nx?.bfd, nx?.badPackets], ['y', 'up', 'Up', 0], 'X\'s RIP neighbour Y');
    const ny = await ripNeighbour(y, '10.0.12.1');
    assert.deepEqual([ny?.port, ny?.state, ny?.bfd, ny?.badPackets], ['x', 'up', 'Up', 0], 'Y\'s RIP neighbour X');
    const there = await inNetns(hx, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
    assert.match(there.stdout, /3 received/);
    assert.match(there.stdout, /ttl=62 /, 'through both routers');
    const back = await inNetns(hy, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.2']);
    assert.match(back.stdout, /3 received/);
  }

  /** After a reload removed X's port y: Y drops X's LAN at once (not at its RIP timeout); X says nothing more on the link. */
  async function protocolsGone(removedAt: number): Promise<void> {
    const gone = await waitFor('Y withdraws 10.0.1.0/24', () => y.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '10.0.1.0/24' && e.time >= removedAt), 5000, 20);
    const dt = gone.time - removedAt;
    console.log(`# reload removing the port → Y withdrew X's LAN after ${dt} ms (cause ${String(gone.cause)})`);
    // Whichever of X's last words came first: the poisoned Response or BFD's AdminDown (not Y's RIP timeout).
    assert.ok(gone.cause === 'rip-withdrawn' || gone.cause === 'rip-bfd-down', `cause ${String(gone.cause)}`);
    assert.ok(dt < RIP_TIMERS.timeoutTime * 1000 - 1000, `withdrawn ${dt} ms after the reload: X's last words were not heard`);
    assert.equal(await ripRoute(y, '10.0.1.0/24'), undefined);
    assert.equal(await ripRoute(x, '10.0.2.0/24'), undefined, 'X\'s route through the removed port gone');
    const rip = await x.api<RipJson>('GET', '/v1/rip');
    assert.deepEqual([rip.ports.map((p) => p.port), rip.neighbours.map((n) => n.address)], [[], []], 'X: no RIP port, no neighbour');
    assert.equal((await x.api<BfdJson>('GET', '/v1/bfd')).sessions.length, 0, 'X: no BFD session');
    const ping = await inNetns(hx, 'ping', ['-c', '1', '-W', '1', '10.0.2.2'], { allowFail: true });
    assert.match(ping.stdout, /Destination Net Unreachable/);
    // Over two RIP update periods and many BFD intervals: nothing from X arrives on Y's port (Y's own packets go out, unanswered).
    await sleep(300);
    const rx = await rxPackets(y, 'x');
    await sleep(RIP_TIMERS.updateTime * 2000 + 500);
    assert.equal(await rxPackets(y, 'x'), rx, 'X still speaks on the removed port');
  }

  test('a reload adds the port with RIP and BFD: BFD Up, routes both ways, ping; a reload changes it: up again from its new address; a reload removes it: Y drops the route at once, X silent; added back: up again', { timeout: 50_000 }, async () => {
    // Before: nothing between them.
    await sleep(1500);
    assert.equal(await ripRoute(x, '10.0.2.0/24'), undefined);
    assert.equal(await ripRoute(y, '10.0.1.0/24'), undefined);
    assert.equal(await rxPackets(y, 'x'), 0, 'no X on the link yet');

    assert.deepEqual(await reloadX([...base.ports, portY], [{ port: 'y', bfd: true }]), { added: ['y'], removed: [], changed: [] });
    await protocolsUp();
    // What Y's RIP and BFD packets became in X: handed over by its workers, none dropped — but for Y's first BFD
    // packets when they come before the RIP Response that makes X's session: Y starts its session on hearing X's
    // Request, and two of Y's packets may be read by two workers and reach X's control thread in either order.
    const stats = (await x.api<PortJson[]>('GET', '/v1/ports')).find((p) => p.name === 'y')!;
    assert.ok(stats.rxPackets > 0 && stats.txPackets > 0, `X's port y: rx ${stats.rxPackets}, tx ${stats.txPackets} packets`);
    const early = stats.drops['bfd-invalid'] ?? 0;
    assert.deepEqual(stats.drops, early ? { 'bfd-invalid': early } : {}, 'X\'s port y dropped nothing else');
    assert.deepEqual((await x.api<BfdJson>('GET', '/v1/bfd')).counters.drops, early ? { 'no-session': early } : {}, 'BFD packets before X\'s session only');
    if (early > 0) console.log(`# ${early} of Y's BFD packets came before X's session (read by another worker than Y's RIP Response)`);
    assert.ok(early <= 3, `${early} BFD packets before X's session`);

    // Changed (a new address on the same device): the new port takes the old one's queues over; Y hears X from the new address.
    const changedAt = Date.now();
    assert.deepEqual(await reloadX([...base.ports, { ...portY, address: '10.0.12.3/29' }], [{ port: 'y', bfd: true }]), { added: [], removed: [], changed: ['y'] });
    await waitFor('X: BFD session to Y Up again', async () => (await bfdState(x, '10.0.12.2')) === 'Up', 10_000, 50);
    await waitFor('Y: BFD session to X\'s new address Up', async () => (await bfdState(y, '10.0.12.3')) === 'Up', 10_000, 50);
    await waitFor('Y learns 10.0.1.0/24 via X\'s new address', async () => (await ripRoute(y, '10.0.1.0/24'))?.via === '10.0.12.3', 10_000, 50);
    await waitFor('X learns 10.0.2.0/24 again', () => ripRoute(x, '10.0.2.0/24'), 10_000, 50);
    console.log(`# reload changing the port → BFD Up and RIP routes both ways in ${Date.now() - changedAt} ms`);
    // The old port's last words (a poisoned Response from the old address): Y holds nothing from it, long before its RIP timeout.
    const fromOld = (await y.api<RouteJson[]>('GET', '/v1/routes')).filter((r) => r.source === 'rip' && r.via === '10.0.12.1');
    assert.deepEqual(fromOld, [], 'Y still holds routes from X\'s old address');
    assert.match((await inNetns(hx, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2'])).stdout, /3 received/);

    const removedAt = Date.now();
    assert.deepEqual(await reloadX(base.ports, []), { added: [], removed: ['y'], changed: [] });
    await protocolsGone(removedAt);

    // Added back: a new port (a new index), the same device.
    assert.deepEqual(await reloadX([...base.ports, portY], [{ port: 'y', bfd: true }]), { added: ['y'], removed: [], changed: [] });
    await protocolsUp();
  });
});

// OSPF (broadcast network: Hellos and LSAs to 224.0.0.5/6 in multicast frames, read by the workers' fanout
// sockets) with BFD on a veth port a reload adds, removes, and adds back while 2 workers run.
describe('2 forwarding workers: OSPF and BFD on an Ethernet port a reload adds, removes and adds back', () => {
  let lab: Lab;
  let x: RouterProcess;
  let y: RouterProcess;
  let hx: string;
  let hy: string;
  let portY: Record<string, unknown>;
  let base: { ports: Record<string, unknown>[]; ospf: Record<string, unknown> } & Record<string, unknown>;
  // A lost or early Database Description is sent again after 1 s, not 5: the first adjacency waits out the election (4 s) only.
  const OSPF_PORT = { network: 'broadcast', helloInterval: 1, deadInterval: 4, retransmitInterval: 1, bfd: true };

  before(async () => {
    lab = await Lab.create('wkpospf');
    lab.multiQueueTuns = true;
    hx = await lab.addNamespace('hx');
    hy = await lab.addNamespace('hy');
    await lab.hostPort(hx, lab.dev('hx'), '10.0.1.2/24', '10.0.1.1');
    await lab.hostPort(hy, lab.dev('hy'), '10.0.2.2/24', '10.0.2.1');
    const [nx, ny] = [await lab.addNamespace('x'), await lab.addNamespace('y')];
    await ip('link', 'add', 'name', lab.dev('ex'), 'netns', nx, 'type', 'veth', 'peer', 'name', lab.dev('ey'), 'netns', ny);
    portY = { name: 'y', type: 'ethernet', device: lab.dev('ex'), address: '10.0.12.1/29' };
    x = await lab.startRouter('x', {
      workers: 2,
      ports: [{ name: 'h', device: lab.dev('hx'), netns: hx, address: '10.0.1.1/24' }],
      bfd: BFD,
      ospf: { routerId: '10.255.0.1', ports: [{ port: 'h', passive: true }] },
    });
    y = await lab.startRouter('y', {
      workers: 2,
      ports: [
        { name: 'h', device: lab.dev('hy'), netns: hy, address: '10.0.2.1/24' },
        { name: 'x', type: 'ethernet', device: lab.dev('ey'), address: '10.0.12.2/29' },
      ],
      bfd: BFD,
      ospf: { routerId: '10.255.0.2', ports: [{ port: 'h', passive: true }, { port: 'x', ...OSPF_PORT }] },
    });
    base = JSON.parse(readFileSync(x.configFile, 'utf8')) as typeof base;
  });

  after(async () => {
    await lab?.cleanup();
  });

  const reloadX = async (withPort: boolean) => {
    const ports = withPort ? [...base.ports, portY] : base.ports;
    const ospfPorts = [{ port: 'h', passive: true }, ...(withPort ? [{ port: 'y', ...OSPF_PORT }] : [])];
    writeFileSync(x.configFile, JSON.stringify({ ...base, ports, ospf: { ...base.ospf, ports: ospfPorts } }));
    return (await x.api<ReloadJson>('POST', '/v1/reload')).ports;
  };
  const ospfRoute = async (r: RouterProcess, prefix: string) =>
    (await r.api<RouteJson[]>('GET', '/v1/routes')).find((route) => route.prefix === prefix && route.source === 'ospf' && route.state === 'active');
  const neighbour = async (r: RouterProcess, routerId: string) => (await r.api<OspfJson>('GET', '/v1/ospf')).neighbours.find((n) => n.routerId === routerId);

  async function ospfUp(): Promise<void> {
    const t0 = Date.now();
    await waitFor('X Full with Y', async () => (await neighbour(x, '10.255.0.2'))?.state === 'Full', 20_000, 50);
    await waitFor('Y Full with X', async () => (await neighbour(y, '10.255.0.1'))?.state === 'Full', 20_000, 50);
    const onY = await waitFor('Y learns 10.0.1.0/24 from X', () => ospfRoute(y, '10.0.1.0/24'), 10_000, 50);
    const onX = await waitFor('X learns 10.0.2.0/24 from Y', () => ospfRoute(x, '10.0.2.0/24'), 10_000, 50);
    await waitFor('BFD Up both ways', async () => (await neighbour(x, '10.255.0.2'))?.bfd === 'Up' && (await neighbour(y, '10.255.0.1'))?.bfd === 'Up', 10_000, 50);
    console.log(`# reload → OSPF Full, BFD Up and routes both ways in ${Date.now() - t0} ms`);
    assert.deepEqual([onY.port, onY.via], ['x', '10.0.12.1']);
    assert.deepEqual([onX.port, onX.via], ['y', '10.0.12.2']);
    const there = await inNetns(hx, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
    assert.match(there.stdout, /3 received/);
    assert.match(there.stdout, /ttl=62 /, 'through both routers');
    const stats = (await x.api<PortJson[]>('GET', '/v1/ports')).find((p) => p.name === 'y')!;
    assert.deepEqual(Object.keys(stats.drops).filter((k) => k !== 'bfd-invalid'), [], `X's port y dropped ${JSON.stringify(stats.drops)}`);
  }

  test('a reload adds the port with OSPF and BFD: Full, routes both ways, ping; a reload removes it: Y drops the route before its dead interval; added back: up again', { timeout: 60_000 }, async () => {
    await sleep(1500);
    assert.equal(await neighbour(y, '10.255.0.1'), undefined, 'no X on the link yet');
    assert.deepEqual(await reloadX(true), { added: ['y'], removed: [], changed: [] });
    await ospfUp();

    const removedAt = Date.now();
    assert.deepEqual(await reloadX(false), { added: [], removed: ['y'], changed: [] });
    const gone = await waitFor('Y withdraws 10.0.1.0/24', () => y.events().find((e) => e.event === 'route.withdrawn' && e.prefix === '10.0.1.0/24' && e.time >= removedAt), 10_000, 20);
    const dt = gone.time - removedAt;
    console.log(`# reload removing the port → Y withdrew X's LAN after ${dt} ms`);
    // X's last words (BFD AdminDown; OSPF's empty Hello) end the adjacency, not Y's dead interval (4 s).
    assert.ok(dt < OSPF_PORT.deadInterval * 1000 - 1000, `withdrawn ${dt} ms after the reload`);
    assert.equal(await ospfRoute(x, '10.0.2.0/24'), undefined, 'X\'s route through the removed port gone');
    assert.deepEqual((await x.api<OspfJson>('GET', '/v1/ospf')).neighbours, [], 'X: no OSPF neighbour');

    assert.deepEqual(await reloadX(true), { added: ['y'], removed: [], changed: [] });
    await ospfUp();
  });
});
