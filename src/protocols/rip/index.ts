// RIP in the daemon: made when the config has a `rip` section, added to the
// router's protocols, and shown by `GET /v1/rip`.
import type { ApiServer } from '../../api/server.js';
import type { Router } from '../../daemon/router.js';
import { formatAddress, formatPrefix } from '../../net/addr.js';
import { RIP_CHECK_NAMES } from '../../wire/rip.js';
import type { NeighbourLiveness } from '../liveness.js';
import { RIP_DROP_NAMES, RipProtocol } from './rip.js';

export { RipProtocol } from './rip.js';

export function setupRip(router: Router, api: ApiServer, liveness: NeighbourLiveness): RipProtocol | null {
  if (!router.config.rip) return null;
  const rip = new RipProtocol(router, liveness);
  router.addProtocol(rip);
  // Static/API/connected changes alter what RIP redistributes: tell neighbours now.
  router.onFibChange((c) => {
    if ((c.before && c.before.source !== 'rip') || (c.after && c.after.source !== 'rip')) rip.localRoutesChanged();
  });
  api.on('GET', '/v1/rip', () => ripStatus(router, rip, liveness));
  return rip;
}

function named(values: Float64Array, names: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 1; i < values.length; i++) if (values[i]! > 0) out[names[i]!] = values[i]!;
  return out;
}

/** The `GET /v1/rip` answer. Times are ages in ms (lastHeardMs: since the last packet). */
export function ripStatus(router: Router, rip: RipProtocol, liveness: NeighbourLiveness) {
  const now = Date.now();
  const portName = (i: number) => router.ports[i]?.name ?? `#${i}`;
  return {
    updateTime: rip.config.updateTime,
    timeoutTime: rip.config.timeoutTime,
    garbageTime: rip.config.garbageTime,
    redistribute: rip.config.redistribute,
    ports: rip.ports.map((p) => ({
      port: p.port.name,
      address: formatPrefix(p.port.address, p.port.prefixLen),
      cost: p.cost,
      passive: p.passive,
      bfd: p.bfd,
      state: p.active ? 'active' : 'blocked',
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
    })),
    // One row per (prefix, neighbour); `best`: the one RIP advertises (the RIB selects among them all).
    routes: [...rip.table.prefixes()].flatMap((p) => p.routes.map((r) => ({
      prefix: formatPrefix(r.prefix, r.len),
      metric: r.metric,
      nextHop: formatAddress(r.nextHop),
      port: portName(r.port),
      neighbour: formatAddress(r.neighbour),
      tag: r.tag,
      ageMs: now - r.learnedAt,
      state: r.state,
      /** Until timeout (active) or deletion (garbage). */
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
      droppedPackets: named(rip.packetDrops, RIP_DROP_NAMES),
      droppedEntries: named(rip.entryDrops, RIP_CHECK_NAMES),
    },
  };
}
