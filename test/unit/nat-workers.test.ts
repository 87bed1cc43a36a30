// Virtual-service NAT with 2 forwarding workers, a Router in this process
// (needs root):
//
//   client ns 10.0.0.2 — [c: multi-queue TUN] router [s: Ethernet, veth] — server ns 192.168.1.2
//
// The router owns 1.1.1.1 and sends it to the server. Each NAT flow is
// owned by one worker. The kernel picks the worker of each direction by its
// own flow hash: on port c (a TUN) by the client's flow, on port s (an
// AF_PACKET fanout) by the backend's, a different address pair — so for
// about half the flows a worker reads a packet whose flow the other owns,
// and hands it over (without that, their answers would come back from the
// server's private address). Every one of
// many UDP flows is translated both ways (the answer comes from 1.1.1.1,
// the server sees the client), the figures the router reports are both
// workers' summed, and a reload's new services reach the workers.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { parseAddress } from '../../src/net/addr.js';
import { Router } from '../../src/router/router.js';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns, waitFor } from '../../src/testbed/shell.js';

const root = process.getuid?.() === 0;

/** UDP on :7 answering "server <client address>". */
const SERVER = `
const u = require('dgram').createSocket('udp4');
u.on('message', (m, r) => u.send('server ' + r.address, r.port, r.address));
u.bind(7, '192.168.1.2');
`;

/**
 * N UDP flows to DST:7 from N source ports, each sent every 100 ms until
 * answered (3 s at most); prints one JSON line: per flow its answer and
 * where it came from (null: none).
 */
const CLIENTS = `
const dgram = require('dgram');
const [dst, n] = [process.argv[1], Number(process.argv[2])];
const answers = new Array(n).fill(null);
let left = n;
const socks = [];
const done = () => { console.log(JSON.stringify(answers)); process.exit(0); };
setTimeout(done, 3000);
for (let i = 0; i < n; i++) {
  const s = dgram.createSocket('udp4');
  socks.push(s);
  let timer;
  s.on('message', (m, r) => {
    if (answers[i]) return;
    answers[i] = m.toString() + ' from ' + r.address + ':' + r.port;
    clearInterval(timer);
    if (--left === 0) done();
  });
  s.bind(0, '10.0.0.2', () => {
    s.send('hi', 7, dst);
    timer = setInterval(() => s.send('hi', 7, dst), 100);
  });
}
`;

const FLOWS = 32;

let lab: Lab;
let client: string;
let server: string;
let router: Router;

before(async () => {
  if (!root) return;
  lab = await Lab.create('natwk');
  client = await lab.addNamespace('client');
  server = await lab.addNamespace('server');
  const r = await lab.addNamespace('r');
  lab.multiQueueTuns = true;
  await lab.hostPort(client, lab.dev('c'), '10.0.0.2/24', '10.0.0.1');
  await lab.ethernetHostPort(server, lab.dev('hs'), r, lab.dev('rs'), '192.168.1.2/24', '192.168.1.1');
  const config = parseRouterConfig({
    router: 'natwk',
    workers: 2,
    ports: [
      { name: 'c', device: lab.dev('c'), netns: client, address: '10.0.0.1/24' },
      { name: 's', type: 'ethernet', device: lab.dev('rs'), netns: r, address: '192.168.1.1/24' },
    ],
    virtualServices: [{ name: 'echo', address: '1.1.1.1', idleTimeout: 30, backends: [{ name: 'server', address: '192.168.1.2' }] }],
  });
  router = new Router(config, pino({ level: 'silent' }));
  router.start();
  lab.spawnIn(server, process.execPath, ['-e', SERVER]);
});

after(async () => {
  if (!root) return;
  router?.stop();
  await router?.stopped();
  await lab?.cleanup();
});

async function flows(vip: string): Promise<(string | null)[]> {
  const r = await inNetns(client, process.execPath, ['-e', CLIENTS, vip, String(FLOWS)], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout) as (string | null)[];
}

test('2 workers: every UDP flow to the VIP is translated both ways, those whose directions the kernel gave different workers too', { skip: !root && 'needs root', timeout: 30_000 }, async () => {
  // The server may still be starting: one flow answered first.
  await waitFor('the server answering through the NAT', async () => (await inNetns(client, process.execPath, ['-e', CLIENTS, '1.1.1.1', '1'], { timeoutMs: 5000 })).stdout.includes('server'), 10_000, 100);
  const snap0 = await router.natSnapshot(1000);
  const answers = await flows('1.1.1.1');
  assert.deepEqual(answers, new Array(FLOWS).fill('server 10.0.0.2 from 1.1.1.1:7'));
  const snap = await router.natSnapshot(1000);
  assert.ok(snap0 && snap);
  // Both workers' NATs, summed: each flow made once (by its owner), translated both ways.
  assert.equal(snap.counts.created - snap0.counts.created, FLOWS);
  assert.ok(snap.counts.packetsIn - snap0.counts.packetsIn >= FLOWS, `packetsIn ${snap.counts.packetsIn}`);
  assert.ok(snap.counts.packetsOut - snap0.counts.packetsOut >= FLOWS, `packetsOut ${snap.counts.packetsOut}`);
  // Some packets were read by the worker that does not own their flow (P(none) ≈ 2^-32 for 32 flows).
  assert.ok(snap.counts.handedOff - snap0.counts.handedOff > 0, 'no packet was handed to its owner');
  assert.equal(snap.counts.capacity, 2 * router.path.nat!.flows.capacity, 'two tables: one per worker');
  assert.equal(snap.backendFlowsCreated[0]! - snap0.backendFlowsCreated[0]!, FLOWS);
  const listed = snap.flows.filter((f) => f.client === (parseAddress('10.0.0.2') | 0) && f.port === 7);
  assert.ok(listed.length >= FLOWS + 1, `${listed.length} flows listed`);
  assert.equal(new Set(listed.map((f) => f.clientPort)).size, listed.length, 'each flow listed once (by its owner)');
  // The control thread's own NAT saw none of it.
  assert.equal(router.path.nat!.packetsIn, 0);
  const drops = router.portByName('c').counters.snapshot().drops;
  assert.equal(drops['handoff-full'] ?? 0, 0);
});

test('a reload\'s new virtual services reach the workers', { skip: !root && 'needs root', timeout: 30_000 }, async () => {
  router.path.setVirtualServices([{ ...router.config.virtualServices[0]!, address: parseAddress('1.1.1.2') }]);
  // Each worker answers this after it took the new services (one channel, in order): fresh tables.
  assert.equal((await router.natSnapshot(1000))?.counts.created, 0);
  const answers = await flows('1.1.1.2');
  assert.deepEqual(answers, new Array(FLOWS).fill('server 10.0.0.2 from 1.1.1.2:7'));
  const snap = await router.natSnapshot(1000);
  // New tables: only the new service's flows.
  assert.equal(snap?.counts.created, FLOWS);
  assert.ok(snap.flows.every((f) => f.vip === (parseAddress('1.1.1.2') | 0)));
});
