// The rate sweep's table: per step, the rate asked for and achieved, failed
// polls, latency, and each process's CPU, the other work's and the idle CPU,
// all as a share of one CPU (on a 2-CPU machine 200 % is all of it) —
// which process saturates first, and whether the machine had any CPU left.
import type { RehearsalResult } from './rehearsal.js';

export interface SweepStep {
  targetRate: number;
  result: RehearsalResult;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');

export function sweepText(steps: SweepStep[]): string {
  if (steps.length === 0) return '';
  const names = steps[0]!.result.costs.processes.map((p) => p.name);
  const head = ['target/s', 'achieved/s', 'polls', 'failed', 'p50 ms', 'p99 ms', ...names.map((n) => `${n} %`), 'others %', 'idle %', 'fleet stall ms', 'verdict'];
  const rows = steps.map(({ targetRate, result: r }) => {
    const c = r.costs;
    const cpu = (name: string) => {
      const p = c.processes.find((x) => x.name === name);
      return p && c.windowS > 0 ? String(Math.round((100 * p.cpuS) / c.windowS)) : '—';
    };
    const mc = c.machine;
    const ours = c.processes.reduce((a, p) => a + p.cpuS, 0);
    const others = Math.max(0, mc.user + mc.system + mc.softirq + mc.irq - ours);
    return [
      int(targetRate), int(r.metrics.pollsPerSecond), int(r.metrics.fleetPolls), int(r.metrics.failedPolls),
      r.metrics.latencyP50Ms?.toFixed(1) ?? '—', r.metrics.latencyP99Ms?.toFixed(1) ?? '—', ...names.map(cpu),
      c.windowS > 0 ? String(Math.round((100 * others) / c.windowS)) : '—',
      c.windowS > 0 ? String(Math.round((100 * mc.idle) / c.windowS)) : '—', String(r.metrics.fleetLoopDelayMaxMs ?? '—'), r.ok ? 'PASS' : 'FAIL',
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => c.padStart(widths[i]!)).join('  ')}`;
  const r0 = steps[0]!.result;
  return [
    `Rate sweep: ${r0.lab.name}, ${r0.options.cutover} cut-over, a day of ${Math.round(r0.options.pollIntervalMs / 1000)} s per step`,
    `  (every % column is a share of one CPU over the step: the machine has ${r0.costs.machine.cpus}, so ${100 * r0.costs.machine.cpus} % is all of it; "others" = CPU spent by anything else on the machine meanwhile, "idle" = CPU left unused)`,
    line(head),
    ...rows.map(line),
  ].join('\n');
}
