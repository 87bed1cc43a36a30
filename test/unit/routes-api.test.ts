// The route API at a size: POST /v1/routes takes a list (checked whole
// before anything is added), GET /v1/routes streams the table in chunks
// with the event loop running in between.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callList, type ClientError } from '../../src/api/client.js';
import { ApiServer } from '../../src/api/server.js';
import { ROUTES_PER_REQUEST } from '../../src/api/types.js';
import { loadRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon, type Daemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { MemoryDevice } from '../support/memory-device.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-routes-api-'));
const socket = join(dir, 'api.sock');
let daemon: Daemon;
const api = new ApiServer();

before(async () => {
  const file = join(dir, 'r1.json');
  writeFileSync(file, JSON.stringify({
    router: 'r1', socket,
    ports: [{ name: 'lan', device: 'lan0', address: '10.0.1.1/24' }, { name: 'wan', device: 'wan0', address: '10.0.12.1/30' }],
  }));
  daemon = assembleDaemon(loadRouterConfig(file), silentLogger(), api, { openDevice: (pc) => new MemoryDevice(pc.device) });
  daemon.router.start();
  await api.listen(socket);
});
after(async () => {
  await api.close();
  daemon.router.stop();
  rmSync(dir, { recursive: true, force: true });
});

function call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string; chunked: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text, chunked: res.headers['transfer-encoding'] === 'chunked' }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

const route = (i: number) => ({ prefix: `${20 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, port: 'wan', via: '10.0.12.2', metric: 1 + (i % 5) });

test('a list of routes with one bad entry adds nothing, and the error names the entry', async () => {
  const list = [route(0), route(1), { ...route(2), port: 'nope' }, route(3)];
  const r = await call('POST', '/v1/routes', { routes: list });
  assert.equal(r.status, 400);
  const error = (JSON.parse(r.text) as { error: string }).error;
  assert.match(error, /^nothing added: routes\[2\]\.port: unknown port "nope"/);
  assert.equal(daemon.router.rib.size, 2, 'only the connected routes');
  assert.equal((await call('POST', '/v1/routes', { routes: 'x' })).status, 400);
  assert.equal((await call('POST', '/v1/routes', { routes: [], port: 'wan' })).status, 400);
  const tooMany = await call('POST', '/v1/routes', { routes: Array.from({ length: ROUTES_PER_REQUEST + 1 }, () => ({})) });
  assert.equal(tooMany.status, 400);
  assert.match(tooMany.text, /at most 10000 per request/);
});

test('30,000 routes in three requests; GET /v1/routes streams all of them in order, and timers keep running meanwhile', async () => {
  for (let k = 0; k < 3; k++) {
    const r = await call('POST', '/v1/routes', { routes: Array.from({ length: 10_000 }, (_, i) => route(k * 10_000 + i)) });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.text), { added: 10_000 });
  }
  assert.equal(daemon.router.rib.size, 30_002);
  // A 1 ms timer measures how long the event loop is held while the list goes out.
  let last = performance.now();
  let longest = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  }, 1);
  const r = await call('GET', '/v1/routes');
  clearInterval(tick);
  assert.equal(r.status, 200);
  assert.ok(r.chunked, 'sent in chunks');
  const routes = JSON.parse(r.text) as { id: number }[];
  assert.equal(routes.length, 30_002);
  assert.deepEqual(routes.map((x) => x.id), daemon.router.rib.routes().map((x) => x.id), 'in the order of the table (prefix, length, metric)');
  console.log(`# GET /v1/routes, 30,002 routes: ${r.text.length} bytes; the event loop was never held longer than ${longest.toFixed(1)} ms`);
});

test('the client reads the streamed list in batches (callList), and the CLI prints it whole: a table, or the JSON of the list', async () => {
  let n = 0;
  let batches = 0;
  const ids: number[] = [];
  for await (const batch of callList<{ id: number }>(socket, '/v1/routes')) {
    batches++;
    n += batch.length;
    for (const r of batch) ids.push(r.id);
  }
  assert.equal(n, daemon.router.rib.size);
  assert.ok(batches > 1, `${batches} batches`);
  assert.deepEqual(ids, daemon.router.rib.routes().map((x) => x.id));
  await assert.rejects(async () => {
    for await (const _ of callList(socket, '/v1/nope')) assert.fail('no items from a 404');
  }, (e: ClientError) => e.status === 404 && /no such endpoint/.test(e.message));

  const bin = new URL('../../../bin/tunroute.js', import.meta.url).pathname;
  const cli = (...args: string[]) => new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [bin, '--socket', socket, ...args], { maxBuffer: 64 << 20 }, (e, out) => (e ? reject(e) : resolve(out))));
  const json = await cli('--json', 'route', 'list');
  const list = JSON.parse(json) as { id: number }[];
  assert.equal(json, `${JSON.stringify(list, null, 2)}\n`, 'the text JSON.stringify(list, null, 2) gives');
  assert.deepEqual(list.map((r) => r.id), ids);
  const lines = (await cli('route', 'list')).split('\n');
  assert.equal(lines.pop(), '', 'ends with a line break');
  assert.equal(lines.length, ids.length + 1, 'a header and a line per route');
  assert.match(lines[0]!, /^PREFIX +VIA +PORT +METRIC +SOURCE +STATE +WHY +AGE$/);
  assert.match(lines[lines.length - 1]!, /^20\.117\.47\.0\/24 +10\.0\.12\.2 +wan +5 +api +\*active +- +\d+s$/);
});
