// The router's config file (JSON): what it is, and how it is checked. The
// checks go on past a mistake and the loader reports every problem, each as
// `FILE:LINE:COL: field.path: what is wrong`.
import { readFileSync } from 'node:fs';
import { parseAddress, parseInterfaceAddress } from '../net/addr.js';
import { neighbourProblem, overlapProblem, portAddressProblem, type Subnet } from './addressing.js';
import {
  address, addressText, allOf, array, boolean, eachOf, integer, isObject, join, object, oneOf, onlyKeys, optionalString, portRef, string, unique, type Json,
} from './fields.js';
import {
  BFD_AUTH_TYPES, OSPF_AUTH_SECRET_MAX, OSPF_AUTH_TYPES, RIP_AUTH_TYPES, parseAuth, type AuthConfig, type BfdAuthType, type OspfAuthType, type RipAuthType,
} from './auth-config.js';
import { readJson, JsonSyntaxError, type JsonSource } from './json-source.js';
import { NAME, NAME_HINT } from './names.js';
import { parseTriggers, parseVirtualServices, type TriggerConfig, type VirtualServiceConfig } from './migration-config.js';
import { parsePolicyRule, type PolicyRuleConfig } from './policy-config.js';
import { ConfigError, Problems, collect, complete, type Problem } from './problems.js';
import { checkRoute, type StaticRouteConfig } from './route-config.js';

export type { StaticRouteConfig } from './route-config.js';
export type { AuthConfig, AuthKeyConfig, BfdAuthType, OspfAuthType, RipAuthType } from './auth-config.js';

export interface PortConfig {
  name: string;
  /** tun: a TUN device (raw IPv4); ethernet: an Ethernet interface (veth, TAP, NIC), with ARP. */
  type: 'tun' | 'ethernet';
  /** TUN device or interface name (≤ 15 bytes). */
  device: string;
  /** Network namespace the device (a TUN's kernel side, or the interface) lives in; "" = the daemon's own. */
  netns: string;
  address: number;
  prefixLen: number;
  mtu: number;
  /** An Ethernet port's configured neighbours: address → MAC, never asked for by ARP (as `ip neigh … permanent`). */
  neighbours: { address: number; mac: string }[];
  /**
   * Segmentation and checksum offloads (the port's own setting, else the
   * router's; default on): a TUN port is opened with a virtio-net header and
   * carries 64 KB TCP/UDP super-packets; an Ethernet port hands super-packets
   * to the kernel whole. Off: every packet is an ordinary one.
   */
  offload: boolean;
}

export interface BfdSessionConfig {
  port: string;
  peer: number;
  /** Desired min TX and required min RX interval, ms. */
  interval: number;
  multiplier: number;
  /** This session's authentication; null: its port's (bfd.ports), else bfd.auth. */
  auth: AuthConfig<BfdAuthType> | null;
}

/** BFD (RFC 5880/5881). Sessions come from this list, from BFD-tracked static routes, and from RIP ports with bfd on. */
export interface BfdConfig {
  interval: number;
  multiplier: number;
  sessions: BfdSessionConfig[];
  /** Authentication (RFC 5880 §6.7) of every session, unless its port or the session says otherwise. */
  auth: AuthConfig<BfdAuthType>;
  /** Per port: the authentication of every session on it (configured or made for RIP and tracked routes). */
  ports: { port: string; auth: AuthConfig<BfdAuthType> }[];
}

export interface RipPortConfig {
  port: string;
  /** Added to the metric of routes learned on this port (RFC 2453 §3.6), 1–15. */
  cost: number;
  /** Run BFD with each RIP neighbour on the port; its routes are usable only while BFD is Up. */
  bfd: boolean;
  /** Listen only: learn routes but send no updates. */
  passive: boolean;
  /**
   * Standby refresh, ms (0 = off): every interval, each neighbour on the
   * port that uses another path for a prefix we could serve gets our entry
   * again, unicast, so a neighbour that keeps only its best route (BIRD,
   * FRR) can fall back to us within the interval.
   */
  standbyRefresh: number;
  /**
   * GTSM (RFC 5082): true sends with TTL 255 and takes only packets that
   * arrive with 255; "tx-only" sends 255 and takes any (for a change-over,
   * as BIRD's `ttl security tx only`); false sends TTL 1 and takes any.
   */
  ttlSecurity: boolean | 'tx-only';
  /** The only routers heard on the port (empty: any on-link address). */
  neighbours: number[];
  /** Send updates to each of `neighbours`, unicast, instead of to 224.0.0.9. */
  unicast: boolean;
  /** RFC 2453 §4.1 password or RFC 4822 cryptographic authentication. */
  auth: AuthConfig<RipAuthType>;
  /** Routes held from one neighbour on this port, at most. */
  maxRoutesPerNeighbour: number;
}

/** RIPv2 (RFC 2453). Timers in seconds. */
export interface RipConfig {
  ports: RipPortConfig[];
  /** Which local routes to advertise besides what RIP learned. */
  redistribute: ('connected' | 'static')[];
  updateTime: number;
  timeoutTime: number;
  garbageTime: number;
  /** Learned routes held (one per prefix and neighbour, garbage collection included), at most. */
  maxRoutes: number;
  /** Default of the ports' maxRoutesPerNeighbour. */
  maxRoutesPerNeighbour: number;
  /** Routers heard on one port, at most (a packet from one more is dropped). */
  maxNeighboursPerPort: number;
}

/** Packets per second, sustained, and how many may come at once. */
export interface RateLimitConfig {
  rate: number;
  burst: number;
}

export type OspfNetworkType = 'point-to-point' | 'broadcast';

export interface OspfPortConfig {
  port: string;
  /** The interface output cost (RFC 2328 §C.3), 1–65535. */
  cost: number;
  /** Advertise the port's subnet, but send and take no OSPF packets on it. */
  passive: boolean;
  network: OspfNetworkType;
  /** Router priority for the DR election (broadcast), 0 = never DR. */
  priority: number;
  /** Seconds. */
  helloInterval: number;
  deadInterval: number;
  retransmitInterval: number;
  /** Run BFD with each neighbour on the port: a BFD Down drops the adjacency at once. */
  bfd: boolean;
  /** RFC 2328 appendix D (password: simple, md5: D.3) and RFC 5709 (hmac-sha*), with a key chain as RIP's. */
  auth: AuthConfig<OspfAuthType>;
}

/** A kind of local route OSPF advertises as AS-external LSAs. */
export interface OspfRedistributeConfig {
  source: 'connected' | 'static';
  /** The external metric; null = the route's own (connected 1). */
  metric: number | null;
  /** External metric type (RFC 2328 §A.4.5): 2 (the default) does not add the internal cost. */
  metricType: 1 | 2;
}

/** OSPFv2 (RFC 2328), area 0. */
export interface OspfConfig {
  /** null = the highest port address. */
  routerId: number | null;
  ports: OspfPortConfig[];
  redistribute: OspfRedistributeConfig[];
  /** At most this many LSAs in the database; more are dropped and counted. */
  lsdbLimit: number;
}

export interface RouterConfig {
  /** Where the config came from, for messages. */
  file: string;
  router: string;
  socket: string;
  logLevel: string;
  icmpRateLimit: RateLimitConfig;
  /** The router's own answers: echo, timestamp and mask replies, TCP resets. */
  replyRateLimit: RateLimitConfig;
  ports: PortConfig[];
  routes: StaticRouteConfig[];
  bfd: BfdConfig;
  rip: RipConfig | null;
  ospf: OspfConfig | null;
  policy: PolicyRuleConfig[];
  virtualServices: VirtualServiceConfig[];
  triggers: TriggerConfig[];
  /** Flows idle this long no longer hold a draining port, s. */
  drainIdleTimeout: number;
  /**
   * Forwarding worker threads (one queue of every port each); 0: the
   * packet path runs in the daemon's own thread.
   */
  workers: number;
  /**
   * Added to the daemon's nice for each forwarding worker thread, as
   * nice(1)'s -n (default -10: a worker woken by a packet goes ahead of
   * CPU-bound work in other processes; 0 leaves them equal).
   */
  workerNice: number;
  /** The default of every port's `offload` (default true). */
  offload: boolean;
  /** TUN batches through io_uring (default true) or one read()/write() a packet; read at start. */
  ioUring: boolean;
  /** Serve GET /metrics (Prometheus) on this TCP address too, or null (it is always on the API socket). */
  metricsListen: { address: string; port: number } | null;
}

const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;
const DEVICE_HINT = 'a Linux interface name of at most 15 characters';
export const SOCKET_DIR = '/run/tunroute';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Top-level fields; `$schema` lets editors find the JSON Schema (config/tunroute.schema.json). */
export const CONFIG_FIELDS = [
  '$schema', 'router', 'socket', 'logLevel', 'icmpRateLimit', 'replyRateLimit', 'ports', 'routes', 'bfd', 'rip', 'ospf', 'policy', 'virtualServices', 'triggers', 'drainIdleTimeout',
  'metricsListen', 'offload', 'ioUring', 'workers', 'workerNice',
] as const;

/** The most forwarding workers a router may have. */
export const MAX_WORKERS = 64;

/** What a forwarding worker adds to the daemon's nice unless `workerNice` says otherwise. */
export const DEFAULT_WORKER_NICE = -10;

export function socketPathFor(router: string): string {
  return `${SOCKET_DIR}/${router}.sock`;
}

/**
 * Read, parse and check a config file. Throws one ConfigError carrying every
 * problem, each placed in the file (line and column).
 */
export function loadRouterConfig(file: string): RouterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError([{ file, path: '', message: `cannot read: ${(e as Error).message}` }]);
  }
  let source: JsonSource;
  try {
    source = readJson(text);
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new ConfigError([{ file, ...e.position, path: '', message: `not valid JSON: ${e.message}` }]);
  }
  const problems: Problem[] = source.duplicateKeys.map((d) => ({
    file, ...d.position, path: d.path, message: `given twice (also at line ${d.first.line}, column ${d.first.column}; JSON keeps only the last)`,
  }));
  let config: RouterConfig | undefined;
  try {
    config = parseRouterConfig(source.value, file);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems.map((p) => ({ ...p, file, ...source.locate(p.path, p.atKey) })));
  }
  if (problems.length > 0 || !config) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
    throw new ConfigError(problems);
  }
  return config;
}

/** Check a parsed config; throws one ConfigError with every problem (paths, no positions). */
export function parseRouterConfig(json: unknown, file = '<config>'): RouterConfig {
  return collect((p) => {
    const root = object(json, '');
    p.check(() => onlyKeys(root, CONFIG_FIELDS, ''));
    p.check(() => optionalString(root, '$schema', ''));
    const router = p.check(() => string(root, 'router', '', { pattern: NAME, hint: NAME_HINT }));
    const socket = p.check(() => optionalString(root, 'socket', '')) ?? (router === undefined ? undefined : socketPathFor(router));
    const logLevel = p.check(() => oneOf(root, 'logLevel', '', LOG_LEVELS, 'info'));
    const icmpRateLimit = p.check(() => parseRateLimit(root.icmpRateLimit, 'icmpRateLimit', { rate: 100, burst: 50 }));
    const replyRateLimit = p.check(() => parseRateLimit(root.replyRateLimit, 'replyRateLimit', { rate: 1000, burst: 100 }));
    const offload = p.check(() => boolean(root, 'offload', '', true));
    const { ports, subnets, broken } = parsePorts(p, root, offload ?? true);
    const portNames = [...subnets.map((x) => x.name), ...broken];

    const routes = allOf(eachOf(p, root.routes, 'routes', (v, path) => {
      const { route, problems } = checkRoute(v, subnets, path, broken);
      if (problems.length > 0) throw new ConfigError(problems);
      return route ?? undefined;
    }));
    const bfd = p.check(() => parseBfd(root.bfd, subnets, broken));
    const rip = root.rip === undefined ? null : p.check(() => parseRip(root.rip, subnets, broken));
    const ospf = root.ospf === undefined ? null : p.check(() => parseOspf(root.ospf, portNames));
    const policy = parsePolicy(p, root.policy, subnets, broken);
    const virtualServices = p.check(() => parseVirtualServices(root.virtualServices, 'virtualServices'));
    const triggers = p.check(() => parseTriggers(root.triggers, 'triggers', portNames));
    const drainIdleTimeout = p.check(() => integer(root, 'drainIdleTimeout', '', 1, 3600, 5));
    const metricsListen = p.check(() => parseListen(root, 'metricsListen'));
    const workers = p.check(() => integer(root, 'workers', '', 0, MAX_WORKERS, 0));
    const workerNice = p.check(() => integer(root, 'workerNice', '', -20, 19, DEFAULT_WORKER_NICE));
    const ioUring = p.check(() => boolean(root, 'ioUring', '', true));
    return complete<RouterConfig>({
      file, router, socket, logLevel, icmpRateLimit, replyRateLimit, ports, routes, bfd, rip, ospf, policy, virtualServices, triggers, drainIdleTimeout, metricsListen, offload, workers,
      workerNice, ioUring,
    });
  });
}

/** "ADDRESS:PORT" (an IPv4 address of this namespace, or 0.0.0.0), or null when absent. */
function parseListen(root: Json, key: string): { address: string; port: number } | null {
  const text = optionalString(root, key, '');
  if (text === undefined) return null;
  const m = /^(\d+\.\d+\.\d+\.\d+):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new ConfigError(key, `"${text}" is not ADDRESS:PORT (e.g. "127.0.0.1:9100")`);
  try {
    parseAddress(m[1]!);
  } catch (e) {
    throw new ConfigError(key, (e as Error).message);
  }
  return { address: m[1]!, port };
}

/** `{ rate, burst }` per second, or the default when absent. */
function parseRateLimit(v: unknown, key: string, dflt: RateLimitConfig): RateLimitConfig {
  if (v === undefined) return dflt;
  return collect((p) => {
    const o = object(v, key);
    p.check(() => onlyKeys(o, ['rate', 'burst'], key));
    const rate = p.check(() => integer(o, 'rate', key, 1, 1_000_000));
    const burst = p.check(() => integer(o, 'burst', key, 1, 1_000_000));
    return complete({ rate, burst });
  });
}

/**
 * The ports that check out; the addressing of every port whose name and
 * address are good (even if another of its fields is not), to check routes,
 * rules and peers against; and the names of ports too broken for that (a
 * route on one is not refused for it: the port's own problem is the one to
 * report).
 */
function parsePorts(p: Problems, root: Json, offload: boolean): { ports: PortConfig[]; subnets: Subnet[]; broken: string[] } {
  const items = p.check(() => array(root, 'ports', '', true));
  if (items?.length === 0) p.add('ports', 'at least one port is required');
  const ports: PortConfig[] = [];
  const usable: { subnet: Subnet; port?: PortConfig; path: string }[] = [];
  const broken: string[] = [];
  items?.forEach((v, i) => {
    const path = join('ports', i);
    const port = p.check(() => parsePort(v, path, offload));
    if (port) ports.push(port);
    const subnet = port ?? addressingOf(v);
    if (subnet) usable.push({ subnet, port, path });
    else if (isObject(v) && typeof v.name === 'string') broken.push(v.name);
  });
  const names = new Map<string, string>();
  const devices = new Map<string, string>();
  const addrs = new Map<string, string>();
  usable.forEach(({ subnet, port, path }, i) => {
    p.check(() => unique(names, subnet.name, join(path, 'name'), 'port name'));
    if (port) p.check(() => unique(devices, `${port.netns}/${port.device}`, join(path, 'device'), `device (netns "${port.netns || 'own'}")`));
    const sameAddress = addrs.has(String(subnet.address));
    p.check(() => unique(addrs, String(subnet.address), join(path, 'address'), 'address'));
    // Each pair once; a duplicate address was said already.
    const overlap = !sameAddress && usable.slice(0, i).map((o) => overlapProblem(subnet, o.subnet)).find((x) => x !== null);
    if (overlap) p.add(join(path, 'address'), overlap);
  });
  return { ports, subnets: usable.map((u) => u.subnet), broken };
}

/** Name and address of a port that has other problems, if those two are good (its problems are reported by parsePort). */
function addressingOf(v: unknown): Subnet | undefined {
  if (!isObject(v) || typeof v.name !== 'string' || !NAME.test(v.name) || typeof v.address !== 'string') return undefined;
  try {
    const ifa = parseInterfaceAddress(v.address);
    return portAddressProblem(ifa.addr, ifa.len) === null ? { name: v.name, address: ifa.addr, prefixLen: ifa.len } : undefined;
  } catch {
    return undefined;
  }
}

function parsePort(v: unknown, path: string, routerOffload: boolean): PortConfig {
  return collect((p) => {
    const o = object(v, path);
    p.check(() => onlyKeys(o, ['name', 'type', 'device', 'netns', 'address', 'mtu', 'neighbours', 'offload'], path));
    const name = p.check(() => string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }));
    const type = p.check(() => oneOf(o, 'type', path, ['tun', 'ethernet'] as const, 'tun'));
    const device = p.check(() => string(o, 'device', path, { pattern: DEVICE, hint: DEVICE_HINT }));
    const netns = p.check(() => optionalString(o, 'netns', path, { pattern: NAME, hint: NAME_HINT }) ?? '');
    const ifa = p.check(() => address(o, 'address', path, parseInterfaceAddress));
    const badAddress = ifa && portAddressProblem(ifa.addr, ifa.len);
    if (badAddress) p.add(join(path, 'address'), badAddress);
    const mtu = p.check(() => integer(o, 'mtu', path, 68, 65535, 1500));
    const neighbours = p.check(() => parseStaticNeighbours(o.neighbours, join(path, 'neighbours'), type, ifa));
    const offload = p.check(() => boolean(o, 'offload', path, routerOffload));
    return complete<PortConfig>({ name, type, device, netns, address: ifa?.addr, prefixLen: ifa?.len, mtu, neighbours, offload });
  });
}

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;

/** `[{ "address": "10.1.0.11", "mac": "02:00:00:00:00:11" }]`: neighbours on an Ethernet port's subnet, with unicast MACs. */
function parseStaticNeighbours(v: unknown, path: string, type: PortConfig['type'] | undefined, ifa: { addr: number; len: number } | undefined): PortConfig['neighbours'] {
  if (v === undefined) return [];
  if (type !== 'ethernet') throw new ConfigError(path, 'only an Ethernet port has neighbours to configure');
  return collect((p) => {
    const seen = new Map<string, string>();
    return allOf(eachOf(p, v, path, (nv, np) => collect<PortConfig['neighbours'][number]>((q) => {
      const o = object(nv, np);
      q.check(() => onlyKeys(o, ['address', 'mac'], np));
      const addr = q.check(() => address(o, 'address', np, parseAddress));
      if (addr !== undefined && ifa) {
        const bad = neighbourProblem('neighbour', addr, { name: 'this port', address: ifa.addr, prefixLen: ifa.len }, []);
        if (bad) q.add(join(np, 'address'), bad);
        q.check(() => unique(seen, String(addr), join(np, 'address'), 'neighbour'));
      }
      const mac = q.check(() => string(o, 'mac', np));
      if (mac !== undefined && !MAC.test(mac)) q.add(join(np, 'mac'), `"${mac}" is not a MAC address (aa:bb:cc:dd:ee:ff)`);
      else if (mac !== undefined && (parseInt(mac.slice(0, 2), 16) & 1) === 1) q.add(join(np, 'mac'), `${mac} is a group (multicast) address, not a neighbour's`);
      return complete({ address: addr, mac: mac?.toLowerCase() });
    })));
  });
}

function parseBfd(v: unknown, ports: readonly Subnet[], broken: readonly string[]): BfdConfig {
  if (v === undefined) return { interval: 100, multiplier: 3, sessions: [], auth: parseAuth(undefined, 'bfd.auth', BFD_AUTH_TYPES), ports: [] };
  const portNames = [...ports.map((x) => x.name), ...broken];
  return collect((p) => {
    const o = object(v, 'bfd');
    p.check(() => onlyKeys(o, ['interval', 'multiplier', 'sessions', 'auth', 'ports'], 'bfd'));
    const interval = p.check(() => integer(o, 'interval', 'bfd', 10, 60_000, 100));
    const multiplier = p.check(() => integer(o, 'multiplier', 'bfd', 1, 255, 3));
    const auth = p.check(() => parseAuth(o.auth, 'bfd.auth', BFD_AUTH_TYPES));
    const seenPorts = new Map<string, string>();
    const bfdPorts = allOf(eachOf(p, o.ports, 'bfd.ports', (pv, path) => collect<BfdConfig['ports'][number]>((pp) => {
      const po = object(pv, path);
      pp.check(() => onlyKeys(po, ['port', 'auth'], path));
      const port = pp.check(() => portRef(po, 'port', path, portNames));
      if (port !== undefined) pp.check(() => unique(seenPorts, port, join(path, 'port'), 'BFD port'));
      const auth = pp.check(() => {
        if (po.auth === undefined) throw new ConfigError(join(path, 'auth'), 'missing (required)');
        return parseAuth(po.auth, join(path, 'auth'), BFD_AUTH_TYPES);
      });
      return complete<BfdConfig['ports'][number]>({ port, auth });
    })));
    const seen = new Map<string, string>();
    const sessions = allOf(eachOf(p, o.sessions, 'bfd.sessions', (sv, path) => collect<BfdSessionConfig>((sp) => {
      const so = object(sv, path);
      sp.check(() => onlyKeys(so, ['port', 'peer', 'interval', 'multiplier', 'auth'], path));
      const portName = sp.check(() => portRef(so, 'port', path, portNames));
      const port = ports.find((x) => x.name === portName);
      const peer = sp.check(() => address(so, 'peer', path, parseAddress));
      const badPeer = port && peer !== undefined && neighbourProblem('BFD peer', peer, port, ports);
      if (badPeer) sp.add(join(path, 'peer'), `${badPeer} (BFD here is single-hop)`);
      if (port && peer !== undefined && !badPeer) sp.check(() => unique(seen, `${port.name}/${peer}`, path, 'BFD session'));
      return complete<BfdSessionConfig>({
        port: port?.name,
        peer,
        interval: sp.check(() => integer(so, 'interval', path, 10, 60_000, interval ?? 100)),
        multiplier: sp.check(() => integer(so, 'multiplier', path, 1, 255, multiplier ?? 3)),
        auth: so.auth === undefined ? null : sp.check(() => parseAuth(so.auth, join(path, 'auth'), BFD_AUTH_TYPES)),
      });
    })));
    return complete<BfdConfig>({ interval, multiplier, sessions, auth, ports: bfdPorts });
  });
}

const RIP_PORT_FIELDS = ['port', 'cost', 'bfd', 'passive', 'standbyRefresh', 'ttlSecurity', 'neighbours', 'unicast', 'auth', 'maxRoutesPerNeighbour'];

function parseRip(v: unknown, subnets: readonly Subnet[], broken: readonly string[]): RipConfig {
  const portNames = [...subnets.map((x) => x.name), ...broken];
  return collect((p) => {
    const o = object(v, 'rip');
    p.check(() => onlyKeys(o, ['ports', 'redistribute', 'updateTime', 'timeoutTime', 'garbageTime', 'maxRoutes', 'maxRoutesPerNeighbour', 'maxNeighboursPerPort'], 'rip'));
    const maxRoutes = p.check(() => integer(o, 'maxRoutes', 'rip', 1, 1_000_000, 10_000));
    const maxRoutesPerNeighbour = p.check(() => integer(o, 'maxRoutesPerNeighbour', 'rip', 1, 1_000_000, 5_000));
    const maxNeighboursPerPort = p.check(() => integer(o, 'maxNeighboursPerPort', 'rip', 1, 4096, 32));
    const seen = new Map<string, string>();
    const items = p.check(() => array(o, 'ports', 'rip', true));
    const ripPorts = allOf(items && eachOf(p, items, 'rip.ports', (pv, path) => collect<RipPortConfig>((pp) => {
      // A bare port name is shorthand for { "port": name }.
      const po = typeof pv === 'string' ? { port: pv } : object(pv, path);
      pp.check(() => onlyKeys(po, RIP_PORT_FIELDS, path));
      const port = pp.check(() => portRef(po, 'port', path, portNames));
      if (port !== undefined) pp.check(() => unique(seen, port, join(path, 'port'), 'RIP port'));
      const subnet = subnets.find((x) => x.name === port);
      const neighbours = pp.check(() => parseRipNeighbours(po.neighbours, join(path, 'neighbours'), subnet, subnets));
      const unicast = pp.check(() => boolean(po, 'unicast', path, false));
      if (unicast && neighbours?.length === 0) pp.add(join(path, 'unicast'), 'needs "neighbours" to send to');
      return complete<RipPortConfig>({
        port,
        cost: pp.check(() => integer(po, 'cost', path, 1, 15, 1)),
        bfd: pp.check(() => boolean(po, 'bfd', path, false)),
        passive: pp.check(() => boolean(po, 'passive', path, false)),
        standbyRefresh: pp.check(() => {
          const ms = integer(po, 'standbyRefresh', path, 0, 60_000, 0);
          if (ms > 0 && ms < 10) throw new ConfigError(join(path, 'standbyRefresh'), 'must be 0 (off) or at least 10 ms');
          return ms;
        }),
        ttlSecurity: pp.check(() => {
          const t = po.ttlSecurity;
          if (t === undefined || typeof t === 'boolean' || t === 'tx-only') return t ?? false;
          throw new ConfigError(join(path, 'ttlSecurity'), `must be true, false or "tx-only" (got ${JSON.stringify(t)})`);
        }),
        neighbours,
        unicast,
        auth: pp.check(() => parseAuth(po.auth, join(path, 'auth'), RIP_AUTH_TYPES)),
        maxRoutesPerNeighbour: pp.check(() => integer(po, 'maxRoutesPerNeighbour', path, 1, 1_000_000, maxRoutesPerNeighbour ?? 5_000)),
      });
    })));
    const redistribute = allOf(eachOf(p, o.redistribute, 'rip.redistribute', (r, path) => {
      if (r !== 'connected' && r !== 'static') throw new ConfigError(path, `must be "connected" or "static" (got ${JSON.stringify(r)})`);
      return r;
    }));
    const updateTime = p.check(() => integer(o, 'updateTime', 'rip', 1, 3600, 30));
    const timeoutTime = p.check(() => integer(o, 'timeoutTime', 'rip', 1, 3600, 180));
    const garbageTime = p.check(() => integer(o, 'garbageTime', 'rip', 1, 3600, 120));
    if (updateTime !== undefined && timeoutTime !== undefined && timeoutTime <= updateTime) {
      p.add('rip.timeoutTime', `must be longer than updateTime (${updateTime} s)`);
    }
    return complete<RipConfig>({
      ports: ripPorts, redistribute: o.redistribute === undefined ? ['connected', 'static'] : redistribute, updateTime, timeoutTime, garbageTime,
      maxRoutes, maxRoutesPerNeighbour, maxNeighboursPerPort,
    });
  });
}

const OSPF_NETWORKS: readonly OspfNetworkType[] = ['point-to-point', 'broadcast'];
const OSPF_PORT_FIELDS = ['port', 'cost', 'passive', 'network', 'priority', 'helloInterval', 'deadInterval', 'retransmitInterval', 'bfd', 'auth'];

function parseOspf(v: unknown, portNames: readonly string[]): OspfConfig {
  return collect((p) => {
    const o = object(v, 'ospf');
    p.check(() => onlyKeys(o, ['routerId', 'ports', 'redistribute', 'lsdbLimit'], 'ospf'));
    const routerId = o.routerId === undefined ? null : p.check(() => address(o, 'routerId', 'ospf', parseAddress));
    if (routerId === 0) p.add('ospf.routerId', 'must not be 0.0.0.0');
    const seen = new Map<string, string>();
    const items = p.check(() => array(o, 'ports', 'ospf', true));
    const ospfPorts = allOf(items && eachOf(p, items, 'ospf.ports', (pv, path) => collect<OspfPortConfig>((pp) => {
      // A bare port name is shorthand for { "port": name }.
      const po = typeof pv === 'string' ? { port: pv } : object(pv, path);
      pp.check(() => onlyKeys(po, OSPF_PORT_FIELDS, path));
      const port = pp.check(() => portRef(po, 'port', path, portNames));
      if (port !== undefined) pp.check(() => unique(seen, port, join(path, 'port'), 'OSPF port'));
      const helloInterval = pp.check(() => integer(po, 'helloInterval', path, 1, 65535, 10));
      const deadInterval = pp.check(() => integer(po, 'deadInterval', path, 2, 65535, 4 * (helloInterval ?? 10)));
      if (helloInterval !== undefined && deadInterval !== undefined && deadInterval <= helloInterval) {
        pp.add(join(path, 'deadInterval'), `must be longer than helloInterval (${helloInterval} s)`);
      }
      return complete<OspfPortConfig>({
        port,
        cost: pp.check(() => integer(po, 'cost', path, 1, 65535, 10)),
        passive: pp.check(() => boolean(po, 'passive', path, false)),
        network: pp.check(() => oneOf(po, 'network', path, OSPF_NETWORKS, 'point-to-point')),
        priority: pp.check(() => integer(po, 'priority', path, 0, 255, 1)),
        helloInterval,
        deadInterval,
        retransmitInterval: pp.check(() => integer(po, 'retransmitInterval', path, 1, 3600, 5)),
        bfd: pp.check(() => boolean(po, 'bfd', path, false)),
        auth: pp.check(() => parseOspfAuth(po.auth, join(path, 'auth'))),
      });
    })));
    const redistribute = allOf(eachOf(p, o.redistribute, 'ospf.redistribute', (rv, path) => collect<OspfRedistributeConfig>((rp) => {
      // A bare source is shorthand for { "source": name }.
      const ro = typeof rv === 'string' ? { source: rv } : object(rv, path);
      rp.check(() => onlyKeys(ro, ['source', 'metric', 'metricType'], path));
      const metricType = rp.check(() => integer(ro, 'metricType', path, 1, 2, 2));
      return complete<OspfRedistributeConfig>({
        source: rp.check(() => oneOf(ro, 'source', path, ['connected', 'static'] as const)),
        metric: ro.metric === undefined ? null : rp.check(() => integer(ro, 'metric', path, 0, 16777214)),
        metricType: metricType as 1 | 2 | undefined,
      });
    })));
    const sources = new Map<string, string>();
    redistribute?.forEach((r, i) => p.check(() => unique(sources, r.source, join(join('ospf.redistribute', i), 'source'), 'redistributed source')));
    const lsdbLimit = p.check(() => integer(o, 'lsdbLimit', 'ospf', 10, 1_000_000, 10_000));
    return complete<OspfConfig>({ routerId, ports: ospfPorts, redistribute, lsdbLimit });
  });
}

/** The OSPF format before the key chain, and what it is called now. */
const OLD_OSPF_AUTH_TYPES: Record<string, OspfAuthType> = {
  null: 'none', simple: 'password', 'hmac-sha-1': 'hmac-sha1', 'hmac-sha-256': 'hmac-sha256', 'hmac-sha-384': 'hmac-sha384', 'hmac-sha-512': 'hmac-sha512',
};

/** RIP's format (a type and a key chain) with OSPF's limits; the old one-key format is refused saying what to write instead. */
function parseOspfAuth(v: unknown, path: string): AuthConfig<OspfAuthType> {
  if (isObject(v)) {
    const o = v;
    const old = ['key', 'keyId'].find((k) => o[k] !== undefined);
    if (old !== undefined) {
      const id = Number.isInteger(o.keyId) ? (o.keyId as number) : 1;
      throw new ConfigError(join(path, old), `"key" and "keyId" are no longer read: write "keys": [{ "id": ${id}, "secret": "…" }] (the key chain RIP and BFD use)`);
    }
    const renamed = typeof o.type === 'string' ? OLD_OSPF_AUTH_TYPES[o.type] : undefined;
    if (renamed !== undefined) throw new ConfigError(join(path, 'type'), `"${o.type as string}" is now "${renamed}" (the type names RIP uses)`);
  }
  return parseAuth(v, path, OSPF_AUTH_TYPES, OSPF_AUTH_SECRET_MAX);
}

/** `["10.0.12.2", …]`: routers on the port's subnet (not its own address, network or broadcast), each once. */
function parseRipNeighbours(v: unknown, path: string, port: Subnet | undefined, ports: readonly Subnet[]): number[] {
  if (v === undefined) return [];
  return collect((p) => {
    const seen = new Map<string, string>();
    return allOf(eachOf(p, v, path, (nv, np) => {
      const addr = addressText(nv, np, parseAddress);
      const bad = port && neighbourProblem('neighbour', addr, port, ports);
      if (bad) throw new ConfigError(np, bad);
      unique(seen, String(addr), np, 'neighbour');
      return addr;
    }));
  });
}

/** Policy rules (checked as the API checks them), unique names, and a `via` that is a neighbour on the rule's port. */
function parsePolicy(p: Problems, v: unknown, ports: readonly Subnet[], broken: readonly string[]): PolicyRuleConfig[] | undefined {
  const names = new Map<string, string>();
  const rules = eachOf(p, v, 'policy', (rv, path) => parsePolicyRule(rv, path, [...ports.map((x) => x.name), ...broken]));
  rules?.forEach((rule, i) => {
    if (!rule) return;
    const path = join('policy', i);
    p.check(() => unique(names, rule.name, join(path, 'name'), 'policy rule'));
    const port = ports.find((x) => x.name === rule.port);
    const badVia = port && rule.via !== 0 && neighbourProblem('next hop', rule.via, port, ports);
    if (badVia) p.add(join(path, 'via'), badVia);
  });
  return allOf(rules);
}
