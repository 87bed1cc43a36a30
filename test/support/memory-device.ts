// A packet device in memory: what the router writes is kept, the carrier is
// a flag, and nothing is ever read — tests hand packets to the router's
// packet path themselves. Given a MAC it is an Ethernet device: the router
// gives its port a link layer, and what it keeps are whole frames. Given an
// offload mode it takes super-packets with a virtio-net header in front.
import type { DeviceOffload, PacketDevice } from '../../src/ports/device.js';

export class MemoryDevice implements PacketDevice {
  readonly written: Uint8Array[] = [];
  carrier = true;
  closed = false;
  reading = false;
  constructor(readonly name: string, readonly mac?: Uint8Array, readonly offload: DeviceOffload | null = null) {}
  startReading(): void { this.reading = true; }
  stopReading(): void { this.reading = false; }
  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number): number {
    for (let i = 0; i < count; i++) this.written.push(new Uint8Array(buf, offsets[i]!, lengths[i]!).slice());
    return count;
  }
  setCarrier(on: boolean): void { this.carrier = on; }
  close(): void { this.closed = true; }
}
