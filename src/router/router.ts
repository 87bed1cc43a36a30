// One router: its ports, its RIB (and the FIB derived from it), its packet
// path, the plugins that run on it (control protocols, daemon features), and
// the administrative operations on ports and routes that the API exposes.
//
// The router owns the routes of its own sources — connected (one per port),
// static (the config) and api (added at run time) — and the usability of
// every route: a route through a blocked or draining port is unusable, and a
// BFD-tracked route is usable only while its next hop's session is Up.
// Protocols reach the router only through the ProtocolContext it makes for
// them (protocol-context.ts).
import { constants as osConstants } from 'node:os';
import type { PortConfig, RouterConfig } from '../config/router-config.js';
import { systemClock, type Clock, type TimerHandle } from '../control/clock.js';
import { LogBudget } from './log-budget.js';
import { OperationError } from '../control/errors.js';
import type { NeighbourLiveness, SessionChange } from '../control/liveness.js';
import type { ProtocolContext, RouterPlugin } from '../control/protocol.js';
import type { FlowFigures } from '../dataplane/flow-table.js';
import type { NatSnapshot } from '../dataplane/nat-snapshot.js';
import type { PolicyTable } from '../dataplane/policy.js';
import { PacketPath, SPARE_MTU, SPARE_PORTS, arenaFor } from '../dataplane/packet-path.js';
import { formatAddress, formatPrefix, portAddressKey } from '../net/addr.js';
import { IcmpType, UnreachCode } from '../wire/icmp.js';
import { Ipv4View } from '../wire/ipv4.js';
import { ArenaFull, type PacketArena } from '../packet/arena.js';
import type { PacketDevice } from '../ports/device.js';
import type { Port } from '../ports/port.js';
import { DISTANCE, Rib, type FibChange, type Route, type RouteRequest } from '../routing/rib.js';
import type { Logger } from 'pino';
import {
  attachLink, deviceKey, makePort, openDevice as openPortDevice, openQueues, releasePort, type DeviceOpener, type LinkHooks, type QueueOpener,
} from './port-devices.js';
import { ForwardingWorkers } from './forwarding-workers.js';
import { makeProtocolContext } from './protocol-context.js';

const { ENETDOWN } = osConstants.errno;
/** How often a port whose device vanished looks for it again. */
const REATTACH_INTERVAL_MS = 1000;
/** A draining port: how often it looks for flows left on it (ms). */
const DRAIN_POLL_MS = 50;
/** While connections from a draining port's side are open: how often it looks, and how long at most before its neighbours are told anyway (ms). */
const QUIET_POLL_MS = 5;
/** Well under TCP's first SYN retransmission (1 s): a SYN refused at once comes back after the neighbour has moved. */
const QUIET_MAX_MS = 250;

/**
 * How long a neighbour gets to read a protocol's last words on a blocked
 * port (RIP's poisoned update) before the liveness session goes down and
 * the port goes silent: BIRD drops a RIP neighbour when its BFD session
 * goes down, and with it the withdrawal that neighbour sent, if that is
 * read second — and BIRD's BFD runs in a thread of its own.
 */
export const GOODBYE_MS = 25;

export { deviceKey, type DeviceOpener, type QueueOpener } from './port-devices.js';

/** route.installed/changed/withdrawn lines a second, at most; the rest are summed up in one route.changes line. */
const ROUTE_LOG_BUDGET = 50;

/** How often ports tick: their devices' counts, Ethernet links' timers (ARP retransmission, neighbour ageing, announcements). */
const PORT_TICK_MS = 100;

/**
 * With forwarding workers: port indices a daemon's life may add beyond the
 * start's. Indices are not reused (every added or changed port takes a new
 * one), but one costs only a few shared slots; the receive slots, which do
 * cost, are given back by a removed port.
 */
export const SPARE_PORT_INDICES = 256;

/** The cause of a static or API route's install (not built per route: a 500,000-route load adds them one by one). */
const ADDED = { static: 'static-added', api: 'api-added' } as const;

export class Router {
  readonly name: string;
  readonly arena: PacketArena;
  readonly ports: Port[] = [];
  readonly rib: Rib;
  readonly path: PacketPath;
  readonly plugins: RouterPlugin[] = [];
  readonly startedAt = Date.now();
  /** FIB changes so far, by kind. */
  readonly fibEvents = { installed: 0, changed: 0, withdrawn: 0 };
  private readonly fibListeners = new Set<(c: FibChange) => void>();
  /** route.* lines: one per change up to ROUTE_LOG_BUDGET a second, then a summary (a flood of routes is not a flood of lines). */
  private readonly routeLog: LogBudget;
  private liveness: NeighbourLiveness | null = null;
  /** BFD-tracked routes per (port, peer): the sessions the router holds for them. */
  private readonly tracked = new Map<number, number>();
  /** Ports waiting for their link to come up (unblock in progress). */
  private readonly unblocking = new Set<number>();
  /** Drain watchers by port index. */
  private readonly drains = new Map<number, NodeJS.Timeout>();
  /** Blocked ports whose liveness last words and silence are due (see GOODBYE_MS). */
  private readonly goodbyes = new Map<number, { timer: TimerHandle; finish: () => void }>();
  private started = false;
  private portTimer: NodeJS.Timeout | undefined;
  private readonly unresolvedView = new Ipv4View();
  /** What an Ethernet port's link layer needs of the router. */
  private readonly linkHooks: LinkHooks;
  /** With forwarding workers: per port, its queues (worker i reads queue i; queue 0 is the port's device, which this thread sends on). */
  private readonly queues: PacketDevice[][] = [];
  /** With forwarding workers: ports openPorts opened and attachPort has not taken yet, with their config, queues and the port whose device they take over. */
  private readonly opening = new Map<Port, { config: PortConfig; queues: PacketDevice[]; takeover: Port | null }>();
  /**
   * With forwarding workers: how many ports (indices, removed ones included)
   * the workers' shared per-port state has room for — the start's and
   * SPARE_PORT_INDICES more.
   */
  readonly portCapacity: number;
  /** The forwarding workers (config.workers > 0), from start(). */
  workers: ForwardingWorkers | null = null;
  /** A failure the router cannot run on with (a forwarding worker gone): the daemon sets this to stop. */
  onFatal: (message: string) => void = (message) => this.log.fatal({ event: 'router.fatal', error: message }, message);
  private stopping: Promise<void> = Promise.resolve();

  constructor(
    public config: RouterConfig, readonly log: Logger, private readonly openDevice: DeviceOpener = openPortDevice, readonly clock: Clock = systemClock,
    private readonly openDeviceQueues: QueueOpener = openQueues,
  ) {
    this.name = config.router;
    this.arena = arenaFor(config);
    this.linkHooks = {
      clock,
      unresolved: (port, off, len) => {
        const ip = this.unresolvedView.attach(this.arena.bytes, off, len);
        // From the link's timer, outside any batch: the rate limit's clock moves on first.
        this.path.clock.tick();
        if (ip.validate() === 0) this.path.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.HOST, 0, port, ip);
      },
    };
    this.routeLog = new LogBudget(clock, ROUTE_LOG_BUDGET, 1000, (left, windowMs) => {
      const n = left.installed + left.changed + left.withdrawn;
      this.log.info({ event: 'route.changes', notLogged: left, windowMs }, `${n} more route changes in ${windowMs} ms not logged one by one (installed ${left.installed}, changed ${left.changed}, withdrawn ${left.withdrawn})`);
    });
    this.rib = new Rib((r) => this.unusableReason(r), (c) => this.fibChanged(c), { sharedFib: config.workers > 0 });
    this.portCapacity = config.ports.length + SPARE_PORT_INDICES;
    const ports = this.openPorts(config.ports);
    for (const p of ports) this.takeQueues(p);
    this.ports.push(...ports);
    this.path = new PacketPath(this.arena, this.ports, this.rib.fib, config);
  }

  /**
   * Open the devices of new ports (indices after the existing ones); all or
   * none. `reuse`: devices already open (by device name and namespace) that
   * a new port takes over instead of opening them again. With forwarding
   * workers each port gets its queues (one per worker), or takes over those
   * of the reused device's port (unless its device vanished: then new ones);
   * and there is room for portCapacity ports (indices) in all.
   */
  openPorts(configs: readonly PortConfig[], reuse = new Map<string, PacketDevice>()): Port[] {
    const opened: Port[] = [];
    const fresh: PacketDevice[][] = [];
    const workers = this.config.workers;
    if (workers > 0 && this.ports.length + configs.length > this.portCapacity) {
      throw new Error(`ports: room for ${this.portCapacity} port indices while forwarding workers run (the ${this.portCapacity - SPARE_PORT_INDICES} the daemon started with and ${SPARE_PORT_INDICES} more; every added or changed port takes a new one): restart instead`);
    }
    // The receive slots of ports made before a failure are given back.
    const arenaMark = this.arena.mark();
    let current: PortConfig | undefined;
    try {
      for (const pc of configs) {
        current = pc;
        const index = this.ports.length + opened.length;
        const reused = reuse.get(deviceKey(pc));
        if (workers === 0) {
          const device = reused ?? this.openDevice(pc);
          if (!reused) fresh.push([device]);
          opened.push(makePort(index, pc, device, this.arena, this.linkHooks));
          continue;
        }
        const takeover = reused ? this.ports.find((p) => p.device === reused && p.state !== 'down' && this.workers?.detached(p.index) !== false) ?? null : null;
        const queues = takeover ? this.queues[takeover.index]! : this.openDeviceQueues(pc, workers, index);
        if (!takeover) fresh.push(queues);
        const port = makePort(index, pc, queues[0]!, this.arena, this.linkHooks);
        opened.push(port);
        this.opening.set(port, { config: pc, queues, takeover });
      }
    } catch (e) {
      // What this call opened (not what it reused), also for a port whose making failed.
      for (const q of fresh) for (const d of q) d.close();
      for (const p of opened) this.opening.delete(p);
      this.arena.rollback(arenaMark);
      if (!(e instanceof ArenaFull)) throw e;
      throw new Error(`port ${current!.name}: no room left for its receive slots (the packet arena keeps room for ${SPARE_PORTS} ports beyond the start's at MTU ${SPARE_MTU}; removed ports give theirs back): restart instead`, { cause: e });
    }
    return opened;
  }

  /** With forwarding workers: an opened port's queues are its own now (by index); what openPorts noted of it, or null. */
  private takeQueues(port: Port): { config: PortConfig; queues: PacketDevice[]; takeover: Port | null } | null {
    const o = this.opening.get(port);
    if (!o) return null;
    this.opening.delete(port);
    this.queues[port.index] = o.queues;
    return o;
  }

  // ---- plugins ----

  /** The door a protocol gets: its own route channel (source, distance), packets, ports, clock, log. */
  protocolContext(source: string, distance: number): ProtocolContext {
    return makeProtocolContext(this, source, distance, () => {
      if (!this.liveness) throw new Error('no neighbour liveness (BFD) on this router');
      return this.liveness;
    });
  }

  /** The protocol that tells whether neighbours are alive (BFD), for BFD-tracked routes. */
  useLiveness(provider: NeighbourLiveness): void {
    this.liveness = provider;
    provider.onChange((c) => this.livenessChanged(c));
  }

  addPlugin(p: RouterPlugin): void {
    this.plugins.push(p);
    if (this.started) p.start();
  }

  /** Called after every FIB change; returns the unsubscribe. */
  onFibChange(listener: (c: FibChange) => void): () => void {
    this.fibListeners.add(listener);
    return () => void this.fibListeners.delete(listener);
  }

  // ---- life cycle ----

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const port of this.ports) this.bringUp(port);
    if (this.config.workers > 0) {
      this.workers = new ForwardingWorkers({
        config: this.config, ports: this.ports, capacity: this.portCapacity, queues: this.queues, fib: this.rib.fib, path: this.path, log: this.log,
        readError: (port, errno) => this.readError(port, errno),
        joined: (port) => this.rib.reevaluate((r) => r.port === port.index, 'port-joined'),
        fatal: (message) => this.onFatal(message),
      });
    }
    for (const port of this.ports) this.addConnected(port);
    this.portTimer = setInterval(() => this.tickPorts(), PORT_TICK_MS);
    this.portTimer.unref();
    for (const r of this.config.routes) {
      this.addRoute({ prefix: r.prefix, len: r.len, port: this.portByName(r.port).index, nextHop: r.via, metric: r.metric, trackBfd: r.bfd }, 'static');
    }
    for (const p of this.plugins) p.start();
    this.log.info({ event: 'router.started', ports: this.ports.length, routes: this.rib.size }, `router ${this.name} started`);
  }

  /** Carrier on, reading, the link layer announced, logged. */
  private bringUp(port: Port): void {
    port.device.setCarrier(true);
    // With forwarding workers, they read: this thread sends on the port's queue 0 and reads nothing.
    if (this.config.workers === 0) this.startReading(port);
    if (port.state !== 'blocked') this.linkUp(port);
    this.log.info({ event: 'port.up', port: port.name, device: port.deviceName, netns: port.netns || undefined, address: formatPrefix(port.address, port.prefixLen), mtu: port.mtu }, `port ${port.name} up`);
  }

  private startReading(port: Port): void {
    port.device.startReading(this.arena.buffer, port.readOffset, port.slotSize, port.rxLengths.length, port.rxLengths, (count, errno) => {
      if (count > 0) this.path.forwarder.receive(port, count);
      if (errno) this.readError(port, errno);
    });
  }

  /** A read failed: if the device is gone (deleted under us), the port goes down until it returns. */
  private readError(port: Port, errno: number): void {
    let gone = false;
    try {
      gone = port.device.exists ? !port.device.exists() : false;
    } catch {
      /* cannot tell: treat as a passing error */
    }
    if (!gone) {
      // ENETDOWN on an Ethernet port whose interface is still there: its link went down (a block).
      if (errno !== ENETDOWN) this.log.warn({ event: 'port.read-error', port: port.name, errno }, `read error on ${port.name}: errno ${errno}`);
      return;
    }
    this.deviceLost(port);
  }

  /**
   * The port's device vanished: the port is down (its routes withdrawn, cause
   * port-down; the plugins told), and every second the router looks for the
   * device by name; when it is back the port comes back in the state it had.
   */
  private deviceLost(port: Port): void {
    if (port.state === 'down') return;
    this.stopDrain(port);
    this.finishGoodbye(port);
    port.device.stopReading?.();
    this.workers?.detach(port.index);
    port.muted = true;
    port.link?.linkDown();
    const before = port.state === 'draining' ? 'up' : port.state;
    this.setPortState(port, 'down', { reason: 'device-gone', device: port.deviceName });
    for (const p of this.plugins) p.portDown?.(port);
    const timer = setInterval(() => {
      if (port.removed || !this.started) {
        clearInterval(timer);
        return;
      }
      if (this.reattach(port, before)) clearInterval(timer);
    }, REATTACH_INTERVAL_MS);
    timer.unref();
  }

  /** Open the device again if it exists now; true once the port is back. */
  private reattach(port: Port, state: Port['state']): boolean {
    const pc = this.config.ports.find((p) => p.name === port.name);
    if (!pc) return true;
    const workers = this.workers;
    // With forwarding workers, new queues are opened once every worker has let go of the old ones (closed then).
    if (workers && !workers.detached(port.index)) return false;
    try {
      if (port.device.exists && !port.device.exists()) return false;
      const queues = workers ? this.openDeviceQueues(pc, workers.count, port.index) : null;
      const device = queues ? queues[0]! : this.openDevice(pc);
      port.device.close();
      port.device = device;
      if (queues) this.queues[port.index] = queues;
      // A re-created interface has a new MAC: the link layer starts over with it.
      attachLink(port, pc, this.arena, this.linkHooks);
      if (queues) workers?.adopt(port, queues);
    } catch (e) {
      this.log.debug({ event: 'port.reattach-failed', port: port.name, err: (e as Error).message }, `port ${port.name}: device not back yet`);
      return false;
    }
    this.bringUp(port);
    port.muted = state === 'blocked';
    if (state === 'blocked') this.setCarrier(port, false);
    port.state = state;
    port.stateSince = Date.now();
    this.log.info({ event: 'port.restored', port: port.name, state, device: port.deviceName }, `port ${port.name}: device back, ${state}`);
    this.rib.reevaluate((r) => r.port === port.index, 'port-restored');
    if (state !== 'blocked') for (const p of this.plugins) p.portRestored?.(port);
    return true;
  }

  private addConnected(port: Port): void {
    this.rib.add({ prefix: port.network, len: port.prefixLen, port: port.index, nextHop: 0, metric: 0, source: 'connected', distance: DISTANCE.connected }, 'connected');
  }

  /**
   * A port a reload added (opened by openPorts): it joins, comes up and
   * brings its connected route. With forwarding workers they get it too
   * (its routes stay out of the FIB until every worker has it: port-joining).
   */
  attachPort(port: Port): void {
    if (port.index !== this.ports.length) throw new Error(`port ${port.name}: index ${port.index}, expected ${this.ports.length}`);
    // A device taken over from a leaving port stops feeding that port first.
    for (const old of this.ports) if (old.device === port.device) old.device.stopReading?.();
    const opened = this.takeQueues(port);
    this.ports.push(port);
    this.path.addresses.refresh();
    if (!this.started) return;
    this.bringUp(port);
    if (this.workers && opened) this.workers.addPort(port, opened.config, opened.queues, opened.takeover);
    this.addConnected(port);
  }

  /**
   * A reload's leaving ports (removed or changed) step aside at once: their
   * names find the new ports from now on — in the forwarding workers too.
   * removePort() finishes them.
   */
  retirePorts(ports: readonly Port[]): void {
    for (const p of ports) p.removed = true;
    this.workers?.retire(ports.map((p) => p.index));
  }

  /**
   * A port a reload removed: its routes are withdrawn (cause port-removed)
   * and forgotten, the plugins told, the device closed (with forwarding
   * workers: once they let go of its queues), its arena regions given back
   * (the workers give back theirs). Its index is never reused, so nothing
   * that still names it can point at another port.
   */
  removePort(port: Port): void {
    this.stopDrain(port);
    this.finishGoodbye(port);
    const from = port.state;
    port.state = 'down';
    port.removed = true;
    this.log.info({ event: 'port.removed', port: port.name, from }, `port ${port.name} removed`);
    this.rib.reevaluate((r) => r.port === port.index, 'port-removed');
    for (const p of this.plugins) p.portDown?.(port);
    for (const r of this.rib.find((x) => x.port === port.index)) this.removeRoute(r.id, 'port-removed');
    this.path.output.flushAll();
    port.muted = true;
    // With forwarding workers: its queues are closed once every worker has let go of them.
    if (this.workers) this.workers.removePort(port.index);
    // Unless a new port took the device over.
    else if (!this.ports.some((p) => p !== port && !p.removed && p.device === port.device)) port.device.close();
    // Nothing reads into its receive slots or link region now (this thread reads no port with workers; its queues were flushed): a later port reuses them.
    releasePort(port, this.arena);
    this.path.addresses.refresh();
  }

  /**
   * The static routes of a reloaded config: a route whose prefix, port, next
   * hop, metric and tracking did not change stays as it is (its FIB entry is
   * not touched); the others are removed and added.
   */
  syncStaticRoutes(routes: RouterConfig['routes']): { added: number; removed: number } {
    const key = (r: { prefix: number; len: number; port: number; nextHop: number; metric: number; trackBfd?: boolean }) =>
      `${r.prefix}/${r.len}/${r.port}/${r.nextHop}/${r.metric}/${r.trackBfd === true}`;
    const wanted = new Map(routes.map((r) => {
      const req: RouteRequest = { prefix: r.prefix, len: r.len, port: this.portByName(r.port).index, nextHop: r.via, metric: r.metric, trackBfd: r.bfd };
      return [key(req), req];
    }));
    let removed = 0;
    let added = 0;
    for (const r of this.rib.find((x) => x.source === 'static')) {
      if (wanted.delete(key(r))) continue;
      this.removeRoute(r.id, 'static-removed');
      removed++;
    }
    for (const req of wanted.values()) {
      this.addRoute(req, 'static');
      added++;
    }
    return { added, removed };
  }

  /** An Ethernet port's link is running: gratuitous ARP now (and a second one a moment later). */
  private linkUp(port: Port): void {
    if (!port.link) return;
    port.link.linkUp();
    port.flush();
  }

  private tickPorts(): void {
    for (const port of this.ports) port.tick();
  }

  stop(): void {
    if (this.portTimer) clearInterval(this.portTimer);
    for (const port of this.ports) {
      this.stopDrain(port);
      this.finishGoodbye(port);
    }
    // In reverse, as for a block: RIP's goodbye before BFD's AdminDown.
    for (const p of [...this.plugins].reverse()) p.stop();
    this.path.output.flushAll();
    const close = () => {
      for (const port of this.ports) port.device.close();
    };
    if (this.workers) this.stopping = this.workers.stop().then(close);
    else close();
    this.routeLog.flush();
    this.log.info({ event: 'router.stopped' }, `router ${this.name} stopped`);
  }

  /** Resolves once stop() is complete (forwarding workers gone, every queue closed). */
  stopped(): Promise<void> {
    return this.stopping;
  }

  /**
   * The drain flow tables' figures: this thread's table, plus with
   * forwarding workers every worker's (as of its last tick), summed.
   */
  flowFigures(): FlowFigures {
    const own = this.path.flows.figures();
    if (!this.workers) return own;
    const w = this.workers.flowFigures();
    return {
      pinned: own.pinned + w.pinned, capacity: own.capacity + w.capacity, live: own.live + w.live,
      inserted: own.inserted + w.inserted, evictedLive: own.evictedLive + w.evictedLive, untracked: own.untracked + w.untracked,
    };
  }

  /** ICMP errors and answers as a host (echo, timestamp, mask replies, TCP resets), sent and rate-limited: with forwarding workers, theirs too. */
  replyFigures(): { icmp: { sent: number; rateLimited: number }; replies: { sent: number; rateLimited: number } } {
    const { icmp, server } = this.path;
    const w = this.workers?.replyFigures() ?? { icmpSent: 0, icmpRateLimited: 0, repliesSent: 0, repliesRateLimited: 0 };
    return {
      icmp: { sent: icmp.sent + w.icmpSent, rateLimited: icmp.suppressed + w.icmpRateLimited },
      replies: { sent: server.sent + w.repliesSent, rateLimited: server.suppressed + w.repliesRateLimited },
    };
  }

  /** The source-policy rules with their hits: with forwarding workers, every thread's summed (theirs as of their last ticks). */
  policyRules(): ReturnType<PolicyTable['list']> {
    const rules = this.path.policy.list();
    const workers = this.workers;
    return workers ? rules.map((r) => ({ ...r, hits: r.hits + workers.policyHitsOf(r.rule.name) })) : rules;
  }

  /**
   * The virtual-service NAT now, with up to `limit` flows: this thread's,
   * or with forwarding workers theirs merged (they run it; this thread's
   * NAT sees no packet then). Null without virtual services.
   */
  async natSnapshot(limit: number): Promise<NatSnapshot | null> {
    if (!this.path.nat) return null;
    return this.workers ? this.workers.natSnapshot(limit) : this.path.natSnapshot(limit);
  }

  // ---- ports ----

  /** The ports in the config now (without those a reload removed). */
  livePorts(): Port[] {
    return this.ports.filter((p) => !p.removed);
  }

  portByName(name: string): Port {
    const port = this.ports.find((p) => p.name === name && !p.removed);
    if (!port) throw new OperationError('not-found', `no port named "${name}" (ports: ${this.livePorts().map((p) => p.name).join(', ')})`);
    return port;
  }

  /**
   * The method's step 4: every route through the port is withdrawn at once
   * (one cause: port-blocked), the plugins say their last words on it (a
   * poisoned RIP update, then BFD AdminDown), then it goes silent (no carrier).
   */
  blockPort(name: string): void {
    const port = this.portByName(name);
    if (port.state === 'blocked') throw new OperationError('conflict', `port "${name}" is already blocked`);
    if (port.state === 'down') throw new OperationError('conflict', `port "${name}" is down: its device is gone`);
    this.stopDrain(port);
    this.setPortState(port, 'blocked');
    // Protocols speak first (last added, first to speak), the liveness
    // provider (BFD) last: a neighbour must read RIP's withdrawal before its
    // BFD session goes down (see GOODBYE_MS).
    const liveness = this.plugins.find((p) => (p as unknown) === this.liveness);
    let spoke = false;
    for (const p of [...this.plugins].reverse()) if (p !== liveness && p.portBlocked?.(port) === true) spoke = true;
    this.path.output.flushAll();
    const finish = () => {
      this.goodbyes.delete(port.index);
      liveness?.portBlocked?.(port);
      this.path.output.flushAll();
      port.muted = true;
      this.setCarrier(port, false);
      // Carrier loss: held packets dropped, neighbours forgotten (as Linux does).
      port.link?.linkDown();
    };
    if (spoke && liveness) this.goodbyes.set(port.index, { timer: this.clock.setTimer(GOODBYE_MS, finish), finish });
    else finish();
  }

  /** A block's goodbye still due: have it now. */
  private finishGoodbye(port: Port): void {
    const g = this.goodbyes.get(port.index);
    if (!g) return;
    this.clock.clearTimer(g.timer);
    g.finish();
  }

  /**
   * The port carries traffic again. Its routes return once the kernel side
   * is operational: that lags the carrier change (Linux's linkwatch), and
   * what the neighbour sends meanwhile is lost — a first TCP SYN/ACK, say,
   * which costs the client a 1 s retransmission.
   */
  async unblockPort(name: string): Promise<void> {
    const port = this.portByName(name);
    if (port.state === 'up') throw new OperationError('conflict', `port "${name}" is not blocked`);
    if (port.state === 'down') throw new OperationError('conflict', `port "${name}" is down: its device is gone`);
    if (this.unblocking.has(port.index)) throw new OperationError('conflict', `port "${name}" is being unblocked`);
    this.unblocking.add(port.index);
    this.finishGoodbye(port);
    try {
      const wasBlocked = port.state === 'blocked';
      this.stopDrain(port);
      port.muted = false;
      // (No await without a link to wait for: callers then see the port up at once.)
      const linkWaitMs = wasBlocked && port.device.linkRunning ? await this.carrierOn(port) : (this.setCarrier(port, true), 0);
      this.setPortState(port, 'up', { linkWaitMs });
      this.linkUp(port);
      if (wasBlocked) for (const p of this.plugins) p.portUnblocked?.(port);
    } finally {
      this.unblocking.delete(port.index);
    }
  }

  /**
   * Zero-loss cut-over: new flows take the next-best route at once, flows
   * already on the port keep it until they finish or go idle; then the port
   * blocks itself (with the same last words as a block). `maxMs` bounds the wait.
   *
   * The neighbour on the port is asked to move its traffic elsewhere (the
   * plugins: RIP's drain metric, OSPF's cost) only once no TCP connection
   * opened from its side (its SYN came in by the port) is open — meanwhile new ones from its side are
   * refused (their SYNs dropped, Forwarder) — so a neighbour that cannot
   * pin flows (a kernel router) moves when it cuts no connection in half.
   * That quiet wait is bounded by QUIET_MAX_MS (a long-lived connection).
   */
  drainPort(name: string, maxMs = 30_000): void {
    const port = this.portByName(name);
    if (port.state !== 'up') throw new OperationError('conflict', `port "${name}" is ${port.state}`);
    this.setPortState(port, 'draining');
    const started = Date.now();
    const flows = this.path.flows;
    const workers = this.workers;
    // Workers count at their ticks (every 5 ms while a port drains): trust counts
    // from two ticks after the drain began; until then their count is unknown (−1).
    const ticksAtStart = workers?.ticks() ?? [];
    workers?.tickNow();
    const fromWorkers = (count: (w: ForwardingWorkers) => number): number => {
      if (!workers) return 0;
      return workers.ticks().every((t, i) => t >= ticksAtStart[i]! + 2) ? count(workers) : -1;
    };
    const openNow = (): number => {
      const inWorkers = fromWorkers((w) => w.openConnectionsFrom(port.index));
      return inWorkers < 0 ? -1 : inWorkers + flows.openConnectionsFrom(port.index);
    };
    let told = false;
    let open = openNow();
    const step = (first = false) => {
      const waited = Date.now() - started;
      if (!told) {
        const left = open === 0 ? 0 : openNow();
        if (open < 0) open = left;
        if (left !== 0 && waited < Math.min(QUIET_MAX_MS, maxMs)) {
          this.drains.set(port.index, setTimeout(() => step(), QUIET_POLL_MS));
          return;
        }
        if (open > 0) this.log.info({ event: 'port.quiet', port: port.name, waitedMs: waited, openBefore: open, openLeft: left }, `port ${port.name}: ${left ? `${left} connections still open` : 'no connection open'} from its side; its neighbours told`);
        told = true;
        for (const p of this.plugins) p.portDraining?.(port);
      }
      // The first look comes a poll interval after the drain began.
      if (first || ((flows.hasLiveFlowOn(port.index) || fromWorkers((w) => w.liveFlowsOn(port.index)) !== 0) && waited < maxMs)) {
        this.drains.set(port.index, setTimeout(() => step(), DRAIN_POLL_MS));
        return;
      }
      const live = flows.liveFlowsOn(port.index) + (workers ? workers.liveFlowsOn(port.index) : 0);
      const pinned = flows.pinned + (workers ? workers.flowFigures().pinned : 0);
      this.stopDrain(port);
      this.log.info({ event: 'port.drained', port: port.name, drainMs: waited, flowsLeft: live, packetsPinned: pinned }, `port ${port.name} drained`);
      this.blockPort(port.name);
    };
    step(true);
  }

  private stopDrain(port: Port): void {
    const t = this.drains.get(port.index);
    if (t) clearTimeout(t);
    this.drains.delete(port.index);
  }

  /** Carrier on, then wait (≤ 1 s) until the kernel has the link running; returns the ms waited. */
  private async carrierOn(port: Port): Promise<number> {
    const t0 = Date.now();
    try {
      port.device.setCarrier(true);
      while (!port.device.linkRunning!() && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 2));
    } catch (e) {
      this.log.warn({ event: 'port.carrier-error', port: port.name, err: (e as Error).message }, 'cannot check the link');
    }
    return Date.now() - t0;
  }

  private setCarrier(port: Port, on: boolean): void {
    try {
      port.device.setCarrier(on);
    } catch (e) {
      this.log.warn({ event: 'port.carrier-error', port: port.name, err: (e as Error).message }, 'cannot set carrier');
    }
  }

  /** A port's administrative state, logged (the event marks the moment), and the routes through it re-checked once. */
  private setPortState(port: Port, state: Port['state'], details: Record<string, unknown> = {}): void {
    const from = port.state;
    const what = state === 'up' ? 'unblocked' : state;
    this.log.info({ event: `port.${what}`, port: port.name, from, ...details }, `port ${port.name} ${state}`);
    port.state = state;
    port.stateSince = Date.now();
    this.rib.reevaluate((r) => r.port === port.index, `port-${what}`);
  }

  // ---- routes ----

  /** A static (config) or api (run-time) route; a BFD-tracked one holds a session to its next hop. */
  addRoute(request: RouteRequest, source: 'static' | 'api' = 'api'): Route {
    if (request.trackBfd) this.track(request, source, +1);
    return this.rib.addFrom(request, source, DISTANCE[source], ADDED[source]);
  }

  removeRoute(id: number, cause = 'route-removed'): boolean {
    const route = this.rib.get(id);
    if (!route || !this.rib.remove(id, cause)) return false;
    if (route.trackBfd && (route.source === 'static' || route.source === 'api')) this.track(route, route.source, -1);
    return true;
  }

  /** The peer whose BFD session a tracked route follows: its next hop, or the other end of a point-to-point port. */
  private trackedPeer(r: { port: number; nextHop: number }): number {
    return r.nextHop || this.ports[r.port]?.pointToPointPeer() || 0;
  }

  private track(r: { port: number; nextHop: number }, owner: string, delta: 1 | -1): void {
    const port = this.ports[r.port];
    const peer = this.trackedPeer(r);
    if (!port || !peer || !this.liveness) return;
    const key = portAddressKey(port.index, peer) * 2 + (owner === 'static' ? 0 : 1);
    const n = (this.tracked.get(key) ?? 0) + delta;
    if (n > 0) this.tracked.set(key, n);
    else this.tracked.delete(key);
    if (delta > 0 && n === 1) this.liveness.require(port, peer, owner);
    if (delta < 0 && n === 0) this.liveness.release(port, peer, owner);
  }

  private livenessChanged(c: SessionChange): void {
    const cause = `bfd-${c.to === 'AdminDown' ? 'admin-down' : c.to.toLowerCase()}`;
    this.rib.reevaluate((r) => r.trackBfd === true && r.port === c.port.index && this.trackedPeer(r) === c.peer, cause);
  }

  private unusableReason(r: Route): string | null {
    const port = this.ports[r.port];
    if (!port) return 'no-port';
    // A port a reload added that some forwarding worker does not have yet.
    if (this.workers?.joining(port.index)) return 'port-joining';
    if (port.state === 'blocked') return 'port-blocked';
    if (port.state === 'down') return port.removed ? 'port-removed' : 'port-down';
    if (port.state === 'draining') return 'port-draining';
    if (!r.trackBfd) return null;
    const peer = this.trackedPeer(r);
    const state = peer && this.liveness ? this.liveness.state(port, peer) : undefined;
    switch (state) {
      case 'Up': return null;
      case 'Init': return 'bfd-init';
      case 'AdminDown': return 'bfd-admin-down';
      case 'Down': return 'bfd-down';
      default: return 'bfd-no-session';
    }
  }

  /** Where a packet src → dst would go: steering rules first, then the FIB. */
  explainLookup(dst: number, src?: number): { decidedBy: string; port: string | null; route: Route | null } {
    if (src !== undefined) {
      for (const s of this.path.forwarder.selectors) {
        const hit = s.explain?.(src, dst);
        if (hit) return { decidedBy: hit.by, port: this.ports[hit.port]?.name ?? null, route: null };
      }
    }
    const route = this.rib.lookup(dst) ?? null;
    return { decidedBy: route ? 'fib' : 'none', port: route ? this.ports[route.port]!.name : null, route };
  }

  describeRoute(r: Route | null): { port: string; via: string | null; metric: number; source: string } | null {
    if (!r) return null;
    return { port: this.ports[r.port]?.name ?? `#${r.port}`, via: r.nextHop ? formatAddress(r.nextHop) : null, metric: r.metric, source: r.source };
  }

  private fibChanged(c: FibChange): void {
    const kind = !c.before ? 'installed' : !c.after ? 'withdrawn' : 'changed';
    this.fibEvents[kind]++;
    if (this.routeLog.take(kind)) {
      const prefix = formatPrefix(c.prefix, c.len);
      const before = this.describeRoute(c.before);
      const after = this.describeRoute(c.after);
      const what = after ? `via ${after.port}${after.via ? ` ${after.via}` : ''} metric ${after.metric}` : 'no route';
      this.log.info({ event: `route.${kind}`, prefix, old: before, new: after, cause: c.cause }, `${prefix}: ${what}`);
    }
    for (const l of this.fibListeners) l(c);
  }
}
