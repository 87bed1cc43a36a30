// The rate sweep's table: one row per step, every CPU column in one unit
// (a share of one CPU; on a 2-CPU machine 200 % is all of it), idle
// included, and the header saying so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CostReport } from '../../src/testbed/proc-stats.js';
import { sweepText } from '../../src/testbed/sweep.js';
import { rehearsalResult } from './rehearsal-result.js';

/** A step of 20 s on a 2-CPU machine (40 CPU s): the fleet 6.6 CPU s, r1 4.2, other work 9.2, idle 14.4 (the rest iowait, steal). */
function costs(windowS = 20): CostReport {
  const p = (name: string, role: string, cpuS: number) => ({ name, role, pid: null, userS: cpuS, sysS: 0, cpuS, peakRssMb: 100, cpuSPer1000Polls: null });
  return {
    windowS,
    processes: [p('fleet', 'fleet', 6.6), p('r1', 'router', 4.2)],
    machine: { user: 14, system: 4, softirq: 2, irq: 0, idle: 14.4, iowait: 4, steal: 1.6, cpus: 2 },
  };
}

test('sweep table: each process, the other work and idle as a share of one CPU; the header says so', () => {
  const pass = { ...rehearsalResult('drain', 20_000, 20), costs: costs() };
  const fail = { ...rehearsalResult('drain', 40_000, 20), costs: costs(0), ok: false };
  const text = sweepText([{ targetRate: 1000, result: pass }, { targetRate: 2000, result: fail }]);
  const lines = text.split('\n');
  assert.equal(lines[0], 'Rate sweep: embodiment 1 (rip routing), drain cut-over, a day of 20 s per step');
  assert.match(lines[1]!, /every % column is a share of one CPU over the step: the machine has 2, so 200 % is all of it/);
  const cells = (line: string) => line.trim().split(/\s{2,}/);
  assert.deepEqual(cells(lines[2]!), ['target/s', 'achieved/s', 'polls', 'failed', 'p50 ms', 'p99 ms', 'fleet %', 'r1 %', 'others %', 'idle %', 'fleet stall ms', 'verdict']);
  // 6.6, 4.2, 20 − 10.8 and 14.4 CPU s of 20 s: 33, 21, 46 and 72 % of one CPU (idle is not 36 %, its share of the machine).
  assert.deepEqual(cells(lines[3]!), ['1,000', '1,000', '20,000', '0', '50.0', '50.0', '33', '21', '46', '72', '12', 'PASS']);
  // No window measured: no shares.
  assert.deepEqual(cells(lines[4]!).slice(6), ['—', '—', '—', '—', '12', 'FAIL']);
  assert.equal(lines.length, 5);
  assert.equal(sweepText([]), '');
});
