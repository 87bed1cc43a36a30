// The rehearsal at the shape of the real fleet, scaled down to fit CI:
// 50,000 distinct appliance addresses, each polling once in a day compressed
// into one minute (~830 polls/s), the drain cut-over at mid-day, no poll
// lost, every appliance answered by server 2 after the switch, no drain
// flow table entry evicted live or left untracked; the report built by
// streaming stays small. And the same rehearsal over a lab from a
// topology file (tunroute with TUN ports only), hard block.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { rehearse } from '../../src/testbed/rehearsal.js';
import { reportHtml } from '../../src/testbed/report.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-scale-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TUN_ONLY = new URL('../../../topologies/tun-only/tun-only.clab.yml', import.meta.url).pathname;

test('50,000 appliances, each polling once in a day of one minute: the drain at mid-day loses no poll', { timeout: 150_000 }, async () => {
  const phases: string[] = [];
  const r = await rehearse({
    lab: { kind: 'built-in', embodiment: '1', routing: 'rip', serverDelayMs: 50 },
    cutover: 'drain', fleetSize: 50_000, pollIntervalMs: 60_000, day: true, warmupMs: 0, afterMs: 0, dir,
    progress: (p) => {
      if (phases.at(-1) !== p.phase) phases.push(p.phase);
    },
  });
  const m = r.metrics;
  console.log(`# 50,000 appliances in a 1-minute day: ${m.fleetPolls} polls at ${m.pollsPerSecond.toFixed(0)}/s, ${m.failedPolls} failed, `
    + `p50 ${m.latencyP50Ms} ms p99 ${m.latencyP99Ms} ms, ${m.answeredByNewAfterSwitch}/${m.sentAfterSwitch} after the switch on server 2; `
    + `CPU s per 1,000 polls: ${r.costs.processes.map((p) => `${p.name} ${p.cpuSPer1000Polls}`).join(', ')}`);
  // A failure names what the machine was doing: this rate needs about half of a 2-CPU machine.
  const mc = r.costs.machine;
  const ours = r.costs.processes.reduce((a, p) => a + p.cpuS, 0);
  const context = `(the rehearsal used ${ours.toFixed(0)} CPU s, other work on the machine ${Math.max(0, mc.user + mc.system + mc.softirq - ours).toFixed(0)} CPU s, idle ${mc.idle.toFixed(0)} s, in ${r.costs.windowS} s; `
    + `fleet stall ${m.fleetLoopDelayMaxMs} ms; errors ${JSON.stringify(r.summary.errors)})`;
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail} ${context}`);
  assert.equal(m.fleetPolls, 50_000);
  assert.equal(m.failedPolls, 0);
  // Progress from the lab coming up to its going down, every phase in turn.
  assert.deepEqual(phases, ['lab up', 'first half of the day', 'cut-over', 'second half of the day', 'analysis', 'lab down']);
  // The cut-over at mid-day: about half the day's polls came after it, all to server 2.
  assert.ok(m.sentAfterSwitch > 15_000 && m.sentAfterSwitch < 35_000, `${m.sentAfterSwitch} polls after the switch`);
  assert.equal(m.answeredByNewAfterSwitch, m.sentAfterSwitch);
  // The drain flow tables held every flow: none evicted live (it would lose its pin), none left untracked (report.json's routerStats).
  for (const [name, v] of Object.entries(r.routerStats)) {
    const flows = (v as { stats: { flows?: { inserted: number; evictedLive: number; untracked: number } } }).stats.flows;
    assert.ok(flows, `${name}: no flow table counters in the report (${JSON.stringify(v).slice(0, 200)})`);
    assert.deepEqual({ evictedLive: flows.evictedLive, untracked: flows.untracked }, { evictedLive: 0, untracked: 0 }, `${name}'s drain flow table`);
  }
  assert.ok((r.routerStats.r1 as { stats: { flows: { inserted: number } } }).stats.flows.inserted >= 50_000, 'r1 tracked every poll\'s flow');
  // Every history line: one per poll on the two servers, plus the test appliance's (and the lab's own check that the service answers).
  const lines = r.accessLogs.server1!.lines + r.accessLogs.server2!.lines - 50_000 - r.testPolls.length;
  assert.ok(lines >= 0 && lines <= 3, `${lines} history lines besides the polls`);
  // Streaming aggregation: a series, not records; the report stays small.
  assert.ok(r.summary.buckets.length <= 2000);
  const json = JSON.stringify(r).length;
  const html = reportHtml([r]).length;
  assert.ok(json < 2e6, `report.json ${json} bytes`);
  assert.ok(html < 200e3, `report.html ${html} bytes`);
  // Every process measured.
  assert.deepEqual(r.costs.processes.map((p) => p.name).sort(), ['fleet', 'r1', 'r2', 'r3', 'server1', 'server2', 'tu']);
  assert.ok(r.costs.processes.every((p) => p.peakRssMb > 0 && p.cpuS > 0));
});

test('a lab from a topology file (tunroute with TUN ports only): the hard block loses only the polls in flight', { timeout: 90_000 }, async () => {
  const r = await rehearse({ lab: { kind: 'topology', file: TUN_ONLY }, cutover: 'block', fleetSize: 2000, pollIntervalMs: 10_000, day: true, warmupMs: 0, afterMs: 0, dir });
  console.log(`# tun-only topology, block: ${r.metrics.fleetPolls} polls, ${r.metrics.failedPolls} failed (${r.metrics.lostInFlight} in flight), switch → first server 2 answer ${r.metrics.blockToFirstServer2Ms} ms`);
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  assert.equal(r.lab.kind, 'topology');
  assert.deepEqual([r.lab.cutover, r.lab.fallback], [{ router: 'r1', port: 's1' }, { router: 'r1', oldPort: 's1', source: 'log' }]);
  assert.ok(r.lab.configs.some((c) => c.name === 'r1' && c.text.includes('"ts1"')), 'the router config is in the report');
  assert.equal(r.metrics.fleetPolls, 2000);
});
