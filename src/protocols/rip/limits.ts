// When a limit was reached and when it cleared, so each is one log event
// however many entries or packets it refuses: reached at the first refusal,
// cleared once nothing has been refused for a quiet time (the route
// timeout: by then whatever the limit kept out would have expired anyway).
export class LimitWatch {
  /** Reached and not cleared yet. */
  hit = false;
  /** Refused since it was reached. */
  refused = 0;
  /** Refused in all. */
  total = 0;
  private lastRefusedAt = -Infinity;

  /** One refusal at `now`; true when it is the first since the limit was clear (say so). */
  refuse(now: number): boolean {
    this.total++;
    this.lastRefusedAt = now;
    if (this.hit) {
      this.refused++;
      return false;
    }
    this.hit = true;
    this.refused = 1;
    return true;
  }

  /** True when the limit was reached and nothing was refused for `quietMs` (say so: it is clear now). */
  clears(now: number, quietMs: number): boolean {
    if (!this.hit || now - this.lastRefusedAt < quietMs) return false;
    this.hit = false;
    return true;
  }
}
