// An Ethernet interface (a veth end, a physical NIC, a TAP) as a port's
// packet device, through the project's addon (native/ether.c): an AF_PACKET
// socket bound to the interface. Whole Ethernet frames in and out; same
// batched, allocation-free interface as TunDevice.
//
// Opening takes the interface for the router: the kernel's own IP stack is
// kept off it (IPv6 disabled before the link goes up, so no link-local
// address and no ND/MLD; NOARP, so the kernel neither answers nor sends ARP;
// forwarding off on it) and it must carry no IPv4 address — the router
// answers ARP for the port's address itself. `configure: false` only
// listens (tests use it to watch a neighbour's side).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { parseMac } from '../../wire/ethernet.js';
import { VIRTIO_NET_HDR_LEN } from '../../wire/virtio-net.js';
import { stillThere, type DeviceCounts, type DeviceOffload, type PacketDevice } from '../device.js';
import { netnsPath } from '../tun-device.js';

interface EtherAddon {
  openPacket(name: string, netnsPath: string, mtu: number, configure: boolean): { fd: number; ifindex: number; mac: string; mtu: number; hasIpv4: boolean };
  setLinkUp(name: string, netnsPath: string, up: boolean): void;
  linkRunning(name: string, netnsPath: string): boolean;
  close(fd: number): void;
  joinFanout(fd: number, group: number): void;
  packetWriteBatch(fd: number, buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number, vnet: Int32Array | null): number;
  startPacketReader(
    fd: number, buf: ArrayBuffer, offset: number, slotSize: number, slots: number,
    lengths: Int32Array, onBatch: (count: number, errno: number) => void, whole: boolean,
  ): object;
  stopReader(handle: object): void;
  refReader(handle: object, ref: boolean): void;
  packetReaderStats(handle: object, fd: number): EthernetDeviceStats;
}

/** What the device's reader dropped or repaired before frames reached the link layer. */
export interface ReaderFrameCounts {
  /** A frame larger than a slot. */
  oversize: number;
  /** A frame larger than the 65 KB staging buffer. */
  truncated: number;
  /** 802.1Q-tagged frames (the kernel strips the tag into metadata; we route untagged only). */
  vlanTagged: number;
  /** A partial checksum or GSO super-frame that could not be completed (IPv6, UFO, malformed headers). */
  badOffload: number;
  /** Frames whose L4 checksum the sender's kernel left to "hardware", completed here. */
  checksumsCompleted: number;
  /** TSO/GSO super-frames cut into segments, and the segments made. */
  gsoFrames: number;
  gsoSegments: number;
}

/** What the device itself dropped or did before frames reached JS. */
export interface EthernetDeviceStats extends ReaderFrameCounts {
  /** Dropped by the kernel: the socket's receive buffer was full. */
  kernelDrops: number;
}

const COUNT_KEYS = ['oversize', 'truncated', 'vlanTagged', 'badOffload', 'checksumsCompleted', 'gsoFrames', 'gsoSegments', 'kernelDrops'] as const;

function noCounts(): EthernetDeviceStats {
  return { oversize: 0, truncated: 0, vlanTagged: 0, badOffload: 0, checksumsCompleted: 0, gsoFrames: 0, gsoSegments: 0, kernelDrops: 0 };
}

let addon: EtherAddon | undefined;
function load(): EtherAddon {
  if (!addon) {
    const require = createRequire(import.meta.url);
    // dist/src/ports/ethernet/ → package root
    const path = new URL('../../../../build/Release/tun.node', import.meta.url).pathname;
    if (!existsSync(path)) throw new EthernetError(`addon not built (${path} missing): run the set-up command (npm install)`);
    addon = require(path) as EtherAddon;
  }
  return addon;
}

export class EthernetError extends Error {}

export interface EthernetOpenOptions {
  /** The interface's name in its namespace. */
  name: string;
  netns?: string;
  /** Set the interface MTU (default: leave it). */
  mtu?: number;
  /** Take the interface for the router (default true); false: only listen. */
  configure?: boolean;
  /**
   * Offload mode. Send super-packets to the kernel with a virtio-net header
   * beside the frame (the kernel segments them, or the interface takes them
   * whole as a veth does); read super-frames and partial checksums as they
   * came, each frame's header in the VIRTIO_NET_HDR_LEN bytes before it
   * (slots of ETHERNET_WHOLE_SLOT bytes or more). Default false: received
   * frames are ordinary ones — the reader finishes and cuts what the kernel
   * hands over.
   */
  offload?: boolean;
  /**
   * Join this PACKET_FANOUT_HASH group (an id unique to the interface in its
   * namespace): the kernel hands each frame to one socket of the group by a
   * symmetric flow hash, so a flow always lands on the same socket (one
   * forwarding worker's queue) and keeps its order.
   */
  fanoutGroup?: number;
}

/** An open socket as another thread of this process takes it over: the fd is the process's. */
export interface EthernetQueueHandle {
  kind: 'ethernet';
  name: string;
  netns: string | undefined;
  fd: number;
  ifindex: number;
  mac: string;
  mtu: number;
  offload: boolean;
}

/** The smallest receive slot of an Ethernet device in offload mode: the largest frame and a virtio-net header before it. */
export const ETHERNET_WHOLE_SLOT = 65535 + 14 + VIRTIO_NET_HDR_LEN;

/**
 * What an Ethernet device in offload mode takes: TCP and UDP super-packets
 * (the kernel segments what the interface cannot) and partial checksums
 * (the kernel, or the NIC, finishes them), each with a virtio-net header
 * beside the frame. A packet held for ARP is sent later without its header:
 * the link finishes its checksum as it holds it; a super-packet is sent
 * whole only when it is larger than the MTU and its next hop is resolved
 * (else the path cuts it, and the link may hold its segments).
 */
const ETHERNET_OFFLOAD: DeviceOffload = { vnetHdrSize: 0, csum: true, tso4: true, uso4: true, rxSuper: true };

export class EthernetDevice implements PacketDevice {
  readonly name: string;
  readonly netns: string | undefined;
  readonly fd: number;
  readonly ifindex: number;
  /** The interface's MAC: the port's link-layer address. */
  readonly mac: Uint8Array;
  readonly macText: string;
  /** The interface MTU after opening (an IPv4 packet of up to this many bytes fits a frame). */
  readonly mtu: number;
  readonly offload: DeviceOffload | null;
  private reader: object | undefined;
  /** The reader's counts as of the last takeCounts(), and what a stopped reader left untaken. */
  private taken = noCounts();
  private untaken = noCounts();
  private closed = false;
  /** Whether close() closes the fd (false for an adopted queue). */
  private owner = true;

  /**
   * The device on a socket another thread opened (a forwarding worker): it
   * reads and writes that fd; closing it leaves the fd to its owner.
   */
  static adopt(h: EthernetQueueHandle): EthernetDevice {
    const d = Object.create(EthernetDevice.prototype) as EthernetDevice;
    Object.assign(d, {
      name: h.name, netns: h.netns, fd: h.fd, ifindex: h.ifindex, macText: h.mac, mac: parseMac(h.mac), mtu: h.mtu,
      offload: h.offload ? ETHERNET_OFFLOAD : null, reader: undefined, taken: noCounts(), untaken: noCounts(), closed: false, owner: false,
    });
    return d;
  }

  /** What adopt() needs to take this socket over in another thread. */
  handle(): EthernetQueueHandle {
    return { kind: 'ethernet', name: this.name, netns: this.netns, fd: this.fd, ifindex: this.ifindex, mac: this.macText, mtu: this.mtu, offload: this.offload !== null };
  }

  constructor(opts: EthernetOpenOptions) {
    const ether = load();
    this.name = opts.name;
    this.netns = opts.netns;
    if (Buffer.byteLength(opts.name) > 15 || opts.name.length === 0) {
      throw new EthernetError(`interface name "${opts.name}" must be 1-15 bytes`);
    }
    const where = opts.netns ? ` in netns "${opts.netns}"` : '';
    if (opts.netns && !existsSync(netnsPath(opts.netns))) {
      throw new EthernetError(`network namespace "${opts.netns}" does not exist (${netnsPath(opts.netns)})`);
    }
    const configure = opts.configure ?? true;
    this.offload = opts.offload ? ETHERNET_OFFLOAD : null;
    let r: ReturnType<EtherAddon['openPacket']>;
    try {
      r = ether.openPacket(opts.name, this.nsPath, opts.mtu ?? 0, configure);
    } catch (err) {
      const e = err as Error & { code?: string };
      if (e.code === 'EPERM' || e.code === 'EACCES') {
        throw new EthernetError(`not permitted to open interface "${opts.name}"${where}: run as root (CAP_NET_ADMIN, CAP_NET_RAW) — ${e.message}`);
      }
      if (e.code === 'ENODEV') throw new EthernetError(`interface "${opts.name}"${where} does not exist`);
      throw new EthernetError(`cannot open interface "${opts.name}"${where}: ${e.message}`);
    }
    this.fd = r.fd;
    this.ifindex = r.ifindex;
    this.macText = r.mac;
    this.mac = parseMac(r.mac);
    this.mtu = r.mtu;
    if (configure && r.hasIpv4) {
      ether.close(r.fd);
      throw new EthernetError(`interface "${opts.name}"${where} has an IPv4 address: the router answers for the port's address itself — remove it (ip addr flush dev ${opts.name})`);
    }
    if (opts.fanoutGroup !== undefined) {
      try {
        ether.joinFanout(r.fd, opts.fanoutGroup);
      } catch (err) {
        ether.close(r.fd);
        throw new EthernetError(`interface "${opts.name}"${where}: cannot join fanout group ${opts.fanoutGroup}: ${(err as Error).message}`);
      }
    }
  }

  private get nsPath(): string {
    return this.netns ? netnsPath(this.netns) : '';
  }

  /** Port block/unblock: link down (the neighbour sees NO-CARRIER) or up. */
  setCarrier(on: boolean): void {
    load().setLinkUp(this.name, this.nsPath, on);
  }

  /** Whether the link is operational (IFF_RUNNING): after setCarrier(true) it lags, as for a TUN. */
  linkRunning(): boolean {
    return load().linkRunning(this.name, this.nsPath);
  }

  /** Whether the interface is still there (a veth goes when its peer's namespace or end is deleted). */
  exists(): boolean {
    return stillThere(() => this.linkRunning());
  }

  /**
   * Watch the socket; `onBatch(count, errno)` runs with `count` frames in
   * slots: frame i at offset + i * slotSize, lengths[i] bytes (complete
   * Ethernet frames, checksums done, super-frames already cut). A slot must
   * hold the interface MTU + 14; every byte of [offset, offset + slots *
   * slotSize) may be written (a super-frame fills its slot before it is
   * staged). To have IPv4 packets start at slot + HEADROOM, pass offset =
   * rxBase + HEADROOM - 14: the area then needs slots * slotSize +
   * HEADROOM - 14 bytes from rxBase.
   */
  startReading(buf: ArrayBuffer, offset: number, slotSize: number, slots: number, lengths: Int32Array,
    onBatch: (count: number, errno: number) => void): void {
    if (this.reader) throw new EthernetError(`${this.name}: already reading`);
    const whole = this.offload !== null;
    if (whole && slotSize < ETHERNET_WHOLE_SLOT) throw new EthernetError(`${this.name}: offload mode needs slots of ${ETHERNET_WHOLE_SLOT} bytes`);
    this.reader = load().startPacketReader(this.fd, buf, offset, slotSize, slots, lengths, onBatch, whole);
  }

  setRef(ref: boolean): void {
    if (this.reader) load().refReader(this.reader, ref);
  }

  /**
   * Frames at (offsets[i], lengths[i]); a refused one gets −errno in
   * lengths[i]. `vnet[i]`: where frame i's virtio-net header is in buf (−1:
   * none, an ordinary frame). Returns frames sent.
   */
  writeBatch(buf: ArrayBuffer, offsets: Int32Array, lengths: Int32Array, count: number, vnet: Int32Array | null = null): number {
    return load().packetWriteBatch(this.fd, buf, offsets, lengths, count, vnet);
  }

  /** What the device dropped or repaired before JS saw the frames, since reading started (zeros before). */
  stats(): EthernetDeviceStats {
    if (!this.reader) return noCounts();
    return load().packetReaderStats(this.reader, this.fd);
  }

  /** What this socket's reader dropped or repaired since the last call (each thread counts its own sockets). */
  takeCounts(): DeviceCounts {
    const now = this.stats();
    const delta = noCounts();
    for (const k of COUNT_KEYS) delta[k] = now[k] + this.untaken[k] - this.taken[k];
    this.taken = now;
    this.untaken = noCounts();
    const { kernelDrops, ...frames } = delta;
    return { kernelDrops, frames };
  }

  /** Stop watching the socket (it stays open). */
  stopReading(): void {
    if (this.reader) {
      // The reader's counts go with it: keep what the next takeCounts() has not taken yet.
      const last = this.stats();
      for (const k of COUNT_KEYS) this.untaken[k] += last[k] - this.taken[k];
      load().stopReader(this.reader);
    }
    this.reader = undefined;
    this.taken = noCounts();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stopReading();
    if (this.owner) load().close(this.fd);
  }
}
