// The testbed hosts without namespaces: durations, fleet addressing, setting
// data, poll records and their summary; and the server and poller talking
// over loopback.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, truncateSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurationError, parseDuration } from '../../src/hosts/duration.js';
import { deviceId, fleetRange, prefixLengthFor, usableHosts, type DeviceRange } from '../../src/hosts/fleet.js';
import { deviceSettings, startInfoServer, type AccessLogLine } from '../../src/hosts/info-server.js';
import { Poller, pollOnce, pollPath, type PollRecord } from '../../src/hosts/poller.js';
import { parsePollRecords, PollRecordWriter, readPollRecords, summarisePolls } from '../../src/hosts/records.js';
import { AddressError, parsePrefix } from '../../src/net/addr.js';
import { waitFor } from '../../src/testbed/shell.js';
import { HistoryTail } from '../../src/triggers/history-tail.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'tunroute-hosts-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('durations: ms, s, m, h, plain numbers are ms', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('20s'), 20_000);
  assert.equal(parseDuration('2m'), 120_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('250'), 250);
  assert.equal(parseDuration('0'), 0);
  for (const bad of ['', 's', '5x', '-1s', '1 2s', '1e3', 'ten']) {
    assert.throws(() => parseDuration(bad), DurationError, bad);
  }
});

/** A range's devices as a list (small ranges only). */
const fleetDevices = (...a: Parameters<typeof fleetRange>) => {
  const r: DeviceRange = fleetRange(...a);
  return Array.from({ length: r.count }, (_, i) => ({ id: r.id(i), source: r.source(i) }));
};

test('fleet addresses: consecutive host addresses, network and broadcast skipped', () => {
  const d = fleetDevices(parsePrefix('10.100.0.0/16'), 300);
  assert.deepEqual(d[0], { id: 'dev-000001', source: '10.100.0.1' });
  assert.deepEqual(d[1], { id: 'dev-000002', source: '10.100.0.2' });
  // Within a /16, x.x.0.255 and x.x.1.0 are ordinary hosts.
  assert.equal(d[254]!.source, '10.100.0.255');
  assert.equal(d[255]!.source, '10.100.1.0');
  assert.equal(new Set(d.map((x) => x.source)).size, 300);

  assert.equal(fleetDevices(parsePrefix('10.100.0.0/24'), 254).at(-1)!.source, '10.100.0.254');
  assert.throws(() => fleetRange(parsePrefix('10.100.0.0/24'), 255), /room for 254 devices, not 255/);
  assert.throws(() => fleetRange(parsePrefix('10.100.0.0/24'), 0), AddressError);
  assert.deepEqual(usableHosts(parsePrefix('10.0.0.0/30')), { first: parsePrefix('10.0.0.1/32').addr, count: 2 });
  // RFC 3021: both addresses of a /31 are hosts; a /32 is one host.
  assert.deepEqual(fleetDevices(parsePrefix('10.0.0.0/31'), 2).map((x) => x.source), ['10.0.0.0', '10.0.0.1']);
  assert.deepEqual(fleetDevices(parsePrefix('10.0.0.9/32'), 1).map((x) => x.source), ['10.0.0.9']);
  assert.equal(deviceId(1_000_000), 'dev-1000000');
  // A million devices are two numbers; the last one is where it should be.
  const million = fleetRange(parsePrefix('10.64.0.0/10'), 1_000_000);
  assert.equal(million.source(999_999), '10.79.66.64');
  assert.equal(million.id(999_999), 'dev-1000000');
  assert.equal(prefixLengthFor(65_534), 16);
  assert.equal(prefixLengthFor(65_535), 15);
  assert.equal(prefixLengthFor(1_000_000), 12);
});

test('setting data: deterministic per device, defaults and overrides', () => {
  const settings = { pollIntervalS: 3600, firmware: '2.4.1', devices: { 'dev-000007': { firmware: '2.5.0-beta' } } };
  const a = deviceSettings('dev-000001', settings);
  assert.deepEqual(a, deviceSettings('dev-000001', structuredClone(settings)), 'same input, same answer');
  assert.equal(a.firmware, '2.4.1');
  assert.equal(a.pollIntervalS, 3600);
  assert.ok(Number.isInteger(a.pollOffsetS) && (a.pollOffsetS as number) >= 0 && (a.pollOffsetS as number) < 3600);
  assert.equal(deviceSettings('dev-000007', settings).firmware, '2.5.0-beta');
  assert.ok(!('devices' in a), 'the override map is not sent to devices');
  // Offsets spread devices over the interval.
  const offsets = new Set(Array.from({ length: 100 }, (_, i) => deviceSettings(deviceId(i + 1), settings).pollOffsetS));
  assert.ok(offsets.size > 90, `offsets spread (${offsets.size} distinct of 100)`);
  // No settings at all: a day's interval and a default firmware; no device: no offset.
  assert.deepEqual(deviceSettings(null), { firmware: '1.0.0', pollIntervalS: 86_400 });
  assert.equal(deviceSettings('x').pollIntervalS, 86_400);
  // A per-device interval is the one its offset is taken in.
  const own = deviceSettings('dev-000003', { pollIntervalS: 3600, devices: { 'dev-000003': { pollIntervalS: 5 } } });
  assert.equal(own.pollIntervalS, 5);
  assert.ok((own.pollOffsetS as number) < 5);
});

test('poll path: the target path and query, plus device=ID', () => {
  assert.equal(pollPath(new URL('http://1.1.1.1/poll'), 'dev-000001'), '/poll?device=dev-000001');
  assert.equal(pollPath(new URL('http://1.1.1.1/'), 'a b'), '/?device=a+b');
  assert.equal(pollPath(new URL('http://1.1.1.1/p?v=2&device=old'), 'd1'), '/p?v=2&device=d1');
});

const rec = (t: number, server: string | null, error: string | null = null, status: number | null = error ? null : 200): PollRecord =>
  ({ t, device: 'd', source: '10.0.0.1', server, status, latencyMs: 1, error });

test('poll records: a trailing partial line is ignored, a bad line elsewhere is an error', () => {
  const a = JSON.stringify(rec(1000, 's1'));
  const b = JSON.stringify(rec(1100, 's2'));
  assert.equal(parsePollRecords(`${a}\n${b}\n`).length, 2);
  assert.equal(parsePollRecords(`${a}\n${b.slice(0, 20)}`).length, 1, 'partial last line');
  assert.equal(parsePollRecords(`${a}\n${b}`).length, 2, 'complete last line without newline');
  assert.equal(parsePollRecords('').length, 0);
  assert.throws(() => parsePollRecords(`${a}\n{bad\n${b}\n`, 'f.jsonl'), /f\.jsonl:2/);
});

test('poll summary: totals, 100 ms buckets, the longest gap with no answer', () => {
  const records = [
    rec(10_050, 's1'),
    rec(10_120, 's1'),
    rec(10_130, null, 'ECONNREFUSED'),
    rec(10_400, null, 'timeout'),
    rec(10_180, 's1'), // out of order on purpose
    rec(10_950, 's2'),
    rec(11_000, 's2'),
    rec(11_020, 's2', null, 404),
  ];
  const s = summarisePolls(records);
  assert.equal(s.total, 8);
  assert.equal(s.answered, 5);
  assert.equal(s.failed, 3);
  assert.deepEqual(s.byServer, { s1: 3, s2: 2 });
  assert.deepEqual(s.errors, { ECONNREFUSED: 1, timeout: 1, 'HTTP 404': 1 });
  assert.deepEqual(s.servers.s1, { answered: 3, firstT: 10_050, lastT: 10_180, firstAnswerAt: 10_051, lastAnswerAt: 10_181 });
  assert.deepEqual(s.servers.s2, { answered: 2, firstT: 10_950, lastT: 11_000, firstAnswerAt: 10_951, lastAnswerAt: 11_001 });
  assert.equal(s.bucketMs, 100);
  assert.equal(s.buckets.length, 11, 'buckets 10000 … 11000, empty ones included');
  assert.deepEqual(s.buckets[0], { t: 10_000, byServer: { s1: 1 }, failed: 0 });
  assert.deepEqual(s.buckets[1], { t: 10_100, byServer: { s1: 2 }, failed: 1 });
  assert.deepEqual(s.buckets[4], { t: 10_400, byServer: {}, failed: 1 });
  assert.deepEqual(s.buckets[10], { t: 11_000, byServer: { s2: 1 }, failed: 1 });
  assert.deepEqual(s.longestGap, { fromT: 10_180, toT: 10_950, ms: 770 });

  // An outage at the end of the run counts up to the last record.
  const tail = summarisePolls([rec(0, 's1'), rec(100, 's1'), rec(1000, null, 'timeout')], { bucketMs: 500 });
  assert.deepEqual(tail.longestGap, { fromT: 100, toT: 1000, ms: 900 });
  assert.equal(tail.buckets.length, 3);
  // …and so does one at the start.
  assert.deepEqual(summarisePolls([rec(0, null, 'timeout'), rec(700, 's1'), rec(800, 's1')]).longestGap, { fromT: 0, toT: 700, ms: 700 });
  assert.deepEqual(summarisePolls([]).longestGap, null);
});

test('record writer: lines reach the file within 100 ms, off the event loop, in order; the rest on close', async () => {
  const file = join(tmp, 'w.jsonl');
  const w = new PollRecordWriter(file);
  w.write(rec(1, 's1'));
  w.write(rec(2, 's1'));
  await waitFor('the timer\'s write', () => readPollRecords(file).length === 2, 2000, 20);
  // Many batches while writes are under way: none lost, none reordered.
  for (let i = 3; i <= 5000; i++) {
    w.write(rec(i, 's2'));
    if (i % 500 === 0) await sleep(5);
  }
  await w.close();
  assert.deepEqual(readPollRecords(file).map((r) => r.t), Array.from({ length: 5000 }, (_, i) => i + 1));
  assert.equal(w.lostRecords, 0);
  assert.throws(() => w.write(rec(5001, 's2')), /closed/);
});

test('info server and poller over loopback: answers, access log, 404, rotation', async () => {
  const logFile = join(tmp, 'access.jsonl');
  const server = await startInfoServer({ address: '127.0.0.1', port: 0, name: 'server1', logFile, settings: { firmware: '9' } });
  try {
    const target = new URL(`http://127.0.0.1:${server.port}/poll`);
    const r = await pollOnce(target, { id: 'dev-000001', source: '127.0.0.1' }, 2000);
    assert.equal(r.status, 200);
    assert.equal(r.server, 'server1');
    assert.equal(r.error, null);
    assert.equal(r.device, 'dev-000001');

    const body = await fetch(`http://127.0.0.1:${server.port}/?device=dev-000002`);
    assert.equal(body.headers.get('x-served-by'), 'server1');
    assert.equal(body.headers.get('connection'), 'close');
    const json = (await body.json()) as { server: string; device: string; time: number; settings: Record<string, unknown> };
    assert.equal(json.server, 'server1');
    assert.equal(json.device, 'dev-000002');
    assert.deepEqual(json.settings, deviceSettings('dev-000002', { firmware: '9' }));

    const missing = await pollOnce(new URL(`http://127.0.0.1:${server.port}/nope`), { id: 'x', source: '127.0.0.1' }, 2000);
    assert.equal(missing.status, 404);
    assert.equal(missing.server, 'server1');

    // The log is written as each answer goes out (on a busy machine, a moment later).
    await waitFor('three access-log lines', () => readFileSync(logFile, 'utf8').trim().split('\n').length === 3, 2000, 10);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AccessLogLine);
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => [l.client, l.path, l.status, l.server, l.device]), [
      ['127.0.0.1', '/poll?device=dev-000001', 200, 'server1', 'dev-000001'],
      ['127.0.0.1', '/?device=dev-000002', 200, 'server1', 'dev-000002'],
      ['127.0.0.1', '/nope?device=x', 404, 'server1', 'x'],
    ]);
    assert.equal(server.requests, 3);

    // Truncated by someone else: O_APPEND keeps writing at the (new) end.
    truncateSync(logFile, 0);
    await pollOnce(target, { id: 'after-truncate', source: '127.0.0.1' }, 2000);
    // The line is written as the answer goes out; on a busy machine it may land a moment later.
    await waitFor('the line after truncation', () => readFileSync(logFile, 'utf8').includes('after-truncate'), 2000, 10);
    assert.match(readFileSync(logFile, 'utf8'), /^\{[^\n]*after-truncate[^\n]*\}\n$/);

    // Rotated (renamed): after reopenLog() (SIGHUP) lines go to a new file at the path.
    renameSync(logFile, `${logFile}.1`);
    server.reopenLog();
    await pollOnce(target, { id: 'after-rotate', source: '127.0.0.1' }, 2000);
    await waitFor('the line in the new file', () => existsSync(logFile) && readFileSync(logFile, 'utf8').includes('after-rotate'), 2000, 10);
    assert.doesNotMatch(readFileSync(`${logFile}.1`, 'utf8'), /after-rotate/);
  } finally {
    await server.close();
  }
});

test('access log rotated by size under load: a tail following it, as the trigger does, sees every line once', async () => {
  const logFile = join(tmp, 'rotating.jsonl');
  // About 130 bytes a line: a new file every ~250 lines.
  const server = await startInfoServer({ address: '127.0.0.1', port: 0, name: 's', logFile, logMaxBytes: 32 * 1024, logKeep: 1000 });
  const seen = new Map<string, number>();
  const tail = new HistoryTail(logFile, { fromStart: true, pollMs: 20, onObject: (o) => {
    const d = (o as AccessLogLine).device!;
    seen.set(d, (seen.get(d) ?? 0) + 1);
  } });
  await tail.start();
  const n = 4000;
  try {
    const target = new URL(`http://127.0.0.1:${server.port}/poll`);
    let next = 0;
    await Promise.all(Array.from({ length: 40 }, async () => {
      while (next < n) {
        const id = deviceId(++next);
        const r = await pollOnce(target, { id, source: '127.0.0.1' }, 5000);
        assert.equal(r.status, 200, `${id}: ${r.error}`);
      }
    }));
    await waitFor('the tail has every line', () => seen.size === n, 5000, 10);
    assert.ok(server.logRotations >= 10, `${server.logRotations} rotations`);
    assert.ok([...seen.values()].every((c) => c === 1), 'no line seen twice');
    assert.equal(tail.stats.malformed, 0);
    assert.equal(tail.stats.rotations, server.logRotations);
    // Nothing lost on disk either: the rotated files and the current one hold every line.
    let lines = 0;
    for (let i = 0; i <= server.logRotations; i++) lines += readFileSync(i ? `${logFile}.${i}` : logFile, 'utf8').split('\n').filter(Boolean).length;
    assert.equal(lines, n);
  } finally {
    await tail.close();
    await server.close();
  }
});

test('poll failures are records: refused, timeout', async () => {
  // A port nobody listens on (any more).
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  const gonePort = (gone.address() as AddressInfo).port;
  await new Promise<void>((r) => gone.close(() => r()));
  const refused = await pollOnce(new URL(`http://127.0.0.1:${gonePort}/`), { id: 'd', source: '127.0.0.1' }, 2000);
  assert.equal(refused.status, null);
  assert.equal(refused.error, 'ECONNREFUSED');
  // A server that accepts and never answers.
  const silent = createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  try {
    const port = (silent.address() as AddressInfo).port;
    const t0 = Date.now();
    const slow = await pollOnce(new URL(`http://127.0.0.1:${port}/`), { id: 'd', source: '127.0.0.1' }, 200);
    assert.equal(slow.error, 'timeout');
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

test('a poll answered in time is not failed because the poller itself stalled past its deadline', async () => {
  // A server in another process, answering 100 ms after the request: the answer arrives while this process is stalled.
  const child = spawn(process.execPath, ['-e', `require('node:http').createServer((q, s) => setTimeout(() => { s.setHeader('x-served-by', 'prompt'); s.end('{}'); }, 100))
    .listen(0, '127.0.0.1', function () { console.log(this.address().port); })`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    const pending = pollOnce(new URL(`http://127.0.0.1:${port}/poll`), { id: 'd', source: '127.0.0.1' }, 300);
    // Let the request go out, then be busy for 800 ms: past the 300 ms deadline, with the answer waiting in the socket.
    await sleep(30);
    // Stalled in the check phase: the next turn of the loop runs its (expired) timers before it reads the socket.
    await new Promise<void>((resolve) => setImmediate(() => {
      const until = Date.now() + 800;
      while (Date.now() < until) { /* a stalled event loop */ }
      resolve();
    }));
    const r = await pending;
    assert.equal(r.error, null, 'the answer waiting in the socket is read before the deadline is judged');
    assert.equal(r.server, 'prompt');
    assert.ok(r.latencyMs >= 800, `its latency shows the stall (${r.latencyMs} ms)`);
  } finally {
    child.kill();
  }
});

test('poller: a steady rate, spread over the interval, one outstanding poll per device', async () => {
  let open = 0;
  let maxOpen = 0;
  const perDeviceOpen = new Map<string, number>();
  let overlap = false;
  // Answers after 300 ms — longer than the 200 ms interval, so devices must skip.
  const slow = createServer((req, res) => {
    const dev = new URL(req.url!, 'http://x').searchParams.get('device')!;
    const n = (perDeviceOpen.get(dev) ?? 0) + 1;
    if (n > 1) overlap = true;
    perDeviceOpen.set(dev, n);
    maxOpen = Math.max(maxOpen, ++open);
    setTimeout(() => {
      open--;
      perDeviceOpen.set(dev, perDeviceOpen.get(dev)! - 1);
      res.setHeader('x-served-by', 'slow');
      res.setHeader('connection', 'close');
      res.end('{}');
    }, 300);
  });
  await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
  try {
    const port = (slow.address() as AddressInfo).port;
    const devices = Array.from({ length: 10 }, (_, i) => ({ id: deviceId(i + 1), source: '127.0.0.1' }));
    const records: PollRecord[] = [];
    const poller = new Poller({ target: new URL(`http://127.0.0.1:${port}/poll`), devices, intervalMs: 200, jitter: 0.2, onRecord: (r) => records.push(r) });
    poller.start();
    await sleep(1000);
    await poller.stop();
    assert.equal(overlap, false, 'never two outstanding polls of one device');
    assert.ok(poller.counters.skipped > 0, 'slow answers make devices skip a turn');
    assert.equal(poller.counters.inFlight, 0, 'stop() waits for outstanding polls');
    assert.equal(records.length, poller.counters.total);
    assert.equal(poller.counters.byServer.slow, records.length);
    assert.ok(maxOpen <= 10);
  } finally {
    slow.close();
  }

  // A fast server: N devices at interval I give about N/I polls per second,
  // with first polls spread over the first interval rather than in one burst.
  const server = await startInfoServer({ address: '127.0.0.1', port: 0, name: 'fast' });
  try {
    const devices = Array.from({ length: 50 }, (_, i) => ({ id: deviceId(i + 1), source: '127.0.0.1' }));
    const records: PollRecord[] = [];
    const poller = new Poller({ target: new URL(`http://127.0.0.1:${server.port}/poll`), devices, intervalMs: 500, onRecord: (r) => records.push(r) });
    const t0 = Date.now();
    poller.start();
    await sleep(1500);
    await poller.stop();
    // 50 devices / 0.5 s = 100 polls/s → about 150 in 1.5 s.
    assert.ok(records.length >= 110 && records.length <= 190, `about 150 polls, got ${records.length}`);
    const firstHalf = records.filter((r) => r.t - t0 < 250).length;
    assert.ok(firstHalf >= 10 && firstHalf <= 40, `first polls spread over the interval (${firstHalf} of 50 in the first 250 ms)`);
    assert.equal(poller.counters.failed, 0);
  } finally {
    await server.close();
  }
});
