// Two daemons in a chain, joined through a wiring namespace (TUN pair + tc
// u32/mirred): host a — r1 ═ r2 — host b.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns } from '../../src/testbed/shell.js';
import { startHttpEcho } from './helpers.js';

let lab: Lab;
let a: string;
let b: string;

before(async () => {
  lab = await Lab.create('chain');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  const wire = await lab.link(lab.dev('l1'), lab.dev('l2'));
  await lab.startRouter('r1', {
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'r2', device: lab.dev('l1'), netns: wire, address: '10.0.12.1/30' },
    ],
    routes: [{ prefix: '10.0.2.0/24', port: 'r2', via: '10.0.12.2', metric: 1 }],
  });
  await lab.startRouter('r2', {
    ports: [
      { name: 'r1', device: lab.dev('l2'), netns: wire, address: '10.0.12.2/30' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
    ],
    routes: [{ prefix: '10.0.1.0/24', port: 'r1', via: '10.0.12.1', metric: 1 }],
  });
});

after(async () => {
  await lab?.cleanup();
});

test('ping end to end across both routers (TTL − 2)', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
  assert.match(r.stdout, /3 received/);
  assert.match(r.stdout, /ttl=62 /);
  const back = await inNetns(b, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.1.2']);
  assert.match(back.stdout, /2 received/);
});

test('each router answers ping on its link address', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '10.0.12.2']);
  assert.match(r.stdout, /1 received/);
});

test('HTTP end to end across both routers', { timeout: 30_000 }, async () => {
  const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
  try {
    const r = await inNetns(a, 'curl', ['-sS', '--max-time', '5', 'http://10.0.2.2:8080/?bytes=100000']);
    assert.equal(r.stdout, 'x'.repeat(100000));
  } finally {
    server.kill('SIGKILL');
  }
});

test('traceroute shows both hops', { timeout: 20_000 }, async () => {
  const tr = await inNetns(a, 'traceroute', ['-n', '-q', '1', '-w', '2', '10.0.2.2']);
  const hops = tr.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(hops, ['10.0.1.1', '10.0.12.2', '10.0.2.2']);
});
