// Per-port traffic counters in one Float64Array (exact integers up to 2^53),
// so the packet path bumps numbers in place and never allocates.
import { DROP_NAMES, DROP_REASON_COUNT, namedCounts } from '../packet/drops.js';
import { ShardedCounters } from './sharded-counters.js';

export const RX_PACKETS = 0;
export const RX_BYTES = 1;
export const TX_PACKETS = 2;
export const TX_BYTES = 3;
/** Wake-ups that brought packets: rxPackets / rxBatches is the batch size. */
export const RX_BATCHES = 4;

// Offloads (see wire/virtio-net.ts): what the port's traffic needed.
/** Super-packets received (each counted once in rxPackets too). */
export const RX_SUPER = 5;
/** Super-packets handed to the device whole (coalesced ones included). */
export const TX_SUPER = 6;
/** Super-packets the router cut into segments for this egress, and the segments made. */
export const SEGMENTED = 7;
export const SEGMENTS = 8;
/** Super-packets the router made by coalescing TCP segments or UDP datagrams for this egress, and the packets merged. */
export const COALESCED = 9;
export const COALESCED_SEGMENTS = 10;
/** Partial checksums the router completed (for an egress or itself that needs them whole). */
export const CHECKSUMS_FINISHED = 11;

const OFFLOAD_AT = RX_SUPER;
const OFFLOAD_NAMES: readonly string[] = ['rxSuperPackets', 'txSuperPackets', 'segmented', 'segments', 'coalesced', 'coalescedSegments', 'checksumsFinished'];
const DROPS_AT = OFFLOAD_AT + OFFLOAD_NAMES.length;

/** Slots of one port's counters (a forwarding worker's shard is this many Float64s). */
export const COUNTER_SLOTS = DROPS_AT + DROP_REASON_COUNT;

/** A port's counters (a worker counts in its shard: sharded-counters.ts). */
export class PortCounters extends ShardedCounters {
  constructor(values?: Float64Array) {
    super('port counters', COUNTER_SLOTS, values);
  }

  drop(reason: number, n = 1): void {
    this.values[DROPS_AT + reason]! += n;
  }

  dropCount(reason: number): number {
    return this.total()[DROPS_AT + reason]!;
  }

  snapshot(): {
    rxPackets: number; rxBytes: number; rxBatches: number; txPackets: number; txBytes: number;
    drops: Record<string, number>; offload: Record<string, number>;
  } {
    const v = this.total();
    return {
      rxPackets: v[RX_PACKETS]!, rxBytes: v[RX_BYTES]!, rxBatches: v[RX_BATCHES]!, txPackets: v[TX_PACKETS]!, txBytes: v[TX_BYTES]!,
      drops: namedCounts(v, DROP_NAMES, DROPS_AT), offload: namedCounts(v, OFFLOAD_NAMES, OFFLOAD_AT),
    };
  }
}
