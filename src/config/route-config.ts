// One static route, as the config file's `routes[i]` or the API's `route add`
// body: the same checks for both, every problem reported.
import { parseAddress, parsePrefix } from '../net/addr.js';
import { destinationProblem, neighbourProblem, type Subnet } from './addressing.js';
import { address, boolean, integer, join, object, onlyKeys, string } from './fields.js';
import { Problems, type Problem } from './problems.js';

export interface StaticRouteConfig {
  prefix: number;
  len: number;
  port: string;
  /** 0 = on-link. */
  via: number;
  metric: number;
  bfd: boolean;
}

export const ROUTE_FIELDS = ['prefix', 'port', 'via', 'metric', 'bfd'] as const;
export const METRIC_MAX = 0x7fffffff;

/** The route, or null and why not (no problem listed only when its port is one of `unchecked`). */
export interface RouteCheck {
  route: StaticRouteConfig | null;
  problems: Problem[];
}

/**
 * Check one route given as JSON: field types (a metric is a number, not "7"),
 * the prefix (a network, not loopback/multicast/reserved), the port, the next
 * hop (a neighbour on that port: not our own address, not the subnet's network
 * or broadcast address), and that a BFD-tracked route has a peer.
 *
 * @param ports   the router's ports (their names and addresses)
 * @param path    where the route sits, for messages (`routes[2]`; "" for the API)
 * @param unchecked names of ports that exist but are broken themselves (a config
 *                with a bad port): a route on one is not refused for that
 */
export function checkRoute(v: unknown, ports: readonly Subnet[], path = '', unchecked: readonly string[] = []): RouteCheck {
  const p = new Problems();
  const o = p.check(() => object(v, path));
  if (o === undefined) return { route: null, problems: p.list };
  p.check(() => onlyKeys(o, ROUTE_FIELDS, path));

  const prefix = p.check(() => address(o, 'prefix', path, parsePrefix));
  const badDestination = prefix && destinationProblem(prefix.addr, prefix.len);
  if (badDestination) p.add(join(path, 'prefix'), badDestination);

  const portName = p.check(() => string(o, 'port', path));
  const port = ports.find((x) => x.name === portName);
  if (portName !== undefined && !port && !unchecked.includes(portName)) {
    p.add(join(path, 'port'), `unknown port "${portName}" (ports: ${[...ports.map((x) => x.name), ...unchecked].join(', ')})`);
  }

  const via = o.via === undefined ? 0 : p.check(() => address(o, 'via', path, parseAddress));
  const badVia = via && port && neighbourProblem('next hop', via, port, ports);
  if (badVia) p.add(join(path, 'via'), badVia);

  const metric = p.check(() => integer(o, 'metric', path, 0, METRIC_MAX, 1));
  const bfd = p.check(() => boolean(o, 'bfd', path, false));
  if (bfd && via === 0 && port && port.prefixLen < 30) {
    p.add(join(path, 'bfd'), 'a BFD-tracked route needs "via" (the BFD peer) unless the port is point-to-point (/30, /31, /32)');
  }

  if (!p.ok || !prefix || !port || via === undefined || metric === undefined || bfd === undefined) return { route: null, problems: p.list };
  return { route: { prefix: prefix.addr, len: prefix.len, port: port.name, via, metric, bfd }, problems: [] };
}
