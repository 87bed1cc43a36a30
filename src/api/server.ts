// The management API: HTTP/JSON on a unix socket that only root can open
// (directory 0700, socket 0600), so `curl --unix-socket` works as well as the
// CLI. Handlers are registered per feature; errors come back as
// {"error": "..."} with a 4xx/5xx status, never as a stack trace: an
// operation the router refuses (OperationError) maps to its HTTP status here.
import { chmodSync, lstatSync, mkdirSync, unlinkSync, type Stats } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { dirname, resolve } from 'node:path';
import { oneLine } from '../config/problems.js';
import { OperationError, type Refusal } from '../control/errors.js';

/** A request the API itself refuses (bad body, bad parameter), with its HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const REFUSAL_STATUS: Record<Refusal, number> = { invalid: 400, 'not-found': 404, conflict: 409, 'too-large': 413 };

function statusOf(e: unknown): number {
  if (e instanceof ApiError) return e.status;
  if (e instanceof OperationError) return REFUSAL_STATUS[e.refusal];
  return 500;
}

export interface ApiRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

export type Handler = (req: ApiRequest) => unknown | Promise<unknown>;

/** A handler's answer that is not JSON (e.g. Prometheus' text format). */
export class TextBody {
  constructor(readonly text: string, readonly contentType: string) {}
}

/**
 * A JSON list too long to build at once (500,000 routes): its items come in
 * chunks, go out in slices of STREAM_SLICE_MS, and the event loop runs
 * between slices — timers (BFD) and packets never wait for the whole
 * answer, and memory holds one slice, not the list.
 */
export class JsonStream<T = unknown> {
  constructor(
    readonly chunks: Iterable<T[]>,
    readonly toJson: (item: T) => unknown = (item) => item,
  ) {}
}

/**
 * Sleep until the next timer tick (~1 ms), between slices of long work (a
 * listing, a bulk add): the daemon stays idle most of the time the work
 * takes. Only setImmediate between slices kept it runnable throughout, and
 * on a busy machine the kernel then lets it wait behind other processes
 * like any CPU hog — the packets with it (measured with 500,000 routes on 2
 * shared CPUs: ping p99 22-56 ms with setImmediate, 11 ms with a rest, idle
 * 5-14 ms; the listing took about 1.5 times as long).
 */
const rest = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/**
 * Long work cut into slices of `ms`: ask due() after each item (it looks at
 * the clock every 16 calls, performance.now() costs ~50 ns), and when it
 * says so, await rest().
 */
export class Slices {
  private start = performance.now();
  private n = 0;

  constructor(private readonly ms = STREAM_SLICE_MS) {}

  due(): boolean {
    return (++this.n & 15) === 0 && performance.now() - this.start >= this.ms;
  }

  /** The slice's time is spent, whatever due() said (a step that was not an item, e.g. sorting). */
  spent(): boolean {
    return performance.now() - this.start >= this.ms;
  }

  async rest(): Promise<void> {
    await rest();
    this.start = performance.now();
  }
}

interface Entry {
  method: string;
  parts: string[];
  handler: Handler;
}

const MAX_BODY = 1 << 20;

export class ApiServer {
  private readonly entries: Entry[] = [];
  private server: Server | undefined;
  private path = '';

  /** Register `METHOD /path/:param`. */
  on(method: string, path: string, handler: Handler): void {
    this.entries.push({ method, parts: path.split('/').filter(Boolean), handler });
  }

  async listen(path: string): Promise<void> {
    const socketPath = resolve(path);
    checkSocketPath(socketPath);
    const dir = dirname(socketPath);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const existing = lstatOrNull(socketPath);
    if (existing) {
      // Only a socket may be removed: anything else at that path is somebody's file.
      if (!existing.isSocket()) throw new ApiError(409, `${socketPath} exists and is not a socket: refusing to replace it (choose another socket path)`);
      if (await socketAnswers(socketPath)) throw new ApiError(409, `another daemon is already serving ${socketPath}`);
      unlinkSync(socketPath); // stale, left by a daemon that was killed
    }
    const server = createServer((req, res) => void this.dispatch(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Create the socket with no access for anyone but root before chmod.
      const old = process.umask(0o177);
      server.listen(socketPath, () => {
        process.umask(old);
        server.off('error', reject);
        resolve();
      });
    });
    chmodSync(socketPath, 0o600);
    this.server = server;
    this.path = socketPath;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = requestUrl(req.url ?? '/');
      const parts = url.pathname.split('/').filter(Boolean).map(decodePathPart);
      let pathMatched = false;
      for (const e of this.entries) {
        const params = match(e.parts, parts);
        if (!params) continue;
        pathMatched = true;
        if (e.method !== req.method) continue;
        const body = await readBody(req);
        const result = await e.handler({ params, query: url.searchParams, body });
        if (result instanceof JsonStream) await stream(res, result);
        else send(res, 200, result ?? { ok: true });
        return;
      }
      throw new ApiError(pathMatched ? 405 : 404, pathMatched ? `method ${req.method} not allowed on ${url.pathname}` : `no such endpoint: ${url.pathname}`);
    } catch (e) {
      // One line, whatever the request put into the message (a port name with a line break, say).
      send(res, statusOf(e), { error: oneLine((e as Error).message) });
    }
  }
}

/**
 * The request target as a URL. A path is a path even when it starts with
 * "//" (resolved against a base, "//x/…" would name a host x); anything else
 * must be an absolute URL.
 */
function requestUrl(target: string): URL {
  try {
    return target.startsWith('/') ? new URL(`http://tunroute${target}`) : new URL(target);
  } catch {
    throw new ApiError(400, `malformed request target: ${JSON.stringify(target)}`);
  }
}

function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, `malformed %-escape in the path: "${part}"`);
  }
}

function match(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    if (p.startsWith(':')) params[p.slice(1)] = parts[i]!;
    else if (p !== parts[i]) return null;
  }
  return params;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'request body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return {};
  let v: unknown;
  try {
    v = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'request body is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 'request body must be a JSON object');
  return v as Record<string, unknown>;
}

/**
 * Work done between two turns of the event loop while a JsonStream goes
 * out: a time budget, not a count, so what one turn holds the loop (and the
 * packets and BFD timers waiting on it) for does not grow with the machine's
 * slowness or the size of an item.
 */
export const STREAM_SLICE_MS = 0.5;

/**
 * `[item,\nitem,…]` slice by slice: items are serialised until the slice's
 * time is spent, written, and the daemon rests (Slices.rest: timers and
 * packets first) before the next slice; while the client reads slowly the
 * next slice waits for the socket to drain. Memory holds one slice. Once the
 * head is out an error can only cut the answer short: the socket is closed,
 * and the client sees a truncated body, never a second status.
 */
async function stream<T>(res: ServerResponse, body: JsonStream<T>): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json' });
  let text = '[';
  let first = true;
  const slices = new Slices();
  /** Write the slice and rest; false once the client is gone. */
  const flush = async (): Promise<boolean> => {
    const flowing = res.write(text);
    text = '';
    if (!flowing) await drained(res);
    await slices.rest();
    return !res.destroyed;
  };
  try {
    for (const chunk of body.chunks) {
      for (const item of chunk) {
        text += (first ? '' : ',\n') + JSON.stringify(body.toJson(item));
        first = false;
        if (slices.due() && !(await flush())) return;
      }
      // A chunk's own making (the table's sorting and merging) counts too.
      if (slices.spent() && !(await flush())) return;
    }
    res.end(`${text}]\n`);
  } catch (e) {
    res.destroy(e as Error);
  }
}

/** Resolves when the socket takes more, or closes. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = body instanceof TextBody ? body.text : JSON.stringify(body, null, 1) + '\n';
  res.writeHead(status, { 'content-type': body instanceof TextBody ? body.contentType : 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A unix socket path holds at most 107 bytes (sun_path), and pseudo file systems hold no sockets. */
const SUN_PATH_MAX = 107;

function checkSocketPath(path: string): void {
  const bytes = Buffer.byteLength(path);
  if (bytes > SUN_PATH_MAX) throw new ApiError(400, `socket path is ${bytes} bytes long; a unix socket path holds at most ${SUN_PATH_MAX}: ${path}`);
  if (/^\/(proc|sys|dev)(\/|$)/.test(path)) throw new ApiError(400, `${path}: /proc, /sys and /dev are no place for a socket`);
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
