// Source-based forwarding rules (the method's "transfer unit"): checked in
// order before the route table. Shared by the config file and the API's
// `policy add`, so both reject the same mistakes with the same words.
import { parseAddress, parsePrefixOrAddress, type Prefix } from '../net/addr.js';
import { address, join, object, onlyKeys, portRef, shown, string, type Json } from './fields.js';
import { NAME, NAME_HINT } from './names.js';
import { ConfigError, collect, complete } from './problems.js';

export interface PolicyRuleConfig {
  name: string;
  /** Source prefix the rule matches. */
  from: Prefix;
  /** Destination prefix, or null for any. */
  to: Prefix | null;
  /** IP protocol number, 0 = any. */
  protocol: number;
  /** Destination port range (TCP/UDP only), or null for any. */
  dstPorts: [number, number] | null;
  /** Egress port name. */
  port: string;
  /** Next-hop address for display and checks; 0 = on-link. */
  via: number;
}

export const POLICY_FIELDS = ['name', 'from', 'to', 'protocol', 'dstPorts', 'port', 'via'] as const;
// A Map, not an object literal: "__proto__" or "constructor" must not name a protocol.
const PROTOCOLS = new Map<string, number>([['icmp', 1], ['tcp', 6], ['udp', 17]]);

/** One rule; throws a ConfigError listing every problem in it. */
export function parsePolicyRule(v: unknown, path: string, portNames: readonly string[]): PolicyRuleConfig {
  return collect((p) => {
    const o: Json = object(v, path);
    p.check(() => onlyKeys(o, POLICY_FIELDS, path));
    const name = p.check(() => string(o, 'name', path, { pattern: NAME, hint: NAME_HINT }));
    const from = p.check(() => address(o, 'from', path, parsePrefixOrAddress));
    const to = o.to === undefined ? null : p.check(() => address(o, 'to', path, parsePrefixOrAddress));
    const protocol = p.check(() => protocolField(o, path));
    const dstPorts = p.check(() => dstPortsField(o, path, protocol));
    const port = p.check(() => portRef(o, 'port', path, portNames));
    const via = o.via === undefined ? 0 : p.check(() => address(o, 'via', path, parseAddress));
    return complete<PolicyRuleConfig>({ name, from, to, protocol, dstPorts, port, via });
  });
}

/** "tcp", "udp", "icmp", or a protocol number (47 or "47"); 0 = any. */
function protocolField(o: Json, path: string): number {
  const v = o.protocol;
  if (v === undefined) return 0;
  const n = typeof v === 'string' ? PROTOCOLS.get(v) ?? (/^(0|[1-9]\d{0,2})$/.test(v) ? Number(v) : -1) : Number.isInteger(v) ? (v as number) : -1;
  if (n < 0 || n > 255) throw new ConfigError(join(path, 'protocol'), `${shown(v)} is not tcp, udp, icmp or a protocol number 0-255`);
  return n;
}

/** 80, "80" or "8000-8080"; only with tcp or udp. `protocol` undefined = it was bad (already said). */
function dstPortsField(o: Json, path: string, protocol: number | undefined): [number, number] | null {
  const v = o.dstPorts;
  if (v === undefined) return null;
  const text = typeof v === 'number' || typeof v === 'string' ? String(v) : '';
  const m = /^(0|[1-9]\d{0,4})(?:-(0|[1-9]\d{0,4}))?$/.exec(text);
  const lo = m ? Number(m[1]) : -1;
  const hi = m ? Number(m[2] ?? m[1]) : -1;
  if (!m || lo > hi || hi > 65535) throw new ConfigError(join(path, 'dstPorts'), `${shown(v)} is not a port or range such as 80 or "8000-8080"`);
  if (protocol !== undefined && protocol !== 6 && protocol !== 17) throw new ConfigError(join(path, 'dstPorts'), 'needs "protocol": "tcp" or "udp"');
  return [lo, hi];
}
