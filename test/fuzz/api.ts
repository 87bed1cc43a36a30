// Fuzz target: the management API as the daemon serves it — an ApiServer
// on a unix socket with every handler the daemon registers (router, policy,
// BFD, RIP, NAT, metrics, triggers, config and reload), over a router with
// every feature on and in-memory devices. Each run sends a few requests at
// once: methods, paths (the endpoints, their parameters, junk and %-escapes),
// query strings and bodies (objects made of the API's field names with
// values of every type, other JSON, broken JSON, binary, more than the 1 MiB
// limit). Invariants: every request is answered, within 15 s; the status is
// 200 or 4xx (never 5xx); the answer is JSON (an object; errors carry one
// line in `error`) — but for GET /metrics, which is Prometheus text.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { registerConfigApi } from '../../src/api/config-api.js';
import { ApiServer } from '../../src/api/server.js';
import { loadRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon, type Daemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { asOperationError, reloadDaemon } from '../../src/daemon/reload.js';
import { MemoryDevice } from '../support/memory-device.js';
import { edits, mutateText } from './mutate.js';
import { ROUTER_CONFIG } from './packet-path.js';
import type { FuzzTarget, TargetInstance } from './target.js';

class Failure extends Error {}

/** An answer later than this is a hang (generous: the machine may be busy, and some bodies are 2 MB). */
const ANSWER_MS = 15_000;

const ENDPOINTS = [
  '/v1/router', '/v1/ports', '/v1/ports/:name/block', '/v1/ports/:name/unblock', '/v1/ports/:name/drain', '/v1/routes',
  '/v1/routes/lookup', '/v1/stats', '/v1/bfd', '/v1/rip', '/v1/policy', '/v1/policy/:name', '/v1/nat', '/v1/triggers',
  '/v1/triggers/:name/cancel', '/v1/history', '/v1/config', '/v1/reload', '/v1/log', '/metrics',
];
const NAMES = ['lan', 'wan', 'r3', 'srv', 'appliance', 'web', 'dns', 'cut', 'nope', '', '%', '%zz', '%2F', '..', '%00', '%0A', 'caf%C3%A9', '%FF%FE', 'x'.repeat(200)];
const FIELDS = ['prefix', 'port', 'via', 'metric', 'bfd', 'name', 'from', 'to', 'protocol', 'dstPorts', 'index', 'before', 'maxMs', 'level',
  'records', 'client', 'server', 'status', 'path', 'time', 'device', 'match', 'action', 'api', 'file', 'addr', '__proto__', 'constructor'];
const VALUES: unknown[] = [
  null, true, false, 0, -1, 1, 7, 1.5, 2 ** 31, 2 ** 53 + 2, 1e308, 65535, 200, 404, 3_600_000, 3_600_001,
  '', 'lan', 'wan', 'r3', 'srv', 'x', 'new', 'appliance', 'dns', 'cut', 'block', 'drain', 'debug', 'silent', 'info', 'tcp', 'udp', 'icmp', '47', '80', '80-443', '443-80',
  '10.0.12.2', '10.0.13.2', '10.0.1.9', '10.0.1.7', '10.0.2.2', '10.0.12.1', '1.1.1.1', '300.1.1.1', '8.8.8.0/24', '9.9.9.0/24', '10.0.0.0/8', '1.1.1.1/24',
  '0.0.0.0/0', '224.0.0.0/4', '127.0.0.1/32', '8.8.8.0/33', '/tmp/x.log', 'relative.log', '/poll', 's2', '\n', 'a\u2028b', '😀', 'x'.repeat(5000),
  [], [1], ['lan'], {}, { client: '10.0.2.2' }, { client: '10.0.2.2', server: 's2', status: 200 },
  [{ time: 1, client: '10.0.2.2', path: '/poll', status: 200, server: 's2' }], [{}], [null],
];

const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('object' as const), fields: fc.array(fc.tuple(fc.nat({ max: FIELDS.length - 1 }), fc.nat({ max: VALUES.length - 1 })), { maxLength: 8 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), value: fc.nat({ max: VALUES.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('broken' as const), fields: fc.array(fc.tuple(fc.nat({ max: FIELDS.length - 1 }), fc.nat({ max: VALUES.length - 1 })), { maxLength: 4 }), edits: edits(4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('binary' as const), bytes: fc.uint8Array({ maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), size: fc.constantFrom(1 << 20, (1 << 20) + 1, 2 << 20) }) },
);

export const apiRequest = fc.record({
  method: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') }, fc.constantFrom('PUT', 'PATCH', 'OPTIONS', 'HEAD')),
  path: fc.oneof(
    { weight: 6, arbitrary: fc.record({ endpoint: fc.nat({ max: ENDPOINTS.length - 1 }), name: fc.nat({ max: NAMES.length - 1 }) }) },
    { weight: 1, arbitrary: fc.array(fc.nat({ max: NAMES.length - 1 }), { maxLength: 5 }) },
  ),
  query: fc.array(fc.tuple(fc.constantFrom('addr', 'from', 'flows', 'x'), fc.nat({ max: VALUES.length - 1 })), { maxLength: 3 }),
  body,
});
type ApiRequestSpec = typeof apiRequest extends fc.Arbitrary<infer T> ? T : never;

function objectOf(fields: readonly [number, number][]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [f, v] of fields) Object.defineProperty(o, FIELDS[f]!, { value: VALUES[v], enumerable: true, writable: true, configurable: true });
  return o;
}

function pathOf(r: ApiRequestSpec): string {
  let path: string;
  if (Array.isArray(r.path)) path = '/' + r.path.map((i) => NAMES[i]).join('/');
  else path = ENDPOINTS[r.path.endpoint]!.replace(':name', NAMES[r.path.name]!);
  const q = r.query.map(([k, v]) => `${k}=${encodeURIComponent(typeof VALUES[v] === 'string' ? (VALUES[v] as string) : JSON.stringify(VALUES[v]) ?? '')}`).join('&');
  return q ? `${path}?${q}` : path;
}

function bodyOf(r: ApiRequestSpec): Buffer | null {
  const b = r.body;
  switch (b.kind) {
    case 'none': return null;
    case 'object': return Buffer.from(JSON.stringify(objectOf(b.fields)));
    case 'json': return Buffer.from(JSON.stringify(VALUES[b.value]) ?? 'null');
    case 'broken': return Buffer.from(mutateText(JSON.stringify(objectOf(b.fields)), b.edits));
    case 'binary': return Buffer.from(b.bytes);
    case 'huge': return Buffer.alloc(b.size, 0x20);
  }
}

interface Answer { status: number; type: string; text: string }

export class ApiHarness {
  fed = 0;
  /** The longest wait for an answer, ms. */
  slowest = 0;
  readonly tally: Record<string, number> = {};
  private readonly dir = mkdtempSync(join(tmpdir(), 'tunroute-fuzz-api-'));
  readonly socket = join(this.dir, 'api.sock');
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private daemon!: Daemon;
  private readonly api = new ApiServer();

  async start(): Promise<void> {
    const file = join(this.dir, 'router.json');
    writeFileSync(file, JSON.stringify({ ...ROUTER_CONFIG, socket: this.socket, triggers: [{ name: 'cut', api: true, match: { client: '10.0.2.2' }, action: 'block', port: 'wan' }] }));
    const config = loadRouterConfig(file);
    this.daemon = assembleDaemon(config, silentLogger(), this.api, { openDevice: (pc) => new MemoryDevice(pc.device) });
    const reload = () => {
      try {
        return reloadDaemon(this.daemon, file);
      } catch (e) {
        throw asOperationError(e);
      }
    };
    registerConfigApi(this.api, { config: () => this.daemon.router.config, reload, setLogLevel: () => undefined });
    await this.api.listen(this.socket);
    this.daemon.router.start();
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.api.close();
    this.daemon.router.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private count(k: string): void {
    this.tally[k] = (this.tally[k] ?? 0) + 1;
  }

  private send(method: string, path: string, payload: Buffer | null): Promise<Answer | { reset: string }> {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        req.destroy();
        reject(new Failure(`${method} ${path}: no answer within ${ANSWER_MS / 1000} s`));
      }, ANSWER_MS);
      const req = request({ socketPath: this.socket, method, path, agent: this.agent, headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {} }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          this.slowest = Math.max(this.slowest, performance.now() - t0);
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (e) => {
          clearTimeout(timer);
          reject(e);
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // The server answers 413 before it has read a too-large body, and may close while we still write it.
        if (payload && payload.length > 1 << 20 && (e.code === 'EPIPE' || e.code === 'ECONNRESET')) resolve({ reset: e.code });
        else reject(new Failure(`${method} ${path}: ${e.message}`));
      });
      if (payload) req.end(payload);
      else req.end();
    });
  }

  async run(list: readonly ApiRequestSpec[]): Promise<void> {
    await Promise.all(list.map((r) => this.one(r)));
  }

  private async one(r: ApiRequestSpec): Promise<void> {
    const path = pathOf(r);
    const payload = bodyOf(r);
    const what = `${r.method} ${path}${payload ? ` with ${payload.length > 300 ? `${payload.length} bytes` : JSON.stringify(payload.toString('utf8'))}` : ''}`;
    const a = await this.send(r.method, path, payload);
    this.fed++;
    if ('reset' in a) {
      this.count(`huge-body:${a.reset}`);
      return;
    }
    const fail = (m: string) => {
      throw new Failure(`${what}: ${m} (status ${a.status}, ${a.type}: ${a.text.slice(0, 500)})`);
    };
    if (!(a.status === 200 || (a.status >= 400 && a.status < 500))) fail('status neither 200 nor 4xx');
    this.count(`status:${a.status}`);
    if (r.method === 'HEAD') return;
    if (a.status === 200 && path.split('?')[0] === '/metrics') {
      if (!a.type.startsWith('text/plain')) fail('metrics not as text');
      return;
    }
    if (!a.type.startsWith('application/json')) fail('answer not JSON');
    let v: unknown;
    try {
      v = JSON.parse(a.text);
    } catch {
      fail('answer does not parse as JSON');
    }
    if (v === null || typeof v !== 'object') fail('answer is not a JSON object or list');
    if (a.status >= 400) {
      const e = (v as { error?: unknown }).error;
      if (typeof e !== 'string' || e === '') fail('an error without its message');
      if (/[\n\r\u2028\u2029]/.test(e as string)) fail('an error message of more than one line');
      if (/\n\s+at /.test(e as string)) fail('a stack trace in the answer');
    }
  }
}

const BATCH = 4;

export const apiTarget: FuzzTarget = {
  name: 'api',
  description: 'random methods, paths, queries and bodies against a live ApiServer with the daemon\'s handlers',
  inputsPerRun: BATCH,
  runsPerChunk: 500,
  async create(): Promise<TargetInstance> {
    const h = new ApiHarness();
    await h.start();
    return {
      property: fc.asyncProperty(fc.array(apiRequest, { minLength: 1, maxLength: BATCH * 2 - 1 }), async (list) => {
        await h.run(list);
        return true;
      }),
      inputs: () => h.fed,
      tally: () => ({ ...h.tally, 'slowest-answer-ms(max)': Math.round(h.slowest) }),
      close: () => h.close(),
    };
  },
};
