// IPv4 addresses and prefixes at the edges (config, CLI, API, logs).
// Inside the router an address is a uint32 number. What users type is
// checked by Node's own net.isIPv4 (a dotted quad, octets 0-255, no leading
// zeros); its value and the printed form are a few lines of arithmetic.
// Through ip-num (a BigInt, binary strings and objects per address) a parse
// cost ~2 µs, a quarter of a 500,000-route load's CPU, and printing most of
// the cost of listing them; the unit tests check both against ip-num.
import { isIPv4 } from 'node:net';

export class AddressError extends Error {}

/** Netmask of a prefix length as a uint32 (len 0 → 0). */
export function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

export function parseAddress(text: string): number {
  if (typeof text !== 'string' || !isIPv4(text)) throw new AddressError(`"${String(text)}" is not an IPv4 address`);
  let value = 0;
  let octet = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      value = value * 256 + octet;
      octet = 0;
    } else octet = octet * 10 + c - 0x30;
  }
  return value * 256 + octet;
}

export function formatAddress(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}

export interface Prefix {
  addr: number;
  len: number;
}

/** The address part of "A.B.C.D/LEN"; its error names the whole text. */
function cidrAddress(text: string, a: string): number {
  try {
    return parseAddress(a);
  } catch (e) {
    throw new AddressError(`"${text}": ${(e as Error).message}`);
  }
}

function splitCidr(text: string): [string, number] {
  if (typeof text !== 'string') throw new AddressError(`${String(text)} is not an IPv4 prefix`);
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text);
  if (!m) throw new AddressError(`"${text}" is not an IPv4 prefix (expected A.B.C.D/LEN)`);
  const len = Number(m[2]);
  // "/08" is refused like an octet "08": a leading zero is a typo or octal.
  if (len > 32 || m[2] !== String(len)) throw new AddressError(`"${text}": prefix length must be 0-32, without leading zeros`);
  return [m[1]!, len];
}

/**
 * A network prefix such as "10.0.0.0/8"; host bits must be zero (a typo
 * guard). The address is parsed once; the host bits are a mask (a second
 * parse of the text as a range checked nothing more, and doubled the cost
 * of a 500,000-route load).
 */
export function parsePrefix(text: string): Prefix {
  const [a, len] = splitCidr(text);
  const addr = cidrAddress(text, a);
  if (((addr & maskOf(len)) >>> 0) !== addr) {
    throw new AddressError(`"${text}" has host bits set (did you mean ${formatPrefix(addr & maskOf(len), len)}?)`);
  }
  return { addr, len };
}

/** An interface address with its subnet length, such as "10.0.1.1/24". */
export function parseInterfaceAddress(text: string): Prefix {
  const [a, len] = splitCidr(text);
  return { addr: cidrAddress(text, a), len };
}

/** A prefix, or a bare address taken as /32. */
export function parsePrefixOrAddress(text: string): Prefix {
  return typeof text === 'string' && text.includes('/') ? parsePrefix(text) : { addr: parseAddress(text), len: 32 };
}

export function formatPrefix(addr: number, len: number): string {
  return `${formatAddress(addr)}/${len}`;
}

export function inPrefix(addr: number, prefix: number, len: number): boolean {
  return ((addr & maskOf(len)) >>> 0) === prefix >>> 0;
}

/** One number per prefix (exact up to 2^53), for Map keys: prefix × 64 + length. */
export function prefixKey(prefix: number, len: number): number {
  return (prefix >>> 0) * 64 + len;
}

/** The prefix and length back from prefixKey(). */
export function prefixOfKey(key: number): { prefix: number; len: number } {
  return { prefix: Math.floor(key / 64), len: key % 64 };
}

/** One number per (port index, address), for Map keys. */
export function portAddressKey(port: number, addr: number): number {
  return port * 0x1_0000_0000 + (addr >>> 0);
}
