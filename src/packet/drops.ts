// Why a packet was dropped. Every drop in the router is counted under one of
// these reasons, per port, so `tunroute stats` can say where traffic went.
export const Drop = {
  TRUNCATED: 0,
  NOT_IPV4: 1,
  BAD_IHL: 2,
  BAD_TOTAL_LENGTH: 3,
  BAD_CHECKSUM: 4,
  MARTIAN_SOURCE: 5,
  MARTIAN_DESTINATION: 6,
  MULTICAST_NOT_ROUTED: 7,
  TTL_EXPIRED: 8,
  NO_ROUTE: 9,
  PORT_BLOCKED: 10,
  FRAG_NEEDED: 11,
  FRAG_FAILED: 12,
  TX_ERROR: 13,
  LOCAL_UNHANDLED: 14,
  BFD_INVALID: 15,
  RIP_INVALID: 16,
  POLICY_UNREACHABLE: 17,
  NAT_NO_FLOW: 18,
  OWN_SOURCE: 19,
  BAD_OPTIONS: 20,
  SOURCE_ROUTE_FAILED: 21,
  REPLY_RATE_LIMITED: 22,
  STRICT_ROUTE_NOT_OURS: 23,
  REASSEMBLY_FAILED: 24,
  /** Came in a link-layer broadcast/multicast frame and is not for the router (RFC 1812 §5.3.4). */
  LINK_BROADCAST_NOT_ROUTED: 25,
  /** An OSPF packet the protocol refused (bad header, checksum, area, authentication, …). */
  OSPF_INVALID: 26,
  /** A super-packet or partial checksum whose virtio-net header does not fit the packet (or too many segments). */
  BAD_OFFLOAD: 27,
  /** For the router, taken by a forwarding worker while the hand-over to the control thread was full. */
  HANDOFF_FULL: 28,
  /** A new TCP connection (a bare SYN) from the side of a draining port: see Forwarder.handle. */
  PORT_DRAINING: 29,
  /**
   * Dropped by the kernel before the port read it (counted from the device
   * at the port's tick): an Ethernet port's socket buffer was full; a TUN's
   * queue was full, none of its queues was open, or its carrier was off
   * (a blocked port: what the host still sent into it).
   */
  KERNEL_DROPPED: 30,
} as const;

export const DROP_NAMES: readonly string[] = [
  'truncated',
  'not-ipv4',
  'bad-ihl',
  'bad-total-length',
  'bad-checksum',
  'martian-source',
  'martian-destination',
  'multicast-not-routed',
  'ttl-expired',
  'no-route',
  'port-blocked',
  'frag-needed-df',
  'frag-failed',
  'tx-error',
  'local-unhandled',
  'bfd-invalid',
  'rip-invalid',
  'policy-port-unusable',
  'nat-no-flow',
  'own-source-address',
  'bad-ip-options',
  'source-route-failed',
  'reply-rate-limited',
  'strict-route-not-ours',
  'reassembly-failed',
  'link-broadcast-not-routed',
  'ospf-invalid',
  'bad-offload',
  'handoff-full',
  'port-draining-new-connection',
  'kernel-dropped',
];

export const DROP_REASON_COUNT = DROP_NAMES.length;

/** The non-zero counters of `values[from …]` by name (for the API and the logs). */
export function namedCounts(values: ArrayLike<number>, names: readonly string[], from = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < names.length; i++) if (values[from + i]! > 0) out[names[i]!] = values[from + i]!;
  return out;
}
