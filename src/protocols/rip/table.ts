// RIP's own route table: one learned route per (prefix, neighbour), each
// with its own timeout and garbage-collection timers (RFC 2453 §3.8) and
// its own RIB route. (Unlike BIRD and FRR ripd, which keep per prefix only
// the routes with the lowest metric — BIRD's rip_update_rte, FRR's
// rip_rte_process — and learn a worse one again only when its neighbour
// next sends it.) The RIB selects among them (administrative distance, metric,
// age), so when the best neighbour withdraws or times out the next one is
// already installed: the FIB falls back at once, not an update period later
// (the migration's fall-back from R2 to R3 on R1). A route in garbage collection is no longer in the
// RIB; while every route of a prefix is in garbage collection the prefix is
// advertised with metric 16, until the last of them is deleted.
//
// Per neighbour the rules of §3.9.2 reduce to: an entry refreshes that
// neighbour's route and takes any metric or next-hop change; metric 16
// (after cost) withdraws it at once; a route not refreshed for the timeout
// times out. There is no "only if better" rule: that rule existed only
// because the classic table holds one route per destination.
//
// For advertising, RIP's best route per prefix is the active one with the
// lowest metric, then the oldest (the same order the RIB uses among RIP
// routes); a triggered update is due when what we advertise for a prefix —
// its metric, port (for split horizon) or tag — changes, not when a
// neighbour's route that is not the best changes.
//
// Limits: a route the table does not hold yet is refused when the table
// holds maxRoutes routes, or its neighbour its per-neighbour limit (routes
// in garbage collection count: they are held, and a neighbour that churns
// through prefixes must not grow the table either). What is held already
// is refreshed, changed and withdrawn as always. A refused entry costs
// nothing: no route, no prefix, no RIB entry.
//
// No sockets, no wall clock: time and timers come from an injected Clock,
// so every rule and timing can be tested exactly.
import type { Clock, TimerHandle } from '../../control/clock.js';
import { portAddressKey, prefixKey } from '../../net/addr.js';
import { RIP_INFINITY } from '../../wire/rip.js';

export type RipRouteState = 'active' | 'garbage';

export interface LearnedRoute {
  readonly prefix: number;
  readonly len: number;
  /** Port index it was learned on. */
  readonly port: number;
  /** The neighbour (source address of the Responses) that advertises it. */
  readonly neighbour: number;
  /** Where to forward: the entry's next hop if usable, else the neighbour. */
  nextHop: number;
  /** Entry metric + port cost, 1–15; 16 while in garbage collection. */
  metric: number;
  tag: number;
  state: RipRouteState;
  /** When this route was (re)learned (ms): ties between equal metrics go to the older. */
  learnedAt: number;
  /** Learning order, to break ties between routes learned in the same millisecond. */
  seq: number;
  /** When its timeout was last re-initialised (ms). */
  refreshedAt: number;
  /** Timeout (active) or deletion (garbage) time (ms). */
  deadline: number;
  /** Its RIB route id; 0 while not in the RIB. */
  ribId: number;
}

/** Every route RIP holds for one destination, and what we advertise for it. */
export interface RipPrefix {
  readonly prefix: number;
  readonly len: number;
  /** One per (port, neighbour), active or in garbage collection. */
  readonly routes: LearnedRoute[];
  /** The best active route (lowest metric, then the oldest), or null when all are in garbage collection. */
  best: LearnedRoute | null;
  /** What we advertise: the best route's metric, or 16. */
  metric: number;
  /** The best route's port (split horizon), or −1. */
  port: number;
  /** The best route's tag, or 0. */
  tag: number;
  /** The route change flag of §3.10.1: to be sent in the next triggered update. */
  changed: boolean;
}

/** Where the table puts its usable routes (the RIB, through the router). */
export interface RibSink {
  install(r: LearnedRoute): number;
  update(ribId: number, metric: number, nextHop: number): void;
  remove(ribId: number, cause: string): void;
}

export type RouteChange = 'learned' | 'updated' | 'withdrawn' | 'timeout' | 'deleted' | 'dropped';

export interface TableEvents {
  /** What we advertise for some prefix changed: a triggered update is due (§3.10.1). */
  changed(): void;
  /** One route changed (for the debug log); `best`: it is now the prefix's best route. */
  route?(r: LearnedRoute, change: RouteChange, cause: string, best: boolean): void;
}

export interface RipTimers {
  timeoutMs: number;
  garbageMs: number;
}

export interface RipLimits {
  /** Routes held in all. */
  maxRoutes(): number;
  /** Routes held from one neighbour on port `port` (an index). */
  perNeighbour(port: number): number;
}

const NO_LIMITS: RipLimits = { maxRoutes: () => Infinity, perNeighbour: () => Infinity };

/** What offer() did with an entry. */
export const Offer = {
  IGNORED: 0,
  REFRESHED: 1,
  LEARNED: 2,
  UPDATED: 3,
  WITHDRAWN: 4,
  /** New, and the table is full (maxRoutes): not taken. */
  OVER_TOTAL_LIMIT: 5,
  /** New, and its neighbour has its limit: not taken. */
  OVER_NEIGHBOUR_LIMIT: 6,
} as const;

const keyOf = prefixKey;

/** Lowest metric, then the older (learned first). */
function better(a: LearnedRoute, b: LearnedRoute): boolean {
  if (a.metric !== b.metric) return a.metric < b.metric;
  return a.seq < b.seq;
}

export class RipTable {
  private readonly prefixMap = new Map<number, RipPrefix>();
  private count = 0;
  /** Routes held per (port, neighbour). */
  private readonly heldBy = new Map<number, number>();
  private seq = 0;
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  private sweeping = false;
  /**
   * After stop(): deadlines are kept but no timer is armed — what a stop
   * still drops (BFD released, plugins stopping after RIP) would otherwise
   * arm one that changes a stopped router's routes later and holds it in
   * memory until then.
   */
  private stopped = false;

  constructor(
    private readonly clock: Clock,
    private readonly sink: RibSink,
    readonly timers: RipTimers,
    private readonly events: TableEvents,
    readonly limits: RipLimits = NO_LIMITS,
  ) {}

  /** Number of routes held (active and in garbage collection), over all prefixes and neighbours. */
  get size(): number {
    return this.count;
  }

  /** Routes held (active and in garbage collection) from `neighbour` on `port`. */
  heldFrom(port: number, neighbour: number): number {
    return this.heldBy.get(portAddressKey(port, neighbour)) ?? 0;
  }

  /** Number of prefixes held. */
  get prefixCount(): number {
    return this.prefixMap.size;
  }

  /** Everything held for prefix/len. */
  get(prefix: number, len: number): RipPrefix | undefined {
    return this.prefixMap.get(keyOf(prefix >>> 0, len));
  }

  /** The route for prefix/len from `neighbour` on `port`. */
  route(port: number, neighbour: number, prefix: number, len: number): LearnedRoute | undefined {
    return this.get(prefix, len)?.routes.find((r) => r.port === port && r.neighbour === neighbour >>> 0);
  }

  /** RIP's best active route for prefix/len. */
  best(prefix: number, len: number): LearnedRoute | undefined {
    return this.get(prefix, len)?.best ?? undefined;
  }

  prefixes(): IterableIterator<RipPrefix> {
    return this.prefixMap.values();
  }

  /** Every route, grouped by prefix. */
  *all(): IterableIterator<LearnedRoute> {
    for (const p of this.prefixMap.values()) yield* p.routes;
  }

  /**
   * One valid route entry from neighbour `neighbour` on `port`; `metric` has
   * the port cost added already (min 16). Only that neighbour's route for
   * the prefix is touched:
   * - none yet: added unless the metric is infinite;
   * - active: the timeout is re-initialised and any metric, next-hop or tag
   *   change taken; 16 withdraws it at once (garbage collection);
   * - in garbage collection: a finite metric brings it back (a new RIB route).
   */
  offer(port: number, neighbour: number, prefix: number, len: number, nextHop: number, metric: number, tag: number): number {
    prefix >>>= 0;
    neighbour >>>= 0;
    nextHop >>>= 0;
    const key = keyOf(prefix, len);
    const now = this.clock.now();
    let p = this.prefixMap.get(key);
    const r = p?.routes.find((x) => x.port === port && x.neighbour === neighbour);

    if (!r || r.state === 'garbage') {
      if (metric >= RIP_INFINITY) return Offer.IGNORED;
      if (!r) {
        if (this.count >= this.limits.maxRoutes()) return Offer.OVER_TOTAL_LIMIT;
        if (this.heldFrom(port, neighbour) >= this.limits.perNeighbour(port)) return Offer.OVER_NEIGHBOUR_LIMIT;
      }
      let route: LearnedRoute;
      if (r) {
        route = r;
        Object.assign(route, { nextHop, metric, tag, state: 'active', learnedAt: now, seq: ++this.seq });
      } else {
        route = {
          prefix, len, port, neighbour, nextHop, metric, tag, state: 'active',
          learnedAt: now, seq: ++this.seq, refreshedAt: now, deadline: 0, ribId: 0,
        };
        if (!p) {
          p = { prefix, len, routes: [], best: null, metric: RIP_INFINITY, port: -1, tag: 0, changed: false };
          this.prefixMap.set(key, p);
        }
        p.routes.push(route);
        this.count++;
        const held = portAddressKey(port, neighbour);
        this.heldBy.set(held, (this.heldBy.get(held) ?? 0) + 1);
      }
      route.refreshedAt = now;
      route.deadline = now + this.timers.timeoutMs;
      route.ribId = this.sink.install(route);
      this.arm(route.deadline);
      this.reselect(p!);
      this.events.route?.(route, 'learned', 'rip-added', p!.best === route);
      return Offer.LEARNED;
    }

    r.refreshedAt = now;
    r.deadline = now + this.timers.timeoutMs;
    if (metric >= RIP_INFINITY) {
      this.startGarbage(r, 'withdrawn', 'rip-withdrawn');
      this.reselect(p!);
      return Offer.WITHDRAWN;
    }
    if (metric === r.metric && nextHop === r.nextHop && tag === r.tag) return Offer.REFRESHED;
    const ribChange = metric !== r.metric || nextHop !== r.nextHop;
    r.metric = metric;
    r.nextHop = nextHop;
    r.tag = tag;
    if (ribChange) this.sink.update(r.ribId, metric, nextHop);
    this.reselect(p!);
    this.events.route?.(r, 'updated', 'rip-update', p!.best === r);
    return Offer.UPDATED;
  }

  /** Withdraw every active route learned from `neighbour` on `port` (BFD down). Returns how many. */
  dropNeighbour(port: number, neighbour: number, cause: string): number {
    return this.dropWhere((r) => r.port === port && r.neighbour === neighbour >>> 0, cause);
  }

  /** Withdraw every active route learned on `port` (port blocked). Returns how many. */
  dropPort(port: number, cause: string): number {
    return this.dropWhere((r) => r.port === port, cause);
  }

  /** Number of active routes from a neighbour. */
  countFrom(port: number, neighbour: number): number {
    let n = 0;
    for (const r of this.all()) if (r.state === 'active' && r.port === port && r.neighbour === neighbour >>> 0) n++;
    return n;
  }

  get hasChanges(): boolean {
    for (const p of this.prefixMap.values()) if (p.changed) return true;
    return false;
  }

  clearChangeFlags(): void {
    for (const p of this.prefixMap.values()) p.changed = false;
  }

  /** Stop the timers (the table keeps its contents). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    this.stopped = true;
  }

  /** Timers again after stop(): a sweep at once finds what came due and arms for the rest. */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.arm(this.clock.now());
  }

  private dropWhere(pred: (r: LearnedRoute) => boolean, cause: string): number {
    let n = 0;
    for (const p of this.prefixMap.values()) {
      let hit = false;
      for (const r of p.routes) {
        if (r.state !== 'active' || !pred(r)) continue;
        this.startGarbage(r, 'dropped', cause);
        hit = true;
        n++;
      }
      if (hit) this.reselect(p);
    }
    return n;
  }

  /**
   * §3.8 deletion process for one neighbour's route: metric 16 and the
   * garbage-collection timer. It leaves the RIB now (where the next-best
   * route, already installed, takes over). The caller reselects the prefix.
   */
  private startGarbage(r: LearnedRoute, change: RouteChange, cause: string): void {
    r.state = 'garbage';
    r.metric = RIP_INFINITY;
    r.deadline = this.clock.now() + this.timers.garbageMs;
    if (r.ribId !== 0) {
      const id = r.ribId;
      r.ribId = 0;
      this.sink.remove(id, cause);
    }
    this.arm(r.deadline);
    this.events.route?.(r, change, cause, false);
  }

  /**
   * Recompute the prefix's best route and what we advertise for it; a
   * change there sets the route change flag and asks for a triggered update.
   */
  private reselect(p: RipPrefix): void {
    let best: LearnedRoute | null = null;
    for (const r of p.routes) if (r.state === 'active' && (!best || better(r, best))) best = r;
    p.best = best;
    const metric = best ? best.metric : RIP_INFINITY;
    const port = best ? best.port : -1;
    const tag = best ? best.tag : 0;
    if (metric === p.metric && port === p.port && tag === p.tag) return;
    p.metric = metric;
    p.port = port;
    p.tag = tag;
    p.changed = true;
    this.events.changed();
  }

  /** One timer for the earliest deadline; a refreshed route just makes it fire early and re-arm. */
  private arm(deadline: number): void {
    if (this.sweeping || this.stopped || deadline >= this.armedAt) return;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.armedAt = deadline;
    this.timer = this.clock.setTimer(deadline - this.clock.now(), () => this.sweep());
  }

  private sweep(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    this.sweeping = true;
    try {
      for (const [key, p] of this.prefixMap) {
        let timedOut = false;
        for (let i = 0; i < p.routes.length; i++) {
          const r = p.routes[i]!;
          if (r.deadline <= now) {
            if (r.state === 'active') {
              this.startGarbage(r, 'timeout', 'rip-timeout');
              timedOut = true;
            } else {
              p.routes.splice(i--, 1);
              this.count--;
              const held = portAddressKey(r.port, r.neighbour);
              const n = (this.heldBy.get(held) ?? 1) - 1;
              if (n > 0) this.heldBy.set(held, n);
              else this.heldBy.delete(held);
              this.events.route?.(r, 'deleted', 'rip-garbage-collected', false);
              continue;
            }
          }
          if (r.deadline < next) next = r.deadline;
        }
        if (p.routes.length === 0) {
          // The last one deleted: nothing more to advertise (it went out as 16 for the garbage time).
          this.prefixMap.delete(key);
          continue;
        }
        if (timedOut) this.reselect(p);
      }
    } finally {
      this.sweeping = false;
    }
    if (next < Infinity) this.arm(next);
  }
}
