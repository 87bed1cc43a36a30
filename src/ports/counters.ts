// Per-port traffic counters in one Float64Array (exact integers up to 2^53),
// so the packet path bumps numbers in place and never allocates.
import { DROP_NAMES, DROP_REASON_COUNT, namedCounts } from '../packet/drops.js';

export const RX_PACKETS = 0;
export const RX_BYTES = 1;
export const TX_PACKETS = 2;
export const TX_BYTES = 3;
/** Wake-ups that brought packets: rxPackets / rxBatches is the batch size. */
export const RX_BATCHES = 4;
const DROPS_AT = 5;

export class PortCounters {
  readonly values = new Float64Array(DROPS_AT + DROP_REASON_COUNT);

  drop(reason: number): void {
    this.values[DROPS_AT + reason]! += 1;
  }

  dropCount(reason: number): number {
    return this.values[DROPS_AT + reason]!;
  }

  snapshot(): { rxPackets: number; rxBytes: number; rxBatches: number; txPackets: number; txBytes: number; drops: Record<string, number> } {
    const v = this.values;
    return { rxPackets: v[RX_PACKETS]!, rxBytes: v[RX_BYTES]!, rxBatches: v[RX_BATCHES]!, txPackets: v[TX_PACKETS]!, txBytes: v[TX_BYTES]!, drops: namedCounts(v, DROP_NAMES, DROPS_AT) };
  }
}
