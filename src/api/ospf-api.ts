// GET /v1/ospf: OSPF's interfaces, neighbours, link state database, routes
// and counters (what `tunroute ospf neighbours|database|routes` print).
import type { PortView } from '../control/protocol.js';
import { formatAddress, formatPrefix } from '../net/addr.js';
import { namedCounts } from '../packet/drops.js';
import { IF_STATE_NAMES } from '../protocols/ospf/interface.js';
import { NBR_STATE_NAMES } from '../protocols/ospf/neighbour.js';
import { OSPF_DROP_NAMES, OSPF_LSA_DROP_NAMES, type OspfProtocol } from '../protocols/ospf/ospf.js';
import { LSA_TYPE_NAMES } from '../wire/ospf-lsa.js';
import type { ApiServer } from './server.js';
import type { OspfJson } from './types.js';

const addrOrNull = (a: number) => (a === 0 ? null : formatAddress(a));
const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export function ospfJson(ospf: OspfProtocol, ports: readonly PortView[], now: number): OspfJson {
  const portName = (i: number) => ports[i]?.name ?? `#${i}`;
  const c = ospf.counters;
  return {
    routerId: formatAddress(ospf.routerId),
    lsdbLimit: ospf.config.lsdbLimit,
    redistribute: ospf.config.redistribute,
    interfaces: ospf.interfaces.map((i) => ({
      port: i.port.name,
      address: formatPrefix(i.address, i.port.prefixLen),
      network: i.config.network,
      state: IF_STATE_NAMES[i.state]!,
      cost: i.cost,
      passive: i.passive,
      bfd: i.config.bfd,
      auth: { type: i.auth.type, keys: i.auth.chain.keys.map((k) => k.id), sendKey: i.auth.chain.sendKey(now)?.id ?? null },
      helloInterval: i.config.helloInterval,
      deadInterval: i.config.deadInterval,
      dr: addrOrNull(i.dr),
      bdr: addrOrNull(i.bdr),
      neighbours: i.neighbours.size,
    })),
    neighbours: ospf.interfaces.flatMap((i) => [...i.neighbours.values()].map((n) => ({
      port: i.port.name,
      routerId: formatAddress(n.routerId),
      address: formatAddress(n.address),
      state: NBR_STATE_NAMES[n.state]!,
      priority: n.priority,
      dr: addrOrNull(n.dr),
      bdr: addrOrNull(n.bdr),
      bfd: ospf.bfdState(n),
      lastHeardMs: Math.round(now - n.lastHeard),
      stateMs: Math.round(now - n.since),
      retransmitQueue: n.retransmit.size,
      requestQueue: n.requests.size,
      adjacencyChanges: n.adjacencyChanges,
      authKey: i.cryptoKeys.get(n.routerId) ?? null,
      authSequence: i.cryptoSequences.get(n.routerId) ?? null,
    }))),
    database: [...ospf.lsdb.all()].sort((a, b) => a.type - b.type || a.id - b.id || a.adv - b.adv).map((e) => ({
      type: LSA_TYPE_NAMES[e.type] ?? String(e.type),
      id: formatAddress(e.id),
      advRouter: formatAddress(e.adv),
      sequence: hex(e.seq),
      age: e.age(now),
      checksum: `0x${e.checksum.toString(16).padStart(4, '0')}`,
      length: e.length,
      self: ospf.isSelfOriginated(e.type, e.id, e.adv),
    })),
    routes: [...ospf.spf.routes.values()].sort((a, b) => a.prefix - b.prefix || a.len - b.len).map((r) => ({
      prefix: formatPrefix(r.prefix, r.len),
      type: r.type,
      cost: r.cost,
      internalCost: r.internalCost,
      advRouter: formatAddress(r.advRouter),
      nextHops: r.nextHops.map((h) => ({ port: portName(h.port), via: addrOrNull(h.address) })),
    })),
    spf: { runs: c.spfRuns, lastDurationMs: Math.round(c.lastSpfMs * 1000) / 1000, lastRunAgoMs: c.spfRuns > 0 ? Math.round(now - c.lastSpfAt) : null },
    counters: {
      received: c.received,
      sent: c.sent,
      lsasInstalled: c.lsasInstalled,
      lsasOriginated: c.lsasOriginated,
      lsasFlushed: c.lsasFlushed,
      lsasRetransmitted: c.lsasRetransmitted,
      lsdbSize: ospf.lsdb.size,
      sendsWithoutKey: c.sendsWithoutKey,
      droppedPackets: namedCounts(ospf.packetDrops, OSPF_DROP_NAMES),
      droppedLsas: namedCounts(ospf.lsaDrops, OSPF_LSA_DROP_NAMES),
    },
  };
}

export function registerOspfApi(api: ApiServer, ospf: OspfProtocol, ports: readonly PortView[], now: () => number): void {
  api.on('GET', '/v1/ospf', () => ospfJson(ospf, ports, now()));
}
