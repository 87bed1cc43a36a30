// Real kernel TCP through TUN offloads: a client namespace fetches 8 MB over
// HTTP from a server namespace through a forwarder whose TUNs carry
// virtio-net headers and 64 KB super-packets, and the bytes must arrive
// whole (count and SHA-256):
//   client (10.1.0.2) — [TUN c] forwarder [TUN s] — server (10.2.0.2)
// Through the C offload forwarder and the TS loop; into a plain egress with
// MTU 1280 (the loop must segment in software); with a router MTU below the
// server's, where DF makes the loop answer Fragmentation Needed and the
// client's kernel lowers its path MTU; from a plain ingress with coalescing.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';

// UDP segmentation offload (UDP_SEGMENT): 200 sends of 40 datagrams of 1200
// bytes; the receiver counts datagrams that arrive whole and in pattern.
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
except socket.timeout:
    pass
print(n, ok, flush=True)
`;

const ROOT = new URL('../../../', import.meta.url).pathname;
const TSFWD = `${ROOT}dist/scripts/bench/tsfwd-offload.js`;
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
let devC: string;
let devS: string;
let cfwd: string;

before(async () => {
  lab = await Lab.create('offload');
  c = await lab.addNamespace('c');
  s = await lab.addNamespace('s');
  devC = lab.dev('c');
  devS = lab.dev('s');
  await lab.hostPort(c, devC, '10.1.0.2/24', '10.1.0.1');
  await lab.hostPort(s, devS, '10.2.0.2/24', '10.2.0.1');
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
  await Promise.race([done, sleep(5000)]);
  if (p.exitCode === null && p.signalCode === null) { p.kill('SIGKILL'); await done; }
}

/** Fetch the body through whatever forwards now; assert count and hash. */
async function fetchAndCheck(what: string): Promise<void> {
  await waitFor(`${what}: server reachable`, async () => {
    await inNetns(c, 'curl', ['-sf', '--max-time', '2', '-o', '/dev/null', 'http://10.2.0.2:8080/']);
    return true;
  }, 20_000, 200);
  const file = join(lab.dir, 'body');
  await inNetns(c, 'curl', ['-sS', '--max-time', '30', '-o', file, 'http://10.2.0.2:8080/'], { timeoutMs: 40_000 });
  const got = readFileSync(file);
  assert.equal(got.length, BYTES, `${what}: byte count`);
  assert.equal(createHash('sha256').update(got).digest('hex'), expected, `${what}: content`);
}

interface Direction { packets: number; superPackets: number; passedWhole: number; segmented: number; segmentsOut: number; fragNeeded: number; coalescedInto: number; checksumsFinished: number; drops: Record<string, number> }

/** Run the TS loop with `args`, fetch, stop it; its counters. */
async function throughTsLoop(what: string, args: string[]): Promise<{ aToB: Direction; bToA: Direction }> {
  const out = join(lab.dir, `tsfwd-${Date.now()}.json`);
  const p = lab.spawnIn(c, process.execPath, [TSFWD, c, devC, s, devS, '--addr-a', '10.1.0.1', '--addr-b', '10.2.0.1', ...args], { stdout: out });
  try {
    await fetchAndCheck(what);
  } finally {
    await stop(p);
  }
  return JSON.parse(readFileSync(out, 'utf8').trim()) as { aToB: Direction; bToA: Direction };
}

async function setMtu(ns: string, dev: string, mtu: number): Promise<void> {
  await ip('-n', ns, 'link', 'set', dev, 'mtu', String(mtu));
}

test('C forwarder with offloads: 8 MB arrive whole, as super-packets', { timeout: 90_000 }, async () => {
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
  // The body flows server → client (B → A).
  const m = /B->A: packets (\d+) bytes (\d+) gso (\d+)/.exec(text);
  assert.ok(m, text);
  assert.ok(Number(m[3]) > 0, `the server's kernel sent super-packets: ${m[0]}`);
});

// The body flows server → client: B → A in the forwarders' terms.

test('TS loop with offloads on both sides: super-packets pass whole', { timeout: 90_000 }, async () => {
  const st = await throughTsLoop('TS offload', ['--mtu-a', '1500', '--mtu-b', '1500']);
  const d = st.bToA;
  assert.ok(d.superPackets > 0, JSON.stringify(d));
  assert.equal(d.passedWhole, d.superPackets);
  assert.equal(d.segmented, 0);
  assert.equal(d.fragNeeded, 0);
  assert.ok(d.packets < BYTES / 1448 / 4, `far fewer packets than segments: ${d.packets}`);
});

test('TS loop into a plain egress with MTU 1280: super-packets segmented in software', { timeout: 90_000 }, async () => {
  await setMtu(c, devC, 1280);
  try {
    const st = await throughTsLoop('plain 1280 egress', ['--plain-a', '--mtu-a', '1280', '--mtu-b', '1500']);
    const d = st.bToA;
    assert.ok(d.segmented > 0, JSON.stringify(d));
    assert.ok(d.segmentsOut >= BYTES / 1240, `segments out: ${d.segmentsOut}`);
    assert.equal(d.fragNeeded, 0, 'the client announced MSS 1240: every segment fits');
    // the client's ACKs come in plain and leave through the offload TUN
    assert.ok(st.aToB.packets > 0);
  } finally {
    await setMtu(c, devC, 1500);
  }
});

test('router MTU 1280 below both hosts\' 1500, DF set: Fragmentation Needed, the sender lowers its path MTU', { timeout: 90_000 }, async () => {
  await inNetns(s, 'ip', ['route', 'flush', 'cache']);
  const st = await throughTsLoop('DF / frag needed', ['--plain-a', '--mtu-a', '1280', '--mtu-b', '1500']);
  const d = st.bToA;
  assert.ok(d.fragNeeded >= 1, JSON.stringify(d));
  assert.ok(d.segmented > 0, 'after the path MTU drop, segments fit and are cut in software');
  const route = (await inNetns(s, 'ip', ['route', 'get', '10.1.0.2'])).stdout;
  assert.match(route, /mtu 1280/, `the server's kernel learned the path MTU: ${route}`);
  await inNetns(s, 'ip', ['route', 'flush', 'cache']);
});

test('TS loop from a plain ingress into an offload egress with coalescing', { timeout: 90_000 }, async () => {
  const st = await throughTsLoop('GRO', ['--plain-b', '--gro', '--mtu-a', '1500', '--mtu-b', '1500']);
  const d = st.bToA;
  assert.ok(d.coalescedInto > 0, JSON.stringify(d));
  assert.equal(d.superPackets, 0, 'a plain TUN hands over no super-packets');
});

test('plain mode after offload mode on the same persistent TUNs: offloads switched off again', { timeout: 90_000 }, async () => {
  // The TUNs keep the offloads the earlier offload-mode readers set; a plain
  // reader would get super-packets and partial checksums it cannot read.
  const st = await throughTsLoop('plain after offload', ['--plain-a', '--plain-b']);
  assert.equal(st.bToA.superPackets, 0);
  assert.equal(st.bToA.checksumsFinished, 0);
  assert.ok(st.bToA.packets >= BYTES / 1460, JSON.stringify(st.bToA));
});

test('UDP segmentation offload: 8000 datagrams intact, passed whole and segmented in software', { timeout: 90_000 }, async () => {
  for (const plain of [false, true]) {
    const out = join(lab.dir, `tsfwd-uso-${plain}.json`);
    const got = join(lab.dir, `uso-recv-${plain}.txt`);
    const p = lab.spawnIn(c, process.execPath, [TSFWD, c, devC, s, devS, ...(plain ? ['--plain-b'] : [])], { stdout: out });
    try {
      await waitFor('loop up', async () => { await inNetns(c, 'ping', ['-c', '1', '-W', '1', '10.2.0.2']); return true; }, 10_000, 100);
      const recv = lab.spawnIn(s, 'python3', ['-c', USO_RECV], { stdout: got });
      await waitFor('receiver bound', () => readFileSync(got, 'utf8').includes('ready'), 10_000, 50);
      await inNetns(c, 'python3', ['-c', USO_SEND], { timeoutMs: 20_000 });
      await new Promise((r) => recv.once('exit', r));
    } finally {
      await stop(p);
    }
    const [n, ok] = readFileSync(got, 'utf8').trim().split('\n').pop()!.split(' ').map(Number);
    assert.equal(ok, 8000, `${plain ? 'segmented' : 'whole'}: ${n} datagrams, ${ok} intact`);
    assert.equal(n, 8000);
    const st = JSON.parse(readFileSync(out, 'utf8').trim()) as { aToB: Direction };
    assert.ok(st.aToB.superPackets >= 100, JSON.stringify(st.aToB));
    if (plain) assert.equal(st.aToB.segmentsOut, 8000); else assert.equal(st.aToB.passedWhole, st.aToB.superPackets);
  }
});
