// A Clock whose time moves only when a test says so: timers fire in time
// order, exactly when due, and nothing ever waits.
import type { Clock } from '../../src/control/clock.js';

export class FakeClock implements Clock {
  t = 1_000_000;
  private seq = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  rnd = 0.5;
  now(): number { return this.t; }
  setTimer(ms: number, fn: () => void): number {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimer(h: unknown): void { this.timers.delete(h as number); }
  random(): number { return this.rnd; }
  /** Run every timer due up to now + ms, in time order, moving the clock to each. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}
