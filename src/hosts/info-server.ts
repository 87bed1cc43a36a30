// The information-providing server (server 1 or server 2 of the method):
// answers each appliance's poll with its setting data and writes one access
// log line per request. That access log is the "history information" whose
// appearance on server 2 triggers the port block, so it is written at once.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createWriteStream, existsSync, renameSync, statSync, type WriteStream } from 'node:fs';
import type { AddressInfo } from 'node:net';

export interface InfoServerOptions {
  /** Address to bind (the service address, e.g. 1.1.1.1). */
  address: string;
  port: number;
  /** Name reported in `x-served-by` and the JSON body (e.g. "server1"). */
  name: string;
  /** Access log, one JSON line per request (appended). */
  logFile?: string;
  /** Setting data served to devices; see deviceSettings(). */
  settings?: Record<string, unknown>;
  /** Allow HTTP keep-alive (appliances don't use it; off by default). */
  keepAlive?: boolean;
  /** Answer each request after this long, as a server that looks data up would (ms, default 0). */
  delayMs?: number;
  /** Where problems with the access log are reported (default: stderr). */
  onLogError?: (e: Error) => void;
  /** Rotate the access log when it reaches this many bytes (default: never). */
  logMaxBytes?: number;
  /** Rotated files kept: FILE.1 (newest) … FILE.N (default 10); older ones are overwritten. */
  logKeep?: number;
}

export interface InfoServer {
  /** The port actually bound (useful with port 0). */
  readonly port: number;
  /** Requests answered so far (any status). */
  readonly requests: number;
  /** Reopen the access log at its path (after rotation: call on SIGHUP). */
  reopenLog(): void;
  /** Times the server rotated its access log itself (logMaxBytes). */
  readonly logRotations: number;
  close(): Promise<void>;
}

/** One line of the access log. */
export interface AccessLogLine {
  time: number;
  client: string;
  path: string;
  status: number;
  server: string;
  device: string | null;
}

/** Paths that are the service; anything else is a 404 (still logged). */
const SERVICE_PATHS = new Set(['/', '/poll']);

/** 32-bit FNV-1a: a stable, dependency-free hash of a device id. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The setting data one device receives. Deterministic: the same device id and
 * settings object always give the same answer, on server 1 and on server 2,
 * which is what lets a rehearsal compare the two.
 *
 * `settings` holds defaults for every device plus an optional `devices` map of
 * per-device overrides, e.g.
 *   { "pollIntervalS": 86400, "firmware": "2.4.1", "devices": { "dev-000007": { "firmware": "2.5.0-beta" } } }
 * Derived per device: `pollOffsetS`, where in its interval the device should
 * poll, spread by a hash of its id (as a real fleet spreads its load).
 */
export function deviceSettings(device: string | null, settings: Record<string, unknown> = {}): Record<string, unknown> {
  const { devices, ...defaults } = settings;
  const found = device !== null && devices && typeof devices === 'object' ? (devices as Record<string, unknown>)[device] : undefined;
  const override = found && typeof found === 'object' ? (found as Record<string, unknown>) : {};
  const merged: Record<string, unknown> = { firmware: '1.0.0', ...defaults, ...override };
  const pollIntervalS = typeof merged.pollIntervalS === 'number' && merged.pollIntervalS >= 1 ? Math.floor(merged.pollIntervalS) : 86_400;
  if (device === null) return { ...merged, pollIntervalS };
  return { pollOffsetS: fnv1a(device) % pollIntervalS, ...merged, pollIntervalS };
}

/** The remote address as a plain dotted quad (a dual-stack socket says ::ffff:a.b.c.d). */
function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/**
 * The access log. An fs WriteStream opened with O_APPEND: each line is handed
 * to the kernel as soon as the previous write returns (sub-millisecond, no
 * timed buffering), so a process tailing the file sees a request right after
 * it is answered. O_APPEND also means a truncation by someone else is
 * harmless (we keep writing at the new end); a rename-style rotation by
 * someone else needs reopen(), which `tunroute serve` calls on SIGHUP.
 *
 * With `maxBytes` the log rotates itself by size: the current file is
 * finished (every queued line written), then renamed to FILE.1 (FILE.1 to
 * FILE.2, …), then a new FILE is opened. Lines of requests answered
 * meanwhile wait in memory and go to the new file. Because the old file is
 * complete before the new one exists, a tail that finishes the old file
 * when it sees the new one misses no line.
 */
class AccessLog {
  private stream: WriteStream;
  private bytes: number;
  /** Lines waiting while the log rotates (null when not rotating). */
  private held: string[] | null = null;
  /** Settles when a rotation in progress is done. */
  private rotating: Promise<void> = Promise.resolve();
  rotations = 0;

  constructor(private readonly file: string, private readonly onError: (e: Error) => void, private readonly maxBytes = Infinity, private readonly keep = 10) {
    this.bytes = existsSync(file) ? statSync(file).size : 0;
    this.stream = this.open();
  }

  private open(): WriteStream {
    const s = createWriteStream(this.file, { flags: 'a' });
    s.on('error', this.onError);
    return s;
  }

  write(line: AccessLogLine): void {
    const text = `${JSON.stringify(line)}\n`;
    if (this.held) {
      this.held.push(text);
      return;
    }
    this.stream.write(text);
    this.bytes += text.length;
    if (this.bytes >= this.maxBytes) this.rotate();
  }

  private rotate(): void {
    this.held = [];
    const old = this.stream;
    let done: () => void = () => undefined;
    this.rotating = new Promise((r) => (done = r));
    old.end(() => {
      try {
        for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
        renameSync(this.file, `${this.file}.1`);
        this.rotations++;
      } catch (e) {
        this.onError(new Error(`cannot rotate ${this.file}: ${(e as Error).message}`));
      }
      this.stream = this.open();
      const held = this.held ?? [];
      this.held = null;
      this.bytes = 0;
      for (const text of held) {
        this.stream.write(text);
        this.bytes += text.length;
      }
      done();
    });
  }

  reopen(): void {
    if (this.held) return; // rotating: a new file is being opened anyway
    const old = this.stream;
    this.stream = this.open();
    this.bytes = existsSync(this.file) ? statSync(this.file).size : 0;
    old.end();
  }

  async close(): Promise<void> {
    await this.rotating;
    await new Promise<void>((resolve) => this.stream.end(() => resolve()));
  }
}

/** The path and the device id of a request target such as "/poll?device=dev-000001". */
function splitTarget(url: string): { pathname: string; device: string | null } {
  const q = url.indexOf('?');
  if (q < 0) return { pathname: url, device: null };
  return { pathname: url.slice(0, q), device: new URLSearchParams(url.slice(q + 1)).get('device') };
}

export function startInfoServer(opts: InfoServerOptions): Promise<InfoServer> {
  const onLogError = opts.onLogError ?? ((e: Error) => process.stderr.write(`tunroute serve: access log: ${e.message}\n`));
  const log = opts.logFile ? new AccessLog(opts.logFile, onLogError, opts.logMaxBytes, opts.logKeep) : undefined;
  let requests = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const time = Date.now();
    const { pathname, device } = splitTarget(req.url ?? '/');
    const known = SERVICE_PATHS.has(pathname);
    const status = known ? 200 : 404;
    const body = known
      ? { server: opts.name, device, time, settings: deviceSettings(device, opts.settings) }
      : { server: opts.name, error: `no such path: ${pathname}` };
    // A poll carries no body; drain anything sent so the socket can close.
    req.resume();
    const respond = (): void => {
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-served-by': opts.name,
        ...(opts.keepAlive ? {} : { connection: 'close' }),
      });
      res.end(JSON.stringify(body));
      requests++;
      log?.write({ time, client: clientAddress(req), path: req.url ?? '/', status, server: opts.name, device });
    };
    if (opts.delayMs) setTimeout(respond, opts.delayMs);
    else respond();
  };

  const server = createServer(handle);

  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      void log?.close();
      reject(new Error(`cannot listen on ${opts.address}:${opts.port}: ${e.code ?? e.message}${e.code === 'EADDRNOTAVAIL' ? ' (the address is not assigned in this network namespace)' : ''}`));
    });
    // A deep accept queue: a fleet's polls arrive in parallel.
    server.listen({ host: opts.address, port: opts.port, backlog: 4096 }, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        get requests() {
          return requests;
        },
        reopenLog: () => log?.reopen(),
        get logRotations() {
          return log?.rotations ?? 0;
        },
        close: async () => {
          await new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          });
          await log?.close();
        },
      });
    });
  });
}
