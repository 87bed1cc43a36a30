// Turns the config's virtual services into a running NAT: installs the
// rewriter on the packet path (only when a service exists: otherwise the path
// has nothing extra to do), makes each VIP a router address (so ping to it is
// answered), serves GET /v1/nat, and logs the services at start and the
// counters once a minute when they moved — never per flow: at ~1,000 new
// flows/s that would be the whole log.
import type { ApiServer } from '../api/server.js';
import type { Router } from './router.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import { IpProto } from '../wire/ipv4.js';
import { VirtualServiceNat } from '../dataplane/virtual-service.js';

/** How many flows GET /v1/nat lists at most (most recently used first). */
export const NAT_FLOWS_LISTED = 1000;
const COUNTER_LOG_MS = 60_000;

export function setupVirtualServices(router: Router, api: ApiServer): VirtualServiceNat | null {
  const services = router.config.virtualServices;
  if (services.length === 0) {
    api.on('GET', '/v1/nat', () => ({ services: [], flows: [], counters: null }));
    return null;
  }
  // router.flows.now is the per-batch coarse clock of the packet path.
  const nat = new VirtualServiceNat(services, router.flows);
  for (const s of services) router.local.addAddress(s.address);
  router.forwarder.rewriters.push(nat);
  for (const s of services) {
    router.log.info({
      event: 'nat.service',
      service: s.name,
      address: formatAddress(s.address),
      backends: s.backends.map((b) => ({ name: b.name, address: formatAddress(b.address), sources: b.sources.map((p) => formatPrefix(p.addr, p.len)) })),
      idleTimeoutS: s.idleTimeout,
      capacity: nat.flows.capacity,
    }, `virtual service ${s.name} on ${formatAddress(s.address)}`);
  }

  let timer: NodeJS.Timeout | undefined;
  let logged = '';
  const logCounters = () => {
    router.flows.tick();
    const c = natCounters(nat);
    const key = JSON.stringify({ ...c, live: 0 });
    if (key === logged) return;
    logged = key;
    router.log.info({ event: 'nat.counters', ...c }, `NAT: ${c.live} live flows, ${c.created} created`);
  };
  router.addProtocol({
    name: 'nat',
    start() {
      timer = setInterval(logCounters, COUNTER_LOG_MS);
      timer.unref();
    },
    stop() {
      if (timer) clearInterval(timer);
      logCounters();
    },
  });

  api.on('GET', '/v1/nat', () => {
    router.flows.tick();
    return natJson(nat);
  });
  return nat;
}

export function natCounters(nat: VirtualServiceNat) {
  const f = nat.flows;
  return {
    capacity: f.capacity,
    live: f.liveCount(),
    held: f.held,
    created: f.created,
    expired: f.expired,
    refusedFull: f.refusedFull,
    refusedConflict: f.refusedConflict,
    synRestarts: nat.synRestarts,
    fragmentsDropped: nat.fragmentsDropped,
    truncatedDropped: nat.truncatedDropped,
    packetsIn: nat.packetsIn,
    packetsOut: nat.packetsOut,
    returnUntranslated: nat.returnUntranslated,
  };
}

/** The body of GET /v1/nat. */
export function natJson(nat: VirtualServiceNat) {
  const f = nat.flows;
  const liveByBackend = new Float64Array(nat.backendAddress.length);
  for (let e = 0; e < f.capacity; e++) if (f.isLive(e)) liveByBackend[f.backendIndex[e]!]! += 1;
  const names: string[] = [];
  // Backends are numbered in config order across services (as in VirtualServiceNat).
  const services = nat.services.map((s) => ({
    name: s.name,
    address: formatAddress(s.address),
    backends: s.backends.map((b) => {
      const bi = names.length;
      names.push(b.name);
      return {
        name: b.name,
        address: formatAddress(b.address),
        sources: b.sources.map((p) => formatPrefix(p.addr, p.len)),
        default: b.sources.length === 0,
        flows: liveByBackend[bi]!,
        flowsCreated: nat.backendFlowsCreated[bi]!,
        packets: nat.backendPackets[bi]!,
      };
    }),
    idleTimeoutS: s.idleTimeout,
  }));
  const now = f.clock.now;
  const flows = f.recent(NAT_FLOWS_LISTED).map((e) => ({
    protocol: f.proto[e] === IpProto.TCP ? 'tcp' : 'udp',
    client: formatAddress(f.client[e]!),
    clientPort: f.clientPort(e),
    vip: formatAddress(f.vip[e]!),
    port: f.port(e),
    backend: names[f.backendIndex[e]!]!,
    backendAddress: formatAddress(f.backend[e]!),
    state: f.isClosing(e) ? 'closing' : 'open',
    packets: f.packets[e]!,
    idleMs: Math.max(0, now - f.last[e]!),
  }));
  return { services, flows, counters: natCounters(nat) };
}
