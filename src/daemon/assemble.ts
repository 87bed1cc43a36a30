// A router daemon put together from its config: the router (ports, RIB,
// packet path), the control protocols plugged into it — BFD always (idle
// without sessions; it is the router's neighbour liveness), RIP when
// configured, OSPF when configured — the daemon's features (history triggers, NAT counters), and
// the API that shows and drives them all.
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { bfdJson, registerBfdApi } from '../api/bfd-api.js';
import { registerMetricsApi, type MetricSources } from '../api/metrics.js';
import { natJsonFrom, registerNatApi, type NatSource } from '../api/nat-api.js';
import { registerPolicyApi } from '../api/policy-api.js';
import { ospfJson, registerOspfApi } from '../api/ospf-api.js';
import { registerRipApi, ripJson } from '../api/rip-api.js';
import { portsJson, registerRouterApi, routeJson, statsJson } from '../api/router-api.js';
import type { ApiServer } from '../api/server.js';
import { registerTriggerApi } from '../api/trigger-api.js';
import type { RouterConfig } from '../config/router-config.js';
import { BfdProtocol } from '../protocols/bfd/bfd.js';
import { OSPF_DISTANCE, OspfProtocol } from '../protocols/ospf/ospf.js';
import { RIP_DISTANCE, RipProtocol } from '../protocols/rip/rip.js';
import { Router, type DeviceOpener, type QueueOpener } from '../router/router.js';
import { TriggerSet } from '../triggers/trigger-set.js';
import type { LogSink } from './log.js';
import { natLogger } from './nat-feature.js';

export interface Daemon {
  router: Router;
  /** What /metrics reads (also served on `metricsListen`). */
  metrics: MetricSources;
  bfd: BfdProtocol;
  rip: RipProtocol | null;
  ospf: OspfProtocol | null;
  triggers: TriggerSet;
}

/** BFD sessions carry no routes of their own: their "distance" is never compared. */
const BFD_DISTANCE = 255;

export interface AssembleOptions {
  openDevice?: DeviceOpener;
  /** With forwarding workers: how a port's queues are opened. */
  openQueues?: QueueOpener;
  /** Where the log goes: its write failures show in the stats. */
  logSink?: LogSink;
}

export function assembleDaemon(config: RouterConfig, log: Logger, api: ApiServer, opts: AssembleOptions = {}): Daemon {
  const router = new Router(config, log, opts.openDevice, undefined, opts.openQueues);
  const bfd = new BfdProtocol(router.protocolContext('bfd', BFD_DISTANCE), config.bfd);
  router.useLiveness(bfd);
  router.addPlugin(bfd);
  const rip = config.rip ? new RipProtocol(router.protocolContext('rip', RIP_DISTANCE), config.rip) : null;
  if (rip) router.addPlugin(rip);
  const ospf = config.ospf ? new OspfProtocol(router.protocolContext('ospf', OSPF_DISTANCE), config.ospf) : null;
  if (ospf) router.addPlugin(ospf);
  const triggers = new TriggerSet(router, { baseDir: dirname(config.file) });
  for (const c of config.triggers) triggers.add(c);
  router.addPlugin(triggers);
  // The services as configured now (a reload may change them); what the NAT holds, from every thread that runs it.
  const nat: NatSource = { services: () => router.path.nat?.services ?? [], snapshot: (limit) => router.natSnapshot(limit) };
  router.addPlugin(natLogger(nat, log));

  const sink = opts.logSink;
  const logStats = () => ({ writeFailures: sink?.failures ?? 0, lastError: sink?.lastError ?? null });
  registerRouterApi(api, router, logStats);
  registerPolicyApi(api, router);
  registerBfdApi(api, bfd);
  if (rip) registerRipApi(api, rip, router.ports, bfd, () => router.clock.now());
  if (ospf) registerOspfApi(api, ospf, router.ports, () => router.clock.now());
  registerNatApi(api, nat);
  const metrics: MetricSources = {
    ports: () => portsJson(router),
    stats: () => statsJson(router, logStats),
    routes: () => router.rib.routes().map((r) => routeJson(router, r)),
    routeEvents: () => router.fibEvents,
    bfd: () => bfdJson(bfd),
    rip: () => (rip ? ripJson(rip, router.ports, bfd, router.clock.now()) : null),
    ospf: () => (ospf ? ospfJson(ospf, router.ports, router.clock.now()) : null),
    nat: () => natJsonFrom(nat),
  };
  registerMetricsApi(api, metrics);
  registerTriggerApi(api, triggers, () => router.livePorts().map((p) => p.name), log);
  return { router, metrics, bfd, rip, ospf, triggers };
}
