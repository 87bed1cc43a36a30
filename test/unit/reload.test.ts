// Reload without restart, on a daemon over in-memory devices: only the
// difference is applied (what did not change is not touched: no FIB event),
// ports come and go, a changed port keeps its device, a bad config or a
// forbidden change is refused whole and the running config stays. And the
// running config, served back in the file's format, loads again unchanged.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { pino } from 'pino';
import { configJson } from '../../src/api/config-api.js';
import { full } from '../support/config-corpus.js';
import { ApiServer } from '../../src/api/server.js';
import { loadRouterConfig, parseRouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon } from '../../src/daemon/assemble.js';
import { ReloadRefused, reloadDaemon } from '../../src/daemon/reload.js';
import { formatPrefix } from '../../src/net/addr.js';
import { MemoryDevice } from '../support/memory-device.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-reload-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BASE = {
  router: 'r1',
  ports: [
    { name: 'lan', device: 'lan0', address: '10.0.1.1/24' },
    { name: 'wan', device: 'wan0', address: '10.0.12.1/30' },
  ],
  routes: [
    { prefix: '192.168.0.0/16', port: 'wan', via: '10.0.12.2', metric: 10 },
    { prefix: '172.16.0.0/12', port: 'lan', via: '10.0.1.9', metric: 1 },
  ],
  policy: [{ name: 'test', from: '10.0.1.7', port: 'wan' }],
  bfd: { interval: 100, multiplier: 3, sessions: [{ port: 'wan', peer: '10.0.12.2' }] },
};

function start(config: object) {
  const file = join(dir, `r-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(config));
  const events: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(c, _e, cb) { events.push(JSON.parse(String(c))); cb(); } }));
  const devices = new Map<string, MemoryDevice>();
  const daemon = assembleDaemon(loadRouterConfig(file), log, new ApiServer(), {
    openDevice: (pc) => {
      if (pc.device.startsWith('busy')) throw new Error(`TUN "${pc.device}" is already in use by another process`);
      const d = new MemoryDevice(pc.device);
      devices.set(pc.device, d);
      return d;
    },
  });
  daemon.router.start();
  const rewrite = (c: object) => writeFileSync(file, JSON.stringify(c));
  const reload = () => reloadDaemon(daemon, file);
  const routes = () => daemon.router.rib.routes().filter((r) => r.selected).map((r) => `${formatPrefix(r.prefix, r.len)} ${daemon.router.ports[r.port]!.name} ${r.source}`).sort();
  const fibEvents = () => events.filter((e) => String(e.event).startsWith('route.'));
  return { daemon, file, events, devices, rewrite, reload, routes, fibEvents, stop: () => daemon.router.stop() };
}

test('an unchanged config changes nothing: no FIB event, same ports, same devices', () => {
  const t = start(BASE);
  try {
    const before = t.fibEvents().length;
    const r = t.reload();
    assert.equal(r.changed, false);
    assert.equal(t.fibEvents().length, before);
    assert.equal(t.devices.size, 2);
    assert.ok([...t.devices.values()].every((d) => !d.closed));
  } finally {
    t.stop();
  }
});

test('static routes, policy and settings: only the difference is applied', () => {
  const t = start(BASE);
  try {
    const before = t.fibEvents().length;
    t.rewrite({ ...BASE, routes: [BASE.routes[0], { prefix: '10.99.0.0/16', port: 'lan', via: '10.0.1.9', metric: 5 }], policy: [], drainIdleTimeout: 9, icmpRateLimit: { rate: 5, burst: 5 } });
    const r = t.reload();
    assert.equal(r.changed, true);
    assert.deepEqual(r.staticRoutes, { added: 1, removed: 1 });
    assert.equal(r.policy, true);
    assert.deepEqual(r.settings.sort(), ['drainIdleTimeout', 'icmpRateLimit']);
    // Exactly two FIB events: 172.16/12 withdrawn, 10.99/16 installed; 192.168/16 untouched.
    const fib = t.fibEvents().slice(before).map((e) => `${e.event} ${e.prefix}`);
    assert.deepEqual(fib.sort(), ['route.installed 10.99.0.0/16', 'route.withdrawn 172.16.0.0/12']);
    assert.equal(t.daemon.router.path.policy.list().length, 0);
    assert.equal(t.daemon.router.path.flows.idleMs, 9000);
    assert.equal(t.daemon.router.config.routes.length, 2);
  } finally {
    t.stop();
  }
});

test('ports: one added (opened, connected route), one removed (routes gone, device closed), one changed in place keeps its device', () => {
  const t = start(BASE);
  try {
    const lan0 = t.devices.get('lan0')!;
    const wan0 = t.devices.get('wan0')!;
    t.rewrite({
      ...BASE,
      ports: [
        { name: 'lan', device: 'lan0', address: '10.0.7.1/24' }, // changed address, same device
        { name: 'dmz', device: 'dmz0', address: '10.0.3.1/24' }, // new
      ],
      routes: [{ prefix: '172.16.0.0/12', port: 'lan', via: '10.0.7.9', metric: 1 }],
      policy: [],
      bfd: { interval: 100, multiplier: 3, sessions: [] },
    });
    const r = t.reload();
    assert.deepEqual(r.ports, { added: ['dmz'], removed: ['wan'], changed: ['lan'] });
    assert.ok(wan0.closed, 'the removed port\'s device is closed');
    assert.ok(!lan0.closed, 'the changed port kept its device');
    assert.ok(t.devices.get('dmz0') && !t.devices.get('dmz0')!.closed);
    assert.deepEqual(t.routes(), ['10.0.3.0/24 dmz connected', '10.0.7.0/24 lan connected', '172.16.0.0/12 lan static']);
    assert.deepEqual(t.daemon.router.livePorts().map((p) => p.name), ['lan', 'dmz']);
    assert.equal(t.daemon.bfd.sessions().length, 0, 'the session on the removed port went with it');
    assert.throws(() => t.daemon.router.portByName('wan'));
    // The old lan port is gone from the API's view but its index stays taken.
    assert.equal(t.daemon.router.ports.length, 4);
    assert.ok(t.events.some((e) => e.event === 'port.removed' && e.port === 'wan'));
  } finally {
    t.stop();
  }
});

test('a bad config, a new router name, or a device that cannot be opened: refused whole, the running config stays', () => {
  const t = start(BASE);
  try {
    const running = t.daemon.router.config;
    for (const bad of [
      { ...BASE, routes: [{ prefix: '10.0.0.0/33', port: 'wan' }] },
      { ...BASE, router: 'other' },
    ]) {
      t.rewrite(bad);
      assert.throws(() => t.reload(), ReloadRefused);
      assert.equal(t.daemon.router.config, running);
    }
    // Two new ports, the second cannot be opened: the first is closed again, nothing joins.
    t.rewrite({ ...BASE, ports: [...BASE.ports, { name: 'a', device: 'a0', address: '10.0.5.1/24' }, { name: 'b', device: 'busy0', address: '10.0.6.1/24' }] });
    assert.throws(() => t.reload(), (e: unknown) => e instanceof ReloadRefused && /cannot open the new ports: .*busy0/.test((e as Error).message));
    assert.ok(t.devices.get('a0')!.closed);
    assert.equal(t.daemon.router.ports.length, 2);
    writeFileSync(t.file, '{ "router": "r1", ');
    assert.throws(() => t.reload(), (e: unknown) => e instanceof ReloadRefused && /JSON/.test((e as Error).message));
    assert.equal(t.daemon.router.config, running);
    assert.deepEqual(t.routes(), ['10.0.1.0/24 lan connected', '10.0.12.0/30 wan connected', '172.16.0.0/12 lan static', '192.168.0.0/16 wan static']);
  } finally {
    t.stop();
  }
});

test('the running config in the file format loads again to the same config (every example config)', () => {
  const examples = new URL('../../../config/', import.meta.url).pathname;
  for (const f of readdirSync(examples).filter((x) => x.endsWith('.json') && !x.includes('schema'))) {
    const c = loadRouterConfig(join(examples, f));
    const again = parseRouterConfig(JSON.parse(JSON.stringify(configJson(c))), c.file);
    assert.deepEqual(again, c, f);
  }
  assert.ok(readFileSync(join(examples, 'router.json'), 'utf8').length > 0);
  // And the config with every field set (keys, their times, RIP neighbours and limits, BFD per port and session).
  const c = parseRouterConfig(full());
  assert.deepEqual(parseRouterConfig(JSON.parse(JSON.stringify(configJson(c))), c.file), c);
});
