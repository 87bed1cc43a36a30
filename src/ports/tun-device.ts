// A TUN device opened through the project's Node-API addon (native/tun.c).
// Raw IPv4 packets (IFF_TUN | IFF_NO_PI); non-blocking fd watched by the event
// loop; reads arrive in batches into fixed slots of a caller-owned buffer.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { getSystemErrorName } from 'node:util';
import { stillThere, type DeviceCounts, type DeviceOffload, type PacketDevice } from './device.js';

interface TunAddon {
  openTun(name: string, netnsPath: string, mtu: number, multiQueue?: boolean): number;
  openTunOffload(name: string, netnsPath: string, mtu: number, vnetHdrSize: number, wanted: number, multiQueue?: boolean): [number, number];
  setCarrier(fd: number, on: boolean): void;
  linkRunning(name: string, netnsPath: string): boolean;
  txDropped(name: string, netnsPath: string): number;
  close(fd: number): void;
  writeBatch(fd: number, buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number): number;
  startReader(
    fd: number, buf: ArrayBuffer, offset: number, slotSize: number, slots: number,
    lengths: Int32Array, onBatch: (count: number, errno: number) => void,
  ): object;
  stopReader(handle: object): void;
  refReader(handle: object, ref: boolean): void;
  setIoUring(on: boolean): void;
  ioUring(): number;
}

let addon: TunAddon | undefined;
function load(): TunAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    // dist/src/ports/ → package root
    const path = new URL('../../../build/Release/tun.node', import.meta.url).pathname;
    if (!existsSync(path)) throw new TunError(`TUN addon not built (${path} missing): run the set-up command (npm install)`);
    addon = require(path) as TunAddon;
  }
  return addon;
}

export class TunError extends Error {}

/** How often a TUN's kernel drops are read (ms). */
export const TX_DROPPED_EVERY_MS = 1000;

/** Path of a named network namespace's file, as `ip netns` keeps it. */
export function netnsPath(netns: string): string {
  return netns.includes('/') ? netns : `/run/netns/${netns}`;
}

/** TUNSETOFFLOAD flags (linux/if_tun.h): what this side of the TUN can take. */
export const TunOffload = {
  /** Packets may carry a partial L4 checksum (virtio NEEDS_CSUM). */
  CSUM: 0x01,
  TSO4: 0x02,
  TSO6: 0x04,
  TSO_ECN: 0x08,
  UFO: 0x10,
  /** UDP segmentation offload (Linux ≥ 6.2), IPv4 and IPv6 (the kernel takes them only together). */
  USO4: 0x20,
  USO6: 0x40,
} as const;

/** What offload mode asks for by default: checksum, TCP (with ECN) and UDP segmentation. */
export const DEFAULT_OFFLOADS = TunOffload.CSUM | TunOffload.TSO4 | TunOffload.TSO6 | TunOffload.TSO_ECN |
  TunOffload.USO4 | TunOffload.USO6;

export interface TunOffloadOptions {
  /** 10 (struct virtio_net_hdr) or 12 (with num_buffers); default 10. */
  vnetHdrSize?: 10 | 12;
  /** TunOffload flags wanted; the kernel may accept a subset (see TunDevice.offloads). */
  offloads?: number;
}

export interface TunOpenOptions {
  name: string;
  netns?: string;
  mtu?: number;
  /**
   * Offload mode: IFF_VNET_HDR, so every packet read or written has a
   * virtio-net header (vnetHdrSize bytes) in front, and up to 64 KB TCP/UDP
   * super-packets pass with partial checksums. Read slots must then hold
   * vnetHdrSize + 65535 bytes (a shorter slot truncates a super-packet).
   */
  offload?: boolean | TunOffloadOptions;
  /**
   * Open one queue of a multi-queue device (IFF_MULTI_QUEUE): each open adds
   * a queue, and the kernel spreads what it sends over them by flow (a flow
   * whose packets we wrote on a queue comes back on that queue).
   */
  multiQueue?: boolean;
}

/** An open queue as another thread of this process takes it over: the fd is the process's. */
export interface TunQueueHandle {
  kind: 'tun';
  name: string;
  netns: string | undefined;
  fd: number;
  vnetHdrSize: number;
  offloads: number;
}

/** Offload mode as a port sees it, from what the kernel accepted. */
function offloadOf(vnetHdrSize: number, offloads: number): DeviceOffload {
  // The kernel takes a super-packet only with the checksum it leaves partial.
  const csum = (offloads & TunOffload.CSUM) !== 0;
  return { vnetHdrSize, csum, tso4: csum && (offloads & TunOffload.TSO4) !== 0, uso4: csum && (offloads & TunOffload.USO4) !== 0, rxSuper: true };
}

/** How a thread's TUN batches go: through io_uring, or one read()/write() a packet and why. */
export type TunIo = { ioUring: true } | { ioUring: false; reason: string };

export class TunDevice implements PacketDevice {
  /**
   * Every TUN batch of this process through io_uring (default: one system
   * call for a batch's reads, one for its writes; native/uring-batch.c), or
   * (false) one read()/write() a packet. Set before any device reads.
   */
  static setIoUring(on: boolean): void {
    load().setIoUring(on);
  }

  /** How this thread's batches go (it makes the thread's ring if it has none yet). */
  static io(): TunIo {
    const why = load().ioUring();
    if (why === 0) return { ioUring: true };
    return { ioUring: false, reason: why < 0 ? 'switched off (ioUring: false)' : `the kernel refused a ring (${getSystemErrorName(-why)})` };
  }

  readonly name: string;
  readonly netns: string | undefined;
  readonly fd: number;
  /** Bytes of virtio-net header in front of every packet read or written; 0 in plain mode. */
  readonly vnetHdrSize: number = 0;
  /** TunOffload flags the kernel accepted (0 in plain mode). */
  readonly offloads: number = 0;
  /** Offload mode as a port sees it; null in plain mode. */
  readonly offload: DeviceOffload | null = null;
  private reader: object | undefined;
  private closed = false;
  /** Whether close() closes the fd (false for an adopted queue). */
  private owner = true;
  /** The interface's tx_dropped when last read (undefined: not read yet), and when (performance.now()). */
  private dropsSeen: number | undefined;
  private dropsReadAt = -Infinity;

  /**
   * The device on a queue another thread opened (a forwarding worker): it
   * reads and writes that fd; closing it leaves the fd to its owner.
   */
  static adopt(h: TunQueueHandle): TunDevice {
    const d = Object.create(TunDevice.prototype) as TunDevice;
    Object.assign(d, {
      name: h.name, netns: h.netns, fd: h.fd, vnetHdrSize: h.vnetHdrSize, offloads: h.offloads, offload: h.vnetHdrSize > 0 ? offloadOf(h.vnetHdrSize, h.offloads) : null,
      reader: undefined, closed: false, owner: false, dropsSeen: undefined, dropsReadAt: -Infinity,
    });
    return d;
  }

  /** What adopt() needs to take this queue over in another thread. */
  handle(): TunQueueHandle {
    return { kind: 'tun', name: this.name, netns: this.netns, fd: this.fd, vnetHdrSize: this.vnetHdrSize, offloads: this.offloads };
  }

  constructor(opts: TunOpenOptions) {
    const tun = load();
    this.name = opts.name;
    this.netns = opts.netns;
    if (Buffer.byteLength(opts.name) > 15) {
      throw new TunError(`device name "${opts.name}" is too long (at most 15 bytes)`);
    }
    if (!existsSync('/dev/net/tun')) throw new TunError('/dev/net/tun does not exist (is the tun module loaded?)');
    const where = opts.netns ? ` in netns "${opts.netns}"` : '';
    if (opts.netns && !existsSync(netnsPath(opts.netns))) {
      throw new TunError(`network namespace "${opts.netns}" does not exist (${netnsPath(opts.netns)})`);
    }
    try {
      const ns = opts.netns ? netnsPath(opts.netns) : '';
      if (opts.offload) {
        const o = opts.offload === true ? {} : opts.offload;
        const size = o.vnetHdrSize ?? 10;
        [this.fd, this.offloads] = tun.openTunOffload(opts.name, ns, opts.mtu ?? 0, size, o.offloads ?? DEFAULT_OFFLOADS, opts.multiQueue === true);
        this.vnetHdrSize = size;
        this.offload = offloadOf(size, this.offloads);
      } else {
        this.fd = tun.openTun(opts.name, ns, opts.mtu ?? 0, opts.multiQueue === true);
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'EPERM' || e.code === 'EACCES') {
        throw new TunError(`not permitted to open TUN "${opts.name}"${where}: run as root (CAP_NET_ADMIN) — ${e.message}`);
      }
      if (e.code === 'EBUSY') throw new TunError(`TUN "${opts.name}"${where} is already in use by another process`);
      if (e.code === 'EINVAL' && opts.multiQueue) {
        throw new TunError(`TUN "${opts.name}"${where} exists as a single-queue device: forwarding workers need one made with multi_queue (ip tuntap add dev ${opts.name} mode tun multi_queue), or none`);
      }
      throw new TunError(`cannot open TUN "${opts.name}"${where}: ${e.message}`);
    }
  }

  setCarrier(on: boolean): void {
    load().setCarrier(this.fd, on);
  }

  /** Whether the device is still there (it may have been deleted under us). */
  exists(): boolean {
    return stillThere(() => this.linkRunning());
  }

  /** The netns file the device's jobs enter ('': the daemon's own namespace). */
  private get nsPath(): string {
    return this.netns ? netnsPath(this.netns) : '';
  }

  /** Whether the kernel side is operational (IFF_RUNNING) — it lags a carrier change. */
  linkRunning(): boolean {
    return load().linkRunning(this.name, this.nsPath);
  }

  /**
   * Packets the kernel dropped on their way to the router since the last
   * call: the interface's tx_dropped (a queue full, none open, or the
   * carrier off while the port is blocked). It is
   * the whole device's, so only the thread that opened it counts it (an
   * adopted queue: null); read at most once a second (it takes a netlink
   * query in the device's namespace); the first read only sets the base.
   */
  takeCounts(): DeviceCounts | null {
    const now = performance.now();
    if (!this.owner || this.closed || now - this.dropsReadAt < TX_DROPPED_EVERY_MS) return null;
    this.dropsReadAt = now;
    let dropped: number;
    try {
      dropped = load().txDropped(this.name, this.nsPath);
    } catch {
      return null; // gone (ENODEV): the port's read error says so
    }
    const before = this.dropsSeen ?? dropped;
    this.dropsSeen = dropped;
    return { kernelDrops: Math.max(0, dropped - before) };
  }

  /** Watch the fd; `onBatch(count, errno)` runs with `count` packets in slots. */
  startReading(buf: ArrayBuffer, offset: number, slotSize: number, slots: number, lengths: Int32Array,
    onBatch: (count: number, errno: number) => void): void {
    if (this.reader) throw new TunError(`${this.name}: already reading`);
    this.reader = load().startReader(this.fd, buf, offset, slotSize, slots, lengths, onBatch);
  }

  stopReading(): void {
    if (this.reader) load().stopReader(this.reader);
    this.reader = undefined;
  }

  /** Whether the read watcher keeps the process alive (a daemon: yes; a tool: maybe not). */
  setRef(ref: boolean): void {
    if (this.reader) load().refReader(this.reader, ref);
  }

  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number): number {
    return load().writeBatch(this.fd, buf, offsets, lengths, count);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.reader) load().stopReader(this.reader);
    this.reader = undefined;
    if (this.owner) load().close(this.fd);
  }
}
