// A router daemon put together from its config: the router (ports, RIB,
// packet path), the control protocols plugged into it — BFD always (idle
// without sessions; it is the router's neighbour liveness), RIP when
// configured — the daemon's features (history triggers, NAT counters), and
// the API that shows and drives them all.
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { registerBfdApi } from '../api/bfd-api.js';
import { registerNatApi } from '../api/nat-api.js';
import { registerPolicyApi } from '../api/policy-api.js';
import { registerRipApi } from '../api/rip-api.js';
import { registerRouterApi } from '../api/router-api.js';
import type { ApiServer } from '../api/server.js';
import { registerTriggerApi } from '../api/trigger-api.js';
import type { RouterConfig } from '../config/router-config.js';
import { BfdProtocol } from '../protocols/bfd/bfd.js';
import { RIP_DISTANCE, RipProtocol } from '../protocols/rip/rip.js';
import { Router, type DeviceOpener } from '../router/router.js';
import { TriggerSet } from '../triggers/trigger-set.js';
import type { LogSink } from './log.js';
import { natLogger } from './nat-feature.js';

export interface Daemon {
  router: Router;
  bfd: BfdProtocol;
  rip: RipProtocol | null;
  triggers: TriggerSet;
}

/** BFD sessions carry no routes of their own: their "distance" is never compared. */
const BFD_DISTANCE = 255;

export interface AssembleOptions {
  openDevice?: DeviceOpener;
  /** Where the log goes: its write failures show in the stats. */
  logSink?: LogSink;
}

export function assembleDaemon(config: RouterConfig, log: Logger, api: ApiServer, opts: AssembleOptions = {}): Daemon {
  const router = new Router(config, log, opts.openDevice);
  const bfd = new BfdProtocol(router.protocolContext('bfd', BFD_DISTANCE), config.bfd);
  router.useLiveness(bfd);
  router.addPlugin(bfd);
  const rip = config.rip ? new RipProtocol(router.protocolContext('rip', RIP_DISTANCE), config.rip) : null;
  if (rip) router.addPlugin(rip);
  const triggers = new TriggerSet(router, { baseDir: dirname(config.file) });
  for (const c of config.triggers) triggers.add(c);
  router.addPlugin(triggers);
  const { nat, flows } = router.path;
  if (nat) router.addPlugin(natLogger(nat, flows, log));

  const sink = opts.logSink;
  registerRouterApi(api, router, () => ({ writeFailures: sink?.failures ?? 0, lastError: sink?.lastError ?? null }));
  registerPolicyApi(api, router);
  registerBfdApi(api, bfd);
  if (rip) registerRipApi(api, rip, router.ports, bfd, () => router.clock.now());
  registerNatApi(api, nat, () => flows.tick());
  registerTriggerApi(api, triggers, () => router.livePorts().map((p) => p.name), log);
  return { router, bfd, rip, triggers };
}
