// A client for a running daemon's API, and the rule that picks which daemon:
// --socket PATH, or --router NAME (→ /run/tunroute/NAME.sock), or
// $TUNROUTE_SOCKET, or the only socket in /run/tunroute.
import { existsSync, readdirSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { JsonArrayReader } from './json-array-reader.js';
import { SOCKET_DIR, socketPathFor } from '../config/router-config.js';

/** The daemon could not be reached, or refused the request (`status`: its HTTP status). */
export class ClientError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export function resolveSocket(opts: { socket?: string; router?: string }): string {
  if (opts.socket) return opts.socket;
  if (opts.router) return socketPathFor(opts.router);
  if (process.env.TUNROUTE_SOCKET) return process.env.TUNROUTE_SOCKET;
  const found = existsSync(SOCKET_DIR) ? readdirSync(SOCKET_DIR).filter((f) => f.endsWith('.sock')) : [];
  if (found.length === 1) return `${SOCKET_DIR}/${found[0]}`;
  if (found.length === 0) throw new ClientError(`no tunroute daemon found in ${SOCKET_DIR} (start one with "tunroute run --config FILE", or give --socket PATH)`);
  throw new ClientError(`several daemons are running (${found.map((f) => f.replace(/\.sock$/, '')).join(', ')}): choose one with --router NAME`);
}

export async function call<T = unknown>(socket: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<T>((resolve, reject) => {
    const req = request({ socketPath: socket, method, path, headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          reject(new ClientError(`daemon answered with something that is not JSON (HTTP ${res.statusCode})`));
          return;
        }
        if ((res.statusCode ?? 500) >= 400) {
          reject(new ClientError((json as { error?: string }).error ?? `HTTP ${res.statusCode}`, res.statusCode));
        } else resolve(json as T);
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new ClientError(`daemon at ${socket} did not answer within ${timeoutMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(reachError(socket, e)));
    if (payload) req.write(payload);
    req.end();
  });
}

/** One line for a failed connection or request. */
function reachError(socket: string, e: NodeJS.ErrnoException): ClientError {
  if (e instanceof ClientError) return e;
  if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') return new ClientError(`no daemon is listening on ${socket}`);
  if (e.code === 'EACCES') return new ClientError(`permission denied on ${socket} (the API is root-only)`);
  return new ClientError(`cannot reach daemon at ${socket}: ${e.message}`);
}

/**
 * GET a list the daemon streams (GET /v1/routes): its items a batch at a
 * time as they arrive, never the whole answer in memory. The consumer's pace
 * is the daemon's: while a batch is being handled, nothing more is read.
 * `idleMs` bounds a silence, not the whole answer (500,000 routes take
 * seconds). Throws a ClientError for a refusal, or an answer cut short.
 */
export async function* callList<T = unknown>(socket: string, path: string, idleMs = 10_000): AsyncGenerator<T[]> {
  let req: ClientRequest | undefined;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    req = request({ socketPath: socket, method: 'GET', path }, resolve);
    req.setTimeout(idleMs, () => req!.destroy(new ClientError(`daemon at ${socket} sent nothing for ${idleMs} ms`)));
    req.on('error', (e: NodeJS.ErrnoException) => reject(reachError(socket, e)));
    req.end();
  });
  res.setEncoding('utf8');
  const reader = new JsonArrayReader<T>();
  try {
    if ((res.statusCode ?? 500) >= 400) {
      let text = '';
      for await (const piece of res) text += piece as string;
      let error: string | undefined;
      try {
        error = (JSON.parse(text) as { error?: string }).error;
      } catch {
        /* not JSON: the status says it */
      }
      throw new ClientError(error ?? `HTTP ${res.statusCode}`, res.statusCode);
    }
    for await (const piece of res) {
      const items = reader.push(piece as string);
      if (items.length > 0) yield items;
    }
    reader.end();
  } catch (e) {
    if (e instanceof ClientError) throw e;
    const why = (e as NodeJS.ErrnoException).code === 'ECONNRESET' || (e as Error).message === 'aborted'
      ? `the list was cut short after ${reader.count} items` : (e as Error).message;
    throw new ClientError(`daemon at ${socket}: ${why}`);
  } finally {
    req?.destroy();
  }
}
