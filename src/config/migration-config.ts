// Config of the migration features: virtual services (the service address
// owned by the router, flows sent to private backends by source) and
// history-triggered port blocks.
import { parseAddress, parsePrefixOrAddress, type Prefix } from '../net/addr.js';
import {
  ConfigError, address, array, boolean, integer, join, object, oneOf, onlyKeys, optionalString, string, unique, type Json,
} from './fields.js';
import { NAME, NAME_HINT } from './names.js';

export interface BackendConfig {
  name: string;
  address: number;
  /** Sources sent to this backend; empty = the default backend. */
  sources: Prefix[];
}

export interface VirtualServiceConfig {
  name: string;
  address: number;
  backends: BackendConfig[];
  /** A flow with no packets for this long is forgotten, s. */
  idleTimeout: number;
}

export interface TriggerConfig {
  name: string;
  /** Access log (JSON lines) to tail, or null. */
  file: string | null;
  /** Accept history lines POSTed to the API. */
  api: boolean;
  /** The history line that fires the trigger. */
  match: { client: number; server: string | null; status: number | null; path: string | null };
  action: 'block' | 'drain';
  port: string;
}

export function parseVirtualServices(v: unknown, path: string): VirtualServiceConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list');
  const names = new Map<string, string>();
  const addrs = new Map<string, string>();
  return v.map((sv, i) => {
    const p = join(path, i);
    const o = object(sv, p);
    onlyKeys(o, ['name', 'address', 'backends', 'idleTimeout'], p);
    const name = string(o, 'name', p, { pattern: NAME, hint: NAME_HINT });
    unique(names, name, join(p, 'name'), 'virtual service');
    const addr = address(o, 'address', p, parseAddress);
    unique(addrs, String(addr), join(p, 'address'), 'virtual address');
    const backends = array(o, 'backends', p, true).map((bv, j) => parseBackend(bv, join(join(p, 'backends'), j)));
    if (!backends.some((b) => b.sources.length === 0)) {
      throw new ConfigError(join(p, 'backends'), 'one backend must have no "sources": it serves everyone else');
    }
    return { name, address: addr, backends, idleTimeout: integer(o, 'idleTimeout', p, 1, 86_400, 30) };
  });
}

function parseBackend(v: unknown, path: string): BackendConfig {
  const o: Json = object(v, path);
  onlyKeys(o, ['name', 'address', 'sources'], path);
  const sources = array(o, 'sources', path).map((s, i) => {
    try {
      return parsePrefixOrAddress(String(s));
    } catch (e) {
      throw new ConfigError(join(join(path, 'sources'), i), (e as Error).message);
    }
  });
  return { name: string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }), address: address(o, 'address', path, parseAddress), sources };
}

export function parseTrigger(v: unknown, path: string, portNames: readonly string[]): TriggerConfig {
  const o: Json = object(v, path);
  onlyKeys(o, ['name', 'file', 'api', 'match', 'action', 'port'], path);
  const name = string(o, 'name', path, { pattern: NAME, hint: NAME_HINT });
  const file = optionalString(o, 'file', path) ?? null;
  const api = boolean(o, 'api', path, file === null);
  const mp = join(path, 'match');
  const m = object(o.match, mp);
  onlyKeys(m, ['client', 'server', 'status', 'path'], mp);
  const match = {
    client: address(m, 'client', mp, parseAddress),
    server: optionalString(m, 'server', mp) ?? null,
    status: m.status === undefined ? null : integer(m, 'status', mp, 100, 599),
    path: optionalString(m, 'path', mp) ?? null,
  };
  const action = oneOf(o, 'action', path, ['block', 'drain'] as const, 'block');
  const port = string(o, 'port', path);
  if (!portNames.includes(port)) throw new ConfigError(join(path, 'port'), `unknown port "${port}" (ports: ${portNames.join(', ')})`);
  return { name, file, api, match, action, port };
}

export function parseTriggers(v: unknown, path: string, portNames: readonly string[]): TriggerConfig[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new ConfigError(path, 'must be a list');
  const names = new Map<string, string>();
  return v.map((tv, i) => {
    const t = parseTrigger(tv, join(path, i), portNames);
    unique(names, t.name, join(join(path, i), 'name'), 'trigger');
    return t;
  });
}
