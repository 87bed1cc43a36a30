// tunroute on Ethernet ports (veth ends), end to end, with kernel hosts and
// real peers:
//   host a ─veth─ [r1] ─veth─ [r2] ─veth─ host b   (all tunroute ports Ethernet)
// ARP resolved both ways (the hosts see our MACs REACHABLE; `neigh list`
// shows theirs), ping with TTL down by two, HTTP, PMTU discovery across a
// 1000-byte link, a block the neighbour sees as NO-CARRIER and an unblock
// that announces itself (gratuitous ARP), a deleted and re-made veth the
// port comes back on — and RIP + BFD with a real BIRD
// and a real FRR over a veth.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NeighbourPortJson, PortJson, RouteJson } from '../../src/api/types.js';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';
import { startHttpEcho } from './helpers.js';

let lab: Lab;

before(async () => {
  lab = await Lab.create('eth');
});

after(async () => {
  await lab?.cleanup();
});

/** A veth pair between two namespaces (ends named in each), up, with an MTU. */
async function veth(nsA: string, devA: string, nsB: string, devB: string, mtu = 1500): Promise<void> {
  await ip('link', 'add', 'name', devA, 'netns', nsA, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', devB, 'netns', nsB, 'mtu', String(mtu));
}

describe('two tunroute routers over veths', () => {
  let a: string;
  let b: string;
  let r1: RouterProcess;
  let r2: RouterProcess;

  before(async () => {
    a = await lab.addNamespace('a');
    b = await lab.addNamespace('b');
    const n1 = await lab.addNamespace('r1');
    const n2 = await lab.addNamespace('r2');
    await lab.ethernetHostPort(a, 'eth0', n1, 'eth1', '10.0.1.2/24', '10.0.1.1');
    await veth(n1, 'eth2', n2, 'eth1', 1500);
    await lab.ethernetHostPort(b, 'eth0', n2, 'eth2', '10.0.2.2/24', '10.0.2.1', 1000);
    r1 = await lab.startRouter('r1', {
      ports: [
        { name: 'a', type: 'ethernet', device: 'eth1', address: '10.0.1.1/24' },
        { name: 'r2', type: 'ethernet', device: 'eth2', address: '10.0.12.1/24' },
      ],
      routes: [{ prefix: '10.0.2.0/24', port: 'r2', via: '10.0.12.2' }],
    });
    r2 = await lab.startRouter('r2', {
      ports: [
        { name: 'r1', type: 'ethernet', device: 'eth1', address: '10.0.12.2/24' },
        { name: 'b', type: 'ethernet', device: 'eth2', address: '10.0.2.1/24', mtu: 1000 },
      ],
      routes: [{ prefix: '10.0.1.0/24', port: 'r1', via: '10.0.12.1' }],
    });
  });

  test('ARP both ways: ping across (TTL −2), the hosts see our MACs, `neigh list` theirs', { timeout: 30_000 }, async () => {
    const r = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
    assert.match(r.stdout, /3 received/);
    assert.match(r.stdout, /ttl=62 /);
    const ports = await r1.api<PortJson[]>('GET', '/v1/ports');
    const mac = ports.find((p) => p.name === 'a')!.mac!;
    assert.equal(ports.find((p) => p.name === 'a')!.type, 'ethernet');
    const hostNeigh = (await ip('-n', a, 'neigh', 'show', '10.0.1.1')).stdout;
    assert.match(hostNeigh, new RegExp(`lladdr ${mac} (REACHABLE|STALE|DELAY)`), hostNeigh);
    const neigh = JSON.parse(await r1.cli('--json', 'neigh', 'list')) as NeighbourPortJson[];
    const toA = neigh.find((p) => p.port === 'a')!.neighbours.find((n) => n.address === '10.0.1.2');
    assert.ok(toA && toA.mac && toA.state === 'reachable', JSON.stringify(neigh));
    const toR2 = neigh.find((p) => p.port === 'r2')!.neighbours.find((n) => n.address === '10.0.12.2');
    assert.equal(toR2?.state, 'reachable');
    assert.match(await r1.cli('neigh', 'list'), /10\.0\.1\.2\s+[0-9a-f:]{17}\s+reachable/);
  });

  test('HTTP across, and PMTU discovery over the 1000-byte link', { timeout: 30_000 }, async () => {
    const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
    try {
      const r = await inNetns(a, 'curl', ['-sS', '--max-time', '10', 'http://10.0.2.2:8080/big?bytes=300000']);
      assert.equal(r.stdout.length, 300000);
    } finally {
      server.kill('SIGKILL');
    }
    // DF set, 1400 bytes: r2 answers Fragmentation Needed (MTU 1000); a's kernel learns it.
    await inNetns(a, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', '1372', '10.0.2.2']).catch(() => undefined);
    const cached = (await ip('-n', a, 'route', 'get', '10.0.2.2')).stdout;
    assert.match(cached, /mtu 1000/, cached);
    const ok = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-s', '972', '-M', 'do', '10.0.2.2']);
    assert.match(ok.stdout, /2 received/);
  });

  test('a block: the neighbour sees NO-CARRIER and the routes go; an unblock announces us and traffic flows again', { timeout: 30_000 }, async () => {
    await r1.api('POST', '/v1/ports/r2/block');
    await waitFor('r2 sees NO-CARRIER', async () => /NO-CARRIER/.test((await ip('-n', lab.ns('r2'), 'link', 'show', 'eth1')).stdout), 5000, 50);
    const route = (await r1.api<RouteJson[]>('GET', '/v1/routes')).find((x) => x.prefix === '10.0.2.0/24')!;
    assert.equal(route.unusable, 'port-blocked');
    await assert.rejects(inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2']));
    await r1.api('POST', '/v1/ports/r2/unblock');
    await waitFor('ping across again', () => inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2']).then(() => true, () => false), 10_000, 200);
    const events = (await r2.api<NeighbourPortJson[]>('GET', '/v1/neighbours')).find((p) => p.port === 'r1')!.counters.events;
    assert.ok((events['arp-requests-received'] ?? 0) + (events['arp-replies-received'] ?? 0) > 0, JSON.stringify(events));
    // The block's link down reached the port's socket as ENETDOWN: not a read error, the interface is there.
    assert.ok(!r1.events().some((e) => e.event === 'port.read-error' || e.event === 'port.down'), 'no read error, no device-gone');
  });

  test('a deleted veth takes the port down (routes withdrawn, device-gone); made again, the port comes back and traffic flows', { timeout: 30_000 }, async () => {
    await ip('-n', a, 'link', 'del', 'eth0');
    await waitFor('r1 port a down', async () => (await r1.api<PortJson[]>('GET', '/v1/ports')).find((p) => p.name === 'a')!.state === 'down', 5000, 50);
    const connected = (await r1.api<RouteJson[]>('GET', '/v1/routes')).find((r) => r.prefix === '10.0.1.0/24')!;
    assert.equal(connected.unusable, 'port-down');
    assert.ok(r1.events().some((e) => e.event === 'port.down' && e.port === 'a' && e.reason === 'device-gone'));
    await lab.ethernetHostPort(a, 'eth0', lab.ns('r1'), 'eth1', '10.0.1.2/24', '10.0.1.1');
    await waitFor('r1 port a restored', () => r1.events().some((e) => e.event === 'port.restored' && e.port === 'a'), 10_000, 100);
    await waitFor('ping across again', () => inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2']).then(() => true, () => false), 10_000, 200);
    // The re-created interface has a new MAC: the port took it.
    const mac = (await r1.api<PortJson[]>('GET', '/v1/ports')).find((p) => p.name === 'a')!.mac!;
    assert.match((await ip('-n', lab.ns('r1'), 'link', 'show', 'eth1')).stdout, new RegExp(mac));
  });
});

const RIP_TIMERS = { updateTime: 5, timeoutTime: 30, garbageTime: 20 };

describe('tunroute ↔ BIRD and ↔ FRR over a veth, RIP + BFD', () => {
  test('BIRD: BFD Up, routes both ways, a block drops them on BIRD\'s side', { timeout: 60_000 }, async () => {
    const bns = await lab.addNamespace('bird');
    const rns = await lab.addNamespace('rb');
    const h = await lab.addNamespace('hb');
    await veth(rns, 'eth1', bns, 'eth1');
    await ip('-n', bns, 'addr', 'add', '10.0.3.2/24', 'dev', 'eth1');
    await ip('-n', bns, 'link', 'set', 'eth1', 'up');
    await ip('-n', bns, 'addr', 'add', '192.168.50.1/24', 'dev', 'lo');
    await lab.ethernetHostPort(h, 'eth0', rns, 'eth2', '10.0.30.2/24', '10.0.30.1');
    const r = await lab.startRouter('rb', {
      ports: [
        { name: 'bird', type: 'ethernet', device: 'eth1', address: '10.0.3.1/24' },
        { name: 'lan', type: 'ethernet', device: 'eth2', address: '10.0.30.1/24' },
      ],
      rip: { ports: [{ port: 'bird', bfd: true }], ...RIP_TIMERS },
    });
    const bird = await Bird.start(lab, bns, [
      'router id 10.0.3.2;',
      'protocol device { scan time 1; }',
      'protocol direct { ipv4; interface "lo"; }',
      'protocol kernel { ipv4 { export where source = RTS_RIP; }; }',
      'protocol bfd { interface "eth1" { interval 100 ms; multiplier 3; }; }',
      'protocol rip {',
      '  ipv4 { import all; export all; };',
      '  interface "eth1" { update time 5; timeout time 30; bfd yes; };',
      '}',
      '',
    ].join('\n'));
    await waitFor('BFD Up on BIRD', async () => /10\.0\.3\.1\s+eth1\s+Up/.test(await bird.cmd('show bfd sessions')), 20_000, 100);
    await waitFor('BIRD learns 10.0.30.0/24', async () => /10\.0\.30\.0\/24\s+unicast \[rip1/.test(await bird.cmd('show route protocol rip1')), 20_000, 100);
    await waitFor('we learn 192.168.50.0/24', async () => (await r.api<RouteJson[]>('GET', '/v1/routes')).some((x) => x.prefix === '192.168.50.0/24' && x.state === 'active'), 20_000, 100);
    await waitFor('the host behind us reaches BIRD\'s loopback network', () => inNetns(h, 'ping', ['-c', '1', '-W', '1', '192.168.50.1']).then(() => true, () => false), 10_000, 200);
    const t0 = Date.now();
    await r.api('POST', '/v1/ports/bird/block');
    await waitFor('BIRD drops our route', async () => !(await bird.cmd('show route protocol rip1')).includes('10.0.30.0/24'), 2000, 10);
    console.log(`# over a veth: BIRD dropped our RIP route ${Date.now() - t0} ms after the block`);
  });

  test('FRR: ripd learns and gives routes over the veth; bfdd comes Up with us', { timeout: 60_000 }, async () => {
    const fns = await lab.addNamespace('frr');
    const rns = await lab.addNamespace('rf');
    await veth(rns, 'eth1', fns, 'eth1');
    await ip('-n', fns, 'addr', 'add', '10.0.4.2/24', 'dev', 'eth1');
    await ip('-n', fns, 'link', 'set', 'eth1', 'up');
    await ip('-n', fns, 'addr', 'add', '192.168.60.1/24', 'dev', 'lo');
    const r = await lab.startRouter('rf', {
      ports: [{ name: 'frr', type: 'ethernet', device: 'eth1', address: '10.0.4.1/24' }],
      routes: [{ prefix: '10.77.0.0/16', port: 'frr', via: '10.0.4.2', bfd: true }],
      rip: { ports: ['frr'], redistribute: ['connected'], ...RIP_TIMERS },
    });
    const frr = await Frr.start(lab, fns, {
      ripd: ['hostname frr-rip', '!', 'router rip', ' version 2', ' network eth1', ' timers basic 5 30 20', ' redistribute connected', '!', ''].join('\n'),
      bfdd: ['hostname frr-bfd', '!', 'bfd', ' peer 10.0.4.1 interface eth1', '  receive-interval 100', '  transmit-interval 100', ' !', '!', ''].join('\n'),
    });
    await waitFor('FRR learns 10.0.4.0/24 neighbour routes (our connected)', async () => /10\.0\.4\.1/.test(await frr.vtysh('show ip rip status')), 20_000, 200);
    await waitFor('we learn 192.168.60.0/24', async () => (await r.api<RouteJson[]>('GET', '/v1/routes')).some((x) => x.prefix === '192.168.60.0/24' && x.state === 'active'), 20_000, 100);
    await waitFor('BFD Up (our tracked route usable)', async () => (await r.api<RouteJson[]>('GET', '/v1/routes')).some((x) => x.prefix === '10.77.0.0/16' && x.state === 'active'), 20_000, 100);
    assert.match(await frr.vtysh('show bfd peers'), /Status: up/);
  });
});
