// The daemon as a service an operator can trust (the faults found so far,
// each with its regression test): SIGHUP reloads instead of killing; a bad
// config is refused and the old one runs on; logrotate's SIGUSR1 reopens the
// log; a full disk never kills the router nor half-applies a change; a long
// `--json` answer survives a pipe; the API socket never replaces somebody's
// file; malformed API requests get a 400.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { call, type ClientError } from '../../src/api/client.js';
import type { RouteJson, StatsJson } from '../../src/api/types.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, run, sleep, waitFor } from '../../src/testbed/shell.js';

const TUNROUTE = new URL('../../../bin/tunroute.js', import.meta.url).pathname;

let lab: Lab;
let router: RouterProcess;
let a: string;
let b: string;
let config: Record<string, unknown>;

before(async () => {
  lab = await Lab.create('svc');
  a = await lab.addNamespace('a');
  b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  config = {
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
    ],
    routes: [1, 2, 3, 4, 5].map((i) => ({ prefix: `10.5${i}.0.0/16`, port: 'b', via: '10.0.2.2', metric: 1 })),
  };
  router = await lab.startRouter('r', config);
});

after(async () => {
  await lab?.cleanup();
});

const rewrite = (c: Record<string, unknown>) => {
  const current = JSON.parse(readFileSync(router.configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(router.configFile, JSON.stringify({ ...current, ...c }, null, 2));
};
const activeStatic = async () => (await router.api<RouteJson[]>('GET', '/v1/routes')).filter((r) => r.source === 'static' && r.state === 'active').map((r) => r.prefix).sort();

test('SIGHUP reloads the config (a route added, the others untouched); a bad config is refused and the old one runs on', { timeout: 30_000 }, async () => {
  const before = router.events().filter((e) => String(e.event).startsWith('route.')).length;
  rewrite({ routes: [...(config.routes as object[]), { prefix: '10.60.0.0/16', port: 'b', via: '10.0.2.2' }] });
  router.proc!.kill('SIGHUP');
  await waitFor('the new route', async () => (await activeStatic()).includes('10.60.0.0/16'), 5000, 50);
  const fib = router.events().filter((e) => String(e.event).startsWith('route.')).slice(before);
  assert.deepEqual(fib.map((e) => `${e.event} ${e.prefix}`), ['route.installed 10.60.0.0/16'], 'only the new route moved');
  assert.ok(router.events().some((e) => e.event === 'config.reloaded'));

  const good = readFileSync(router.configFile, 'utf8');
  writeFileSync(router.configFile, '{ "router": ');
  router.proc!.kill('SIGHUP');
  await waitFor('the refusal', async () => router.events().some((e) => e.event === 'config.refused'), 5000, 50);
  // The stderr line follows the log event: wait for it too.
  await waitFor('the refusal on stderr', () => /reload refused: .*JSON/.test(readFileSync(`${router.logFile}.stderr`, 'utf8')), 5000, 50);
  assert.equal(router.proc!.exitCode, null, 'still running');
  assert.equal((await activeStatic()).length, 6, 'the running config stays');
  // Through the API and the CLI, too: one line, the running config untouched.
  const refused = await run(process.execPath, [TUNROUTE, '--socket', router.socket, 'reload']).then(() => null, (e: Error) => e.message);
  assert.match(refused ?? '', /tunroute: .*JSON/);
  writeFileSync(router.configFile, good);
});

test('Prometheus metrics on the API socket: ports, drops by reason, routes, route changes, BFD, process', { timeout: 20_000 }, async () => {
  await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', '10.0.2.2']);
  // TTL 1 through the router: dropped as ttl-expired (the ping itself gets Time Exceeded and fails).
  await inNetns(a, 'sh', ['-c', 'ping -c 3 -i 0.2 -W 1 -t 1 10.0.2.2 || true']);
  const text = (await inNetns(lab.ns('r'), 'curl', ['-sS', '--unix-socket', router.socket, 'http://x/metrics'])).stdout;
  assert.match(text, /^# TYPE tunroute_port_drops_total counter$/m);
  const ttl = Number(/^tunroute_port_drops_total\{port="a",reason="ttl-expired"\} (\d+)$/m.exec(text)?.[1]);
  assert.equal(ttl, 3, `ttl-expired drops on port a: ${ttl}`);
  assert.match(text, /^# TYPE tunroute_port_receive_packets_total counter$/m);
  const rx = Number(/^tunroute_port_receive_packets_total\{port="a"\} (\d+)$/m.exec(text)?.[1]);
  assert.ok(rx >= 2, `port a received ${rx}`);
  assert.match(text, /^tunroute_port_up\{port="b",state="up"\} 1$/m);
  assert.match(text, /^tunroute_routes\{source="connected",state="active"\} 2$/m);
  assert.match(text, /^tunroute_route_changes_total\{kind="installed"\} \d+$/m);
  assert.match(text, /^process_resident_memory_bytes \d+$/m);
  // This lab runs no BFD session and no NAT: the BFD families say so (no session sample, nothing sent); no NAT table is reported.
  assert.match(text, /^# TYPE tunroute_bfd_session_up gauge$/m);
  assert.doesNotMatch(text, /^tunroute_bfd_session_up\{/m);
  assert.match(text, /^tunroute_bfd_packets_sent_total 0$/m);
  assert.doesNotMatch(text, /^tunroute_nat_flows/m);
  // Every sample line is NAME{labels} VALUE or NAME VALUE.
  for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) assert.match(line, /^[a-z_]+(\{[^}]*\})? -?[0-9.e+]+$/, line);
});

test('the running config and the log level can be read and changed through the CLI', { timeout: 20_000 }, async () => {
  const shown = JSON.parse(await router.cli('config')) as { ports: { name: string; address: string }[] };
  assert.deepEqual(shown.ports.map((p) => `${p.name} ${p.address}`), ['a 10.0.1.1/24', 'b 10.0.2.1/24']);
  assert.match(await router.cli('log-level', 'debug'), /log level debug/);
  await assert.rejects(router.cli('log-level', 'loud'), /level: must be one of/);
});

test('SIGUSR1 reopens the log (logrotate moved it away)', { timeout: 20_000 }, async () => {
  renameSync(router.logFile, `${router.logFile}.1`);
  router.proc!.kill('SIGUSR1');
  await sleep(200);
  await router.api('POST', '/v1/ports/a/block');
  await router.api('POST', '/v1/ports/a/unblock');
  await waitFor('a new log file', async () => existsSync(router.logFile) && readFileSync(router.logFile, 'utf8').includes('"port.unblocked"'), 5000, 50);
  assert.ok(!readFileSync(`${router.logFile}.1`, 'utf8').includes('"port.unblocked"'));
});

test('a full disk under the log: the router lives, a block and an unblock apply completely, failures are counted', { timeout: 40_000 }, async () => {
  const mnt = join(lab.dir, 'tiny');
  mkdirSync(mnt, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', mnt]);
  try {
    const file = join(lab.dir, 'full.json');
    const sock = join(lab.dir, 'full.sock');
    await lab.hostPort(a, lab.dev('fa'), '10.0.3.2/24');
    await lab.hostPort(b, lab.dev('fb'), '10.0.4.2/24');
    writeFileSync(file, JSON.stringify({
      router: `${lab.id}-full`,
      ports: [
        { name: 'a', device: lab.dev('fa'), netns: a, address: '10.0.3.1/24' },
        { name: 'b', device: lab.dev('fb'), netns: b, address: '10.0.4.1/24' },
      ],
      routes: [1, 2, 3, 4, 5].map((i) => ({ prefix: `10.7${i}.0.0/16`, port: 'b', via: '10.0.4.2' })),
      metricsListen: '127.0.0.1:9464',
    }));
    const proc = lab.spawnTunroute(lab.ns('r'), ['run', '--config', file, '--socket', sock, '--log-file', join(mnt, 'r.log')], { stderr: join(lab.dir, 'full.stderr') });
    await waitFor('the router', () => call(sock, 'GET', '/v1/router').then(() => true), 10_000, 50);
    // Fill the disk.
    await run('sh', ['-c', `dd if=/dev/zero of=${mnt}/filler bs=1k count=64 2>/dev/null; true`]);
    for (let i = 0; i < 3; i++) {
      await call(sock, 'POST', '/v1/ports/b/block');
      await call(sock, 'POST', '/v1/ports/b/unblock');
    }
    const routes = (await call<RouteJson[]>(sock, 'GET', '/v1/routes')).filter((r) => r.source === 'static');
    assert.deepEqual(routes.map((r) => r.state), ['active', 'active', 'active', 'active', 'active'], 'every route back in the FIB');
    const stats = await call<StatsJson>(sock, 'GET', '/v1/stats');
    assert.ok(stats.log.writeFailures > 0, 'failures counted');
    assert.match(stats.log.lastError ?? '', /ENOSPC|no space/i);
    assert.equal(proc.exitCode, null, 'still running');
    assert.match(readFileSync(join(lab.dir, 'full.stderr'), 'utf8'), /cannot write .*routing goes on/);
    // The same count for Prometheus, on the TCP address of metricsListen.
    const metrics = (await inNetns(lab.ns('r'), 'curl', ['-sS', '--max-time', '3', 'http://127.0.0.1:9464/metrics'])).stdout;
    const failures = Number(/^tunroute_log_write_failures_total (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(failures > 0, 'log write failures in /metrics');
    assert.match(metrics, /^tunroute_routes\{source="static",state="active"\} 5$/m);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
  } finally {
    await run('umount', ['-l', mnt]).catch(() => undefined);
  }
});

test('a deleted TUN device takes the port down (routes withdrawn, logged); a re-created one is reattached', { timeout: 30_000 }, async () => {
  const dev = lab.dev('a');
  await inNetns(b, 'ping', ['-c', '1', '-W', '2', '10.0.1.2']);
  await run('ip', ['-n', a, 'link', 'del', dev]);
  await waitFor('port a down', async () => (await router.api<{ name: string; state: string }[]>('GET', '/v1/ports')).find((p) => p.name === 'a')!.state === 'down', 5000, 50);
  const connected = (await router.api<RouteJson[]>('GET', '/v1/routes')).find((r) => r.prefix === '10.0.1.0/24')!;
  assert.equal(connected.state, 'unusable');
  assert.equal(connected.unusable, 'port-down');
  assert.ok(router.events().some((e) => e.event === 'port.down' && e.port === 'a' && e.reason === 'device-gone'));
  // The operator re-creates the host's NIC as it was: the router finds it within a second or two.
  await lab.hostPort(a, dev, '10.0.1.2/24', '10.0.1.1');
  await waitFor('port a restored', () => router.events().some((e) => e.event === 'port.restored' && e.port === 'a'), 10_000, 100);
  await waitFor('ping across again', () => inNetns(b, 'ping', ['-c', '1', '-W', '1', '10.0.1.2']).then(() => true, () => false), 10_000, 200);
  assert.equal((await router.api<RouteJson[]>('GET', '/v1/routes')).find((r) => r.prefix === '10.0.1.0/24')!.state, 'active');
});

test('a long --json answer survives a pipe (no cut at 64 KiB)', { timeout: 60_000 }, async () => {
  for (let i = 0; i < 1200; i++) await router.api('POST', '/v1/routes', { prefix: `10.${100 + (i >> 8)}.${i & 255}.0/24`, port: 'b', via: '10.0.2.2' });
  const out = await new Promise<string>((resolve, reject) => {
    execFile('sh', ['-c', `${process.execPath} ${TUNROUTE} --socket ${router.socket} --json route list | cat`], { maxBuffer: 64 << 20 }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
  assert.ok(out.length > 65536, `${out.length} bytes`);
  const routes = JSON.parse(out) as RouteJson[];
  assert.ok(routes.length > 1200);
  // A reader that stops early is no error of ours.
  const head = await run('sh', ['-c', `${process.execPath} ${TUNROUTE} --socket ${router.socket} --json route list | head -c 100; echo " status \${PIPESTATUS:-0}"`]);
  assert.doesNotMatch(head.stderr, /Error|at /);
});

test('route load: 25,000 routes from a file in three requests; a bad entry names its place in the file', { timeout: 60_000 }, async () => {
  const route = (i: number) => ({ prefix: `${40 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, port: 'b', via: '10.0.2.2' });
  const good = join(lab.dir, 'routes.json');
  writeFileSync(good, JSON.stringify({ routes: Array.from({ length: 25_000 }, (_, i) => route(i)) }));
  assert.match(await router.cli('route', 'load', good), /^added 25000 routes/);
  const routes = await router.api<RouteJson[]>('GET', '/v1/routes');
  assert.equal(routes.filter((r) => r.prefix.startsWith('40.')).length, 25_000);
  const bad = join(lab.dir, 'bad-routes.json');
  const list: unknown[] = Array.from({ length: 12_000 }, (_, i) => route(30_000 + i));
  list[10_003] = { ...route(0), metric: 'seven' };
  writeFileSync(bad, JSON.stringify(list));
  await assert.rejects(router.cli('route', 'load', bad), /bad-routes\.json: 10000 routes added, then nothing added: routes\[10003\]\.metric: must be an integer/);
});

test('the API socket never replaces somebody\'s file; too long and /proc paths get a clear error', { timeout: 30_000 }, async () => {
  const precious = join(lab.dir, 'precious.txt');
  writeFileSync(precious, 'keep me');
  const runWith = (socket: string) => run(process.execPath, [TUNROUTE, 'run', '--config', join(lab.dir, 'sock.json'), '--socket', socket], { timeoutMs: 10_000 }).then(() => 'exited 0', (e: Error & { code?: number }) => e.message);
  writeFileSync(join(lab.dir, 'sock.json'), JSON.stringify({ router: `${lab.id}-sock`, ports: [{ name: 'x', device: lab.dev('sx'), address: '10.0.9.1/24' }] }));
  assert.match(await runWith(precious), /exists and is not a socket: refusing to replace it/);
  assert.equal(readFileSync(precious, 'utf8'), 'keep me');
  assert.match(await runWith(`/tmp/${'x'.repeat(120)}.sock`), /at most 107/);
  assert.match(await runWith('/proc/tunroute.sock'), /no place for a socket/);
});

test('malformed API requests get a 400: a bad %-escape, a metric that is not a JSON integer, a prefix that is not text, a route the config would refuse', { timeout: 20_000 }, async () => {
  const status = async (method: string, path: string, body?: unknown) => {
    try {
      await call(router.socket, method, path, body);
      return 200;
    } catch (e) {
      return (e as ClientError).status ?? 0;
    }
  };
  assert.equal(await status('POST', '/v1/ports/%ZZ/block'), 400);
  for (const metric of ['7', '0x10', true, [3], '']) {
    assert.equal(await status('POST', '/v1/routes', { prefix: '10.200.0.0/16', port: 'b', via: '10.0.2.2', metric }), 400, JSON.stringify(metric));
  }
  assert.equal(await status('POST', '/v1/routes', { prefix: ['10.0.0.0/8'], port: 'b' }), 400);
  // What the config file refuses, the API refuses: loopback and multicast destinations, our own address or the broadcast as next hop.
  for (const bad of [{ prefix: '127.0.0.0/8' }, { prefix: '224.1.0.0/16' }, { prefix: '10.201.0.0/16', via: '10.0.2.1' }, { prefix: '10.202.0.0/16', via: '10.0.2.255' }]) {
    assert.equal(await status('POST', '/v1/routes', { port: 'b', via: '10.0.2.2', ...bad }), 400, JSON.stringify(bad));
  }
  assert.equal(await status('POST', '/v1/routes', { prefix: '10.203.0.0/16', port: 'b', via: null }), 200, 'via null: on-link');
});
