// What other protocols need from BFD: "is my neighbour alive?", and a call
// when the answer changes. RIP uses it per neighbour; BFD-tracked static
// routes per next hop.
import type { Port } from '../ports/port.js';

export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';

export interface SessionChange {
  port: Port;
  peer: number;
  from: BfdState;
  to: BfdState;
  /** RFC 5880 §4.1 diagnostic, as text (e.g. "control-detection-time-expired"). */
  diagnostic: string;
}

export interface NeighbourLiveness {
  /** Make sure a session to `peer` on `port` exists; `owner` names who needs it (refcount). */
  require(port: Port, peer: number, owner: string): void;
  /** `owner` no longer needs the session; it ends when nobody does (unless configured). */
  release(port: Port, peer: number, owner: string): void;
  state(port: Port, peer: number): BfdState | undefined;
  onChange(listener: (c: SessionChange) => void): void;
}
