// The shipped JSON Schema (config/tunroute.schema.json) stays honest: it
// accepts every example and every field the checker knows, refuses the bad
// configs it can express, and states the checker's defaults and ranges.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigError } from '../../src/config/problems.js';
import { parseRouterConfig, type RouterConfig } from '../../src/config/router-config.js';
import { BAD, full, good, type Json } from '../support/config-corpus.js';

const CONFIG_DIR = new URL('../../../config/', import.meta.url).pathname;
const schema = JSON.parse(readFileSync(join(CONFIG_DIR, 'tunroute.schema.json'), 'utf8'));
// strict: an unknown keyword or a type mix-up in the schema is an error here, not silently ignored.
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

function schemaErrors(config: unknown): string {
  return validate(config) ? '' : JSON.stringify(validate.errors, null, 1);
}

function checkerAccepts(config: unknown): boolean {
  try {
    parseRouterConfig(config);
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
}

test('every example config, the small one and the one with every field pass the schema', () => {
  const files = readdirSync(CONFIG_DIR).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json'));
  assert.ok(files.length >= 5);
  for (const f of files) {
    const config = JSON.parse(readFileSync(join(CONFIG_DIR, f), 'utf8'));
    assert.equal(config.$schema, './tunroute.schema.json', `${f} points editors at the schema`);
    assert.equal(schemaErrors(config), '', f);
  }
  assert.equal(schemaErrors(good()), '');
  assert.equal(schemaErrors(full()), '');
});

test('the schema refuses the bad configs it can express, and only those', async (t) => {
  for (const bad of BAD) {
    await t.test(`${bad.what} (${bad.schema ? 'schema and checker' : 'checker only'})`, () => {
      const c = good();
      bad.mutate(c);
      assert.equal(checkerAccepts(c), false);
      // A bad config marked "checker only" must pass the schema: otherwise the mark is wrong and the schema does more than it says.
      if (bad.schema) assert.notEqual(schemaErrors(c), '', 'the schema accepted it');
      else assert.equal(schemaErrors(c), '', 'the schema refused it (mark it schema: true)');
    });
  }
});

/** A node of the schema by JSON pointer, e.g. "/$defs/route/properties/metric". */
function node(pointer: string): Json {
  return pointer.split('/').slice(1).reduce((n: Json, key) => n[key], schema);
}

test('the schema states the checker\'s defaults', () => {
  const c = good();
  c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.2' }] };
  c.rip = { ports: [{ port: 'wan' }] };
  c.ospf = { ports: [{ port: 'wan', auth: { type: 'md5', key: 'k' } }] };
  c.virtualServices = [{ name: 'v', address: '1.1.1.1', backends: [{ name: 'b', address: '10.0.1.2' }] }];
  c.triggers = [{ name: 't', match: { client: '10.0.2.2' }, port: 'wan' }];
  const parsed: RouterConfig = parseRouterConfig(c);
  const defaults: [string, unknown][] = [
    ['/properties/logLevel', parsed.logLevel],
    ['/properties/drainIdleTimeout', parsed.drainIdleTimeout],
    ['/properties/offload', parsed.offload],
    ['/properties/routes', []],
    ['/properties/policy', parsed.policy],
    ['/$defs/port/properties/mtu', parsed.ports[0]!.mtu],
    ['/$defs/route/properties/metric', parseRouterConfig({ ...good(), routes: [{ prefix: '1.1.1.1/32', port: 'wan' }] }).routes[0]!.metric],
    ['/$defs/route/properties/bfd', parsed.routes[0]!.bfd],
    ['/properties/bfd/properties/interval', parsed.bfd.interval],
    ['/properties/bfd/properties/multiplier', parsed.bfd.multiplier],
    ['/properties/rip/properties/redistribute', parsed.rip!.redistribute],
    ['/properties/rip/properties/updateTime', parsed.rip!.updateTime],
    ['/properties/rip/properties/timeoutTime', parsed.rip!.timeoutTime],
    ['/properties/rip/properties/garbageTime', parsed.rip!.garbageTime],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/cost', parsed.rip!.ports[0]!.cost],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/bfd', parsed.rip!.ports[0]!.bfd],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/passive', parsed.rip!.ports[0]!.passive],
    ['/properties/ospf/properties/lsdbLimit', parsed.ospf!.lsdbLimit],
    ['/properties/ospf/properties/redistribute', parsed.ospf!.redistribute],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/cost', parsed.ospf!.ports[0]!.cost],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/passive', parsed.ospf!.ports[0]!.passive],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/network', parsed.ospf!.ports[0]!.network],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/priority', parsed.ospf!.ports[0]!.priority],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/helloInterval', parsed.ospf!.ports[0]!.helloInterval],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/retransmitInterval', parsed.ospf!.ports[0]!.retransmitInterval],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/bfd', parsed.ospf!.ports[0]!.bfd],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/auth/properties/keyId', parsed.ospf!.ports[0]!.auth.keyId],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/ttlSecurity', parsed.rip!.ports[0]!.ttlSecurity],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/neighbours', parsed.rip!.ports[0]!.neighbours],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/unicast', parsed.rip!.ports[0]!.unicast],
    ['/properties/rip/properties/maxRoutes', parsed.rip!.maxRoutes],
    ['/properties/rip/properties/maxRoutesPerNeighbour', parsed.rip!.maxRoutesPerNeighbour],
    ['/properties/rip/properties/maxNeighboursPerPort', parsed.rip!.maxNeighboursPerPort],
    ['/properties/bfd/properties/ports', parsed.bfd.ports],
    ['/$defs/virtualService/properties/idleTimeout', parsed.virtualServices[0]!.idleTimeout],
    ['/$defs/trigger/properties/action', parsed.triggers[0]!.action],
  ];
  for (const [pointer, value] of defaults) assert.deepEqual(node(pointer).default, value, pointer);
  // A port's per-neighbour limit defaults to rip.maxRoutesPerNeighbour; auth defaults to none: said in words.
  assert.equal(parsed.rip!.ports[0]!.maxRoutesPerNeighbour, parsed.rip!.maxRoutesPerNeighbour);
  assert.match(node('/properties/rip/properties/ports/items/oneOf/1/properties/maxRoutesPerNeighbour').description, /Default: rip\.maxRoutesPerNeighbour/);
  assert.deepEqual([parsed.rip!.ports[0]!.auth, parsed.bfd.auth], [{ type: 'none', keys: [] }, { type: 'none', keys: [] }]);
  assert.match(node('/properties/bfd/properties/auth').description, /Default: none/);
  // The ICMP limit's default is an object; the schema says it in words.
  assert.deepEqual(parsed.icmpRateLimit, { rate: 100, burst: 50 });
  assert.match(node('/properties/icmpRateLimit').description, /rate 100, burst 50/);
});

test('the schema\'s integer ranges are the checker\'s: min and max pass both, one beyond fails both', () => {
  const fields: [string, (c: Json, v: number) => void][] = [
    ['/properties/icmpRateLimit/properties/rate', (c, v) => { c.icmpRateLimit = { rate: v, burst: 1 }; }],
    ['/properties/icmpRateLimit/properties/burst', (c, v) => { c.icmpRateLimit = { rate: 1, burst: v }; }],
    ['/properties/drainIdleTimeout', (c, v) => { c.drainIdleTimeout = v; }],
    ['/$defs/port/properties/mtu', (c, v) => { c.ports[0].mtu = v; }],
    ['/$defs/route/properties/metric', (c, v) => { c.routes[0].metric = v; }],
    ['/properties/bfd/properties/interval', (c, v) => { c.bfd = { interval: v }; }],
    ['/properties/bfd/properties/multiplier', (c, v) => { c.bfd = { multiplier: v }; }],
    ['/properties/bfd/properties/sessions/items/properties/interval', (c, v) => { c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.2', interval: v }] }; }],
    ['/properties/bfd/properties/sessions/items/properties/multiplier', (c, v) => { c.bfd = { sessions: [{ port: 'wan', peer: '10.0.12.2', multiplier: v }] }; }],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/cost', (c, v) => { c.rip = { ports: [{ port: 'wan', cost: v }] }; }],
    ['/properties/rip/properties/timeoutTime', (c, v) => { c.rip = { ports: ['wan'], updateTime: 1, timeoutTime: v }; }],
    ['/properties/rip/properties/garbageTime', (c, v) => { c.rip = { ports: ['wan'], garbageTime: v }; }],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/cost', (c, v) => { c.ospf = { ports: [{ port: 'wan', cost: v }] }; }],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/priority', (c, v) => { c.ospf = { ports: [{ port: 'wan', priority: v }] }; }],
    ['/properties/ospf/properties/ports/items/oneOf/1/properties/retransmitInterval', (c, v) => { c.ospf = { ports: [{ port: 'wan', retransmitInterval: v }] }; }],
    ['/properties/ospf/properties/lsdbLimit', (c, v) => { c.ospf = { ports: ['wan'], lsdbLimit: v }; }],
    ['/properties/ospf/properties/redistribute/items/oneOf/1/properties/metric', (c, v) => { c.ospf = { ports: ['wan'], redistribute: [{ source: 'static', metric: v }] }; }],
    ['/properties/rip/properties/maxRoutes', (c, v) => { c.rip = { ports: ['wan'], maxRoutes: v }; }],
    ['/properties/rip/properties/maxRoutesPerNeighbour', (c, v) => { c.rip = { ports: ['wan'], maxRoutesPerNeighbour: v }; }],
    ['/properties/rip/properties/maxNeighboursPerPort', (c, v) => { c.rip = { ports: ['wan'], maxNeighboursPerPort: v }; }],
    ['/properties/rip/properties/ports/items/oneOf/1/properties/maxRoutesPerNeighbour', (c, v) => { c.rip = { ports: [{ port: 'wan', maxRoutesPerNeighbour: v }] }; }],
    ['/$defs/authKey/properties/id', (c, v) => { c.rip = { ports: [{ port: 'wan', auth: { type: 'md5', keys: [{ id: v, secret: 's' }] } }] }; }],
    ['/$defs/virtualService/properties/idleTimeout', (c, v) => { c.virtualServices = [{ name: 'v', address: '1.1.1.1', idleTimeout: v, backends: [{ name: 'b', address: '10.0.1.2' }] }]; }],
    ['/$defs/trigger/properties/match/properties/status', (c, v) => { c.triggers = [{ name: 't', match: { client: '10.0.2.2', status: v }, port: 'wan' }]; }],
    ['/$defs/policyRule/properties/protocol/oneOf/1', (c, v) => { c.policy = [{ name: 'p', from: '10.0.1.0/24', protocol: v, port: 'wan' }]; }],
  ];
  for (const [pointer, set] of fields) {
    const { minimum, maximum } = node(pointer);
    assert.ok(Number.isInteger(minimum) && Number.isInteger(maximum), `${pointer} has a range`);
    for (const [v, ok] of [[minimum, true], [maximum, true], [minimum - 1, false], [maximum + 1, false]] as [number, boolean][]) {
      const c = good();
      set(c, v);
      // timeoutTime must also be longer than updateTime: its minimum (1) passes the schema but not that rule.
      const relational = pointer.endsWith('timeoutTime') && v === 1;
      assert.equal(checkerAccepts(c), ok && !relational, `checker, ${pointer} = ${v}`);
      assert.equal(schemaErrors(c) === '', ok, `schema, ${pointer} = ${v}`);
    }
  }
});
