// A packet device in memory: what the router writes is kept, the carrier is
// a flag, and nothing is ever read — tests hand packets to the router's
// packet path themselves. Given a MAC it is an Ethernet device: the router
// gives its port a link layer, and what it keeps are whole frames. Given an
// offload mode it takes super-packets with a virtio-net header in front.
import type { DeviceOffload, PacketDevice } from '../../src/ports/device.js';
import { VIRTIO_NET_HDR_LEN } from '../../src/wire/virtio-net.js';

export class MemoryDevice implements PacketDevice {
  readonly written: Uint8Array[] = [];
  /** The virtio-net header a port gave beside a written frame (writeBatch's `vnet` list: an Ethernet device in offload mode). */
  readonly headerOf = new WeakMap<Uint8Array, Uint8Array>();
  carrier = true;
  closed = false;
  reading = false;
  constructor(readonly name: string, readonly mac?: Uint8Array, readonly offload: DeviceOffload | null = null) {}
  startReading(): void { this.reading = true; }
  stopReading(): void { this.reading = false; }
  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number, vnet?: Int32Array | null): number {
    for (let i = 0; i < count; i++) {
      const frame = new Uint8Array(buf, offsets[i]!, lengths[i]!).slice();
      this.written.push(frame);
      const h = vnet?.[i] ?? -1;
      if (h >= 0) this.headerOf.set(frame, new Uint8Array(buf, h, VIRTIO_NET_HDR_LEN).slice());
    }
    return count;
  }
  setCarrier(on: boolean): void { this.carrier = on; }
  close(): void { this.closed = true; }
}
