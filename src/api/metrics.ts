// Prometheus metrics (text exposition format 0.0.4) at GET /metrics: the
// same numbers the JSON API shows — ports, drops by reason, routes, BFD and
// RIP, NAT and drain flow tables, ICMP, log write failures — under one
// name each, labelled. Built from the JSON views, so the two never disagree.
// Served on the API socket, and alone on a TCP address (`metricsListen`).
import { createServer, type Server } from 'node:http';
import { TextBody, type ApiServer } from './server.js';
import type { BfdJson, NatJson, OspfJson, PortJson, RipJson, StatsJson } from './types.js';

export interface MetricSources {
  ports(): PortJson[];
  stats(): StatsJson;
  routes(): { source: string; state: string }[];
  routeEvents(): Record<string, number>;
  bfd(): BfdJson;
  rip(): RipJson | null;
  /** Absent in callers that predate OSPF. */
  ospf?(): OspfJson | null;
  /** With forwarding workers asked of them: a promise. */
  nat(): NatJson | Promise<NatJson>;
}

type Labels = Record<string, string | number>;

/** Writes metric families: one HELP and TYPE line each, then its samples. */
class Exposition {
  private readonly lines: string[] = [];

  family(name: string, type: 'counter' | 'gauge', help: string, samples: [Labels, number][]): void {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.lines.push(`${name}${labelText(labels)} ${Number.isFinite(value) ? value : 0}`);
  }

  text(): string {
    return `${this.lines.join('\n')}\n`;
  }
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function count<T>(items: T[], key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return [...m];
}

export async function metricsText(src: MetricSources): Promise<string> {
  // First: the one source that may wait (for the forwarding workers' NAT figures); the rest are read together after it.
  const natNow = await src.nat();
  const x = new Exposition();
  const ports = src.ports();
  const perPort = (f: (p: PortJson) => number): [Labels, number][] => ports.map((p) => [{ port: p.name }, f(p)]);
  x.family('tunroute_port_up', 'gauge', 'Port state: 1 for the state the port is in.', ports.map((p) => [{ port: p.name, state: p.state }, 1]));
  x.family('tunroute_port_receive_packets_total', 'counter', 'Packets received on the port.', perPort((p) => p.rxPackets));
  x.family('tunroute_port_receive_bytes_total', 'counter', 'Bytes received on the port.', perPort((p) => p.rxBytes));
  x.family('tunroute_port_receive_batches_total', 'counter', 'Wake-ups that brought packets (packets per batch = packets / batches).', perPort((p) => p.rxBatches));
  x.family('tunroute_port_transmit_packets_total', 'counter', 'Packets sent on the port.', perPort((p) => p.txPackets));
  x.family('tunroute_port_transmit_bytes_total', 'counter', 'Bytes sent on the port.', perPort((p) => p.txBytes));
  x.family('tunroute_port_drops_total', 'counter', 'Packets dropped, by the port they arrived on and the reason (kernel-dropped: by the kernel, before the port read them).',
    ports.flatMap((p) => Object.entries(p.drops).map(([reason, n]): [Labels, number] => [{ port: p.name, reason }, n])));
  const links = ports.filter((p) => p.link);
  x.family('tunroute_link_drops_total', 'counter', 'Frames an Ethernet port\'s link layer, or its device\'s reader below it, dropped, by reason.',
    links.flatMap((p) => Object.entries(p.link!.drops).map(([reason, n]): [Labels, number] => [{ port: p.name, reason }, n])));
  x.family('tunroute_link_events_total', 'counter', 'What an Ethernet port\'s link layer and device did, by kind (ARP sent and received, packets held and released, the device\'s repairs).',
    links.flatMap((p) => Object.entries(p.link!.events).map(([kind, n]): [Labels, number] => [{ port: p.name, kind }, n])));
  x.family('tunroute_port_offload_total', 'counter', 'Offload work on the port, by kind (rxSuperPackets, txSuperPackets, segmented, segments, coalesced, coalescedSegments, checksumsFinished).',
    ports.flatMap((p) => Object.entries(p.offload).map(([kind, n]): [Labels, number] => [{ port: p.name, kind }, n])));

  const stats = src.stats();
  x.family('tunroute_icmp_errors_sent_total', 'counter', 'ICMP errors sent.', [[{}, stats.icmp.sent]]);
  x.family('tunroute_icmp_errors_rate_limited_total', 'counter', 'ICMP errors not sent: over the rate limit.', [[{}, stats.icmp.rateLimited]]);
  x.family('tunroute_policy_hits_total', 'counter', 'Packets steered by a source-policy rule.', stats.policy.map((r) => [{ rule: r.rule }, r.hits]));
  x.family('tunroute_drain_pinned_packets_total', 'counter', 'Packets kept on a draining port (their flow was already on it).', [[{}, stats.flows.pinnedToDrainingPort]]);
  x.family('tunroute_drain_flows', 'gauge', 'Live flows in the drain flow table (every forwarded flow, so a drain can keep it on its port), and the table capacity; with forwarding workers, every thread\'s table summed.',
    [[{ kind: 'live' }, stats.flows.live], [{ kind: 'capacity' }, stats.flows.capacity]]);
  x.family('tunroute_drain_flow_events_total', 'counter', 'Drain flow table entries given to new flows, live flows evicted from a full set, new flows left untracked.', [
    [{ event: 'inserted' }, stats.flows.inserted], [{ event: 'evicted-live' }, stats.flows.evictedLive], [{ event: 'untracked' }, stats.flows.untracked],
  ]);
  x.family('tunroute_log_write_failures_total', 'counter', 'Log lines that could not be written (counted, never fatal).', [[{}, stats.log.writeFailures]]);

  const routes = src.routes();
  x.family('tunroute_routes', 'gauge', 'Routes in the RIB, by source and state (active = in the FIB).',
    count(routes, (r) => `${r.source}\u0000${r.state}`).map(([k, n]) => { const [source, state] = k.split('\u0000'); return [{ source: source!, state: state! }, n]; }));
  x.family('tunroute_route_changes_total', 'counter', 'FIB changes, by kind (installed, changed, withdrawn).', Object.entries(src.routeEvents()).map(([kind, n]) => [{ kind }, n]));

  const bfd = src.bfd();
  x.family('tunroute_bfd_session_up', 'gauge', 'BFD session state: 1 for the state the session is in.', bfd.sessions.map((s) => [{ port: s.port, peer: s.peer, state: s.state }, 1]));
  x.family('tunroute_bfd_session_up_transitions_total', 'counter', 'Times the BFD session came Up.', bfd.sessions.map((s) => [{ port: s.port, peer: s.peer }, s.counters.upTransitions]));
  x.family('tunroute_bfd_session_down_transitions_total', 'counter', 'Times the BFD session went down from Up.', bfd.sessions.map((s) => [{ port: s.port, peer: s.peer }, s.counters.downTransitions]));
  x.family('tunroute_bfd_packets_received_total', 'counter', 'BFD Control packets a session took.', [[{}, bfd.counters.rx]]);
  x.family('tunroute_bfd_packets_sent_total', 'counter', 'BFD Control packets sent.', [[{}, bfd.counters.tx]]);
  x.family('tunroute_bfd_drops_total', 'counter', 'BFD packets refused, by reason (auth-* when authentication fails).', Object.entries(bfd.counters.drops).map(([reason, n]) => [{ reason }, n]));
  x.family('tunroute_bfd_packets_unsent_total', 'counter', 'BFD Control packets not sent: the session authenticates and no key is valid now.',
    [[{ reason: 'no-valid-key' }, bfd.sessions.reduce((a, s) => a + s.counters.txWithoutKey, 0)]]);

  const rip = src.rip();
  if (rip) {
    x.family('tunroute_rip_neighbours', 'gauge', 'RIP neighbours, by state.', count(rip.neighbours, (n) => n.state ?? 'new').map(([state, n]) => [{ state }, n]));
    x.family('tunroute_rip_routes', 'gauge', 'Routes RIP learned, by state.', count(rip.routes, (r) => r.state).map(([state, n]) => [{ state }, n]));
    const numbers = Object.entries(rip.counters).filter((e): e is [string, number] => typeof e[1] === 'number');
    x.family('tunroute_rip_events_total', 'counter', 'RIP packets and updates, by kind.', numbers.map(([kind, n]) => [{ kind }, n]));
    const drops = rip.counters.droppedPackets as Record<string, number>;
    x.family('tunroute_rip_drops_total', 'counter', 'RIP packets refused, by reason.', Object.entries(drops).map(([reason, n]) => [{ reason }, n]));
    x.family('tunroute_rip_routes_held', 'gauge', 'Routes RIP holds (active and in garbage collection), and the most it may (maxRoutes).',
      [[{ kind: 'held' }, rip.limits.routesHeld], [{ kind: 'limit' }, rip.limits.maxRoutes]]);
    x.family('tunroute_rip_limit_reached', 'gauge', 'A RIP limit reached (new routes or routers refused until it clears): 1, else 0.', [
      [{ limit: 'maxRoutes' }, rip.limits.maxRoutesReached ? 1 : 0],
      ...rip.ports.map((p): [Record<string, string>, number] => [{ limit: 'maxNeighboursPerPort', port: p.port }, p.neighbourLimitReached ? 1 : 0]),
      ...rip.neighbours.map((n): [Record<string, string>, number] => [{ limit: 'maxRoutesPerNeighbour', port: n.port, neighbour: n.address }, n.limitReached ? 1 : 0]),
    ]);
  }

  const ospf = src.ospf?.();
  if (ospf) {
    x.family('tunroute_ospf_neighbours', 'gauge', 'OSPF neighbours, by state.', count(ospf.neighbours, (n) => n.state).map(([state, n]) => [{ state }, n]));
    x.family('tunroute_ospf_lsas', 'gauge', 'LSAs in the OSPF database, by type.', count(ospf.database, (e) => e.type).map(([type, n]) => [{ type }, n]));
    x.family('tunroute_ospf_routes', 'gauge', 'Routes OSPF computed, by type.', count(ospf.routes, (r) => r.type).map(([type, n]) => [{ type }, n]));
    x.family('tunroute_ospf_spf_runs_total', 'counter', 'OSPF SPF runs.', [[{}, ospf.spf.runs]]);
    x.family('tunroute_ospf_spf_last_duration_seconds', 'gauge', 'How long the last SPF run took.', [[{}, ospf.spf.lastDurationMs / 1000]]);
    const packets = (dir: 'received' | 'sent') => Object.entries(ospf.counters[dir]).map(([type, n]) => [{ direction: dir, type }, n] as [Record<string, string>, number]);
    x.family('tunroute_ospf_packets_total', 'counter', 'OSPF packets, by direction and type.', [...packets('received'), ...packets('sent')]);
    x.family('tunroute_ospf_drops_total', 'counter', 'OSPF packets refused, by reason.', Object.entries(ospf.counters.droppedPackets).map(([reason, n]) => [{ reason }, n]));
    x.family('tunroute_ospf_lsa_drops_total', 'counter', 'LSAs refused, by reason.', Object.entries(ospf.counters.droppedLsas).map(([reason, n]) => [{ reason }, n]));
  }

  const nat = natNow.counters;
  if (nat) {
    x.family('tunroute_nat_flows', 'gauge', 'Live NAT flows, and the table capacity.', [[{ kind: 'live' }, nat.live], [{ kind: 'capacity' }, nat.capacity]]);
    x.family('tunroute_nat_flow_events_total', 'counter', 'NAT flows created, expired, evicted and refused.', [
      [{ event: 'created' }, nat.created], [{ event: 'expired' }, nat.expired], [{ event: 'evicted-unanswered' }, nat.evictedUnanswered],
      [{ event: 'refused-full' }, nat.refusedFull], [{ event: 'refused-conflict' }, nat.refusedConflict], [{ event: 'refused-client-limit' }, nat.refusedClientLimit],
    ]);
    x.family('tunroute_nat_packets_total', 'counter', 'Packets the NAT translated (to backends, back to clients), passed untranslated from backends, and handed to the worker owning their flow.', [
      [{ direction: 'in' }, nat.packetsIn], [{ direction: 'out' }, nat.packetsOut], [{ direction: 'untranslated' }, nat.returnUntranslated],
      [{ direction: 'handed-off' }, nat.handedOff],
    ]);
  }

  const mem = process.memoryUsage();
  const cpu = process.cpuUsage();
  x.family('process_resident_memory_bytes', 'gauge', 'Resident memory of the daemon.', [[{}, mem.rss]]);
  x.family('process_cpu_seconds_total', 'counter', 'CPU time of the daemon (user + system).', [[{}, (cpu.user + cpu.system) / 1e6]]);
  return x.text();
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function registerMetricsApi(api: ApiServer, sources: MetricSources): void {
  api.on('GET', '/metrics', async () => new TextBody(await metricsText(sources), METRICS_CONTENT_TYPE));
}

/** GET /metrics on a TCP address (and nothing else there: the API stays on the root-only socket). */
export function serveMetrics(address: string, port: number, sources: MetricSources): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    metricsText(sources).then((text) => {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) }).end(text);
    }, (e: Error) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
