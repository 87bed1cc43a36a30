// Virtual-service NAT end to end, real kernel TCP/UDP on every host:
//
//   client (10.0.0.2 appliance, 10.0.0.200 test appliance) — [c] router [s1] — server1 192.168.1.2
//                                                                       [s2] — server2 192.168.2.2
//
// The router owns 1.1.1.1; the servers know only their private addresses.
// The appliance must land on server1, the test appliance on server2.
// With workers: reloads that add and remove a port keep their NAT flows.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';
import { metricSample, scrapeMetrics } from './helpers.js';

// HTTP on :80 and UDP on :7, answering "<name> <client address>"; ?holdMs=N delays the HTTP answer, ?bytes=N answers N bytes instead.
const SERVER = `
const http = require('http');
const dgram = require('dgram');
const [name, addr] = process.argv.slice(1);
http.createServer((req, res) => {
  const bytes = Number(new URL(req.url, 'http://x').searchParams.get('bytes') ?? 0);
  if (bytes > 0) return res.end(Buffer.alloc(bytes, 120));
  const hold = Number(new URL(req.url, 'http://x').searchParams.get('holdMs') ?? 0);
  setTimeout(() => res.end(name + ' ' + req.socket.remoteAddress), hold);
}).listen(80, addr);
const u = dgram.createSocket('udp4');
u.on('message', (m, r) => u.send(name + ' ' + r.address, r.port, r.address));
u.bind(7, addr);
`;

// One UDP request from a chosen source; prints "<answer> from <address:port>".
const UDP_CLIENT = `
const dgram = require('dgram');
const [src, dst] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
const t = setTimeout(() => { console.error('no answer'); process.exit(1); }, 3000);
s.on('message', (m, r) => { console.log(m.toString() + ' from ' + r.address + ':' + r.port); clearTimeout(t); s.close(); });
s.bind(0, src, () => s.send('hi', 7, dst));
`;

interface NatJson {
  services: { name: string; address: string; backends: { name: string; address: string; sources: string[]; flows: number; flowsCreated: number; packets: number }[]; idleTimeoutS: number }[];
  flows: { protocol: string; client: string; clientPort: number; vip: string; port: number; backend: string; idleMs: number }[];
  counters: { created: number; live: number; capacity: number; packetsIn: number; packetsOut: number; handedOff: number };
}

// The service every lab here runs: the test appliance (10.0.0.200) to server2, everyone else to server1.
const SERVICE = {
  name: 'info',
  address: '1.1.1.1',
  idleTimeout: 30,
  backends: [
    { name: 'server1', address: '192.168.1.2' },
    { name: 'server2', address: '192.168.2.2', sources: ['10.0.0.200/32'] },
  ],
};

/** SERVER in each server namespace, on its private address; returns once both answer HTTP. */
async function startBackends(lab: Lab, server1: string, server2: string): Promise<void> {
  for (const [ns, name, addr] of [[server1, 'server1', '192.168.1.2'], [server2, 'server2', '192.168.2.2']] as const) {
    lab.spawnIn(ns, process.execPath, ['-e', SERVER, name, addr]);
    await waitFor(`${name} HTTP`, async () => {
      await inNetns(ns, 'curl', ['-sf', '--max-time', '1', `http://${addr}/`]);
      return true;
    }, 10_000, 50);
  }
}

let lab: Lab;
let router: RouterProcess;
let client: string;
let server1: string;
let server2: string;

before(async () => {
  lab = await Lab.create('nat');
  client = await lab.addNamespace('client');
  server1 = await lab.addNamespace('server1');
  server2 = await lab.addNamespace('server2');
  await lab.hostPort(client, lab.dev('c'), '10.0.0.2/24', '10.0.0.1');
  await ip('-n', client, 'addr', 'add', '10.0.0.200/24', 'dev', lab.dev('c'));
  await lab.hostPort(server1, lab.dev('s1'), '192.168.1.2/24', '192.168.1.1');
  await lab.hostPort(server2, lab.dev('s2'), '192.168.2.2/24', '192.168.2.1');
  router = await lab.startRouter('r', {
    ports: [
      { name: 'c', device: lab.dev('c'), netns: client, address: '10.0.0.1/24' },
      { name: 's1', device: lab.dev('s1'), netns: server1, address: '192.168.1.1/24' },
      { name: 's2', device: lab.dev('s2'), netns: server2, address: '192.168.2.1/24' },
    ],
    virtualServices: [SERVICE],
  });
  await startBackends(lab, server1, server2);
});

after(async () => {
  await lab?.cleanup();
});

const curl = (src: string, path = '/') => inNetns(client, 'curl', ['-sS', '--max-time', '5', '--interface', src, `http://1.1.1.1${path}`]);

test('HTTP to 1.1.1.1: the appliance gets server1, the test appliance server2, and each backend sees the real client', { timeout: 30_000 }, async () => {
  for (let i = 0; i < 3; i++) {
    assert.equal((await curl('10.0.0.2')).stdout, 'server1 10.0.0.2');
    assert.equal((await curl('10.0.0.200')).stdout, 'server2 10.0.0.200');
  }
});

test('UDP to 1.1.1.1 is sent by source too, and the answer comes back from 1.1.1.1', { timeout: 20_000 }, async () => {
  const one = await inNetns(client, process.execPath, ['-e', UDP_CLIENT, '10.0.0.2', '1.1.1.1'], { timeoutMs: 5000 });
  assert.equal(one.stdout.trim(), 'server1 10.0.0.2 from 1.1.1.1:7');
  const two = await inNetns(client, process.execPath, ['-e', UDP_CLIENT, '10.0.0.200', '1.1.1.1'], { timeoutMs: 5000 });
  assert.equal(two.stdout.trim(), 'server2 10.0.0.200 from 1.1.1.1:7');
});

test('ping 1.1.1.1 is answered by the router itself', { timeout: 20_000 }, async () => {
  const r = await inNetns(client, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '1.1.1.1']);
  assert.match(r.stdout, /2 received/);
  assert.match(r.stdout, /from 1\.1\.1\.1: icmp_seq=1 ttl=64/);
});

test('`tunroute nat list` shows the services, counters and a live flow', { timeout: 30_000 }, async () => {
  // A request the server holds for 3 s keeps its flow open while we look.
  const held = lab.spawnIn(client, 'curl', ['-sS', '--max-time', '10', '--interface', '10.0.0.200', 'http://1.1.1.1/?holdMs=3000']);
  try {
    const n = await waitFor('the held flow in nat list', async () => {
      const j = JSON.parse(await router.cli('--json', 'nat', 'list')) as NatJson;
      return j.flows.some((f) => f.client === '10.0.0.200' && f.protocol === 'tcp' && f.port === 80 && f.backend === 'server2' && f.vip === '1.1.1.1') ? j : undefined;
    }, 5000, 100);
    assert.equal(n.services.length, 1);
    const [s] = n.services;
    assert.equal(s!.address, '1.1.1.1');
    assert.deepEqual(s!.backends.map((b) => [b.name, b.address, b.sources]), [['server1', '192.168.1.2', []], ['server2', '192.168.2.2', ['10.0.0.200/32']]]);
    assert.ok(s!.backends[1]!.flows >= 1);
    assert.ok(s!.backends.every((b) => b.packets > 0));
    assert.ok(n.counters.created >= 8, `created ${n.counters.created}`); // 6 HTTP + 2 UDP + the held one
    assert.ok(n.counters.packetsIn > 0 && n.counters.packetsOut > 0);
    const text = await router.cli('nat', 'list', '--flows');
    assert.match(text, /info\s+1\.1\.1\.1\s+30s\s+server1\s+192\.168\.1\.2/);
    assert.match(text, /server2\s+192\.168\.2\.2\s+10\.0\.0\.200\/32/);
    assert.match(text, /tcp\s+10\.0\.0\.200:\d+\s+1\.1\.1\.1:80\s+server2 192\.168\.2\.2/);
  } finally {
    held.kill('SIGKILL');
  }
  await sleep(100);
  const events = router.events();
  assert.ok(events.some((e) => e.event === 'nat.service' && e.address === '1.1.1.1'));
  assert.ok(!events.some((e) => typeof e.event === 'string' && e.event.startsWith('nat.flow')), 'no per-flow log lines');
});

// The same service with forwarding workers, which run the NAT: each flow is
// owned by one worker, and a worker that reads a packet of a flow the other
// owns hands it over. Server1 is behind an Ethernet port (AF_PACKET fanout:
// its answers reach a worker by the server's flow hash, not the client's),
// the client and server2 behind multi-queue TUNs. Many TCP connections,
// each from its own source port, so the flows spread over the workers.
for (const workers of [1, 2]) {
  describe(`with ${workers} forwarding worker${workers === 1 ? '' : 's'}`, () => {
    let lab: Lab;
    let router: RouterProcess;
    let client: string;

    before(async () => {
      lab = await Lab.create(`natw${workers}`);
      client = await lab.addNamespace('client');
      const server1 = await lab.addNamespace('server1');
      const server2 = await lab.addNamespace('server2');
      const r = await lab.addNamespace('r');
      lab.multiQueueTuns = true;
      await lab.hostPort(client, lab.dev('c'), '10.0.0.2/24', '10.0.0.1');
      await ip('-n', client, 'addr', 'add', '10.0.0.200/24', 'dev', lab.dev('c'));
      await lab.ethernetHostPort(server1, lab.dev('h1'), r, lab.dev('s1'), '192.168.1.2/24', '192.168.1.1');
      await lab.hostPort(server2, lab.dev('s2'), '192.168.2.2/24', '192.168.2.1');
      router = await lab.startRouter('r', {
        workers,
        ports: [
          { name: 'c', device: lab.dev('c'), netns: client, address: '10.0.0.1/24' },
          { name: 's1', type: 'ethernet', device: lab.dev('s1'), address: '192.168.1.1/24' },
          { name: 's2', device: lab.dev('s2'), netns: server2, address: '192.168.2.1/24' },
        ],
        virtualServices: [SERVICE],
      });
      await startBackends(lab, server1, server2);
    });

    after(async () => {
      await lab?.cleanup();
    });

    test('many TCP connections to 1.1.1.1 all reach the right backend, and GET /v1/nat, the CLI and /metrics count every worker\'s flows', { timeout: 60_000 }, async () => {
      const before = (await router.api<NatJson>('GET', '/v1/nat'));
      const n1 = 40;
      const n2 = 20;
      // One curl per connection: each from a new source port. Six at a time, each answer one line in one write.
      const many = async (src: string, n: number) => (await inNetns(client, 'sh', ['-c',
        `seq ${n} | xargs -P 6 -I{} sh -c 'echo "$(curl -sS --max-time 5 --interface ${src} http://1.1.1.1/ 2>&1)"'`], { timeoutMs: 40_000 })).stdout.trim().split('\n');
      const one = await many('10.0.0.2', n1);
      assert.deepEqual(one, new Array(n1).fill('server1 10.0.0.2'));
      const two = await many('10.0.0.200', n2);
      assert.deepEqual(two, new Array(n2).fill('server2 10.0.0.200'));
      const n = await router.api<NatJson>('GET', '/v1/nat');
      const created = (i: number, j: NatJson) => j.services[0]!.backends[i]!.flowsCreated;
      assert.equal(created(0, n) - created(0, before), n1, 'server1\'s flows, every worker\'s summed');
      assert.equal(created(1, n) - created(1, before), n2, 'server2\'s flows');
      assert.equal(n.counters.created - before.counters.created, n1 + n2);
      assert.ok(n.counters.packetsIn - before.counters.packetsIn >= 3 * (n1 + n2) && n.counters.packetsOut - before.counters.packetsOut >= 2 * (n1 + n2),
        `packets in ${n.counters.packetsIn}, out ${n.counters.packetsOut}`);
      assert.equal(n.counters.capacity, workers * 65_536, 'one table per worker');
      if (workers === 1) assert.equal(n.counters.handedOff, 0, 'one worker owns every flow');
      else assert.ok(n.counters.handedOff > 0, 'no packet was handed to the worker owning its flow');
      // Closed connections linger a second: the flow list has them, each once.
      const listed = n.flows.filter((f) => f.protocol === 'tcp' && f.vip === '1.1.1.1' && f.port === 80);
      assert.equal(new Set(listed.map((f) => `${f.client}:${f.clientPort}`)).size, listed.length);
      assert.ok(listed.some((f) => f.client === '10.0.0.200' && f.backend === 'server2'));
      const text = await router.cli('nat', 'list');
      assert.match(text, new RegExp(`server1\\s+192\\.168\\.1\\.2\\s+\\(everyone else\\)\\s+\\d+\\s+${created(0, n)}\\s`));
      const metrics = await scrapeMetrics(router);
      assert.ok(metricSample(metrics, 'tunroute_nat_flow_events_total', 'event="created"') >= n.counters.created);
      assert.equal(metricSample(metrics, 'tunroute_nat_flows', 'kind="capacity"'), workers * 65_536);
      const drops = (await router.api<{ ports: Record<string, { drops: Record<string, number> }> }>('GET', '/v1/stats')).ports;
      assert.equal(Object.values(drops).reduce((x, p) => x + (p.drops['handoff-full'] ?? 0), 0), 0, 'no hand-off dropped');
    });

    test('bulk downloads through the VIP (super-packets from the backends\' offload ports, handed whole between workers) arrive complete', { timeout: 60_000 }, async () => {
      const size = 2 << 20;
      type Ports = Record<string, { offload: Record<string, number> }>;
      const stats = async () => (await router.api<{ ports: Ports }>('GET', '/v1/stats')).ports;
      const before = [await stats(), await router.api<NatJson>('GET', '/v1/nat')] as const;
      // Server1's answers come in by its Ethernet port, whose fanout hashes them by the server's flow: for 16 flows, some reach the worker that does not own them.
      // Server2's, and the client's, come in by multi-queue TUNs, which send a flow's packets to the queue the router last wrote
      // the flow on (the kernel's flow table): once the owner has written each direction, nothing more is handed over.
      const handed: number[] = [];
      for (const [src, n] of [['10.0.0.2', 16], ['10.0.0.200', 8]] as const) {
        const at = (await router.api<NatJson>('GET', '/v1/nat')).counters;
        const r = await inNetns(client, 'sh', ['-c',
          `seq ${n} | xargs -P 4 -I{} sh -c 'echo "$(curl -sS --max-time 20 --interface ${src} -o /dev/null -w "%{http_code} %{size_download}" "http://1.1.1.1/?bytes=${size}" 2>&1)"'`], { timeoutMs: 50_000 });
        assert.deepEqual(r.stdout.trim().split('\n'), new Array(n).fill(`200 ${size}`), src);
        const end = (await router.api<NatJson>('GET', '/v1/nat')).counters;
        handed.push(end.handedOff - at.handedOff, end.packetsIn + end.packetsOut - at.packetsIn - at.packetsOut);
      }
      const after = [await stats(), await router.api<NatJson>('GET', '/v1/nat')] as const;
      if (workers === 2) {
        const [, , tunHanded, tunPackets] = handed;
        console.log(`# handed over: server1 (Ethernet) ${handed[0]} of ${handed[1]} packets, server2 (TUN) ${tunHanded} of ${tunPackets}`);
        // A flow's first packets may arrive on the other queue (before the owner wrote it), at most a few per connection.
        assert.ok(tunPackets! >= 8 * 30 && tunHanded! <= 8 * 3, `server2's 8 downloads: ${tunHanded} of ${tunPackets} packets handed over`);
      }
      const grew = (port: string, kind: string) => (after[0][port]!.offload[kind] ?? 0) - (before[0][port]!.offload[kind] ?? 0);
      assert.ok(grew('s1', 'rxSuperPackets') > 0 && grew('c', 'txSuperPackets') > 0, 'super-packets read from server1 and written whole to the client');
      if (workers === 2) assert.ok(after[1].counters.handedOff > before[1].counters.handedOff, 'some handed to the worker owning their flow');
    });

    test('UDP to 1.1.1.1 through the workers: the answer comes back from 1.1.1.1', { timeout: 20_000 }, async () => {
      for (let i = 0; i < 4; i++) {
        const one = await inNetns(client, process.execPath, ['-e', UDP_CLIENT, '10.0.0.2', '1.1.1.1'], { timeoutMs: 5000 });
        assert.equal(one.stdout.trim(), 'server1 10.0.0.2 from 1.1.1.1:7');
      }
    });

    test('reloads that add and remove a port keep the workers\' NAT: a connection through the VIP held across both completes, and a client behind the new port reaches the VIP', { timeout: 40_000 }, async () => {
      const other = await lab.addNamespace('n');
      await lab.hostPort(other, lab.dev('n'), '10.0.9.2/24', '10.0.9.1');
      const base = JSON.parse(readFileSync(router.configFile, 'utf8')) as { ports: Record<string, unknown>[] };
      const reload = async (ports: Record<string, unknown>[]) => {
        writeFileSync(router.configFile, JSON.stringify({ ...base, ports }));
        return (await router.api<{ ports: { added: string[]; removed: string[] } }>('POST', '/v1/reload')).ports;
      };
      const before = await router.api<NatJson>('GET', '/v1/nat');
      // Its answer comes 4 s after the request: the NAT flow must still be there when it does.
      const held = inNetns(client, 'curl', ['-sS', '--max-time', '10', '--interface', '10.0.0.2', 'http://1.1.1.1/?holdMs=4000'], { timeoutMs: 15_000 });
      let heldAnswer: string;
      await waitFor('the held connection\'s NAT flow', async () => (await router.api<NatJson>('GET', '/v1/nat')).counters.created > before.counters.created, 5000, 50);
      try {
        assert.deepEqual((await reload([...base.ports, { name: 'n', device: lab.dev('n'), netns: other, address: '10.0.9.1/24' }])).added, ['n']);
        const fromNew = await waitFor('the new port\'s client reaches 1.1.1.1', async () => {
          const r = await inNetns(other, 'curl', ['-sS', '--max-time', '2', 'http://1.1.1.1/'], { allowFail: true });
          return r.stdout.startsWith('server') && r.stdout;
        }, 10_000, 100);
        assert.equal(fromNew, 'server1 10.0.9.2');
        assert.deepEqual((await reload(base.ports)).removed, ['n']);
      } finally {
        // (Awaited also when a step above failed: that failure is the one reported.)
        heldAnswer = (await held.catch((e: Error) => ({ stdout: e.message }))).stdout;
      }
      assert.equal(heldAnswer, 'server1 10.0.0.2', 'the held connection, answered across both reloads');
      const after = await router.api<NatJson>('GET', '/v1/nat');
      // Nothing started over: the workers' tables kept every flow (and count the new client's).
      assert.equal(after.counters.capacity, workers * 65_536);
      assert.ok(after.counters.created >= before.counters.created + 2, `flows created ${before.counters.created} → ${after.counters.created}`);
      assert.equal(router.events().filter((e) => e.event === 'workers.started').length, 1, 'the same workers throughout');
    });

    // Last: it changes the service.
    test('a reload that changes the virtual services reaches the workers: the appliance now goes to server2', { timeout: 30_000 }, async () => {
      const config = JSON.parse(readFileSync(router.configFile, 'utf8')) as { virtualServices: { backends: { sources?: string[] }[] }[] };
      config.virtualServices[0]!.backends[1]!.sources = ['10.0.0.0/24'];
      writeFileSync(router.configFile, JSON.stringify(config));
      const summary = await router.api<{ virtualServices: boolean }>('POST', '/v1/reload');
      assert.equal(summary.virtualServices, true);
      const many = (await inNetns(client, 'sh', ['-c',
        'seq 12 | xargs -P 4 -I{} sh -c \'echo "$(curl -sS --max-time 5 --interface 10.0.0.2 http://1.1.1.1/ 2>&1)"\''], { timeoutMs: 30_000 })).stdout.trim().split('\n');
      assert.deepEqual(many, new Array(12).fill('server2 10.0.0.2'));
      const n = await router.api<NatJson>('GET', '/v1/nat');
      assert.deepEqual(n.services[0]!.backends.map((b) => [b.name, b.flowsCreated]), [['server1', 0], ['server2', 12]], 'new tables in every worker');
      // The NAT log's last counters, at stop: the workers' figures.
      await router.stop();
      const logged = router.events().filter((e) => e.event === 'nat.counters').at(-1);
      assert.equal(logged?.created, 12, JSON.stringify(logged));
      assert.equal(logged?.capacity, workers * 65_536);
    });
  });
}
