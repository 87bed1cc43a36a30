// What the control plane may know of a port: its place, its address and
// subnet, its administrative state — never its device or its queues.
/**
 * up: forwarding; blocked: administratively silent (the method's step 4);
 * draining: only flows already on it use it; down: its device is gone (deleted,
 * or the port was removed from the config) — no traffic, routes withdrawn.
 */
export type PortState = 'up' | 'blocked' | 'draining' | 'down';

/** What the control plane may know of a port. */
export interface PortView {
  readonly index: number;
  readonly name: string;
  /** The router's address on the port, and the connected subnet. */
  readonly address: number;
  readonly prefixLen: number;
  readonly network: number;
  readonly broadcast: number;
  readonly mtu: number;
  readonly state: PortState;
  readonly blocked: boolean;
  /** Whether `addr` is on the port's subnet. */
  onLink(addr: number): boolean;
  /** Whether `addr` can be a neighbour on the link (on the subnet, not ours, not network/broadcast). */
  isNeighbourAddress(addr: number): boolean;
  /** The other end of a /30 or /31 link, or 0. */
  pointToPointPeer(): number;
}
