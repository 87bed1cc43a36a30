// Reload without restart, on a daemon over in-memory devices: only the
// difference is applied (what did not change is not touched: no FIB event),
// ports come and go, a changed port keeps its device, triggers are added,
// re-armed and removed while the unchanged ones keep their state and their
// history tail, a bad config or a forbidden change is refused whole and the
// running config stays. And the
// running config, served back in the file's format, loads again unchanged.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { SPARE_PORT_INDICES } from '../../src/router/router.js';
import { formatPrefix } from '../../src/net/addr.js';
import { waitFor } from '../../src/testbed/shell.js';
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

test('a bad config, a new router name, a new MTU, offload mode or type on a port\'s open device, or a device that cannot be opened: refused whole, the running config stays', () => {
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
    // What the open device of a port that keeps it was opened with: refused with the field and the way out.
    for (const [field, value, seen] of [['mtu', 1400, '1500 → 1400'], ['offload', false, 'true → false'], ['type', 'ethernet', 'tun → ethernet']] as const) {
      t.rewrite({ ...BASE, ports: [{ ...BASE.ports[0], [field]: value }, BASE.ports[1]] });
      assert.throws(() => t.reload(), (e: unknown) => e instanceof ReloadRefused
        && (e as Error).message.endsWith(`: ports[0].${field}: cannot change on port lan's open device lan0 while running (${seen}): restart instead, or give the port another device`), field);
      assert.equal(t.daemon.router.config, running);
      assert.ok(!t.devices.get('lan0')!.closed);
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
    // On another device the MTU can change: that device is opened with it.
    t.rewrite({ ...BASE, ports: [{ ...BASE.ports[0], device: 'lan1', mtu: 1400 }, BASE.ports[1]] });
    assert.deepEqual(t.reload().ports, { added: [], removed: [], changed: ['lan'] });
    assert.equal(t.daemon.router.portByName('lan').mtu, 1400);
    assert.ok(t.devices.get('lan0')!.closed && !t.devices.get('lan1')!.closed);
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

test('triggers: one added, one changed (re-armed), one removed; the unchanged ones keep their state, their history tail and its position', async () => {
  const history = join(dir, `history-${Math.random().toString(36).slice(2)}.log`);
  writeFileSync(history, '');
  const line = (client: string, server = 'server2') => `${JSON.stringify({ time: Date.now(), client, path: '/poll', status: 200, server })}\n`;
  const keep = { name: 'keep', file: history, match: { client: '192.0.2.1' }, action: 'drain', port: 'lan' };
  const done = { name: 'done', api: true, match: { client: '192.0.2.2' }, action: 'block', port: 'wan' };
  const change = { name: 'change', api: true, match: { client: '192.0.2.3' }, action: 'block', port: 'wan' };
  const drop = { name: 'drop', file: history, match: { client: '192.0.2.4', server: 'server9' }, action: 'block', port: 'wan' };
  const t = start({ ...BASE, triggers: [keep, done, change, drop] });
  const triggers = t.daemon.triggers;
  try {
    // Before the reload: the tail follows the file (one line read, no trigger's), and `done` has fired.
    await waitFor('the history tail', () => triggers.watchStats(history)?.following === true, 5000, 10);
    appendFileSync(history, line('192.0.2.99'));
    await waitFor('the first line read', () => triggers.watchStats(history)?.lines === 1, 5000, 10);
    const position = triggers.watchStats(history)!.bytes;
    assert.deepEqual(triggers.offerFromApi([JSON.parse(line('192.0.2.2'))]).fired, ['done']);
    assert.equal(t.daemon.router.portByName('wan').state, 'blocked');
    // An operator's trigger, added through the API: not the config's business.
    triggers.add({ name: 'operator', file: null, api: true, match: { client: 3221225989, server: null, status: null, path: null }, action: 'block', port: 'lan' });
    const keptKeep = triggers.get('keep')!;
    const keptDone = triggers.get('done')!;
    const oldChange = triggers.get('change')!;

    t.rewrite({ ...BASE, triggers: [keep, done, { ...change, match: { client: '192.0.2.33' } }, { name: 'new', api: true, match: { client: '192.0.2.5' }, action: 'drain', port: 'lan' }] });
    const r = t.reload();
    assert.equal(r.changed, true);
    assert.deepEqual({ added: [...r.triggers.added].sort(), removed: [...r.triggers.removed].sort() }, { added: ['change', 'new'], removed: ['change', 'drop'] });
    assert.deepEqual(triggers.list().map((x) => `${x.name} ${x.state}`).sort(), ['change armed', 'done fired', 'keep armed', 'new armed', 'operator armed']);
    // Unchanged: the very same triggers, their state untouched (`done` is not re-armed, its port stays blocked).
    assert.equal(triggers.get('keep'), keptKeep);
    assert.equal(triggers.get('done'), keptDone);
    assert.equal(keptDone.matched?.clientAddr, 3221225986);
    assert.equal(t.daemon.router.portByName('wan').state, 'blocked');
    // Changed: a new trigger on the new match; the old one was disarmed.
    assert.notEqual(triggers.get('change'), oldChange);
    assert.equal(oldChange.state, 'cancelled');
    assert.equal(triggers.get('change')!.config.match.client, 3221226017);
    assert.ok(t.events.some((e) => e.event === 'trigger.cancelled' && e.trigger === 'drop'));
    // The tail `keep` shares with `drop` was not reopened: same position, and lines appended now are still read.
    assert.equal(triggers.watchStats(history)!.bytes, position);
    assert.equal(triggers.watchStats(history)!.lines, 1);
    appendFileSync(history, line('192.0.2.4', 'server9') + line('192.0.2.1'));
    await waitFor('keep fired', () => keptKeep.state === 'fired', 5000, 10);
    assert.equal(t.daemon.router.portByName('lan').state, 'draining');
    assert.equal(triggers.watchStats(history), undefined, 'no armed trigger watches the file any more: its tail is closed');
    // The changed trigger fires on its new match only; the removed one is gone for good.
    assert.deepEqual(triggers.offerFromApi([JSON.parse(line('192.0.2.3')), JSON.parse(line('192.0.2.4', 'server9'))]).fired, []);
    assert.equal(triggers.get('drop'), undefined);
  } finally {
    t.stop();
    await triggers.stop();
  }
});

test('triggers: a config trigger that takes the name of one added through the API is refused, nothing changed', () => {
  const t = start(BASE);
  try {
    t.daemon.triggers.add({ name: 'x', file: null, api: true, match: { client: 3221225989, server: null, status: null, path: null }, action: 'block', port: 'lan' });
    const running = t.daemon.router.config;
    t.rewrite({ ...BASE, routes: [], triggers: [{ name: 'x', api: true, match: { client: '192.0.2.6' }, action: 'drain', port: 'wan' }] });
    assert.throws(() => t.reload(), (e: unknown) => e instanceof ReloadRefused && /triggers\[0\]\.name: .*"x".*API/.test((e as Error).message));
    assert.equal(t.daemon.router.config, running);
    assert.equal(t.daemon.triggers.get('x')!.config.action, 'block');
    assert.equal(t.routes().filter((r) => r.endsWith('static')).length, 2);
  } finally {
    t.stop();
  }
});

test('without workers, a removed or changed port gives its receive slots back: 64 changes of two ports at MTU 9000 take no new room; more ports at once than the arena keeps room for are refused whole, with the reason', () => {
  const t = start({ router: 'r1', ports: [BASE.ports[0]] });
  try {
    // Each reload moves the two extra ports to their other devices with new addresses: new indices, the old ones' slots reused.
    const big = (i: number, name = 'big', net = 9) => ({ name, type: 'ethernet', device: `${name}${i % 2}`, address: `10.${net}.${i}.1/24`, mtu: 9000, offload: true });
    const two = (i: number) => [BASE.ports[0], big(i), big(i, 'dig', 10)];
    const arenaEnd = () => t.daemon.router.arena.reservedEnd;
    // The new ports are opened before the old ones leave: the first change takes a second set of slots; the old ones' are reused from then on.
    for (let i = 0; i <= 1; i++) {
      t.rewrite({ router: 'r1', ports: two(i) });
      t.reload();
    }
    const end = arenaEnd();
    for (let i = 2; i <= 64; i++) {
      t.rewrite({ router: 'r1', ports: two(i) });
      assert.equal(t.reload().changed, true, `change ${i}`);
    }
    assert.equal(t.daemon.router.ports.length, 1 + 2 * 65);
    assert.equal(arenaEnd(), end, 'no new room taken by the changes');
    for (const name of ['big', 'dig']) assert.ok(t.devices.get(`${name}0`)?.closed === false && t.devices.get(`${name}1`)?.closed === true, `the last change moved ${name} to ${name}0 and closed ${name}1`);
    // Too many at once: refused whole; the device opened for the port that did not fit is closed again.
    const many = Array.from({ length: 24 }, (_, i) => big(i + 100, `m${i}x`));
    t.rewrite({ router: 'r1', ports: [...two(64), ...many] });
    assert.throws(() => t.reload(), (e: unknown) => e instanceof ReloadRefused &&
      /cannot open the new ports: port m\d+x: no room left for its receive slots \(the packet arena keeps room for 16 ports beyond the start's at MTU 9000; removed ports give theirs back\): restart instead$/.test((e as Error).message));
    assert.equal(arenaEnd(), end, 'what the refused reload took is given back');
    assert.ok([...t.devices].filter(([name]) => /^m\d+x/.test(name)).every(([, d]) => d.closed), 'every device it opened is closed');
    assert.deepEqual(t.daemon.router.livePorts().map((p) => p.name), ['lan', 'big', 'dig']);
    // Fourteen more beside the two running ones fit.
    t.rewrite({ router: 'r1', ports: [...two(64), ...many.slice(0, 14)] });
    assert.deepEqual(t.reload().ports.added.length, 14);
  } finally {
    t.stop();
  }
});

test('with forwarding workers: every added or changed port takes a new index, up to the start\'s and 256 more, while removed ones give their receive slots back; past that a reload is refused whole, its queues closed', () => {
  const file = join(dir, `w-${Math.random().toString(36).slice(2)}.json`);
  const base = { router: 'rw', workers: 2, ports: [{ name: 'p0', device: 'p0', address: '10.1.0.1/24' }, { name: 'p1', device: 'p1', address: '10.1.1.1/24' }] };
  writeFileSync(file, JSON.stringify(base));
  const queues: MemoryDevice[] = [];
  // (Not started: the workers need TUN or Ethernet queues; openPorts and its bound are the same either way.)
  const daemon = assembleDaemon(loadRouterConfig(file), pino({ level: 'silent' }), new ApiServer(), {
    openDevice: (pc) => new MemoryDevice(pc.device),
    openQueues: (pc, n) => Array.from({ length: n }, (_, i) => {
      if (pc.device.startsWith('busy')) throw new Error(`TUN "${pc.device}" is already in use by another process`);
      const d = new MemoryDevice(`${pc.device}/${i}`);
      queues.push(d);
      return d;
    }),
  });
  const router = daemon.router;
  assert.equal(router.portCapacity, 2 + SPARE_PORT_INDICES);
  // A device that cannot be opened: the queues opened before it closed again, their receive slots given back.
  const arenaEnd = router.arena.reservedEnd;
  const more = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `n${i}`, device: `n${i}`, address: `10.2.${i}.1/24` }));
  writeFileSync(file, JSON.stringify({ ...base, ports: [...base.ports, ...more(2), { name: 'x', device: 'busy0', address: '10.1.99.1/24' }] }));
  assert.throws(() => reloadDaemon(daemon, file), /cannot open the new ports: TUN "busy0"/);
  assert.equal(queues.length, 8, 'the start\'s 2 ports\' queues, and those of n0 and n1');
  assert.ok(queues.slice(4).every((q) => q.closed));
  assert.equal(router.arena.reservedEnd, arenaEnd);
  // p1 changes address 256 times: each time a new port (a new index) takes its queues over, and the old one's slots are reused.
  const p1At = (i: number) => ({ ...base, ports: [base.ports[0], { ...base.ports[1]!, address: `10.${100 + (i >> 8)}.${i & 255}.1/24` }] });
  let afterFirst = 0;
  for (let i = 1; i <= SPARE_PORT_INDICES; i++) {
    writeFileSync(file, JSON.stringify(p1At(i)));
    assert.equal(reloadDaemon(daemon, file).changed, true, `change ${i}`);
    // The new port is opened before the old one leaves: the first change takes a second set of slots, the rest reuse them.
    if (i === 1) afterFirst = router.arena.reservedEnd;
  }
  assert.equal(router.ports.length, 2 + SPARE_PORT_INDICES);
  assert.equal(router.arena.reservedEnd, afterFirst, 'no new room taken after the first change');
  assert.equal(queues.length, 8, 'no queues opened: each new p1 took over the last one\'s');
  assert.equal(router.portByName('p1').address, (10 << 24 | 101 << 16 | 0 << 8 | 1) >>> 0);
  // One more needs a new index: refused, p1 stays as it is.
  writeFileSync(file, JSON.stringify(p1At(SPARE_PORT_INDICES + 1)));
  assert.throws(() => reloadDaemon(daemon, file), (e: unknown) => e instanceof ReloadRefused &&
    /cannot open the new ports: ports: room for 258 port indices while forwarding workers run \(the 2 the daemon started with and 256 more; every added or changed port takes a new one\): restart instead/.test((e as Error).message));
  assert.equal(router.portByName('p1').address, (10 << 24 | 101 << 16 | 0 << 8 | 1) >>> 0);
  router.stop();
});
