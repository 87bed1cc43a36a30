// Virtual-service NAT end to end, real kernel TCP/UDP on every host:
//
//   client (10.0.0.2 appliance, 10.0.0.200 test appliance) — [c] router [s1] — server1 192.168.1.2
//                                                                       [s2] — server2 192.168.2.2
//
// The router owns 1.1.1.1; the servers know only their private addresses.
// The appliance must land on server1, the test appliance on server2.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';

// HTTP on :80 and UDP on :7, answering "<name> <client address>"; ?holdMs=N delays the HTTP answer.
const SERVER = `
const http = require('http');
const dgram = require('dgram');
const [name, addr] = process.argv.slice(1);
http.createServer((req, res) => {
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
  services: { name: string; address: string; backends: { name: string; address: string; sources: string[]; flows: number; packets: number }[]; idleTimeoutS: number }[];
  flows: { protocol: string; client: string; clientPort: number; vip: string; port: number; backend: string; idleMs: number }[];
  counters: { created: number; live: number; packetsIn: number; packetsOut: number };
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
    virtualServices: [{
      name: 'info',
      address: '1.1.1.1',
      idleTimeout: 30,
      backends: [
        { name: 'server1', address: '192.168.1.2' },
        { name: 'server2', address: '192.168.2.2', sources: ['10.0.0.200/32'] },
      ],
    }],
  });
  for (const [ns, name, addr] of [[server1, 'server1', '192.168.1.2'], [server2, 'server2', '192.168.2.2']] as const) {
    lab.spawnIn(ns, process.execPath, ['-e', SERVER, name, addr]);
    await waitFor(`${name} HTTP`, async () => {
      await inNetns(ns, 'curl', ['-sf', '--max-time', '1', `http://${addr}/`]);
      return true;
    }, 10_000, 50);
  }
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
