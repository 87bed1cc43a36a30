// A rehearsal's result without a lab, for the tests of what is made of it
// (report, sweep table): polls summed up by the real aggregator, the rest
// as a run of the built-in lab would have it.
import { PollAggregator } from '../../src/hosts/aggregation.js';
import type { PollRecord } from '../../src/hosts/poller.js';
import type { RehearsalResult } from '../../src/testbed/rehearsal.js';

const T0 = 1_800_000_000_000;

/** A run of `polls` polls over `seconds`, switching to server2 at the middle, with events 1 ms apart at the switch. */
export function rehearsalResult(cutover: 'block' | 'drain', polls: number, seconds: number): RehearsalResult {
  const switchAt = T0 + (seconds * 1000) / 2;
  const agg = new PollAggregator({ marks: { switch: switchAt } });
  const zoom = new PollAggregator({ bucketMs: 20 });
  for (let i = 0; i < polls; i++) {
    const t = T0 + Math.floor((i * seconds * 1000) / polls);
    const lost = cutover === 'block' && t >= switchAt - 50 && t < switchAt;
    const r: PollRecord = { t, device: `dev-${i}`, source: '10.64.0.1', server: lost ? null : t < switchAt ? 'server1' : 'server2', status: lost ? null : 200, latencyMs: lost ? 2000 : 50, error: lost ? 'timeout' : null };
    agg.add(r);
    if (t >= switchAt - 1000 && t < switchAt + 2000) zoom.add(r);
  }
  const summary = agg.summary();
  const events = ['test appliance sends its first poll', 'server2 takes the test appliance\'s poll', 'r1\'s trigger fires', 'r1 starts draining port r2', 'r1 changes its route to 1.1.1.1: via r3', 'first fleet poll answered by server2'];
  return {
    options: { lab: { kind: 'built-in', embodiment: '1', routing: 'rip', serverDelayMs: 50 }, cutover, fleetSize: polls, pollIntervalMs: seconds * 1000, day: true, warmupMs: 0, afterMs: 0, dir: '/tmp' },
    lab: { kind: 'built-in', name: 'embodiment 1 (rip routing)', file: null, configs: [{ name: 'r1', file: '/tmp/r1.json', text: '{ "router": "r1" }' }], service: '1.1.1.1', servers: { from: 'server1', to: 'server2' }, cutover: { router: 'r1', port: 'r2' }, fallback: { router: 'r1', oldPort: 'r2' } },
    version: { tunroute: '0.1.0', commit: 'abc1234', node: 'v20' },
    startedAt: T0 - 2000,
    timeline: [{ t: T0 - 2000, what: 'rehearsal started', source: 'demo' }, ...events.map((what, i) => ({ t: switchAt - 60 + (i < 4 ? i : 57 + i), what, source: 'r1' }))],
    moments: { fleetStarted: T0, fleetEnded: T0 + seconds * 1000, testPollSent: null, historySeen: null, triggerFired: null, switched: switchAt, portBlocked: null, r1RouteChanged: switchAt, firstFleetOnServer2: switchAt + 50, lastFleetOnServer1: switchAt + 40 },
    metrics: {
      fleetPolls: summary.total, expectedPolls: polls, failedPolls: summary.failed, longestGapMs: summary.longestGap?.ms ?? 0, blockToRouteChangeMs: 1, blockToFirstServer2Ms: 50, historyToBlockMs: 60,
      pollsPerSecond: polls / seconds, latencyP50Ms: 50, latencyP99Ms: 50, lostInFlight: summary.failed, lostAfterSwitch: 0, sentAfterSwitch: summary.after.switch!.total, answeredByNewAfterSwitch: summary.after.switch!.byServer.server2 ?? 0, notSent: 0, fleetLoopDelayMaxMs: 12,
    },
    summary,
    zoom: zoom.summary(),
    testPolls: [],
    routerEvents: {},
    accessLogs: { server1: { lines: polls / 2, files: 3 }, server2: { lines: polls / 2, files: 2 } },
    routerStats: { r1: { stats: { flows: { capacity: 262144, live: 10, evictedLive: 0, untracked: 0 } }, nat: null } },
    costs: { windowS: seconds, processes: [{ name: 'fleet', role: 'fleet', pid: null, userS: 1, sysS: 1, cpuS: 2, peakRssMb: 120, cpuSPer1000Polls: 0.1 }], machine: { user: 1, system: 1, softirq: 0, irq: 0, idle: 1, iowait: 0, steal: 0, cpus: 2 } },
    checks: [{ name: 'drain lost no poll', ok: true, detail: '0 failed polls' }],
    ok: true,
    files: { fleetRecords: `fleet-${cutover}.jsonl`, testRecords: `test-${cutover}.jsonl`, fleetStatus: `fleet-${cutover}.status.json` },
  };
}
