// A token bucket: `rate` per second sustained, up to `burst` at once (RFC
// 1812 §4.3.2.8: timer-based limiting of what the router sends in answer to
// others' packets). No allocation per take(): the time comes from the batch
// clock, and the fractional state lives in a Float64Array (a double stored in
// an object field may be boxed on every store).
import type { BatchClock } from './batch-clock.js';

export interface RateLimit {
  /** Per second, sustained. */
  rate: number;
  /** Allowed in a burst. */
  burst: number;
}

/**
 * One of `parts` equal shares of a limit, for buckets that together must not
 * exceed it (each forwarding thread has its own). A share's burst is at
 * least 1, or it could never send.
 */
export function shareOf(limit: RateLimit, parts: number): RateLimit {
  return parts <= 1 ? limit : { rate: limit.rate / parts, burst: Math.max(1, limit.burst / parts) };
}

const TOKENS = 0;
const LAST = 1;

export class TokenBucket {
  private readonly state = new Float64Array(2);

  constructor(private limit: RateLimit, private readonly clock: BatchClock) {
    this.state[TOKENS] = limit.burst;
    this.state[LAST] = clock.now;
  }

  /** A new rate and burst (a reload); tokens already saved stay, up to the new burst. */
  setLimit(limit: RateLimit): void {
    this.limit = limit;
    this.state[TOKENS] = Math.min(this.state[TOKENS]!, limit.burst);
  }

  /** One token if there is one. */
  take(): boolean {
    const s = this.state;
    const now = this.clock.now;
    const tokens = Math.min(this.limit.burst, s[TOKENS]! + ((now - s[LAST]!) * this.limit.rate) / 1000);
    s[LAST] = now;
    if (tokens < 1) {
      s[TOKENS] = tokens;
      return false;
    }
    s[TOKENS] = tokens - 1;
    return true;
  }
}
