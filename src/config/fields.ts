// Small typed readers for config objects. Each failure is a ConfigError that
// names the field by its path (e.g. `ports[1].address`); the parsers run the
// readers through a Problems collector so one bad field does not hide the next.
import { AddressError } from '../net/addr.js';
import { ConfigError, type Problems } from './problems.js';

export type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value as the user wrote it, for messages: "7", true, [3]. */
export function shown(v: unknown): string {
  return JSON.stringify(v) ?? String(v);
}

export function object(v: unknown, path: string): Json {
  if (!isObject(v)) throw new ConfigError(path, `must be an object (got ${shown(v)})`);
  return v;
}

/** Every unknown field is a problem of its own, pointing at its key. */
export function onlyKeys(o: Json, allowed: readonly string[], path: string): void {
  const unknown = Object.keys(o).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ConfigError(unknown.map((k) => ({ path: join(path, k), message: `unknown field (allowed: ${allowed.join(', ')})`, atKey: true })));
  }
}

export function join(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

export function array(o: Json, key: string, path: string, required = false): unknown[] {
  const v = o[key];
  if (v === undefined && !required) return [];
  if (!Array.isArray(v)) throw new ConfigError(join(path, key), v === undefined ? 'missing (required list)' : `must be a list (got ${shown(v)})`);
  return v;
}

/**
 * Check each element of an optional list, each on its own (one bad element
 * does not hide the next). Undefined for a bad one, or for a list that is not one.
 */
export function eachOf<T>(p: Problems, v: unknown, path: string, parse: (item: unknown, path: string) => T): (T | undefined)[] | undefined {
  if (v === undefined) return [];
  if (!Array.isArray(v)) {
    p.add(path, `must be a list (got ${shown(v)})`);
    return undefined;
  }
  return v.map((item, i) => p.check(() => parse(item, join(path, i))));
}

/** The list if every element came out good. */
export function allOf<T>(items: (T | undefined)[] | undefined): T[] | undefined {
  return items?.every((x) => x !== undefined) ? (items as T[]) : undefined;
}

export function string(o: Json, key: string, path: string, opts: { pattern?: RegExp; hint?: string } = {}): string {
  const v = o[key];
  if (v === undefined) throw new ConfigError(join(path, key), 'missing (required)');
  if (typeof v !== 'string' || v.length === 0) throw new ConfigError(join(path, key), `must be a non-empty string (got ${shown(v)})`);
  if (opts.pattern && !opts.pattern.test(v)) throw new ConfigError(join(path, key), `"${v}" is not valid${opts.hint ? ` (${opts.hint})` : ''}`);
  return v;
}

export function optionalString(o: Json, key: string, path: string, opts: { pattern?: RegExp; hint?: string } = {}): string | undefined {
  return o[key] === undefined ? undefined : string(o, key, path, opts);
}

/** An integer in range; a string such as "7", a boolean or a list is refused, not converted. */
export function integer(o: Json, key: string, path: string, min: number, max: number, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) throw new ConfigError(join(path, key), 'missing (required)');
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(join(path, key), `must be an integer from ${min} to ${max} (got ${shown(v)})`);
  }
  return v;
}

export function boolean(o: Json, key: string, path: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new ConfigError(join(path, key), `must be true or false (got ${shown(v)})`);
  return v;
}

export function oneOf<T extends string>(o: Json, key: string, path: string, choices: readonly T[], dflt?: T): T {
  const v = o[key];
  if (v === undefined && dflt !== undefined) return dflt;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) {
    throw new ConfigError(join(path, key), `must be one of ${choices.join(', ')}${v === undefined ? ' (missing)' : ` (got ${shown(v)})`}`);
  }
  return v as T;
}

/** Parse a string with an address parser, turning its error into a field error. */
export function addressText<T>(v: unknown, path: string, parse: (s: string) => T): T {
  if (typeof v !== 'string') throw new ConfigError(path, `must be a string such as "10.0.0.0/8" (got ${shown(v)})`);
  try {
    return parse(v);
  } catch (e) {
    if (e instanceof AddressError) throw new ConfigError(path, e.message);
    throw e;
  }
}

/** A required address field, parsed with `parse`. */
export function address<T>(o: Json, key: string, path: string, parse: (s: string) => T): T {
  if (o[key] === undefined) throw new ConfigError(join(path, key), 'missing (required)');
  return addressText(o[key], join(path, key), parse);
}

/** A reference to a port by name. */
export function portRef(o: Json, key: string, path: string, portNames: readonly string[]): string {
  const name = string(o, key, path);
  if (!portNames.includes(name)) throw new ConfigError(join(path, key), `unknown port "${name}" (ports: ${portNames.join(', ')})`);
  return name;
}

export function unique(seen: Map<string, string>, value: string, path: string, what: string): void {
  const prev = seen.get(value);
  if (prev !== undefined) throw new ConfigError(path, `duplicate ${what} "${value}" (also at ${prev})`);
  seen.set(value, path);
}
