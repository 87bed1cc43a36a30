// One log line per route change while changes are few; when a flood comes
// (a neighbour advertising thousands of routes, a port with a big table
// going down) the lines beyond a budget per window are counted instead,
// and one summary line per window says how many were left out — so the
// log's size follows the rate of events, not the size of the table.
import type { Clock, TimerHandle } from '../control/clock.js';

export type RouteChangeKind = 'installed' | 'changed' | 'withdrawn';

export class LogBudget {
  private windowStart = -Infinity;
  private used = 0;
  private timer: TimerHandle | undefined;
  private readonly left = { installed: 0, changed: 0, withdrawn: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly perWindow: number,
    private readonly windowMs: number,
    private readonly summary: (left: Readonly<Record<RouteChangeKind, number>>, windowMs: number) => void,
  ) {}

  /** Whether a line about this change may be written now; if not, it is counted for the summary. */
  take(kind: RouteChangeKind): boolean {
    const now = this.clock.now();
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.perWindow) {
      this.used++;
      return true;
    }
    this.left[kind]++;
    this.timer ??= this.clock.setTimer(this.windowStart + this.windowMs - now, () => this.flush());
    return false;
  }

  /** Say what was left out (the window's end; also on stop). */
  flush(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    if (this.left.installed + this.left.changed + this.left.withdrawn === 0) return;
    this.summary({ ...this.left }, this.windowMs);
    this.left.installed = this.left.changed = this.left.withdrawn = 0;
  }
}
