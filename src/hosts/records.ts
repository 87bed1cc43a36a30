// Poll records on disk (JSON lines, one per poll): written in batches,
// read back whole (small files) or streamed one record at a time (a
// million of them). What they add up to is aggregation.ts.
import { closeSync, createReadStream, openSync, readFileSync, write, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import type { PollRecord } from './poller.js';

export type { PollRecord } from './poller.js';
export { PollAggregator, summarisePolls, type PollBucket, type PollSummary, type ServerSpan, type AfterMark } from './aggregation.js';

/** How often buffered records reach the file at the latest. */
const FLUSH_EVERY_MS = 100;

/**
 * Appends poll records to a JSONL file. Records are batched in memory and
 * written at least every 100 ms, one write at a time, off the event loop:
 * a disk that stalls (a busy machine) delays the file, never the polls — a
 * synchronous write there froze a fleet for seconds and timed its polls
 * out. close() waits for the write under way and writes the rest; the
 * `exit` hook, where nothing asynchronous runs any more, writes what is
 * still pending synchronously. The order on disk is the order of arrival.
 */
export class PollRecordWriter {
  private fd: number | undefined;
  private pending: string[] = [];
  private writing: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly onExit = (): void => this.closeSync();
  /** The last write error (the writer keeps going; records of a failed write are lost and counted). */
  lastError: string | null = null;
  lostRecords = 0;

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

  /** Start writing what is pending, unless a write is under way (then the next tick takes it). */
  flush(): void {
    if (this.fd === undefined || this.writing || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const fd = this.fd;
    this.writing = new Promise<void>((resolve) => {
      write(fd, `${batch.join('\n')}\n`, (err) => {
        if (err) {
          this.lastError = err.message;
          this.lostRecords += batch.length;
        }
        this.writing = null;
        resolve();
      });
    });
  }

  /** Write everything and close the file. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.writing) await this.writing;
    this.closeSync();
  }

  private closeSync(): void {
    if (this.fd === undefined) return;
    clearInterval(this.timer);
    process.removeListener('exit', this.onExit);
    if (this.pending.length) writeSync(this.fd, `${this.pending.join('\n')}\n`);
    this.pending = [];
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

/**
 * Every record of a JSONL file, one at a time, without holding the file:
 * for a million-poll run. A last line without its newline is ignored if it
 * does not parse (a live writer's half line); other bad lines are counted
 * and skipped. Resolves with the counts.
 */
export async function forEachPollRecord(file: string, onRecord: (r: PollRecord) => void): Promise<{ records: number; bad: number }> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let records = 0;
  let bad = 0;
  const line = (text: string, last: boolean): void => {
    if (text.trim() === '') return;
    let r: PollRecord;
    try {
      r = JSON.parse(text) as PollRecord;
    } catch {
      if (!last) bad++;
      return;
    }
    records++;
    onRecord(r);
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const text = rest + decoder.write(chunk as Buffer);
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      line(text.slice(from, nl), false);
      from = nl + 1;
    }
    rest = text.slice(from);
  }
  line(rest + decoder.end(), true);
  return { records, bad };
}
