// A Router with forwarding workers, in this process, on two real
// multi-queue TUNs in a namespace (needs root): the workers forward what
// the namespace's kernel sends in through port a out of port b, the
// control thread's counters are the workers' summed (and match the
// kernel's own count on the TUN), so are their drain flow tables'
// figures, a route the control thread installs is used by the workers at
// once and its withdrawal too, ping to the router's address goes through
// the hand-over to the control thread, a reload's ports join and leave
// the running workers (added: read by them, routes only once every worker
// has it; changed: its queues taken over, or moved to another device: that
// device's queues read and the old ones closed; removed: its queues closed), and
// a worker that fails ends cleanly and tells the router to stop.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { pino } from 'pino';
import { SPARE_PORTS } from '../../src/dataplane/packet-path.js';
import { TunDevice, TunError } from '../../src/ports/tun-device.js';
import { Router, deviceKey } from '../../src/router/router.js';
import { FLOW_INSERTED, FLOW_CAPACITY, STATUS_TICKS, statusBytes, statusLive, statusOpen, statusViews } from '../../src/router/worker-protocol.js';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep } from '../../src/testbed/shell.js';
import { FLOWS, sendUdpFlows, settled } from '../support/udp-flows.js';

const root = process.getuid?.() === 0;
let lab: Lab;
let ns: string;
let router: Router;
/** What the router logged (JSON lines). */
const logLines: string[] = [];

async function kernelRx(dev: string): Promise<number> {
  return Number((await inNetns(ns, 'cat', [`/sys/class/net/${dev}/statistics/rx_packets`])).stdout.trim());
}

/** Wait (bounded) until `probe` holds. */
async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

before(async () => {
  if (!root) return;
  lab = await Lab.create('wku');
  ns = await lab.addNamespace('r');
  const config = parseRouterConfig({
    router: 'wku',
    workers: 2,
    ports: [
      { name: 'a', device: lab.dev('a'), netns: ns, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: ns, address: '10.0.2.1/24' },
    ],
  });
  router = new Router(config, pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }));
  router.start();
  // The namespace's kernel is on the other side of both TUNs: it sends into a, and b's packets arrive at it.
  await ip('-n', ns, 'addr', 'add', '10.0.1.2/24', 'dev', lab.dev('a'));
  await ip('-n', ns, 'link', 'set', lab.dev('a'), 'up');
  await ip('-n', ns, 'link', 'set', lab.dev('b'), 'up');
  await ip('-n', ns, 'route', 'add', '10.0.2.0/24', 'via', '10.0.1.1', 'dev', lab.dev('a'));
  await ip('-n', ns, 'route', 'add', '10.7.0.0/16', 'via', '10.0.1.1', 'dev', lab.dev('a'));
});

after(async () => {
  if (!root) return;
  router?.stop();
  await router?.stopped();
  await lab?.cleanup();
});

const pings = (dst: string, n: number) => inNetns(ns, 'ping', ['-c', String(n), '-i', '0.01', '-W', '0.2', dst], { allowFail: true });

test('workers forward through port a out of port b; the counters the control thread reports are theirs summed', { skip: !root && 'needs root' }, async () => {
  assert.equal(router.workers?.count, 2);
  const before = router.portByName('b').counters.snapshot().txPackets;
  const kernelBefore = await kernelRx(lab.dev('b'));
  await pings('10.0.2.9', 40);
  await until('40 packets out of b', () => router.portByName('b').counters.snapshot().txPackets - before >= 40);
  assert.equal(router.portByName('b').counters.snapshot().txPackets - before, 40);
  // The control thread read none of them: every count is in the workers' shards.
  assert.equal(router.portByName('b').counters.values[2], 0, 'the control thread\'s own txPackets');
  assert.ok(router.portByName('a').counters.snapshot().rxPackets >= 40);
  await until('the kernel saw 40 on b', async () => (await kernelRx(lab.dev('b'))) - kernelBefore >= 40);
  // Each forwarded once, by one worker.
  assert.equal((await kernelRx(lab.dev('b'))) - kernelBefore, 40);
});

test('a flow\'s packets are read by one worker (the kernel steers a multi-queue TUN by flow): 16 UDP flows of 30 datagrams each are each inserted once in the workers\' flow tables', { skip: !root && 'needs root' }, async () => {
  const inserted = () => settled(() => router.flowFigures().inserted);
  const before = await inserted();
  await sendUdpFlows(ns, '10.0.1.2', '10.0.2.9', 41000);
  await until(`${FLOWS} new flows in the workers' tables`, async () => (await inserted()) - before >= FLOWS, 10_000);
  assert.equal((await inserted()) - before, FLOWS, 'each flow in one worker\'s table only (a flow split across queues is inserted by both workers)');
});

test('the router\'s drain flow table figures sum the workers\' tables (the control thread\'s holds none of the flows they forward)', { skip: !root && 'needs root' }, async () => {
  await pings('10.0.2.9', 5);
  // A worker counts its live flows at its tick, at most a second apart.
  await until('the ping\'s flow live in the figures', () => router.flowFigures().live >= 1, 3000);
  const f = router.flowFigures();
  assert.ok(f.inserted >= 1, `inserted ${f.inserted}`);
  assert.equal(f.capacity, 3 * router.path.flows.capacity, 'the control thread\'s table and both workers\'');
  assert.deepEqual([f.evictedLive, f.untracked], [0, 0]);
  assert.deepEqual([router.path.flows.inserted, router.path.flows.liveFlows()], [0, 0], 'the control thread\'s own table');
});

test('new transit settings (a reload\'s drainIdleTimeout) reach the workers\' flow tables', { skip: !root && 'needs root' }, async () => {
  await pings('10.0.2.9', 3);
  await until('the ping\'s flow live in the figures', () => router.flowFigures().live >= 1, 3000);
  // Idle flows now leave after 1 s instead of 5: the workers' live count falls to 0 within their next scans.
  router.path.setTransitSettings({ icmpRateLimit: router.config.icmpRateLimit, drainIdleTimeout: 1 });
  await until('the workers\' flows idle out after 1 s', () => router.flowFigures().live === 0, 3500);
});

test('the ICMP error rate limit is shared by the threads: with 2 workers each bucket holds a third of the burst', { skip: !root && 'needs root' }, async () => {
  const idle = router.config.drainIdleTimeout;
  // A burst of 6 (and next to no rate) for the router: the worker carrying the ping's one flow may answer 2 of 20 expired packets, not 6.
  router.path.setTransitSettings({ icmpRateLimit: { rate: 0.01, burst: 6 }, drainIdleTimeout: idle });
  try {
    const r = await inNetns(ns, 'ping', ['-c', '20', '-i', '0.01', '-t', '1', '-W', '0.2', '10.0.2.9'], { allowFail: true });
    const exceeded = (r.stdout.match(/Time to live exceeded/g) ?? []).length;
    assert.ok(exceeded >= 1 && exceeded <= 2, `${exceeded} Time Exceeded for 20 packets with TTL 1:\n${r.stdout}`);
  } finally {
    router.path.setTransitSettings({ icmpRateLimit: router.config.icmpRateLimit, drainIdleTimeout: idle });
  }
});

test('a route the control thread installs and withdraws is followed by the workers at once', { skip: !root && 'needs root' }, async () => {
  const b = router.portByName('b');
  const a = router.portByName('a');
  const noRoute = () => a.counters.snapshot().drops['no-route'] ?? 0;
  const n0 = noRoute();
  await pings('10.7.0.1', 5);
  await until('5 no-route drops', () => noRoute() - n0 >= 5);
  const route = router.addRoute({ prefix: 0x0a070000, len: 16, port: b.index, nextHop: 0x0a020009, metric: 1 });
  const tx0 = b.counters.snapshot().txPackets;
  await pings('10.7.0.1', 10);
  await until('10 packets out of b', () => b.counters.snapshot().txPackets - tx0 >= 10);
  router.removeRoute(route.id);
  const n1 = noRoute();
  await pings('10.7.0.1', 5);
  await until('5 more no-route drops', () => noRoute() - n1 >= 5);
  assert.equal(b.counters.snapshot().txPackets - tx0, 10);
});

test('ping to the router: a worker hands it to the control thread, which answers', { skip: !root && 'needs root' }, async () => {
  const r = await inNetns(ns, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.1']);
  assert.match(r.stdout, /3 received/);
});

test('a reload\'s ports join and leave the running workers: added (read by them, counters summed), changed keeping its device (its queues taken over), removed (its queues closed)', { skip: !root && 'needs root' }, async () => {
  const configs = parseRouterConfig({
    router: 'wku', workers: 2,
    ports: [
      { name: 'c', device: lab.dev('c'), netns: ns, address: '10.0.3.1/24' },
      { name: 'b', device: lab.dev('b'), netns: ns, address: '10.0.4.1/24' },
    ],
  }).ports;
  await ip('-n', ns, 'route', 'add', '10.0.3.0/24', 'via', '10.0.1.1', 'dev', lab.dev('a'));
  await ip('-n', ns, 'route', 'add', '10.0.4.0/24', 'via', '10.0.1.1', 'dev', lab.dev('a'));
  const a = router.portByName('a');
  const noRoute = () => a.counters.snapshot().drops['no-route'] ?? 0;
  const n0 = noRoute();
  await pings('10.0.3.9', 3);
  await until('3 no-route drops before c joins', () => noRoute() - n0 >= 3);

  // Added: opened (2 queues), attached; its connected route stays out of the FIB until both workers have it.
  const [c] = router.openPorts([configs[0]!]);
  router.attachPort(c!);
  const connected = (port: number) => router.rib.find((r) => r.source === 'connected' && r.port === port)[0];
  assert.equal(connected(c!.index)?.unusable, 'port-joining', 'no worker has answered yet (this thread has not yielded)');
  await until('c joined in both workers', () => connected(c!.index)?.unusable === null);
  await ip('-n', ns, 'link', 'set', lab.dev('c'), 'up');
  const kernelC = await kernelRx(lab.dev('c'));
  await pings('10.0.3.9', 40);
  await until('40 packets out of c', () => c!.counters.snapshot().txPackets >= 40);
  assert.equal(c!.counters.snapshot().txPackets, 40);
  assert.equal(c!.counters.values[2], 0, 'the control thread\'s own txPackets: the workers\' shards hold them');
  await until('the kernel saw 40 on c', async () => (await kernelRx(lab.dev('c'))) - kernelC >= 40);

  // Changed (new address, same device): the new b takes the old one's queues over; the old one's routes go.
  const oldB = router.portByName('b');
  const [newB] = router.openPorts([configs[1]!], new Map([[deviceKey({ device: lab.dev('b'), netns: ns }), oldB.device]]));
  assert.equal(newB!.device, oldB.device, 'the same queue 0');
  router.retirePorts([oldB]);
  router.attachPort(newB!);
  router.removePort(oldB);
  await until('the new b joined', () => connected(newB!.index)?.unusable === null);
  const kernelB = await kernelRx(lab.dev('b'));
  await pings('10.0.4.9', 20);
  await until('20 packets out of the new b', () => newB!.counters.snapshot().txPackets >= 20);
  await until('the kernel saw them on the same TUN', async () => (await kernelRx(lab.dev('b'))) - kernelB >= 20);
  const n1 = noRoute();
  await pings('10.0.2.9', 3);
  await until('the old b\'s network unreachable', () => noRoute() - n1 >= 3);

  // Removed: its route withdrawn; once both workers let go its queues close, and with them the TUN (made by the router) goes.
  router.retirePorts([c!]);
  router.removePort(c!);
  assert.equal(connected(c!.index), undefined);
  const n2 = noRoute();
  await pings('10.0.3.9', 3);
  await until('c\'s network unreachable', () => noRoute() - n2 >= 3);
  await until('the TUN of c gone (every queue closed)', async () => (await ip('-n', ns, 'link', 'show', lab.dev('c')).then(() => false, () => true)), 3000);
  // The taken-over queues were not closed with the old b: still forwarding.
  await sleep(300);
  const tx = newB!.counters.snapshot().txPackets;
  await pings('10.0.4.9', 5);
  await until('5 more out of the new b', () => newB!.counters.snapshot().txPackets - tx >= 5);
});

test('a reload\'s changed port that moves to another device: the new device\'s queues are read, the old one\'s close once both workers let go', { skip: !root && 'needs root' }, async () => {
  const portOn = (device: string) => parseRouterConfig({ router: 'wku', workers: 2, ports: [{ name: 'e', device, netns: ns, address: '10.0.5.1/24' }] }).ports[0]!;
  const [first, moved] = [portOn(lab.dev('e1')), portOn(lab.dev('e2'))];
  await ip('-n', ns, 'route', 'add', '10.0.5.0/24', 'via', '10.0.1.1', 'dev', lab.dev('a'));
  const [e1] = router.openPorts([first]);
  router.attachPort(e1!);
  const connected = (port: number) => router.rib.find((r) => r.source === 'connected' && r.port === port)[0];
  await until('e on e1 joined', () => connected(e1!.index)?.unusable === null);
  await ip('-n', ns, 'link', 'set', lab.dev('e1'), 'up');
  const kernelE1 = await kernelRx(lab.dev('e1'));
  await pings('10.0.5.9', 10);
  await until('the kernel saw 10 on e1', async () => (await kernelRx(lab.dev('e1'))) - kernelE1 >= 10);

  // The same port name on another device (as a reload does it: nothing to reuse, since the device differs).
  const [e2] = router.openPorts([moved], new Map([[deviceKey({ device: lab.dev('e1'), netns: ns }), e1!.device]]));
  assert.notEqual(e2!.device, e1!.device, 'a device of its own');
  router.retirePorts([e1!]);
  router.attachPort(e2!);
  router.removePort(e1!);
  assert.equal(router.portByName('e'), e2, 'the name finds the new port');
  await until('e on e2 joined', () => connected(e2!.index)?.unusable === null);
  await until('the TUN e1 gone (every queue closed)', async () => (await ip('-n', ns, 'link', 'show', lab.dev('e1')).then(() => false, () => true)), 3000);
  await ip('-n', ns, 'link', 'set', lab.dev('e2'), 'up');
  const kernelE2 = await kernelRx(lab.dev('e2'));
  await pings('10.0.5.9', 10);
  await until('10 packets out of e on e2', () => e2!.counters.snapshot().txPackets >= 10);
  await until('the kernel saw them on e2', async () => (await kernelRx(lab.dev('e2'))) - kernelE2 >= 10);
});

test('a port changed 20 times (more changes than the arena keeps spare ports for): the workers give each old port\'s receive slots back, and traffic still crosses the last one', { skip: !root && 'needs root' }, async () => {
  let fatal = '';
  const onFatal = router.onFatal;
  router.onFatal = (message) => void (fatal = message);
  try {
    const portAt = (i: number) => parseRouterConfig({ router: 'wku', workers: 2, ports: [{ name: 'g', device: lab.dev('g'), netns: ns, address: `10.0.${100 + i}.1/24` }] }).ports[0]!;
    const connected = (port: number) => router.rib.find((r) => r.source === 'connected' && r.port === port)[0];
    let [g] = router.openPorts([portAt(0)]);
    router.attachPort(g!);
    await until('g joined', () => connected(g!.index)?.unusable === null);
    let afterFirst = 0;
    for (let i = 1; i <= SPARE_PORTS + 4; i++) {
      // A changed address, the same device: the new port takes the queues over (as a reload does).
      const [next] = router.openPorts([portAt(i)], new Map([[deviceKey({ device: lab.dev('g'), netns: ns }), g!.device]]));
      router.retirePorts([g!]);
      router.attachPort(next!);
      router.removePort(g!);
      g = next;
      await until(`change ${i} joined in both workers`, () => connected(g!.index)?.unusable === null || fatal !== '');
      assert.equal(fatal, '', `change ${i}`);
      // The new port is opened before the old one leaves: the first change takes a second set of slots, the rest reuse them.
      if (i === 1) afterFirst = router.arena.reservedEnd;
    }
    assert.equal(router.arena.reservedEnd, afterFirst, 'this thread reused the slots too');
    await ip('-n', ns, 'link', 'set', lab.dev('g'), 'up');
    await ip('-n', ns, 'route', 'add', `10.0.${100 + SPARE_PORTS + 4}.0/24`, 'via', '10.0.1.1', 'dev', lab.dev('a'));
    await pings(`10.0.${100 + SPARE_PORTS + 4}.9`, 10);
    await until('10 packets out of the last g', () => g!.counters.snapshot().txPackets >= 10);
    assert.equal(fatal, '');
  } finally {
    router.onFatal = onFatal;
  }
});

test('a TUN made beforehand without multi_queue: the kernel refuses a multi-queue open, and the error says why', { skip: !root && 'needs root' }, async () => {
  const dev = lab.dev('sq');
  // In the lab's namespace: its cleanup removes it.
  await ip('-n', ns, 'tuntap', 'add', 'dev', dev, 'mode', 'tun');
  assert.throws(() => new TunDevice({ name: dev, netns: ns, multiQueue: true }),
    (e: unknown) => e instanceof TunError && /exists as a single-queue device/.test(e.message));
});

// Last: it ends worker 0.
test('a bug in a worker (here: a queue it cannot read) ends it cleanly: logged, and the daemon is told to stop — no abort', { skip: !root && 'needs root' }, async () => {
  let fatal = '';
  router.onFatal = (message) => void (fatal = message);
  // Fault injection: worker 0 is handed a "new queue" on fd −1; watching it throws inside the worker.
  const queue = { kind: 'tun', name: 'x', netns: undefined, fd: -1, vnetHdrSize: 0, offloads: 0 };
  (router.workers as unknown as { post(w: number, m: unknown): void }).post(0, { type: 'adopt', port: 0, queue });
  await until('the router told to stop', () => fatal !== '');
  assert.match(fatal, /^forwarding worker 0 exited \(1\)/);
  const failed = logLines.map((l) => JSON.parse(l) as { event?: string; worker?: number; error?: string }).find((e) => e.event === 'worker.failed');
  assert.equal(failed?.worker, 0);
  assert.match(failed?.error ?? '', /uv_poll|EBADF|bad file/i);
});

test('config: workers is 0..64, default 0; virtual services run with workers too', () => {
  const ports = [{ name: 'a', device: 'a0', address: '10.0.1.1/24' }];
  assert.equal(parseRouterConfig({ router: 'r', ports }).workers, 0);
  assert.equal(parseRouterConfig({ router: 'r', ports, workers: 3 }).workers, 3);
  assert.throws(() => parseRouterConfig({ router: 'r', ports, workers: 65 }), /workers/);
  const virtualServices = [{ name: 'web', address: '1.1.1.1', backends: [{ name: 'b1', address: '10.0.1.9' }] }];
  const c = parseRouterConfig({ router: 'r', ports, workers: 2, virtualServices });
  assert.deepEqual([c.workers, c.virtualServices.length], [2, 1]);
});

test('status block: the flow figures follow the Int32 slots, 8-byte aligned, without overlap, and hold counts past 2^31', () => {
  for (let ports = 1; ports <= 4; ports++) {
    const block = new SharedArrayBuffer(statusBytes(ports));
    const { slots, flows } = statusViews(block, ports);
    assert.ok(statusOpen(ports - 1) < slots.length && slots.byteLength <= flows.byteOffset, `${ports} ports`);
    assert.equal(flows.byteOffset % 8, 0);
    assert.equal(flows.byteOffset + flows.byteLength, block.byteLength);
    slots.fill(-1);
    flows[FLOW_INSERTED] = 2 ** 40 + 1;
    flows[FLOW_CAPACITY] = 262_144;
    assert.deepEqual([slots[STATUS_TICKS], slots[statusLive(ports - 1)], slots[statusOpen(ports - 1)]], [-1, -1, -1]);
    assert.equal(flows[FLOW_INSERTED], 2 ** 40 + 1);
  }
});
