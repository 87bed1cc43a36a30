// RIPv2 (RFC 2453) on the router's ports: receives UDP 520 from local
// delivery, checks it (§3.9), feeds what neighbours advertise into RipTable
// (which feeds the RIB), and sends the table: a whole-table Request at
// start, Responses to 224.0.0.9 every update time (±15 % jitter, §3.8),
// triggered updates when routes change (§3.10.1, damped), split horizon
// with poisoned reverse (§3.4.3). A blocked port gets one last poisoned
// Response; a neighbour whose BFD session is not Up is not listened to
// (a BFD-down neighbour's next Response would re-install the routes BFD
// just withdrew otherwise).
//
// Neighbours that keep only their best route. BIRD and FRR ripd, like RFC
// 2453's table, hold per prefix only the routes with the lowest metric
// (BIRD: rip_update_rte; FRR: rip_rte_process), so a neighbour that uses
// another path forgets ours and learns it again only when we next send
// it. Three things make that "next" soon:
// - an answer: when a neighbour's metric for a prefix gets worse (a
//   withdrawal, 16, included) and we advertise that prefix to it with a
//   finite metric, it gets our entries at once, unicast — rate-limited per
//   neighbour as §3.10.1 limits triggered updates, and not held back by
//   the damping of our own, unrelated triggered updates;
// - the standby refresh (`standbyRefresh` on a port, ms): the same entries
//   sent to each neighbour that advertises those prefixes to us with a
//   finite metric (so its route is not via us) every interval, so it can
//   fall back within the interval even when it tells nobody it lost its
//   route (BIRD sends its own triggered updates only 100 ms after a
//   change);
// - asking back: a neighbour that asks for our whole table (it has just
//   started RIP on the link) and has not answered our own last Request is
//   asked for its table in turn (FRR ripd sends only a Request when an
//   interface comes up, and ignores the link for 1 s before that).
// A draining port advertises every reachable prefix with at least metric
// 14, the worst a neighbour adding cost 1 still holds as reachable: the
// neighbour keeps using us until another path's route reaches it, then
// moves — nothing is withdrawn before something replaces it.
//
// What we advertise: per prefix, RIP's best learned route (RipTable keeps
// every neighbour's route; the RIB holds them all and falls back at once
// when the best one goes), plus — per `rip.redistribute` — the connected
// and static routes the RIB currently selects: connected with metric 1,
// static with min(max(metric, 1), 15) so a static route is never
// "unreachable" nor worse than RIP can say. Where a redistributed route and
// a learned one share a prefix, the redistributed one is what the RIB
// chose, so it is what we advertise. Split horizon is relative to the port
// of the route we advertise.
//
// Hardening: a port may take packets only from its configured neighbours,
// only with TTL 255 (GTSM, RFC 5082), only authenticated (RFC 2453 §4.1
// password, RFC 4822 keyed MD5 / HMAC-SHA); every refusal is counted by
// reason, and a source that fails them never becomes a neighbour. What
// neighbours can make us hold is bounded: routers per port, routes per
// neighbour, routes in all. A limit reached is one log event (rip.limit,
// warn), and one more once nothing has been refused for a route timeout
// (cleared) — never a line per route.
import { isDeepStrictEqual } from 'node:util';
import type { RipConfig } from '../../config/router-config.js';
import type { Clock, TimerHandle } from '../../control/clock.js';
import type { NeighbourLiveness, SessionChange } from '../../control/liveness.js';
import type { ProtocolContext, RouterPlugin, SelectedRoute } from '../../control/protocol.js';
import { Drop } from '../../packet/drops.js';
import { formatAddress, formatPrefix, prefixKey, prefixOfKey } from '../../net/addr.js';
import type { PortView } from '../../control/protocol.js';
import { copyBytes, type Ipv4View } from '../../wire/ipv4.js';
import {
  AFI_INET, RIP_CHECK_NAMES, RIP_ENTRY_LEN, RIP_HEADER_LEN, RIP_INFINITY,
  RIP_MAX_AUTH_LEN, RIP_MULTICAST, RIP_PORT, RipCheck, RipCommand, RipView, maskLength, writeRipEntry, writeRipHeader,
  writeWholeTableRequest,
} from '../../wire/rip.js';
import { UDP_HEADER_LEN, UdpView } from '../../wire/udp.js';
import { RipAuth } from './auth.js';
import { LimitWatch } from './limits.js';
import { NeighbourTable, type NeighbourState, type RipNeighbour } from './neighbours.js';
import { Offer, RipTable, type LearnedRoute, type RouteChange } from './table.js';

/** Why a RIP packet was refused: the wire checks (RipCheck), then ours. */
export const RipDrop = {
  ...RipCheck,
  NOT_RIP_PORT: 12,
  PORT_INACTIVE: 13,
  BAD_UDP: 14,
  OWN_SOURCE: 15,
  SOURCE_NOT_ON_LINK: 16,
  BAD_SOURCE_PORT: 17,
  INTERNAL_ERROR: 18,
  /** GTSM: the port takes only TTL 255. */
  BAD_TTL: 19,
  /** Not one of the port's configured neighbours. */
  NOT_A_NEIGHBOUR: 20,
  /** A new router on a port that has maxNeighboursPerPort already. */
  TOO_MANY_NEIGHBOURS: 21,
  // Authentication (AuthFailure + 21).
  AUTH_MISSING: 22,
  AUTH_NOT_CONFIGURED: 23,
  AUTH_WRONG_TYPE: 24,
  AUTH_UNKNOWN_KEY: 25,
  AUTH_BAD_LENGTH: 26,
  AUTH_BAD_DIGEST: 27,
  AUTH_OLD_SEQUENCE: 28,
} as const;

export const RIP_DROP_NAMES: readonly string[] = [
  ...RIP_CHECK_NAMES,
  'not-rip-port', 'port-inactive', 'bad-udp', 'own-source', 'source-not-on-link', 'bad-source-port', 'internal-error',
  'bad-ttl', 'not-a-neighbour', 'too-many-neighbours',
  'auth-missing', 'auth-not-configured', 'auth-wrong-type', 'auth-unknown-key', 'auth-bad-length', 'auth-bad-digest', 'auth-old-sequence',
];

/** An AuthFailure as a RipDrop reason. */
const AUTH_DROP_BASE = RipDrop.AUTH_MISSING - 1;

/** Sent as BIRD and FRR do: TTL 1 (link-local), precedence 6 (internetwork control); 255 with GTSM. */
const RIP_TTL = 1;
const GTSM_TTL = 255;
const RIP_TOS = 0xc0;
/** RFC 2453 §3.8: the update timer is offset by a random ±15 % each time. */
const UPDATE_JITTER = 0.15;
/** RFC 2453 §3.10.1: 1–5 s between triggered updates for 30 s updates; scaled to ours. */
const DAMPING_MIN = 1 / 30;
const DAMPING_SPREAD = 4 / 30;
/** What a draining port advertises at least: the worst metric a neighbour with cost 1 still takes as reachable. */
export const DRAIN_METRIC = RIP_INFINITY - 2;
/** A Request is not asked back within this long of our own to the same neighbour (ms). */
const ASK_BACK_SPACING_MS = 50;
/** Administrative distance of RIP routes (as Cisco and FRR number it). */
export const RIP_DISTANCE = 120;

export interface RipPort {
  readonly port: PortView;
  cost: number;
  passive: boolean;
  bfd: boolean;
  /** Standby refresh interval, ms (0: off). */
  standbyRefresh: number;
  /** GTSM: true (send 255, take only 255), 'tx-only' (send 255), false. */
  ttlSecurity: boolean | 'tx-only';
  /** The only sources taken (empty: any router on the link). */
  allowed: Set<number>;
  /** Updates go to each of `allowed`, unicast, instead of 224.0.0.9. */
  unicast: boolean;
  auth: RipAuth;
  maxRoutesPerNeighbour: number;
  /** Its maxNeighboursPerPort: reached, packets refused. */
  neighbourLimit: LimitWatch;
  /** False while the port is blocked or down: nothing sent, nothing taken. */
  active: boolean;
  /** When we last asked the link for its routers' tables (ms). */
  requestedAt: number;
  standbyTimer: TimerHandle | undefined;
}

/** A connected or static route we redistribute, and its withdrawal (16 for a garbage time). */
export interface LocalRoute {
  readonly prefix: number;
  readonly len: number;
  port: number;
  metric: number;
  source: string;
  state: 'active' | 'garbage';
  deadline: number;
  changed: boolean;
}

export interface RipCounters {
  responsesReceived: number;
  requestsReceived: number;
  responsesIgnoredBfd: number;
  requestsIgnoredPassive: number;
  entriesAccepted: number;
  responsesSent: number;
  requestsSent: number;
  entriesSent: number;
  periodicUpdates: number;
  triggeredUpdates: number;
  /** Unicast answers to a neighbour's worse metric or withdrawal. */
  answersSent: number;
  /** Unicast standby refreshes sent. */
  standbyRefreshes: number;
  /** Whole-table Requests we answered with a Request of our own. */
  requestsAskedBack: number;
  /** Route entries refused because a limit (maxRoutes, maxRoutesPerNeighbour) was reached. */
  entriesOverLimit: number;
  /** Datagrams not sent: the port authenticates and no key may be sent now. */
  sendsWithoutKey: number;
}

const keyOf = prefixKey;

export class RipProtocol implements RouterPlugin {
  readonly name = 'rip';
  config: RipConfig;
  ports: RipPort[] = [];
  readonly table: RipTable;
  readonly neighbours = new NeighbourTable();
  readonly locals = new Map<number, LocalRoute>();
  readonly counters: RipCounters = {
    responsesReceived: 0, requestsReceived: 0, responsesIgnoredBfd: 0, requestsIgnoredPassive: 0, entriesAccepted: 0,
    responsesSent: 0, requestsSent: 0, entriesSent: 0, periodicUpdates: 0, triggeredUpdates: 0,
    answersSent: 0, standbyRefreshes: 0, requestsAskedBack: 0, entriesOverLimit: 0, sendsWithoutKey: 0,
  };
  /** maxRoutes: reached, entries refused. */
  readonly totalLimit = new LimitWatch();
  /** Packets refused, by RipDrop reason. */
  readonly packetDrops = new Float64Array(RIP_DROP_NAMES.length);
  /** Route entries refused, by RipCheck reason. */
  readonly entryDrops = new Float64Array(RIP_CHECK_NAMES.length);

  private readonly byPort: (RipPort | undefined)[] = [];
  /** The table's timers, in ms (kept in step with the config). */
  private readonly timers = { timeoutMs: 0, garbageMs: 0 };
  private running = false;
  private periodicTimer: TimerHandle | undefined;
  private triggerTimer: TimerHandle | undefined;
  private dampingTimer: TimerHandle | undefined;
  private triggerPending = false;

  private readonly udp = new UdpView();
  private readonly rip = new RipView();
  private readonly reply = new RipView();
  // The Response being written (see beginResponse).
  private wPort: PortView | undefined;
  private wAuth: RipAuth | undefined;
  private wDst = 0;
  private wDstPort = 0;
  private wPoison = false;
  private wBytes: Uint8Array = new Uint8Array(0);
  /** Where the Response's RIP payload starts (−1: none begun). */
  private wOff = -1;
  private wCount = 0;
  private wPackets = 0;

  private readonly clock: Clock;
  private readonly liveness: NeighbourLiveness;

  constructor(private readonly ctx: ProtocolContext, config: RipConfig) {
    this.config = config;
    this.clock = ctx.clock;
    this.liveness = ctx.liveness;
    this.setTimers(config);
    for (const pc of config.ports) this.addPort(pc);
    const routes = ctx.routes;
    this.table = new RipTable(this.clock, {
      install: (r) => routes.import({ prefix: r.prefix, len: r.len, port: r.port, nextHop: r.nextHop, metric: r.metric }),
      update: (id, metric, nextHop) => routes.update(id, { metric, nextHop }),
      remove: (id, cause) => routes.withdraw(id, cause),
    }, this.timers, {
      changed: () => this.trigger(),
      route: (r, change, cause, best) => this.logRoute(r, change, cause, best),
    }, {
      // Read at each offer, so a reload's limits apply to the next entry.
      maxRoutes: () => this.config.maxRoutes,
      perNeighbour: (port) => this.byPort[port]?.maxRoutesPerNeighbour ?? 0,
    });
    ctx.packets.listenUdp(RIP_PORT, (port, ip) => this.receive(port, ip));
    this.liveness.onChange((c) => this.bfdChanged(c));
    // Connected/static changes alter what RIP redistributes: tell neighbours now.
    const notRip = (r: SelectedRoute | null) => r !== null && r.source !== routes.source;
    ctx.table.onChange((before, after) => {
      if (notRip(before) || notRip(after)) this.trigger();
    });
  }

  private get updateMs(): number {
    return this.config.updateTime * 1000;
  }

  private get timeoutMs(): number {
    return this.timers.timeoutMs;
  }

  private get garbageMs(): number {
    return this.timers.garbageMs;
  }

  private setTimers(c: RipConfig): void {
    this.timers.timeoutMs = c.timeoutTime * 1000;
    this.timers.garbageMs = c.garbageTime * 1000;
  }

  private addPort(pc: RipConfig['ports'][number]): RipPort {
    const port = this.ctx.port(pc.port);
    const rp: RipPort = {
      port, cost: pc.cost, passive: pc.passive, bfd: pc.bfd, standbyRefresh: pc.standbyRefresh,
      ttlSecurity: pc.ttlSecurity, allowed: new Set(pc.neighbours.map((a) => a >>> 0)), unicast: pc.unicast,
      auth: new RipAuth(pc.auth), maxRoutesPerNeighbour: pc.maxRoutesPerNeighbour,
      neighbourLimit: new LimitWatch(),
      active: port.state === 'up' || port.state === 'draining', requestedAt: -Infinity, standbyTimer: undefined,
    };
    this.byPort[port.index] = rp;
    this.ports.push(rp);
    return rp;
  }

  /**
   * A reloaded config: timers and redistribution take effect with the next
   * update; a port that left RIP gets its last (poisoned) words and its
   * routes and neighbours go; a new port starts with a Request and our
   * table; cost, passive, BFD, GTSM, unicast and authentication change in
   * place; a neighbour a new `neighbours` list leaves out is forgotten with
   * its routes. Limits apply to the next route offered (what is held above
   * a lowered limit stays until it is withdrawn or times out). Nothing else
   * is touched.
   */
  reconfigure(next: RipConfig): void {
    this.config = next;
    this.setTimers(next);
    const wanted = new Map(next.ports.map((pc) => [pc.port, pc]));
    for (const rp of [...this.ports]) {
      const pc = wanted.get(rp.port.name);
      if (pc && this.ctx.port(pc.port) === rp.port) continue;
      this.silence(rp, 'rip-port-removed', true);
      for (const n of this.neighbours.onPort(rp.port)) this.forget(n);
      if (rp.standbyTimer !== undefined) this.clock.clearTimer(rp.standbyTimer);
      this.ports.splice(this.ports.indexOf(rp), 1);
      this.byPort[rp.port.index] = undefined;
    }
    for (const pc of next.ports) {
      const existing = this.ports.find((rp) => rp.port.name === pc.port);
      if (!existing) {
        const rp = this.addPort(pc);
        if (this.running) this.greet(rp);
        this.scheduleStandby(rp);
        continue;
      }
      existing.cost = pc.cost;
      existing.passive = pc.passive;
      existing.ttlSecurity = pc.ttlSecurity;
      existing.unicast = pc.unicast;
      existing.maxRoutesPerNeighbour = pc.maxRoutesPerNeighbour;
      // A new key chain keeps each neighbour's sequence number (replays stay refused).
      if (!isDeepStrictEqual(existing.auth.config, pc.auth)) existing.auth = new RipAuth(pc.auth);
      existing.allowed = new Set(pc.neighbours.map((a) => a >>> 0));
      // Neighbours no longer allowed go, and their routes with them.
      if (existing.allowed.size > 0) {
        for (const n of this.neighbours.onPort(existing.port)) {
          if (existing.allowed.has(n.address)) continue;
          this.table.dropNeighbour(existing.port.index, n.address, 'rip-neighbour-removed');
          this.setNeighbourState(n, 'down');
          this.forget(n);
        }
      }
      if (existing.standbyRefresh !== pc.standbyRefresh) {
        existing.standbyRefresh = pc.standbyRefresh;
        if (existing.standbyTimer !== undefined) this.clock.clearTimer(existing.standbyTimer);
        existing.standbyTimer = undefined;
        this.scheduleStandby(existing);
      }
      if (existing.bfd !== pc.bfd) {
        existing.bfd = pc.bfd;
        for (const n of this.neighbours.onPort(existing.port)) {
          if (pc.bfd) this.requireBfd(n);
          else this.releaseBfd(n);
          this.setNeighbourState(n, pc.bfd && this.liveness.state(n.port, n.address) !== 'Up' ? 'bfd-down' : 'up');
        }
      }
    }
    this.trigger();
  }

  ripPort(port: PortView): RipPort | undefined {
    return this.byPort[port.index];
  }

  // ---- RouterPlugin ----

  start(): void {
    if (this.running) return;
    this.running = true;
    this.table.start();
    this.refreshLocalRoutes();
    this.clearChangeFlags();
    for (const rp of this.ports) {
      if (!this.speaks(rp)) continue;
      this.askLink(rp);
      if (this.advertises(rp)) this.tellLink(rp);
    }
    for (const rp of this.ports) this.scheduleStandby(rp);
    this.schedulePeriodic();
  }

  stop(): void {
    if (!this.running) return;
    // Graceful shutdown: tell the neighbours at once instead of letting them time out.
    for (const rp of this.ports) if (this.speaks(rp)) this.tellLink(rp, true);
    this.running = false;
    for (const t of [this.periodicTimer, this.triggerTimer, this.dampingTimer]) if (t !== undefined) this.clock.clearTimer(t);
    this.periodicTimer = this.triggerTimer = this.dampingTimer = undefined;
    this.triggerPending = false;
    for (const rp of this.ports) {
      if (rp.standbyTimer !== undefined) this.clock.clearTimer(rp.standbyTimer);
      rp.standbyTimer = undefined;
    }
    this.table.stop();
    for (const n of this.neighbours.all()) {
      this.dropAnswer(n);
      this.releaseBfd(n);
    }
  }

  portBlocked(port: PortView): boolean {
    const rp = this.ripPort(port);
    const spoke = rp ? this.silence(rp, 'rip-port-blocked', true) : false;
    // Routes through the port (connected, static) go too: tell the other ports
    // (after the block, when the RIB has changed).
    this.trigger();
    return spoke;
  }

  /**
   * The port drains: its neighbours are asked to route around us (every
   * reachable prefix at least DRAIN_METRIC) while we still forward what
   * they send, so nothing is withdrawn before another path replaces it.
   */
  portDraining(port: PortView): void {
    const rp = this.ripPort(port);
    if (!rp || !this.running || !this.advertises(rp)) return;
    this.tellLink(rp);
    this.counters.triggeredUpdates++;
  }

  portUnblocked(port: PortView): void {
    const rp = this.ripPort(port);
    if (rp && !rp.active) {
      rp.active = true;
      if (this.running) this.greet(rp);
    }
    this.trigger();
  }

  /** The port's device is gone: as a block, but nothing can be said on it. */
  portDown(port: PortView): void {
    const rp = this.ripPort(port);
    if (rp) this.silence(rp, 'rip-port-down', false);
    this.trigger();
  }

  portRestored(port: PortView): void {
    this.portUnblocked(port);
  }

  /** Stop speaking and listening on a port: last words (all poisoned) if it can still speak, its neighbours down, their routes gone. */
  /** Returns whether last words went out. */
  private silence(rp: RipPort, cause: string, lastWords: boolean): boolean {
    if (!rp.active) return false;
    const spoke = lastWords && this.running && !rp.passive && this.tellLink(rp, true) > 0;
    rp.active = false;
    for (const n of this.neighbours.onPort(rp.port)) {
      this.setNeighbourState(n, 'down');
      this.dropAnswer(n);
    }
    this.table.dropPort(rp.port.index, cause);
    return spoke;
  }

  /** A port starts speaking: ask for the neighbours' tables, offer ours (unless it holds them back, see advertises()). */
  private greet(rp: RipPort): void {
    if (!rp.active || rp.passive) return;
    this.refreshLocalRoutes();
    this.askLink(rp);
    if (this.advertises(rp)) this.tellLink(rp);
  }

  /** Where the port's updates go: 224.0.0.9, or each configured neighbour (unicast). */
  private destinations(rp: RipPort): Iterable<number> {
    return rp.unicast ? rp.allowed : [RIP_MULTICAST];
  }

  /** Our whole table to the link (all 16 with `poison`). Returns the datagrams sent. */
  private tellLink(rp: RipPort, poison = false): number {
    let n = 0;
    for (const dst of this.destinations(rp)) n += this.sendFullTable(rp.port, dst, RIP_PORT, poison);
    return n;
  }

  /** Ask the link's routers for their tables. */
  private askLink(rp: RipPort): void {
    for (const dst of this.destinations(rp)) this.sendRequest(rp.port, dst);
    rp.requestedAt = this.clock.now();
  }

  // ---- receiving (RFC 2453 §3.9) ----

  /** The UDP 520 handler: a Drop reason, or −1 when taken. `ip` is valid only during the call. */
  receive(port: PortView, ip: Ipv4View): number {
    try {
      const why = this.check(port, ip);
      if (why >= 0) {
        this.packetDrops[why]! += 1;
        return Drop.RIP_INVALID;
      }
      return -1;
    } catch (e) {
      // A bug must not take the router down with it; the packet is dropped and the bug logged.
      this.packetDrops[RipDrop.INTERNAL_ERROR]! += 1;
      this.ctx.log.error({ event: 'rip.error', port: port.name, err: (e as Error).stack }, 'RIP: internal error on receive');
      return Drop.RIP_INVALID;
    }
  }

  /** Returns a RipDrop reason, or −1 when the packet was processed. */
  private check(port: PortView, ip: Ipv4View): number {
    const rp = this.ripPort(port);
    if (!rp) return RipDrop.NOT_RIP_PORT;
    if (!rp.active || !this.running) return RipDrop.PORT_INACTIVE;
    const udp = this.udp.attach(ip.buf, ip.payloadOffset, ip.payloadLength);
    const src = ip.src;
    if (!udp.checksumOk(src, ip.dst)) return RipDrop.BAD_UDP;
    if (this.ctx.packets.isOwnAddress(src)) return RipDrop.OWN_SOURCE;
    // §3.9.2: a Response must come from a neighbour on the link.
    if (!port.isNeighbourAddress(src)) return RipDrop.SOURCE_NOT_ON_LINK;
    // RFC 5082: TTL 255 can only have been sent on the link itself.
    if (rp.ttlSecurity === true && ip.ttl !== GTSM_TTL) return RipDrop.BAD_TTL;
    if (rp.allowed.size > 0 && !rp.allowed.has(src)) return RipDrop.NOT_A_NEIGHBOUR;
    const rip = this.rip.attach(ip.buf, udp.off + UDP_HEADER_LEN, udp.length - UDP_HEADER_LEN);
    const valid = rip.validate();
    const srcPort = udp.srcPort;
    if (valid !== RipCheck.OK) {
      if (srcPort === RIP_PORT) this.noteBad(port, src);
      return valid;
    }
    // Authentication before anything is remembered of the sender.
    const known = this.neighbours.get(port, src);
    const failed = rp.auth.verify(rip, this.clock.now(), known && known.state !== 'down' ? known.authSequence : -1);
    if (failed !== 0) {
      if (known) known.authFailures++;
      return AUTH_DROP_BASE + failed;
    }
    if (known) {
      if (rp.auth.sequence >= 0) known.authSequence = rp.auth.sequence;
    } else if (srcPort === RIP_PORT) {
      // A router we have not heard yet: only while the port has room for it.
      if (this.neighbours.countOn(port) >= this.config.maxNeighboursPerPort) {
        this.refuseNeighbour(rp);
        return RipDrop.TOO_MANY_NEIGHBOURS;
      }
      this.noteNeighbour(rp, src).authSequence = rp.auth.sequence;
    }
    if (rip.command === RipCommand.REQUEST) return this.onRequest(rp, src, srcPort, rip);
    // §3.9.2: Responses come from the RIP port (BIRD refuses the same).
    if (srcPort !== RIP_PORT) {
      this.noteBad(port, src);
      return RipDrop.BAD_SOURCE_PORT;
    }
    return this.onResponse(rp, src, rip);
  }

  private onResponse(rp: RipPort, src: number, rip: RipView): number {
    this.counters.responsesReceived++;
    const n = this.noteNeighbour(rp, src);
    n.responses++;
    n.lastResponse = this.clock.now();
    if (n.state === 'bfd-down') {
      n.ignored++;
      this.counters.responsesIgnoredBfd++;
      return -1;
    }
    const port = rp.port;
    const count = rip.entryCount;
    for (let i = rip.firstRoute; i < count; i++) {
      const bad = rip.checkEntry(i);
      if (bad !== RipCheck.OK) {
        // §3.9.2: a bad entry is ignored; the rest of the packet still counts.
        n.badRoutes++;
        this.entryDrops[bad]! += 1;
        continue;
      }
      const hop = rip.nextHop(i);
      // §4.4: a next hop is used only if it is on the link (and not us); 0 means "via the sender".
      const nextHop = hop !== 0 && hop !== port.address && port.onLink(hop) ? hop : src;
      const metric = Math.min(RIP_INFINITY, rip.metric(i) + rp.cost);
      const prefix = rip.address(i);
      const len = maskLength(rip.mask(i));
      const before = this.table.route(port.index, src, prefix, len);
      const was = before?.state === 'active' ? before.metric : RIP_INFINITY;
      const taken = this.table.offer(port.index, src, prefix, len, nextHop, metric, rip.routeTag(i));
      if (taken === Offer.OVER_TOTAL_LIMIT || taken === Offer.OVER_NEIGHBOUR_LIMIT) {
        this.refuseRoute(n, taken);
        continue;
      }
      this.counters.entriesAccepted++;
      // Its path got worse (or went): it may want ours now, but it kept no copy.
      if (metric > was) this.answer(n, prefix, len);
    }
    return -1;
  }

  /** §3.9.1: whole-table Requests get split-horizon output; specific ones the entries, as they are. */
  private onRequest(rp: RipPort, src: number, srcPort: number, rip: RipView): number {
    this.counters.requestsReceived++;
    if (srcPort === RIP_PORT) this.noteNeighbour(rp, src).requests++;
    // A silent (passive) router answers only diagnostic queries, not routers.
    if (rp.passive && srcPort === RIP_PORT) {
      this.counters.requestsIgnoredPassive++;
      return -1;
    }
    if (rip.entryCount <= rip.firstRoute) return -1;
    if (rip.isWholeTableRequest) {
      if (srcPort !== RIP_PORT) {
        this.sendFullTable(rp.port, src, srcPort);
        return -1;
      }
      // A router we do not listen to yet (BFD not Up) gets our table when its
      // session comes Up; our Request tells it we are here (BIRD starts BFD
      // with a RIP neighbour only once it has heard from it).
      const n = this.neighbours.get(rp.port, src)!;
      if (n.state === 'up') this.sendFullTable(rp.port, src, srcPort);
      this.askBack(rp, n);
      return -1;
    }
    this.answerSpecific(rp.port, src, srcPort, rip);
    return -1;
  }

  /** Turn the Request into the Response in place: same entries, our metrics (§3.9.1). */
  private answerSpecific(port: PortView, dst: number, dstPort: number, request: RipView): void {
    // The request's route entries (not its authentication), after room for our own.
    const auth = this.ripPort(port)!.auth;
    const first = request.firstRoute;
    const count = Math.min(request.entryCount - first, auth.maxEntries);
    const len = auth.entriesOffset + count * RIP_ENTRY_LEN;
    const { bytes, off: at } = this.ctx.packets.udpPayload(RIP_MAX_AUTH_LEN);
    writeRipHeader(bytes, at, RipCommand.RESPONSE);
    copyBytes(request.buf, request.entryOffset(first), bytes, at + auth.entriesOffset, count * RIP_ENTRY_LEN);
    const reply = this.reply.attach(bytes, at, len);
    for (let i = auth.enabled ? 1 : 0; i < reply.entryCount; i++) {
      const plen = reply.afi(i) === AFI_INET ? maskLength(reply.mask(i)) : -1;
      const metric = plen < 0 ? RIP_INFINITY : this.metricFor((reply.address(i) & reply.mask(i)) >>> 0, plen);
      reply.setMetric(i, port.state === 'draining' && metric < RIP_INFINITY ? Math.max(metric, DRAIN_METRIC) : metric);
    }
    if (!this.send(port, bytes, at, dst, dstPort, len)) return;
    this.counters.responsesSent++;
    this.counters.entriesSent += count;
  }

  private noteBad(port: PortView, src: number): void {
    const n = this.neighbours.get(port, src);
    if (n) n.badPackets++;
  }

  /** A router spoke on the port: remember it, run BFD with it if asked, decide whether we listen. */
  /** A new route refused by a limit: counted; the first refusal since the limit was clear is logged. */
  private refuseRoute(n: RipNeighbour, why: number): void {
    this.counters.entriesOverLimit++;
    const total = why === Offer.OVER_TOTAL_LIMIT;
    const watch = total ? this.totalLimit : n.limit;
    if (total) n.limit.total++;
    if (!watch.refuse(this.clock.now())) return;
    const max = total ? this.config.maxRoutes : this.ripPort(n.port)?.maxRoutesPerNeighbour;
    const limit = total ? 'maxRoutes' : 'maxRoutesPerNeighbour';
    const neighbour = formatAddress(n.address);
    this.ctx.log.warn({ event: 'rip.limit', limit, max, state: 'reached', port: n.port.name, neighbour, held: this.table.heldFrom(n.port.index, n.address), total: this.table.size },
      `RIP ${limit} (${max}) reached: new routes from ${neighbour} on ${n.port.name} are refused`);
  }

  /** A packet from one router more than the port takes: counted; the first since the limit was clear is logged. */
  private refuseNeighbour(rp: RipPort): void {
    if (!rp.neighbourLimit.refuse(this.clock.now())) return;
    const max = this.config.maxNeighboursPerPort;
    this.ctx.log.warn({ event: 'rip.limit', limit: 'maxNeighboursPerPort', max, state: 'reached', port: rp.port.name },
      `RIP maxNeighboursPerPort (${max}) reached on ${rp.port.name}: packets from other routers are refused`);
  }

  /** Limits with nothing refused for a route timeout are clear again: one event each. */
  private checkLimits(): void {
    const now = this.clock.now();
    const quiet = this.timeoutMs;
    const cleared = (limit: string, max: number, w: LimitWatch, where: Record<string, string>) => {
      this.ctx.log.info({ event: 'rip.limit', limit, max, state: 'cleared', refused: w.refused, ...where },
        `RIP ${limit} (${max}) clear again${where.neighbour ? ` for ${where.neighbour}` : ''}${where.port ? ` on ${where.port}` : ''}: ${w.refused} refused meanwhile`);
    };
    if (this.totalLimit.clears(now, quiet)) cleared('maxRoutes', this.config.maxRoutes, this.totalLimit, {});
    for (const rp of this.ports) {
      if (rp.neighbourLimit.clears(now, quiet)) cleared('maxNeighboursPerPort', this.config.maxNeighboursPerPort, rp.neighbourLimit, { port: rp.port.name });
    }
    for (const n of this.neighbours.all()) {
      if (n.limit.clears(now, quiet)) {
        cleared('maxRoutesPerNeighbour', this.ripPort(n.port)?.maxRoutesPerNeighbour ?? 0, n.limit, { port: n.port.name, neighbour: formatAddress(n.address) });
      }
    }
  }

  private noteNeighbour(rp: RipPort, src: number): RipNeighbour {
    const n = this.neighbours.heard(rp.port, src, this.clock.now());
    if (rp.bfd) this.requireBfd(n);
    this.setNeighbourState(n, rp.bfd && this.liveness.state(rp.port, src) !== 'Up' ? 'bfd-down' : 'up');
    return n;
  }

  private bfdChanged(c: SessionChange): void {
    // Any session may carry a BFD-tracked static route we redistribute: re-check ours.
    this.trigger();
    const rp = this.ripPort(c.port);
    if (!rp?.bfd) return;
    const n = this.neighbours.get(c.port, c.peer);
    if (!n) return;
    if (c.to === 'Up') {
      if (n.state === 'up') return;
      this.setNeighbourState(n, 'up');
      // Listen again, and ask for its table rather than wait for its next update.
      if (this.running && rp.active) {
        this.sendRequest(rp.port, n.address);
        if (!rp.passive) this.sendFullTable(rp.port, n.address, RIP_PORT);
      }
    } else {
      this.setNeighbourState(n, 'bfd-down');
      this.table.dropNeighbour(rp.port.index, n.address, 'rip-bfd-down');
    }
  }

  private setNeighbourState(n: RipNeighbour, state: NeighbourState): void {
    if (n.state === state) return;
    const from = n.state;
    n.state = state;
    const neighbour = formatAddress(n.address);
    this.ctx.log.info({ event: 'rip.neighbour', port: n.port.name, neighbour, state, from },
      `RIP neighbour ${neighbour} on ${n.port.name}: ${state}`);
  }

  /** Neighbours silent for the timeout are down; after the garbage time too, forgotten. */
  private checkNeighbours(): void {
    const now = this.clock.now();
    for (const n of [...this.neighbours.all()]) {
      const silent = now - n.lastHeard;
      if (silent >= this.timeoutMs) this.setNeighbourState(n, 'down');
      if (silent >= this.timeoutMs + this.garbageMs) this.forget(n);
    }
  }

  private forget(n: RipNeighbour): void {
    if (n.limit.hit) {
      this.ctx.log.info({ event: 'rip.limit', limit: 'maxRoutesPerNeighbour', state: 'cleared', refused: n.limit.refused, port: n.port.name, neighbour: formatAddress(n.address) },
        `RIP maxRoutesPerNeighbour clear for ${formatAddress(n.address)} on ${n.port.name}: neighbour forgotten`);
    }
    this.dropAnswer(n);
    this.releaseBfd(n);
    this.neighbours.delete(n);
  }

  private requireBfd(n: RipNeighbour): void {
    if (n.bfdRequired) return;
    n.bfdRequired = true;
    this.liveness.require(n.port, n.address, 'rip');
  }

  private releaseBfd(n: RipNeighbour): void {
    if (!n.bfdRequired) return;
    n.bfdRequired = false;
    this.liveness.release(n.port, n.address, 'rip');
  }

  // ---- sending ----

  private speaks(rp: RipPort): boolean {
    return rp.active && !rp.passive && rp.port.state !== 'blocked';
  }

  /**
   * Whether updates go out on the port. On a port with BFD, only once some
   * neighbour's session is Up: one we do not listen to would otherwise
   * route through us before we route back to it (a real R1 that switches
   * back to R2 while R2 still drops its routes loses the replies).
   */
  private advertises(rp: RipPort): boolean {
    if (!this.speaks(rp)) return false;
    if (!rp.bfd) return true;
    for (const n of this.neighbours.onPort(rp.port)) if (n.state === 'up') return true;
    return false;
  }

  private schedulePeriodic(): void {
    const ms = this.updateMs * (1 + UPDATE_JITTER * (2 * this.clock.random() - 1));
    this.periodicTimer = this.clock.setTimer(ms, () => this.periodicUpdate());
  }

  /** §3.8: the whole table on every port, every update time. */
  private periodicUpdate(): void {
    this.schedulePeriodic();
    this.refreshLocalRoutes();
    this.checkNeighbours();
    this.checkLimits();
    for (const rp of this.ports) {
      if (this.advertises(rp)) this.tellLink(rp);
      // A BFD port with no session Up keeps knocking: the neighbour learns we are here.
      else if (this.speaks(rp)) this.askLink(rp);
    }
    this.counters.periodicUpdates++;
    // A regular update carries every change: a pending triggered one is moot (§3.10.1).
    this.clearChangeFlags();
    this.triggerPending = false;
    if (this.triggerTimer !== undefined) this.clock.clearTimer(this.triggerTimer);
    this.triggerTimer = undefined;
  }

  /**
   * §3.10.1: something changed. Sent on the next turn of the event loop (so
   * one packet's changes go out together), then at most once per damping
   * interval; never more than one pending.
   */
  private trigger(): void {
    if (!this.running || this.triggerPending) return;
    this.triggerPending = true;
    if (this.dampingTimer !== undefined || this.triggerTimer !== undefined) return;
    this.triggerTimer = this.clock.setTimer(0, () => {
      this.triggerTimer = undefined;
      this.triggeredUpdate();
    });
  }

  private triggeredUpdate(): void {
    this.triggerPending = false;
    if (!this.running) return;
    this.refreshLocalRoutes();
    if (!this.hasChanges()) return;
    for (const rp of this.ports) {
      if (!this.advertises(rp)) continue;
      for (const dst of this.destinations(rp)) {
        this.beginResponse(rp.port, dst, RIP_PORT, false);
        this.advertise(rp.port, true);
        this.endResponse();
      }
    }
    this.counters.triggeredUpdates++;
    this.clearChangeFlags();
    const scale = this.updateMs;
    this.dampingTimer = this.clock.setTimer(scale * (DAMPING_MIN + DAMPING_SPREAD * this.clock.random()), () => {
      this.dampingTimer = undefined;
      if (this.triggerPending) this.triggeredUpdate();
    });
  }

  /** The whole table out of `port` to dst:dstPort, split horizon with poisoned reverse; all 16 with `poison`. */
  private sendFullTable(port: PortView, dst: number, dstPort: number, poison = false): number {
    this.beginResponse(port, dst, dstPort, poison);
    this.advertise(port, false);
    return this.endResponse();
  }

  private sendRequest(port: PortView, dst: number): void {
    const auth = this.ripPort(port)!.auth;
    const { bytes, off } = this.ctx.packets.udpPayload(RIP_MAX_AUTH_LEN);
    const len = writeWholeTableRequest(bytes, off, auth.entriesOffset - RIP_HEADER_LEN);
    if (!this.send(port, bytes, off, dst, RIP_PORT, len)) return;
    this.counters.requestsSent++;
    const now = this.clock.now();
    if (dst === RIP_MULTICAST) {
      const rp = this.ripPort(port);
      if (rp) rp.requestedAt = now;
    } else {
      const n = this.neighbours.get(port, dst);
      if (n) n.requestedAt = now;
    }
  }

  /**
   * A neighbour asked for our whole table: it has just started RIP on the
   * link and may never have heard our own Request (FRR ripd ignores a link
   * for its first second up, then asks). Unless it answered our last
   * Request, ask it for its table now rather than wait for its next
   * update. (Two routers that both ask back stop after one round: each
   * answers before it asks, or asked a moment ago.)
   */
  private askBack(rp: RipPort, n: RipNeighbour): void {
    if (!this.running || !this.speaks(rp)) return;
    const asked = Math.max(rp.requestedAt, n.requestedAt);
    if (n.lastResponse !== null && n.lastResponse >= asked) return;
    // Two routers that hold their tables back (BFD not Up yet) answer no Request: one round only.
    if (this.clock.now() - n.requestedAt < ASK_BACK_SPACING_MS) return;
    this.sendRequest(rp.port, n.address);
    this.counters.requestsAskedBack++;
  }

  /**
   * What we advertise for prefix/len out of `port`: split horizon with
   * poisoned reverse, 16 when we have nothing (before the drain floor,
   * which addEntry applies).
   */
  private metricOut(port: PortView, prefix: number, len: number): number {
    const here = port.index;
    const l = this.locals.get(keyOf(prefix, len));
    if (l?.state === 'active') return l.port === here ? RIP_INFINITY : l.metric;
    const p = this.table.get(prefix, len);
    if (!p || p.port === here) return RIP_INFINITY;
    return p.metric;
  }

  /**
   * Neighbour `n`'s metric for prefix/len got worse: if we can offer it a
   * route, send it at once, unicast (entries of one Response batched on the
   * next turn of the event loop), then at most once per damping interval
   * (§3.10.1) per neighbour; what comes up meanwhile goes when it ends.
   */
  private answer(n: RipNeighbour, prefix: number, len: number): void {
    const rp = this.ripPort(n.port);
    if (!rp || !this.running || !this.speaks(rp)) return;
    if (this.metricOut(n.port, prefix, len) >= RIP_INFINITY) return;
    n.answerDue.add(keyOf(prefix >>> 0, len));
    if (n.answerTimer !== undefined) return;
    const wait = Math.max(0, n.answerDampedUntil - this.clock.now());
    n.answerTimer = this.clock.setTimer(wait, () => {
      n.answerTimer = undefined;
      this.sendAnswer(n);
    });
  }

  private sendAnswer(n: RipNeighbour): void {
    const rp = this.ripPort(n.port);
    const due = [...n.answerDue];
    n.answerDue.clear();
    if (!rp || !this.running || !this.speaks(rp) || n.state !== 'up') return;
    this.beginResponse(n.port, n.address, RIP_PORT, false);
    for (const key of due) {
      const { prefix, len } = prefixOfKey(key);
      const metric = this.metricOut(n.port, prefix, len);
      if (metric < RIP_INFINITY) this.addEntry(prefix, len, metric, this.tagOf(prefix, len));
    }
    if (this.endResponse() === 0) return;
    this.counters.answersSent++;
    n.answerDampedUntil = this.clock.now() + this.updateMs * (DAMPING_MIN + DAMPING_SPREAD * this.clock.random());
  }

  private dropAnswer(n: RipNeighbour): void {
    if (n.answerTimer !== undefined) this.clock.clearTimer(n.answerTimer);
    n.answerTimer = undefined;
    n.answerDue.clear();
  }

  private tagOf(prefix: number, len: number): number {
    const l = this.locals.get(keyOf(prefix, len));
    return l?.state === 'active' ? 0 : (this.table.get(prefix, len)?.tag ?? 0);
  }

  private scheduleStandby(rp: RipPort): void {
    if (rp.standbyRefresh <= 0 || !this.running) return;
    rp.standbyTimer = this.clock.setTimer(rp.standbyRefresh, () => {
      rp.standbyTimer = undefined;
      this.refreshStandby(rp);
      this.scheduleStandby(rp);
    });
  }

  /**
   * The standby refresh: to each neighbour on the port that advertises a
   * prefix to us with a finite metric — so its own route for it is not via
   * us — our entry for that prefix, unicast. A neighbour that keeps only
   * its best route ignores it until its best route goes, then takes it.
   */
  private refreshStandby(rp: RipPort): void {
    if (!this.speaks(rp)) return;
    const idx = rp.port.index;
    for (const n of this.neighbours.onPort(rp.port)) {
      if (n.state !== 'up') continue;
      this.beginResponse(rp.port, n.address, RIP_PORT, false);
      for (const p of this.table.prefixes()) {
        let theirs = false;
        for (const r of p.routes) if (r.port === idx && r.neighbour === n.address && r.state === 'active') theirs = true;
        if (!theirs) continue;
        const metric = this.metricOut(rp.port, p.prefix, p.len);
        if (metric < RIP_INFINITY) this.addEntry(p.prefix, p.len, metric, this.tagOf(p.prefix, p.len));
      }
      if (this.endResponse() > 0) this.counters.standbyRefreshes++;
    }
  }

  /**
   * Send the RIP message written at bytes[off…off+ripLen) (from udpPayload,
   * room left for the port's authentication) now, from our port address,
   * TOS 0xc0, TTL 1 (255 with GTSM). False when the port authenticates and
   * has no key to send with now.
   */
  private send(port: PortView, bytes: Uint8Array, off: number, dst: number, dstPort: number, ripLen: number): boolean {
    const rp = this.ripPort(port)!;
    const len = rp.auth.sign(bytes, off, ripLen, this.clock.now());
    if (len < 0) {
      this.counters.sendsWithoutKey++;
      return false;
    }
    const ttl = rp.ttlSecurity === false ? RIP_TTL : GTSM_TTL;
    this.ctx.packets.sendUdp(port, off, len, { dst, srcPort: RIP_PORT, dstPort, ttl, tos: RIP_TOS });
    return true;
  }

  /**
   * Emit what we advertise out of `port` (only changed routes with
   * `onlyChanged`). A route reached through `port` goes back as 16
   * (poisoned reverse, §3.4.3).
   */
  private advertise(port: PortView, onlyChanged: boolean): void {
    const here = port.index;
    for (const l of this.locals.values()) {
      if (l.state !== 'active' || (onlyChanged && !l.changed)) continue;
      this.addEntry(l.prefix, l.len, l.port === here ? RIP_INFINITY : l.metric, 0);
    }
    // Learned: the best route's metric (16 while all are in garbage collection), poisoned on its own port.
    for (const p of this.table.prefixes()) {
      const l = this.locals.get(keyOf(p.prefix, p.len));
      if (l?.state === 'active') continue;
      if (onlyChanged && !p.changed && !l?.changed) continue;
      this.addEntry(p.prefix, p.len, p.port === here ? RIP_INFINITY : p.metric, p.tag);
    }
    for (const l of this.locals.values()) {
      if (l.state !== 'garbage' || (onlyChanged && !l.changed) || this.table.get(l.prefix, l.len)) continue;
      this.addEntry(l.prefix, l.len, RIP_INFINITY, 0);
    }
  }

  /** What we would tell anyone about exactly prefix/len (no split horizon). */
  metricFor(prefix: number, len: number): number {
    const l = this.locals.get(keyOf(prefix, len));
    if (l?.state === 'active') return l.metric;
    return this.table.best(prefix, len)?.metric ?? RIP_INFINITY;
  }

  // A Response is written straight into the arena's scratch ring, ≤ 25
  // entries per datagram, each datagram sent as soon as it is full.
  private beginResponse(port: PortView, dst: number, dstPort: number, poison: boolean): void {
    this.wPort = port;
    this.wAuth = this.ripPort(port)!.auth;
    this.wDst = dst;
    this.wDstPort = dstPort;
    this.wPoison = poison;
    this.wOff = -1;
    this.wCount = 0;
    this.wPackets = 0;
  }

  private addEntry(prefix: number, len: number, metric: number, tag: number): void {
    if (this.wOff < 0) {
      const room = this.ctx.packets.udpPayload(RIP_MAX_AUTH_LEN);
      this.wBytes = room.bytes;
      this.wOff = room.off;
    }
    const auth = this.wAuth!;
    const at = this.wOff + auth.entriesOffset + this.wCount * RIP_ENTRY_LEN;
    // A draining port asks its neighbours to prefer any other path (see DRAIN_METRIC).
    const floor = this.wPort!.state === 'draining' && metric < RIP_INFINITY ? Math.max(metric, DRAIN_METRIC) : metric;
    writeRipEntry(this.wBytes, at, prefix, len, 0, this.wPoison ? RIP_INFINITY : floor, tag);
    if (++this.wCount === auth.maxEntries) this.flushResponse();
  }

  private flushResponse(): void {
    if (this.wCount === 0 || !this.wPort) return;
    const payload = this.wAuth!.entriesOffset + this.wCount * RIP_ENTRY_LEN;
    writeRipHeader(this.wBytes, this.wOff, RipCommand.RESPONSE);
    if (this.send(this.wPort, this.wBytes, this.wOff, this.wDst, this.wDstPort, payload)) {
      this.counters.responsesSent++;
      this.counters.entriesSent += this.wCount;
      this.wPackets++;
    }
    this.wOff = -1;
    this.wCount = 0;
  }

  private endResponse(): number {
    this.flushResponse();
    this.wPort = undefined;
    this.wAuth = undefined;
    return this.wPackets;
  }

  // ---- redistributed routes ----

  /**
   * Bring `locals` in line with the connected/static routes the RIB selects
   * now; one that is no longer selected is advertised as 16 for the garbage
   * time. Returns whether anything changed.
   */
  refreshLocalRoutes(): boolean {
    const want = this.config.redistribute as readonly string[];
    const now = this.clock.now();
    let changed = false;
    const seen = new Set<number>();
    if (want.length > 0) {
      for (const r of this.ctx.table.selected(want)) {
        const key = keyOf(r.prefix, r.len);
        seen.add(key);
        const metric = r.source === 'connected' ? 1 : Math.min(Math.max(r.metric, 1), RIP_INFINITY - 1);
        const l = this.locals.get(key);
        if (!l) {
          this.locals.set(key, { prefix: r.prefix, len: r.len, port: r.port, metric, source: r.source, state: 'active', deadline: 0, changed: true });
          changed = true;
        } else if (l.state !== 'active' || l.metric !== metric || l.port !== r.port) {
          Object.assign(l, { port: r.port, metric, source: r.source, state: 'active', deadline: 0, changed: true });
          changed = true;
        }
      }
    }
    for (const [key, l] of this.locals) {
      if (seen.has(key)) continue;
      if (l.state === 'active') {
        Object.assign(l, { state: 'garbage', metric: RIP_INFINITY, deadline: now + this.garbageMs, changed: true });
        changed = true;
      } else if (l.deadline <= now) {
        this.locals.delete(key);
      }
    }
    return changed;
  }

  private hasChanges(): boolean {
    if (this.table.hasChanges) return true;
    for (const l of this.locals.values()) if (l.changed) return true;
    return false;
  }

  private clearChangeFlags(): void {
    this.table.clearChangeFlags();
    for (const l of this.locals.values()) l.changed = false;
  }

  private logRoute(r: LearnedRoute, change: RouteChange, cause: string, best: boolean): void {
    // FIB effects are logged by the RIB (route.installed/withdrawn/changed); this is RIP's own view.
    const log = this.ctx.log;
    if (!log.isLevelEnabled('debug')) return;
    log.debug({
      event: 'rip.route', change, cause, prefix: formatPrefix(r.prefix, r.len), metric: r.metric,
      port: this.ctx.ports[r.port]?.name, neighbour: formatAddress(r.neighbour), nextHop: formatAddress(r.nextHop), best,
    }, `RIP ${formatPrefix(r.prefix, r.len)}: ${change}`);
  }
}
