// Follows a JSON-lines file (an access log) the way `tail -F` does and hands
// every complete line, parsed, to a callback.
//
// Wake-ups come from fs.watch on the file's *directory* (so creation, rename
// and replacement are seen, not only writes to the inode first opened) and
// from a short poll, because fs.watch misses events on some filesystems
// (network and overlay mounts, bind mounts seen from another mount namespace).
// The poll bounds the detection latency at `pollMs`; with working inotify it
// is about a millisecond.
//
// The file is input from outside: a line longer than `maxLineBytes`, a line
// that is not JSON or not a JSON object, binary junk — each is counted and
// skipped, never thrown. Nothing here throws after start(); I/O errors are
// reported through `onNotice` and retried on the next wake-up.
import { watch, type FSWatcher, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';

export interface TailNotice {
  kind: 'opened' | 'missing' | 'truncated' | 'rotated' | 'error';
  file: string;
  detail?: string;
}

export interface HistoryTailOptions {
  /** Called with every line that parses as a JSON object, in file order. */
  onObject: (obj: object) => void;
  /** State changes worth a log line (opened, truncated, rotated, errors). */
  onNotice?: (n: TailNotice) => void;
  /** Read what the file already holds (default: only lines appended after start). A file that appears later is always read from its start. */
  fromStart?: boolean;
  /** Poll interval, ms (default 100): the worst-case latency when fs.watch stays silent. */
  pollMs?: number;
  /** Longest line accepted, bytes (default 64 KiB); longer lines are skipped. */
  maxLineBytes?: number;
  /** Use fs.watch (default true); false = poll only, to measure the fallback. */
  watch?: boolean;
}

export interface TailStats {
  file: string;
  /** A file is open and being followed. */
  following: boolean;
  /** Complete non-blank lines seen. */
  lines: number;
  /** Lines handed to onObject. */
  objects: number;
  /** Lines skipped: not JSON, not an object, too long, or cut off by truncation/rotation. */
  malformed: number;
  /** Of the malformed, those over maxLineBytes. */
  oversized: number;
  bytes: number;
  truncations: number;
  rotations: number;
  lastError: string | null;
}

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;
/** How many bytes before the read position are compared to detect a rewrite. */
const FINGERPRINT = 32;

export class HistoryTail {
  readonly file: string;
  private readonly base: string;
  private readonly dir: string;
  private readonly pollMs: number;
  private readonly maxLine: number;
  private readonly buf = Buffer.allocUnsafe(CHUNK);

  private fh: FileHandle | undefined;
  private ino = 0;
  private dev = 0;
  private position = 0;
  /** The last bytes read, ending at `position`: see lastBytesUnchanged(). */
  private lastBytes = Buffer.alloc(0);
  private readonly probe = Buffer.alloc(FINGERPRINT);
  /** Bytes of the line not yet ended by a newline. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Inside a line that already went over maxLine: skip to its newline. */
  private discarding = false;

  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  /** The next check is the first: an existing file is joined at its end. */
  private initial = true;
  private closed = false;
  private started = false;
  private missingNoted = false;

  private readonly counts = { lines: 0, objects: 0, malformed: 0, oversized: 0, bytes: 0, truncations: 0, rotations: 0 };
  private lastError: string | null = null;

  constructor(file: string, private readonly opts: HistoryTailOptions) {
    this.file = resolve(file);
    this.base = basename(this.file);
    this.dir = dirname(this.file);
    this.pollMs = Math.max(5, Math.min(opts.pollMs ?? 100, 100));
    this.maxLine = opts.maxLineBytes ?? 64 * 1024;
  }

  /** Join the file (at its end unless fromStart) and begin following it. Resolves once the first look is done. */
  async start(): Promise<void> {
    if (this.started || this.closed) return;
    this.started = true;
    this.ensureWatch();
    // Unref'd: following a file never keeps the process alive by itself.
    this.timer = setInterval(() => this.kick(), this.pollMs).unref();
    this.kick();
    await this.running;
  }

  /** Stop watching and polling, close the file. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    await this.running;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  get stats(): TailStats {
    return { file: this.file, following: this.fh !== undefined, ...this.counts, lastError: this.lastError };
  }

  /** Wake up: run a check now, or once more after the one in progress. */
  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      await this.check();
    } while (this.again && !this.closed);
  }

  private async check(): Promise<void> {
    const joinAtEnd = this.initial && !this.opts.fromStart;
    this.initial = false;
    try {
      // Finish the file we have first: after a rotation the writer may still
      // append to it until it reopens.
      if (this.fh) await this.readAvailable();
      const st = await statOrNull(this.file);
      if (this.closed) return;
      if (!st) {
        if (!this.fh && !this.missingNoted) {
          this.missingNoted = true;
          this.notice('missing', 'waiting for the file to appear');
        }
        this.ensureWatch();
        return;
      }
      if (this.fh && st.ino === this.ino && st.dev === this.dev) return;
      if (!st.isFile()) {
        this.error(`not a regular file`);
        return;
      }
      if (this.fh) {
        // The last lines may have reached the old file between our read and
        // the rename: finish it once more now that the new one exists.
        await this.readAvailable();
        this.counts.rotations++;
        this.dropPending();
        const old = this.fh;
        this.fh = undefined;
        await old.close().catch(() => undefined);
        this.notice('rotated', 'the file was replaced; reading the new one from its start');
      }
      await this.openFile(joinAtEnd);
      this.ensureWatch();
      if (this.fh) await this.readAvailable();
    } catch (e) {
      this.error((e as Error).message);
    }
  }

  private async openFile(atEnd: boolean): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await open(this.file, 'r');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // gone again: next wake-up
      throw e;
    }
    if (this.closed) {
      await fh.close().catch(() => undefined);
      return;
    }
    // Identity from the handle, not the path: the path may have moved on.
    const st = await fh.stat();
    this.fh = fh;
    this.ino = st.ino;
    this.dev = st.dev;
    this.position = atEnd ? st.size : 0;
    this.lastBytes = Buffer.alloc(0);
    if (this.position > 0) {
      const n = Math.min(FINGERPRINT, this.position);
      const { bytesRead } = await fh.read(this.probe, 0, n, this.position - n);
      this.lastBytes = Buffer.from(this.probe.subarray(0, bytesRead));
    }
    this.missingNoted = false;
    this.lastError = null;
    this.notice('opened', atEnd ? `following from byte ${st.size}` : 'reading from the start');
  }

  private async readAvailable(): Promise<void> {
    const fh = this.fh!;
    const st = await fh.stat();
    const why = st.size < this.position ? `size ${st.size} < read position ${this.position}`
      : !(await this.lastBytesUnchanged(fh)) ? 'the bytes before the read position changed' : null;
    if (why) {
      // Truncated (copytruncate, `> file`): the new content starts at 0.
      this.counts.truncations++;
      this.position = 0;
      this.lastBytes = Buffer.alloc(0);
      this.dropPending();
      this.notice('truncated', `${why}; reading from the start`);
    }
    while (!this.closed && this.fh === fh) {
      const { bytesRead } = await fh.read(this.buf, 0, CHUNK, this.position);
      if (bytesRead === 0) return;
      this.position += bytesRead;
      this.counts.bytes += bytesRead;
      this.rememberLastBytes(this.buf.subarray(0, bytesRead));
      this.consume(this.buf.subarray(0, bytesRead));
    }
  }

  /**
   * A file truncated and rewritten to at least its old length before we
   * looked has no smaller size to give it away; the bytes just before the
   * read position do (JSON lines carry timestamps, so they differ).
   */
  private async lastBytesUnchanged(fh: FileHandle): Promise<boolean> {
    const n = this.lastBytes.length;
    if (n === 0) return true;
    const { bytesRead } = await fh.read(this.probe, 0, n, this.position - n);
    return bytesRead === n && this.probe.subarray(0, n).equals(this.lastBytes);
  }

  private rememberLastBytes(data: Buffer): void {
    const joined = data.length >= FINGERPRINT ? data : Buffer.concat([this.lastBytes, data]);
    this.lastBytes = Buffer.from(joined.subarray(Math.max(0, joined.length - FINGERPRINT)));
  }

  private consume(chunk: Buffer): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0) {
        this.hold(chunk.subarray(from));
        return;
      }
      this.endLine(chunk.subarray(from, nl));
      from = nl + 1;
    }
  }

  /** Keep the start of a line until its newline arrives (copied: `buf` is reused). */
  private hold(part: Buffer): void {
    if (part.length === 0 || this.discarding) return;
    if (this.pendingBytes + part.length > this.maxLine) {
      this.skipOversized();
      return;
    }
    this.pending.push(Buffer.from(part));
    this.pendingBytes += part.length;
  }

  private skipOversized(): void {
    this.counts.malformed++;
    this.counts.oversized++;
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = true;
  }

  private endLine(part: Buffer): void {
    if (this.discarding) {
      this.discarding = false; // counted when it went over
      return;
    }
    if (this.pendingBytes + part.length > this.maxLine) {
      this.skipOversized();
      this.discarding = false;
      return;
    }
    const line = this.pendingBytes ? Buffer.concat([...this.pending, part]) : part;
    this.pending = [];
    this.pendingBytes = 0;
    const text = line.toString('utf8').trim();
    if (text === '') return;
    this.counts.lines++;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      this.counts.malformed++;
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      this.counts.malformed++;
      return;
    }
    this.counts.objects++;
    try {
      this.opts.onObject(v);
    } catch (e) {
      this.error(`handler failed: ${(e as Error).message}`);
    }
  }

  /** An unfinished line that will never be finished (file truncated or replaced). */
  private dropPending(): void {
    if (this.pendingBytes > 0) this.counts.malformed++;
    this.pending = [];
    this.pendingBytes = 0;
    this.discarding = false;
  }

  private ensureWatch(): void {
    if (this.watcher || this.closed || this.opts.watch === false) return;
    try {
      this.watcher = watch(this.dir, { persistent: false }, (_event, name) => {
        if (!name || name === this.base) this.kick();
      });
      this.watcher.on('error', () => {
        // E.g. the directory was removed: the poll carries on and re-watches.
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      this.watcher = undefined; // directory missing or inotify exhausted: poll only
    }
  }

  private notice(kind: TailNotice['kind'], detail?: string): void {
    try {
      this.opts.onNotice?.({ kind, file: this.file, detail });
    } catch {
      /* a logging failure must not stop the tail */
    }
  }

  /** Report an error once per distinct message (the poll would repeat it 10 times a second). */
  private error(message: string): void {
    if (message === this.lastError) return;
    this.lastError = message;
    this.notice('error', message);
  }
}

async function statOrNull(path: string): Promise<Stats | null> {
  try {
    return await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}
