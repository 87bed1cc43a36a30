// GET /v1/rip: RIP's ports, neighbours, learned and advertised routes.
import type { NeighbourLiveness } from '../control/liveness.js';
import type { PortView } from '../control/protocol.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import { namedCounts } from '../packet/drops.js';
import { RIP_DROP_NAMES, type RipProtocol } from '../protocols/rip/rip.js';
import { RIP_CHECK_NAMES } from '../wire/rip.js';
import type { ApiServer } from './server.js';
import type { RipJson } from './types.js';

/** The `GET /v1/rip` answer. Times are ages in ms (lastHeardMs: since the last packet). */
export function ripJson(rip: RipProtocol, ports: readonly PortView[], liveness: NeighbourLiveness, now: number): RipJson {
  const portName = (i: number) => ports[i]?.name ?? `#${i}`;
  return {
    updateTime: rip.config.updateTime,
    timeoutTime: rip.config.timeoutTime,
    garbageTime: rip.config.garbageTime,
    redistribute: rip.config.redistribute,
    limits: {
      maxRoutes: rip.config.maxRoutes,
      maxRoutesPerNeighbour: rip.config.maxRoutesPerNeighbour,
      maxNeighboursPerPort: rip.config.maxNeighboursPerPort,
      routesHeld: rip.table.size,
      maxRoutesReached: rip.totalLimit.hit,
    },
    ports: rip.ports.map((p) => ({
      port: p.port.name,
      address: formatPrefix(p.port.address, p.port.prefixLen),
      cost: p.cost,
      passive: p.passive,
      bfd: p.bfd,
      state: p.active ? 'active' : 'blocked',
      ttlSecurity: p.ttlSecurity,
      neighbours: [...p.allowed].map(formatAddress),
      unicast: p.unicast,
      auth: { type: p.auth.type, keys: p.auth.chain.keys.map((k) => k.id), sendKey: p.auth.chain.sendKey(now)?.id ?? null },
      maxRoutesPerNeighbour: p.maxRoutesPerNeighbour,
      neighbourLimitReached: p.neighbourLimit.hit,
    })),
    neighbours: [...rip.neighbours.all()].map((n) => ({
      port: n.port.name,
      address: formatAddress(n.address),
      state: n.state,
      lastHeardMs: now - n.lastHeard,
      routes: rip.table.countFrom(n.port.index, n.address),
      bfd: rip.ripPort(n.port)?.bfd ? liveness.state(n.port, n.address) ?? null : null,
      badPackets: n.badPackets,
      badRoutes: n.badRoutes,
      responses: n.responses,
      ignoredResponses: n.ignored,
      held: rip.table.heldFrom(n.port.index, n.address),
      routesRefused: n.limit.total,
      limitReached: n.limit.hit,
      authFailures: n.authFailures,
      authSequence: n.authSequence >= 0 ? n.authSequence : null,
    })),
    routes: [...rip.table.prefixes()].flatMap((p) => p.routes.map((r) => ({
      prefix: formatPrefix(r.prefix, r.len),
      metric: r.metric,
      nextHop: formatAddress(r.nextHop),
      port: portName(r.port),
      neighbour: formatAddress(r.neighbour),
      tag: r.tag,
      ageMs: now - r.learnedAt,
      state: r.state,
      expiresInMs: r.deadline - now,
      best: p.best === r,
    }))),
    advertised: [...rip.locals.values()].map((l) => ({
      prefix: formatPrefix(l.prefix, l.len),
      source: l.source,
      metric: l.metric,
      port: portName(l.port),
      state: l.state,
    })),
    counters: {
      ...rip.counters,
      droppedPackets: namedCounts(rip.packetDrops, RIP_DROP_NAMES),
      droppedEntries: namedCounts(rip.entryDrops, RIP_CHECK_NAMES),
    },
  };
}

export function registerRipApi(api: ApiServer, rip: RipProtocol, ports: readonly PortView[], liveness: NeighbourLiveness, now: () => number): void {
  api.on('GET', '/v1/rip', () => ripJson(rip, ports, liveness, now()));
}
