// The migration itself, end to end (issue: the migration, both
// embodiments): source-steered test traffic, the history-triggered block,
// full rehearsals of embodiments 1, 2 and 2-vip with a small fleet, and the
// drain cut-over losing no poll at ≥ 200 fresh-connection polls/s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rehearse, type RehearsalOptions } from '../../src/testbed/rehearsal.js';
import { FLEET_PREFIX, MigrationTestbed, SERVICE, TEST_APPLIANCE } from '../../src/testbed/migration.js';
import { readJsonLines } from '../../src/testbed/json-lines.js';
import { inNetns, waitFor } from '../../src/testbed/shell.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-migration-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const clients = (file: string) => new Set(readJsonLines<{ client: string }>(file).map((l) => l.client));

test('the test appliance reaches server 2 while the fleet stays on server 1 (access logs)', { timeout: 90_000 }, async () => {
  for (const embodiment of ['1', '2', '2-vip'] as const) {
    const tb = await MigrationTestbed.up({ embodiment, routing: 'static', trigger: false });
    try {
      const fleet = tb.lab.spawnTunroute(tb.ns.fleet, ['fleet', '--target', `http://${SERVICE}/`, '--prefix', FLEET_PREFIX, '--count', '20', '--interval', '500ms', '--quiet']);
      const probe = await inNetns(tb.ns.test, 'curl', ['-sS', '--max-time', '3', `http://${SERVICE}/poll?device=test-appliance`]);
      assert.equal((JSON.parse(probe.stdout) as { server: string }).server, 'server2', `embodiment ${embodiment}`);
      // Every appliance polls within a second or two; bounded, so a loaded machine does not fail it.
      await waitFor('20 fleet addresses in server 1\'s log', () => clients(tb.accessLog.server1).size >= 20, 15_000, 100).catch(() => undefined);
      fleet.kill('SIGTERM');
      const s1 = clients(tb.accessLog.server1);
      const s2 = clients(tb.accessLog.server2);
      assert.ok(!s1.has(TEST_APPLIANCE), `embodiment ${embodiment}: server 1 saw the test appliance`);
      assert.ok(s1.size >= 20, `embodiment ${embodiment}: server 1 saw ${s1.size} fleet addresses`);
      assert.deepEqual([...s2], [TEST_APPLIANCE], `embodiment ${embodiment}: server 2 saw only the test appliance`);
    } finally {
      await tb.down();
    }
  }
});

const builtIn = (embodiment: '1' | '2' | '2-vip' = '1', serverDelayMs = 0) => ({ kind: 'built-in' as const, embodiment, routing: 'rip' as const, serverDelayMs });
const small = (o: Partial<RehearsalOptions>): RehearsalOptions => ({
  lab: builtIn(), cutover: 'block', fleetSize: 100, pollIntervalMs: 1000, day: false, warmupMs: 1000, afterMs: 3000, dir, ...o,
});

test('embodiment 1, hard block: the trigger fires on the history line, not before; the fleet ends on server 2', { timeout: 120_000 }, async () => {
  const r = await rehearse(small({}));
  console.log(`# embodiment 1 block: ${r.metrics.fleetPolls} polls, ${r.metrics.failedPolls} failed, history→block ${r.metrics.historyToBlockMs} ms, block→R1 route ${r.metrics.blockToRouteChangeMs} ms, block→first server-2 answer ${r.metrics.blockToFirstServer2Ms} ms`);
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  // Not before: nothing fired while only server 1 lines existed.
  assert.ok(r.moments.triggerFired! >= r.moments.historySeen!);
  assert.ok(r.moments.historySeen! >= r.moments.testPollSent!);
});

test('embodiment 2 and its virtual-address variant, full rehearsals', { timeout: 240_000 }, async () => {
  for (const embodiment of ['2', '2-vip'] as const) {
    const r = await rehearse(small({ lab: builtIn(embodiment) }));
    console.log(`# embodiment ${embodiment} block: ${r.metrics.fleetPolls} polls, ${r.metrics.failedPolls} failed, block→first server-2 answer ${r.metrics.blockToFirstServer2Ms} ms`);
    for (const c of r.checks) assert.ok(c.ok, `embodiment ${embodiment}: ${c.name}: ${c.detail}`);
  }
});

test('drain loses no poll at ≥ 200 fresh-connection polls/s; the hard block is measured beside it', { timeout: 240_000 }, async () => {
  // 50 ms of server think time: about a dozen polls are in flight at the cut-over.
  const load = { lab: builtIn('1', 50), fleetSize: 500, pollIntervalMs: 2000, warmupMs: 2000, afterMs: 4000 };
  const hard = await rehearse(small({ cutover: 'block', ...load }));
  const drain = await rehearse(small({ cutover: 'drain', ...load }));
  console.log(`# at ${drain.metrics.pollsPerSecond.toFixed(0)} polls/s: hard block lost ${hard.metrics.failedPolls} of ${hard.metrics.fleetPolls} polls (longest gap ${hard.metrics.longestGapMs} ms); ` +
    `drain lost ${drain.metrics.failedPolls} of ${drain.metrics.fleetPolls} (longest gap ${drain.metrics.longestGapMs} ms)`);
  assert.ok(drain.metrics.pollsPerSecond >= 200, `${drain.metrics.pollsPerSecond} polls/s`);
  assert.equal(drain.metrics.failedPolls, 0);
  for (const c of drain.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
});
