// The appliance fleet's addressing: N devices on consecutive addresses of a
// prefix, and the AnyIP route that makes every address of that prefix local
// to the fleet's namespace without configuring each one.
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { AddressError, formatPrefix, maskOf, type Prefix } from '../net/addr.js';
import type { DeviceSet } from './poller.js';

/** Addresses of a prefix that can be hosts: all but network and broadcast (a /31 or /32 has no such pair). */
export function usableHosts(p: Prefix): { first: number; count: number } {
  const size = 2 ** (32 - p.len);
  if (p.len >= 31) return { first: p.addr, count: size };
  return { first: (p.addr + 1) >>> 0, count: size - 2 };
}

/** Device id of the n-th device (1-based): dev-000001, dev-000002, … */
export function deviceId(n: number): string {
  return `dev-${String(n).padStart(6, '0')}`;
}

/**
 * `count` devices on consecutive host addresses of a prefix: 10.100.0.0/16 →
 * dev-000001 on 10.100.0.1, dev-000002 on 10.100.0.2, … Held as two numbers,
 * not as a list: a million devices cost nothing until one of them polls,
 * and then only the strings of that poll.
 */
export class DeviceRange implements DeviceSet {
  constructor(readonly first: number, readonly count: number) {}

  /** Id of the device at index i (0-based). */
  id(i: number): string {
    return deviceId(i + 1);
  }

  /** Source address of the device at index i, as text. */
  source(i: number): string {
    const a = (this.first + i) >>> 0;
    return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
  }
}

/** The devices of a fleet: `count` host addresses of `prefix`, in order. */
export function fleetRange(prefix: Prefix, count: number): DeviceRange {
  const { first, count: room } = usableHosts(prefix);
  if (!Number.isInteger(count) || count < 1) throw new AddressError(`device count must be a positive integer, not ${count}`);
  if (count > room) {
    throw new AddressError(`${formatPrefix(prefix.addr, prefix.len)} has room for ${room} devices, not ${count}`);
  }
  return new DeviceRange(first, count);
}

/** The smallest prefix length whose host addresses hold `count` devices (a /16 holds 65,534). */
export function prefixLengthFor(count: number): number {
  for (let len = 32; len >= 0; len--) if (usableHosts({ addr: 0, len }).count >= count) return len;
  return 0;
}

function ipCommand(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('ip', args, { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`ip ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/**
 * Make every address of `prefix` local to this namespace with one AnyIP
 * route (`ip route replace local PREFIX dev lo`), unless such a route is
 * there already. Needs CAP_NET_ADMIN in the namespace.
 */
export async function ensureAnyIpRoute(prefix: Prefix): Promise<'present' | 'added'> {
  const cidr = formatPrefix(prefix.addr & maskOf(prefix.len), prefix.len);
  const existing = await ipCommand(['-4', 'route', 'show', 'table', 'local', 'type', 'local', 'exact', cidr]).catch(() => '');
  if (existing.trim() !== '') return 'present';
  try {
    await ipCommand(['route', 'replace', 'local', cidr, 'dev', 'lo']);
  } catch (e) {
    throw new Error(`cannot add the AnyIP route for ${cidr} (${(e as Error).message}); run as root, or add it yourself: ip route add local ${cidr} dev lo`, { cause: e });
  }
  return 'added';
}

/**
 * Is `address` usable as a source here? (Bind a UDP socket to it: the same
 * check the kernel makes for a TCP connect from it.) Resolves with the errno
 * code when it is not.
 */
export function checkSourceAddress(address: string): Promise<string | null> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', (e: NodeJS.ErrnoException) => {
      s.close();
      resolve(e.code ?? e.message);
    });
    s.bind(0, address, () => {
      s.close();
      resolve(null);
    });
  });
}
