// BFD on the router's ports (RFC 5880 asynchronous mode over RFC 5881
// single-hop IPv4): the sessions, keyed by (port, peer address), their
// packets on UDP 3784 and their timers; and NeighbourLiveness, the service
// the router (for BFD-tracked routes) and RIP (per neighbour) use.
//
// Sessions come from `bfd.sessions` in the config and from require(): the
// router requires one per next hop of its BFD-tracked routes, RIP one per
// neighbour on a port with `bfd`.
//
// Authentication (RFC 5880 §6.7) is per session: the session's own in
// `bfd.sessions`, else its port's in `bfd.ports`, else `bfd.auth`. A packet
// that fails it is dropped and counted by reason before the session sees it.
import { isDeepStrictEqual } from 'node:util';
import type { AuthConfig, BfdAuthType, BfdConfig } from '../../config/router-config.js';
import type { Clock } from '../../control/clock.js';
import type { BfdState, NeighbourLiveness, SessionChange } from '../../control/liveness.js';
import type { PortView, ProtocolContext, RouterPlugin } from '../../control/protocol.js';
import { Drop, namedCounts } from '../../packet/drops.js';
import { formatAddress, portAddressKey } from '../../net/addr.js';
import {
  BFD_CHECK_NAMES, BFD_CONTROL_LEN, BFD_CONTROL_PORT, BFD_MAX_AUTH_LEN, BFD_SOURCE_PORT_MAX, BFD_SOURCE_PORT_MIN,
  BfdControlView, BfdStateCode as S, Diag, STATE_NAMES, diagName,
} from '../../wire/bfd.js';
import type { Ipv4View } from '../../wire/ipv4.js';
import { UDP_HEADER_LEN, UdpView } from '../../wire/udp.js';
import { BfdAuth } from './auth.js';
import { BfdSession, type SessionEnv, type SessionTimer } from './session.js';

/** RFC 5881 §5: single-hop packets are sent, and must arrive, with TTL 255 (GTSM). */
const BFD_TTL = 255;
/** Internetwork control precedence, as BIRD and FRR send. */
const BFD_TOS = 0xc0;

/**
 * Why a received packet was not used: the wire checks (BfdCheck codes 1–9)
 * followed by the checks that need the port or the sessions.
 */
export const BfdDrop = {
  BAD_TTL: BFD_CHECK_NAMES.length,
  OFF_LINK_SOURCE: BFD_CHECK_NAMES.length + 1,
  WRONG_DESTINATION: BFD_CHECK_NAMES.length + 2,
  BAD_UDP: BFD_CHECK_NAMES.length + 3,
  UNKNOWN_DISCRIMINATOR: BFD_CHECK_NAMES.length + 4,
  NO_SESSION: BFD_CHECK_NAMES.length + 5,
  WRONG_PEER: BFD_CHECK_NAMES.length + 6,
  ADMIN_DOWN: BFD_CHECK_NAMES.length + 7,
  INTERNAL_ERROR: BFD_CHECK_NAMES.length + 8,
  // Authentication (BfdAuthFailure + AUTH_MISSING − 1).
  AUTH_MISSING: BFD_CHECK_NAMES.length + 9,
  AUTH_NOT_CONFIGURED: BFD_CHECK_NAMES.length + 10,
  AUTH_WRONG_TYPE: BFD_CHECK_NAMES.length + 11,
  AUTH_UNKNOWN_KEY: BFD_CHECK_NAMES.length + 12,
  AUTH_BAD_LENGTH: BFD_CHECK_NAMES.length + 13,
  AUTH_BAD_DIGEST: BFD_CHECK_NAMES.length + 14,
  AUTH_BAD_SEQUENCE: BFD_CHECK_NAMES.length + 15,
} as const;

export const BFD_DROP_NAMES: readonly string[] = [
  ...BFD_CHECK_NAMES,
  'bad-ttl',
  'off-link-source',
  'wrong-destination',
  'bad-udp',
  'unknown-discriminator',
  'no-session',
  'wrong-port-or-peer',
  'session-admin-down',
  'internal-error',
  'auth-missing',
  'auth-not-configured',
  'auth-wrong-type',
  'auth-unknown-key',
  'auth-bad-length',
  'auth-bad-digest',
  'auth-bad-sequence',
];

export function dropCounts(values: Float64Array): Record<string, number> {
  return namedCounts(values, BFD_DROP_NAMES);
}

const peerKey = portAddressKey;

/** One session and what the router needs around it: where it runs, who wants it, counters. */
export class BfdNeighbour {
  readonly peerText: string;
  readonly owners = new Set<string>();
  rx = 0;
  tx = 0;
  /** Sends refused because the port was blocked. */
  txBlocked = 0;
  /** Packets not sent: the session authenticates and no key may be sent now. */
  txWithoutKey = 0;
  auth!: BfdAuth;
  upTransitions = 0;
  downTransitions = 0;
  /** The diagnostic of the last transition to Down or AdminDown. */
  lastDownDiag: number = Diag.NONE;
  readonly drops = new Float64Array(BFD_DROP_NAMES.length);
  session!: BfdSession;
  /** The timing it runs with: its own from `bfd.sessions`, else the defaults. */
  intervalMs = 0;
  multiplier = 0;

  constructor(readonly port: PortView, readonly peer: number, readonly sourcePort: number) {
    this.peerText = formatAddress(peer);
  }

  get stateName(): BfdState {
    return STATE_NAMES[this.session.state]!;
  }
}

/** A SessionTimer on the clock's timers (one pending timeout at most). */
function clockTimer(clock: Clock, fire: () => void, onError: (e: unknown) => void): SessionTimer {
  let handle: unknown;
  const run = () => {
    handle = undefined;
    try {
      fire();
    } catch (e) {
      onError(e);
    }
  };
  return {
    arm(at) {
      if (handle !== undefined) clock.clearTimer(handle);
      handle = clock.setTimer(Math.max(0, Math.ceil(at - clock.now())), run);
    },
    disarm() {
      if (handle !== undefined) clock.clearTimer(handle);
      handle = undefined;
    },
  };
}

export class BfdProtocol implements RouterPlugin, NeighbourLiveness {
  readonly name = 'bfd';
  /** Packets accepted by a session. */
  rx = 0;
  readonly drops = new Float64Array(BFD_DROP_NAMES.length);
  private readonly byPeer = new Map<number, BfdNeighbour>();
  private readonly byDiscriminator = new Map<number, BfdNeighbour>();
  private readonly listeners = new Set<(c: SessionChange) => void>();
  private readonly udp = new UdpView();
  private readonly view = new BfdControlView();
  private running = false;

  constructor(private readonly ctx: ProtocolContext, private config: BfdConfig) {
    for (const s of config.sessions) this.ensure(ctx.port(s.port), s.peer, 'config', s.interval, s.multiplier);
    ctx.packets.listenUdp(BFD_CONTROL_PORT, (port, ip) => this.receive(port, ip));
  }

  /**
   * A reloaded config: configured sessions that went away are released,
   * new ones made, changed timings applied with a Poll Sequence (§6.8.3) —
   * sessions that did not change are not touched.
   */
  reconfigure(next: BfdConfig): void {
    this.config = next;
    const wanted = new Map(next.sessions.map((s) => [peerKey(this.ctx.port(s.port).index, s.peer >>> 0), s]));
    for (const n of [...this.byPeer.values()]) {
      if (n.owners.has('config') && !wanted.has(peerKey(n.port.index, n.peer))) this.release(n.port, n.peer, 'config');
    }
    for (const s of next.sessions) this.ensure(this.ctx.port(s.port), s.peer, 'config', s.interval, s.multiplier);
    for (const n of this.byPeer.values()) {
      const own = n.owners.has('config') ? wanted.get(peerKey(n.port.index, n.peer)) : undefined;
      const interval = own?.interval ?? next.interval;
      const multiplier = own?.multiplier ?? next.multiplier;
      this.retime(n, interval, multiplier);
      // New keys or a new type: the session goes on, its sequence numbers too (a peer configured the same way keeps it Up).
      const auth = this.authFor(n.port, n.peer);
      if (!isDeepStrictEqual(auth, n.auth.config)) {
        n.auth = n.auth.rekeyed(auth);
        this.ctx.log.info({ event: 'bfd.session-auth', port: n.port.name, peer: n.peerText, auth: auth.type, keys: auth.keys.map((k) => k.id) },
          `BFD session to ${n.peerText} on ${n.port.name}: authentication ${auth.type}`);
      }
    }
  }

  private retime(n: BfdNeighbour, intervalMs: number, multiplier: number): void {
    if (n.intervalMs === intervalMs && n.multiplier === multiplier) return;
    n.intervalMs = intervalMs;
    n.multiplier = multiplier;
    n.session.setParameters(intervalMs * 1000, intervalMs * 1000, multiplier);
    this.ctx.log.info({ event: 'bfd.session-retimed', port: n.port.name, peer: n.peerText, intervalMs, multiplier }, `BFD session to ${n.peerText} on ${n.port.name}: ${intervalMs} ms × ${multiplier}`);
  }

  // ---- RouterPlugin ----

  start(): void {
    if (this.running) return;
    this.running = true;
    for (const n of this.byPeer.values()) n.session.start();
  }

  stop(): void {
    if (!this.running) return;
    // A planned stop is an administrative one: tell the peers (§6.8.16) rather than let them time out.
    for (const n of [...this.byPeer.values()]) {
      if (!n.port.blocked) n.session.adminDown();
    }
    this.running = false;
    for (const n of this.byPeer.values()) n.session.stop();
  }

  /** The port goes silent: AdminDown to every peer on it, now (RFC 5880 §6.8.16). */
  portBlocked(port: PortView): void {
    for (const n of this.onPort(port)) n.session.adminDown();
  }

  portUnblocked(port: PortView): void {
    for (const n of this.onPort(port)) n.session.adminUp();
  }

  // ---- NeighbourLiveness ----

  require(port: PortView, peer: number, owner: string): void {
    this.ensure(port, peer, owner, this.config.interval, this.config.multiplier);
  }

  release(port: PortView, peer: number, owner: string): void {
    const n = this.byPeer.get(peerKey(port.index, peer));
    if (!n || !n.owners.delete(owner) || n.owners.size > 0) return;
    this.remove(n);
  }

  state(port: PortView, peer: number): BfdState | undefined {
    return this.byPeer.get(peerKey(port.index, peer))?.stateName;
  }

  onChange(listener: (c: SessionChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  // ---- for the API ----

  sessions(): BfdNeighbour[] {
    return [...this.byPeer.values()].sort((a, b) => a.port.index - b.port.index || a.peer - b.peer);
  }

  session(port: PortView, peer: number): BfdNeighbour | undefined {
    return this.byPeer.get(peerKey(port.index, peer));
  }

  /** The clock sessions run on (ms, monotonic). */
  now(): number {
    return this.ctx.clock.now();
  }

  // ---- sessions ----

  private onPort(port: PortView): BfdNeighbour[] {
    return [...this.byPeer.values()].filter((n) => n.port === port);
  }

  /** The authentication a session on `port` to `peer` uses: its own, its port's, or the default. */
  private authFor(port: PortView, peer: number): AuthConfig<BfdAuthType> {
    const own = this.config.sessions.find((s) => s.port === port.name && s.peer >>> 0 === peer >>> 0)?.auth;
    return own ?? this.config.ports.find((p) => p.port === port.name)?.auth ?? this.config.auth;
  }

  private ensure(port: PortView, peer: number, owner: string, intervalMs: number, multiplier: number): BfdNeighbour | undefined {
    peer >>>= 0;
    const key = peerKey(port.index, peer);
    const existing = this.byPeer.get(key);
    if (existing) {
      existing.owners.add(owner);
      // A configured session runs with its own timing.
      if (owner === 'config') this.retime(existing, intervalMs, multiplier);
      return existing;
    }
    if (!port.isNeighbourAddress(peer)) {
      this.ctx.log.warn({ event: 'bfd.bad-peer', port: port.name, peer: formatAddress(peer), owner }, `BFD: ${formatAddress(peer)} is not a neighbour on ${port.name}`);
      return undefined;
    }
    const n = new BfdNeighbour(port, peer, this.freeSourcePort());
    n.auth = new BfdAuth(this.authFor(port, peer), () => this.ctx.clock.random());
    n.owners.add(owner);
    n.intervalMs = intervalMs;
    n.multiplier = multiplier;
    n.session = new BfdSession({
      localDiscriminator: this.freeDiscriminator(),
      desiredMinTxUs: intervalMs * 1000,
      requiredMinRxUs: intervalMs * 1000,
      detectMult: multiplier,
      adminDown: port.blocked,
    }, this.envFor(n));
    if (port.blocked) n.lastDownDiag = Diag.ADMINISTRATIVELY_DOWN;
    this.byPeer.set(key, n);
    this.byDiscriminator.set(n.session.localDiscriminator, n);
    this.ctx.log.info({ event: 'bfd.session-added', port: port.name, peer: n.peerText, owner, localDiscr: n.session.localDiscriminator, intervalMs, multiplier },
      `BFD session to ${n.peerText} on ${port.name} added (${owner})`);
    if (this.running) n.session.start();
    return n;
  }

  private remove(n: BfdNeighbour): void {
    // Tell the peer this is administrative, not a failure (§6.8.16).
    if (this.running && !n.port.blocked) n.session.adminDown();
    n.session.stop();
    this.byPeer.delete(peerKey(n.port.index, n.peer));
    this.byDiscriminator.delete(n.session.localDiscriminator);
    this.ctx.log.info({ event: 'bfd.session-removed', port: n.port.name, peer: n.peerText }, `BFD session to ${n.peerText} on ${n.port.name} removed`);
  }

  private envFor(n: BfdNeighbour): SessionEnv {
    const clock = this.ctx.clock;
    const onError = (e: unknown) => this.ctx.log.error({ event: 'bfd.error', port: n.port.name, peer: n.peerText, err: (e as Error).message }, 'BFD timer failed');
    return {
      now: () => clock.now(),
      random: () => clock.random(),
      timer: (fire) => clockTimer(clock, fire, onError),
      send: (final) => this.transmit(n, final),
      changed: (from, to, diag) => this.changed(n, from, to, diag),
    };
  }

  /** RFC 5881 §4: to UDP 3784 from the session's own source port, TTL 255, from the port's address. */
  private transmit(n: BfdNeighbour, final: boolean): void {
    const packets = this.ctx.packets;
    const { bytes, off } = packets.udpPayload(BFD_CONTROL_LEN + BFD_MAX_AUTH_LEN);
    n.session.writeControl(bytes, off, final);
    const len = n.auth.sign(bytes, off, this.ctx.clock.now());
    if (len < 0) {
      n.txWithoutKey++;
      return;
    }
    if (packets.sendUdp(n.port, off, len, { dst: n.peer, srcPort: n.sourcePort, dstPort: BFD_CONTROL_PORT, ttl: BFD_TTL, tos: BFD_TOS })) n.tx++;
    else n.txBlocked++;
  }

  private changed(n: BfdNeighbour, from: number, to: number, diag: number): void {
    const fromName = STATE_NAMES[from]!;
    const toName = STATE_NAMES[to]!;
    const diagnostic = diagName(diag);
    if (to === S.UP) n.upTransitions++;
    if (to === S.DOWN || to === S.ADMIN_DOWN) {
      n.lastDownDiag = diag;
      if (from === S.UP) n.downTransitions++;
    }
    this.ctx.log.info({
      event: 'bfd.session', port: n.port.name, peer: n.peerText, from: fromName, to: toName, diagnostic,
      localDiscr: n.session.localDiscriminator, remoteDiscr: n.session.remoteDiscriminator,
    }, `BFD ${n.peerText} on ${n.port.name}: ${fromName} → ${toName}${diag ? ` (${diagnostic})` : ''}`);
    const change: SessionChange = { port: n.port, peer: n.peer, from: fromName, to: toName, diagnostic };
    for (const l of this.listeners) {
      try {
        l(change);
      } catch (e) {
        this.ctx.log.error({ event: 'bfd.listener-error', err: (e as Error).message }, 'a BFD change listener failed');
      }
    }
  }

  // ---- receive ----

  /** UDP 3784 (RFC 5881 §4). Returns a Drop reason, or −1 when a session took the packet. Never throws. */
  private receive(port: PortView, ip: Ipv4View): number {
    try {
      return this.receivePacket(port, ip);
    } catch (e) {
      this.drops[BfdDrop.INTERNAL_ERROR]! += 1;
      this.ctx.log.error({ event: 'bfd.error', port: port.name, err: (e as Error).message }, 'BFD receive failed');
      return Drop.BFD_INVALID;
    }
  }

  private receivePacket(port: PortView, ip: Ipv4View): number {
    if (!this.running) return Drop.LOCAL_UNHANDLED;
    const src = ip.src;
    const dst = ip.dst;
    // RFC 5881 §5: TTL 255 proves the sender is on the link (with or without authentication).
    if (ip.ttl !== BFD_TTL) return this.reject(port, src, BfdDrop.BAD_TTL);
    if (!port.isNeighbourAddress(src)) {
      return this.reject(port, src, BfdDrop.OFF_LINK_SOURCE);
    }
    if (dst !== port.address) return this.reject(port, src, BfdDrop.WRONG_DESTINATION);
    const udp = this.udp.attach(ip.buf, ip.payloadOffset, ip.payloadLength);
    if (!udp.checksumOk(src, dst)) return this.reject(port, src, BfdDrop.BAD_UDP);
    const v = this.view.attach(ip.buf, udp.off + UDP_HEADER_LEN, udp.length - UDP_HEADER_LEN);
    const check = v.validate();
    if (check !== 0) return this.reject(port, src, check);

    // RFC 5880 §6.8.6: Your Discriminator selects the session; zero (only in Down/AdminDown) means by address.
    const yours = v.yourDiscriminator;
    let n: BfdNeighbour | undefined;
    if (yours !== 0) {
      n = this.byDiscriminator.get(yours);
      if (!n) return this.reject(port, src, BfdDrop.UNKNOWN_DISCRIMINATOR);
      if (n.port !== port || n.peer !== src) return this.reject(port, src, BfdDrop.WRONG_PEER);
    } else {
      n = this.byPeer.get(peerKey(port.index, src));
      if (!n) return this.reject(port, src, BfdDrop.NO_SESSION);
    }
    // §6.8.6: authenticated (or not) as the session is, before anything is taken from the packet.
    const s = n.session;
    const detectionMs = (v.detectMult * Math.max(v.desiredMinTx, s.requiredMinRxUs)) / 1000;
    const failed = n.auth.verify(v, this.ctx.clock.now(), detectionMs);
    if (failed !== 0) return this.reject(port, src, BfdDrop.AUTH_MISSING - 1 + failed);
    n.rx++;
    this.rx++;
    if (!n.session.receive(v)) {
      n.drops[BfdDrop.ADMIN_DOWN]! += 1;
      this.drops[BfdDrop.ADMIN_DOWN]! += 1;
    }
    return -1;
  }

  private reject(port: PortView, src: number, reason: number): number {
    this.drops[reason]! += 1;
    const n = this.byPeer.get(peerKey(port.index, src));
    if (n) n.drops[reason]! += 1;
    return Drop.BFD_INVALID;
  }

  private freeDiscriminator(): number {
    for (;;) {
      const d = (Math.random() * 0x1_0000_0000) >>> 0;
      if (d !== 0 && !this.byDiscriminator.has(d)) return d;
    }
  }

  private freeSourcePort(): number {
    const used = new Set([...this.byPeer.values()].map((n) => n.sourcePort));
    const span = BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1;
    let p = BFD_SOURCE_PORT_MIN + Math.floor(Math.random() * span);
    for (let i = 0; i < span && used.has(p); i++) p = p === BFD_SOURCE_PORT_MAX ? BFD_SOURCE_PORT_MIN : p + 1;
    return p;
  }
}
