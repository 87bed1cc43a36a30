// RIP's own route table (RFC 2453 §3.9.2, §3.8): one route per destination,
// the rules for taking a neighbour's update, and the timeout and
// garbage-collection timers. The table feeds the RIB (BIRD's split: the
// protocol offers routes, the RIB core selects and installs); a route in
// garbage collection is no longer in the RIB — it stays here only so that
// it is advertised with metric 16 until it is deleted.
//
// No sockets, no wall clock: time and timers come from an injected RipClock,
// so every rule and timing can be tested exactly.
import type { RipClock, TimerHandle } from './clock.js';
import { RIP_INFINITY } from '../../wire/rip.js';

export type RipRouteState = 'active' | 'garbage';

export interface LearnedRoute {
  readonly prefix: number;
  readonly len: number;
  /** Port index it was learned on. */
  port: number;
  /** The neighbour (source address of the Response) that advertised it. */
  neighbour: number;
  /** Where to forward: the entry's next hop if usable, else the neighbour. */
  nextHop: number;
  /** Entry metric + port cost, 1–15; 16 while in garbage collection. */
  metric: number;
  tag: number;
  state: RipRouteState;
  /** When this route was adopted from its current neighbour (ms). */
  learnedAt: number;
  /** When its timeout was last re-initialised (ms). */
  refreshedAt: number;
  /** Timeout (active) or deletion (garbage) time (ms). */
  deadline: number;
  /** Its RIB route id; 0 while not in the RIB. */
  ribId: number;
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
  /** Some route changed: a triggered update is due (§3.10.1). */
  changed(): void;
  /** One route changed (for the debug log). */
  route?(r: LearnedRoute, change: RouteChange, cause: string): void;
}

export interface RipTimers {
  timeoutMs: number;
  garbageMs: number;
}

/** What offer() did with an entry. */
export const Offer = {
  IGNORED: 0,
  REFRESHED: 1,
  LEARNED: 2,
  UPDATED: 3,
  WITHDRAWN: 4,
} as const;

const keyOf = (prefix: number, len: number): number => prefix * 64 + len;

export class RipTable {
  private readonly routes = new Map<number, LearnedRoute>();
  private timer: TimerHandle | undefined;
  private armedAt = Infinity;
  private sweeping = false;

  constructor(
    private readonly clock: RipClock,
    private readonly sink: RibSink,
    readonly timers: RipTimers,
    private readonly events: TableEvents,
  ) {}

  get size(): number {
    return this.routes.size;
  }

  get(prefix: number, len: number): LearnedRoute | undefined {
    return this.routes.get(keyOf(prefix >>> 0, len));
  }

  all(): IterableIterator<LearnedRoute> {
    return this.routes.values();
  }

  /**
   * One valid route entry from neighbour `neighbour` on `port`; `metric` has
   * the port cost added already (min 16). RFC 2453 §3.9.2:
   * - unknown destination: add it unless the metric is infinite;
   * - from the neighbour we use: re-initialise the timeout, and take any
   *   metric change (16 → withdraw at once: garbage collection);
   * - from another neighbour: take it only if strictly better, or equal while
   *   ours is at least halfway to its timeout (the heuristic of §3.9.2).
   */
  offer(port: number, neighbour: number, prefix: number, len: number, nextHop: number, metric: number, tag: number): number {
    const key = keyOf(prefix >>> 0, len);
    const now = this.clock.now();
    const r = this.routes.get(key);
    if (!r) {
      if (metric >= RIP_INFINITY) return Offer.IGNORED;
      const route: LearnedRoute = {
        prefix: prefix >>> 0, len, port, neighbour, nextHop, metric, tag, state: 'active',
        learnedAt: now, refreshedAt: now, deadline: now + this.timers.timeoutMs, ribId: 0, changed: true,
      };
      this.routes.set(key, route);
      route.ribId = this.sink.install(route);
      this.arm(route.deadline);
      this.events.route?.(route, 'learned', 'rip-added');
      this.events.changed();
      return Offer.LEARNED;
    }

    const same = r.port === port && r.neighbour === neighbour;
    if (same && r.state === 'active') {
      r.refreshedAt = now;
      r.deadline = now + this.timers.timeoutMs;
    }
    let adopt: boolean;
    if (same) adopt = metric !== r.metric || (r.state === 'active' && (nextHop !== r.nextHop || tag !== r.tag));
    else if (metric < r.metric) adopt = true;
    else adopt = metric === r.metric && metric < RIP_INFINITY && r.state === 'active' &&
      now - r.refreshedAt >= this.timers.timeoutMs / 2;
    if (!adopt) return same ? Offer.REFRESHED : Offer.IGNORED;

    if (metric >= RIP_INFINITY) {
      // Only the neighbour we use can make it infinite (others are never "better").
      this.startGarbage(r, 'withdrawn', 'rip-withdrawn');
      return Offer.WITHDRAWN;
    }
    const revived = r.state === 'garbage';
    const portChanged = r.port !== port;
    r.port = port;
    if (!same) r.learnedAt = now;
    r.neighbour = neighbour;
    r.nextHop = nextHop;
    r.metric = metric;
    r.tag = tag;
    r.state = 'active';
    r.refreshedAt = now;
    r.deadline = now + this.timers.timeoutMs;
    r.changed = true;
    if (r.ribId === 0) {
      r.ribId = this.sink.install(r);
    } else if (portChanged) {
      // Install the new one before removing the old, so the FIB moves over in one step.
      const old = r.ribId;
      r.ribId = this.sink.install(r);
      this.sink.remove(old, 'rip-update');
    } else {
      this.sink.update(r.ribId, metric, nextHop);
    }
    this.arm(r.deadline);
    this.events.route?.(r, revived ? 'learned' : 'updated', 'rip-update');
    this.events.changed();
    return revived ? Offer.LEARNED : Offer.UPDATED;
  }

  /** Withdraw every active route learned from `neighbour` on `port` (BFD down). Returns how many. */
  dropNeighbour(port: number, neighbour: number, cause: string): number {
    return this.dropWhere((r) => r.port === port && r.neighbour === neighbour, cause);
  }

  /** Withdraw every active route learned on `port` (port blocked). Returns how many. */
  dropPort(port: number, cause: string): number {
    return this.dropWhere((r) => r.port === port, cause);
  }

  /** Number of active routes from a neighbour. */
  countFrom(port: number, neighbour: number): number {
    let n = 0;
    for (const r of this.routes.values()) if (r.state === 'active' && r.port === port && r.neighbour === neighbour) n++;
    return n;
  }

  get hasChanges(): boolean {
    for (const r of this.routes.values()) if (r.changed) return true;
    return false;
  }

  clearChangeFlags(): void {
    for (const r of this.routes.values()) r.changed = false;
  }

  /** Stop the timers (the table keeps its contents). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private dropWhere(pred: (r: LearnedRoute) => boolean, cause: string): number {
    let n = 0;
    for (const r of this.routes.values()) {
      if (r.state !== 'active' || !pred(r)) continue;
      this.startGarbage(r, 'dropped', cause);
      n++;
    }
    return n;
  }

  /**
   * §3.8 deletion process: metric 16, change flag, garbage-collection timer.
   * The route leaves the RIB now; it is advertised as unreachable until deleted.
   */
  private startGarbage(r: LearnedRoute, change: RouteChange, cause: string): void {
    const now = this.clock.now();
    r.state = 'garbage';
    r.metric = RIP_INFINITY;
    r.changed = true;
    r.deadline = now + this.timers.garbageMs;
    if (r.ribId !== 0) {
      const id = r.ribId;
      r.ribId = 0;
      this.sink.remove(id, cause);
    }
    this.arm(r.deadline);
    this.events.route?.(r, change, cause);
    this.events.changed();
  }

  /** One timer for the earliest deadline; a refreshed route just makes it fire early and re-arm. */
  private arm(deadline: number): void {
    if (this.sweeping || deadline >= this.armedAt) return;
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
      for (const [key, r] of this.routes) {
        if (r.deadline <= now) {
          if (r.state === 'active') {
            this.startGarbage(r, 'timeout', 'rip-timeout');
          } else {
            this.routes.delete(key);
            this.events.route?.(r, 'deleted', 'rip-garbage-collected');
            continue;
          }
        }
        if (r.deadline < next) next = r.deadline;
      }
    } finally {
      this.sweeping = false;
    }
    if (next < Infinity) this.arm(next);
  }
}
