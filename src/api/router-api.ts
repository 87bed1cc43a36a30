// API endpoints of the router core: ports, routes, stats.
import { formatAddress, formatPrefix } from '../net/addr.js';
import type { FlowFigures } from '../dataplane/flow-table.js';
import type { Router } from '../router/router.js';
import type { Route } from '../routing/rib.js';
import { checkRoute } from '../config/route-config.js';
import { formatProblem } from '../config/problems.js';
import { addressText, integerField, prefixText, stringField } from './params.js';
import { ApiError, JsonStream, Slices, type ApiServer } from './server.js';
import { formatMac, parseMac } from '../wire/ethernet.js';
import { ROUTES_PER_REQUEST, type CountersJson, type LookupJson, type NeighbourPortJson, type PortJson, type RouteJson, type RouterInfoJson, type StatsJson } from './types.js';

/** Time a bulk add works before it lets the event loop run (and sleeps, see Slices): packets and BFD wait at most this long. */
const ADD_SLICE_MS = 1;

export function routeJson(router: Router, r: Route): RouteJson {
  return {
    id: r.id,
    prefix: formatPrefix(r.prefix, r.len),
    port: router.ports[r.port]?.name ?? null,
    via: r.nextHop ? formatAddress(r.nextHop) : null,
    metric: r.metric,
    source: r.source,
    bfd: r.trackBfd ?? false,
    state: r.selected ? 'active' : r.unusable ? 'unusable' : 'standby',
    unusable: r.unusable,
    ageMs: Date.now() - r.addedAt,
  };
}

export function portsJson(router: Router): PortJson[] {
  return router.livePorts().map((p) => ({
    name: p.name,
    type: p.link ? 'ethernet' : 'tun',
    mac: p.link ? formatMac(p.link.mac) : null,
    device: p.deviceName,
    netns: p.netns || null,
    address: formatPrefix(p.address, p.prefixLen),
    mtu: p.mtu,
    state: p.state,
    sinceMs: p.stateSince,
    ...countersJson(p),
  }));
}

/** A port's counters, and its link layer's for an Ethernet port. */
function countersJson(p: ReturnType<Router['livePorts']>[number]): CountersJson {
  return p.link ? { ...p.counters.snapshot(), link: p.link.counters.snapshot() } : p.counters.snapshot();
}

export function statsJson(router: Router, logStats: () => StatsJson['log']): StatsJson {
  return {
    router: router.name,
    ports: Object.fromEntries(router.livePorts().map((p) => [p.name, { state: p.state, ...countersJson(p) }])),
    ...router.replyFigures(),
    policy: router.policyRules().map((r) => ({ rule: r.rule.name, hits: r.hits })),
    flows: flowsJson(router.flowFigures()),
    log: logStats(),
  };
}

/** The drain flow tables' figures (with forwarding workers: every thread's table summed). */
function flowsJson(f: FlowFigures): StatsJson['flows'] {
  return { pinnedToDrainingPort: f.pinned, capacity: f.capacity, live: f.live, inserted: f.inserted, evictedLive: f.evictedLive, untracked: f.untracked };
}

export function registerRouterApi(api: ApiServer, router: Router, logStats: () => StatsJson['log']): void {
  api.on('GET', '/v1/router', (): RouterInfoJson => ({
    name: router.name,
    pid: process.pid,
    uptimeMs: Date.now() - router.startedAt,
    ports: router.livePorts().length,
    routes: router.rib.size,
    protocols: router.plugins.map((p) => p.name),
  }));

  api.on('GET', '/v1/ports', () => portsJson(router));

  api.on('GET', '/v1/neighbours', (): NeighbourPortJson[] =>
    router.livePorts().filter((p) => p.link).map((p) => ({
      port: p.name,
      mac: formatMac(p.link!.mac),
      neighbours: p.link!.neighbours(),
      counters: p.link!.counters.snapshot(),
    })));

  /** An Ethernet port by name, or a 400 for a TUN port. */
  const ethernetPort = (name: string) => {
    const port = router.portByName(name);
    if (!port.link) throw new ApiError(400, `port "${name}" is not an Ethernet port`);
    return port;
  };

  api.on('POST', '/v1/neighbours', ({ body }) => {
    const port = ethernetPort(stringField(body, 'port', true));
    const address = addressText(body.address, 'address');
    const macText = stringField(body, 'mac', true);
    let mac: Uint8Array;
    try {
      mac = parseMac(macText);
    } catch (e) {
      throw new ApiError(400, `mac: ${(e as Error).message}`);
    }
    if ((mac[0]! & 1) !== 0) throw new ApiError(400, `mac: ${macText} is a group (multicast) address`);
    if (!port.link!.setStaticNeighbour(address, mac)) throw new ApiError(400, `address: ${formatAddress(address)} is not a neighbour on port "${port.name}" (or its table is full)`);
    router.log.info({ event: 'neighbour.added', port: port.name, address: formatAddress(address), mac: formatMac(mac) }, `neighbour ${formatAddress(address)} at ${formatMac(mac)} on ${port.name}`);
    return { port: port.name, address: formatAddress(address), mac: formatMac(mac) };
  });

  api.on('DELETE', '/v1/neighbours', ({ body }) => {
    const port = ethernetPort(stringField(body, 'port', true));
    const address = addressText(body.address, 'address');
    if (!port.link!.removeStaticNeighbour(address)) throw new ApiError(404, `no configured neighbour ${formatAddress(address)} on port "${port.name}"`);
    router.log.info({ event: 'neighbour.removed', port: port.name, address: formatAddress(address) }, `neighbour ${formatAddress(address)} removed from ${port.name}`);
    return { port: port.name, address: formatAddress(address) };
  });

  api.on('POST', '/v1/ports/:name/block', ({ params }) => {
    router.blockPort(params.name!);
    return { port: params.name, state: 'blocked' };
  });
  api.on('POST', '/v1/ports/:name/unblock', async ({ params }) => {
    await router.unblockPort(params.name!);
    return { port: params.name, state: 'up' };
  });

  api.on('POST', '/v1/ports/:name/drain', ({ params, body }) => {
    router.drainPort(params.name!, integerField(body, 'maxMs', 0, 3_600_000));
    return { port: params.name, state: 'draining' };
  });

  // Streamed: 500,000 routes go out in chunks with the event loop running in between (BFD's timers never wait for the list).
  api.on('GET', '/v1/routes', () => new JsonStream(router.rib.routesInChunks(), (r) => routeJson(router, r)));

  api.on('GET', '/v1/routes/lookup', ({ query }): LookupJson => {
    const addr = addressText(query.get('addr'), 'addr');
    const from = query.get('from');
    const result = router.explainLookup(addr, from === null ? undefined : addressText(from, 'from'));
    return {
      addr: formatAddress(addr),
      from: from ?? null,
      decidedBy: result.decidedBy,
      port: result.port,
      route: result.route ? routeJson(router, result.route) : null,
    };
  });

  // One route, or with `routes: [...]` up to ROUTES_PER_REQUEST at once: all checked first (the config
  // file's checks, word for word), then all added, the event loop running between slices of ADD_SLICE_MS.
  api.on('POST', '/v1/routes', async ({ body }): Promise<RouteJson | { added: number }> => {
    if (body.routes === undefined) {
      const port = router.portByName(stringField(body, 'port', true));
      const { via, ...rest } = body;
      const { route, problems } = checkRoute(via === null ? rest : body, router.livePorts());
      if (!route) throw new ApiError(400, problems.map(formatProblem).join('; '));
      const r = router.addRoute({ prefix: route.prefix, len: route.len, port: port.index, nextHop: route.via, metric: route.metric, trackBfd: route.bfd }, 'api');
      return routeJson(router, r);
    }
    const list = body.routes;
    if (!Array.isArray(list)) throw new ApiError(400, 'routes: must be a list of routes');
    if (Object.keys(body).length !== 1) throw new ApiError(400, 'routes: give the list alone (each route has its own fields)');
    if (list.length > ROUTES_PER_REQUEST) throw new ApiError(400, `routes: at most ${ROUTES_PER_REQUEST} per request (got ${list.length})`);
    const ports = router.livePorts();
    const routes = [];
    const problems = [];
    const slices = new Slices(ADD_SLICE_MS);
    for (let i = 0; i < list.length; i++) {
      const c = checkRoute(list[i], ports, `routes[${i}]`);
      if (c.route) routes.push(c.route);
      else problems.push(...c.problems);
      if (slices.due()) await slices.rest();
    }
    if (problems.length > 0) {
      const more = problems.length > 5 ? `; and ${problems.length - 5} more` : '';
      throw new ApiError(400, `nothing added: ${problems.slice(0, 5).map(formatProblem).join('; ')}${more}`);
    }
    let added = 0;
    try {
      for (const r of routes) {
        router.addRoute({ prefix: r.prefix, len: r.len, port: router.portByName(r.port).index, nextHop: r.via, metric: r.metric, trackBfd: r.bfd }, 'api');
        added++;
        if (slices.due()) await slices.rest();
      }
    } catch (e) {
      // Only a reload that removed a port while this ran gets here.
      throw new ApiError(409, `${added} of ${routes.length} routes added, then: ${(e as Error).message}`);
    }
    return { added };
  });

  api.on('DELETE', '/v1/routes', ({ body }) => {
    const { addr, len } = prefixText(body.prefix);
    const portName = stringField(body, 'port');
    const port = portName === undefined ? undefined : router.portByName(portName);
    const via = body.via === undefined || body.via === null ? undefined : addressText(body.via, 'via');
    const metric = integerField(body, 'metric', 0, 0x7fffffff);
    const found = router.rib.find((r) => r.prefix === addr && r.len === len && r.source !== 'connected' &&
      (port === undefined || r.port === port.index) && (via === undefined || r.nextHop === via) &&
      (metric === undefined || r.metric === metric));
    if (found.length === 0) throw new ApiError(404, `no static/api/rip route for ${formatPrefix(addr, len)} matches`);
    if (found.length > 1) {
      throw new ApiError(409, `${found.length} routes for ${formatPrefix(addr, len)} match: add port, via or metric to choose one`);
    }
    router.removeRoute(found[0]!.id);
    return { removed: routeJson(router, found[0]!) };
  });

  api.on('GET', '/v1/stats', () => statsJson(router, logStats));
}
