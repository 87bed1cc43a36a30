// Poll records on disk (JSON lines, one per poll) and what they add up to:
// who answered when, what failed, and the longest stretch with no answer —
// the number a cut-over rehearsal is judged by.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { isAnswered, type PollRecord } from './poller.js';

export type { PollRecord } from './poller.js';

/** How often buffered records reach the file at the latest. */
const FLUSH_EVERY_MS = 100;

/**
 * Appends poll records to a JSONL file. Records are batched in memory and
 * written with one synchronous write at least every 100 ms; synchronous so
 * that close() — and the `exit` hook, where nothing asynchronous runs any
 * more — can write the rest and the order on disk is the order of arrival.
 */
export class PollRecordWriter {
  private fd: number | undefined;
  private pending: string[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.close();

  constructor(readonly file: string) {
    this.fd = openSync(file, 'a');
    this.timer = setInterval(() => this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
    process.once('exit', this.onExit);
  }

  write(r: PollRecord): void {
    if (this.fd === undefined) throw new Error(`${this.file}: writer is closed`);
    this.pending.push(JSON.stringify(r));
  }

  flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    writeSync(this.fd, text);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * Every record in a JSONL file. A last line without its newline may be a
 * record still being written by a live fleet: it is ignored if it does not
 * parse. A bad line anywhere else is an error.
 */
export function readPollRecords(file: string): PollRecord[] {
  return parsePollRecords(readFileSync(file, 'utf8'), file);
}

/** readPollRecords() on text already in memory. */
export function parsePollRecords(text: string, source = 'records'): PollRecord[] {
  const lines = text.split('\n');
  const complete = text.endsWith('\n');
  const out: PollRecord[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    try {
      out.push(JSON.parse(line) as PollRecord);
    } catch {
      if (i === lines.length - 1 && !complete) break;
      throw new Error(`${source}:${i + 1}: not a JSON poll record`);
    }
  }
  return out;
}

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
   * answered polls — and from the first record / to the last record, so an
   * outage at either end counts. Null with no records.
   */
  longestGap: { fromT: number; toT: number; ms: number } | null;
}

/** Totals, per-bucket counts and the longest gap of a set of poll records (in any order). */
export function summarisePolls(records: readonly PollRecord[], opts: { bucketMs?: number } = {}): PollSummary {
  const bucketMs = opts.bucketMs ?? 100;
  if (!(bucketMs > 0)) throw new RangeError('bucketMs must be positive');
  const sorted = [...records].sort((a, b) => a.t - b.t);
  const summary: PollSummary = {
    total: sorted.length, answered: 0, failed: 0, byServer: {}, servers: {}, errors: {},
    firstT: sorted[0]?.t ?? null, lastT: sorted.at(-1)?.t ?? null, bucketMs, buckets: [], longestGap: null,
  };
  if (sorted.length === 0) return summary;

  const firstBucket = Math.floor(sorted[0]!.t / bucketMs) * bucketMs;
  const nBuckets = Math.floor((sorted.at(-1)!.t - firstBucket) / bucketMs) + 1;
  for (let i = 0; i < nBuckets; i++) summary.buckets.push({ t: firstBucket + i * bucketMs, byServer: {}, failed: 0 });

  // The gap clock starts at the first record: failures before the first
  // answer are part of an outage.
  let lastAnswer = sorted[0]!.t;
  let gap = { fromT: lastAnswer, toT: lastAnswer, ms: 0 };
  for (const r of sorted) {
    const bucket = summary.buckets[Math.floor((r.t - firstBucket) / bucketMs)]!;
    if (isAnswered(r)) {
      const s = r.server ?? '(unnamed)';
      summary.answered++;
      summary.byServer[s] = (summary.byServer[s] ?? 0) + 1;
      bucket.byServer[s] = (bucket.byServer[s] ?? 0) + 1;
      const span = (summary.servers[s] ??= { answered: 0, firstT: r.t, lastT: r.t });
      span.answered++;
      span.lastT = r.t;
      if (r.t - lastAnswer > gap.ms) gap = { fromT: lastAnswer, toT: r.t, ms: r.t - lastAnswer };
      lastAnswer = r.t;
    } else {
      const why = r.error ?? `HTTP ${r.status}`;
      summary.failed++;
      summary.errors[why] = (summary.errors[why] ?? 0) + 1;
      bucket.failed++;
    }
  }
  const end = sorted.at(-1)!.t;
  if (end - lastAnswer > gap.ms) gap = { fromT: lastAnswer, toT: end, ms: end - lastAnswer };
  summary.longestGap = gap;
  return summary;
}
