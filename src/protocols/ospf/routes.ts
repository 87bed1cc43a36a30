// OSPF's routes in the RIB: after each SPF run, the difference between what
// the RIB holds from OSPF and what SPF found goes through the route channel.
// One RIB route per (prefix, next hop), so equal-cost paths are all there
// and the RIB falls back among them at once when a port is blocked. A new
// path is imported before the old one is withdrawn, so a moving prefix is a
// "changed" route, never withdrawn in between.
import type { RouteChannel } from '../../control/protocol.js';
import { prefixKey } from '../../net/addr.js';
import type { OspfRoute } from './spf.js';

interface Installed {
  route: OspfRoute;
  /** RIB route id by next hop ("port/address"). */
  ids: Map<string, number>;
}

const hopKey = (port: number, address: number) => `${port}/${address >>> 0}`;

export class OspfRibSync {
  readonly installed = new Map<number, Installed>();

  constructor(private readonly channel: RouteChannel) {}

  /** Bring the RIB in line with `routes`; returns how many prefixes changed. */
  apply(routes: Map<number, OspfRoute>, cause: string): number {
    let changed = 0;
    for (const [key, r] of routes) {
      const cur = this.installed.get(key);
      const metric = ribMetric(r);
      const want = new Map(r.nextHops.map((h) => [hopKey(h.port, h.address), h]));
      if (cur && sameRoute(cur.route, r)) {
        cur.route = r;
        continue;
      }
      changed++;
      const ids = new Map<string, number>();
      // New paths first (so the prefix moves instead of vanishing), then the metric of kept ones, then old ones go.
      for (const [k, h] of want) {
        const id = cur?.ids.get(k);
        if (id === undefined) ids.set(k, this.channel.import({ prefix: r.prefix, len: r.len, port: h.port, nextHop: h.address, metric }, cause));
      }
      for (const [k] of want) {
        const id = cur?.ids.get(k);
        if (id !== undefined) {
          this.channel.update(id, { metric }, cause);
          ids.set(k, id);
        }
      }
      for (const [k, id] of cur?.ids ?? []) if (!want.has(k)) this.channel.withdraw(id, cause);
      this.installed.set(key, { route: r, ids });
    }
    for (const [key, cur] of this.installed) {
      if (routes.has(key)) continue;
      changed++;
      for (const id of cur.ids.values()) this.channel.withdraw(id, cause);
      this.installed.delete(key);
    }
    return changed;
  }

  /** Every OSPF route out of the RIB (OSPF stops). */
  clear(cause: string): void {
    this.apply(new Map(), cause);
  }

  get(prefix: number, len: number): OspfRoute | undefined {
    return this.installed.get(prefixKey(prefix, len))?.route;
  }
}

/** What the RIB compares among OSPF routes of a prefix (they all have OSPF's distance). */
function ribMetric(r: OspfRoute): number {
  return r.cost;
}

function sameRoute(a: OspfRoute, b: OspfRoute): boolean {
  if (a.cost !== b.cost || a.type !== b.type || a.nextHops.length !== b.nextHops.length) return false;
  return a.nextHops.every((h) => b.nextHops.some((x) => x.port === h.port && x.address === h.address));
}
