// What runs in a node, from its image, and the checks of that software's
// inputs: tunroute's command and router config, FRR's `daemons` and
// `frr.conf`, BIRD's `bird.conf`. Config files are bound into the container
// (`binds`), so the testbed finds them the same way: through the binds.
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../../config/problems.js';
import { parseRouterConfig, type RouterConfig } from '../../config/router-config.js';
import { parseAddress, parsePrefix } from '../../net/addr.js';
import type { Bind, NodeRole, TunrouteCommand } from './model.js';
import { YamlSource, type Path } from './source.js';

/** Thrown by the role checks; the parser adds file, line and field. */
export class RoleProblem extends Error {
  /** `bind`: the bind that holds the problem, if one does. */
  constructor(message: string, readonly at: 'cmd' | 'binds' = 'cmd', readonly bind?: Bind) {
    super(message);
  }
}

/** The role of an image: the last part of its repository name, tag and registry dropped. */
export function roleOfImage(image: string): NodeRole {
  const repo = image.split('@')[0]!.replace(/:[^/:]*$/, '').split('/').pop()!.toLowerCase();
  if (repo === 'tunroute') return 'tunroute';
  if (repo === 'frr') return 'frr';
  if (repo === 'bird' || repo === 'bird2' || repo === 'bird3') return 'bird';
  return 'host';
}

export const LAB_DIR_VAR = '__clabDir__';
export const NODE_DIR_VAR = '__clabNodeDir__';

/**
 * The host path behind a path inside the container, through the node's
 * binds (the longest matching destination), or null if nothing is bound there.
 */
export function hostPathOf(binds: readonly Bind[], containerPath: string): string | null {
  const b = bindOf(binds, containerPath);
  return b ? `${b.host}${posix.normalize(containerPath).slice(dest(b).length)}` : null;
}

const dest = (b: Bind): string => posix.normalize(b.container).replace(/\/$/, '');

/** The bind through which a container path is reached (the longest matching destination). */
function bindOf(binds: readonly Bind[], containerPath: string): Bind | undefined {
  const p = posix.normalize(containerPath);
  let best: Bind | undefined;
  for (const b of binds) {
    const d = dest(b);
    if ((p === d || p.startsWith(`${d}/`)) && (!best || d.length > dest(best).length)) best = b;
  }
  return best;
}

/** The reverse: where a host path is seen inside the container, or null if no bind reaches it. */
export function containerPathOf(binds: readonly Bind[], hostPath: string): string | null {
  for (const b of binds) {
    const h = b.host.replace(/\/$/, '');
    if (hostPath === h || hostPath.startsWith(`${h}/`)) return posix.join(b.container, hostPath.slice(h.length));
  }
  return null;
}

/** A config file the node reads: bound in, present and readable now (it is not made at deploy). */
function boundConfigFile(binds: readonly Bind[], containerPath: string, what: string): string {
  const bind = bindOf(binds, containerPath);
  if (!bind) throw new RoleProblem(`${what} ${containerPath} is not bound into the container (add a bind "FILE:${containerPath}")`, 'binds');
  const host = hostPathOf(binds, containerPath)!;
  if (host.startsWith(LAB_DIR_VAR) || host.startsWith(NODE_DIR_VAR)) {
    throw new RoleProblem(`${what} ${containerPath} is bound from ${host.split('/')[0]}, which containerlab creates empty at deploy: bind a file that exists`, 'binds', bind);
  }
  try {
    if (!statSync(host).isFile()) throw new RoleProblem(`${what} ${host} (bound to ${containerPath}) is not a file`, 'binds', bind);
    accessSync(host, constants.R_OK);
  } catch (e) {
    if (e instanceof RoleProblem) throw e;
    throw new RoleProblem(`${what} ${host} (bound to ${containerPath}) cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'binds', bind);
  }
  return host;
}

// ---- tunroute ----

/** Options of tunroute's commands that the testbed reads (the rest go to tunroute as they are). */
const TUNROUTE_OPTIONS = {
  config: { type: 'string' }, address: { type: 'string' }, name: { type: 'string' }, log: { type: 'string' },
  settings: { type: 'string' }, target: { type: 'string' }, prefix: { type: 'string' }, count: { type: 'string' },
  source: { type: 'string' }, out: { type: 'string' }, socket: { type: 'string' }, 'log-file': { type: 'string' },
} as const;

function addressOption(v: string | undefined, flag: string, parse: (s: string) => unknown = parseAddress): void {
  if (v === undefined) return;
  try {
    parse(v);
  } catch (e) {
    throw new RoleProblem(`${flag}: bad address: ${(e as Error).message}`);
  }
}

function required(v: string | undefined, cmd: string, flag: string): string {
  if (v === undefined) throw new RoleProblem(`tunroute ${cmd} needs ${flag}`);
  return v;
}

export function checkTunrouteCommand(argv: string[], binds: readonly Bind[], interfaces: readonly string[]): TunrouteCommand {
  const [cmd, ...args] = argv;
  const { values: o } = parseArgs({ args, options: TUNROUTE_OPTIONS, strict: false, allowPositionals: true });
  const opt = (k: keyof typeof TUNROUTE_OPTIONS): string | undefined => (typeof o[k] === 'string' ? o[k] : undefined);
  switch (cmd) {
    case 'run': {
      if (opt('socket') !== undefined || opt('log-file') !== undefined) throw new RoleProblem('tunroute run: leave --socket and --log-file out (the testbed places them)');
      const configPath = required(opt('config'), 'run', '--config FILE');
      const file = boundConfigFile(binds, configPath, 'router config');
      return { kind: 'run', args, ...checkRouterConfig(file, interfaces) };
    }
    case 'serve': {
      const address = required(opt('address'), 'serve', '--address');
      addressOption(address, '--address');
      const name = required(opt('name'), 'serve', '--name');
      if (opt('settings') !== undefined) boundConfigFile(binds, opt('settings')!, 'settings file');
      return { kind: 'serve', args, name, address, accessLog: opt('log') ?? null };
    }
    case 'fleet': {
      const target = required(opt('target'), 'fleet', '--target');
      checkTarget(target);
      addressOption(required(opt('prefix'), 'fleet', '--prefix'), '--prefix', parsePrefix);
      if (!/^\d+$/.test(required(opt('count'), 'fleet', '--count'))) throw new RoleProblem(`--count: "${opt('count')}" is not a number`);
      return { kind: 'fleet', args };
    }
    case 'probe': {
      checkTarget(required(opt('target'), 'probe', '--target'));
      addressOption(required(opt('source'), 'probe', '--source'), '--source');
      return { kind: 'probe', args };
    }
    default:
      throw new RoleProblem(`"${cmd}" is not a tunroute command the testbed runs (run, serve, fleet, probe; no cmd = an idle host)`);
  }
}

function checkTarget(target: string): void {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RoleProblem(`--target: "${target}" is not a URL`);
  }
  addressOption(url.hostname, '--target');
}

/** ConfigError fields such as "ports[1].address" as a path into the JSON. */
function configPath(field: string): Path {
  return field.split(/\.|(?=\[)/).filter(Boolean).map((p) => (p.startsWith('[') ? Number(p.slice(1, -1)) : p));
}

/** A problem inside the router config file itself (reported with that file's own line). */
export class RouterConfigProblem extends Error {
  constructor(readonly file: string, readonly line: number, readonly field: string, problem: string) {
    super(problem);
  }
}

/**
 * Check a tunroute router config as tunroute itself does, plus what the
 * topology adds: ports live in the node's own namespace (no `netns`), and an
 * Ethernet port names one of the node's link interfaces.
 */
export interface CheckedRouterConfig {
  configFile: string;
  config: RouterConfig;
  raw: Record<string, unknown>;
  /** Devices of the ports with "type": "ethernet". */
  ethernetPorts: string[];
}

/**
 * Check a tunroute router config as tunroute itself does, plus what the
 * topology adds: ports live in the node's own namespace (no `netns`), and an
 * Ethernet port names one of the node's link interfaces.
 */
export function checkRouterConfig(file: string, interfaces: readonly string[]): CheckedRouterConfig {
  const src = YamlSource.parse(file, readFileSync(file, 'utf8'));
  const fail = (path: Path, problem: string): never => {
    const e = src.error(path, problem);
    throw new RouterConfigProblem(file, e.line, e.field, problem);
  };
  const raw = src.value;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail([], 'must be a JSON object');
  const json = raw as Record<string, unknown>;
  const ethernetPorts: string[] = [];
  const ports = Array.isArray(json.ports) ? (json.ports as unknown[]) : [];
  ports.forEach((p, i) => {
    if (typeof p !== 'object' || p === null) return;
    const { type, device, netns } = p as Record<string, unknown>;
    if (netns !== undefined) fail(['ports', i, 'netns'], 'a port of a topology node lives in the node\'s own namespace: leave "netns" out');
    if (type === 'ethernet') {
      if (typeof device === 'string' && !interfaces.includes(device)) {
        fail(['ports', i, 'device'], `"${device}" is not one of this node's link interfaces (${interfaces.join(', ') || 'none'})`);
      }
      ethernetPorts.push(String(device));
    } else if (type !== undefined && type !== 'tun') {
      fail(['ports', i, 'type'], `must be "ethernet" (a link interface) or "tun" (got ${JSON.stringify(type)})`);
    } else if (typeof device === 'string' && interfaces.includes(device)) {
      fail(['ports', i, 'device'], `"${device}" is a link interface: make the port "type": "ethernet"`);
    }
  });
  try {
    return { configFile: file, config: parseRouterConfig(json, file), raw: json, ethernetPorts };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const first = e.problems[0]!;
    return fail(configPath(first.path), first.message);
  }
}

// ---- FRR and BIRD ----

/** FRR's daemons, as its `daemons` file names them (zebra always runs). */
const FRR_DAEMONS = ['zebra', 'bgpd', 'ospfd', 'ospf6d', 'ripd', 'ripngd', 'isisd', 'pimd', 'pim6d', 'ldpd', 'nhrpd', 'eigrpd', 'babeld', 'sharpd', 'pbrd', 'staticd', 'bfdd', 'fabricd', 'vrrpd', 'pathd', 'mgmtd'];

export function checkFrr(binds: readonly Bind[]): { daemons: string[]; configFile: string } {
  const configFile = boundConfigFile(binds, '/etc/frr/frr.conf', 'FRR config');
  const daemonsFile = boundConfigFile(binds, '/etc/frr/daemons', 'FRR daemons file');
  const daemons = ['zebra'];
  readFileSync(daemonsFile, 'utf8').split('\n').forEach((line, i) => {
    const m = /^\s*([a-z0-9]+)\s*=\s*"?(yes|no)"?\s*(#.*)?$/.exec(line);
    if (!m) return;
    const [, name, on] = m;
    if (!FRR_DAEMONS.includes(name!)) {
      if (name === 'vtysh_enable' || name === 'watchfrr_enable') return;
      throw new RoleProblem(`${daemonsFile}:${i + 1}: "${name}" is not an FRR daemon`, 'binds', bindOf(binds, '/etc/frr/daemons'));
    }
    // mgmtd (FRR 9+) is FRR's own plumbing, started with zebra where it exists.
    if (on === 'yes' && name !== 'zebra' && name !== 'mgmtd') daemons.push(name!);
  });
  return { daemons, configFile };
}

export function checkBird(binds: readonly Bind[]): { configFile: string } {
  // Images put BIRD's config at /etc/bird.conf or /etc/bird/bird.conf.
  const at = ['/etc/bird.conf', '/etc/bird/bird.conf'].find((p) => hostPathOf(binds, p) !== null);
  return { configFile: boundConfigFile(binds, at ?? '/etc/bird.conf', 'BIRD config') };
}
