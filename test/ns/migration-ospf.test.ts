// The migration over OSPF (`npm run demo -- --routing ospf`): R1, R2 and R3
// in area 0 with BFD, the service as AS-external routes. Full rehearsals of
// both embodiments with a small fleet, and the drain losing no poll at
// ≥ 200 fresh-connection polls/s (a draining port leaves OSPF's SPF at once).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rehearse, type RehearsalOptions } from '../../src/testbed/rehearsal.js';
import type { LabSpec } from '../../src/testbed/rehearsal-lab.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-migration-ospf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ospfLab = (embodiment: '1' | '2' = '1', serverDelayMs = 0): LabSpec => ({ kind: 'built-in', embodiment, routing: 'ospf', serverDelayMs });
const small = (o: Partial<RehearsalOptions>): RehearsalOptions => ({
  lab: ospfLab(), cutover: 'block', fleetSize: 100, pollIntervalMs: 1000, day: false, warmupMs: 1000, afterMs: 3000, dir, ...o,
});

test('embodiments 1 and 2 over OSPF, hard block: the trigger fires on the history line; R1 falls back to R3; the fleet ends on server 2', { timeout: 240_000 }, async () => {
  for (const embodiment of ['1', '2'] as const) {
    const r = await rehearse(small({ lab: ospfLab(embodiment) }));
    console.log(`# OSPF, embodiment ${embodiment} block: ${r.metrics.fleetPolls} polls, ${r.metrics.failedPolls} failed, block→R1 route ${r.metrics.blockToRouteChangeMs} ms, ` +
      `block→first server-2 answer ${r.metrics.blockToFirstServer2Ms} ms`);
    for (const c of r.checks) assert.ok(c.ok, `embodiment ${embodiment}: ${c.name}: ${c.detail}`);
  }
});

test('OSPF, drain: no poll lost at ≥ 200 fresh-connection polls/s', { timeout: 240_000 }, async () => {
  const drain = await rehearse(small({ cutover: 'drain', lab: ospfLab('1', 50), fleetSize: 500, pollIntervalMs: 2000, warmupMs: 2000, afterMs: 4000 }));
  console.log(`# OSPF drain at ${drain.metrics.pollsPerSecond.toFixed(0)} polls/s: lost ${drain.metrics.failedPolls} of ${drain.metrics.fleetPolls} (longest gap ${drain.metrics.longestGapMs} ms)`);
  assert.ok(drain.metrics.pollsPerSecond >= 200, `${drain.metrics.pollsPerSecond} polls/s`);
  assert.equal(drain.metrics.failedPolls, 0);
  for (const c of drain.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
});
