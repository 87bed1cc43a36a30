// The routing table calculation (RFC 2328 §16): Dijkstra over the router
// and network LSAs of area 0 from this router (§16.1, with the next hops of
// §16.1.1), then the stub networks, the inter-area summaries (§16.2) and the
// AS-external routes (§16.4). A pure function of the database: it reads
// LSAs, and returns the routes; it changes nothing.
import { maskOf, prefixKey } from '../../net/addr.js';
import { LS_INFINITY, LinkType, LsaType, LsaView, RouterFlag } from '../../wire/ospf-lsa.js';
import type { LsaEntry, Lsdb } from './lsdb.js';

export interface NextHop {
  /** Port index. */
  port: number;
  /** 0 = on-link (a network attached to this router). */
  address: number;
}

export type OspfRouteType = 'intra' | 'inter' | 'external-1' | 'external-2';

export interface OspfRoute {
  prefix: number;
  len: number;
  type: OspfRouteType;
  /** Intra/inter/type 1: the whole cost; type 2: the external metric. */
  cost: number;
  /** Type 2: the cost to the ASBR or forwarding address (the tie-breaker). */
  internalCost: number;
  nextHops: NextHop[];
  /** The router whose LSA gave the route (the ASBR for externals). */
  advRouter: number;
}

/** This router, as SPF's root sees it. */
export interface SpfRoot {
  routerId: number;
  /** Our router LSA as it would be originated now (not the possibly older copy in the database). */
  routerLsa: Uint8Array;
  /** Our port with this address (a router LSA's Link Data), or undefined. */
  portByAddress(addr: number): number | undefined;
  /** Our neighbour's address on `port` for a Router ID, or 0. */
  neighbourAddress(port: number, routerId: number): number;
  /** The port whose subnet holds `addr` (for forwarding addresses), or undefined. */
  portOnLink(addr: number): number | undefined;
}

interface Vertex {
  router: boolean;
  id: number;
  lsa: LsaView;
  dist: number;
  nextHops: NextHop[];
  /** A network vertex attached to the root: its port. */
  attachedPort: number | undefined;
  parentIsRoot: boolean;
  inTree: boolean;
}

export interface SpfResult {
  routes: Map<number, OspfRoute>;
  /** Reachable routers: Router ID → cost (what the API shows and externals use). */
  routers: Map<number, { dist: number; nextHops: NextHop[]; asbr: boolean }>;
}

const addHops = (into: NextHop[], from: readonly NextHop[]) => {
  for (const h of from) if (!into.some((x) => x.port === h.port && x.address === h.address)) into.push(h);
};

export function runSpf(db: Lsdb, root: SpfRoot): SpfResult {
  const viewOf = (bytes: Uint8Array) => new LsaView().attach(bytes, 0, bytes.length);
  const live = (e: LsaEntry | undefined) => (e && !e.maxAged ? e : undefined);
  const vertices = new Map<string, Vertex>();
  const rootLsa = viewOf(root.routerLsa);
  const rootV: Vertex = { router: true, id: root.routerId, lsa: rootLsa, dist: 0, nextHops: [], attachedPort: undefined, parentIsRoot: false, inTree: true };
  vertices.set(`r${root.routerId}`, rootV);
  const candidates: Vertex[] = [];

  const linksBack = (w: Vertex, v: Vertex): boolean => {
    if (!w.router) {
      for (let i = 0; i < w.lsa.attachedCount; i++) if (w.lsa.attached(i) === v.id) return true;
      return false;
    }
    for (let at = w.lsa.firstLink, i = 0; i < w.lsa.linkCount; i++, at = w.lsa.nextLink(at)) {
      const t = w.lsa.linkType(at);
      if (v.router && t === LinkType.POINT_TO_POINT && w.lsa.linkId(at) === v.id) return true;
      if (!v.router && t === LinkType.TRANSIT && w.lsa.linkId(at) === v.id) return true;
    }
    return false;
  };

  const consider = (v: Vertex, router: boolean, id: number, entry: LsaEntry | undefined, cost: number, linkData: number) => {
    if (!entry) return;
    const key = `${router ? 'r' : 'n'}${id}`;
    let w = vertices.get(key);
    if (w?.inTree) return;
    const lsa = w?.lsa ?? viewOf(entry.bytes);
    const probe: Vertex = w ?? { router, id, lsa, dist: Infinity, nextHops: [], attachedPort: undefined, parentIsRoot: false, inTree: false };
    if (!linksBack(probe, v)) return;
    const dist = v.dist + cost;
    if (w && dist > w.dist) return;
    // §16.1.1: the next hops toward w through v.
    const hops: NextHop[] = [];
    let attachedPort: number | undefined;
    if (v === rootV) {
      const port = root.portByAddress(linkData);
      if (port === undefined) return;
      if (router) {
        const nh = root.neighbourAddress(port, id);
        if (nh === 0) return;
        hops.push({ port, address: nh });
      } else {
        hops.push({ port, address: 0 });
        attachedPort = port;
      }
    } else if (!v.router && v.parentIsRoot && v.attachedPort !== undefined) {
      // w's address on the network: the Link Data of its transit link to v.
      let addr = 0;
      for (let at = lsa.firstLink, i = 0; i < lsa.linkCount; i++, at = lsa.nextLink(at)) {
        if (lsa.linkType(at) === LinkType.TRANSIT && lsa.linkId(at) === v.id) addr = lsa.linkData(at);
      }
      if (addr === 0) return;
      hops.push({ port: v.attachedPort, address: addr });
    } else {
      addHops(hops, v.nextHops);
    }
    if (!w) {
      w = probe;
      vertices.set(key, w);
      candidates.push(w);
    }
    if (dist < w.dist) {
      w.dist = dist;
      w.nextHops = hops;
      w.attachedPort = attachedPort;
      w.parentIsRoot = v === rootV;
    } else {
      addHops(w.nextHops, hops);
    }
  };

  const tree: Vertex[] = [rootV];
  let v: Vertex | undefined = rootV;
  while (v) {
    if (v.router) {
      const l = v.lsa;
      for (let at = l.firstLink, i = 0; i < l.linkCount; i++, at = l.nextLink(at)) {
        const t = l.linkType(at);
        if (t === LinkType.POINT_TO_POINT) consider(v, true, l.linkId(at), live(db.find(LsaType.ROUTER, l.linkId(at), l.linkId(at))), l.linkMetric(at), l.linkData(at));
        else if (t === LinkType.TRANSIT) consider(v, false, l.linkId(at), live(db.network(l.linkId(at))), l.linkMetric(at), l.linkData(at));
      }
    } else {
      for (let i = 0; i < v.lsa.attachedCount; i++) {
        const rid = v.lsa.attached(i);
        const entry = rid === root.routerId ? undefined : live(db.find(LsaType.ROUTER, rid, rid));
        consider(v, true, rid, entry, 0, 0);
      }
    }
    // The nearest candidate joins the tree (routers before networks on a tie, §16.1 step 3 prefers networks — either is correct).
    let best = -1;
    for (let i = 0; i < candidates.length; i++) if (best < 0 || candidates[i]!.dist < candidates[best]!.dist) best = i;
    v = best < 0 ? undefined : candidates.splice(best, 1)[0];
    if (v) {
      v.inTree = true;
      tree.push(v);
    }
  }

  const routes = new Map<number, OspfRoute>();
  const offer = (r: OspfRoute) => {
    if (r.nextHops.length === 0) return;
    const key = prefixKey(r.prefix, r.len);
    const cur = routes.get(key);
    if (!cur || better(r, cur) < 0) routes.set(key, r);
    else if (better(r, cur) === 0) addHops(cur.nextHops, r.nextHops);
  };
  const routers = new Map<number, { dist: number; nextHops: NextHop[]; asbr: boolean }>();
  // Transit networks, then stub networks (§16.1 stage 2). The root's own networks are connected routes.
  for (const t of tree) {
    if (t === rootV) continue;
    if (t.router) {
      routers.set(t.id, { dist: t.dist, nextHops: t.nextHops, asbr: (t.lsa.routerFlags & RouterFlag.E) !== 0 });
    } else if (!t.parentIsRoot) {
      const len = maskLen(t.lsa.mask);
      offer({ prefix: (t.id & t.lsa.mask) >>> 0, len, type: 'intra', cost: t.dist, internalCost: 0, nextHops: t.nextHops, advRouter: t.lsa.advRouter });
    }
  }
  for (const t of tree) {
    if (!t.router || t === rootV) continue;
    const l = t.lsa;
    for (let at = l.firstLink, i = 0; i < l.linkCount; i++, at = l.nextLink(at)) {
      if (l.linkType(at) !== LinkType.STUB) continue;
      const mask = l.linkData(at);
      const len = maskLen(mask);
      if (len < 0) continue;
      const prefix = (l.linkId(at) & mask) >>> 0;
      if (ownStub(rootLsa, prefix, mask)) continue;
      offer({ prefix, len, type: 'intra', cost: t.dist + l.linkMetric(at), internalCost: 0, nextHops: t.nextHops, advRouter: t.id });
    }
  }
  // Inter-area (§16.2): summaries from area border routers reachable here.
  const summary = new LsaView();
  const asbrs = new Map<number, { dist: number; nextHops: NextHop[] }>();
  for (const [id, r] of routers) if (r.asbr) asbrs.set(id, r);
  for (const e of db.all()) {
    if (e.maxAged || e.adv === root.routerId || (e.type !== LsaType.SUMMARY_NETWORK && e.type !== LsaType.SUMMARY_ASBR)) continue;
    const abr = routers.get(e.adv);
    e.view(summary);
    if (!abr || summary.metric >= LS_INFINITY) continue;
    const cost = abr.dist + summary.metric;
    if (e.type === LsaType.SUMMARY_ASBR) {
      const cur = asbrs.get(e.id);
      if (!cur || cost < cur.dist) asbrs.set(e.id, { dist: cost, nextHops: abr.nextHops });
      continue;
    }
    const len = maskLen(summary.mask);
    if (len < 0) continue;
    const prefix = (e.id & summary.mask) >>> 0;
    const intra = routes.get(prefixKey(prefix, len));
    if (intra?.type === 'intra' || ownStub(rootLsa, prefix, summary.mask)) continue;
    offer({ prefix, len, type: 'inter', cost, internalCost: 0, nextHops: abr.nextHops, advRouter: e.adv });
  }
  // AS-external (§16.4).
  const ext = new LsaView();
  for (const e of db.all()) {
    if (e.maxAged || e.type !== LsaType.AS_EXTERNAL || e.adv === root.routerId) continue;
    e.view(ext);
    if (ext.metric >= LS_INFINITY) continue;
    const asbr = asbrs.get(e.adv);
    if (!asbr) continue;
    let internal = asbr.dist;
    let hops = asbr.nextHops;
    const fwd = ext.forwardingAddress;
    if (fwd !== 0) {
      const onLink = root.portOnLink(fwd);
      if (onLink !== undefined) {
        hops = [{ port: onLink, address: fwd }];
        internal = 0;
      } else {
        const via = longestMatch(routes, fwd);
        if (!via || (via.type !== 'intra' && via.type !== 'inter')) continue;
        internal = via.cost;
        hops = via.nextHops;
      }
    }
    const len = maskLen(ext.mask);
    if (len < 0) continue;
    const prefix = (e.id & ext.mask) >>> 0;
    const type2 = ext.externalType2;
    offer({ prefix, len, type: type2 ? 'external-2' : 'external-1', cost: type2 ? ext.metric : internal + ext.metric, internalCost: internal, nextHops: hops, advRouter: e.adv });
  }
  return { routes, routers };
}

const RANK: Record<OspfRouteType, number> = { intra: 0, inter: 1, 'external-1': 2, 'external-2': 3 };

/** < 0 if a is preferred, 0 if equal (ECMP), > 0 if b. */
function better(a: OspfRoute, b: OspfRoute): number {
  if (RANK[a.type] !== RANK[b.type]) return RANK[a.type] - RANK[b.type];
  if (a.cost !== b.cost) return a.cost - b.cost;
  if (a.type === 'external-2') return a.internalCost - b.internalCost;
  return 0;
}

/** Whether our own router LSA has a stub (or is on a network) for this prefix: a connected route, not OSPF's to install. */
function ownStub(root: LsaView, prefix: number, mask: number): boolean {
  for (let at = root.firstLink, i = 0; i < root.linkCount; i++, at = root.nextLink(at)) {
    if (root.linkType(at) === LinkType.STUB && ((root.linkId(at) & root.linkData(at)) >>> 0) === prefix && root.linkData(at) === mask) return true;
  }
  return false;
}

function longestMatch(routes: Map<number, OspfRoute>, addr: number): OspfRoute | undefined {
  for (let len = 32; len >= 0; len--) {
    const r = routes.get(prefixKey((addr & maskOf(len)) >>> 0, len));
    if (r) return r;
  }
  return undefined;
}

/** Prefix length of a contiguous mask, or −1. */
export function maskLen(mask: number): number {
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  let len = 32;
  for (let v = inv; v !== 0; v >>>= 1) len--;
  return len;
}
