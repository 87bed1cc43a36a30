// What a rehearsal needs from a lab, whoever built it: the service, the two
// servers and their access logs, where the fleet and the test appliance run,
// where the cut-over acts, and the router whose route change is the
// fall-back. The built-in embodiments (migration.ts) and labs from topology
// files (topology-lab.ts with their migration settings) both provide it.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fleetRange } from '../hosts/fleet.js';
import { parsePrefix } from '../net/addr.js';
import type { ContainerOptions } from './container-nodes.js';
import { KernelRouteWatch } from './kernel-routes.js';
import type { Lab, RouterProcess } from './lab.js';
import { FLEET_PREFIX, MigrationTestbed, SERVICE, TEST_APPLIANCE, type CutoverMode, type Embodiment, type RoutingMode } from './migration.js';
import { inNetns, ip, sleep, waitFor } from './shell.js';
import { loadTopology } from './topology/index.js';
import { TopologyLab } from './topology-lab.js';

/** Which lab to rehearse on. */
export type LabSpec =
  | { kind: 'built-in'; embodiment: Embodiment; routing: RoutingMode; serverDelayMs: number; bfdIntervalMs?: number }
  | { kind: 'topology'; file: string; /** Container mode (container-nodes.ts). */ containers?: ContainerOptions };

/** A configuration file the lab ran with, kept for the report (the lab's directory is removed afterwards). */
export interface ConfigFile {
  name: string;
  file: string;
  text: string;
}

/** What the lab is, for the report. */
export interface LabDescription {
  kind: 'built-in' | 'topology';
  /** "embodiment 1 (rip routing)", or the topology's name. */
  name: string;
  /** The topology file, for a topology lab. */
  file: string | null;
  configs: ConfigFile[];
}

/** A change of a router's route to the service: when, and the port it now leaves by (null: no route). */
export interface RouteChange {
  time: number;
  port: string | null;
}

/** Where the fall-back is seen: the route to the service on the router with both paths. */
export interface FallbackWatch {
  router: string;
  /** Its port toward the old path (an FRR or BIRD router: its interface). */
  oldPort: string;
  /** tunroute's own log, or the kernel of a router that forwards there (FRR, BIRD). */
  source: 'log' | 'kernel';
  /** Every change of its route to the service so far, oldest first. */
  routeChanges(): RouteChange[];
}

/** A tunroute router's route changes for `prefix`, from its log events. */
function logFallback(router: RouterProcess, prefix: string, oldPort: string): FallbackWatch {
  const changed = new Set(['route.changed', 'route.installed', 'route.withdrawn']);
  return {
    router: router.name, oldPort, source: 'log',
    routeChanges: () => router.events().filter((e) => changed.has(e.event ?? '') && e.prefix === prefix)
      .map((e) => ({ time: e.time, port: (e.new as { port?: string } | null)?.port ?? null })),
  };
}

/** A kernel router's route changes for `prefix`, from `ip monitor route` in its namespace. */
function kernelFallback(lab: Lab, name: string, ns: string, prefix: string, oldPort: string): FallbackWatch {
  const watch = KernelRouteWatch.start(lab, ns, prefix, join(lab.dir, `${name}-routes.log`));
  return {
    router: name, oldPort, source: 'kernel',
    routeChanges: () => watch.changes().map((c) => ({ time: c.time, port: c.deleted ? null : c.dev })),
  };
}

export interface RehearsalLab {
  readonly description: LabDescription;
  readonly service: string;
  /** Server names as they answer (x-served-by): the old one and the new one. */
  readonly servers: { from: string; to: string };
  readonly fleet: { ns: string; prefix: string };
  readonly testAppliance: { ns: string; address: string };
  /** Where the cut-over acts (its trigger armed for this mode). */
  readonly cutover: { mode: CutoverMode; router: RouterProcess; port: string };
  /** The router with both paths and its port toward the old one: its route change is the fall-back. */
  readonly fallback: FallbackWatch | null;
  /** Each server's access log on this machine (it may rotate: FILE.1, FILE.2, …). */
  readonly accessLogs: Record<string, string>;
  readonly routers: RouterProcess[];
  /** Processes the lab runs besides the routers (the servers), for their costs. */
  readonly hostProcesses: { name: string; role: string; process: ChildProcess }[];
  /** Run a tunroute host command (fleet, probe) in a namespace of the lab. */
  spawnTunroute(ns: string, args: string[], opts?: { stdout?: string; stderr?: string }): ChildProcess;
  down(): Promise<void>;
}

export interface OpenLabOptions {
  cutover: CutoverMode;
  /** Servers of a built-in lab rotate their access logs at this size (bytes). */
  logMaxBytes?: number;
  log?: (line: string) => void;
}

function readConfig(name: string, file: string): ConfigFile {
  return { name, file, text: existsSync(file) ? readFileSync(file, 'utf8') : '' };
}

/** How long a topology lab waits for a standby refresh before it goes on without one. */
const STANDBY_WAIT_MS = 30_000;
/** Then this long for the routers' held-back triggered updates and answers (RFC 2453 §3.10.1: 1–5 s). */
const SETTLE_MS = 5000;

/** The longest standby refresh interval of this router's RIP ports (ms; 0: it refreshes none). */
function standbyRefreshOf(configFile: string): number {
  try {
    const c = JSON.parse(readFileSync(configFile, 'utf8')) as { rip?: { ports?: { standbyRefresh?: number }[] } };
    return Math.max(0, ...(c.rip?.ports ?? []).map((p) => p.standbyRefresh ?? 0));
  } catch {
    return 0;
  }
}

/**
 * A real R1 keeps only its best route; its standby comes from the routers
 * that refresh it (`standbyRefresh`). They refresh only what R1 advertises
 * back to them at a finite metric, so not before R1's first update after
 * BFD came up: a cut-over before then falls back only at a periodic
 * update, seconds later. So the lab is up once one of them refreshes (R1's
 * route goes via the other, which has nothing to refresh) and, SETTLE_MS
 * later — past the 1–5 s for which FRR, BIRD and tunroute hold back a
 * triggered update or answer after the last — still does; or, with a line
 * saying so, after STANDBY_WAIT_MS without.
 */
async function standbyRefreshing(routers: RouterProcess[], log?: (line: string) => void): Promise<void> {
  const intervals = routers.map((r) => standbyRefreshOf(r.configFile));
  const refreshers = routers.filter((_, i) => intervals[i]! > 0);
  if (refreshers.length === 0) return;
  // Two reads of the refresh counters one interval and a bit apart.
  const sampleMs = Math.max(...intervals) + 100;
  const sent = async (r: RouterProcess) => (await r.api<{ counters: { standbyRefreshes: number } }>('GET', '/v1/rip')).counters.standbyRefreshes;
  log?.(`waiting for a standby refresh from ${refreshers.map((r) => r.name).join(' or ')}`);
  const refreshing = async (): Promise<boolean> => {
    const before = await Promise.all(refreshers.map(sent));
    await sleep(sampleMs);
    const after = await Promise.all(refreshers.map(sent));
    return after.some((n, i) => n > before[i]!);
  };
  try {
    await waitFor('a standby refresh', refreshing, STANDBY_WAIT_MS, 0);
    await sleep(SETTLE_MS);
    await waitFor('a standby refresh, settled', refreshing, STANDBY_WAIT_MS, 0);
  } catch {
    log?.(`no standby refresh from ${refreshers.map((r) => r.name).join(' or ')} within ${STANDBY_WAIT_MS / 1000} s: the fall-back may wait for a periodic update`);
  }
}

/** Bring the lab up, its cut-over trigger armed for `cutover`. */
export async function openRehearsalLab(spec: LabSpec, opts: OpenLabOptions): Promise<RehearsalLab> {
  return spec.kind === 'built-in' ? openBuiltIn(spec, opts) : openTopology(spec.file, opts, spec.containers);
}

async function openBuiltIn(spec: Extract<LabSpec, { kind: 'built-in' }>, opts: OpenLabOptions): Promise<RehearsalLab> {
  const tb = await MigrationTestbed.up({
    embodiment: spec.embodiment, routing: spec.routing, cutover: opts.cutover, trigger: true, serverDelayMs: spec.serverDelayMs, logMaxBytes: opts.logMaxBytes,
    ...(spec.bfdIntervalMs ? { bfdIntervalMs: spec.bfdIntervalMs } : {}),
  }, opts.log);
  const { r1, r2 } = tb.routers;
  return {
    description: {
      kind: 'built-in',
      name: `embodiment ${spec.embodiment} (${spec.routing} routing)`,
      file: null,
      configs: tb.allRouters.map((r) => readConfig(r.name, r.configFile)),
    },
    service: SERVICE,
    servers: { from: 'server1', to: 'server2' },
    fleet: { ns: tb.ns.fleet, prefix: FLEET_PREFIX },
    testAppliance: { ns: tb.ns.test, address: TEST_APPLIANCE },
    // A hard block is R2's (its port toward R1); a drain is R1's (the router with both paths).
    cutover: opts.cutover === 'block' ? { mode: 'block', router: r2, port: 'r1' } : { mode: 'drain', router: r1, port: 'r2' },
    fallback: logFallback(r1, `${SERVICE}/32`, 'r2'),
    accessLogs: { ...tb.accessLog },
    routers: tb.allRouters,
    hostProcesses: [
      { name: 'server1', role: 'server', process: tb.serverProcesses.server1 },
      { name: 'server2', role: 'server', process: tb.serverProcesses.server2 },
    ],
    spawnTunroute: (ns, args, o) => tb.lab.spawnTunroute(ns, args, o),
    down: () => tb.down(),
  };
}

async function openTopology(file: string, opts: OpenLabOptions, containers?: ContainerOptions): Promise<RehearsalLab> {
  const topology = loadTopology(file);
  const m = topology.migration;
  if (!m) throw new Error(`${topology.file}: no migration settings (label tunroute.migration under topology.defaults.labels; see docs/topologies.md)`);
  const place = m.cutover[opts.cutover];
  if (!place) throw new Error(`${m.file}: cutover.${opts.cutover} is not set: say where the ${opts.cutover} acts ({ router, port })`);
  const tl = await TopologyLab.up(topology, { log: opts.log, cutover: opts.cutover, containers });
  try {
    const router = (name: string): RouterProcess => {
      const r = tl.routers.get(name);
      if (!r) throw new Error(`${m.file}: router ${name} did not start`);
      return r;
    };
    const accessLogs: Record<string, string> = {};
    for (const name of [m.servers.from, m.servers.to]) {
      const n = topology.nodes.get(name)!;
      const log = n.tunroute?.kind === 'serve' ? n.tunroute.accessLog : null;
      if (log) accessLogs[name] = tl.hostPath(n, log);
    }
    const configs = [readConfig('topology', topology.file), readConfig('migration settings', m.file)];
    for (const n of topology.nodes.values()) if (n.tunroute?.kind === 'run') configs.push(readConfig(n.name, n.tunroute.configFile));
    const fb = m.fallback;
    const service = `${m.service}/32`;
    const fallback = !fb ? null : fb.kernel ? kernelFallback(tl.lab, fb.router, tl.ns(fb.router), service, fb.port) : logFallback(router(fb.router), service, fb.port);
    // The lab is up when its routing has converged: the fall-back router on its old path, the fleet answered by server `from`.
    if (fb) {
      const path = fb.kernel
        ? async () => /\bdev (\S+)/.exec((await ip('-n', tl.ns(fb.router), 'route', 'get', m.service)).stdout)?.[1]
        : async () => (await router(fb.router).api<{ port: string | null }>('GET', `/v1/routes/lookup?addr=${m.service}`)).port;
      opts.log?.(`waiting for ${fb.router} to reach ${m.service} by ${fb.port}`);
      await waitFor(`${fb.router}'s route to ${m.service} by ${fb.port}`, async () => (await path().catch(() => null)) === fb.port, 60_000, 100);
    }
    const first = fleetRange(parsePrefix(m.fleet.prefix), 1).source(0);
    opts.log?.(`waiting for ${m.servers.from} to answer ${first}`);
    await waitFor(`${m.servers.from} answering the fleet's ${first}`, async () => {
      const r = await inNetns(tl.ns(m.fleet.node), 'curl', ['-s', '--max-time', '1', '--interface', first, '-D', '-', '-o', '/dev/null', `http://${m.service}/`], { allowFail: true });
      return r.code === 0 && /^x-served-by: (\S+)/im.exec(r.stdout)?.[1] === m.servers.from;
    }, 30_000, 100);
    await standbyRefreshing([...tl.routers.values()], opts.log);
    return {
      description: { kind: 'topology', name: containers ? `${topology.name} (routers in containers)` : topology.name, file: topology.file, configs },
      service: m.service,
      servers: { ...m.servers },
      fleet: { ns: tl.ns(m.fleet.node), prefix: m.fleet.prefix },
      testAppliance: { ns: tl.ns(m.testAppliance.node), address: m.testAppliance.address },
      cutover: { mode: opts.cutover, router: router(place.router), port: place.port },
      fallback,
      accessLogs,
      routers: [...tl.routers.values()],
      hostProcesses: [...tl.processes].map(([name, process]) => ({ name, role: topology.nodes.get(name)?.tunroute?.kind === 'serve' ? 'server' : 'host', process })),
      spawnTunroute: (ns, args, o) => tl.lab.spawnTunroute(ns, args, o ?? { stderr: join(tl.lab.dir, `${ns.slice(tl.lab.id.length + 1)}-${args[0]}.stderr`) }),
      down: () => tl.down(),
    };
  } catch (e) {
    await tl.down();
    throw e;
  }
}
