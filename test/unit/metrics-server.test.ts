// The TCP metrics server (`metricsListen`): GET /metrics of an assembled
// daemon, in the Prometheus text format, and nothing else — any other path
// or method is a 404, so the API itself never shows on a TCP port.
import assert from 'node:assert/strict';
import { request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { METRICS_CONTENT_TYPE, serveMetrics } from '../../src/api/metrics.js';
import { ApiServer } from '../../src/api/server.js';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon, type Daemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { good } from '../support/config-corpus.js';
import { MemoryDevice } from '../support/memory-device.js';

let daemon: Daemon;
let server: Server;
let port: number;

before(async () => {
  daemon = assembleDaemon(parseRouterConfig(good()), silentLogger(), new ApiServer(), { openDevice: (pc) => new MemoryDevice(pc.device) });
  daemon.router.start();
  server = await serveMetrics('127.0.0.1', 0, daemon.metrics);
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await new Promise((resolve) => server.close(resolve));
  daemon.router.stop();
  await daemon.router.stopped();
});

function fetchText(path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; length: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], length: res.headers['content-length'], body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to ${method} ${path} in 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

test('GET /metrics: 200, the exposition content type and length, the daemon\'s ports and routes', async () => {
  const r = await fetchText('/metrics');
  assert.equal(r.status, 200);
  assert.equal(r.type, METRICS_CONTENT_TYPE);
  assert.equal(Number(r.length), Buffer.byteLength(r.body));
  assert.match(r.body, /^# HELP tunroute_port_up /m);
  assert.match(r.body, /^tunroute_port_up\{port="lan",state="up"\} 1$/m);
  assert.match(r.body, /^tunroute_port_up\{port="wan",state="up"\} 1$/m);
  assert.ok(r.body.endsWith('\n'));
  const q = await fetchText('/metrics?x=1');
  assert.equal(q.status, 200, 'a query string is ignored');
});

test('anything else is a 404 with one line: other paths (the API\'s too) and other methods', async () => {
  for (const [path, method] of [['/', 'GET'], ['/v1/routes', 'GET'], ['/metrics/x', 'GET'], ['/metrics', 'POST'], ['/metrics', 'DELETE']] as const) {
    const r = await fetchText(path, method);
    assert.deepEqual([r.status, r.type, r.body], [404, 'text/plain', 'only GET /metrics here\n'], `${method} ${path}`);
  }
});

test('a taken address is refused (the daemon turns it into its one-line error)', async () => {
  await assert.rejects(serveMetrics('127.0.0.1', port, daemon.metrics), /EADDRINUSE/);
});
