// Strict readers for request bodies and query parameters: a field has the
// JSON type it is documented with (an integer is a JSON number, never "7",
// true or [3]); every refusal is a 400 naming the field.
import { parseAddress, parsePrefix, type AddressError, type Prefix } from '../net/addr.js';
import { ApiError } from './server.js';

type Body = Record<string, unknown>;

export function stringField(body: Body, key: string, required: true): string;
export function stringField(body: Body, key: string, required?: false): string | undefined;
export function stringField(body: Body, key: string, required = false): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) {
    if (required) throw new ApiError(400, `${key}: missing`);
    return undefined;
  }
  if (typeof v !== 'string' || v === '') throw new ApiError(400, `${key}: must be a non-empty string`);
  return v;
}

export function integerField(body: Body, key: string, min: number, max: number, dflt?: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new ApiError(400, `${key}: must be an integer from ${min} to ${max}`);
  return v;
}

export function booleanField(body: Body, key: string, dflt: boolean): boolean {
  const v = body[key];
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'boolean') throw new ApiError(400, `${key}: must be true or false`);
  return v;
}

/** An IPv4 address given as text (a body field or a query parameter). */
export function addressText(v: unknown, what: string): number {
  if (typeof v !== 'string') throw new ApiError(400, `${what}: must be an IPv4 address as text`);
  try {
    return parseAddress(v);
  } catch (e) {
    throw new ApiError(400, `${what}: ${(e as AddressError).message}`);
  }
}

/** A prefix given as text, e.g. "10.0.0.0/8". */
export function prefixText(v: unknown, what = 'prefix'): Prefix {
  if (typeof v !== 'string') throw new ApiError(400, `${what}: must be a prefix as text (A.B.C.D/len)`);
  try {
    return parsePrefix(v);
  } catch (e) {
    throw new ApiError(400, `${what}: ${(e as AddressError).message}`);
  }
}
