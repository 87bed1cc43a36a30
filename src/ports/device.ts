// What a port needs from the thing under it. TunDevice and EthernetDevice
// are the real ones; the same shape lets the forwarding logic run over an
// in-memory device in unit tests and the fuzzer.
export interface PacketDevice {
  readonly name: string;
  /** An Ethernet device's MAC: it carries whole frames, and its port gets a link layer. Absent: raw IPv4 (TUN). */
  readonly mac?: Uint8Array;
  startReading(buf: ArrayBuffer, offset: number, slotSize: number, slots: number, lengths: Int32Array,
    onBatch: (count: number, errno: number) => void): void;
  /** Stop the watch startReading() began (the device stays open; reading may start again elsewhere). */
  stopReading?(): void;
  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number): number;
  setCarrier(on: boolean): void;
  /** Whether the device still exists (after a read error: was it deleted?). Absent: assume yes. */
  exists?(): boolean;
  /** Whether the kernel side is operational again after carrier on (absent: assume yes). */
  linkRunning?(): boolean;
  setRef?(ref: boolean): void;
  close(): void;
}
