// GET /v1/nat: the virtual services, their backends, the flows and the NAT's counters.
// With forwarding workers the NAT runs in them, each on the flows it owns:
// the figures are every worker's merged (dataplane/nat-snapshot.ts).
import type { VirtualServiceConfig } from '../config/migration-config.js';
import type { VirtualServiceNat } from '../dataplane/nat.js';
import { natSnapshot, type NatSnapshot } from '../dataplane/nat-snapshot.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import { IpProto } from '../wire/ipv4.js';
import type { ApiServer } from './server.js';
import type { NatJson } from './types.js';

/** How many flows GET /v1/nat lists at most (most recently used first). */
export const NAT_FLOWS_LISTED = 1000;

/** One NAT (a router without forwarding workers) as GET /v1/nat shows it. */
export function natJson(nat: VirtualServiceNat | null): NatJson {
  return natJsonOf(nat?.services ?? [], nat ? natSnapshot(nat, NAT_FLOWS_LISTED) : null);
}

/** The services as configured, with what the NAT (one thread's, or every worker's merged) holds. */
export function natJsonOf(configured: readonly VirtualServiceConfig[], snap: NatSnapshot | null): NatJson {
  if (!snap || configured.length === 0) return { services: [], flows: [], counters: null };
  const names: string[] = [];
  // Backends are numbered in config order across services (as in VirtualServiceNat).
  const services = configured.map((s) => ({
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
        flows: snap.backendLive[bi] ?? 0,
        flowsCreated: snap.backendFlowsCreated[bi] ?? 0,
        packets: snap.backendPackets[bi] ?? 0,
      };
    }),
    idleTimeoutS: s.idleTimeout,
  }));
  const flows = snap.flows.map((f) => ({
    protocol: f.proto === IpProto.TCP ? 'tcp' : 'udp',
    client: formatAddress(f.client),
    clientPort: f.clientPort,
    vip: formatAddress(f.vip),
    port: f.port,
    backend: names[f.backendIndex] ?? '?',
    backendAddress: formatAddress(f.backend),
    state: f.closing ? 'closing' : 'open',
    packets: f.packets,
    idleMs: f.idleMs,
  }));
  return { services, flows, counters: snap.counts };
}

/** Where GET /v1/nat reads: the services configured now (a reload may change them) and the NAT's snapshot (every thread's that runs it). */
export interface NatSource {
  services(): readonly VirtualServiceConfig[];
  snapshot(limit: number): Promise<NatSnapshot | null>;
}

/** The NAT as GET /v1/nat shows it, from `source`. */
export async function natJsonFrom(source: NatSource): Promise<NatJson> {
  return natJsonOf(source.services(), await source.snapshot(NAT_FLOWS_LISTED));
}

export function registerNatApi(api: ApiServer, source: NatSource): void {
  api.on('GET', '/v1/nat', () => natJsonFrom(source));
}
