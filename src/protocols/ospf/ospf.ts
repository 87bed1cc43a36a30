// OSPFv2 (RFC 2328) in area 0 on the router's ports, on nothing but the core
// interface: packets of IP protocol 89 in and out through PacketIo, routes
// into the RIB through its RouteChannel (distance 110), connected and static
// routes read from the RouteTableView to redistribute, neighbour liveness
// from BFD. This file holds the instance together — ports, the receive
// checks (§8.2) and dispatch, sending, the clocks, BFD coupling, port
// events; the concerns live beside it: adjacency.ts (Hellos, the neighbour
// state machine, database exchange), flooding.ts (updates, acknowledgments,
// retransmission, aging), origination.ts (our LSAs), spf.ts (the routing
// table), routes.ts (the RIB), interface.ts (DR election), auth.ts.
//
// Fast convergence: a BFD Down drops the adjacency at once, and a blocked
// port first says a Hello that lists no neighbour (the peer's adjacency goes
// 1-Way), then our router LSA without the link is flooded and SPF runs, all
// before the port goes silent. SPF's root is our router LSA as it would be
// originated now, so our own routes never wait for MinLSInterval.
import type { OspfConfig, OspfPortConfig } from '../../config/router-config.js';
import type { Clock, TimerHandle } from '../../control/clock.js';
import type { NeighbourLiveness, SessionChange } from '../../control/liveness.js';
import type { PortView, ProtocolContext, RouterPlugin } from '../../control/protocol.js';
import { formatAddress } from '../../net/addr.js';
import { Drop } from '../../packet/drops.js';
import type { Ipv4View } from '../../wire/ipv4.js';
import { IPV4_HEADER_LEN } from '../../wire/ipv4.js';
import { LSA_CHECK_NAMES, LsaType } from '../../wire/ospf-lsa.js';
import {
  ALL_D_ROUTERS, ALL_SPF_ROUTERS, OSPF_CHECK_NAMES, OSPF_PROTOCOL, OSPF_TYPE_NAMES, OspfCheck, OspfOption, OspfType, OspfView, writeOspfHeader,
} from '../../wire/ospf.js';
import { Adjacency } from './adjacency.js';
import { AUTH_FAILURE_NAMES, AuthFailure } from './auth.js';
import { Flooding } from './flooding.js';
import { IF_STATE_NAMES, IfState, OspfInterface } from './interface.js';
import { Lsdb } from './lsdb.js';
import { NBR_STATE_NAMES, NbrState, type OspfNeighbour } from './neighbour.js';
import { Originator } from './origination.js';
import { OspfRibSync } from './routes.js';
import { runSpf, type SpfResult } from './spf.js';

/** Administrative distance of OSPF routes (as Cisco and FRR number it). */
export const OSPF_DISTANCE = 110;
export const BACKBONE = 0;
/** Options we send and require: E (AS-external LSAs flood here: area 0 is no stub). */
export const OUR_OPTIONS = OspfOption.E;
/** Link-local, internetwork control precedence, as BIRD and FRR send. */
const OSPF_TTL = 1;
const OSPF_TOS = 0xc0;
/** SPF runs at most this often while the database keeps changing (a lost adjacency does not wait: scheduleSpf). */
const SPF_HOLD_MS = 50;

const AUTH_AT = OSPF_CHECK_NAMES.length;
const AFTER_AUTH = AUTH_AT + AUTH_FAILURE_NAMES.length - 1;
/** Why a received packet was not taken: the wire checks, authentication, then ours. */
export const OSPF_DROP_NAMES: readonly string[] = [
  ...OSPF_CHECK_NAMES,
  ...AUTH_FAILURE_NAMES.slice(1),
  'not-ospf-port', 'port-inactive', 'own-source', 'wrong-destination', 'source-not-on-link', 'wrong-area', 'own-router-id',
  'hello-mask-mismatch', 'hello-interval-mismatch', 'dead-interval-mismatch', 'options-mismatch', 'unknown-neighbour',
  'neighbour-state', 'mtu-mismatch', 'bfd-down', 'internal-error',
];
export const OspfDrop = {
  AUTH: AUTH_AT - 1,
  NOT_OSPF_PORT: AFTER_AUTH,
  PORT_INACTIVE: AFTER_AUTH + 1,
  OWN_SOURCE: AFTER_AUTH + 2,
  WRONG_DESTINATION: AFTER_AUTH + 3,
  SOURCE_NOT_ON_LINK: AFTER_AUTH + 4,
  WRONG_AREA: AFTER_AUTH + 5,
  OWN_ROUTER_ID: AFTER_AUTH + 6,
  HELLO_MASK: AFTER_AUTH + 7,
  HELLO_INTERVAL: AFTER_AUTH + 8,
  DEAD_INTERVAL: AFTER_AUTH + 9,
  OPTIONS: AFTER_AUTH + 10,
  UNKNOWN_NEIGHBOUR: AFTER_AUTH + 11,
  NEIGHBOUR_STATE: AFTER_AUTH + 12,
  MTU_MISMATCH: AFTER_AUTH + 13,
  BFD_DOWN: AFTER_AUTH + 14,
  INTERNAL_ERROR: AFTER_AUTH + 15,
} as const;

/** LSAs refused: the wire checks, then ours. */
export const OSPF_LSA_DROP_NAMES: readonly string[] = [...LSA_CHECK_NAMES, 'lsdb-full', 'min-ls-arrival'];
export const LsaDrop = { LSDB_FULL: LSA_CHECK_NAMES.length, MIN_LS_ARRIVAL: LSA_CHECK_NAMES.length + 1 } as const;

export interface OspfCounters {
  received: Record<string, number>;
  sent: Record<string, number>;
  lsasInstalled: number;
  lsasOriginated: number;
  lsasFlushed: number;
  lsasRetransmitted: number;
  spfRuns: number;
  lastSpfMs: number;
  lastSpfAt: number;
  /** Packets not sent: the port authenticates and no key was valid for sending. */
  sendsWithoutKey: number;
}

/** The highest port address: the Router ID when the config names none. */
export function defaultRouterId(ports: readonly PortView[]): number {
  return ports.reduce((m, p) => Math.max(m, p.address >>> 0), 0);
}

export class OspfProtocol implements RouterPlugin {
  readonly name = 'ospf';
  config: OspfConfig;
  readonly routerId: number;
  readonly interfaces: OspfInterface[] = [];
  readonly lsdb: Lsdb;
  readonly ribSync: OspfRibSync;
  readonly adjacency: Adjacency;
  readonly flooding: Flooding;
  readonly originator: Originator;
  readonly clock: Clock;
  readonly liveness: NeighbourLiveness;
  readonly counters: OspfCounters = {
    received: {}, sent: {}, lsasInstalled: 0, lsasOriginated: 0, lsasFlushed: 0, lsasRetransmitted: 0, spfRuns: 0, lastSpfMs: 0, lastSpfAt: 0, sendsWithoutKey: 0,
  };
  readonly packetDrops = new Float64Array(OSPF_DROP_NAMES.length);
  readonly lsaDrops = new Float64Array(OSPF_LSA_DROP_NAMES.length);
  /** The last SPF result (routers reached, routes). */
  spf: SpfResult = { routes: new Map(), routers: new Map() };
  running = false;

  private readonly byPort: (OspfInterface | undefined)[] = [];
  private readonly view = new OspfView();
  private spfTimer: TimerHandle | undefined;
  /** When the pending SPF run (spfTimer) is due. */
  private spfDue = 0;
  private lastSpf = -Infinity;
  /** The draining ports the last SPF run left out. */
  private drainingAtSpf = '';
  private agingTimer: TimerHandle | undefined;

  constructor(readonly ctx: ProtocolContext, config: OspfConfig) {
    this.config = config;
    this.clock = ctx.clock;
    this.liveness = ctx.liveness;
    // The highest OSPF port address (of any port if OSPF has none yet): stable across restarts, unique in the network.
    const own = config.ports.map((p) => ctx.port(p.port));
    this.routerId = (config.routerId ?? defaultRouterId(own.length > 0 ? own : ctx.ports)) >>> 0;
    this.lsdb = new Lsdb(config.lsdbLimit);
    this.ribSync = new OspfRibSync(ctx.routes);
    this.adjacency = new Adjacency(this);
    this.flooding = new Flooding(this);
    this.originator = new Originator(this);
    for (const pc of config.ports) this.addInterface(pc);
    ctx.packets.listenIp(OSPF_PROTOCOL, (port, ip) => this.receive(port, ip));
    this.liveness.onChange((c) => this.bfdChanged(c));
    // Connected and static routes we redistribute come and go with the RIB.
    ctx.table.onChange((before, after) => {
      // A draining port takes no new flows: SPF finds the next-best path without it (running flows stay pinned to it).
      if (this.drainingPorts() !== this.drainingAtSpf) this.scheduleSpf('port-draining');
      const src = after?.source ?? before?.source;
      if (src !== undefined && src !== ctx.routes.source && this.config.redistribute.some((r) => r.source === src)) this.originator.schedule();
    });
  }

  get log() {
    return this.ctx.log;
  }

  private addInterface(pc: OspfPortConfig): OspfInterface {
    const port = this.ctx.port(pc.port);
    const iface = new OspfInterface(port, pc);
    this.byPort[port.index] = iface;
    this.interfaces.push(iface);
    return iface;
  }

  interfaceOf(port: PortView): OspfInterface | undefined {
    return this.byPort[port.index];
  }

  /** Whether `addr` is the address of one of our OSPF interfaces (a network LSA with that id is ours). */
  isOurInterfaceAddress(addr: number): boolean {
    return this.interfaces.some((i) => i.address === addr >>> 0);
  }

  // ---- RouterPlugin ----

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const iface of this.interfaces) if (this.portUsable(iface.port)) this.interfaceUp(iface);
    this.originator.sync(true);
    this.agingTimer = this.clock.setTimer(1000, () => this.agingTick());
    this.log.info({ event: 'ospf.started', routerId: formatAddress(this.routerId), ports: this.interfaces.map((i) => i.port.name) },
      `OSPF started, router id ${formatAddress(this.routerId)}`);
  }

  stop(): void {
    if (!this.running) return;
    // Graceful: neighbours hear a Hello without them (their adjacency ends now, not at the dead interval).
    for (const iface of this.interfaces) {
      if (iface.speaks) this.adjacency.sendHello(iface, true);
      this.interfaceDown(iface, 'ospf-stopped', false);
    }
    this.running = false;
    for (const t of [this.spfTimer, this.agingTimer]) if (t !== undefined) this.clock.clearTimer(t);
    this.spfTimer = this.agingTimer = undefined;
    this.originator.stop();
    this.ribSync.clear('ospf-stopped');
  }

  portBlocked(port: PortView): void {
    const iface = this.interfaceOf(port);
    if (!iface || !iface.up) return;
    // Last words: a Hello that lists nobody takes the peers' adjacencies down (1-WayReceived).
    if (iface.speaks && this.running) this.adjacency.sendHello(iface, true);
    this.interfaceDown(iface, 'port-blocked', true);
  }

  /**
   * A draining port is no first hop for new paths: SPF again without it. Its
   * routes stay usable as the router's last resort, so the drain itself may
   * change nothing in the table — the table's own change hook is not enough.
   * At once, not after the hold time: a new flow that arrives in between
   * would still take the draining port (one operator action, no storm).
   */
  portDraining(port: PortView): void {
    if (this.interfaceOf(port)) this.runSpfNow('port-draining');
  }

  portUnblocked(port: PortView): void {
    const iface = this.interfaceOf(port);
    if (iface && !iface.up && this.running) {
      this.interfaceUp(iface);
      this.originator.schedule();
    }
  }

  portDown(port: PortView): void {
    const iface = this.interfaceOf(port);
    if (iface?.up) this.interfaceDown(iface, 'port-down', true);
  }

  portRestored(port: PortView): void {
    if (port.state !== 'blocked') this.portUnblocked(port);
  }

  private portUsable(port: PortView): boolean {
    return port.state === 'up' || port.state === 'draining';
  }

  /** InterfaceUp (§9.3): Hellos start; a broadcast interface waits to learn the DR first. */
  interfaceUp(iface: OspfInterface): void {
    if (iface.up) return;
    if (iface.pointToPoint) this.setInterfaceState(iface, IfState.POINT_TO_POINT);
    else if (iface.config.priority === 0 || iface.passive) this.setInterfaceState(iface, IfState.DR_OTHER);
    else {
      this.setInterfaceState(iface, IfState.WAITING);
      iface.waitTimer = this.clock.setTimer(iface.config.deadInterval * 1000, () => {
        iface.waitTimer = undefined;
        if (iface.state === IfState.WAITING) this.adjacency.electDr(iface);
      });
    }
    if (iface.speaks) this.adjacency.startHellos(iface);
  }

  /** InterfaceDown (§9.3): every neighbour on it goes, our LSAs without it are flooded at once, SPF runs. */
  interfaceDown(iface: OspfInterface, cause: string, urgent: boolean): void {
    if (!iface.up) return;
    for (const n of [...iface.neighbours.values()]) this.adjacency.deleteNeighbour(n, cause);
    for (const t of [iface.helloTimer, iface.waitTimer, iface.ackTimer]) if (t !== undefined) this.clock.clearTimer(t);
    iface.helloTimer = iface.waitTimer = iface.ackTimer = undefined;
    iface.delayedAcks.length = 0;
    iface.outbox.length = 0;
    iface.dr = iface.bdr = 0;
    this.setInterfaceState(iface, IfState.DOWN);
    if (!this.running) return;
    if (urgent) {
      this.originator.sync(false, true);
      this.flooding.flushOutboxes();
      this.runSpfNow(cause);
    } else {
      this.originator.schedule();
    }
  }

  setInterfaceState(iface: OspfInterface, state: number): void {
    if (iface.state === state) return;
    const from = iface.state;
    iface.state = state;
    this.log.info({
      event: 'ospf.interface', port: iface.port.name, from: IF_STATE_NAMES[from], to: IF_STATE_NAMES[state],
      dr: iface.dr ? formatAddress(iface.dr) : undefined, bdr: iface.bdr ? formatAddress(iface.bdr) : undefined,
    }, `OSPF interface ${iface.port.name}: ${IF_STATE_NAMES[state]}`);
  }

  // ---- receiving (§8.2) ----

  /** The IP protocol 89 handler: a Drop reason, or −1 when taken. `ip` is valid only during the call. */
  receive(port: PortView, ip: Ipv4View): number {
    try {
      const why = this.check(port, ip);
      this.flooding.flushOutboxes();
      this.flooding.flushDirectAcks();
      if (why >= 0) {
        this.packetDrops[why]! += 1;
        return Drop.OSPF_INVALID;
      }
      return -1;
    } catch (e) {
      // A bug must not take the router down with it: the packet is dropped and the bug logged.
      this.packetDrops[OspfDrop.INTERNAL_ERROR]! += 1;
      this.log.error({ event: 'ospf.error', port: port.name, err: (e as Error).stack }, 'OSPF: internal error on receive');
      return Drop.OSPF_INVALID;
    }
  }

  private check(port: PortView, ip: Ipv4View): number {
    const iface = this.interfaceOf(port);
    if (!iface) return OspfDrop.NOT_OSPF_PORT;
    if (!this.running || !iface.speaks) return OspfDrop.PORT_INACTIVE;
    const src = ip.src, dst = ip.dst;
    if (this.ctx.packets.isOwnAddress(src)) return OspfDrop.OWN_SOURCE;
    if (dst === ALL_D_ROUTERS ? iface.state !== IfState.DR && iface.state !== IfState.BACKUP : dst !== ALL_SPF_ROUTERS && dst !== iface.address) {
      return OspfDrop.WRONG_DESTINATION;
    }
    if (!iface.pointToPoint && !port.isNeighbourAddress(src)) return OspfDrop.SOURCE_NOT_ON_LINK;
    const p = this.view.attach(ip.buf, ip.payloadOffset, ip.payloadLength);
    const valid = p.validate();
    if (valid !== OspfCheck.OK) return valid;
    if (p.areaId !== BACKBONE) return OspfDrop.WRONG_AREA;
    const rid = p.routerId;
    if (rid === this.routerId) return OspfDrop.OWN_ROUTER_ID;
    const auth = iface.auth.verify(p, this.clock.now(), iface.cryptoSequences.get(rid) ?? -1);
    if (auth !== AuthFailure.OK) return OspfDrop.AUTH + auth;
    if (iface.auth.trailer > 0) {
      iface.cryptoSequences.set(rid, p.cryptoSequence);
      iface.cryptoKeys.set(rid, iface.auth.keyId);
    }
    const type = OSPF_TYPE_NAMES[p.type]!;
    this.counters.received[type] = (this.counters.received[type] ?? 0) + 1;
    if (p.type === OspfType.HELLO) return this.adjacency.onHello(iface, src, p);
    const n = iface.pointToPoint ? iface.neighbours.get(rid) : iface.neighbours.get(src);
    if (!n || n.routerId !== rid) return OspfDrop.UNKNOWN_NEIGHBOUR;
    if (iface.pointToPoint) n.address = src;
    switch (p.type) {
      case OspfType.DD: return this.adjacency.onDatabaseDescription(n, p);
      case OspfType.LSR: return this.adjacency.onRequest(n, p);
      case OspfType.LSU: return this.flooding.onUpdate(n, p);
      default: return this.flooding.onAck(n, p);
    }
  }

  // ---- sending ----

  /** Room for one packet on `iface` with its header written; the body goes at off + 24, up to `max` bytes of OSPF packet. */
  beginPacket(iface: OspfInterface, type: number): { bytes: Uint8Array; off: number; max: number } {
    const max = iface.port.mtu - IPV4_HEADER_LEN - iface.auth.trailer;
    const room = this.ctx.packets.ipPayload(max + iface.auth.trailer);
    writeOspfHeader(room.bytes, room.off, type, this.routerId, BACKBONE);
    return { bytes: room.bytes, off: room.off, max };
  }

  /** Sign and send the packet of `len` bytes written at `off` (from beginPacket); false when no key may be sent now. */
  sendPacket(iface: OspfInterface, bytes: Uint8Array, off: number, len: number, dst: number): boolean {
    const total = iface.auth.sign(bytes, off, len, this.clock.now());
    if (total < 0) {
      this.counters.sendsWithoutKey++;
      return false;
    }
    const type = OSPF_TYPE_NAMES[bytes[off + 1]!]!;
    this.counters.sent[type] = (this.counters.sent[type] ?? 0) + 1;
    return this.ctx.packets.sendIp(iface.port, off, total, { dst, protocol: OSPF_PROTOCOL, ttl: OSPF_TTL, tos: OSPF_TOS });
  }

  /** Where packets to one neighbour go: the multicast group on point-to-point links, its address elsewhere. */
  neighbourDestination(n: OspfNeighbour): number {
    return n.iface.pointToPoint ? ALL_SPF_ROUTERS : n.address;
  }

  // ---- BFD ----

  requireBfd(n: OspfNeighbour): void {
    if (n.bfdRequired || !n.iface.config.bfd) return;
    n.bfdRequired = true;
    this.liveness.require(n.iface.port, n.address, 'ospf');
  }

  releaseBfd(n: OspfNeighbour): void {
    if (!n.bfdRequired) return;
    n.bfdRequired = false;
    this.liveness.release(n.iface.port, n.address, 'ospf');
  }

  bfdState(n: OspfNeighbour): string | null {
    return n.iface.config.bfd ? this.liveness.state(n.iface.port, n.address) ?? null : null;
  }

  private bfdChanged(c: SessionChange): void {
    const iface = this.interfaceOf(c.port);
    if (!iface?.config.bfd) return;
    const n = [...iface.neighbours.values()].find((x) => x.address === c.peer);
    if (!n) return;
    if (c.to === 'Up') {
      n.bfdWasUp = true;
      const held = n.bfdHeld;
      n.bfdHeld = false;
      if (held && iface.speaks && this.running) {
        // Back after a BFD Down: say Hello now rather than a Hello interval later, and take what it said meanwhile.
        this.adjacency.sendHello(iface, false);
        this.adjacency.bfdReleased(n);
        this.flooding.flushOutboxes();
        this.flooding.flushDirectAcks();
      }
      return;
    }
    if (c.from !== 'Up') return;
    // A BFD Down drops the adjacency at once; it goes no further than Init until BFD is Up again.
    n.bfdHeld = true;
    n.heldHeardUs = false;
    n.heldDd = null;
    this.log.info({ event: 'ospf.bfd-down', port: iface.port.name, neighbour: formatAddress(n.routerId), diagnostic: c.diagnostic },
      `OSPF neighbour ${formatAddress(n.routerId)} on ${iface.port.name}: BFD ${c.to} (${c.diagnostic})`);
    this.adjacency.killNeighbour(n, 'bfd-down');
  }

  // ---- SPF ----

  /**
   * Something that routing depends on changed: SPF soon (at once unless it
   * ran within the hold time). `urgent` (a lost adjacency): on the next
   * turn whatever the hold time — routes through a neighbour that is gone
   * must not wait up to 50 ms. Those cannot come in a storm: each needs an
   * adjacency that reached Full first.
   */
  scheduleSpf(cause = 'lsdb-changed', urgent = false): void {
    if (!this.running) return;
    const now = this.clock.now();
    const wait = urgent ? 0 : Math.max(0, this.lastSpf + SPF_HOLD_MS - now);
    if (this.spfTimer !== undefined) {
      // One already due as soon: it serves (and keeps its cause).
      if (this.spfDue <= now + wait) return;
      this.clock.clearTimer(this.spfTimer);
    }
    this.spfDue = now + wait;
    this.spfTimer = this.clock.setTimer(wait, () => {
      this.spfTimer = undefined;
      this.runSpfNow(cause);
    });
  }

  runSpfNow(cause: string): void {
    if (!this.running) return;
    if (this.spfTimer !== undefined) this.clock.clearTimer(this.spfTimer);
    this.spfTimer = undefined;
    const t0 = performance.now();
    this.drainingAtSpf = this.drainingPorts();
    const root = this.originator.spfRoot();
    this.spf = runSpf(this.lsdb, root);
    const changed = this.ribSync.apply(this.spf.routes, `ospf-${cause}`);
    const ms = performance.now() - t0;
    this.lastSpf = this.clock.now();
    this.counters.spfRuns++;
    this.counters.lastSpfMs = ms;
    this.counters.lastSpfAt = this.lastSpf;
    this.log.info({
      event: 'ospf.spf', cause, durationMs: Math.round(ms * 1000) / 1000, lsas: this.lsdb.size, routers: this.spf.routers.size, routes: this.spf.routes.size, changed,
    }, `OSPF SPF (${cause}): ${this.spf.routes.size} routes, ${changed} changed, ${ms.toFixed(2)} ms`);
  }

  private drainingPorts(): string {
    return this.interfaces.filter((i) => i.port.state === 'draining').map((i) => i.port.index).join(',');
  }

  // ---- aging (§14) ----

  private agingTick(): void {
    this.agingTimer = this.clock.setTimer(1000, () => this.agingTick());
    this.flooding.age();
    this.flooding.flushOutboxes();
  }

  // ---- reload ----

  /**
   * A reloaded config: per-port cost, passive, timers, network type,
   * priority, BFD and authentication change in place (an interface whose
   * network type, timers, passivity or authentication type changed
   * restarts its adjacencies; keys added, removed or re-timed do not — that
   * is how keys roll over);
   * ports join and leave; redistribution and the database limit follow.
   * The Router ID cannot change while running.
   */
  reconfigure(next: OspfConfig): void {
    this.config = next;
    this.lsdb.limit = next.lsdbLimit;
    const wanted = new Map(next.ports.map((pc) => [pc.port, pc]));
    for (const iface of [...this.interfaces]) {
      const pc = wanted.get(iface.port.name);
      if (pc && this.ctx.port(pc.port) === iface.port) continue;
      if (iface.speaks && this.running) this.adjacency.sendHello(iface, true);
      this.interfaceDown(iface, 'ospf-port-removed', false);
      this.interfaces.splice(this.interfaces.indexOf(iface), 1);
      this.byPort[iface.port.index] = undefined;
    }
    for (const pc of next.ports) {
      const iface = this.interfaces.find((i) => i.port.name === pc.port);
      if (!iface) {
        const added = this.addInterface(pc);
        if (this.running && this.portUsable(added.port)) this.interfaceUp(added);
        continue;
      }
      const old = iface.config;
      const restart = old.network !== pc.network || old.helloInterval !== pc.helloInterval || old.deadInterval !== pc.deadInterval ||
        old.passive !== pc.passive || old.auth.type !== pc.auth.type;
      if (restart && iface.up) {
        if (iface.speaks) this.adjacency.sendHello(iface, true);
        this.interfaceDown(iface, 'ospf-reconfigured', false);
      }
      iface.setConfig(pc);
      if (old.bfd !== pc.bfd) {
        for (const n of iface.neighbours.values()) {
          if (pc.bfd) this.requireBfd(n);
          else {
            this.releaseBfd(n);
            n.bfdHeld = false;
            n.heldDd = null;
          }
        }
      }
      if (this.running && !iface.up && this.portUsable(iface.port)) this.interfaceUp(iface);
    }
    this.originator.schedule();
    this.scheduleSpf('reconfigured');
  }

  neighbourText(n: OspfNeighbour): string {
    return `${formatAddress(n.routerId)} on ${n.iface.port.name}`;
  }

  logNeighbour(n: OspfNeighbour, from: number, event: string): void {
    this.log.info({
      event: 'ospf.neighbour', port: n.iface.port.name, neighbour: formatAddress(n.routerId), address: formatAddress(n.address),
      from: NBR_STATE_NAMES[from], to: NBR_STATE_NAMES[n.state], cause: event,
    }, `OSPF neighbour ${this.neighbourText(n)}: ${NBR_STATE_NAMES[from]} → ${NBR_STATE_NAMES[n.state]} (${event})`);
  }

  /** Whether any neighbour is exchanging databases (MaxAge LSAs stay while one is, §14). */
  anyExchanging(): boolean {
    return this.interfaces.some((i) => [...i.neighbours.values()].some((n) => n.state === NbrState.EXCHANGE || n.state === NbrState.LOADING));
  }

  /** Router and network LSAs of this router's own, for the API. */
  isSelfOriginated(type: number, id: number, adv: number): boolean {
    return adv === this.routerId || (type === LsaType.NETWORK && this.isOurInterfaceAddress(id));
  }
}
