// One router: its ports, RIB/FIB, packet path and control protocols, and the
// administrative operations the API exposes (block a port, add a route, …).
import type { RouterConfig, PortConfig } from '../config/router-config.js';
import { PacketArena } from '../dataplane/arena.js';
import { FlowTable } from '../dataplane/flow-table.js';
import { Forwarder } from '../dataplane/forwarder.js';
import { IcmpErrors } from '../dataplane/icmp-errors.js';
import { LocalDelivery } from '../dataplane/local-delivery.js';
import { Output } from '../dataplane/output.js';
import { PolicyTable } from '../dataplane/policy.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import type { PacketDevice } from '../ports/device.js';
import { Port } from '../ports/port.js';
import { TunDevice } from '../ports/tun-device.js';
import { Rib, type FibChange, type Route, type RouteSpec } from '../routing/rib.js';
import type { Logger } from './log.js';
import type { ControlProtocol } from './protocol.js';

/** An operation refused: `status` is the HTTP status the API answers with. */
export class RouterError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export type DeviceOpener = (port: PortConfig) => PacketDevice;

const openTun: DeviceOpener = (p) => new TunDevice({ name: p.device, netns: p.netns || undefined, mtu: p.mtu });

const ARENA_SCRATCH = 1 << 20;

export class Router {
  readonly name: string;
  readonly arena: PacketArena;
  readonly ports: Port[] = [];
  readonly rib: Rib;
  readonly output: Output;
  readonly icmp: IcmpErrors;
  readonly local: LocalDelivery;
  readonly forwarder: Forwarder;
  readonly flows: FlowTable;
  readonly policy: PolicyTable;
  readonly protocols: ControlProtocol[] = [];
  private readonly fibListeners: ((c: FibChange) => void)[] = [];
  /** Ports waiting for their link to come up (unblock in progress). */
  private readonly unblocking = new Set<number>();
  /** Drain watchers by port index. */
  private readonly drains = new Map<number, NodeJS.Timeout>();
  readonly startedAt = Date.now();
  private started = false;

  constructor(readonly config: RouterConfig, readonly log: Logger, openDevice: DeviceOpener = openTun) {
    this.name = config.router;
    // Room for every port's receive slots (each 64-byte aligned) after the scratch ring.
    const slots = config.ports.reduce((n, p) => n + Port.rxBytesFor(p.mtu) + 64, 0);
    this.arena = new PacketArena(ARENA_SCRATCH + slots, ARENA_SCRATCH);
    this.rib = new Rib((r) => this.unusableReason(r), (c) => this.logFibChange(c));
    this.output = new Output(this.arena, this.ports, this.rib);
    try {
      config.ports.forEach((pc, i) => {
        const device = openDevice(pc);
        this.ports.push(new Port(i, { name: pc.name, address: pc.address, prefixLen: pc.prefixLen, mtu: pc.mtu, netns: pc.netns, deviceName: pc.device }, device, this.arena));
      });
    } catch (e) {
      for (const p of this.ports) p.device.close();
      throw e;
    }
    this.icmp = new IcmpErrors(this.output, config.icmpRateLimit);
    this.local = new LocalDelivery(this.ports, this.output, this.icmp);
    this.flows = new FlowTable(this.ports, config.drainIdleTimeout * 1000);
    this.forwarder = new Forwarder(this.ports, this.rib, this.output, this.local, this.icmp, this.flows);
    this.policy = new PolicyTable(this.ports);
    for (const rule of config.policy) this.policy.add({ ...rule, egress: this.portByName(rule.port).index });
    this.forwarder.selectors.push(this.policy);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    for (const port of this.ports) {
      port.device.setCarrier(true);
      port.device.startReading(this.arena.buffer, port.rxBase, port.slotSize, port.rxLengths.length, port.rxLengths, (count, errno) => {
        if (count > 0) this.forwarder.receive(port, count);
        if (errno) this.log.warn({ event: 'port.read-error', port: port.name, errno }, `read error on ${port.name}: errno ${errno}`);
      });
      this.log.info({ event: 'port.up', port: port.name, device: port.deviceName, netns: port.netns || undefined, address: formatPrefix(port.address, port.prefixLen), mtu: port.mtu }, `port ${port.name} up`);
    }
    for (const port of this.ports) {
      this.rib.add({ prefix: port.network, len: port.prefixLen, port: port.index, nextHop: 0, metric: 0, source: 'connected' }, 'connected');
    }
    for (const r of this.config.routes) {
      this.rib.add({ prefix: r.prefix, len: r.len, port: this.portByName(r.port).index, nextHop: r.via, metric: r.metric, source: 'static', trackBfd: r.bfd }, 'static');
    }
    for (const p of this.protocols) p.start();
    this.log.info({ event: 'router.started', ports: this.ports.length, routes: this.rib.routes().length }, `router ${this.name} started`);
  }

  stop(): void {
    for (const port of this.ports) this.stopDrain(port);
    for (const p of this.protocols) p.stop();
    this.output.flushAll();
    for (const port of this.ports) port.device.close();
    this.log.info({ event: 'router.stopped' }, `router ${this.name} stopped`);
  }

  /** Called after every FIB change (e.g. RIP re-checks what it redistributes). */
  onFibChange(listener: (c: FibChange) => void): void {
    this.fibListeners.push(listener);
  }

  addProtocol(p: ControlProtocol): void {
    this.protocols.push(p);
    if (this.started) p.start();
  }

  portByName(name: string): Port {
    const port = this.ports.find((p) => p.name === name);
    if (!port) throw new RouterError(404, `no port named "${name}" (ports: ${this.ports.map((p) => p.name).join(', ')})`);
    return port;
  }

  /** The method's step 4: the port goes silent and every route through it is withdrawn. */
  blockPort(name: string): void {
    const port = this.portByName(name);
    if (port.state === 'blocked') throw new RouterError(409, `port "${name}" is already blocked`);
    this.stopDrain(port);
    // The event marks the moment of the block: neighbours may react to the
    // last words below before this router has finished going silent.
    this.logPortState(port, 'blocked', port.state);
    // Tell the neighbours first (BFD AdminDown, RIP poison), then go silent.
    for (const p of this.protocols) p.portBlocking?.(port);
    this.output.flushAll();
    this.setPortState(port, 'blocked', false);
  }

  /**
   * The port carries traffic again. Its routes return once the kernel side
   * is operational: that lags the carrier change (Linux's linkwatch), and
   * what the neighbour sends meanwhile is lost — a first TCP SYN/ACK, say,
   * which costs the client a 1 s retransmission.
   */
  async unblockPort(name: string): Promise<void> {
    const port = this.portByName(name);
    if (port.state === 'up') throw new RouterError(409, `port "${name}" is not blocked`);
    if (this.unblocking.has(port.index)) throw new RouterError(409, `port "${name}" is being unblocked`);
    this.unblocking.add(port.index);
    try {
      const wasBlocked = port.state === 'blocked';
      this.stopDrain(port);
      // (No await without a link to wait for: callers then see the port up at once.)
      const linkWaitMs = wasBlocked && port.device.linkRunning ? await this.carrierOn(port) : 0;
      this.setPortState(port, 'up', true, { linkWaitMs });
      if (wasBlocked) for (const p of this.protocols) p.portUnblocked?.(port);
    } finally {
      this.unblocking.delete(port.index);
    }
  }

  /** Carrier on, then wait (≤ 1 s) until the kernel has the link running; returns the ms waited. */
  private async carrierOn(port: Port): Promise<number> {
    const device = port.device;
    const t0 = Date.now();
    try {
      device.setCarrier(true);
      while (!device.linkRunning!() && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 2));
    } catch (e) {
      this.log.warn({ event: 'port.carrier-error', port: port.name, err: (e as Error).message }, 'cannot check the link');
    }
    return Date.now() - t0;
  }

  /**
   * Zero-loss cut-over: new flows take the next-best route at once, flows
   * already on the port keep it until they finish or go idle; then the port
   * blocks itself (with the same last words as a block). `maxMs` bounds the wait.
   */
  drainPort(name: string, maxMs = 30_000): void {
    const port = this.portByName(name);
    if (port.state !== 'up') throw new RouterError(409, `port "${name}" is ${port.state}`);
    this.setPortState(port, 'draining');
    const started = Date.now();
    const timer = setInterval(() => {
      const live = this.flows.liveFlowsOn(port.index);
      const waited = Date.now() - started;
      if (live > 0 && waited < maxMs) return;
      this.stopDrain(port);
      this.log.info({ event: 'port.drained', port: port.name, drainMs: waited, flowsLeft: live, packetsPinned: this.flows.pinned }, `port ${port.name} drained`);
      this.blockPort(port.name);
    }, 50);
    this.drains.set(port.index, timer);
  }

  private stopDrain(port: Port): void {
    const t = this.drains.get(port.index);
    if (t) clearInterval(t);
    this.drains.delete(port.index);
  }

  /** Change a port's administrative state, its carrier, and the routes through it. */
  setPortState(port: Port, state: Port['state'], log = true, details: Record<string, unknown> = {}): void {
    const from = port.state;
    if (log) this.logPortState(port, state, from, details);
    port.state = state;
    port.stateSince = Date.now();
    try {
      port.device.setCarrier(state !== 'blocked');
    } catch (e) {
      this.log.warn({ event: 'port.carrier-error', port: port.name, err: (e as Error).message }, 'cannot set carrier');
    }
    this.rib.reevaluate((r) => r.port === port.index, `port-${state === 'up' ? 'unblocked' : state}`);
  }

  private logPortState(port: Port, state: Port['state'], from: Port['state'], details: Record<string, unknown> = {}): void {
    this.log.info({ event: `port.${state === 'up' ? 'unblocked' : state}`, port: port.name, from, ...details }, `port ${port.name} ${state}`);
  }

  /** Re-check routes after a protocol changed its opinion (e.g. a BFD session went down). */
  reevaluateRoutes(filter: (r: Route) => boolean, cause: string): void {
    this.rib.reevaluate(filter, cause);
  }

  addRoute(spec: RouteSpec): Route {
    return this.rib.add(spec, `${spec.source}-added`);
  }

  removeRoute(id: number, cause = 'route-removed'): boolean {
    return this.rib.remove(id, cause);
  }

  /** Where a packet src → dst would go: steering rules first, then the FIB. */
  explainLookup(dst: number, src?: number): { decidedBy: string; port: string | null; route: Route | null } {
    if (src !== undefined) {
      for (const s of this.forwarder.selectors) {
        const hit = s.explain?.(src, dst);
        if (hit) return { decidedBy: hit.by, port: this.ports[hit.port]?.name ?? null, route: null };
      }
    }
    const route = this.rib.lookup(dst) ?? null;
    return { decidedBy: route ? 'fib' : 'none', port: route ? this.ports[route.port]!.name : null, route };
  }

  private unusableReason(r: Route): string | null {
    const port = this.ports[r.port];
    if (!port) return 'no-port';
    if (port.state === 'blocked') return 'port-blocked';
    if (port.state === 'draining') return 'port-draining';
    for (const p of this.protocols) {
      const why = p.routeUnusable?.(r);
      if (why) return why;
    }
    return null;
  }

  describeRoute(r: Route | null): { port: string; via: string | null; metric: number; source: string } | null {
    if (!r) return null;
    return { port: this.ports[r.port]?.name ?? `#${r.port}`, via: r.nextHop ? formatAddress(r.nextHop) : null, metric: r.metric, source: r.source };
  }

  private logFibChange(c: FibChange): void {
    const event = !c.before ? 'route.installed' : !c.after ? 'route.withdrawn' : 'route.changed';
    const prefix = formatPrefix(c.prefix, c.len);
    const before = this.describeRoute(c.before);
    const after = this.describeRoute(c.after);
    const what = after ? `via ${after.port}${after.via ? ` ${after.via}` : ''} metric ${after.metric}` : 'no route';
    this.log.info({ event, prefix, old: before, new: after, cause: c.cause }, `${prefix}: ${what}`);
    for (const l of this.fibListeners) l(c);
  }
}
