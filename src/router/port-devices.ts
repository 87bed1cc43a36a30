// A port and the device under it, as the config describes it: a TUN device
// (raw IPv4), or an Ethernet interface (a veth end, a TAP device, a NIC) on
// an AF_PACKET socket, with its link layer — framing, ARP, the neighbour
// table, packets held while a next hop resolves — in the packet arena.
import type { PortConfig } from '../config/router-config.js';
import type { Clock } from '../control/clock.js';
import type { PacketArena } from '../packet/arena.js';
import type { PacketDevice } from '../ports/device.js';
import { EthernetDevice, type EthernetQueueHandle } from '../ports/ethernet/ethernet-device.js';
import { EthernetLink } from '../ports/ethernet/ethernet-link.js';
import { Port } from '../ports/port.js';
import { TunDevice, type TunIo, type TunQueueHandle } from '../ports/tun-device.js';
import { parseMac } from '../wire/ethernet.js';

export type DeviceOpener = (port: PortConfig) => PacketDevice;

/** How every TUN port of this process batches its reads and writes (config `ioUring`), as this thread finds it. */
export function chooseTunIo(ioUring: boolean): TunIo {
  TunDevice.setIoUring(ioUring);
  return TunDevice.io();
}

/**
 * Open the device a port config names (in its namespace), in offload mode
 * unless the port has offloads off. Throws with one line when it cannot.
 */
export const openDevice: DeviceOpener = (p) => open(p);

/** The device, or with `queueOf` one queue of it for the port with that index (see openQueues). */
function open(p: PortConfig, queueOf?: number): PacketDevice {
  const where = { name: p.device, netns: p.netns || undefined, mtu: p.mtu, offload: p.offload };
  return p.type === 'ethernet'
    ? new EthernetDevice({ ...where, fanoutGroup: queueOf === undefined ? undefined : fanoutGroupFor(queueOf) })
    : new TunDevice({ ...where, multiQueue: queueOf !== undefined });
}

/** A port's device with forwarding workers: its queues (worker i reads queue i). */
export type QueueOpener = (port: PortConfig, queues: number, portIndex: number) => PacketDevice[];

/** An open queue as a worker takes it over. */
export type QueueHandle = TunQueueHandle | EthernetQueueHandle;

/**
 * A PACKET_FANOUT group id for a port of this process (16 bits, unique
 * among the groups in the interface's namespace: the kernel joins sockets
 * of any process that name the same id there).
 */
export function fanoutGroupFor(portIndex: number, pid = process.pid): number {
  return (Math.imul(pid, 0x9e37) + portIndex * 0x3b1) & 0xffff;
}

/**
 * Open `queues` queues of a port's device: a TUN with IFF_MULTI_QUEUE (the
 * kernel spreads what it sends over the queues by flow), an Ethernet
 * interface on that many AF_PACKET sockets in one PACKET_FANOUT_HASH group.
 * All or none.
 */
export const openQueues: QueueOpener = (p, queues, portIndex) => {
  const opened: PacketDevice[] = [];
  try {
    for (let i = 0; i < queues; i++) opened.push(open(p, portIndex));
  } catch (e) {
    for (const d of opened) d.close();
    throw e;
  }
  return opened;
};

/** What a worker needs to take `device` over (a queue openQueues opened). */
export function queueHandle(device: PacketDevice): QueueHandle {
  if (device instanceof TunDevice || device instanceof EthernetDevice) return device.handle();
  throw new Error(`device ${device.name}: forwarding workers need TUN or Ethernet devices`);
}

/** The device on a queue the control thread opened. */
export function adoptQueue(h: QueueHandle): PacketDevice {
  return h.kind === 'tun' ? TunDevice.adopt(h) : EthernetDevice.adopt(h);
}

/** Whether a port's receive slots must hold 64 KB super-packets: a port in offload mode. */
export const superSlotsFor = (p: PortConfig): boolean => p.offload;

/** A device is the same device when its name and namespace are. */
export const deviceKey = (p: { device: string; netns: string }): string => `${p.netns}/${p.device}`;

/** The device's MAC, if it is an Ethernet device. */
function macOf(device: PacketDevice): Uint8Array | null {
  return device.mac ?? null;
}

/** Arena bytes of an Ethernet port's link layer (control frames and the hold pool). */
const linkRegionBytes = (mtu: number): number => EthernetLink.regionBytes({ mtu });

export interface LinkHooks {
  clock: Clock;
  /** A packet held for ARP whose next hop never resolved (RFC 1812 §4.3.3.1: host unreachable). */
  unresolved(port: Port, off: number, len: number, nextHop: number): void;
  /** Gratuitous ARPs per link up (default 2; a forwarding worker's link: 0, the control thread announces). */
  announcements?: number;
}

/** A forwarding worker's shards of a port's counters: the port's, and its link's (an Ethernet port). */
export interface CounterShards {
  port: Float64Array;
  link?: Float64Array;
}

/** A port on its device; an Ethernet device gets its link layer, in a region of the arena of its own. */
export function makePort(index: number, pc: PortConfig, device: PacketDevice, arena: PacketArena, hooks: LinkHooks, shards?: CounterShards): Port {
  const port = new Port(index, {
    name: pc.name, address: pc.address, prefixLen: pc.prefixLen, mtu: pc.mtu, netns: pc.netns, deviceName: pc.device,
    superSlots: superSlotsFor(pc) || (device.offload?.rxSuper ?? false), counters: shards?.port,
  }, device, arena);
  if (macOf(device)) {
    port.linkRegion = arena.reserve(linkRegionBytes(pc.mtu));
    attachLink(port, pc, arena, hooks, shards?.link);
  }
  return port;
}

/** A removed port's arena regions (what makePort reserved) back for a later port: the caller makes sure nothing reads or writes them any more. */
export function releasePort(port: Port, arena: PacketArena): void {
  arena.release(port.rxBase);
  if (port.linkRegion >= 0) arena.release(port.linkRegion);
}

/**
 * (Re)build the port's link layer for its current device (a re-created
 * interface has a new MAC), with the neighbours the config names.
 */
export function attachLink(port: Port, pc: PortConfig, arena: PacketArena, hooks: LinkHooks, counters?: Float64Array): void {
  const mac = macOf(port.device);
  if (!mac) {
    port.link = null;
    return;
  }
  port.link = new EthernetLink({
    bytes: arena.bytes,
    region: port.linkRegion,
    mac,
    address: port.address,
    prefixLen: port.prefixLen,
    mtu: port.mtu,
    clock: () => hooks.clock.now(),
    announcements: hooks.announcements,
    counters,
    send: (off, len) => port.enqueue(off, len),
    unresolved: (off, len, nextHop) => hooks.unresolved(port, off, len, nextHop),
  });
  for (const n of pc.neighbours) port.link.setStaticNeighbour(n.address, parseMac(n.mac));
}
