// A port and the device under it, as the config describes it: a TUN device
// (raw IPv4), or an Ethernet interface (a veth end, a TAP device, a NIC) on
// an AF_PACKET socket, with its link layer — framing, ARP, the neighbour
// table, packets held while a next hop resolves — in the packet arena.
import type { PortConfig } from '../config/router-config.js';
import type { Clock } from '../control/clock.js';
import type { PacketArena } from '../packet/arena.js';
import type { PacketDevice } from '../ports/device.js';
import { EthernetDevice } from '../ports/ethernet/ethernet-device.js';
import { EthernetLink } from '../ports/ethernet/ethernet-link.js';
import { Port } from '../ports/port.js';
import { TunDevice } from '../ports/tun-device.js';
import { parseMac } from '../wire/ethernet.js';

export type DeviceOpener = (port: PortConfig) => PacketDevice;

/**
 * Open the device a port config names (in its namespace), in offload mode
 * unless the port has offloads off. Throws with one line when it cannot.
 */
export const openDevice: DeviceOpener = (p) =>
  p.type === 'ethernet'
    ? new EthernetDevice({ name: p.device, netns: p.netns || undefined, mtu: p.mtu, offload: p.offload })
    : new TunDevice({ name: p.device, netns: p.netns || undefined, mtu: p.mtu, offload: p.offload });

/** Whether a port's receive slots must hold 64 KB super-packets: a port in offload mode. */
export const superSlotsFor = (p: PortConfig): boolean => p.offload;

/** A device is the same device when its name and namespace are. */
export const deviceKey = (p: { device: string; netns: string }): string => `${p.netns}/${p.device}`;

/** The device's MAC, if it is an Ethernet device. */
function macOf(device: PacketDevice): Uint8Array | null {
  return device instanceof EthernetDevice ? device.mac : null;
}

/** Arena bytes of an Ethernet port's link layer (control frames and the hold pool). */
const linkRegionBytes = (mtu: number): number => EthernetLink.regionBytes({ mtu });

export interface LinkHooks {
  clock: Clock;
  /** A packet held for ARP whose next hop never resolved (RFC 1812 §4.3.3.1: host unreachable). */
  unresolved(port: Port, off: number, len: number, nextHop: number): void;
}

/** A port on its device; an Ethernet device gets its link layer, in a region of the arena of its own. */
export function makePort(index: number, pc: PortConfig, device: PacketDevice, arena: PacketArena, hooks: LinkHooks): Port {
  const port = new Port(index, {
    name: pc.name, address: pc.address, prefixLen: pc.prefixLen, mtu: pc.mtu, netns: pc.netns, deviceName: pc.device,
    superSlots: superSlotsFor(pc) || (device.offload?.rxSuper ?? false),
  }, device, arena);
  if (macOf(device)) {
    port.linkRegion = arena.reserve(linkRegionBytes(pc.mtu));
    attachLink(port, pc, arena, hooks);
  }
  return port;
}

/**
 * (Re)build the port's link layer for its current device (a re-created
 * interface has a new MAC), with the neighbours the config names.
 */
export function attachLink(port: Port, pc: PortConfig, arena: PacketArena, hooks: LinkHooks): void {
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
    send: (off, len) => port.enqueue(off, len),
    unresolved: (off, len, nextHop) => hooks.unresolved(port, off, len, nextHop),
  });
  for (const n of pc.neighbours) port.link.setStaticNeighbour(n.address, parseMac(n.mac));
}
