// The packet path's clock, read once per receive batch: every packet of a
// batch sees the same millisecond. A clock read hands back a number V8 boxes
// (a double from a call it does not inline): once per batch that is nothing,
// once per packet it is garbage at line rate — so per-packet steps (flow
// and NAT tables, the reply and error rate limits) read this instead.
export class BatchClock {
  private readonly epoch = Date.now() - 1;
  /** Whole milliseconds since the clock was made, from 1 (0 can mean "never"): a small integer, never boxed. */
  now = 1;

  /** Read the system clock (at the start of a batch, or of timer work that sends). */
  tick(): void {
    this.now = Date.now() - this.epoch;
  }
}
