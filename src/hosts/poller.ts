// The polling engine of an appliance (one) or a fleet of them (many): each
// device polls the service URL over a fresh TCP connection from its own
// source address, on a steady, jittered schedule. Every poll becomes a
// PollRecord; running counters give the live picture.
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Device {
  /** Device id, sent as ?device=ID (e.g. "dev-000001"). */
  id: string;
  /** Source IPv4 address the device polls from. */
  source: string;
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
  /** Why no (complete) response came: an errno code such as ECONNREFUSED, or "timeout". */
  error: string | null;
}

/** A poll is answered when a 2xx response arrived in time. */
export function isAnswered(r: PollRecord): boolean {
  return r.error === null && r.status !== null && r.status >= 200 && r.status < 300;
}

export interface PollCounters {
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
}

const USER_AGENT = 'tunroute-appliance/0.1';
/** Poll answers are small; anything bigger is cut off. */
const MAX_BODY = 64 * 1024;

/** The request path of one device's poll: the target's path and query plus device=ID. */
export function pollPath(target: URL, deviceId: string): string {
  const q = new URLSearchParams(target.search);
  q.set('device', deviceId);
  return `${target.pathname}?${q}`;
}

function errorText(e: Error): string {
  return (e as NodeJS.ErrnoException).code ?? e.message;
}

/** The answering server's name from a JSON body, if it has one. */
function serverInBody(body: string): string | null {
  try {
    const v = (JSON.parse(body) as { server?: unknown }).server;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * One poll: a fresh TCP connection from `device.source` (no agent, no
 * keep-alive — appliances connect anew each time), a deadline of `timeoutMs`
 * for the whole exchange. Never rejects: a failure is a record with `error`.
 */
export function pollOnce(target: URL, device: Device, timeoutMs: number): Promise<PollRecord> {
  return new Promise((resolve) => {
    const t = Date.now();
    const started = performance.now();
    let done = false;
    const finish = (status: number | null, server: string | null, error: string | null): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      const latencyMs = Math.round((performance.now() - started) * 10) / 10;
      resolve({ t, device: device.id, source: device.source, server, status, latencyMs, error });
    };
    const req = request({
      host: target.hostname,
      port: target.port || 80,
      path: pollPath(target, device.id),
      method: 'GET',
      agent: false,
      localAddress: device.source,
      headers: { 'user-agent': USER_AGENT, connection: 'close' },
    });
    const deadline = setTimeout(() => {
      finish(null, null, 'timeout');
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish(null, null, errorText(e)));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < MAX_BODY) body += chunk;
      });
      res.on('end', () => {
        const header = res.headers['x-served-by'];
        finish(res.statusCode ?? null, typeof header === 'string' ? header : serverInBody(body), null);
      });
      res.on('error', (e) => finish(res.statusCode ?? null, null, errorText(e)));
    });
    req.end();
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
  devices: readonly Device[];
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
  onRecord?: (r: PollRecord) => void;
  /** Random numbers in [0, 1) (default Math.random; replace in tests). */
  random?: () => number;
}

export class Poller {
  readonly counters: PollCounters = { total: 0, byServer: {}, failed: 0, lastError: null, inFlight: 0, skipped: 0 };
  private readonly queue: DueQueue;
  /** Per device: is a poll outstanding? (At most one per device.) */
  private readonly busy: Uint8Array;
  private readonly jitter: number;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private idle: (() => void) | undefined;

  constructor(private readonly opts: PollerOptions) {
    if (!(opts.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    this.jitter = Math.min(1, Math.max(0, opts.jitter ?? 0.2));
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.random = opts.random ?? Math.random;
    this.queue = new DueQueue(opts.devices.length);
    this.busy = new Uint8Array(opts.devices.length);
  }

  /** One interval with jitter: uniform in interval × [1 − jitter, 1 + jitter], at least 1 ms. */
  private nextInterval(): number {
    return Math.max(1, this.opts.intervalMs * (1 + this.jitter * (2 * this.random() - 1)));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const now = performance.now();
    const spread = this.opts.spreadFirst ?? true;
    const n = this.opts.devices.length;
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

  private arm(): void {
    if (!this.running || this.queue.size === 0) return;
    this.timer = setTimeout(this.tick, Math.max(0, this.queue.peekDue() - performance.now()));
  }

  private readonly tick = (): void => {
    const now = performance.now();
    while (this.queue.size > 0 && this.queue.peekDue() <= now) {
      const i = this.queue.peekDevice();
      // Keep each device's own rhythm; but after a stall (the event loop was
      // blocked), start afresh from now rather than firing a burst to catch up.
      let next = this.queue.peekDue() + this.nextInterval();
      if (next <= now) next = now + this.nextInterval();
      this.queue.rescheduleTop(next);
      if (this.busy[i]) {
        this.counters.skipped++;
        continue;
      }
      this.send(i);
    }
    this.arm();
  };

  private send(i: number): void {
    const device = this.opts.devices[i]!;
    this.busy[i] = 1;
    this.counters.inFlight++;
    void pollOnce(this.opts.target, device, this.timeoutMs).then((r) => {
      this.busy[i] = 0;
      this.counters.inFlight--;
      this.count(r);
      this.opts.onRecord?.(r);
      if (this.counters.inFlight === 0 && this.idle) {
        this.idle();
        this.idle = undefined;
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
