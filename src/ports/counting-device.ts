// A packet device that counts what the router writes to it and keeps
// nothing (keeping would allocate): the sink for measuring the packet path
// in memory, without TUNs (scripts/bench-path.ts, the allocation test).
import type { PacketDevice } from './device.js';

export class CountingDevice implements PacketDevice {
  packets = 0;
  constructor(readonly name: string) {}
  startReading(): void {}
  writeBatch(_buf: ArrayBuffer, _offsets: Int32Array, _lengths: Int32Array, count: number): number {
    this.packets += count;
    return count;
  }
  setCarrier(): void {}
  close(): void {}
}
