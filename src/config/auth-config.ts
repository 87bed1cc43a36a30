// Authentication of a routing protocol's packets (RIP: RFC 2453 §4.1, RFC
// 4822; BFD: RFC 5880 §6.7): a type and a key chain. A key has an id (on
// the wire, so both ends must agree on it), a secret, and optionally when
// it may be sent and accepted — so keys can be rolled over without a flap:
// the new key is accepted before it is sent, the old one still accepted a
// while after.
import { ConfigError, collect, complete } from './problems.js';
import { allOf, eachOf, integer, join, object, oneOf, onlyKeys, shown, string, unique, type Json } from './fields.js';

export interface AuthKeyConfig {
  /** Key ID on the wire, 0–255. */
  id: number;
  secret: string;
  /** Sent from/until these times (epoch ms; null: no bound). */
  from: number | null;
  until: number | null;
  /** Accepted from/until (epoch ms; null: no bound). Default: as sent. */
  acceptFrom: number | null;
  acceptUntil: number | null;
}

export interface AuthConfig<T extends string = string> {
  type: T;
  keys: AuthKeyConfig[];
}

export const RIP_AUTH_TYPES = ['none', 'password', 'md5', 'hmac-sha1', 'hmac-sha256', 'hmac-sha384', 'hmac-sha512'] as const;
export type RipAuthType = (typeof RIP_AUTH_TYPES)[number];

export const BFD_AUTH_TYPES = ['none', 'password', 'keyed-md5', 'meticulous-keyed-md5', 'keyed-sha1', 'meticulous-keyed-sha1'] as const;
export type BfdAuthType = (typeof BFD_AUTH_TYPES)[number];

/**
 * The longest secret each type takes, in bytes. Passwords and keyed
 * digests carry the key in a fixed field (16 bytes; 20 for keyed SHA-1).
 * HMAC keys are limited to the hash length: RFC 4822 hashes a longer key
 * first where plain HMAC (BIRD's) uses it as it is, so only keys up to the
 * hash length mean the same to both.
 */
export const AUTH_SECRET_MAX: Record<string, number> = {
  password: 16,
  md5: 16,
  'hmac-sha1': 20,
  'hmac-sha256': 32,
  'hmac-sha384': 48,
  'hmac-sha512': 64,
  'keyed-md5': 16,
  'meticulous-keyed-md5': 16,
  'keyed-sha1': 20,
  'meticulous-keyed-sha1': 20,
};

export const NO_AUTH: AuthConfig<'none'> = Object.freeze({ type: 'none', keys: [] }) as AuthConfig<'none'>;

/** `2025-01-01T00:00:00Z` (a date and time with a zone, as RFC 3339 has it), or a date `2025-01-01` (midnight UTC). */
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

function time(o: Json, key: string, path: string): number | null {
  const v = o[key];
  if (v === undefined) return null;
  const ms = typeof v === 'string' && TIME.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new ConfigError(join(path, key), `must be a time such as "2025-01-31T12:00:00Z" or a date "2025-01-31" (got ${shown(v)})`);
  return ms;
}

/**
 * `{ "type": "md5", "keys": [{ "id": 1, "secret": "…", "from"?, "until"?,
 * "acceptFrom"?, "acceptUntil"? }] }`; absent: no authentication.
 */
export function parseAuth<T extends string>(v: unknown, path: string, types: readonly T[]): AuthConfig<T> {
  if (v === undefined) return NO_AUTH as unknown as AuthConfig<T>;
  return collect((p) => {
    const o = object(v, path);
    p.check(() => onlyKeys(o, ['type', 'keys'], path));
    const type = p.check(() => oneOf(o, 'type', path, types));
    const max = type === undefined ? 64 : AUTH_SECRET_MAX[type] ?? 64;
    const ids = new Map<string, string>();
    const keys = allOf(eachOf(p, o.keys, join(path, 'keys'), (kv, kp) => collect<AuthKeyConfig>((q) => {
      const k = object(kv, kp);
      q.check(() => onlyKeys(k, ['id', 'secret', 'from', 'until', 'acceptFrom', 'acceptUntil'], kp));
      const id = q.check(() => integer(k, 'id', kp, 0, 255));
      if (id !== undefined) q.check(() => unique(ids, String(id), join(kp, 'id'), 'key id'));
      const secret = q.check(() => string(k, 'secret', kp));
      if (secret !== undefined && Buffer.byteLength(secret) > max) {
        q.add(join(kp, 'secret'), `at most ${max} bytes for ${type} (got ${Buffer.byteLength(secret)})`);
      }
      const from = q.check(() => time(k, 'from', kp));
      const until = q.check(() => time(k, 'until', kp));
      const acceptFrom = q.check(() => time(k, 'acceptFrom', kp));
      const acceptUntil = q.check(() => time(k, 'acceptUntil', kp));
      if (from != null && until != null && until <= from) q.add(join(kp, 'until'), 'must be after "from"');
      if (acceptFrom != null && acceptUntil != null && acceptUntil <= acceptFrom) q.add(join(kp, 'acceptUntil'), 'must be after "acceptFrom"');
      return complete<AuthKeyConfig>({ id, secret, from, until, acceptFrom, acceptUntil });
    })));
    if (type !== undefined && type !== 'none' && keys?.length === 0) p.add(join(path, 'keys'), `at least one key is required for ${type}`);
    if (type === 'none' && keys !== undefined && keys.length > 0) p.add(join(path, 'keys'), 'no keys with type "none"');
    return complete<AuthConfig<T>>({ type, keys });
  });
}

/** Back in the file's format (times as ISO 8601, UTC; absent bounds left out). */
export function authJson(a: AuthConfig): Record<string, unknown> {
  const times = (k: AuthKeyConfig) => Object.fromEntries((['from', 'until', 'acceptFrom', 'acceptUntil'] as const)
    .filter((f) => k[f] !== null).map((f) => [f, new Date(k[f]!).toISOString()]));
  return { type: a.type, keys: a.keys.map((k) => ({ id: k.id, secret: k.secret, ...times(k) })) };
}
