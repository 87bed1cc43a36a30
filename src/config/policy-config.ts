// Source-based forwarding rules (the method's "transfer unit"): checked in
// order before the route table. Shared by the config file and the API's
// `policy add`, so both reject the same mistakes with the same words.
import { parseAddress, parsePrefixOrAddress, type Prefix } from '../net/addr.js';
import { ConfigError, address, join, object, onlyKeys, optionalString, string, type Json } from './fields.js';
import { NAME } from './names.js';

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

const PROTOCOLS: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };

export function parsePolicyRule(v: unknown, path: string, portNames: readonly string[]): PolicyRuleConfig {
  const o: Json = object(v, path);
  onlyKeys(o, ['name', 'from', 'to', 'protocol', 'dstPorts', 'port', 'via'], path);
  const name = string(o, 'name', path, { pattern: NAME, hint: 'letters, digits, "_", "-", "."' });
  const from = address(o, 'from', path, parsePrefixOrAddress);
  const to = o.to === undefined ? null : address(o, 'to', path, parsePrefixOrAddress);
  const protoText = optionalString(o, 'protocol', path);
  let protocol = 0;
  if (protoText !== undefined) {
    protocol = PROTOCOLS[protoText] ?? (/^\d{1,3}$/.test(protoText) && Number(protoText) <= 255 ? Number(protoText) : -1);
    if (protocol < 0) throw new ConfigError(join(path, 'protocol'), `"${protoText}" is not tcp, udp, icmp or a protocol number`);
  }
  let dstPorts: [number, number] | null = null;
  if (o.dstPorts !== undefined) {
    const text = String(o.dstPorts);
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
    const lo = m ? Number(m[1]) : -1;
    const hi = m ? Number(m[2] ?? m[1]) : -1;
    if (!m || lo > hi || hi > 65535) throw new ConfigError(join(path, 'dstPorts'), `"${text}" is not a port or range such as 80 or 8000-8080`);
    if (protocol !== 6 && protocol !== 17) throw new ConfigError(join(path, 'dstPorts'), 'needs "protocol": "tcp" or "udp"');
    dstPorts = [lo, hi];
  }
  const port = string(o, 'port', path);
  if (!portNames.includes(port)) throw new ConfigError(join(path, 'port'), `unknown port "${port}" (ports: ${portNames.join(', ')})`);
  const via = o.via === undefined ? 0 : address(o, 'via', path, parseAddress);
  return { name, from, to, protocol, dstPorts, port, via };
}
