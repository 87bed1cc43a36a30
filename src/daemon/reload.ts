// Reload without restart (SIGHUP, POST /v1/reload): read the config again
// and apply only the difference. A new config that does not load is refused
// whole — the running one stays — and so is one that changes what cannot
// change while running (the router's name, metricsListen, RIP or OSPF on or
// off, the OSPF router id, what a port's open device was opened with: its
// type, MTU and offload mode), or names a new trigger like one added through
// the API. The API socket stays where it was opened (it may come from the
// command line): a changed `socket` waits for a restart. New ports are
// opened before anything else changes, so a device that cannot be opened
// refuses the reload too. Then, in this order: new ports join; static routes,
// policy, virtual services and settings follow; protocols and triggers are
// reconfigured (each touching only what changed); ports that left or changed
// go last, after the protocols said their last words on them. With
// forwarding workers the same (router.ts, forwarding-workers.ts): an added
// port's queues are opened first; the workers take it in message order,
// before the policy and settings sent after it, and its routes enter the
// FIB once every worker has it; a removed port's queues close once every
// worker has let go; a changed port keeping its device takes its queues
// over. Refused: more ports (indices) than the workers' shared state has
// room for (the start's and SPARE_PORT_INDICES more), or more at once than
// the arena has receive slots for (the start's and SPARE_PORTS more).
import { isDeepStrictEqual } from 'node:util';
import { ConfigError } from '../config/problems.js';
import { loadRouterConfig, type RouterConfig } from '../config/router-config.js';
import { OperationError } from '../control/errors.js';
import { deviceKey } from '../router/router.js';
import type { ReloadJson as ReloadSummary } from '../api/types.js';
import type { Daemon } from './assemble.js';

export class ReloadRefused extends Error {}

/** Load `file` and apply it to the running daemon; throws ReloadRefused (nothing changed) or returns what changed. */
export function reloadDaemon(daemon: Daemon, file: string, opts: { keepLogLevel?: boolean } = {}): ReloadSummary {
  let next: RouterConfig;
  try {
    next = loadRouterConfig(file);
  } catch (e) {
    if (e instanceof ConfigError) throw new ReloadRefused(e.message);
    throw e;
  }
  const { router, bfd, rip, ospf, triggers } = daemon;
  const prev = router.config;
  next.socket = prev.socket; // may come from the command line; never changes while running
  next.workers = prev.workers; // the same: forwarding workers start with the daemon
  next.workerNice = prev.workerNice;
  next.ioUring = prev.ioUring; // how the TUNs' batches go: chosen at start
  if (JSON.stringify(next.metricsListen) !== JSON.stringify(prev.metricsListen)) throw new ReloadRefused(`${file}: metricsListen: cannot change while running: restart instead`);
  if (next.router !== prev.router) throw new ReloadRefused(`${file}: router: the name cannot change while running ("${prev.router}" → "${next.router}"): restart instead`);
  if (!!next.rip !== !!prev.rip && !rip) throw new ReloadRefused(`${file}: rip: RIP cannot be turned on by a reload: restart instead`);
  if (!next.rip && rip) throw new ReloadRefused(`${file}: rip: RIP cannot be turned off by a reload (give it no ports to silence it): restart instead`);
  if (next.ospf && !ospf) throw new ReloadRefused(`${file}: ospf: OSPF cannot be turned on by a reload: restart instead`);
  if (!next.ospf && ospf) throw new ReloadRefused(`${file}: ospf: OSPF cannot be turned off by a reload (give it no ports to silence it): restart instead`);
  if (next.ospf && ospf && (next.ospf.routerId ?? ospf.routerId) !== ospf.routerId) {
    throw new ReloadRefused(`${file}: ospf.routerId: the router id cannot change while running: restart instead`);
  }

  // A trigger added through the API keeps its name: a config trigger taking it would be skipped silently, then replace it at the next reload.
  const fromConfig = new Set(prev.triggers.map((t) => t.name));
  next.triggers.forEach((t, i) => {
    if (!fromConfig.has(t.name) && triggers.get(t.name)) throw new ReloadRefused(`${file}: triggers[${i}].name: "${t.name}" is the name of a trigger added through the API: choose another`);
  });

  const before = new Map(prev.ports.map((p) => [p.name, p]));
  const after = new Map(next.ports.map((p) => [p.name, p]));
  const removed = prev.ports.filter((p) => !after.has(p.name)).map((p) => p.name);
  const changed = next.ports.filter((p) => before.has(p.name) && !isDeepStrictEqual(before.get(p.name), p)).map((p) => p.name);
  const added = next.ports.filter((p) => !before.has(p.name)).map((p) => p.name);

  // A changed port on the same device keeps the open device: what the device was opened with stays (the interface's MTU, its offloads).
  for (const name of changed) {
    const [was, now] = [before.get(name)!, after.get(name)!];
    if (deviceKey(was) !== deviceKey(now)) continue;
    const fixed = (['type', 'mtu', 'offload'] as const).find((k) => was[k] !== now[k]);
    if (fixed) {
      throw new ReloadRefused(`${file}: ports[${next.ports.indexOf(now)}].${fixed}: cannot change on port ${name}'s open device ${now.device} while running `
        + `(${String(was[fixed])} → ${String(now[fixed])}): restart instead, or give the port another device`);
    }
  }

  // Prepare: open what is new (or changed) before anything changes; a failure refuses the whole reload.
  // A changed port that keeps its device (same name and namespace) takes the open device over (with forwarding workers: its queues).
  const leaving = [...removed, ...changed].map((name) => router.portByName(name));
  const reuse = new Map(leaving.filter((p) => after.has(p.name)).map((p) => [deviceKey({ device: p.deviceName, netns: p.netns }), p.device]));
  let opened;
  try {
    opened = router.openPorts(next.ports.filter((p) => added.includes(p.name) || changed.includes(p.name)), reuse);
  } catch (e) {
    throw new ReloadRefused(`${file}: cannot open the new ports: ${(e as Error).message}`);
  }

  // Commit. The old versions of changed ports step aside at once: their names now find the new ones.
  router.retirePorts(leaving);
  for (const p of opened) router.attachPort(p);
  const summary: ReloadSummary = {
    file, changed: false, ports: { added, removed, changed }, staticRoutes: router.syncStaticRoutes(next.routes),
    policy: !isDeepStrictEqual(prev.policy, next.policy), virtualServices: !isDeepStrictEqual(prev.virtualServices, next.virtualServices),
    bfd: !isDeepStrictEqual(prev.bfd, next.bfd), rip: !isDeepStrictEqual(prev.rip, next.rip), ospf: !isDeepStrictEqual(prev.ospf, next.ospf), triggers: { added: [], removed: [] }, settings: [],
  };
  if (summary.policy || leaving.length > 0) router.path.setPolicy(next.policy);
  if (summary.virtualServices) router.path.setVirtualServices(next.virtualServices);
  const icmpChanged = !isDeepStrictEqual(prev.icmpRateLimit, next.icmpRateLimit);
  const idleChanged = prev.drainIdleTimeout !== next.drainIdleTimeout;
  // Also the forwarding workers' paths: they send ICMP errors and pin flows of their own.
  if (icmpChanged || idleChanged) router.path.setTransitSettings({ icmpRateLimit: next.icmpRateLimit, drainIdleTimeout: next.drainIdleTimeout });
  if (icmpChanged) summary.settings.push('icmpRateLimit');
  if (!isDeepStrictEqual(prev.replyRateLimit, next.replyRateLimit)) {
    router.path.server.setLimit(next.replyRateLimit);
    summary.settings.push('replyRateLimit');
  }
  if (idleChanged) summary.settings.push('drainIdleTimeout');
  if (prev.logLevel !== next.logLevel && !opts.keepLogLevel) {
    router.log.level = next.logLevel;
    summary.settings.push('logLevel');
  }
  // Protocols find ports by name: a changed port's name now finds the new one; they speak their last words on the old.
  if (summary.bfd || leaving.length > 0) bfd.reconfigure(next.bfd);
  if (rip && next.rip && (summary.rip || leaving.length > 0)) rip.reconfigure(next.rip);
  if (ospf && next.ospf && (summary.ospf || leaving.length > 0)) ospf.reconfigure(next.ospf);
  summary.triggers = triggers.reconfigure(next.triggers, prev.triggers);
  for (const p of leaving) router.removePort(p);
  router.config = next;
  summary.changed = added.length + removed.length + changed.length + summary.staticRoutes.added + summary.staticRoutes.removed + summary.triggers.added.length +
    summary.triggers.removed.length + summary.settings.length + [summary.policy, summary.virtualServices, summary.bfd, summary.rip, summary.ospf].filter(Boolean).length > 0;
  router.log.info({ event: 'config.reloaded', ...summary }, summary.changed ? `config reloaded from ${file}` : `config reloaded from ${file}: nothing changed`);
  return summary;
}

/** Turn a refusal into the API's terms. */
export function asOperationError(e: unknown): unknown {
  return e instanceof ReloadRefused ? new OperationError('invalid', e.message) : e;
}
