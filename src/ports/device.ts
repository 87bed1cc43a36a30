// What a port needs from the thing under it. TunDevice and EthernetDevice
// are the real ones; the same shape lets the forwarding logic run over an
// in-memory device in unit tests and the fuzzer.
import type { ReaderFrameCounts } from './ethernet/ethernet-device.js';

/**
 * What a device takes beyond ordinary packets (its offload mode): super-
 * packets (TCP/UDP segmentation offload) and partial checksums, each
 * described by a virtio-net header.
 */
export interface DeviceOffload {
  /**
   * Bytes of virtio-net header in front of every packet read and written (a
   * TUN opened with IFF_VNET_HDR); 0 when headers travel beside the frames
   * (writeBatch's `vnet` list, an AF_PACKET socket's).
   */
  readonly vnetHdrSize: number;
  /** May be given a packet whose L4 checksum is partial (NEEDS_CSUM). */
  readonly csum: boolean;
  /** Takes TCP/IPv4 super-packets whole. */
  readonly tso4: boolean;
  /** Takes UDP super-packets (USO) whole. */
  readonly uso4: boolean;
  /** May hand over super-packets when read: its receive slots must hold 64 KB. */
  readonly rxSuper: boolean;
}

/** What a device dropped or repaired below its port (since its last report). */
export interface DeviceCounts {
  /**
   * Packets the kernel dropped before the port read them: an Ethernet
   * port's socket buffer was full; a TUN's queue was full, none of its
   * queues was open, or its carrier was off (a blocked port) — the TUN's
   * tx_dropped.
   */
  kernelDrops: number;
  /** An Ethernet device's reader: frames it dropped or repaired before the link layer saw them. */
  frames?: ReaderFrameCounts;
}

export interface PacketDevice {
  readonly name: string;
  /** An Ethernet device's MAC: it carries whole frames, and its port gets a link layer. Absent: raw IPv4 (TUN). */
  readonly mac?: Uint8Array;
  /** Offload mode, if the device is in it (absent or null: ordinary packets only). */
  readonly offload?: DeviceOffload | null;
  startReading(buf: ArrayBuffer, offset: number, slotSize: number, slots: number, lengths: Int32Array,
    onBatch: (count: number, errno: number) => void): void;
  /** Stop the watch startReading() began (the device stays open; reading may start again elsewhere). */
  stopReading?(): void;
  /**
   * Write packets (or frames) buf[offsets[i], +lengths[i]) for i < count; a
   * refused one gets −errno in lengths[i]. `vnet` (devices whose offload has
   * vnetHdrSize 0): per packet, where its 10-byte virtio-net header is in
   * buf, or −1 for none (a complete, ordinary packet).
   */
  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number, vnet?: Int32Array | null): number;
  setCarrier(on: boolean): void;
  /** Whether the device still exists (after a read error: was it deleted?). Absent: assume yes. */
  exists?(): boolean;
  /** Whether the kernel side is operational again after carrier on (absent: assume yes). */
  linkRunning?(): boolean;
  setRef?(ref: boolean): void;
  /**
   * What the device dropped or repaired below the port since the last call;
   * null when this thread does not count for it (absent: nothing to count).
   */
  takeCounts?(): DeviceCounts | null;
  close(): void;
}

/** Whether a device is still there, asked through its link state (the kernel answers ENODEV for a deleted one). */
export function stillThere(linkRunning: () => boolean): boolean {
  try {
    linkRunning();
    return true;
  } catch (e) {
    if (/No such device/i.test((e as Error).message) || (e as { code?: string }).code === 'ENODEV') return false;
    throw e;
  }
}
