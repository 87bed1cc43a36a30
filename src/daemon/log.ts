// Logs are pino JSON lines with a millisecond epoch `time`. Every state
// change is one line with an `event` field (port.blocked, route.changed, …),
// so a cut-over can be reconstructed from the log alone.
//
// Logging must never change routing: a log line that cannot be written (a
// full disk, a closed pipe) is counted and dropped, the first failure (and
// each recovery) said once on stderr — the write never throws into the code
// that was changing state. The file can be reopened for rotation.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

export type { Logger };

/** A log destination that never throws: writes synchronously, counts what it could not write. */
export class LogSink {
  private fd: number;
  /** Lines that could not be written. */
  failures = 0;
  lastError: string | null = null;
  private failing = false;

  /** `file` undefined: standard output. */
  constructor(readonly file?: string) {
    this.fd = file ? LogSink.open(file) : 1;
  }

  private static open(file: string): number {
    mkdirSync(dirname(file), { recursive: true });
    return openSync(file, 'a');
  }

  write(line: string): void {
    try {
      writeAll(this.fd, line);
      if (this.failing) {
        this.failing = false;
        process.stderr.write(`tunroute: log ${this.where()}: writing again (${this.failures} lines lost)\n`);
      }
    } catch (e) {
      this.failures++;
      this.lastError = (e as Error).message;
      if (!this.failing) {
        this.failing = true;
        process.stderr.write(`tunroute: log ${this.where()}: cannot write (${this.lastError}); lines are counted and dropped, routing goes on\n`);
      }
    }
  }

  /** Close and open the file again (after logrotate moved it). Standard output stays as it is. */
  reopen(): void {
    if (!this.file) return;
    try {
      const fd = LogSink.open(this.file);
      const old = this.fd;
      this.fd = fd;
      closeSync(old);
    } catch (e) {
      this.lastError = (e as Error).message;
      process.stderr.write(`tunroute: log ${this.file}: cannot reopen (${this.lastError}); still writing to the old file\n`);
    }
  }

  private where(): string {
    return this.file ?? 'stdout';
  }
}

/** Write the whole string, retrying short writes and a non-blocking pipe's EAGAIN (briefly). */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  for (let tries = 0; buf.length > 0;) {
    try {
      const n = writeSync(fd, buf);
      buf = buf.subarray(n);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || ++tries > 1000) throw e;
    }
  }
}

export function createLogger(router: string, level: string, sink: LogSink): Logger {
  return pino({ level, base: { router }, timestamp: pino.stdTimeFunctions.epochTime }, sink);
}

/**
 * Where a silent logger writes: nowhere. Without a destination pino would
 * open stdout through sonic-boom and register that stream to be flushed at
 * exit — one registration per logger, whose removal after the stream is
 * collected depends on finalizers running; a process making a logger per
 * router (tests, the fuzzers) piled them up.
 */
const NOWHERE = { write(): void {} };

/** A logger that drops everything (unit tests, tools). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' }, NOWHERE);
}
