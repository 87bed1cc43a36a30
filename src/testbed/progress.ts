// Live progress of a long rehearsal, from the lab coming up to its going
// down: on a terminal one status line redrawn in place (phase; while the
// fleet polls, polls done of expected, rate, failures so far, time left;
// during the analysis, records summed up), with log lines printed above
// it; not on a terminal, plain lines — a status line every 10 s and at
// each change of phase.
import type { RehearsalProgress } from './rehearsal.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function left(msv: number): string {
  const s = Math.round(msv / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const ofTotal = (n: number, of: number | null) => (of ? `${int(n)} / ${int(of)} (${Math.floor((100 * n) / of)}%)` : int(n));

/**
 * One status line: while the fleet polls, e.g. "second half of the day |
 * polls 431,022 / 1,000,000 (43%) | 1,702/s | failed 0 | in flight 84 |
 * 5m41s left"; during the analysis "analysis | poll records summed up
 * 431,022 / 1,000,000 (43%) | 10m32s elapsed"; otherwise the phase and the
 * time, "lab up | 4s elapsed".
 */
export function progressLine(p: RehearsalProgress): string {
  const parts = [p.phase];
  const f = p.fleet;
  if (f) parts.push(`polls ${ofTotal(f.polls, f.expected)}`, `${int(f.ratePerS)}/s`, `failed ${int(f.failed)}`, `in flight ${int(f.inFlight)}`);
  if (p.records) parts.push(`poll records summed up ${ofTotal(p.records.read, p.records.of)}`);
  parts.push(f && f.remainingMs !== null ? `${left(f.remainingMs)} left` : `${left(p.elapsedMs)} elapsed`);
  return parts.join(' | ');
}

/** What the printer writes to: process.stderr, or any stream (a terminal when `isTTY`). */
export interface StatusStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export class ProgressPrinter {
  private readonly tty: boolean;
  private shown = '';
  private lastPlainAt = 0;
  private lastPhase = '';

  constructor(private readonly out: StatusStream = process.stderr, private readonly prefix = '', private readonly plainEveryMs = 10_000) {
    this.tty = Boolean(out.isTTY);
  }

  update(p: RehearsalProgress): void {
    const line = `${this.prefix}${progressLine(p)}`;
    if (this.tty) {
      const width = this.out.columns ? this.out.columns - 1 : 200;
      this.shown = line.length > width ? line.slice(0, width) : line;
      this.out.write(`\r${this.shown}\x1b[K`);
      return;
    }
    const now = Date.now();
    if (p.phase !== this.lastPhase || now - this.lastPlainAt >= this.plainEveryMs) {
      this.out.write(`${line}\n`);
      this.lastPlainAt = now;
      this.lastPhase = p.phase;
    }
  }

  /** A log line: above the status line on a terminal. */
  log(line: string): void {
    if (this.tty && this.shown) this.out.write(`\r\x1b[K${line}\n${this.shown}`);
    else this.out.write(`${line}\n`);
  }

  /** Leave the status line as it is and move below it. */
  done(): void {
    if (this.tty && this.shown) this.out.write('\n');
    this.shown = '';
  }
}
