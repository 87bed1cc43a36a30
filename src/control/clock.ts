// Time, timers and randomness for the control plane, injected so that
// protocol state machines can be tested with a fake clock (exact timings, no
// waiting, no flakiness) and run in the daemon on real timers.
import { performance } from 'node:perf_hooks';

export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds, monotonic (may be fractional); in the daemon, epoch-based. */
  now(): number;
  /** Call `fn` once after `ms`; timers never keep a stopping process alive. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1): timer jitter. */
  random(): number;
}

/** Epoch milliseconds that never go back (wall-clock steps do not move timers). */
const monotonicNow = (): number => performance.timeOrigin + performance.now();

export const systemClock: Clock = {
  now: monotonicNow,
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};
