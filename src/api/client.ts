// A client for a running daemon's API, and the rule that picks which daemon:
// --socket PATH, or --router NAME (→ /run/tunroute/NAME.sock), or
// $TUNROUTE_SOCKET, or the only socket in /run/tunroute.
import { existsSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
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
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof ClientError) reject(e);
      else if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') reject(new ClientError(`no daemon is listening on ${socket}`));
      else if (e.code === 'EACCES') reject(new ClientError(`permission denied on ${socket} (the API is root-only)`));
      else reject(new ClientError(`cannot reach daemon at ${socket}: ${e.message}`));
    });
    if (payload) req.write(payload);
    req.end();
  });
}
