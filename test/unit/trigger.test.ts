// History triggers without a daemon: matching rules, fire-once, cancel, a
// refused action, and the TriggerSet routing records from a real temp file
// and from the API to the right triggers (with a fake router).
import test from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrigger } from '../../src/config/migration-config.js';
import { parseHistoryRecord, type HistoryRecord } from '../../src/triggers/history.js';
import { OperationError } from '../../src/control/errors.js';
import { Trigger } from '../../src/triggers/trigger.js';
import { triggerJson } from '../../src/api/trigger-api.js';
import { TriggerSet } from '../../src/triggers/trigger-set.js';
import { sleep, waitFor } from '../../src/testbed/shell.js';

const tmp = mkdtempSync(join(tmpdir(), 'tunroute-trigger-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const PORTS = ['r1', 'r2', 'r3'];

/** The router as a trigger sees it: port actions that can refuse, and a log. */
function fakeRouter() {
  const blocked = new Set<string>();
  const actions: string[] = [];
  const events: Record<string, unknown>[] = [];
  return {
    blocked, actions, events,
    blockPort(name: string) {
      if (blocked.has(name)) throw new Error(`port "${name}" is already blocked`);
      blocked.add(name);
      actions.push(`block ${name}`);
    },
    drainPort(name: string) {
      if (blocked.has(name)) throw new Error(`port "${name}" is blocked`);
      blocked.add(name);
      actions.push(`drain ${name}`);
    },
    log: {
      info: (o: object) => void events.push({ level: 'info', ...o }),
      warn: (o: object) => void events.push({ level: 'warn', ...o }),
    },
  };
}

const config = (v: Record<string, unknown>) =>
  parseTrigger({ name: 't1', match: { client: '192.0.2.7' }, port: 'r1', ...v }, 'triggers[0]', PORTS);

const BASE = { time: Date.now(), client: '192.0.2.7', path: '/poll?device=dev-1', status: 200, server: 'server2', device: 'dev-1' };
function rec(over: Record<string, unknown> = {}): HistoryRecord {
  const p = parseHistoryRecord({ ...BASE, ...over });
  assert.ok(p.record, p.reason ?? '');
  return p.record;
}

test('matching: client always; server, status and path (a prefix) only when set', () => {
  const r = fakeRouter();
  const any = new Trigger(config({}), r);
  assert.ok(any.matches(rec()));
  assert.ok(any.matches(rec({ server: 'server1', status: 500, path: '/' })));
  assert.ok(!any.matches(rec({ client: '192.0.2.8' })));

  const strict = new Trigger(config({ match: { client: '192.0.2.7', server: 'server2', status: 200, path: '/poll' } }), r);
  assert.ok(strict.matches(rec()));
  assert.ok(strict.matches(rec({ path: '/poll' })));
  assert.ok(!strict.matches(rec({ client: '192.0.2.70' })));
  assert.ok(!strict.matches(rec({ server: 'server1' })));
  assert.ok(!strict.matches(rec({ server: 'server22' })));
  assert.ok(!strict.matches(rec({ status: 500 })));
  assert.ok(!strict.matches(rec({ status: 201 })));
  assert.ok(!strict.matches(rec({ path: '/' })));
  assert.ok(!strict.matches(rec({ path: '/pol' })));
  assert.ok(!strict.matches(rec({ path: '/other/poll' })));
});

test('fires once: one block, one log event with the latency, then nothing', () => {
  const r = fakeRouter();
  const t = new Trigger(config({ match: { client: '192.0.2.7', server: 'server2', status: 200 } }), r);
  assert.equal(t.offer(rec({ server: 'server1' }), 'api'), false);
  assert.equal(t.state, 'armed');
  const history = rec({ time: Date.now() - 40 });
  assert.equal(t.offer(history, 'api'), true);
  assert.equal(t.state, 'fired');
  assert.deepEqual(r.actions, ['block r1']);
  assert.equal(t.matched, history);
  assert.ok(t.latencyMs! >= 40 && t.latencyMs! < 1000, `latency ${t.latencyMs}`);
  assert.equal(t.offer(rec(), 'api'), false);
  t.fire(rec(), 'api');
  assert.deepEqual(r.actions, ['block r1'], 'no second action');
  const fired = r.events.filter((e) => e.event === 'trigger.fired');
  assert.equal(fired.length, 1);
  assert.deepEqual({ ...fired[0], latencyMs: 0 }, {
    level: 'info', event: 'trigger.fired', trigger: 't1', port: 'r1', action: 'block', historyTime: history.time, client: '192.0.2.7',
    server: 'server2', path: BASE.path, status: 200, via: 'api', latencyMs: 0,
  });
  assert.throws(() => t.cancel(), (e: unknown) => e instanceof OperationError && e.refusal === 'conflict');
  const j = triggerJson(t, new TriggerSet(r));
  assert.equal(j.state, 'fired');
  assert.equal(j.match.client, '192.0.2.7');
  assert.equal(j.matched?.server, 'server2');
  assert.equal(j.matched?.via, 'api');
});

test('drain action calls drainPort', () => {
  const r = fakeRouter();
  const t = new Trigger(config({ action: 'drain', port: 'r2' }), r);
  t.offer(rec(), 'api');
  assert.deepEqual(r.actions, ['drain r2']);
  assert.equal(t.state, 'fired');
});

test('cancel: never fires afterwards; one log event', () => {
  const r = fakeRouter();
  const t = new Trigger(config({}), r);
  t.cancel();
  assert.equal(t.state, 'cancelled');
  assert.equal(t.offer(rec(), 'api'), false);
  assert.deepEqual(r.actions, []);
  assert.deepEqual(r.events.map((e) => e.event), ['trigger.cancelled']);
  assert.throws(() => t.cancel(), /cancelled, not armed/);
});

test('a refused action leaves the trigger failed, with the message, logged once', () => {
  const r = fakeRouter();
  r.blocked.add('r1');
  const t = new Trigger(config({}), r);
  assert.equal(t.offer(rec(), 'api'), true);
  assert.equal(t.state, 'failed');
  assert.match(t.error!, /already blocked/);
  assert.equal(t.latencyMs, null);
  assert.equal(t.offer(rec(), 'api'), false);
  assert.deepEqual(r.events.map((e) => [e.level, e.event]), [['warn', 'trigger.failed']]);
});

test('a trigger listens only to its sources', () => {
  const r = fakeRouter();
  const fileOnly = new Trigger(config({ file: '/x/access.log' }), r);
  assert.equal(fileOnly.config.api, false, 'a file trigger does not take API lines unless asked');
  assert.equal(fileOnly.offer(rec(), 'api'), false);
  const apiOnly = new Trigger(config({}), r);
  assert.equal(apiOnly.offer(rec(), 'file'), false);
});

test('TriggerSet: one shared tail per file, records routed to the file\'s triggers, tail closed when done', async () => {
  const r = fakeRouter();
  const set = new TriggerSet(r, { baseDir: tmp });
  const a = join(tmp, 'a.jsonl');
  const b = join(tmp, 'b.jsonl');
  writeFileSync(a, `${JSON.stringify({ ...BASE, time: 1 })}\n`); // old evidence: before the start, not looked at
  writeFileSync(b, '');
  set.add(config({ name: 'on-a', file: 'a.jsonl', api: false, match: { client: '192.0.2.7', server: 'server2', status: 200 }, port: 'r1' }));
  set.add(config({ name: 'on-a-too', file: a, api: false, match: { client: '192.0.2.9' }, port: 'r3' }));
  set.add(config({ name: 'on-b', file: b, api: false, match: { client: '192.0.2.7' }, port: 'r2' }));
  assert.throws(() => set.add(config({ name: 'on-b' })), (e: unknown) => e instanceof OperationError && e.refusal === 'conflict');
  await set.start();
  try {
    assert.equal(set.list()[0]!.config.file, a, 'relative file resolved against baseDir');
    assert.ok(set.watchStats(a)?.following);
    assert.ok(set.watchStats(b)?.following);

    // Not for on-a: other server, other status, other client; junk; a JSON object that is no record.
    appendFileSync(a, [
      JSON.stringify({ ...BASE, server: 'server1' }), JSON.stringify({ ...BASE, status: 500 }),
      JSON.stringify({ ...BASE, client: '192.0.2.8' }), 'garbage', JSON.stringify({ hello: 1 }), '',
    ].join('\n'));
    await waitFor('5 lines read', () => (set.watchStats(a)?.lines ?? 0) >= 5, 2000);
    await sleep(50);
    assert.deepEqual(r.actions, []);
    assert.equal(set.watchStats(a)!.malformed, 1);
    assert.equal(set.watchStats(a)!.invalid, 1);
    assert.match(set.watchStats(a)!.lastInvalid!, /^time/);

    appendFileSync(a, `${JSON.stringify({ ...BASE, time: Date.now() })}\n`);
    await waitFor('on-a fired', () => set.get('on-a')!.state === 'fired', 2000);
    assert.deepEqual(r.actions, ['block r1'], 'only on-a: on-b watches another file');
    assert.ok(set.watchStats(a), 'a still tailed: on-a-too is armed');

    appendFileSync(a, `${JSON.stringify({ ...BASE, client: '192.0.2.9', time: Date.now() })}\n`);
    await waitFor('on-a-too fired', () => set.get('on-a-too')!.state === 'fired', 2000);
    assert.equal(set.watchStats(a), undefined, 'no armed trigger needs a: its tail is closed');
    assert.ok(r.events.some((e) => e.event === 'history.unwatched' && e.file === a));

    set.cancel('on-b');
    assert.equal(set.watchStats(b), undefined);
    appendFileSync(b, `${JSON.stringify(BASE)}\n`);
    await sleep(250);
    assert.deepEqual(r.actions, ['block r1', 'block r3']);
    assert.throws(() => set.cancel('nope'), (e: unknown) => e instanceof OperationError && e.refusal === 'not-found');
    assert.throws(() => set.cancel('on-b'), (e: unknown) => e instanceof OperationError && e.refusal === 'conflict');
  } finally {
    await set.stop();
  }
});

test('TriggerSet: API records go to API triggers only; bad records reported per index', async () => {
  const r = fakeRouter();
  const set = new TriggerSet(r);
  const f = join(tmp, 'c.jsonl');
  set.add(config({ name: 'api', api: true, match: { client: '192.0.2.7', status: 200 }, port: 'r1' }));
  set.add(config({ name: 'file', file: f, match: { client: '192.0.2.7' }, port: 'r2' }));
  set.add(config({ name: 'both', file: f, api: true, match: { client: '192.0.2.9' }, port: 'r3' }));
  await set.start();
  try {
    const first = set.offerFromApi([{ ...BASE, status: 500 }, { nope: true }, 'x']);
    assert.equal(first.accepted, 1);
    assert.deepEqual(first.rejected.map((x) => x.index), [1, 2]);
    assert.deepEqual(first.fired, []);
    const second = set.offerFromApi([BASE, { ...BASE, client: '192.0.2.9' }, BASE]);
    assert.deepEqual(second, { accepted: 3, rejected: [], fired: ['api', 'both'] });
    assert.deepEqual(r.actions, ['block r1', 'block r3']);
    assert.equal(set.get('file')!.state, 'armed', 'a file-only trigger ignores API lines');
    assert.equal(set.get('both')!.matchedVia, 'api');
  } finally {
    await set.stop();
  }
  // Stopped: added triggers no longer open tails.
  set.add(config({ name: 'late', file: f, port: 'r2' }));
  assert.equal(set.watchStats(f), undefined);
});

test('TriggerSet before start: triggers added at run time wait for start() to open their file', async () => {
  const r = fakeRouter();
  const set = new TriggerSet(r);
  const f = join(tmp, 'd.jsonl');
  set.add(config({ name: 'x', file: f, port: 'r1' }));
  assert.equal(set.watchStats(f), undefined);
  await set.start();
  try {
    assert.ok(set.watchStats(f), 'opened at start (waiting for the file)');
    assert.equal(set.watchStats(f)!.following, false);
    set.add(config({ name: 'y', file: f, match: { client: '192.0.2.9' }, port: 'r2' }));
    writeFileSync(f, `${JSON.stringify({ ...BASE, client: '192.0.2.9' })}\n`);
    await waitFor('y fired', () => set.get('y')!.state === 'fired', 2000);
    assert.equal(set.get('x')!.state, 'armed');
  } finally {
    await set.stop();
  }
});
