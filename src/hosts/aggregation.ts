// What poll records add up to, built one record at a time so a million
// polls cost what a thousand do: totals, a per-interval series, latency
// percentiles, the failed polls (whole up to a cap, then counted), and the
// longest stretch without an answer — the number a cut-over rehearsal is
// judged by. Memory is bounded by the number of intervals (coarsened to
// stay under a cap), the failures kept and a reorder window of a few
// seconds; it does not grow with the poll count.
import { isAnswered, type PollRecord } from './poller.js';

export interface PollBucket {
  /** Start of the bucket, epoch ms. */
  t: number;
  /** Answered polls in the bucket, by server. */
  byServer: Record<string, number>;
  failed: number;
}

export interface ServerSpan {
  answered: number;
  /** Send time of the first and the last poll this server answered. */
  firstT: number;
  lastT: number;
  /** When this server's first and last answer arrived (send time + latency). */
  firstAnswerAt: number;
  lastAnswerAt: number;
}

/** Polls sent at or after a moment (the cut-over, …): how they went. */
export interface AfterMark {
  at: number;
  total: number;
  failed: number;
  byServer: Record<string, number>;
}

export interface PollSummary {
  total: number;
  answered: number;
  failed: number;
  /** Answered polls by server. */
  byServer: Record<string, number>;
  /** When each server answered, first to last. */
  servers: Record<string, ServerSpan>;
  /** Failures by error (errno code, "timeout", or "HTTP <status>"). */
  errors: Record<string, number>;
  /** Send time of the first and last record (null with no records). */
  firstT: number | null;
  lastT: number | null;
  bucketMs: number;
  /** Consecutive buckets from the first record's to the last's, empty ones included. */
  buckets: PollBucket[];
  /**
   * The longest interval in which no poll was answered, between consecutive
   * answered polls (send times) — and from the first record / to the last
   * record, so an outage at either end counts. Null with no records.
   */
  longestGap: { fromT: number; toT: number; ms: number } | null;
  /** Latency of the answered polls, ms (percentiles within 5 %); null with none. */
  latency: { p50: number; p90: number; p99: number; max: number } | null;
  /** Every failed poll, in the order they came (up to `keepFailures`). */
  failures: PollRecord[];
  /** Failed polls beyond `keepFailures`, counted only. */
  failuresNotKept: number;
  /** Per named moment: the polls sent at or after it. */
  after: Record<string, AfterMark>;
}

export interface AggregatorOptions {
  /** Width of a bucket to start with, ms (default 100); doubled as often as `maxBuckets` needs. */
  bucketMs?: number;
  /** Most buckets kept (default 2000). */
  maxBuckets?: number;
  /** Failed polls kept whole (default 100,000); more are counted only. */
  keepFailures?: number;
  /**
   * How far out of send order records may arrive, ms (default 10 s). Records
   * come in the order polls finish, and a poll finishes by its timeout, so
   * this is the poll timeout with room to spare.
   */
  reorderMs?: number;
  /** Named moments (epoch ms): for each, how the polls sent at or after it went. */
  marks?: Record<string, number>;
}

/** Latency bins grow by 5 % from 0.1 ms: 300 bins reach past 200 s. */
const LAT_MIN = 0.1;
const LAT_RATIO = 1.05;
const LAT_BINS = 300;
const LOG_RATIO = Math.log(LAT_RATIO);

interface Bucket {
  byServer: Record<string, number>;
  failed: number;
}

/** A min-heap of numbers that grows as needed (the answered send times in the reorder window). */
class NumberHeap {
  private a = new Float64Array(1024);
  size = 0;
  push(v: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    let i = this.size++;
    const a = this.a;
    a[i] = v;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }
  peek(): number {
    return this.a[0]!;
  }
  pop(): number {
    const a = this.a;
    const top = a[0]!;
    a[0] = a[--this.size]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.size && a[l]! < a[m]!) m = l;
      if (r < this.size && a[r]! < a[m]!) m = r;
      if (m === i) break;
      [a[m], a[i]] = [a[i]!, a[m]!];
      i = m;
    }
    return top;
  }
}

export class PollAggregator {
  private bucketMs: number;
  private readonly maxBuckets: number;
  private readonly keepFailures: number;
  private readonly reorderMs: number;
  private buckets = new Map<number, Bucket>();
  private minIdx = Infinity;
  private maxIdx = -Infinity;
  private total = 0;
  private answered = 0;
  private failed = 0;
  private readonly byServer: Record<string, number> = {};
  private readonly servers: Record<string, ServerSpan> = {};
  private readonly errors: Record<string, number> = {};
  private firstT = Infinity;
  private lastT = -Infinity;
  private readonly latency = new Uint32Array(LAT_BINS);
  private maxLatency = 0;
  private readonly failures: PollRecord[] = [];
  private failuresNotKept = 0;
  private readonly after: Record<string, AfterMark> = {};
  // Longest gap: answered send times wait in a heap until no earlier one can still come.
  private readonly pending = new NumberHeap();
  private lastAnswer: number | null = null;
  private gap: { fromT: number; toT: number; ms: number } | null = null;
  /** Answered records that came later than the reorder window allowed (counted at the window's edge). */
  lateRecords = 0;

  constructor(opts: AggregatorOptions = {}) {
    this.bucketMs = opts.bucketMs ?? 100;
    if (!(this.bucketMs > 0)) throw new RangeError('bucketMs must be positive');
    this.maxBuckets = Math.max(2, opts.maxBuckets ?? 2000);
    this.keepFailures = opts.keepFailures ?? 100_000;
    this.reorderMs = opts.reorderMs ?? 10_000;
    for (const [name, at] of Object.entries(opts.marks ?? {})) this.after[name] = { at, total: 0, failed: 0, byServer: {} };
  }

  /** Records taken so far. */
  get count(): number {
    return this.total;
  }

  add(r: PollRecord): void {
    this.total++;
    if (r.t < this.firstT) this.firstT = r.t;
    if (r.t > this.lastT) this.lastT = r.t;
    const bucket = this.bucketOf(r.t);
    const ok = isAnswered(r);
    const server = r.server ?? '(unnamed)';
    if (ok) {
      this.answered++;
      this.byServer[server] = (this.byServer[server] ?? 0) + 1;
      bucket.byServer[server] = (bucket.byServer[server] ?? 0) + 1;
      const at = r.t + r.latencyMs;
      const span = this.servers[server];
      if (!span) {
        this.servers[server] = { answered: 1, firstT: r.t, lastT: r.t, firstAnswerAt: at, lastAnswerAt: at };
      } else {
        span.answered++;
        if (r.t < span.firstT) span.firstT = r.t;
        if (r.t > span.lastT) span.lastT = r.t;
        if (at < span.firstAnswerAt) span.firstAnswerAt = at;
        if (at > span.lastAnswerAt) span.lastAnswerAt = at;
      }
      const l = r.latencyMs;
      this.latency[l <= LAT_MIN ? 0 : Math.min(LAT_BINS - 1, Math.ceil(Math.log(l / LAT_MIN) / LOG_RATIO))]!++;
      if (l > this.maxLatency) this.maxLatency = l;
      this.pending.push(r.t);
    } else {
      const why = r.error ?? `HTTP ${r.status}`;
      this.failed++;
      this.errors[why] = (this.errors[why] ?? 0) + 1;
      bucket.failed++;
      if (this.failures.length < this.keepFailures) this.failures.push(r);
      else this.failuresNotKept++;
    }
    for (const name in this.after) {
      const m = this.after[name]!;
      if (r.t < m.at) continue;
      m.total++;
      if (ok) m.byServer[server] = (m.byServer[server] ?? 0) + 1;
      else m.failed++;
    }
    this.advanceGap(this.lastT - this.reorderMs);
  }

  private bucketOf(t: number): Bucket {
    let idx = Math.floor(t / this.bucketMs);
    if (idx < this.minIdx || idx > this.maxIdx) {
      const lo = Math.min(this.minIdx, idx);
      const hi = Math.max(this.maxIdx, idx);
      if (hi - lo + 1 > this.maxBuckets) {
        this.coarsen(lo, hi);
        idx = Math.floor(t / this.bucketMs);
      }
      this.minIdx = Math.min(this.minIdx, idx);
      this.maxIdx = Math.max(this.maxIdx, idx);
    }
    let b = this.buckets.get(idx);
    if (!b) {
      b = { byServer: {}, failed: 0 };
      this.buckets.set(idx, b);
    }
    return b;
  }

  /** Double the bucket width until lo…hi fits, merging neighbours (boundaries stay aligned). */
  private coarsen(lo: number, hi: number): void {
    let factor = 1;
    while (Math.floor(hi / factor) - Math.floor(lo / factor) + 1 > this.maxBuckets) factor *= 2;
    const merged = new Map<number, Bucket>();
    for (const [idx, b] of this.buckets) {
      const to = Math.floor(idx / factor);
      const m = merged.get(to);
      if (!m) {
        merged.set(to, b);
        continue;
      }
      m.failed += b.failed;
      for (const [s, n] of Object.entries(b.byServer)) m.byServer[s] = (m.byServer[s] ?? 0) + n;
    }
    this.buckets = merged;
    this.bucketMs *= factor;
    this.minIdx = Math.floor(this.minIdx / factor);
    this.maxIdx = Math.floor(this.maxIdx / factor);
  }

  /** Take answered send times up to `until` in order, measuring the gaps between them. */
  private advanceGap(until: number): void {
    while (this.pending.size > 0 && this.pending.peek() <= until) {
      let t = this.pending.pop();
      if (this.lastAnswer === null) {
        // The gap clock starts at the first record: failures before the first answer are part of an outage.
        this.lastAnswer = this.firstT;
        this.gap = { fromT: this.firstT, toT: this.firstT, ms: 0 };
      }
      if (t < this.lastAnswer) {
        this.lateRecords++;
        t = this.lastAnswer;
      }
      if (t - this.lastAnswer > this.gap!.ms) this.gap = { fromT: this.lastAnswer, toT: t, ms: t - this.lastAnswer };
      this.lastAnswer = t;
    }
  }

  private percentile(p: number): number {
    const want = Math.max(1, Math.ceil(p * this.answered));
    let seen = 0;
    for (let b = 0; b < LAT_BINS; b++) {
      seen += this.latency[b]!;
      if (seen >= want) return Math.min(this.maxLatency, Math.round(LAT_MIN * LAT_RATIO ** b * 10) / 10);
    }
    return this.maxLatency;
  }

  /** Everything so far. (The aggregator can take more records after this.) */
  summary(): PollSummary {
    this.advanceGap(Infinity);
    const buckets: PollBucket[] = [];
    if (this.total > 0) {
      for (let i = this.minIdx; i <= this.maxIdx; i++) {
        const b = this.buckets.get(i);
        buckets.push({ t: i * this.bucketMs, byServer: b ? { ...b.byServer } : {}, failed: b?.failed ?? 0 });
      }
    }
    let longestGap = this.total > 0 ? this.gap ?? { fromT: this.firstT, toT: this.firstT, ms: 0 } : null;
    if (longestGap) {
      const from = this.lastAnswer ?? this.firstT;
      if (this.lastT - from > longestGap.ms) longestGap = { fromT: from, toT: this.lastT, ms: this.lastT - from };
    }
    return {
      total: this.total,
      answered: this.answered,
      failed: this.failed,
      byServer: { ...this.byServer },
      servers: structuredClone(this.servers),
      errors: { ...this.errors },
      firstT: this.total ? this.firstT : null,
      lastT: this.total ? this.lastT : null,
      bucketMs: this.bucketMs,
      buckets,
      longestGap,
      latency: this.answered ? { p50: this.percentile(0.5), p90: this.percentile(0.9), p99: this.percentile(0.99), max: this.maxLatency } : null,
      failures: [...this.failures],
      failuresNotKept: this.failuresNotKept,
      after: structuredClone(this.after),
    };
  }
}

/** The summary of records already in memory (in any order). */
export function summarisePolls(records: readonly PollRecord[], opts: AggregatorOptions = {}): PollSummary {
  const a = new PollAggregator({ reorderMs: Infinity, ...opts });
  for (const r of records) a.add(r);
  return a.summary();
}
