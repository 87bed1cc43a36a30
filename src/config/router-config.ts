// The router's config file (JSON): what it is, and how it is checked.
// Every mistake ends as one ConfigError naming the field.
import { readFileSync } from 'node:fs';
import { parseAddress, parseInterfaceAddress, parsePrefix, formatPrefix, maskOf } from '../net/addr.js';
import {
  ConfigError, address, array, boolean, integer, join, object, onlyKeys, optionalString, string, unique, type Json,
} from './fields.js';
import { NAME, NAME_HINT } from './names.js';
import { parseTriggers, parseVirtualServices, type TriggerConfig, type VirtualServiceConfig } from './migration-config.js';
import { parsePolicyRule, type PolicyRuleConfig } from './policy-config.js';

export interface PortConfig {
  name: string;
  /** TUN device name (≤ 15 bytes). */
  device: string;
  /** Network namespace the device's kernel side lives in; "" = the daemon's own. */
  netns: string;
  address: number;
  prefixLen: number;
  mtu: number;
}

export interface StaticRouteConfig {
  prefix: number;
  len: number;
  port: string;
  /** 0 = on-link. */
  via: number;
  metric: number;
  bfd: boolean;
}

export interface BfdSessionConfig {
  port: string;
  peer: number;
  /** Desired min TX and required min RX interval, ms. */
  interval: number;
  multiplier: number;
}

/** BFD (RFC 5880/5881). Sessions come from this list, from BFD-tracked static routes, and from RIP ports with bfd on. */
export interface BfdConfig {
  interval: number;
  multiplier: number;
  sessions: BfdSessionConfig[];
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
}

/** RIPv2 (RFC 2453). Timers in seconds. */
export interface RipConfig {
  ports: RipPortConfig[];
  /** Which local routes to advertise besides what RIP learned. */
  redistribute: ('connected' | 'static')[];
  updateTime: number;
  timeoutTime: number;
  garbageTime: number;
}

export interface RouterConfig {
  /** Where the config came from, for messages. */
  file: string;
  router: string;
  socket: string;
  logLevel: string;
  icmpRateLimit: { rate: number; burst: number };
  ports: PortConfig[];
  routes: StaticRouteConfig[];
  bfd: BfdConfig;
  rip: RipConfig | null;
  policy: PolicyRuleConfig[];
  virtualServices: VirtualServiceConfig[];
  triggers: TriggerConfig[];
  /** Flows idle this long no longer hold a draining port, s. */
  drainIdleTimeout: number;
}

const DEVICE = /^[A-Za-z0-9_.-]{1,15}$/;
const DEVICE_HINT = 'a Linux interface name of at most 15 characters';
export const SOCKET_DIR = '/run/tunroute';
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function socketPathFor(router: string): string {
  return `${SOCKET_DIR}/${router}.sock`;
}

/** Read, parse and check a config file; throws ConfigError naming file and field. */
export function loadRouterConfig(file: string): RouterConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('', `${file}: cannot read: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError('', `${file}: not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseRouterConfig(json, file);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError('', `${file}: ${e.message}`);
    throw e;
  }
}

export function parseRouterConfig(json: unknown, file = '<config>'): RouterConfig {
  const root = object(json, '');
  onlyKeys(root, ['router', 'socket', 'logLevel', 'icmpRateLimit', 'ports', 'routes', 'bfd', 'rip', 'policy', 'virtualServices', 'triggers', 'drainIdleTimeout'], '');
  const router = string(root, 'router', '', { pattern: NAME, hint: NAME_HINT });
  const socket = optionalString(root, 'socket', '') ?? socketPathFor(router);
  const logLevel = optionalString(root, 'logLevel', '') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);

  let icmpRateLimit = { rate: 100, burst: 50 };
  if (root.icmpRateLimit !== undefined) {
    const o = object(root.icmpRateLimit, 'icmpRateLimit');
    onlyKeys(o, ['rate', 'burst'], 'icmpRateLimit');
    icmpRateLimit = { rate: integer(o, 'rate', 'icmpRateLimit', 1, 1_000_000), burst: integer(o, 'burst', 'icmpRateLimit', 1, 1_000_000) };
  }

  const ports = array(root, 'ports', '', true).map((v, i) => parsePort(v, join('ports', i)));
  if (ports.length === 0) throw new ConfigError('ports', 'at least one port is required');
  const names = new Map<string, string>();
  const devices = new Map<string, string>();
  const addrs = new Map<string, string>();
  ports.forEach((p, i) => {
    unique(names, p.name, join(join('ports', i), 'name'), 'port name');
    unique(devices, `${p.netns}/${p.device}`, join(join('ports', i), 'device'), `device (netns "${p.netns || 'own'}")`);
    unique(addrs, String(p.address), join(join('ports', i), 'address'), 'address');
  });

  const routes = array(root, 'routes', '').map((v, i) => parseRoute(v, join('routes', i), ports));
  const bfd = parseBfd(root.bfd, ports);
  const rip = root.rip === undefined ? null : parseRip(root.rip, ports);
  const portNames = ports.map((p) => p.name);
  const ruleNames = new Map<string, string>();
  const policy = array(root, 'policy', '').map((v, i) => {
    const rule = parsePolicyRule(v, join('policy', i), portNames);
    unique(ruleNames, rule.name, join(join('policy', i), 'name'), 'policy rule');
    return rule;
  });
  const virtualServices = parseVirtualServices(root.virtualServices, 'virtualServices');
  const triggers = parseTriggers(root.triggers, 'triggers', portNames);
  const drainIdleTimeout = integer(root, 'drainIdleTimeout', '', 1, 3600, 5);
  return { file, router, socket, logLevel, icmpRateLimit, ports, routes, bfd, rip, policy, virtualServices, triggers, drainIdleTimeout };
}

function portNamed(ports: PortConfig[], o: Json, path: string): PortConfig {
  const name = string(o, 'port', path);
  const port = ports.find((p) => p.name === name);
  if (!port) throw new ConfigError(join(path, 'port'), `unknown port "${name}" (ports: ${ports.map((p) => p.name).join(', ')})`);
  return port;
}

function onPortSubnet(port: PortConfig, addr: number): boolean {
  return ((addr & maskOf(port.prefixLen)) >>> 0) === ((port.address & maskOf(port.prefixLen)) >>> 0);
}

function parseBfd(v: unknown, ports: PortConfig[]): BfdConfig {
  if (v === undefined) return { interval: 100, multiplier: 3, sessions: [] };
  const o = object(v, 'bfd');
  onlyKeys(o, ['interval', 'multiplier', 'sessions'], 'bfd');
  const interval = integer(o, 'interval', 'bfd', 10, 60_000, 100);
  const multiplier = integer(o, 'multiplier', 'bfd', 1, 255, 3);
  const seen = new Map<string, string>();
  const sessions = array(o, 'sessions', 'bfd').map((sv, i) => {
    const path = join('bfd.sessions', i);
    const so = object(sv, path);
    onlyKeys(so, ['port', 'peer', 'interval', 'multiplier'], path);
    const port = portNamed(ports, so, path);
    const peer = address(so, 'peer', path, parseAddress);
    if (!onPortSubnet(port, peer) || peer === port.address) throw new ConfigError(join(path, 'peer'), `peer must be another address on port "${port.name}" (single-hop BFD)`);
    unique(seen, `${port.name}/${peer}`, path, 'BFD session');
    return { port: port.name, peer, interval: integer(so, 'interval', path, 10, 60_000, interval), multiplier: integer(so, 'multiplier', path, 1, 255, multiplier) };
  });
  return { interval, multiplier, sessions };
}

function parseRip(v: unknown, ports: PortConfig[]): RipConfig {
  const o = object(v, 'rip');
  onlyKeys(o, ['ports', 'redistribute', 'updateTime', 'timeoutTime', 'garbageTime'], 'rip');
  const seen = new Map<string, string>();
  const ripPorts = array(o, 'ports', 'rip', true).map((pv, i) => {
    const path = join('rip.ports', i);
    // A bare port name is shorthand for { "port": name }.
    const po = typeof pv === 'string' ? { port: pv } : object(pv, path);
    onlyKeys(po, ['port', 'cost', 'bfd', 'passive', 'standbyRefresh'], path);
    const port = portNamed(ports, po, path);
    unique(seen, port.name, join(path, 'port'), 'RIP port');
    const standbyRefresh = integer(po, 'standbyRefresh', path, 0, 60_000, 0);
    if (standbyRefresh > 0 && standbyRefresh < 10) throw new ConfigError(join(path, 'standbyRefresh'), 'must be 0 (off) or at least 10 ms');
    return {
      port: port.name, cost: integer(po, 'cost', path, 1, 15, 1), bfd: boolean(po, 'bfd', path, false),
      passive: boolean(po, 'passive', path, false), standbyRefresh,
    };
  });
  const redistribute = array(o, 'redistribute', 'rip').map((r, i) => {
    if (r !== 'connected' && r !== 'static') throw new ConfigError(join('rip.redistribute', i), 'must be "connected" or "static"');
    return r;
  });
  const updateTime = integer(o, 'updateTime', 'rip', 1, 3600, 30);
  const timeoutTime = integer(o, 'timeoutTime', 'rip', 1, 3600, 180);
  const garbageTime = integer(o, 'garbageTime', 'rip', 1, 3600, 120);
  if (timeoutTime <= updateTime) throw new ConfigError('rip.timeoutTime', `must be longer than updateTime (${updateTime} s)`);
  return { ports: ripPorts, redistribute: o.redistribute === undefined ? ['connected', 'static'] : redistribute, updateTime, timeoutTime, garbageTime };
}

function parsePort(v: unknown, path: string): PortConfig {
  const o = object(v, path);
  onlyKeys(o, ['name', 'device', 'netns', 'address', 'mtu'], path);
  const name = string(o, 'name', path, { pattern: NAME, hint: NAME_HINT });
  const device = string(o, 'device', path, { pattern: DEVICE, hint: DEVICE_HINT });
  const netns = optionalString(o, 'netns', path, { pattern: NAME, hint: NAME_HINT }) ?? '';
  const ifa = address(o, 'address', path, parseInterfaceAddress);
  const mtu = integer(o, 'mtu', path, 68, 65535, 1500);
  return { name, device, netns, address: ifa.addr, prefixLen: ifa.len, mtu };
}

function parseRoute(v: unknown, path: string, ports: PortConfig[]): StaticRouteConfig {
  const o: Json = object(v, path);
  onlyKeys(o, ['prefix', 'port', 'via', 'metric', 'bfd'], path);
  const { addr: prefix, len } = address(o, 'prefix', path, parsePrefix);
  const port = portNamed(ports, o, path);
  const via = o.via === undefined ? 0 : address(o, 'via', path, parseAddress);
  if (via !== 0 && !onPortSubnet(port, via)) {
    throw new ConfigError(join(path, 'via'), `next hop is not on port "${port.name}" (${formatPrefix((port.address & maskOf(port.prefixLen)) >>> 0, port.prefixLen)})`);
  }
  const metric = integer(o, 'metric', path, 0, 0x7fffffff, 1);
  const bfd = boolean(o, 'bfd', path, false);
  if (bfd && via === 0 && port.prefixLen < 30) {
    throw new ConfigError(join(path, 'bfd'), 'a BFD-tracked route needs "via" (the BFD peer) unless the port is point-to-point (/30, /31, /32)');
  }
  return { prefix, len, port: port.name, via, metric, bfd };
}
