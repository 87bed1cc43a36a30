// What kernel hosts see of the router's RFC 1812 behaviour, end to end:
//   host a (10.0.1.2) — [port a 10.0.1.1] router [port b 10.0.2.1] — host b (10.0.2.2)
// Linux's ping prints the Record Route and Timestamp options it gets back;
// its kernel counts the ICMP and TCP it receives (/proc/net/snmp).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns } from '../../src/testbed/shell.js';
import { parseAddress } from '../../src/net/addr.js';
import { buildUdpDatagram } from '../../src/wire/udp.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { injectFromHost, snmpCounter } from './helpers.js';

let lab: Lab;
let router: RouterProcess;
let a: string;
let b: string;

before(async () => {
  lab = await Lab.create('rfc1812');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  router = await lab.startRouter('r', {
    // Small enough for a flood from one ping to run into it.
    replyRateLimit: { rate: 10, burst: 5 },
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
    ],
  });
});

after(async () => {
  await lab?.cleanup();
});

interface Stats { ports: Record<string, { drops: Record<string, number> }>; replies: { sent: number; rateLimited: number } }
const stats = async () => JSON.parse(await router.cli('--json', 'stats')) as Stats;

/** The addresses ping -R printed after "RR:". */
function recordedRoute(out: string): string[] {
  const m = out.match(/RR:([\s\S]*?)(?:\n\n|\n---|$)/);
  assert.ok(m, `no RR in:\n${out}`);
  return m[1]!.split('\n').map((l) => l.trim()).filter((l) => /^\d+\.\d+\.\d+\.\d+$/.test(l));
}

test('ping -R through the router: the route shows the router on the way out and back', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-R', '-n', '-c', '1', '-W', '2', '10.0.2.2']);
  assert.match(r.stdout, /1 received/);
  const rr = recordedRoute(r.stdout);
  assert.ok(rr.includes('10.0.2.1'), `toward b the router records 10.0.2.1: ${rr.join(' ')}`);
  assert.ok(rr.includes('10.0.1.1'), `back toward a it records 10.0.1.1: ${rr.join(' ')}`);
  assert.ok(rr.indexOf('10.0.2.1') < rr.indexOf('10.0.2.2') && rr.lastIndexOf('10.0.2.2') < rr.lastIndexOf('10.0.1.1'), rr.join(' '));
});

test('ping -R to the router itself: the reply carries the route with the router in it', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-R', '-n', '-c', '1', '-W', '2', '10.0.2.1']);
  assert.match(r.stdout, /1 received/);
  assert.ok(recordedRoute(r.stdout).includes('10.0.1.1'), r.stdout);
});

test('ping -T tsandaddr through the router: it stamps with its egress address; a full option counts it as unrecorded', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-T', 'tsandaddr', '-n', '-c', '1', '-W', '2', '10.0.2.2']);
  assert.match(r.stdout, /1 received/);
  // ping prints the first time absolute, the others relative to it. Room for 4 entries:
  // a, the router toward b, b (twice: received, replied) — the router and a on the way back overflow.
  assert.match(r.stdout, /TS:\s+10\.0\.1\.2\s+\d+ absolute\s+10\.0\.2\.1\s+-?\d+\s/, r.stdout);
  assert.match(r.stdout, /Unrecorded hops: 2/, r.stdout);
});

test('a malformed option: host a\'s kernel receives a Parameter Problem; nothing reaches b', { timeout: 20_000 }, async () => {
  const beforeA = await snmpCounter(a, 'Icmp', 'InParmProbs');
  const beforeB = await snmpCounter(b, 'Ip', 'InReceives');
  // UDP a → b with a Record Route whose pointer is 3 (below the minimum 4).
  const p = new Uint8Array(44);
  buildUdpDatagram(p, 8, parseAddress('10.0.1.2'), parseAddress('10.0.2.2'), 40000, 9, 8, 64);
  p.copyWithin(0, 8, 28);
  p.set([7, 7, 3, 0, 0, 0, 0, 0], 20);
  p[0] = 0x47;
  const ip = new Ipv4View().attach(p, 0, 44);
  ip.totalLength = 44;
  ip.fillChecksum();
  await injectFromHost(a, lab.dev('a'), [p]);
  assert.equal(await snmpCounter(a, 'Icmp', 'InParmProbs') - beforeA, 1);
  assert.equal(await snmpCounter(b, 'Ip', 'InReceives') - beforeB, 0);
  assert.ok(((await stats()).ports.a!.drops['bad-ip-options'] ?? 0) >= 1);
});

test('TCP to the router\'s address is refused with a reset, not an ICMP unreachable', { timeout: 20_000 }, async () => {
  const unreach = await snmpCounter(a, 'Icmp', 'InDestUnreachs');
  const resets = await snmpCounter(a, 'Tcp', 'AttemptFails');
  const r = await inNetns(a, 'curl', ['-sS', '--max-time', '3', 'http://10.0.1.1:8080/'], { allowFail: true });
  assert.match(r.stderr, /Connection refused|Failed to connect/);
  assert.equal(await snmpCounter(a, 'Icmp', 'InDestUnreachs') - unreach, 0, 'no ICMP unreachable');
  assert.ok(await snmpCounter(a, 'Tcp', 'AttemptFails') - resets >= 1);
});

test('a packet with the router\'s own address as source is dropped and counted, not forwarded', { timeout: 20_000 }, async () => {
  const echosB = await snmpCounter(b, 'Icmp', 'InEchos');
  // Host a claims the router's b-side address and pings b with it.
  await inNetns(a, 'ip', ['addr', 'add', '10.0.2.1/32', 'dev', lab.dev('a')]);
  try {
    const r = await inNetns(a, 'ping', ['-I', '10.0.2.1', '-c', '3', '-i', '0.2', '-W', '1', '10.0.2.2'], { allowFail: true });
    assert.match(r.stdout, /0 received/);
  } finally {
    await inNetns(a, 'ip', ['addr', 'del', '10.0.2.1/32', 'dev', lab.dev('a')]);
  }
  assert.equal(await snmpCounter(b, 'Icmp', 'InEchos') - echosB, 0, 'b never saw them');
  assert.equal((await stats()).ports.a!.drops['own-source-address'], 3);
});

test('a 4000-byte ping to the router: fragmented by a\'s kernel, reassembled and answered in full', { timeout: 20_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-s', '4000', '-c', '2', '-i', '0.3', '-W', '2', '10.0.1.1']);
  assert.match(r.stdout, /2 received/);
  assert.match(r.stdout, /4008 bytes from 10\.0\.1\.1/);
});

test('an echo flood gets rate-limited replies (and the rest is counted)', { timeout: 30_000 }, async () => {
  const r = await inNetns(a, 'ping', ['-f', '-q', '-w', '2', '10.0.1.1'], { allowFail: true });
  const m = r.stdout.match(/(\d+) packets transmitted, (\d+) received/);
  assert.ok(m, r.stdout);
  const sent = Number(m[1]), got = Number(m[2]);
  // burst 5 + 10/s for ~2 s (+ a margin for the timing of the last second).
  assert.ok(got <= 40, `${got} replies to ${sent} requests`);
  assert.ok(sent >= 100, `the flood sent ${sent}`);
  const s = await stats();
  assert.ok(s.replies.rateLimited >= sent - got - 5, JSON.stringify(s.replies));
  assert.ok((s.ports.a!.drops['reply-rate-limited'] ?? 0) >= sent - got - 5);
  // Ordinary pings afterwards are answered again.
  await new Promise((res) => setTimeout(res, 1000));
  const ok = await inNetns(a, 'ping', ['-c', '2', '-i', '0.3', '-W', '2', '10.0.1.1']);
  assert.match(ok.stdout, /2 received/);
});

test('traceroute still shows the router hop', { timeout: 20_000 }, async () => {
  const tr = await inNetns(a, 'traceroute', ['-n', '-q', '1', '-w', '2', '10.0.2.2']);
  const hops = tr.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/)[1]);
  assert.deepEqual(hops, ['10.0.1.1', '10.0.2.2']);
});
