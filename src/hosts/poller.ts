// The polling engine of an appliance (one) or a fleet of them (a million):
// each device polls the service URL over a fresh TCP connection from its own
// source address, on a steady, jittered schedule — or once in a day, at a
// random moment of it. Every poll becomes a PollRecord; running counters give
// the live picture.
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface Device {
  /** Device id, sent as ?device=ID (e.g. "dev-000001"). */
  id: string;
  /** Source IPv4 address the device polls from. */
  source: string;
}

/** Devices by index, made on demand (a fleet of a million is two numbers, see DeviceRange). */
export interface DeviceSet {
  readonly count: number;
  id(i: number): string;
  source(i: number): string;
}

/** A DeviceSet over a list (one test appliance, a few devices in a test). */
export function deviceList(devices: readonly Device[]): DeviceSet {
  return { count: devices.length, id: (i) => devices[i]!.id, source: (i) => devices[i]!.source };
}

/** What one poll saw. */
export interface PollRecord {
  /** Epoch ms when the poll was sent. */
  t: number;
  device: string;
  source: string;
  /** Who answered: the `x-served-by` header, else the body's `server` field. */
  server: string | null;
  /** HTTP status, null when no response came. */
  status: number | null;
  latencyMs: number;
  /** Why no (complete) response came: an errno code such as ECONNREFUSED, "timeout", or "truncated". */
  error: string | null;
}

/** A poll is answered when a 2xx response arrived in time. */
export function isAnswered(r: PollRecord): boolean {
  return r.error === null && r.status !== null && r.status >= 200 && r.status < 300;
}

export interface PollCounters {
  /** Polls sent. */
  sent: number;
  /** Polls finished (answered or failed). */
  total: number;
  /** Answered polls by the server that answered. */
  byServer: Record<string, number>;
  /** Polls not answered (no response, timeout, or a non-2xx status). */
  failed: number;
  /** The last failure's error (or "HTTP <status>"). */
  lastError: string | null;
  /** Polls sent and not finished yet. */
  inFlight: number;
  /** Polls not sent because the device's previous poll was still outstanding. */
  skipped: number;
  /** Polls not sent because `maxInFlight` polls were outstanding (the poller's own limit, e.g. open files). */
  overLimit: number;
}

const USER_AGENT = 'tunroute-appliance/0.1';
/** How much of a response is kept to read its status, headers and (for the server's name) the start of its body. */
const KEEP_BYTES = 4096;
/**
 * One receive buffer for every connection: libuv reads into it and the
 * callback copies out what it keeps before the next read, so a fleet with
 * thousands of polls in flight allocates no buffer per read.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** The request path of one device's poll: the target's path and query plus device=ID. */
export function pollPath(target: URL, deviceId: string): string {
  const q = new URLSearchParams(target.search);
  q.set('device', deviceId);
  return `${target.pathname}?${q}`;
}

/** pollPath() for many ids of one target: the query is built once, plain ids are appended as they are. */
function pathMaker(target: URL): (id: string) => string {
  const q = new URLSearchParams(target.search);
  q.delete('device');
  const base = `${target.pathname}?${q.size ? `${q}&` : ''}device=`;
  return (id) => (/^[A-Za-z0-9._-]+$/.test(id) ? base + id : pollPath(target, id));
}

/** The answering server's name from a JSON body, if it has one. */
function serverInBody(body: string): string | null {
  try {
    const v = (JSON.parse(body) as { server?: unknown }).server;
    return typeof v === 'string' ? v : null;
  } catch {
    const m = /"server"\s*:\s*"([^"\\]{1,100})"/.exec(body);
    return m ? m[1]! : null;
  }
}

/** What the first bytes of a response say: status, who served it, and whether the body is all there. */
function readResponse(text: string, received: number): { status: number | null; server: string | null; complete: boolean } {
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  if (end < 0 || !status) return { status: status ? Number(status[1]) : null, server: null, complete: false };
  const head = text.slice(0, end);
  const served = /\r\nx-served-by:[ \t]*([^\r]*)/i.exec(head);
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const complete = length ? received - (end + 4) >= Number(length[1]) : false;
  return { status: Number(status[1]), server: served ? served[1]!.trim() : serverInBody(text.slice(end + 4)), complete };
}

/**
 * One poll: a fresh TCP connection from `device.source` (appliances connect
 * anew each time, no keep-alive), a GET, and the response up to its last
 * byte, within `timeoutMs` for the whole exchange. Never rejects: a failure
 * is a record with `error`.
 *
 * HTTP/1.1 spoken directly over a socket rather than through node:http: the
 * exchange is one fixed request and the status line and one header of the
 * answer, and the http module's client machinery doubled the fleet's CPU per
 * poll (measured: ~110 µs vs ~55 µs of user time), which at thousands of
 * polls per second made the load generator the bottleneck.
 */
export function pollOnce(target: URL, device: Device, timeoutMs: number, path = pollPath(target, device.id)): Promise<PollRecord> {
  return new Promise((resolve) => {
    const t = Date.now();
    const started = performance.now();
    let text = '';
    let received = 0;
    let done = false;
    const finish = (status: number | null, server: string | null, error: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      resolve({ t, device: device.id, source: device.source, server, status, latencyMs, error });
    };
    const socket = connect({
      host: target.hostname,
      port: Number(target.port || 80),
      localAddress: device.source,
      onread: {
        buffer: READ_BUFFER,
        callback: (n: number, buf: Buffer): boolean => {
          if (text.length < KEEP_BYTES) text += buf.toString('latin1', 0, Math.min(n, KEEP_BYTES - text.length));
          received += n;
          if (!done) {
            const r = readResponse(text, received);
            if (r.complete) {
              finish(r.status, r.server, null);
              socket.destroy();
            }
          }
          return true;
        },
      },
    });
    // Timers run before I/O in each turn of the event loop: after a stall
    // of this process (a fleet of a million on one CPU, a busy machine) the
    // deadline would fire before an answer already waiting in the socket is
    // read. So the deadline looks once more after this turn's I/O (a
    // setImmediate runs after it): the poll fails only if still unanswered.
    const deadline = setTimeout(() => {
      setImmediate(() => {
        if (done) return;
        finish(null, null, 'timeout');
        socket.destroy();
      });
    }, timeoutMs);
    socket.write(`GET ${path} HTTP/1.1\r\nHost: ${target.host}\r\nUser-Agent: ${USER_AGENT}\r\nConnection: close\r\n\r\n`);
    socket.on('error', (e: NodeJS.ErrnoException) => {
      const r = readResponse(text, received);
      finish(r.status, r.server, e.code ?? e.message);
    });
    // The server closes after its answer (connection: close); a response
    // without a length ends there.
    socket.on('close', () => {
      const r = readResponse(text, received);
      if (r.status !== null && text.includes('\r\n\r\n') && !/\r\ncontent-length:/i.test(text)) finish(r.status, r.server, null);
      else finish(r.status, r.server, received === 0 ? 'ECONNRESET' : 'truncated');
    });
  });
}

/**
 * Devices ordered by when they poll next: a binary min-heap of (due time,
 * device index). One timer serves the whole fleet however large it is —
 * a million devices are a million heap slots, not a million timers.
 */
class DueQueue {
  private due: Float64Array;
  private idx: Int32Array;
  size = 0;
  constructor(capacity: number) {
    this.due = new Float64Array(capacity);
    this.idx = new Int32Array(capacity);
  }
  push(dueAt: number, device: number): void {
    this.due[this.size] = dueAt;
    this.idx[this.size] = device;
    this.siftUp(this.size++);
  }
  peekDue(): number {
    return this.due[0]!;
  }
  peekDevice(): number {
    return this.idx[0]!;
  }
  /** Give the earliest device a new due time. */
  rescheduleTop(dueAt: number): void {
    this.due[0] = dueAt;
    this.siftDown(0);
  }
  /** Remove the earliest device. */
  pop(): void {
    this.size--;
    if (this.size === 0) return;
    this.due[0] = this.due[this.size]!;
    this.idx[0] = this.idx[this.size]!;
    this.siftDown(0);
  }
  private swap(a: number, b: number): void {
    const d = this.due[a]!;
    this.due[a] = this.due[b]!;
    this.due[b] = d;
    const i = this.idx[a]!;
    this.idx[a] = this.idx[b]!;
    this.idx[b] = i;
  }
  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.due[parent]! <= this.due[i]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }
  private siftDown(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let least = i;
      if (l < this.size && this.due[l]! < this.due[least]!) least = l;
      if (r < this.size && this.due[r]! < this.due[least]!) least = r;
      if (least === i) return;
      this.swap(i, least);
      i = least;
    }
  }
}

export interface PollerOptions {
  /** The service URL, e.g. http://1.1.1.1/poll (host must be an address). */
  target: URL;
  devices: DeviceSet | readonly Device[];
  /** Each device polls once per interval on average. */
  intervalMs: number;
  /** Uniform jitter of each interval, as a fraction of it (0–1, default 0.2). */
  jitter?: number;
  /** Deadline of one poll (default 2000 ms). */
  timeoutMs?: number;
  /**
   * Spread the first polls uniformly over one interval (default true), so N
   * devices give a steady N/interval polls per second from the start; false
   * sends every device's first poll at once (one test appliance).
   */
  spreadFirst?: boolean;
  /** Space the first polls evenly instead (device i at i/N of the interval): with no jitter the devices take strict turns. */
  evenFirst?: boolean;
  /**
   * Each device polls once only, at a uniformly random moment of the first
   * interval (a day of a real fleet); `finished` resolves when every poll
   * has finished.
   */
  once?: boolean;
  /**
   * At most this many polls outstanding (default 16,000: each holds a file
   * descriptor, and the usual limit is a few tens of thousands). A poll due
   * while the limit is reached is not sent and counted in `overLimit`: the
   * load generator, not the system under test, ran out.
   */
  maxInFlight?: number;
  onRecord?: (r: PollRecord) => void;
  /** Random numbers in [0, 1) (default Math.random; replace in tests). */
  random?: () => number;
}

export class Poller {
  readonly counters: PollCounters = { sent: 0, total: 0, byServer: {}, failed: 0, lastError: null, inFlight: 0, skipped: 0, overLimit: 0 };
  /** With `once`: resolves when every device has polled and every poll has finished. */
  readonly finished: Promise<void>;
  private readonly devices: DeviceSet;
  private readonly queue: DueQueue;
  /** Per device: is a poll outstanding? (At most one per device.) */
  private readonly busy: Uint8Array;
  private readonly jitter: number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;
  private readonly random: () => number;
  private readonly path: (id: string) => string;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private idle: (() => void) | undefined;
  private allDone: () => void = () => undefined;

  constructor(private readonly opts: PollerOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.devices = 'count' in opts.devices ? opts.devices : deviceList(opts.devices as readonly Device[]);
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxInFlight = opts.maxInFlight ?? 16_000;
    this.random = opts.random ?? Math.random;
    this.path = pathMaker(opts.target);
    this.queue = new DueQueue(this.devices.count);
    this.busy = new Uint8Array(this.devices.count);
    this.finished = new Promise((r) => (this.allDone = r));
  }

  /** One interval with jitter: uniform in interval × [1 − jitter, 1 + jitter], at least 1 ms. */
  private nextInterval(): number {
    return Math.max(1, this.opts.intervalMs * (1 + this.jitter * (2 * this.random() - 1)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = performance.now();
    const spread = this.opts.once || (this.opts.spreadFirst ?? true);
    const n = this.devices.count;
    for (let i = 0; i < n; i++) {
      const offset = this.opts.evenFirst ? (i * this.opts.intervalMs) / n : spread ? this.random() * this.opts.intervalMs : 0;
      this.queue.push(now + offset, i);
    }
    this.arm();
  }

  /** Stop sending; resolves when the outstanding polls have finished (each is bounded by the timeout). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (this.counters.inFlight > 0) await new Promise<void>((r) => (this.idle = r));
  }

  /** Devices that have not polled yet (with `once`), or all of them. */
  get waiting(): number {
    return this.queue.size;
  }

  private arm(): void {
    if (!this.running || this.queue.size === 0) return;
    this.timer = setTimeout(this.tick, Math.max(0, this.queue.peekDue() - performance.now()));
  }

  private readonly tick = (): void => {
    const now = performance.now();
    while (this.queue.size > 0 && this.queue.peekDue() <= now) {
      const i = this.queue.peekDevice();
      if (this.opts.once) {
        this.queue.pop();
      } else {
        // Keep each device's own rhythm; but after a stall (the event loop was
        // blocked), start afresh from now rather than firing a burst to catch up.
        let next = this.queue.peekDue() + this.nextInterval();
        if (next <= now) next = now + this.nextInterval();
        this.queue.rescheduleTop(next);
      }
      if (this.busy[i]) {
        this.counters.skipped++;
        continue;
      }
      if (this.counters.inFlight >= this.maxInFlight) {
        this.counters.overLimit++;
        continue;
      }
      this.send(i);
    }
    if (this.opts.once && this.queue.size === 0 && this.counters.inFlight === 0) this.allDone();
    this.arm();
  };

  private send(i: number): void {
    const d = this.devices;
    const id = d.id(i);
    this.busy[i] = 1;
    this.counters.inFlight++;
    this.counters.sent++;
    void pollOnce(this.opts.target, { id, source: d.source(i) }, this.timeoutMs, this.path(id)).then((r) => {
      this.busy[i] = 0;
      this.counters.inFlight--;
      this.count(r);
      this.opts.onRecord?.(r);
      if (this.counters.inFlight === 0) {
        if (this.idle) {
          this.idle();
          this.idle = undefined;
        }
        if (this.opts.once && this.queue.size === 0) this.allDone();
      }
    });
  }

  private count(r: PollRecord): void {
    const c = this.counters;
    c.total++;
    if (isAnswered(r)) {
      const s = r.server ?? '(unnamed)';
      c.byServer[s] = (c.byServer[s] ?? 0) + 1;
    } else {
      c.failed++;
      c.lastError = r.error ?? `HTTP ${r.status}`;
    }
  }
}
