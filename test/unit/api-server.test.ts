// The API server's own handling of requests, before any handler: odd
// request targets and failing handlers give a JSON answer with a 4xx status
// and a one-line error, never a 500 or a stack trace.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiServer } from '../../src/api/server.js';
import { OperationError } from '../../src/control/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-api-server-'));
const socket = join(dir, 'api.sock');
const api = new ApiServer();
api.on('GET', '/v1/ping', () => ({ pong: true }));
api.on('GET', '/v1/things/:name', ({ params }) => {
  throw new OperationError('not-found', `no thing named "${params.name}"`);
});

before(() => api.listen(socket));
after(async () => {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
});

function get(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method: 'GET' }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('a path starting with "//" is a path, not a host: 404/400, never 500 (found by fuzzing)', async () => {
  const a = await get('//%2F/%/wan');
  assert.equal(a.status, 400);
  assert.match(String(a.body.error), /^malformed %-escape in the path: "%"$/);
  const c = await get('//%2F/wan');
  assert.equal(c.status, 404);
  assert.equal(c.body.error, 'no such endpoint: //%2F/wan');
  // Empty segments are ignored (as in /v1//ping): //v1/ping is /v1/ping, not /ping on a host "v1".
  assert.deepEqual((await get('//v1/ping')).body, { pong: true });
  assert.deepEqual((await get('/v1//ping')).body, { pong: true });
});

test('an error message stays one line when the request put a line break into it (found by fuzzing)', async () => {
  const a = await get('/v1/things/a%0Ab%E2%80%A8c');
  assert.equal(a.status, 404);
  assert.equal(a.body.error, 'no thing named "a\\nb\\u2028c"');
});
