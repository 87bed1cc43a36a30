// A token bucket on the monotonic clock: `rate` per second sustained, up to
// `burst` at once (RFC 1812 §4.3.2.8: timer-based limiting of what the
// router sends in answer to others' packets). No allocation per take().
export interface RateLimit {
  /** Per second, sustained. */
  rate: number;
  /** Allowed in a burst. */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last = performance.now();

  constructor(private limit: RateLimit) {
    this.tokens = limit.burst;
  }

  /** A new rate and burst (a reload); tokens already saved stay, up to the new burst. */
  setLimit(limit: RateLimit): void {
    this.limit = limit;
    this.tokens = Math.min(this.tokens, limit.burst);
  }

  /** One token if there is one. */
  take(): boolean {
    const now = performance.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) * this.limit.rate) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
