// The routing information base: every route from every source, usable or
// not, and the FIB derived from it (BIRD's split: protocols feed routes in
// through their channels, this core selects and installs). Per prefix the
// selected route is, among the usable ones, the one from the most trusted
// source (administrative distance — metrics of different protocols do not
// compare), then with the lowest metric, then the older. A prefix with no
// usable route leaves the FIB, so lookups fall back to a shorter covering
// prefix. A route that is unusable only because its port drains is the
// exception: it is used when nothing else is — a drain moves traffic to
// other paths where there are some, it never cuts a destination off (the
// router that drains the port toward the one that must move, R2 toward a
// real R1, still has to carry the replies of what arrives meanwhile).
import { maskOf, prefixKey, prefixOfKey } from '../net/addr.js';
import { Fib } from './fib.js';

/** Administrative distance of the router's own sources, as Cisco/FRR number them (protocols bring theirs). */
export const DISTANCE = { connected: 0, static: 1, api: 1 } as const;

export interface RouteSpec {
  prefix: number;
  len: number;
  port: number;
  /** 0 = directly attached (on-link). */
  nextHop: number;
  metric: number;
  /** Who put it here: connected, static, api, or a protocol's name. */
  source: string;
  /** Lower wins, before the metric is looked at. */
  distance: number;
  /** Usable only while BFD to the next hop (or the other end of a point-to-point port) is Up. */
  trackBfd?: boolean;
}

/** A route as its source asks for it; the RIB is told who asks (source) and how far that source is trusted (distance). */
export type RouteRequest = Omit<RouteSpec, 'source' | 'distance'>;

export interface Route extends RouteSpec {
  readonly id: number;
  readonly addedAt: number;
  /** Why the route cannot be used now (e.g. "port-blocked", "bfd-down"), or null. */
  unusable: string | null;
  selected: boolean;
}

export interface FibChange {
  prefix: number;
  len: number;
  before: Route | null;
  after: Route | null;
  /** What made the change (e.g. "port-blocked", "route-added"). */
  cause: string;
}

/** The one unusable reason that still lets a route carry traffic when no other route can. */
const LAST_RESORT = 'port-draining';

function better(a: Route, b: Route): boolean {
  if (a.distance !== b.distance) return a.distance < b.distance;
  if (a.metric !== b.metric) return a.metric < b.metric;
  return a.id < b.id;
}

export class Rib {
  readonly fib: Fib;
  private readonly byKey = new Map<number, Route[]>();
  private readonly byId = new Map<number, Route>();
  private readonly installed = new Map<number, { route: Route; nh: number }>();
  private nextId = 1;

  constructor(
    private readonly usability: (r: Route) => string | null,
    private readonly onChange: (c: FibChange) => void,
    /** A FIB in shared memory, for forwarding workers. */
    opts: { sharedFib?: boolean } = {},
  ) {
    this.fib = new Fib({ shared: opts.sharedFib === true });
  }

  add(spec: RouteSpec, cause = 'route-added'): Route {
    return this.addFrom(spec, spec.source, spec.distance, cause);
  }

  /**
   * A source's request, its source and distance given beside it: no copy of
   * the request is made on the way in (a spread, `{ ...request, source,
   * distance }`, made a 500,000-route load take about 1.5 times as long).
   */
  addFrom(r: RouteRequest, source: string, distance: number, cause = 'route-added'): Route {
    // Every field written out, in one order: every route has one shape (a spread would copy the caller's shape and any extra field).
    const route: Route = {
      prefix: r.prefix >>> 0, len: r.len, port: r.port, nextHop: r.nextHop >>> 0, metric: r.metric, source, distance,
      trackBfd: r.trackBfd === true, id: this.nextId++, addedAt: Date.now(), unusable: null, selected: false,
    };
    route.unusable = this.usability(route);
    const key = prefixKey(route.prefix, route.len);
    const list = this.byKey.get(key);
    // A literal of one: push() onto [] reserves 17 slots, 130 bytes per prefix that nearly always holds one route.
    if (list) list.push(route);
    else this.byKey.set(key, [route]);
    this.byId.set(route.id, route);
    this.select(key, cause);
    return route;
  }

  /** Change a route's metric or next hop in place (e.g. a RIP update). */
  update(id: number, change: { metric?: number; nextHop?: number }, cause = 'route-updated'): void {
    const route = this.byId.get(id);
    if (!route) return;
    const metric = change.metric ?? route.metric;
    const nextHop = (change.nextHop ?? route.nextHop) >>> 0;
    if (metric === route.metric && nextHop === route.nextHop) return;
    route.metric = metric;
    route.nextHop = nextHop;
    route.unusable = this.usability(route);
    this.select(prefixKey(route.prefix, route.len), cause, route.selected);
  }

  remove(id: number, cause = 'route-removed'): boolean {
    const route = this.byId.get(id);
    if (!route) return false;
    this.byId.delete(id);
    const key = prefixKey(route.prefix, route.len);
    const list = this.byKey.get(key)!;
    list.splice(list.indexOf(route), 1);
    if (list.length === 0) this.byKey.delete(key);
    this.select(key, cause);
    return true;
  }

  /** Re-check usability of the routes `filter` picks (after a port/BFD change) and reselect. */
  reevaluate(filter: (r: Route) => boolean, cause: string): void {
    const touched = new Set<number>();
    for (const r of this.byId.values()) {
      if (!filter(r)) continue;
      const u = this.usability(r);
      if (u !== r.unusable) {
        r.unusable = u;
        touched.add(prefixKey(r.prefix, r.len));
      }
    }
    for (const key of touched) this.select(key, cause);
  }

  get(id: number): Route | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  routes(): Route[] {
    return [...this.byId.values()].sort((a, b) => a.prefix - b.prefix || a.len - b.len || a.metric - b.metric || a.id - b.id);
  }

  /**
   * Every route in routes()' order, `size` at a time, each step of the
   * generator a bounded piece of work: a caller that lets the event loop run
   * between steps never holds the thread for long, however many routes
   * there are (the keys are gathered and sorted in runs, then the runs
   * merged). A step may give an empty chunk while it sorts. Routes removed
   * meanwhile are skipped; prefixes added meanwhile may be missed.
   */
  *routesInChunks(size = 256): Generator<Route[]> {
    // Sorting a run of 8192 keys takes well under a millisecond.
    const RUN = 8192;
    const keys = new Float64Array(this.byKey.size);
    const it = this.byKey.keys();
    let n = 0;
    for (let done = false; !done && n < keys.length;) {
      const start = n;
      for (; n < keys.length && n - start < RUN; n++) {
        const next = it.next();
        if (next.done) {
          done = true;
          break;
        }
        keys[n] = next.value;
      }
      keys.subarray(start, n).sort();
      yield [];
    }
    // Merge the sorted runs: a binary heap of run heads, smallest key on top.
    const heads = Int32Array.from({ length: Math.ceil(n / RUN) }, (_, i) => i * RUN);
    const ends = heads.map((h) => Math.min(h + RUN, n));
    const heap = new RunHeap(keys, heads, ends);
    let out: Route[] = [];
    for (let key = heap.pop(); key >= 0; key = heap.pop()) {
      const list = this.byKey.get(key);
      if (list) out.push(...[...list].sort((a, b) => a.metric - b.metric || a.id - b.id));
      if (out.length >= size) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  }

  find(pred: (r: Route) => boolean): Route[] {
    return [...this.byId.values()].filter(pred);
  }

  /** The selected route of every prefix (what the FIB holds). */
  selected(): IterableIterator<Route> {
    return [...this.installed.values()].map((i) => i.route).values();
  }

  /** The route the FIB uses for `addr` (slow path, for the CLI/API). */
  lookup(addr: number): Route | undefined {
    for (let len = 32; len >= 0; len--) {
      const hit = this.installed.get(prefixKey((addr & maskOf(len)) >>> 0, len));
      if (hit) return hit.route;
    }
    return undefined;
  }

  private select(key: number, cause: string, force = false): void {
    const list = this.byKey.get(key);
    let best: Route | null = null;
    let lastResort: Route | null = null;
    if (list) {
      for (const r of list) {
        if (r.unusable === null) {
          if (!best || better(r, best)) best = r;
        } else if (r.unusable === LAST_RESORT && (!lastResort || better(r, lastResort))) {
          lastResort = r;
        }
      }
    }
    best ??= lastResort;
    const cur = this.installed.get(key);
    const before = cur?.route ?? null;
    if (before === best && !force) return;
    const { prefix, len } = prefixOfKey(key);
    if (before) before.selected = false;
    if (best) {
      best.selected = true;
      this.installed.set(key, { route: best, nh: this.fib.install(prefix, len, best.port, best.nextHop) });
    } else {
      this.fib.remove(prefix, len);
      this.installed.delete(key);
    }
    if (cur) this.fib.release(cur.nh);
    this.onChange({ prefix, len, before, after: best, cause });
  }
}

/** The runs' current heads in a binary heap by key; pop() gives the next key in order, -1 when all are done. */
class RunHeap {
  private readonly heap: number[] = [];

  constructor(
    private readonly keys: Float64Array,
    private readonly pos: Int32Array,
    private readonly ends: Int32Array,
  ) {
    for (let r = 0; r < pos.length; r++) if (pos[r]! < ends[r]!) this.push(r);
  }

  pop(): number {
    const h = this.heap;
    if (h.length === 0) return -1;
    const run = h[0]!;
    const key = this.keys[this.pos[run]!]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    if (++this.pos[run]! < this.ends[run]!) this.push(run);
    return key;
  }

  private head(i: number): number {
    return this.keys[this.pos[this.heap[i]!]!]!;
  }

  private push(run: number): void {
    const h = this.heap;
    h.push(run);
    for (let i = h.length - 1; i > 0;) {
      const up = (i - 1) >> 1;
      if (this.head(up) <= this.head(i)) break;
      [h[up], h[i]] = [h[i]!, h[up]!];
      i = up;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.head(l) < this.head(m)) m = l;
      if (r < h.length && this.head(r) < this.head(m)) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }
}
