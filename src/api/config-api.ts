// The running config (GET /v1/config), in the config file's own format, so
// it can be saved and loaded again; reload (POST /v1/reload) and the log
// level (POST /v1/log).
import { authJson } from '../config/auth-config.js';
import { DEFAULT_WORKER_NICE, type RouterConfig } from '../config/router-config.js';
import { formatAddress as a, formatPrefix } from '../net/addr.js';
import { stringField } from './params.js';
import { ApiError, type ApiServer } from './server.js';

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };
const p = (x: { addr: number; len: number }) => formatPrefix(x.addr, x.len);

/** A parsed config back in the file's format (what `tunroute run --config` reads). */
export function configJson(c: RouterConfig): Record<string, unknown> {
  return {
    router: c.router,
    socket: c.socket,
    logLevel: c.logLevel,
    icmpRateLimit: c.icmpRateLimit,
    replyRateLimit: c.replyRateLimit,
    ports: c.ports.map((x) => ({ name: x.name, ...(x.type !== 'tun' ? { type: x.type } : {}), device: x.device, ...(x.netns ? { netns: x.netns } : {}), address: formatPrefix(x.address, x.prefixLen), mtu: x.mtu, ...(x.neighbours.length ? { neighbours: x.neighbours.map((n) => ({ address: a(n.address), mac: n.mac })) } : {}), ...(x.offload !== c.offload ? { offload: x.offload } : {}) })),
    routes: c.routes.map((r) => ({ prefix: formatPrefix(r.prefix, r.len), port: r.port, ...(r.via ? { via: a(r.via) } : {}), metric: r.metric, bfd: r.bfd })),
    bfd: {
      interval: c.bfd.interval,
      multiplier: c.bfd.multiplier,
      sessions: c.bfd.sessions.map((s) => ({ port: s.port, peer: a(s.peer), interval: s.interval, multiplier: s.multiplier, ...(s.auth ? { auth: authJson(s.auth) } : {}) })),
      ...(c.bfd.auth.type !== 'none' ? { auth: authJson(c.bfd.auth) } : {}),
      ...(c.bfd.ports.length ? { ports: c.bfd.ports.map((x) => ({ port: x.port, auth: authJson(x.auth) })) } : {}),
    },
    ...(c.rip ? { rip: { ...c.rip, ports: c.rip.ports.map((x) => ({ ...x, neighbours: x.neighbours.map(a), auth: authJson(x.auth) })) } } : {}),
    ...(c.ospf ? { ospf: ospfConfigJson(c.ospf) } : {}),
    policy: c.policy.map((r) => ({
      name: r.name,
      from: p(r.from),
      ...(r.to ? { to: p(r.to) } : {}),
      ...(r.protocol ? { protocol: PROTOCOL_NAMES[r.protocol] ?? r.protocol } : {}),
      ...(r.dstPorts ? { dstPorts: r.dstPorts[0] === r.dstPorts[1] ? String(r.dstPorts[0]) : r.dstPorts.join('-') } : {}),
      port: r.port,
      ...(r.via ? { via: a(r.via) } : {}),
    })),
    virtualServices: c.virtualServices.map((s) => ({
      name: s.name, address: a(s.address), idleTimeout: s.idleTimeout,
      backends: s.backends.map((b) => ({ name: b.name, address: a(b.address), ...(b.sources.length ? { sources: b.sources.map(p) } : {}) })),
    })),
    triggers: c.triggers.map((t) => ({
      name: t.name, ...(t.file !== null ? { file: t.file } : {}), api: t.api, action: t.action, port: t.port,
      match: { client: a(t.match.client), ...(t.match.server !== null ? { server: t.match.server } : {}), ...(t.match.status !== null ? { status: t.match.status } : {}), ...(t.match.path !== null ? { path: t.match.path } : {}) },
    })),
    drainIdleTimeout: c.drainIdleTimeout,
    ...(c.metricsListen ? { metricsListen: `${c.metricsListen.address}:${c.metricsListen.port}` } : {}),
    ...(c.offload ? {} : { offload: false }),
    ...(c.ioUring ? {} : { ioUring: false }),
    ...(c.workers ? { workers: c.workers } : {}),
    ...(c.workerNice !== DEFAULT_WORKER_NICE ? { workerNice: c.workerNice } : {}),
  };
}

function ospfConfigJson(o: NonNullable<RouterConfig['ospf']>): Record<string, unknown> {
  return {
    ...(o.routerId !== null ? { routerId: a(o.routerId) } : {}),
    ports: o.ports.map((x) => ({ ...x, auth: authJson(x.auth) })),
    redistribute: o.redistribute.map((r) => ({ source: r.source, ...(r.metric !== null ? { metric: r.metric } : {}), metricType: r.metricType })),
    lsdbLimit: o.lsdbLimit,
  };
}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface ConfigControl {
  config(): RouterConfig;
  /** Reload from the config file; resolves with what changed. */
  reload(): unknown;
  setLogLevel(level: string): void;
}

export function registerConfigApi(api: ApiServer, control: ConfigControl): void {
  api.on('GET', '/v1/config', () => configJson(control.config()));
  api.on('POST', '/v1/reload', () => control.reload());
  api.on('POST', '/v1/log', ({ body }) => {
    const level = stringField(body, 'level', true);
    if (!LEVELS.includes(level)) throw new ApiError(400, `level: must be one of ${LEVELS.join(', ')}`);
    control.setLogLevel(level);
    return { level };
  });
}
