// What each process of a rehearsal cost: CPU seconds (user and kernel) and
// peak resident memory, read from /proc; and the machine's CPU split
// (user, system, softirq, idle, steal) from /proc/stat, because network work
// done in softirq context is charged to no process.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let ticks: number | undefined;
/** Clock ticks per second of /proc's CPU times (USER_HZ, nearly always 100). */
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface ProcSample {
  /** CPU seconds in user space and in the kernel, since the process started. */
  userS: number;
  sysS: number;
  /** Resident memory now and at its peak (VmHWM), MB. */
  rssMb: number;
  peakRssMb: number;
}

/** One process's counters, or null when it is gone. */
export function readProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
    const hz = clockTicks();
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the name.
    return { userS: Number(f[11]) / hz, sysS: Number(f[12]) / hz, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

export interface SystemCpu {
  /** CPU seconds summed over all CPUs, by kind. */
  user: number;
  system: number;
  softirq: number;
  irq: number;
  idle: number;
  iowait: number;
  steal: number;
}

export function readSystemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.split(/\s+/).slice(1).map((n) => Number(n) / clockTicks());
  return { user: user! + nice!, system: system!, softirq: softirq!, irq: irq!, idle: idle!, iowait: iowait!, steal: steal ?? 0 };
}

function diffCpu(a: SystemCpu, b: SystemCpu): SystemCpu {
  const out = {} as SystemCpu;
  for (const k of Object.keys(a) as (keyof SystemCpu)[]) out[k] = Math.round((b[k] - a[k]) * 100) / 100;
  return out;
}

export interface ProcessCost {
  name: string;
  /** What it is: router, server, fleet, test appliance. */
  role: string;
  pid: number | null;
  /** CPU seconds over the measured window. */
  userS: number;
  sysS: number;
  cpuS: number;
  /** Peak resident memory over the process's life, MB. */
  peakRssMb: number;
  /** CPU seconds per 1,000 fleet polls (filled in by the caller who knows the polls). */
  cpuSPer1000Polls: number | null;
}

export interface CostReport {
  windowS: number;
  processes: ProcessCost[];
  /** The whole machine over the window (all CPUs, other users of the machine included). */
  machine: SystemCpu & { cpus: number };
}

interface Watched {
  name: string;
  role: string;
  pid: () => number | undefined;
  first: ProcSample | null;
  last: ProcSample | null;
}

/**
 * Watches named processes between start() and finish(): CPU over the
 * window and peak memory. sample() records the latest values, so a process
 * that exits before finish() is still counted up to its last sample.
 */
export class ProcessMeter {
  private readonly watched: Watched[] = [];
  private startedAt = 0;
  private cpu0: SystemCpu | undefined;
  private cpuLast: SystemCpu | undefined;
  private lastAt = 0;

  add(name: string, role: string, pid: () => number | undefined): void {
    const w: Watched = { name, role, pid, first: null, last: null };
    if (this.cpu0) w.first = w.last = this.read(w);
    this.watched.push(w);
  }

  private read(w: Watched): ProcSample | null {
    const pid = w.pid();
    return pid === undefined ? null : readProc(pid);
  }

  start(): void {
    this.startedAt = this.lastAt = Date.now();
    this.cpu0 = this.cpuLast = readSystemCpu();
    for (const w of this.watched) w.first = w.last = this.read(w);
  }

  /** Take the current values (call before a watched process is stopped). */
  sample(): void {
    this.lastAt = Date.now();
    this.cpuLast = readSystemCpu();
    for (const w of this.watched) {
      const s = this.read(w);
      if (s) {
        w.first ??= s;
        w.last = s;
      }
    }
  }

  /** CPU seconds used by each process so far in the window (for a live display). */
  current(): { name: string; cpuS: number }[] {
    return this.watched.map((w) => ({ name: w.name, cpuS: w.first && w.last ? w.last.userS + w.last.sysS - w.first.userS - w.first.sysS : 0 }));
  }

  finish(): CostReport {
    this.sample();
    const r2 = (n: number) => Math.round(n * 100) / 100;
    const processes = this.watched.map((w): ProcessCost => {
      const userS = w.first && w.last ? r2(w.last.userS - w.first.userS) : 0;
      const sysS = w.first && w.last ? r2(w.last.sysS - w.first.sysS) : 0;
      return { name: w.name, role: w.role, pid: w.pid() ?? null, userS, sysS, cpuS: r2(userS + sysS), peakRssMb: Math.round(w.last?.peakRssMb ?? 0), cpuSPer1000Polls: null };
    });
    const cpus = Number(readFileSync('/proc/stat', 'utf8').match(/^cpu\d+ /gm)?.length ?? 1);
    return { windowS: r2((this.lastAt - this.startedAt) / 1000), processes, machine: { ...diffCpu(this.cpu0 ?? this.cpuLast!, this.cpuLast!), cpus } };
  }
}

/** Least-squares slope of y over x (how fast a sampled RSS or fd count grows). */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}
