// Config of the migration features: virtual services (the service address
// owned by the router, flows sent to private backends by source) and
// history-triggered port blocks.
import { parseAddress, parsePrefixOrAddress, type Prefix } from '../net/addr.js';
import {
  address, addressText, allOf, array, boolean, eachOf, integer, join, object, oneOf, onlyKeys, optionalString, portRef, string, unique, type Json,
} from './fields.js';
import { NAME, NAME_HINT } from './names.js';
import { ConfigError, collect, complete } from './problems.js';

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
  return collect((p) => {
    const services = eachOf(p, v, path, parseVirtualService);
    const names = new Map<string, string>();
    const addrs = new Map<string, string>();
    services?.forEach((s, i) => {
      if (s === undefined) return;
      p.check(() => unique(names, s.name, join(join(path, i), 'name'), 'virtual service'));
      p.check(() => unique(addrs, String(s.address), join(join(path, i), 'address'), 'virtual address'));
    });
    return allOf(services);
  });
}

function parseVirtualService(v: unknown, path: string): VirtualServiceConfig {
  return collect((p) => {
    const o = object(v, path);
    p.check(() => onlyKeys(o, ['name', 'address', 'backends', 'idleTimeout'], path));
    const name = p.check(() => string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }));
    const addr = p.check(() => address(o, 'address', path, parseAddress));
    const backends = p.check(() => array(o, 'backends', path, true));
    const parsed = allOf(backends && eachOf(p, backends, join(path, 'backends'), parseBackend));
    if (parsed && !parsed.some((b) => b.sources.length === 0)) {
      p.add(join(path, 'backends'), 'one backend must have no "sources": it serves everyone else');
    }
    const idleTimeout = p.check(() => integer(o, 'idleTimeout', path, 1, 86_400, 30));
    return complete<VirtualServiceConfig>({ name, address: addr, backends: parsed, idleTimeout });
  });
}

function parseBackend(v: unknown, path: string): BackendConfig {
  return collect((p) => {
    const o: Json = object(v, path);
    p.check(() => onlyKeys(o, ['name', 'address', 'sources'], path));
    const name = p.check(() => string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }));
    const addr = p.check(() => address(o, 'address', path, parseAddress));
    const sources = allOf(eachOf(p, o.sources, join(path, 'sources'), (s, sp) => addressText(s, sp, parsePrefixOrAddress)));
    return complete<BackendConfig>({ name, address: addr, sources });
  });
}

/** One trigger; throws a ConfigError listing every problem in it. */
export function parseTrigger(v: unknown, path: string, portNames: readonly string[]): TriggerConfig {
  return collect((p) => {
    const o: Json = object(v, path);
    p.check(() => onlyKeys(o, ['name', 'file', 'api', 'match', 'action', 'port'], path));
    const name = p.check(() => string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }));
    const file = o.file === undefined ? null : p.check(() => string(o, 'file', path));
    const api = p.check(() => boolean(o, 'api', path, o.file === undefined));
    const match = p.check(() => parseMatch(o.match, join(path, 'match')));
    const action = p.check(() => oneOf(o, 'action', path, ['block', 'drain'] as const, 'block'));
    const port = p.check(() => portRef(o, 'port', path, portNames));
    return complete<TriggerConfig>({ name, file, api, match, action, port });
  });
}

function parseMatch(v: unknown, path: string): TriggerConfig['match'] {
  return collect((p) => {
    if (v === undefined) throw new ConfigError(path, 'missing (required)');
    const m = object(v, path);
    p.check(() => onlyKeys(m, ['client', 'server', 'status', 'path'], path));
    const client = p.check(() => address(m, 'client', path, parseAddress));
    const server = p.check(() => optionalString(m, 'server', path) ?? null);
    const status = m.status === undefined ? null : p.check(() => integer(m, 'status', path, 100, 599));
    const urlPath = p.check(() => optionalString(m, 'path', path) ?? null);
    return complete<TriggerConfig['match']>({ client, server, status, path: urlPath });
  });
}

export function parseTriggers(v: unknown, path: string, portNames: readonly string[]): TriggerConfig[] {
  return collect((p) => {
    const triggers = eachOf(p, v, path, (t, tp) => parseTrigger(t, tp, portNames));
    const names = new Map<string, string>();
    triggers?.forEach((t, i) => t && p.check(() => unique(names, t.name, join(join(path, i), 'name'), 'trigger')));
    return allOf(triggers);
  });
}
