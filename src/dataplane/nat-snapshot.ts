// What one thread's virtual-service NAT holds, as plain numbers: its
// counters, per backend its live flows, flows created and packets, and its
// most recently used flows. With forwarding workers each worker runs a NAT
// of its own (the flows it owns): the control thread asks each for its
// snapshot and merges them (GET /v1/nat, /metrics, the NAT log), so every
// figure is the whole router's. Structured-cloneable (a worker posts it).
import type { VirtualServiceNat } from './nat.js';

/** A NAT's counters (GET /v1/nat shows them as they are: api/types.ts NatCountersJson). */
export interface NatCounts {
  capacity: number;
  live: number;
  held: number;
  created: number;
  expired: number;
  refusedFull: number;
  refusedConflict: number;
  /** New flows refused: the client already held maxFlowsPerClient flows. */
  refusedClientLimit: number;
  /** Never-answered flows evicted to make room in a full table. */
  evictedUnanswered: number;
  /** Per table: with workers each has its own limit (a client's flows spread over them by port). */
  maxFlowsPerClient: number;
  synRestarts: number;
  fragmentsDropped: number;
  truncatedDropped: number;
  packetsIn: number;
  packetsOut: number;
  returnUntranslated: number;
  /** With forwarding workers: packets a worker read of a flow another worker owns, handed to that one. */
  handedOff: number;
}

/** One flow, addresses as int32 (as NatFlowTable holds them). */
export interface NatFlowRecord {
  proto: number;
  client: number;
  clientPort: number;
  vip: number;
  port: number;
  backendIndex: number;
  backend: number;
  closing: boolean;
  packets: number;
  idleMs: number;
}

export interface NatSnapshot {
  counts: NatCounts;
  /** Per backend (numbered across services, as in VirtualServiceNat). */
  backendLive: number[];
  backendFlowsCreated: number[];
  backendPackets: number[];
  /** Up to the limit asked for, most recently used first. */
  flows: NatFlowRecord[];
}

/** `nat`'s counters now (a scan of the table for the live flows); its clock brought up to date by the caller. */
export function natCounts(nat: VirtualServiceNat): NatCounts {
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
    handedOff: nat.handedOff,
  };
}

/** `nat` now, with up to `limit` flows; its clock brought up to date by the caller. */
export function natSnapshot(nat: VirtualServiceNat, limit: number): NatSnapshot {
  const f = nat.flows;
  const backendLive = new Array<number>(nat.backendAddress.length).fill(0);
  for (let e = 0; e < f.capacity; e++) if (f.isLive(e)) backendLive[f.backendIndex[e]!]! += 1;
  const now = f.clock.now;
  return {
    counts: natCounts(nat),
    backendLive,
    backendFlowsCreated: Array.from(nat.backendFlowsCreated),
    backendPackets: Array.from(nat.backendPackets),
    flows: f.recent(limit).map((e) => ({
      proto: f.proto[e]!, client: f.client[e]!, clientPort: f.clientPort(e), vip: f.vip[e]!, port: f.port(e),
      backendIndex: f.backendIndex[e]!, backend: f.backend[e]!, closing: f.isClosing(e), packets: f.packets[e]!, idleMs: Math.max(0, now - f.last[e]!),
    })),
  };
}

/**
 * Several threads' snapshots as one: counters and per-backend figures
 * summed (maxFlowsPerClient is per table: the largest), the flows of all
 * of them, most recently used first, up to `limit`. Null if there are none.
 */
export function mergeNatSnapshots(parts: readonly NatSnapshot[], limit: number): NatSnapshot | null {
  if (parts.length === 0) return null;
  if (parts.length === 1) return parts[0]!;
  const counts = { ...parts[0]!.counts };
  const keys = Object.keys(counts) as (keyof NatCounts)[];
  for (const p of parts.slice(1)) {
    for (const k of keys) counts[k] = k === 'maxFlowsPerClient' ? Math.max(counts[k], p.counts[k]) : counts[k] + p.counts[k];
  }
  const sum = (pick: (s: NatSnapshot) => number[]) => pick(parts[0]!).map((_, i) => parts.reduce((n, s) => n + (pick(s)[i] ?? 0), 0));
  const flows = parts.flatMap((p) => p.flows).sort((a, b) => a.idleMs - b.idleMs);
  return {
    counts,
    backendLive: sum((s) => s.backendLive),
    backendFlowsCreated: sum((s) => s.backendFlowsCreated),
    backendPackets: sum((s) => s.backendPackets),
    flows: flows.length > limit ? flows.slice(0, limit) : flows,
  };
}
