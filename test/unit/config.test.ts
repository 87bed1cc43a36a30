// Config validation: every mistake is one line naming the field.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/fields.js';
import { loadRouterConfig, parseRouterConfig } from '../../src/config/router-config.js';

const good = () => ({
  router: 'r1',
  ports: [
    { name: 'lan', device: 'r1-lan', netns: 'hostA', address: '10.0.1.1/24' },
    { name: 'wan', device: 'r1-wan', address: '10.0.12.1/30', mtu: 1400 },
  ],
  routes: [{ prefix: '1.1.1.1/32', port: 'wan', via: '10.0.12.2', metric: 1 }],
});

/** A config as parsed JSON: any field may be poked at. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test mutates arbitrary JSON on purpose
type Json = any;

function fails(mutate: (c: Json) => void, field: RegExp) {
  const c = good();
  mutate(c);
  assert.throws(() => parseRouterConfig(c), (e: unknown) => {
    assert.ok(e instanceof ConfigError, String(e));
    assert.match((e as Error).message, field);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    return true;
  });
}

test('a good config parses with defaults', () => {
  const c = parseRouterConfig(good());
  assert.equal(c.router, 'r1');
  assert.equal(c.socket, '/run/tunroute/r1.sock');
  assert.equal(c.ports[0]!.mtu, 1500);
  assert.equal(c.ports[1]!.mtu, 1400);
  assert.equal(c.ports[0]!.netns, 'hostA');
  assert.equal(c.ports[1]!.netns, '');
  assert.equal(c.routes[0]!.metric, 1);
  assert.equal(c.routes[0]!.bfd, false);
});

test('bad values name their field', () => {
  fails((c) => { c.ports[0].address = '10.0.1.300/24'; }, /^ports\[0\]\.address: "10\.0\.1\.300" is not an IPv4 address/);
  fails((c) => { c.routes[0].prefix = '1.1.1.1/24'; }, /^routes\[0\]\.prefix: .*host bits/);
  fails((c) => { c.routes[0].prefix = '1.1.1.0/33'; }, /^routes\[0\]\.prefix: .*0-32/);
  fails((c) => { c.routes[0].port = 'nope'; }, /^routes\[0\]\.port: unknown port "nope"/);
  fails((c) => { c.routes[0].via = '192.168.0.1'; }, /^routes\[0\]\.via: next hop is not on port "wan"/);
  fails((c) => { c.routes[0].metric = -1; }, /^routes\[0\]\.metric: must be an integer/);
  fails((c) => { c.ports[1].name = 'lan'; }, /^ports\[1\]\.name: duplicate port name "lan"/);
  fails((c) => { c.ports[1].device = 'r1-lan'; c.ports[1].netns = 'hostA'; }, /^ports\[1\]\.device: duplicate device/);
  fails((c) => { c.ports[1].address = '10.0.1.1/24'; }, /^ports\[1\]\.address: duplicate address/);
  fails((c) => { delete c.ports[0].device; }, /^ports\[0\]\.device: missing/);
  fails((c) => { delete c.router; }, /^router: missing/);
  fails((c) => { c.ports = []; }, /^ports: at least one port/);
  fails((c) => { c.ports[0].device = 'a-very-long-device-name'; }, /^ports\[0\]\.device: .* 15/);
  fails((c) => { c.ports[0].mtu = 20; }, /^ports\[0\]\.mtu: must be an integer from 68/);
  fails((c) => { c.ports[0].colour = 'red'; }, /^ports\[0\]\.colour: unknown field/);
  fails((c) => { c.routes = {}; }, /^routes: must be a list/);
  fails((c) => { c.routes[0].bfd = 'yes'; }, /^routes\[0\]\.bfd: must be true or false/);
});

test('file errors name the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tunroute-config-'));
  try {
    assert.throws(() => loadRouterConfig(join(dir, 'missing.json')), /missing\.json: cannot read/);
    writeFileSync(join(dir, 'bad.json'), '{ "router": ');
    assert.throws(() => loadRouterConfig(join(dir, 'bad.json')), /bad\.json: not valid JSON/);
    writeFileSync(join(dir, 'r.json'), JSON.stringify({ ...good(), routes: [{ prefix: 'x', port: 'wan' }] }));
    assert.throws(() => loadRouterConfig(join(dir, 'r.json')), /r\.json: routes\[0\]\.prefix: "x" is not an IPv4 prefix/);
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('every example in config/ is a valid router config', async () => {
  const { readdirSync } = await import('node:fs');
  const dir = new URL('../../../config/', import.meta.url).pathname;
  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  assert.ok(files.length >= 3);
  for (const f of files) loadRouterConfig(join(dir, f));
});
