// The testbed hosts as real kernel TCP/HTTP programs in one namespace:
//   lo: 1.1.1.1/32 (the service), 192.0.2.7/32 (the test appliance),
//       local 10.100.0.0/24 (AnyIP: the fleet's 254 source addresses)
// `tunroute serve`, `tunroute fleet` and `tunroute probe` run side by side;
// the server's access log must tell exactly who polled.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { AccessLogLine } from '../../src/hosts/info-server.js';
import { readPollRecords, type PollRecord } from '../../src/hosts/records.js';
import { Lab } from '../../src/testbed/lab.js';
import { inNetns, ip, run, waitFor } from '../../src/testbed/shell.js';

const TUNROUTE_BIN = new URL('../../../bin/tunroute.js', import.meta.url).pathname;
const TARGET = 'http://1.1.1.1/poll';
const PROBE_SOURCE = '192.0.2.7';

let lab: Lab;
let ns: string;

before(async () => {
  lab = await Lab.create('hosts');
  ns = await lab.addNamespace('x');
  await ip('-n', ns, 'addr', 'add', '1.1.1.1/32', 'dev', 'lo');
  await ip('-n', ns, 'addr', 'add', `${PROBE_SOURCE}/32`, 'dev', 'lo');
  await ip('-n', ns, 'route', 'add', 'local', '10.100.0.0/24', 'dev', 'lo');
});

after(async () => {
  await lab?.cleanup();
});

/** The exit status of a child, or a rejection after `ms`. */
function exitOf(child: ChildProcess, ms: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} still running after ${ms} ms`)), ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

const readText = (file: string): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
const accessLines = (file: string): AccessLogLine[] => readText(file).split('\n').filter(Boolean).map((l) => JSON.parse(l) as AccessLogLine);
const inFleet = (a: string): boolean => a.startsWith('10.100.0.');

test('serve, fleet and probe: one access-log line per poll, from the right addresses', { timeout: 60_000 }, async () => {
  const accessLog = join(lab.dir, 'access.jsonl');
  const settingsFile = join(lab.dir, 'settings.json');
  writeFileSync(settingsFile, JSON.stringify({ pollIntervalS: 3600, firmware: '2.4.1' }));
  const serveOut = join(lab.dir, 'serve.out');
  const server = lab.spawnTunroute(ns, ['serve', '--address', '1.1.1.1', '--port', '80', '--name', 'server1', '--log', accessLog, '--settings', settingsFile], { stdout: serveOut });
  await waitFor('server to listen', () => readText(serveOut).includes('listening on http://1.1.1.1:80/'), 10_000, 50);

  // The answer a device gets: its setting data, named by the server.
  const answer = JSON.parse((await inNetns(ns, 'curl', ['-sS', '--max-time', '5', '--interface', PROBE_SOURCE, `${TARGET}?device=dev-000042`])).stdout) as { server: string; device: string; settings: Record<string, unknown> };
  assert.equal(answer.server, 'server1');
  assert.equal(answer.device, 'dev-000042');
  assert.equal(answer.settings.firmware, '2.4.1');
  assert.equal(answer.settings.pollIntervalS, 3600);

  const fleetRecords = join(lab.dir, 'fleet.jsonl');
  const fleetOut = join(lab.dir, 'fleet.out');
  const probeOut = join(lab.dir, 'probe.out');
  const fleet = lab.spawnTunroute(ns, ['fleet', '--target', TARGET, '--prefix', '10.100.0.0/24', '--count', '50', '--interval', '1s', '--duration', '3s', '--out', fleetRecords], { stdout: fleetOut });
  const probe = lab.spawnTunroute(ns, ['probe', '--target', TARGET, '--source', PROBE_SOURCE, '--until-server', 'server1', '--timeout-total', '10s', '--quiet'], { stdout: probeOut });
  const [fleetStatus, probeStatus] = await Promise.all([exitOf(fleet, 20_000), exitOf(probe, 20_000)]);
  assert.equal(probeStatus, 0, 'probe found server1');
  assert.equal(fleetStatus, 0, 'fleet ran its 3 s and exited 0');

  // The probe prints the record of the poll that server1 answered.
  const found = JSON.parse(await waitFor('probe output', () => readText(probeOut).trim() || undefined, 5000)) as PollRecord;
  assert.equal(found.server, 'server1');
  assert.equal(found.source, PROBE_SOURCE);
  assert.equal(found.status, 200);

  // The fleet: 50 devices × about 3 polls, every one answered by server1.
  const records = readPollRecords(fleetRecords);
  assert.ok(records.length >= 100 && records.length <= 200, `about 150 polls in 3 s, got ${records.length}`);
  assert.ok(records.every((r) => r.status === 200 && r.server === 'server1' && r.error === null), 'every poll answered by server1');
  const sources = new Set(records.map((r) => r.source));
  assert.equal(sources.size, 50);
  assert.deepEqual([...sources].sort(), Array.from({ length: 50 }, (_, i) => `10.100.0.${i + 1}`).sort());
  assert.ok(records.every((r) => r.device === `dev-${String(Number(r.source.split('.')[3])).padStart(6, '0')}`), 'device n polls from host address n');
  const summaryLine = await waitFor('fleet summary', () => readText(fleetOut).trim() || undefined, 5000);
  assert.match(summaryLine, new RegExp(`^fleet: ${records.length} polls in .*server1 ${records.length}; failed 0$`));

  // The access log: one line per fleet poll, with the device's own source address.
  const log = accessLines(accessLog);
  const fleetLines = log.filter((l) => inFleet(l.client));
  assert.equal(fleetLines.length, records.length, 'one access-log line per fleet poll');
  assert.equal(new Set(fleetLines.map((l) => l.client)).size, 50);
  const key = (client: string, device: string | null) => `${client} ${device}`;
  assert.deepEqual(fleetLines.map((l) => key(l.client, l.device)).sort(), records.map((r) => key(r.source, r.device)).sort());
  assert.ok(fleetLines.every((l) => l.status === 200 && l.server === 'server1' && l.path.startsWith('/poll?device=dev-')));
  const probeLines = log.filter((l) => l.client === PROBE_SOURCE && l.device === 'test-appliance');
  assert.ok(probeLines.length >= 1, 'the probe is in the log under its own address');
  assert.ok(log.every((l) => inFleet(l.client) || l.client === PROBE_SOURCE), 'nobody else polled');

  // Rotation: after SIGHUP the server writes to a new file at the same path.
  renameSync(accessLog, `${accessLog}.1`);
  server.kill('SIGHUP');
  await waitFor('server to reopen its log', () => existsSync(accessLog), 5000);
  const again = await inNetns(ns, process.execPath, [TUNROUTE_BIN, 'probe', '--target', TARGET, '--source', PROBE_SOURCE, '--until-server', 'server1', '--timeout-total', '5s', '--quiet'], { timeoutMs: 10_000 });
  assert.equal((JSON.parse(again.stdout) as PollRecord).server, 'server1');
  await waitFor('a line in the new log', () => accessLines(accessLog).some((l) => l.client === PROBE_SOURCE), 5000);

  // SIGTERM ends the server cleanly.
  server.kill('SIGTERM');
  assert.equal(await exitOf(server, 5000), 0);
});

test('probe: exit status 1 and one line when the wanted server never answers', { timeout: 30_000 }, async () => {
  const serveOut = join(lab.dir, 'serve2.out');
  const server = lab.spawnTunroute(ns, ['serve', '--address', '1.1.1.1', '--port', '8080', '--name', 'server1'], { stdout: serveOut });
  try {
    await waitFor('server to listen', () => readText(serveOut).includes('listening'), 10_000, 50);
    const t0 = Date.now();
    const r = await inNetns(ns, process.execPath, [TUNROUTE_BIN, 'probe', '--target', 'http://1.1.1.1:8080/poll', '--source', PROBE_SOURCE,
      '--interval', '300ms', '--until-server', 'server2', '--timeout-total', '1500ms', '--quiet'], { allowFail: true, timeoutMs: 10_000 });
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^tunroute: no poll answered by server2 within 1\.5s \(\d+ polls, last answered by server1\)\n$/);
    assert.ok(Date.now() - t0 < 6000);
  } finally {
    server.kill('SIGTERM');
    await exitOf(server, 5000).catch(() => server.kill('SIGKILL'));
  }
});

test('fleet --anyip adds the AnyIP route for its prefix itself', { timeout: 30_000 }, async () => {
  await ip('-n', ns, 'route', 'del', 'local', '10.101.0.0/28', 'dev', 'lo').catch(() => undefined);
  const serveOut = join(lab.dir, 'serve3.out');
  const server = lab.spawnTunroute(ns, ['serve', '--address', '1.1.1.1', '--port', '8081', '--name', 'server1'], { stdout: serveOut });
  try {
    await waitFor('server to listen', () => readText(serveOut).includes('listening'), 10_000, 50);
    const r = await inNetns(ns, process.execPath, [TUNROUTE_BIN, '--json', 'fleet', '--target', 'http://1.1.1.1:8081/', '--prefix', '10.101.0.0/28',
      '--count', '14', '--interval', '200ms', '--duration', '1s', '--anyip', '--quiet'], { timeoutMs: 15_000 });
    const summary = JSON.parse(r.stdout) as { polls: number; byServer: Record<string, number>; failed: number };
    assert.ok(summary.polls > 0);
    assert.equal(summary.byServer.server1, summary.polls);
    assert.equal(summary.failed, 0);
    const routes = (await ip('-n', ns, 'route', 'show', 'table', 'local')).stdout;
    assert.match(routes, /^local 10\.101\.0\.0\/28 dev lo/m);
  } finally {
    server.kill('SIGTERM');
    await exitOf(server, 5000).catch(() => server.kill('SIGKILL'));
  }
});

test('bad arguments: one line, exit status 2', { timeout: 30_000 }, async () => {
  const cases: [string[], RegExp][] = [
    [['fleet', '--target', 'not a url', '--prefix', '10.100.0.0/24', '--count', '5'], /--target: .* is not a URL/],
    [['fleet', '--target', TARGET, '--prefix', '10.100.0.0/33', '--count', '5'], /--prefix: /],
    [['fleet', '--target', TARGET, '--prefix', '10.100.0.0/30', '--count', '5'], /--count: 10\.100\.0\.0\/30 has room for 2 devices, not 5/],
    [['fleet', '--target', TARGET, '--prefix', '10.100.0.0/24', '--count', '5', '--interval', 'soon'], /--interval: "soon" is not a duration/],
    [['probe', '--target', TARGET, '--source', '300.1.1.1'], /--source: /],
    [['serve', '--address', '1.1.1.1', '--name', 's', '--settings', join(lab.dir, 'no-such-file.json')], /--settings: cannot read .*ENOENT/],
  ];
  for (const [args, message] of cases) {
    const r = await run(process.execPath, [TUNROUTE_BIN, ...args], { allowFail: true, timeoutMs: 10_000 });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /^tunroute: [^\n]*\n$/, `one line: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
