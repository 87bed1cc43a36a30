// GET /v1/nat: the virtual services, their backends, the flows and the NAT's counters.
import type { VirtualServiceNat } from '../dataplane/nat.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import { IpProto } from '../wire/ipv4.js';
import type { ApiServer } from './server.js';
import type { NatCountersJson, NatJson } from './types.js';

/** How many flows GET /v1/nat lists at most (most recently used first). */
export const NAT_FLOWS_LISTED = 1000;

export function natCounters(nat: VirtualServiceNat): NatCountersJson {
  const f = nat.flows;
  return {
    capacity: f.capacity,
    live: f.liveCount(),
    held: f.held,
    created: f.created,
    expired: f.expired,
    refusedFull: f.refusedFull,
    refusedConflict: f.refusedConflict,
    refusedClientLimit: f.refusedClientLimit,
    evictedUnanswered: f.evictedUnanswered,
    maxFlowsPerClient: f.maxPerClient,
    synRestarts: nat.synRestarts,
    fragmentsDropped: nat.fragmentsDropped,
    truncatedDropped: nat.truncatedDropped,
    packetsIn: nat.packetsIn,
    packetsOut: nat.packetsOut,
    returnUntranslated: nat.returnUntranslated,
  };
}

export function natJson(nat: VirtualServiceNat | null): NatJson {
  if (!nat) return { services: [], flows: [], counters: null };
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

/** `nat()`: the NAT now (a reload may replace it); `tick` brings its coarse clock up to date before reading ages. */
export function registerNatApi(api: ApiServer, nat: () => VirtualServiceNat | null, tick: () => void): void {
  api.on('GET', '/v1/nat', () => {
    tick();
    return natJson(nat());
  });
}
