// The static-routing form of the method, end to end with real HTTP:
// a client polls http://1.1.1.1/ every 50 ms through one router; server 1
// (via port a, metric 1) and server 2 (via port b, metric 10) both own
// 1.1.1.1. Blocking port a moves the polls to server 2; unblocking moves
// them back.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readPollRecords } from '../../src/hosts/records.js';
import { analyseSwitch } from '../../src/hosts/switch-analysis.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { ip, sleep, waitFor } from '../../src/testbed/shell.js';
import { startServer } from './helpers.js';

let lab: Lab;
let router: RouterProcess;
let polls: string;

before(async () => {
  lab = await Lab.create('static');
  const c = await lab.addNamespace('c');
  const s1 = await lab.addNamespace('s1');
  const s2 = await lab.addNamespace('s2');
  await lab.hostPort(c, lab.dev('c'), '10.0.0.2/24', '10.0.0.1');
  await lab.hostPort(s1, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(s2, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  for (const s of [s1, s2]) await ip('-n', s, 'addr', 'add', '1.1.1.1/32', 'dev', 'lo');
  router = await lab.startRouter('r', {
    ports: [
      { name: 'c', device: lab.dev('c'), netns: c, address: '10.0.0.1/24' },
      { name: 'a', device: lab.dev('a'), netns: s1, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: s2, address: '10.0.2.1/24' },
    ],
    routes: [
      { prefix: '1.1.1.1/32', port: 'a', via: '10.0.1.2', metric: 1 },
      { prefix: '1.1.1.1/32', port: 'b', via: '10.0.2.2', metric: 10 },
      { prefix: '10.100.0.0/24', port: 'c', via: '10.0.0.2', metric: 1 },
    ],
  });
  await startServer(lab, s1, 'server1');
  await startServer(lab, s2, 'server2');
  polls = join(lab.dir, 'polls.jsonl');
  lab.spawnTunroute(c, ['fleet', '--target', 'http://1.1.1.1/', '--prefix', '10.100.0.0/24', '--count', '1', '--interval', '50ms', '--jitter', '0', '--timeout', '1s', '--anyip', '--quiet', '--out', polls]);
});

after(async () => {
  await lab?.cleanup();
});

const answeredBy = (server: string, since: number) => () =>
  readPollRecords(polls).some((r) => r.t >= since && r.status === 200 && r.server === server);

test('block port a → server 2 answers within a second; unblock → back to server 1', { timeout: 40_000 }, async () => {
  await waitFor('polls answered by server1', answeredBy('server1', 0), 10_000);
  await sleep(500);

  const routes = JSON.parse(await router.cli('--json', 'route', 'list')) as { prefix: string; port: string; state: string }[];
  assert.deepEqual(routes.filter((r) => r.prefix === '1.1.1.1/32').map((r) => [r.port, r.state]), [['a', 'active'], ['b', 'standby']]);

  const blockedAt = Date.now();
  await router.cli('port', 'block', 'a');
  await waitFor('polls answered by server2', answeredBy('server2', blockedAt), 5_000);
  const lookup = JSON.parse(await router.cli('--json', 'route', 'lookup', '1.1.1.1')) as { port: string };
  assert.equal(lookup.port, 'b');
  const routesBlocked = JSON.parse(await router.cli('--json', 'route', 'list')) as { prefix: string; port: string; state: string; unusable: string | null }[];
  assert.deepEqual(routesBlocked.filter((r) => r.prefix === '1.1.1.1/32').map((r) => [r.port, r.state, r.unusable]), [['a', 'unusable', 'port-blocked'], ['b', 'active', null]]);
  await sleep(1000);

  const unblockedAt = Date.now();
  await router.cli('port', 'unblock', 'a');
  await waitFor('polls answered by server1 again', answeredBy('server1', unblockedAt), 5_000);
  await sleep(500);

  // Measure from the daemon's own events, not from when the CLI process started.
  const events = router.events();
  const blocked = events.find((e) => e.event === 'port.blocked' && e.port === 'a')!;
  const unblocked = events.find((e) => e.event === 'port.unblocked' && e.port === 'a')!;
  const records = readPollRecords(polls);
  const there = analyseSwitch(records, blocked.time, 'server1', 'server2');
  const back = analyseSwitch(records, unblocked.time, 'server2', 'server1');
  const failed = records.filter((r) => r.status !== 200).length;
  console.log(`# static cut-over: ${records.length} polls, ${failed} failed; ` +
    `block → first server2 answer ${Math.round(there.firstAnswerAfterMs!)} ms (gap ${Math.round(there.gapMs)} ms, ${there.failed} failed); ` +
    `unblock → first server1 answer ${Math.round(back.firstAnswerAfterMs!)} ms (gap ${Math.round(back.gapMs)} ms, ${back.failed} failed)`);
  assert.ok(there.firstAnswerAfterMs! < 1000, `server2 answered ${there.firstAnswerAfterMs} ms after the block`);
  assert.ok(back.firstAnswerAfterMs! < 1000, `server1 answered ${back.firstAnswerAfterMs} ms after the unblock`);

  // The log tells the story: port blocked, then the route moved to b.
  const moved = events.find((e) => e.event === 'route.changed' && e.prefix === '1.1.1.1/32' && (e.new as { port: string }).port === 'b');
  assert.ok(moved && moved.time >= blocked.time && moved.time - blocked.time < 50, JSON.stringify(moved));
});

test('blocking twice or an unknown port is a clear error', { timeout: 20_000 }, async () => {
  await router.cli('port', 'block', 'b');
  await assert.rejects(router.cli('port', 'block', 'b'), /tunroute: port "b" is already blocked/);
  await router.cli('port', 'unblock', 'b');
  await assert.rejects(router.cli('port', 'unblock', 'b'), /tunroute: port "b" is not blocked/);
  await assert.rejects(router.cli('port', 'block', 'zz'), /tunroute: no port named "zz"/);
});
