// The history-triggered port block in a running daemon:
//   host a (10.0.1.2) — [port a] router [port b] — host b (10.0.2.2)
// A trigger follows an access log in the lab directory; lines are written by
// the test in the info server's format. Lines that are not the test
// appliance's poll answered by server 2 leave port b up; the one that is
// blocks it, once, within 500 ms. A trigger added at run time and cancelled
// never fires; history pushed through the API fires an API trigger.
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { run, sleep, waitFor } from '../../src/testbed/shell.js';

const TUNROUTE_BIN = new URL('../../../bin/tunroute.js', import.meta.url).pathname;
const TEST_APPLIANCE = '192.0.2.7';
const PUSHED_CLIENT = '192.0.2.8';
const LATE_CLIENT = '192.0.2.9';
/** Several poll periods of the tail: long enough for a wrong block to have happened. */
const QUIET_MS = 400;

interface PortJson { name: string; state: string }
interface TriggerJson { name: string; state: string; latencyMs: number | null; firedAt: number | null; matched: { client: string; via: string } | null; tail: { following: boolean; malformed: number; invalid: number } | null }

let lab: Lab;
let router: RouterProcess;
let accessLog: string;

const poll = (over: Record<string, unknown> = {}) =>
  `${JSON.stringify({ time: Date.now(), client: TEST_APPLIANCE, path: '/poll?device=test-appliance', status: 200, server: 'server2', device: 'test-appliance', ...over })}\n`;

async function portState(name: string): Promise<string> {
  const ports = JSON.parse(await router.cli('--json', 'port', 'list')) as PortJson[];
  return ports.find((p) => p.name === name)!.state;
}

async function trigger(name: string): Promise<TriggerJson> {
  const list = await router.api<TriggerJson[]>('GET', '/v1/triggers');
  return list.find((t) => t.name === name)!;
}

/** The CLI with its exit status, for the cases that must fail. */
function cliStatus(...args: string[]) {
  return run(process.execPath, [TUNROUTE_BIN, '--socket', router.socket, ...args], { allowFail: true });
}

before(async () => {
  lab = await Lab.create('trig');
  const a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  accessLog = join(lab.dir, 'access.jsonl');
  // Old evidence, written before the daemon started: it must not fire anything.
  writeFileSync(accessLog, poll({ time: Date.now() - 60_000 }));
  router = await lab.startRouter('r', {
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
    ],
    triggers: [
      { name: 'to-server2', file: accessLog, match: { client: TEST_APPLIANCE, server: 'server2', status: 200, path: '/poll' }, action: 'block', port: 'b' },
      { name: 'pushed', api: true, match: { client: PUSHED_CLIENT, server: 'server2', status: 200 }, port: 'a' },
    ],
  });
  await waitFor('the access log to be followed', async () => (await trigger('to-server2')).tail?.following, 5000);
});

after(async () => {
  await lab?.cleanup();
});

test('lines that are not the test appliance answered by server 2 leave the port up', { timeout: 20_000 }, async () => {
  appendFileSync(accessLog, [
    poll({ client: '10.100.0.1' }), // an ordinary device
    poll({ server: 'server1' }), // the test appliance, still served by server 1
    poll({ status: 500 }), // server 2 failed
    poll({ path: '/health' }),
    'this is not json\n',
    Buffer.from([0, 1, 2, 0xff, 0xfe, 0x0a]),
    `${JSON.stringify({ filler: 'z'.repeat(200_000) })}\n`, // over the 64 KiB line cap
    '{"time": "yesterday"}\n',
  ].join(''));
  await sleep(QUIET_MS);
  assert.equal(await portState('b'), 'up');
  const t = await trigger('to-server2');
  assert.equal(t.state, 'armed');
  assert.equal(t.tail!.malformed, 3, 'not json, binary, oversized');
  assert.equal(t.tail!.invalid, 1, 'JSON but no history record');
  assert.ok(!router.events().some((e) => e.event === 'trigger.fired'));
});

test('the matching line blocks the port within 500 ms, once, and the log tells the latency', { timeout: 20_000 }, async () => {
  const written = Date.now();
  appendFileSync(accessLog, poll({ time: written }));
  const blocked = await waitFor('port b blocked', async () => {
    const ports = await router.api<PortJson[]>('GET', '/v1/ports');
    return ports.find((p) => p.name === 'b')!.state === 'blocked' ? Date.now() : undefined;
  }, 2000, 5);
  assert.equal(await portState('b'), 'blocked');
  assert.equal(await portState('a'), 'up');

  const events = router.events();
  const fired = events.filter((e) => e.event === 'trigger.fired');
  assert.equal(fired.length, 1);
  const f = fired[0]!;
  assert.equal(f.trigger, 'to-server2');
  assert.equal(f.port, 'b');
  assert.equal(f.historyTime, written);
  const portBlocked = events.find((e) => e.event === 'port.blocked' && e.port === 'b')!;
  const logLatency = portBlocked.time - written;
  console.log(`# history line → port blocked: ${f.latencyMs} ms (trigger.fired latencyMs), ${logLatency} ms (port.blocked log time − history time), ${blocked - written} ms (seen by polling the API)`);
  assert.ok((f.latencyMs as number) < 500, `latency ${f.latencyMs} ms`);
  assert.ok(logLatency < 500, `log latency ${logLatency} ms`);
  // Routes through the port are gone with it (the connected route of b).
  assert.ok(events.some((e) => e.event === 'route.withdrawn' && e.prefix === '10.0.2.0/24'));

  const listed = await router.cli('trigger', 'list');
  assert.match(listed, /to-server2\s+fired\s+block\s+b\b/);
  assert.match(listed, new RegExp(`\\b${f.latencyMs} ms\\b`));
  const t = (JSON.parse(await router.cli('--json', 'trigger', 'list')) as TriggerJson[]).find((x) => x.name === 'to-server2')!;
  assert.equal(t.state, 'fired');
  assert.equal(t.latencyMs, f.latencyMs);
  assert.equal(t.matched!.client, TEST_APPLIANCE);
  assert.equal(t.matched!.via, 'file');
});

test('a second matching line does nothing', { timeout: 20_000 }, async () => {
  await router.cli('port', 'unblock', 'b');
  assert.equal(await portState('b'), 'up');
  appendFileSync(accessLog, poll());
  await sleep(QUIET_MS);
  assert.equal(await portState('b'), 'up');
  assert.equal(router.events().filter((e) => e.event === 'trigger.fired').length, 1);
  assert.equal((await trigger('to-server2')).state, 'fired');
});

test('a trigger added at run time with the CLI, then cancelled, never fires', { timeout: 30_000 }, async () => {
  const added = await router.cli('trigger', 'add', 'late', '--client', LATE_CLIENT, '--server', 'server2', '--path', '/poll', '--file', accessLog, '--port', 'a');
  assert.match(added, /trigger late armed: block port a/);
  await waitFor('late to follow the log', async () => (await trigger('late')).tail?.following, 2000);
  assert.match(await router.cli('trigger', 'list'), /late\s+armed\s+block\s+a\b/);

  // Mistakes: exit status 2 for bad arguments, 1 with the daemon's reason otherwise.
  const dup = await cliStatus('trigger', 'add', 'late', '--client', LATE_CLIENT, '--api', '--port', 'a');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);
  const badPort = await cliStatus('trigger', 'add', 'x', '--client', LATE_CLIENT, '--api', '--port', 'nope');
  assert.equal(badPort.code, 1);
  assert.match(badPort.stderr, /port: unknown port "nope"/);
  const badClient = await cliStatus('trigger', 'add', 'x', '--client', '192.0.2', '--api', '--port', 'a');
  assert.equal(badClient.code, 2);
  const noSource = await cliStatus('trigger', 'add', 'x', '--client', LATE_CLIENT, '--port', 'a');
  assert.equal(noSource.code, 2);
  assert.match(noSource.stderr, /--file/);

  assert.match(await router.cli('trigger', 'cancel', 'late'), /trigger late cancelled/);
  const again = await cliStatus('trigger', 'cancel', 'late');
  assert.equal(again.code, 1);
  assert.match(again.stderr, /cancelled, not armed/);
  const unknown = await cliStatus('trigger', 'cancel', 'ghost');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no trigger named "ghost"/);

  appendFileSync(accessLog, poll({ client: LATE_CLIENT }));
  await sleep(QUIET_MS);
  assert.equal(await portState('a'), 'up');
  const late = await trigger('late');
  assert.equal(late.state, 'cancelled');
  assert.equal(late.firedAt, null);
  assert.ok(router.events().some((e) => e.event === 'trigger.cancelled' && e.trigger === 'late'));
});

test('history pushed through the API (tunroute history post) fires an API trigger', { timeout: 20_000 }, async () => {
  const other = await router.cli('history', 'post', poll({ client: PUSHED_CLIENT, server: 'server1' }).trim());
  assert.match(other, /accepted 1\nno trigger fired/);
  // The file trigger's client pushed through the API: to-server2 fired already, and takes file lines only.
  assert.match(await router.cli('history', 'post', poll().trim()), /no trigger fired/);
  const bad = await cliStatus('history', 'post', '{"client": "192.0.2.8"}');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /not a history record: time/);
  const notJson = await cliStatus('history', 'post', '{oops');
  assert.equal(notJson.code, 2);

  const t0 = Date.now();
  const r = JSON.parse(await router.cli('--json', 'history', 'post', JSON.stringify([{ nope: 1 }, JSON.parse(poll({ client: PUSHED_CLIENT, time: t0 }))]))) as
    { accepted: number; rejected: { index: number }[]; fired: string[] };
  assert.deepEqual(r.fired, ['pushed']);
  assert.equal(r.accepted, 1);
  assert.deepEqual(r.rejected.map((x) => x.index), [0]);
  assert.equal(await portState('a'), 'blocked');
  const t = await trigger('pushed');
  assert.equal(t.state, 'fired');
  assert.equal(t.matched!.via, 'api');
  console.log(`# pushed history → port blocked: ${t.latencyMs} ms (includes one CLI start-up)`);
});

test('the daemon stops promptly with its tails open (SIGTERM)', { timeout: 20_000 }, async () => {
  await router.cli('trigger', 'add', 'open-tail', '--client', LATE_CLIENT, '--file', join(lab.dir, 'never.jsonl'), '--port', 'b');
  const started = Date.now();
  await router.stop('SIGTERM', 3000);
  const took = Date.now() - started;
  assert.equal(router.proc!.exitCode, 0, `exit ${router.proc!.exitCode} / ${router.proc!.signalCode}`);
  assert.ok(took < 2000, `stopped in ${took} ms`);
  assert.ok(router.events().some((e) => e.event === 'router.stopped'));
});
