// Small typed readers for config objects. Each failure names the field by
// its path (e.g. `ports[1].address`), so the loader can print one line that
// points at the mistake.
import { AddressError } from '../net/addr.js';

export class ConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
  }
}

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function object(v: unknown, path: string): Json {
  if (!isObject(v)) throw new ConfigError(path, 'must be an object');
  return v;
}

export function onlyKeys(o: Json, allowed: readonly string[], path: string): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new ConfigError(join(path, k), `unknown field (allowed: ${allowed.join(', ')})`);
  }
}

export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

export function array(o: Json, key: string, path: string, required = false): unknown[] {
  const v = o[key];
  if (v === undefined && !required) return [];
  if (!Array.isArray(v)) throw new ConfigError(join(path, key), v === undefined ? 'missing (required list)' : 'must be a list');
  return v;
}

export function string(o: Json, key: string, path: string, opts: { pattern?: RegExp; hint?: string } = {}): string {
  const v = o[key];
  if (v === undefined) throw new ConfigError(join(path, key), 'missing (required)');
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(join(path, key), 'must be a non-empty string');
  if (opts.pattern && !opts.pattern.test(v)) throw new ConfigError(join(path, key), `"${v}" is not valid${opts.hint ? ` (${opts.hint})` : ''}`);
  return v;
}

export function optionalString(o: Json, key: string, path: string, opts: { pattern?: RegExp; hint?: string } = {}): string | undefined {
  return o[key] === undefined ? undefined : string(o, key, path, opts);
}

export function integer(o: Json, key: string, path: string, min: number, max: number, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) throw new ConfigError(join(path, key), 'missing (required)');
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(join(path, key), `must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export function boolean(o: Json, key: string, path: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(join(path, key), 'must be true or false');
  return v;
}

export function oneOf<T extends string>(o: Json, key: string, path: string, choices: readonly T[], dflt?: T): T {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new ConfigError(join(path, key), `must be one of ${choices.join(', ')}${v === undefined ? ' (missing)' : ` (got ${JSON.stringify(v)})`}`);
  }
  return v as T;
}

/** Parse with an address parser, turning its error into a field error. */
export function address<T>(o: Json, key: string, path: string, parse: (s: string) => T): T {
  const s = string(o, key, path);
  try {
    return parse(s);
  } catch (e) {
    if (e instanceof AddressError) throw new ConfigError(join(path, key), e.message);
    throw e;
  }
}

export function unique(seen: Map<string, string>, value: string, path: string, what: string): void {
  const prev = seen.get(value);
  if (prev !== undefined) throw new ConfigError(path, `duplicate ${what} "${value}" (also at ${prev})`);
  seen.set(value, path);
}
