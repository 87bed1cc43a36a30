// Live progress of a long rehearsal: on a terminal one status line redrawn
// in place (phase, polls done of expected, rate, failures so far, time
// left), with log lines printed above it; not on a terminal, plain lines —
// a status line every 10 s and at each change of phase.
import type { RehearsalProgress } from './rehearsal.js';

const int = (n: number) => Math.round(n).toLocaleString('en-US');

function left(msv: number): string {
  const s = Math.round(msv / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One status line, e.g. "second half of the day | polls 431,022 / 1,000,000 (43%) | 1,702/s | failed 0 | in flight 84 | 5m41s left". */
export function progressLine(p: RehearsalProgress): string {
  const polls = p.expected ? `polls ${int(p.polls)} / ${int(p.expected)} (${Math.floor((100 * p.polls) / p.expected)}%)` : `polls ${int(p.polls)}`;
  const parts = [p.phase, polls, `${int(p.ratePerS)}/s`, `failed ${int(p.failed)}`, `in flight ${int(p.inFlight)}`];
  parts.push(p.remainingMs !== null ? `${left(p.remainingMs)} left` : `${left(p.elapsedMs)} elapsed`);
  return parts.join(' | ');
}

export class ProgressPrinter {
  private readonly tty: boolean;
  private shown = '';
  private lastPlainAt = 0;
  private lastPhase = '';

  constructor(private readonly out: NodeJS.WriteStream = process.stderr, private readonly prefix = '', private readonly plainEveryMs = 10_000) {
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
