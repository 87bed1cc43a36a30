// Real kernel TCP (and UDP) through tunroute with offloads: a client
// namespace fetches 8 MB over HTTP from a server namespace through the
// daemon, and the bytes must arrive whole (count and SHA-256), while the
// daemon's counters show what it did with the super-packets:
//   client (10.1.0.2) — [TUN c] R [TUN s] — server (10.2.0.2)
//   client — R1 — [l1 ~ tc mirred ~ l2] — R2 — server
//   client (veth, Ethernet port) — R — server, and client — R — server (veth)
// One router with offloads (super-packets pass whole); into a plain 1280-byte
// egress (cut in the router); from a plain ingress (coalesced); two routers
// joined by tc mirred (super-packets cross the link whole), and over a
// 1280-byte link between them, where DF makes R2 answer Fragmentation
// Needed and the server's kernel lowers its path MTU; out of an Ethernet
// port (passed whole to the kernel, or cut with offloads off) and into one
// (super-frames read whole); UDP
// segmentation offload; UDP bursts merged whether their IP identifications
// count up or all carry 0; plain mode on TUNs an offload reader used before.
// Also the C offload forwarder the benchmark uses as the ceiling, and what
// the kernel keeps of a persistent TUN's offloads once its reader closes.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { StatsJson } from '../../src/api/types.js';
import { TunDevice } from '../../src/ports/tun-device.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor, within } from '../../src/testbed/shell.js';

// UDP segmentation offload (UDP_SEGMENT): 200 sends of 40 datagrams of 1200
// bytes; the receiver counts datagrams that arrive whole and in pattern. It
// stops 2 s after the last one, or 0.3 s after the 8000th (an extra one, a
// datagram passed twice, arrives within that and is counted).
const USO_SEND = `
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, 1200)  # SOL_UDP, UDP_SEGMENT
for k in range(200):
    s.sendto(bytes(((k * 31 + i) & 0xff) for i in range(1200)) * 40, ('10.2.0.2', 9000))
    time.sleep(0.004)
`;
const USO_RECV = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: no drops while Python keeps up
pattern = [bytes((b + i) & 0xff for i in range(1200)) for b in range(256)]
s.bind(('10.2.0.2', 9000))
print('ready', flush=True)
s.settimeout(2)
n = ok = 0
try:
    while True:
        d = s.recv(65535)
        n += 1
        ok += d == pattern[d[0]]
        if n == 8000:
            s.settimeout(0.3)
except socket.timeout:
    pass
print(n, ok, flush=True)
`;
// A burst of 40 datagrams of one flow: from a connected socket, or from an unconnected one with IP_PMTUDISC_DO (sendto).
const BURST_SEND = `
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
connected = sys.argv[1] == 'connected'
if connected:
    s.connect(('10.2.0.2', 9001))
else:
    s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER, IP_PMTUDISC_DO
for i in range(40):
    d = (b'%02d' % i) * 100
    s.send(d) if connected else s.sendto(d, ('10.2.0.2', 9001))
`;
const BURST_RECV = `
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('10.2.0.2', 9001))
print('ready', flush=True)
s.settimeout(2)
got = []
try:
    while True:
        got.append(s.recv(2048))
        if len(got) == 40:
            s.settimeout(0.3)
except socket.timeout:
    pass
print('intact' if sorted(got) == [(b'%02d' % i) * 100 for i in range(40)] else 'not as sent', flush=True)
print(len(got), flush=True)
`;

const ROOT = new URL('../../../', import.meta.url).pathname;
const BYTES = 8 << 20;

// The same xorshift32 stream in the server and here: content that shows any
// lost, duplicated or reordered segment.
const CONTENT = `
function content(n) {
  const b = Buffer.allocUnsafe(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}`;
const SERVER = `${CONTENT}
const http = require('http');
const body = content(Number(process.argv[1]));
http.createServer((req, res) => { res.setHeader('content-length', body.length); res.end(body); }).listen(8080, '10.2.0.2');
`;
const expected = createHash('sha256').update((new Function(`${CONTENT}; return content(${BYTES});`) as () => Buffer)()).digest('hex');

let lab: Lab;
let c: string;
let s: string;
let ce: string;
let devC: string;
let devS: string;
let l1: string;
let l2: string;
let cfwd: string;
let routers = 0;

before(async () => {
  lab = await Lab.create('offload');
  c = await lab.addNamespace('c');
  s = await lab.addNamespace('s');
  devC = lab.dev('c');
  devS = lab.dev('s');
  await lab.hostPort(c, devC, '10.1.0.2/24', '10.1.0.1');
  await lab.hostPort(s, devS, '10.2.0.2/24', '10.2.0.1');
  l1 = lab.dev('l1');
  l2 = lab.dev('l2');
  await lab.link(l1, l2);
  // A client on a veth: the router's end is an Ethernet port; and a server on a veth, with the same content.
  ce = await lab.addNamespace('ce');
  await lab.addNamespace('re');
  await lab.ethernetHostPort(ce, lab.dev('ce'), lab.ns('re'), lab.dev('re'), '10.1.0.2/24', '10.1.0.1');
  const se = await lab.addNamespace('se');
  await lab.addNamespace('rs');
  await lab.ethernetHostPort(se, lab.dev('se'), lab.ns('rs'), lab.dev('rs'), '10.2.0.2/24', '10.2.0.1');
  lab.spawnIn(se, process.execPath, ['-e', SERVER, String(BYTES)]);
  cfwd = join(lab.dir, 'tunfwd-offload');
  execFileSync('cc', ['-O2', '-Wall', '-o', cfwd, `${ROOT}scripts/bench/tunfwd-offload.c`]);
  lab.spawnIn(s, process.execPath, ['-e', SERVER, String(BYTES)]);
});

after(async () => {
  await lab?.cleanup();
});

async function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await within(done, 5000, undefined);
  if (p.exitCode === null && p.signalCode === null) { p.kill('SIGKILL'); await done; }
}

/** Fetch the body from `client` through whatever forwards now; assert count and hash. */
async function fetchAndCheck(what: string, client = c): Promise<void> {
  await waitFor(`${what}: server reachable`, async () => {
    await inNetns(client, 'curl', ['-sf', '--max-time', '2', '-o', '/dev/null', 'http://10.2.0.2:8080/']);
    return true;
  }, 20_000, 200);
  const file = join(lab.dir, 'body');
  await inNetns(client, 'curl', ['-sS', '--max-time', '30', '-o', file, 'http://10.2.0.2:8080/'], { timeoutMs: 40_000 });
  const got = readFileSync(file);
  assert.equal(got.length, BYTES, `${what}: byte count`);
  assert.equal(createHash('sha256').update(got).digest('hex'), expected, `${what}: content`);
}

type Ports = StatsJson['ports'];

interface PortSpec { name: string; device: string; netns?: string; address: string; type?: string; mtu?: number; offload?: boolean }
const clientPort = (o: Partial<PortSpec> = {}): PortSpec => ({ name: 'c', device: devC, netns: c, address: '10.1.0.1/24', ...o });
const serverPort = (o: Partial<PortSpec> = {}): PortSpec => ({ name: 's', device: devS, netns: s, address: '10.2.0.1/24', ...o });

/** Start a daemon with these ports (and config), run `body`, stop it; its per-port counters after the run. */
async function through(ports: PortSpec[], body: (r: RouterProcess) => Promise<void>, extra: Record<string, unknown> = {}, ns?: string): Promise<Ports> {
  const r = await lab.startRouter(ns ?? `r${routers++}`, { logLevel: 'warn', ports, ...extra });
  try {
    await body(r);
    return (await r.api<StatsJson>('GET', '/v1/stats')).ports;
  } finally {
    await r.stop();
  }
}

/** Two daemons: R1 (client, link l1) and R2 (link l2, server), joined by tc mirred in the wiring namespace; the link's MTU given. */
async function throughTwo(linkMtu: number, body: () => Promise<void>): Promise<[Ports, Ports]> {
  const n = routers++;
  const r1 = await lab.startRouter(`a${n}`, {
    logLevel: 'warn', routes: [{ prefix: '10.2.0.0/24', port: 'l', via: '10.9.0.2' }],
    ports: [clientPort(), { name: 'l', device: l1, netns: await lab.wiring(), address: '10.9.0.1/30', mtu: linkMtu }],
  });
  const r2 = await lab.startRouter(`b${n}`, {
    logLevel: 'warn', routes: [{ prefix: '10.1.0.0/24', port: 'l', via: '10.9.0.1' }],
    ports: [{ name: 'l', device: l2, netns: await lab.wiring(), address: '10.9.0.2/30', mtu: linkMtu }, serverPort()],
  });
  try {
    await body();
    return [(await r1.api<StatsJson>('GET', '/v1/stats')).ports, (await r2.api<StatsJson>('GET', '/v1/stats')).ports];
  } finally {
    await r1.stop();
    await r2.stop();
  }
}

// The body flows server → client: in on port s, out on port c.

test('one router, offloads on by default: 8 MB arrive whole; the server\'s super-packets pass whole', { timeout: 90_000 }, async () => {
  let metrics = '';
  const st = await through([clientPort(), serverPort()], async (r) => {
    await fetchAndCheck('one router');
    metrics = (await inNetns(r.netns, 'curl', ['-sS', '--unix-socket', r.socket, 'http://x/metrics'])).stdout;
    // The kernel took the offloads the daemon asked for on both TUNs (TSO4/6, TSO-ECN; USO4 and USO6 together show
    // as tx-udp-segmentation): a kernel without one reports it off.
    for (const [ns, dev] of [[c, devC], [s, devS]] as const) {
      const features = (await inNetns(ns, 'ethtool', ['-k', dev])).stdout;
      for (const f of ['tx-tcp-segmentation', 'tx-tcp6-segmentation', 'tx-tcp-ecn-segmentation', 'tx-udp-segmentation']) {
        assert.match(features, new RegExp(`^\\s*${f}: on`, 'm'), `${dev}: ${f} on Linux ${release()}`);
      }
    }
  });
  assert.match(metrics, /^tunroute_port_offload_total\{port="s",kind="rxSuperPackets"\} [1-9]\d*$/m);
  const sIn = st.s!, cOut = st.c!;
  assert.ok((sIn.offload.rxSuperPackets ?? 0) > 0, JSON.stringify(sIn));
  assert.equal(cOut.offload.txSuperPackets, sIn.offload.rxSuperPackets, JSON.stringify(cOut));
  assert.equal(cOut.offload.segmented, undefined);
  assert.ok(sIn.rxPackets < BYTES / 1448 / 4, `far fewer packets than segments: ${sIn.rxPackets}`);
  assert.deepEqual(sIn.drops, {});
});

test('into a plain egress with MTU 1280: super-packets cut in the router', { timeout: 90_000 }, async () => {
  try {
    const st = await through([clientPort({ offload: false, mtu: 1280 }), serverPort()], () => fetchAndCheck('plain 1280 egress'));
    const cOut = st.c!;
    assert.ok((cOut.offload.segmented ?? 0) > 0, JSON.stringify(cOut));
    assert.ok((cOut.offload.segments ?? 0) >= BYTES / 1240 * 0.9, `segments: ${cOut.offload.segments}`);
    assert.equal(st.s!.drops['frag-needed-df'], undefined, 'the client announced MSS 1240: every segment fits');
  } finally {
    await ip('-n', c, 'link', 'set', devC, 'mtu', '1500');
  }
});

test('from a plain ingress into an offload egress: segments coalesced into super-packets', { timeout: 90_000 }, async () => {
  const st = await through([clientPort(), serverPort({ offload: false })], () => fetchAndCheck('coalescing'));
  assert.equal(st.s!.offload.rxSuperPackets, undefined, 'a plain TUN hands over no super-packets');
  assert.ok((st.c!.offload.coalesced ?? 0) > 0, JSON.stringify(st.c));
  assert.ok(st.c!.offload.coalescedSegments! > 2 * st.c!.offload.coalesced!, JSON.stringify(st.c));
});

test('two routers joined by tc mirred: super-packets cross the link whole', { timeout: 90_000 }, async () => {
  const [st1, st2] = await throughTwo(1500, () => fetchAndCheck('two routers'));
  assert.ok((st2.s!.offload.rxSuperPackets ?? 0) > 0, JSON.stringify(st2.s));
  assert.ok((st2.l!.offload.txSuperPackets ?? 0) > 0, JSON.stringify(st2.l));
  assert.ok((st1.l!.offload.rxSuperPackets ?? 0) > 0, `R1 reads them off the link whole: ${JSON.stringify(st1.l)}`);
  assert.ok((st1.c!.offload.txSuperPackets ?? 0) > 0);
});

test('a 1280-byte link between two routers, DF set: Fragmentation Needed from R2, the server lowers its path MTU', { timeout: 90_000 }, async () => {
  await inNetns(s, 'ip', ['route', 'flush', 'cache']);
  const [, st2] = await throughTwo(1280, () => fetchAndCheck('DF over 1280'));
  assert.ok((st2.s!.drops['frag-needed-df'] ?? 0) >= 1, JSON.stringify(st2.s));
  const route = (await inNetns(s, 'ip', ['route', 'get', '10.1.0.2'])).stdout;
  assert.match(route, /mtu 1280/, `the server's kernel learned the path MTU: ${route}`);
  assert.ok((st2.l!.offload.txSuperPackets ?? 0) > 0, `then its super-packets fit the link: ${JSON.stringify(st2.l)}`);
  await inNetns(s, 'ip', ['route', 'flush', 'cache']);
});

test('out of an Ethernet port: super-packets handed to the kernel whole; with offloads off, cut in the router', { timeout: 120_000 }, async () => {
  for (const offload of [true, false]) {
    const ports = [{ name: 'c', type: 'ethernet', device: lab.dev('re'), address: '10.1.0.1/24', offload }, serverPort()];
    const st = await through(ports, () => fetchAndCheck(`Ethernet egress, offload ${offload}`, ce), {}, 're');
    const cOut = st.c!;
    if (offload) {
      assert.ok((cOut.offload.txSuperPackets ?? 0) > 0, JSON.stringify(cOut));
      assert.ok(cOut.txPackets < BYTES / 1448 / 4, `far fewer frames than segments: ${cOut.txPackets}`);
    } else {
      assert.equal(cOut.offload.txSuperPackets, undefined, JSON.stringify(cOut));
      assert.ok((cOut.offload.segments ?? 0) >= BYTES / 1448 * 0.9, JSON.stringify(cOut));
    }
    assert.deepEqual(cOut.drops, {});
  }
});

test('into an Ethernet port: the server\'s super-frames read whole and forwarded as one unit', { timeout: 90_000 }, async () => {
  const ports = [clientPort(), { name: 's', type: 'ethernet', device: lab.dev('rs'), address: '10.2.0.1/24' }];
  const st = await through(ports, () => fetchAndCheck('Ethernet ingress'), {}, 'rs');
  const sIn = st.s!;
  assert.ok((sIn.offload.rxSuperPackets ?? 0) > 0, JSON.stringify(sIn));
  assert.ok(sIn.rxPackets < BYTES / 1448 / 4, `far fewer frames than segments: ${sIn.rxPackets}`);
  assert.equal(st.c!.offload.txSuperPackets, sIn.offload.rxSuperPackets, JSON.stringify(st.c));
  assert.deepEqual(sIn.drops, {});
});

test('UDP segmentation offload: 8000 datagrams intact, passed whole, cut in the router, and coalesced again (TUN and Ethernet)', { timeout: 150_000 }, async () => {
  // whole: offload TUNs both sides; cut: a plain egress; coalesced: a plain ingress (the kernel cuts each send into
  // 40 datagrams before the router reads them) and an offload egress, which takes them as UDP super-packets again —
  // an offload TUN, or an Ethernet port (the receiver behind a veth).
  const ethernetServer = { name: 's', type: 'ethernet', device: lab.dev('rs'), address: '10.2.0.1/24' };
  const ways = [
    { way: 'whole', ports: [clientPort(), serverPort()] },
    { way: 'cut', ports: [clientPort(), serverPort({ offload: false })] },
    { way: 'coalesced', ports: [clientPort({ offload: false }), serverPort()] },
    { way: 'coalesced, Ethernet', ports: [clientPort({ offload: false }), ethernetServer], routerNs: 'rs', receiverNs: lab.ns('se') },
  ];
  for (const { way, ports, routerNs, receiverNs } of ways) {
    const got = join(lab.dir, `uso-recv-${way.replace(/\W+/g, '-')}.txt`);
    const st = await through(ports, async () => {
      await waitFor('router up', async () => { await inNetns(c, 'ping', ['-c', '1', '-W', '1', '10.2.0.2']); return true; }, 10_000, 100);
      const recv = lab.spawnIn(receiverNs ?? s, 'python3', ['-c', USO_RECV], { stdout: got });
      await waitFor('receiver bound', () => readFileSync(got, 'utf8').includes('ready'), 10_000, 50);
      await inNetns(c, 'python3', ['-c', USO_SEND], { timeoutMs: 20_000 });
      await new Promise((r) => recv.once('exit', r));
    }, {}, routerNs);
    const [n, ok] = readFileSync(got, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    assert.equal(ok, 8000, `${way}: ${n} datagrams, ${ok} intact`);
    assert.equal(n, 8000);
    if (way === 'whole') assert.equal(st.s!.offload.txSuperPackets, st.c!.offload.rxSuperPackets, JSON.stringify(st.s));
    if (!way.startsWith('coalesced')) assert.ok((st.c!.offload.rxSuperPackets ?? 0) >= 100, JSON.stringify(st.c));
    if (way === 'cut') assert.equal(st.s!.offload.segments, 8000, JSON.stringify(st.s));
    if (way.startsWith('coalesced')) {
      // Each send's 40 datagrams reach the router at once; most leave in far fewer writes.
      assert.ok((st.s!.offload.coalesced ?? 0) >= 100, `${way}: ${JSON.stringify(st.s)}`);
      assert.ok(st.s!.offload.coalescedSegments! >= 4000, `${way}: ${JSON.stringify(st.s)}`);
      assert.ok(st.s!.txPackets < 4000, `${way}: ${JSON.stringify(st.s)}`);
    }
  }
});

test('UDP bursts through a plain ingress into an offload egress: merged when their IP identifications count up, and when the kernel gives them all 0', { timeout: 60_000 }, async () => {
  // Linux numbers a connected socket's datagrams from the socket's own counter; an unconnected socket's DF datagrams
  // get 0 if it asked IP_PMTUDISC_DO (by default they come from a counter shared per destination: not asserted).
  // Atomic datagrams with one fixed identification merge too (gro.ts); the receiving kernel numbers them on from it.
  const modes = ['connected', 'pmtudisc-do'] as const;
  const coalesced: Partial<Record<(typeof modes)[number], number>> = {};
  await through([clientPort({ offload: false }), serverPort()], async (r) => {
    const merged = async () => (await r.api<StatsJson>('GET', '/v1/stats')).ports.s!.offload.coalesced ?? 0;
    await waitFor('router up', async () => { await inNetns(c, 'ping', ['-c', '1', '-W', '1', '10.2.0.2']); return true; }, 10_000, 100);
    for (const mode of modes) {
      const got = join(lab.dir, `burst-recv-${mode}.txt`);
      const recv = lab.spawnIn(s, 'python3', ['-c', BURST_RECV], { stdout: got });
      const exited = new Promise((res) => recv.once('exit', res));
      await waitFor('receiver bound', () => readFileSync(got, 'utf8').includes('ready'), 10_000, 50);
      const before = await merged();
      await inNetns(c, 'python3', ['-c', BURST_SEND, mode], { timeoutMs: 10_000 });
      await exited;
      const [intact, count] = readFileSync(got, 'utf8').trim().split('\n').slice(-2);
      assert.equal(count, '40', `${mode}: every datagram arrives, once`);
      assert.equal(intact, 'intact', `${mode}: each as it was sent`);
      coalesced[mode] = (await merged()) - before;
    }
  });
  assert.ok(coalesced.connected! > 0, JSON.stringify(coalesced));
  assert.ok(coalesced['pmtudisc-do']! > 0, JSON.stringify(coalesced));
});

test('offloads off on TUNs an offload reader used before: switched off again, ordinary packets only', { timeout: 90_000 }, async () => {
  const st = await through([clientPort(), serverPort()], () => fetchAndCheck('plain after offload'), { offload: false });
  assert.equal(st.s!.offload.rxSuperPackets, undefined);
  assert.equal(st.s!.offload.checksumsFinished, undefined);
  assert.ok(st.s!.rxPackets >= BYTES / 1460, JSON.stringify(st.s));
});

test('the kernel keeps a persistent TUN\'s offloads after an offload-mode reader closes; a plain open switches them off', { timeout: 30_000 }, async () => {
  const ns = await lab.addNamespace('pt');
  const dev = lab.dev('pt');
  await ip('-n', ns, 'tuntap', 'add', 'mode', 'tun', 'name', dev);
  const tso = async () => /^tcp-segmentation-offload: on/m.test((await inNetns(ns, 'ethtool', ['-k', dev])).stdout);
  assert.equal(await tso(), false, 'a new TUN takes no super-packets');
  new TunDevice({ name: dev, netns: ns, offload: true }).close();
  assert.equal(await tso(), true, 'kept after the offload-mode reader closed');
  new TunDevice({ name: dev, netns: ns }).close();
  assert.equal(await tso(), false, 'switched off by a plain open');
});

test('the C forwarder with offloads (the benchmark\'s ceiling): 8 MB arrive whole, as super-packets', { timeout: 90_000 }, async () => {
  const log = join(lab.dir, 'cfwd.log');
  const p = lab.spawnIn(c, cfwd, ['--offload', c, devC, s, devS], { stderr: log });
  try {
    await fetchAndCheck('C offload');
  } finally {
    await stop(p);
  }
  const text = readFileSync(log, 'utf8');
  const f = /offloads A 0x([0-9a-f]+) B 0x([0-9a-f]+)/.exec(text);
  assert.ok(f, text);
  assert.ok((parseInt(f[1]!, 16) & 2) !== 0 && (parseInt(f[2]!, 16) & 2) !== 0, `the kernel took TSO4 on both: ${f[0]}`);
  const m = /B->A: packets (\d+) bytes (\d+) gso (\d+)/.exec(text);
  assert.ok(m, text);
  assert.ok(Number(m[3]) > 0, `the server's kernel sent super-packets: ${m[0]}`);
});
