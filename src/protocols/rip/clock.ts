// Time and randomness for RIP, injected so that its table and timers can be
// tested with a fake clock (exact timings, no waiting, no flakiness).
export type TimerHandle = unknown;

export interface RipClock {
  /** Milliseconds, monotonic enough for timers (epoch ms in the daemon). */
  now(): number;
  setTimer(ms: number, fn: () => void): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1): timer jitter (RFC 2453 §3.8, §3.10.1). */
  random(): number;
}

export const systemClock: RipClock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms));
    // Timers must not keep a stopping daemon (or a test) alive.
    t.unref();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  random: () => Math.random(),
};
