// The rehearsal's own settings for a topology: which address is the service,
// which nodes are the two servers, the fleet and the test appliance, and how
// the cut-over is triggered. containerlab's schema closes every object of a
// topology except free-form string maps (labels, env, sysctls) and config
// variables, so these live in a small YAML file of their own, named by the
// topology's `tunroute.migration` label (under topology.defaults.labels).
import { posix } from 'node:path';
import { parseDuration } from '../../hosts/duration.js';
import { parseAddress, parsePrefix } from '../../net/addr.js';
import { assignedAddress } from './exec.js';
import { containerPathOf, hostPathOf } from './roles.js';
import type { TopologyNode } from './model.js';
import type { Path, YamlSource } from './source.js';

export interface MigrationSettings {
  file: string;
  service: string;
  servers: { from: string; to: string };
  fleet: { node: string; prefix: string; count: number; intervalMs: number };
  testAppliance: { node: string; address: string };
  cutover: {
    mode: 'block' | 'drain';
    /** Where each mode acts: the router and its port. A mode without an entry cannot be rehearsed. */
    block: CutoverPlace | null;
    drain: CutoverPlace | null;
  };
  /**
   * The router with both paths and its port toward the old one: its route to
   * the service leaving that port is the fall-back. A tunroute router's change
   * is read from its log; an FRR or BIRD node's (`kernel`) from its
   * namespace's kernel, and its port is an interface. Default: where the
   * drain acts; null: not watched.
   */
  fallback: { router: string; port: string; kernel: boolean } | null;
  /** Arm the cut-over trigger when the lab comes up. */
  trigger: boolean;
}

/** Where a cut-over acts, and where that router reads server `to`'s access log (a path in its container). */
export interface CutoverPlace {
  router: string;
  port: string;
  accessLog: string;
}

type Obj = Record<string, unknown>;

export function parseMigrationSettings(src: YamlSource, nodes: ReadonlyMap<string, TopologyNode>): MigrationSettings {
  const obj = (v: unknown, path: Path): Obj => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw src.error(path, 'must be a map');
    return v as Obj;
  };
  const only = (o: Obj, keys: string[], path: Path): void => {
    for (const k of Object.keys(o)) if (!keys.includes(k)) throw src.error([...path, k], `unknown field (allowed: ${keys.join(', ')})`);
  };
  const str = (o: Obj, k: string, path: Path): string => {
    const v = o[k];
    if (v === undefined) throw src.error([...path, k], 'missing (required)');
    if (typeof v !== 'string' && typeof v !== 'number') throw src.error([...path, k], 'must be a string');
    return String(v);
  };
  const addr = (o: Obj, k: string, path: Path, parse: (s: string) => unknown = parseAddress): string => {
    const v = str(o, k, path);
    try {
      parse(v);
    } catch (e) {
      throw src.error([...path, k], `bad address: ${(e as Error).message}`);
    }
    return v;
  };
  const node = (o: Obj, k: string, path: Path, want: (n: TopologyNode) => string | null): TopologyNode => {
    const name = str(o, k, path);
    const n = nodes.get(name);
    if (!n) throw src.error([...path, k], `unknown node "${name}" (nodes: ${[...nodes.keys()].join(', ')})`);
    const wrong = want(n);
    if (wrong) throw src.error([...path, k], `node "${name}" ${wrong}`);
    return n;
  };
  const tunrouteHost = (n: TopologyNode): string | null => (n.role === 'tunroute' && (n.tunroute === null || n.tunroute.kind !== 'run') ? null : 'must be a host with image tunroute (the rehearsal runs tunroute there)');
  const server = (n: TopologyNode): string | null => (n.tunroute?.kind === 'serve' ? null : 'must run tunroute serve (cmd: serve …)');
  const router = (n: TopologyNode): string | null => (n.tunroute?.kind === 'run' ? null : 'must be a tunroute router (cmd: run --config …)');

  const root = obj(src.value, []);
  only(root, ['service', 'servers', 'fleet', 'test-appliance', 'cutover', 'fallback', 'trigger'], []);
  const service = addr(root, 'service', []);

  const sv = obj(root.servers, ['servers']);
  only(sv, ['from', 'to'], ['servers']);
  const from = node(sv, 'from', ['servers'], server);
  const to = node(sv, 'to', ['servers'], server);
  if (to.tunroute?.kind === 'serve' && to.tunroute.accessLog === null) throw src.error(['servers', 'to'], `node "${to.name}" must write an access log (serve --log FILE): the trigger follows it`);

  const fl = obj(root.fleet, ['fleet']);
  only(fl, ['node', 'prefix', 'count', 'interval'], ['fleet']);
  const fleetNode = node(fl, 'node', ['fleet'], tunrouteHost);
  const prefix = addr(fl, 'prefix', ['fleet'], parsePrefix);
  const count = fl.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 2 ** 20) throw src.error(['fleet', 'count'], 'must be a whole number from 1 to 1048576');
  let intervalMs: number;
  try {
    intervalMs = parseDuration(str(fl, 'interval', ['fleet']));
  } catch (e) {
    throw src.error(['fleet', 'interval'], (e as Error).message);
  }

  const ta = obj(root['test-appliance'], ['test-appliance']);
  only(ta, ['node', 'address'], ['test-appliance']);
  const testNode = node(ta, 'node', ['test-appliance'], tunrouteHost);
  const testAddress = addr(ta, 'address', ['test-appliance']);
  if (!testNode.exec.some((e) => assignedAddress(e.argv) === testAddress)) {
    throw src.error(['test-appliance', 'address'], `${testAddress} is not an address of node "${testNode.name}" (no "ip addr add ${testAddress}/…" in its exec)`);
  }

  const co = obj(root.cutover, ['cutover']);
  only(co, ['mode', 'block', 'drain'], ['cutover']);
  const mode = co.mode ?? 'block';
  if (mode !== 'block' && mode !== 'drain') throw src.error(['cutover', 'mode'], 'must be block or drain');
  // The trigger follows server `to`'s access log: in containerlab that file
  // must be bound out of the server's container and into the router's.
  const logInServer = to.tunroute?.kind === 'serve' ? to.tunroute.accessLog! : '';
  const logOnHost = hostPathOf(to.binds, logInServer);
  if (logOnHost === null) throw src.error(['servers', 'to'], `node "${to.name}" writes its access log ${logInServer} inside its container: bind its directory out (e.g. __clabDir__/logs:${posix.dirname(logInServer)})`);
  const where = (k: 'block' | 'drain'): CutoverPlace | null => {
    if (co[k] === undefined) return null;
    const o = obj(co[k], ['cutover', k]);
    only(o, ['router', 'port'], ['cutover', k]);
    const r = node(o, 'router', ['cutover', k], router);
    const port = str(o, 'port', ['cutover', k]);
    const ports = r.tunroute?.kind === 'run' ? r.tunroute.config.ports.map((p) => p.name) : [];
    if (!ports.includes(port)) throw src.error(['cutover', k, 'port'], `router "${r.name}" has no port "${port}" (ports: ${ports.join(', ')})`);
    const accessLog = containerPathOf(r.binds, logOnHost);
    if (accessLog === null) throw src.error(['cutover', k, 'router'], `router "${r.name}" cannot read ${to.name}'s access log (${logOnHost}): bind that directory into it too`);
    return { router: r.name, port, accessLog };
  };
  const cutover = { mode: mode as 'block' | 'drain', block: where('block'), drain: where('drain') };
  if (!cutover[cutover.mode]) throw src.error(['cutover', 'mode'], `${cutover.mode}: say where it acts (cutover.${cutover.mode}: { router, port })`);

  let fallback: MigrationSettings['fallback'] = cutover.drain ? { router: cutover.drain.router, port: cutover.drain.port, kernel: false } : null;
  if (root.fallback !== undefined) {
    const fb = obj(root.fallback, ['fallback']);
    only(fb, ['router', 'port'], ['fallback']);
    const r = node(fb, 'router', ['fallback'], (n) => (n.tunroute?.kind === 'run' || n.frr || n.bird ? null : 'must be a tunroute router, or an FRR or BIRD node'));
    const port = str(fb, 'port', ['fallback']);
    const kernel = r.tunroute?.kind !== 'run';
    const ports = r.tunroute?.kind === 'run' ? r.tunroute.config.ports.map((p) => p.name) : r.interfaces;
    if (!ports.includes(port)) throw src.error(['fallback', 'port'], `${kernel ? 'node' : 'router'} "${r.name}" has no ${kernel ? 'interface' : 'port'} "${port}" (${kernel ? 'interfaces' : 'ports'}: ${ports.join(', ')})`);
    fallback = { router: r.name, port, kernel };
  }

  const trigger = root.trigger ?? true;
  if (typeof trigger !== 'boolean') throw src.error(['trigger'], 'must be true or false');

  return {
    file: src.file, service, servers: { from: from.name, to: to.name },
    fleet: { node: fleetNode.name, prefix, count, intervalMs },
    testAppliance: { node: testNode.name, address: testAddress },
    cutover, fallback, trigger,
  };
}
