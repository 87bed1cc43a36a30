// The management API's request and response bodies: one definition, used by
// the daemon's handlers (which build them) and by the CLI (which reads them).
// Addresses and prefixes are dotted text; times are epoch ms or ages in ms.
import type { NatCounts } from '../dataplane/nat-snapshot.js';
import type { WatchStats } from '../triggers/trigger-set.js';

export interface RouterInfoJson {
  name: string;
  pid: number;
  uptimeMs: number;
  ports: number;
  routes: number;
  protocols: string[];
}

export interface CountersJson {
  rxPackets: number;
  rxBytes: number;
  /** Wake-ups that brought packets: rxPackets / rxBatches is the batch size. */
  rxBatches: number;
  txPackets: number;
  txBytes: number;
  drops: Record<string, number>;
  /** Offload work by kind, non-zero ones only (rxSuperPackets, txSuperPackets, segmented, segments, coalesced, coalescedSegments, checksumsFinished). */
  offload: Record<string, number>;
  /**
   * An Ethernet port's link layer (absent for a TUN port): frames it, or the
   * device's reader below it, dropped by reason, and what it did (ARP, held
   * packets, the device's repairs). Non-zero ones only.
   */
  link?: LinkCountersJson;
}

export interface LinkCountersJson {
  drops: Record<string, number>;
  events: Record<string, number>;
}

export interface PortJson extends CountersJson {
  name: string;
  type: 'tun' | 'ethernet';
  /** An Ethernet port's MAC address, else null. */
  mac: string | null;
  device: string;
  netns: string | null;
  address: string;
  mtu: number;
  state: string;
  /** When the state last changed (epoch ms). */
  sinceMs: number;
}

/** An Ethernet port's link layer: its neighbours (the ARP table) and what it dropped or did. */
export interface NeighbourPortJson {
  port: string;
  mac: string;
  neighbours: {
    address: string;
    /** null while INCOMPLETE or FAILED. */
    mac: string | null;
    state: string;
    updatedMsAgo: number;
    confirmedMsAgo: number | null;
    probes: number;
    /** Packets waiting for this neighbour's MAC. */
    held: number;
  }[];
  counters: LinkCountersJson;
}

export interface PortActionJson {
  port: string;
  state: string;
}

/** Routes one POST /v1/routes may carry (a request body is at most 1 MiB). */
export const ROUTES_PER_REQUEST = 10_000;

export interface RouteJson {
  id: number;
  prefix: string;
  port: string | null;
  via: string | null;
  metric: number;
  source: string;
  bfd: boolean;
  /** active (in the FIB), standby (usable, not selected), unusable. */
  state: 'active' | 'standby' | 'unusable';
  unusable: string | null;
  ageMs: number;
}

export interface RouteRequestJson {
  prefix: string;
  port: string;
  via?: string | null;
  metric?: number;
  bfd?: boolean;
}

export interface RouteDeleteJson {
  prefix: string;
  port?: string;
  via?: string | null;
  metric?: number;
}

export interface LookupJson {
  addr: string;
  from: string | null;
  /** fib, policy:<rule>, or none. */
  decidedBy: string;
  port: string | null;
  route: RouteJson | null;
}

export interface StatsJson {
  router: string;
  ports: Record<string, { state: string } & CountersJson>;
  icmp: { sent: number; rateLimited: number };
  /** The router's answers as a host: echo/timestamp/mask replies, TCP resets. */
  replies: { sent: number; rateLimited: number };
  policy: { rule: string; hits: number }[];
  /**
   * The drain flow table: packets kept on a draining port; entries, live flows; the full-table policy's counts (flow-table.ts).
   * With forwarding workers, every thread's table summed (capacity too): the workers' figures as of their last tick
   * (every 50 ms), their live flows at most a second old.
   */
  flows: { pinnedToDrainingPort: number; capacity: number; live: number; inserted: number; evictedLive: number; untracked: number };
  /** Log lines that could not be written (a full disk, a closed pipe): counted, never fatal. */
  log: { writeFailures: number; lastError: string | null };
}

export interface BfdSessionJson {
  port: string;
  peer: string;
  state: string;
  remoteState: string;
  localDiscriminator: number;
  remoteDiscriminator: number;
  sourcePort: number;
  /** Negotiated: the interval between our packets (RFC 5880 §6.8.7). */
  txIntervalMs: number;
  /** Negotiated: the interval we expect the peer's packets at. */
  rxIntervalMs: number;
  detectMult: number;
  remoteDetectMult: number;
  /** 0 until the peer was heard from. */
  detectionTimeMs: number;
  /** Since the session went Up; null when it is not Up. */
  uptimeMs: number | null;
  /** Diagnostic of the last transition to Down/AdminDown. */
  lastDiagnostic: string;
  remoteDiagnostic: string;
  pollActive: boolean;
  owners: string[];
  /** Never the secrets: the type, the key ids, the one sent now (null: none valid), whether a received sequence number is known. */
  auth: { type: string; keys: number[]; sendKey: number | null; sequenceKnown: boolean };
  counters: { rx: number; tx: number; txBlocked: number; txWithoutKey: number; upTransitions: number; downTransitions: number; drops: Record<string, number> };
}

export interface BfdJson {
  sessions: BfdSessionJson[];
  /** Over all sessions, and packets that matched none. */
  counters: { rx: number; tx: number; drops: Record<string, number> };
}

export interface RipJson {
  updateTime: number;
  timeoutTime: number;
  garbageTime: number;
  redistribute: string[];
  /** The limits, what is held, and whether maxRoutes is reached now (new routes refused). */
  limits: { maxRoutes: number; maxRoutesPerNeighbour: number; maxNeighboursPerPort: number; routesHeld: number; maxRoutesReached: boolean };
  ports: {
    port: string;
    address: string;
    cost: number;
    passive: boolean;
    bfd: boolean;
    state: 'active' | 'blocked';
    ttlSecurity: boolean | 'tx-only';
    /** Configured neighbours (empty: any router on the link). */
    neighbours: string[];
    unicast: boolean;
    /** Never the secrets: the type, the key ids, and the one we send with now (null: none valid). */
    auth: { type: string; keys: number[]; sendKey: number | null };
    maxRoutesPerNeighbour: number;
    /** maxNeighboursPerPort is reached now (packets from new routers refused). */
    neighbourLimitReached: boolean;
  }[];
  neighbours: {
    port: string;
    address: string;
    state: string | null;
    lastHeardMs: number;
    routes: number;
    bfd: string | null;
    badPackets: number;
    badRoutes: number;
    responses: number;
    ignoredResponses: number;
    /** Routes held from it (active and in garbage collection). */
    held: number;
    /** New routes from it refused by a limit, in all; whether its limit is reached now. */
    routesRefused: number;
    limitReached: boolean;
    /** Its packets that failed authentication. */
    authFailures: number;
    /** The last RFC 4822 sequence number taken from it (null: none). */
    authSequence: number | null;
  }[];
  /** One row per (prefix, neighbour); `best`: the one RIP advertises (the RIB selects among them all). */
  routes: {
    prefix: string;
    metric: number;
    nextHop: string;
    port: string;
    neighbour: string;
    tag: number;
    ageMs: number;
    state: string;
    /** Until timeout (active) or deletion (garbage). */
    expiresInMs: number;
    best: boolean;
  }[];
  advertised: { prefix: string; source: string; metric: number; port: string; state: string }[];
  counters: Record<string, number | Record<string, number>>;
}

/** GET /v1/ospf: interfaces, neighbours, the database, routes, counters. */
export interface OspfJson {
  routerId: string;
  lsdbLimit: number;
  redistribute: { source: string; metric: number | null; metricType: number }[];
  interfaces: {
    port: string;
    address: string;
    network: string;
    state: string;
    cost: number;
    passive: boolean;
    bfd: boolean;
    /** Never the secrets: the type, the key ids, and the one we send with now (null: none valid). */
    auth: { type: string; keys: number[]; sendKey: number | null };
    helloInterval: number;
    deadInterval: number;
    dr: string | null;
    bdr: string | null;
    neighbours: number;
  }[];
  neighbours: {
    port: string;
    routerId: string;
    address: string;
    state: string;
    priority: number;
    dr: string | null;
    bdr: string | null;
    bfd: string | null;
    /** Since the last Hello; and in this state. */
    lastHeardMs: number;
    stateMs: number;
    retransmitQueue: number;
    requestQueue: number;
    adjacencyChanges: number;
    /** Cryptographic authentication: the key id and sequence number of its last packet we accepted (null: none yet). */
    authKey: number | null;
    authSequence: number | null;
  }[];
  database: { type: string; id: string; advRouter: string; sequence: string; age: number; checksum: string; length: number; self: boolean }[];
  routes: { prefix: string; type: string; cost: number; internalCost: number; advRouter: string; nextHops: { port: string; via: string | null }[] }[];
  spf: { runs: number; lastDurationMs: number; lastRunAgoMs: number | null };
  counters: {
    /** Packets by type (hello, dd, lsr, lsu, ack). */
    received: Record<string, number>;
    sent: Record<string, number>;
    lsasInstalled: number;
    lsasOriginated: number;
    lsasFlushed: number;
    lsasRetransmitted: number;
    lsdbSize: number;
    /** Packets not sent: the port authenticates and no key was valid for sending. */
    sendsWithoutKey: number;
    /** Refused packets and LSAs, by reason. */
    droppedPackets: Record<string, number>;
    droppedLsas: Record<string, number>;
  };
}

export interface PolicyRuleJson {
  name: string;
  from: string;
  to: string | null;
  protocol: string | null;
  dstPorts: string | null;
  port: string;
  via: string | null;
  hits: number;
  active: boolean;
}

export interface PolicyRequestJson {
  name: string;
  from: string;
  to?: string;
  protocol?: string;
  dstPorts?: string;
  port: string;
  via?: string;
  /** Insert before this rule (default: at the end). */
  before?: string;
  index?: number;
}

/** A NAT's counters, as GET /v1/nat shows them (the NAT's own figures, one shape). */
export type NatCountersJson = NatCounts;

export interface NatBackendJson {
  name: string;
  address: string;
  sources: string[];
  default: boolean;
  flows: number;
  flowsCreated: number;
  packets: number;
}

export interface NatFlowJson {
  protocol: string;
  client: string;
  clientPort: number;
  vip: string;
  port: number;
  backend: string;
  backendAddress: string;
  state: string;
  packets: number;
  idleMs: number;
}

export interface NatJson {
  services: { name: string; address: string; backends: NatBackendJson[]; idleTimeoutS: number }[];
  flows: NatFlowJson[];
  counters: NatCountersJson | null;
}

export interface HistoryJson {
  time: number;
  client: string;
  path: string;
  status: number;
  server: string;
  device: string | null;
}

export interface TriggerJson {
  name: string;
  state: string;
  watch: { file: string | null; api: boolean };
  match: { client: string; server: string | null; status: number | null; path: string | null };
  action: string;
  port: string;
  armedAt: number | null;
  firedAt: number | null;
  cancelledAt: number | null;
  latencyMs: number | null;
  matched: (HistoryJson & { via: string }) | null;
  error: string | null;
  /** The access-log tail the trigger follows, with its counts (null: API only, or not started). */
  tail: WatchStats | null;
}

export interface HistoryOfferJson {
  accepted: number;
  rejected: { index: number; reason: string }[];
  fired: string[];
}

export interface ErrorJson {
  error: string;
}

/** What a config reload changed (POST /v1/reload). */
export interface ReloadJson {
  file: string;
  changed: boolean;
  ports: { added: string[]; removed: string[]; changed: string[] };
  staticRoutes: { added: number; removed: number };
  policy: boolean;
  virtualServices: boolean;
  bfd: boolean;
  rip: boolean;
  ospf: boolean;
  triggers: { added: string[]; removed: string[] };
  /** Other settings that changed: icmpRateLimit, replyRateLimit, drainIdleTimeout, logLevel. */
  settings: string[];
}
