// The address plan's sanity checks: which prefixes can be routed to, which
// addresses can sit on a port, which can be a next hop. Each check returns
// one line saying what is wrong, or null. Shared by the config file and the
// run-time API, so both refuse the same mistakes with the same words.
import { formatAddress, formatPrefix, inPrefix, maskOf } from '../net/addr.js';

/** A port's addressing: its own address and the connected subnet. */
export interface Subnet {
  name: string;
  address: number;
  prefixLen: number;
}

/** Ranges no packet is forwarded to (RFC 1122 §3.2.1.3, RFC 5771, RFC 1112 §4). */
const SPECIAL: readonly { prefix: number; len: number; what: string }[] = [
  { prefix: 0x00000000, len: 8, what: '"this network"' },
  { prefix: 0x7f000000, len: 8, what: 'loopback' },
  { prefix: 0xe0000000, len: 4, what: 'multicast' },
  { prefix: 0xf0000000, len: 4, what: 'reserved (with the limited broadcast)' },
];

function specialRange(addr: number, len: number): (typeof SPECIAL)[number] | undefined {
  return SPECIAL.find((s) => len >= s.len && inPrefix(addr, s.prefix, s.len));
}

export function networkOf(s: { address: number; prefixLen: number }): number {
  return (s.address & maskOf(s.prefixLen)) >>> 0;
}

export function broadcastOf(s: { address: number; prefixLen: number }): number {
  return (networkOf(s) | ~maskOf(s.prefixLen)) >>> 0;
}

function subnetText(s: Subnet): string {
  return formatPrefix(networkOf(s), s.prefixLen);
}

/**
 * A route's destination: not inside 0/8, 127/8, 224/4 or 240/4. A wider
 * prefix that covers them (the default route) is fine: the forwarder never
 * sends to those addresses anyway.
 */
export function destinationProblem(prefix: number, len: number): string | null {
  const s = specialRange(prefix, len);
  return s ? `${formatPrefix(prefix, len)} is inside ${formatPrefix(s.prefix, s.len)} (${s.what}): not a destination to route to` : null;
}

/** A port's own address and subnet: a unicast address that is a host of its subnet. */
export function portAddressProblem(addr: number, len: number): string | null {
  const text = formatPrefix(addr, len);
  if (len === 0) return `${text}: a port's subnet cannot be /0 (everything would be on-link)`;
  const s = specialRange(addr, 32);
  if (s) return `${text}: ${formatAddress(addr)} is a ${s.what} address (${formatPrefix(s.prefix, s.len)}), not usable on a port`;
  // /31 (RFC 3021) and /32 have no network and broadcast address.
  if (len <= 30) {
    const subnet = { address: addr, prefixLen: len };
    if (addr === networkOf(subnet)) return `${text}: ${formatAddress(addr)} is the network address of ${formatPrefix(addr, len)} (host part 0)`;
    if (addr === broadcastOf(subnet)) return `${text}: ${formatAddress(addr)} is the broadcast address of ${formatPrefix(networkOf(subnet), len)}`;
  }
  return null;
}

/** Two port subnets share addresses (one contains the other). */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  const len = Math.min(a.prefixLen, b.prefixLen);
  return inPrefix(a.address, (b.address & maskOf(len)) >>> 0, len);
}

export function overlapProblem(a: Subnet, b: Subnet): string | null {
  return subnetsOverlap(a, b) ? `subnet ${subnetText(a)} overlaps port "${b.name}" (${subnetText(b)}): a destination would be on-link on two ports` : null;
}

/**
 * A neighbour on `port` (a route's next hop, a BFD peer): on the port's
 * subnet, not one of the router's own addresses, not the subnet's network or
 * broadcast address (a /31 has neither).
 */
export function neighbourProblem(what: string, addr: number, port: Subnet, ports: readonly Subnet[]): string | null {
  const a = formatAddress(addr);
  if (!inPrefix(addr, networkOf(port), port.prefixLen)) return `${what} ${a} is not on port "${port.name}" (${subnetText(port)})`;
  const own = ports.find((p) => p.address === addr) ?? (port.address === addr ? port : undefined);
  if (own) return `${what} ${a} is this router's own address (port "${own.name}")`;
  if (port.prefixLen <= 30 && addr === networkOf(port)) return `${what} ${a} is the network address of port "${port.name}" (${subnetText(port)})`;
  if (port.prefixLen <= 30 && addr === broadcastOf(port)) return `${what} ${a} is the broadcast address of port "${port.name}" (${subnetText(port)})`;
  return null;
}
