// End to end through one router with real kernel TCP/IP on the hosts:
//   host a (10.0.1.2) — [port a] router [port b, MTU 1000] — host b (10.0.2.2)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns } from '../../src/testbed/shell.js';
import { sendMalformed, snmpCounter, startHttpEcho } from './helpers.js';

let lab: Lab;
let router: RouterProcess;
let a: string;
let b: string;

before(async () => {
  lab = await Lab.create('fwd');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1', 1000);
  router = await lab.startRouter('r', {
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24', mtu: 1000 },
    ],
  });
});

after(async () => {
  await lab?.cleanup();
});

test('ping both ways through the router, TTL decremented by exactly one', { timeout: 20_000 }, async () => {
  const ab = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
  assert.match(ab.stdout, /3 received/);
  // b's kernel answers with TTL 64; one router hop → 63.
  assert.match(ab.stdout, /ttl=63 /);
  const ba = await inNetns(b, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.2']);
  assert.match(ba.stdout, /3 received/);
  assert.match(ba.stdout, /ttl=63 /);
});

test('the router answers ping to each of its addresses', { timeout: 20_000 }, async () => {
  for (const addr of ['10.0.1.1', '10.0.2.1']) {
    const r = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', addr]);
    assert.match(r.stdout, /2 received/, addr);
  }
});

test('HTTP GET over real TCP, and a 1400-byte packet', { timeout: 30_000 }, async () => {
  const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
  try {
    const r = await inNetns(a, 'curl', ['-sS', '--max-time', '5', 'http://10.0.2.2:8080/big?bytes=200000']);
    assert.equal(r.stdout.length, 200000);
    assert.equal(r.stdout, 'x'.repeat(200000));
  } finally {
    server.kill('SIGKILL');
  }
  // 1372 bytes of ICMP payload + 28 bytes of headers = a 1400-byte packet on port a.
  const big = await inNetns(b, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-s', '1372', '10.0.1.2']);
  assert.match(big.stdout, /2 received/);
  assert.match(big.stdout, /1380 bytes from 10\.0\.1\.2/);
});

test('DF over the smaller MTU → Fragmentation Needed with the next-hop MTU', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '-M', 'do', '-s', '1200', '10.0.2.2'], { allowFail: true });
  // Linux prints the router's ICMP as "Frag needed and DF set (mtu = 1000)".
  assert.match(r.stdout, /From 10\.0\.1\.1 .*mtu = 1000/i);
});

test('without DF the router fragments and host b reassembles', { timeout: 20_000 }, async () => {
  const before = await snmpCounter(b, 'Ip', 'ReasmOKs');
  const r = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '-M', 'dont', '-s', '1400', '10.0.2.2']);
  assert.match(r.stdout, /2 received/);
  const afterCount = await snmpCounter(b, 'Ip', 'ReasmOKs');
  assert.ok(afterCount - before >= 2, `b reassembled ${afterCount - before} datagrams`);
});

test('TTL 1 gets Time Exceeded from the router address; traceroute shows the hop', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '-t', '1', '10.0.2.2'], { allowFail: true });
  assert.match(r.stdout, /From 10\.0\.1\.1 .*Time to live exceeded/);
  const tr = await inNetns(a, 'traceroute', ['-n', '-q', '1', '-w', '2', '10.0.2.2']);
  const hops = tr.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(hops, ['10.0.1.1', '10.0.2.2']);
});

test('no route → Destination Unreachable; stats count drops by reason', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '10.9.9.9'], { allowFail: true });
  assert.match(r.stdout, /From 10\.0\.1\.1 .*Destination Net Unreachable/);
  const stats = JSON.parse(await router.cli('--json', 'stats')) as { ports: Record<string, { drops: Record<string, number> }> };
  assert.ok((stats.ports.a!.drops['no-route'] ?? 0) >= 1);
  assert.ok((stats.ports.a!.drops['ttl-expired'] ?? 0) >= 1);
  assert.ok((stats.ports.a!.drops['frag-needed-df'] ?? 0) >= 1);
});

test('the router survives malformed packets and counts them', { timeout: 20_000 }, async () => {
  await sendMalformed(a, lab.dev('a'), '10.0.1.2', '10.0.2.2');
  const stats = JSON.parse(await router.cli('--json', 'stats')) as { ports: Record<string, { drops: Record<string, number> }> };
  const drops = stats.ports.a!.drops;
  for (const reason of ['bad-checksum', 'not-ipv4', 'bad-ihl', 'bad-total-length', 'truncated']) {
    assert.ok((drops[reason] ?? 0) >= 1, `${reason}: ${JSON.stringify(drops)}`);
  }
  // Still forwarding afterwards.
  const ok = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '10.0.2.2']);
  assert.match(ok.stdout, /1 received/);
});
