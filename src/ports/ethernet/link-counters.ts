// Counters of an Ethernet port's link layer (frames, ARP, neighbour
// resolution) in one Float64Array, bumped in place on the packet path. Every
// frame or packet the link layer drops is counted under one of the DROP
// reasons; the EVENT counters say what it did. A forwarding worker's link
// counts in its shard (../sharded-counters.ts).
import { namedCounts } from '../../packet/drops.js';
import { ShardedCounters } from '../sharded-counters.js';

export const L2Drop = {
  /** Shorter than an Ethernet header. */
  RUNT: 0,
  /** Unicast to another MAC (a veth or a promiscuous NIC hands us those). */
  NOT_OUR_MAC: 1,
  /** Source MAC is a group address, or ours (a loop). */
  BAD_SOURCE_MAC: 2,
  /** Neither IPv4 nor ARP (IPv6, LLDP, 802.3/LLC, …). */
  UNKNOWN_ETHERTYPE: 3,
  /** 802.1Q/802.1ad-tagged: in the frame bytes, or a tag the kernel stripped into metadata (dropped by the device). */
  VLAN_TAGGED: 4,
  ARP_TRUNCATED: 5,
  ARP_BAD_HARDWARE_TYPE: 6,
  ARP_BAD_PROTOCOL_TYPE: 7,
  ARP_BAD_ADDRESS_LENGTHS: 8,
  ARP_BAD_OPERATION: 9,
  ARP_BAD_SENDER_MAC: 10,
  /** A request for an address that is not ours (normal on a shared segment). */
  ARP_NOT_FOR_US: 11,
  /** Someone else claims our address. */
  ARP_ADDRESS_CONFLICT: 12,
  /** Frames received while the link is down (blocked). */
  RX_LINK_DOWN: 13,
  /** Packets to send while the link is down. */
  TX_LINK_DOWN: 14,
  /** Next hop is not an address we can resolve (ours, 0.0.0.0). */
  BAD_NEXT_HOP: 15,
  /** No neighbour entry could be made: every entry is resolving or reachable. */
  NEIGHBOUR_TABLE_FULL: 16,
  /** A neighbour's hold queue was full: its oldest waiting packet was dropped. */
  HOLD_QUEUE_OVERFLOW: 17,
  /** Every hold buffer of the port was in use. */
  HOLD_POOL_EMPTY: 18,
  /** Larger than a hold buffer (the port MTU). */
  HOLD_TOO_BIG: 19,
  /** Resolution failed: the packets waiting for it were given up. */
  UNRESOLVED: 20,
  /** Packets waiting for resolution when the link went down. */
  HELD_AT_LINK_DOWN: 21,
  /** An ARP packet we wanted to send found no free control frame before the next flush. */
  ARP_TX_NO_BUFFER: 22,
  // Dropped below the link by the device's reader (ethernet-device.ts), before receive() saw them
  // (what the kernel dropped before the reader is a port drop: kernel-dropped):
  /** Larger than a receive slot (the port MTU). */
  DEVICE_OVERSIZE: 23,
  /** Larger than the device's 65 KB staging buffer. */
  DEVICE_TRUNCATED: 24,
  /** A partial checksum or super-frame the device could not complete or cut (IPv6, UFO, malformed headers). */
  DEVICE_BAD_OFFLOAD: 25,
  /** A packet to hold whose partial checksum could not be finished (it did not hold its TCP/UDP header). */
  HOLD_BAD_CHECKSUM: 26,
} as const;

export const L2_DROP_NAMES: readonly string[] = [
  'runt', 'not-our-mac', 'bad-source-mac', 'unknown-ethertype', 'vlan-tagged',
  'arp-truncated', 'arp-bad-hardware-type', 'arp-bad-protocol-type', 'arp-bad-address-lengths', 'arp-bad-operation',
  'arp-bad-sender-mac', 'arp-not-for-us', 'arp-address-conflict', 'rx-link-down', 'tx-link-down', 'bad-next-hop',
  'neighbour-table-full', 'hold-queue-overflow', 'hold-pool-empty', 'hold-too-big', 'unresolved', 'held-at-link-down',
  'arp-tx-no-buffer', 'device-oversize', 'device-truncated', 'device-bad-offload', 'hold-bad-checksum',
];

export const L2Event = {
  ARP_REQUESTS_RECEIVED: 0,
  ARP_REPLIES_RECEIVED: 1,
  ARP_REPLIES_SENT: 2,
  ARP_REQUESTS_SENT: 3,
  GRATUITOUS_SENT: 4,
  /** Packets put on hold while their next hop was resolved. */
  HELD: 5,
  /** Held packets sent after resolution. */
  RELEASED: 6,
  // Repairs the device made below the link (a port without offloads gets whole, checksummed packets):
  /** Partial L4 checksums (left to "hardware" by the sender's kernel) completed. */
  DEVICE_CHECKSUMS_COMPLETED: 7,
  /** Super-frames (TSO/GSO) cut into segments, and the segments made. */
  DEVICE_SUPER_FRAMES_CUT: 8,
  DEVICE_SEGMENTS_MADE: 9,
} as const;

export const L2_EVENT_NAMES: readonly string[] = [
  'arp-requests-received', 'arp-replies-received', 'arp-replies-sent', 'arp-requests-sent', 'gratuitous-sent', 'held', 'released',
  'device-checksums-completed', 'device-super-frames-cut', 'device-segments-made',
];

const EVENTS_AT = L2_DROP_NAMES.length;
/** Slots of one link's counters (a forwarding worker's shard is this many Float64s). */
export const LINK_COUNTER_SLOTS = EVENTS_AT + L2_EVENT_NAMES.length;

export class LinkCounters extends ShardedCounters {
  constructor(values?: Float64Array) {
    super('link counters', LINK_COUNTER_SLOTS, values);
  }

  drop(reason: number, n = 1): void {
    this.values[reason]! += n;
  }

  event(what: number, n = 1): void {
    this.values[EVENTS_AT + what]! += n;
  }

  dropCount(reason: number): number {
    return this.total()[reason]!;
  }

  eventCount(what: number): number {
    return this.total()[EVENTS_AT + what]!;
  }

  /** Non-zero counters by name (this thread's and the workers'), for the API and `stats`. */
  snapshot(): { drops: Record<string, number>; events: Record<string, number> } {
    const v = this.total();
    return { drops: namedCounts(v, L2_DROP_NAMES), events: namedCounts(v, L2_EVENT_NAMES, EVENTS_AT) };
  }
}
