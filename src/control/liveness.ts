// Neighbour liveness, as BFD provides it: "is my neighbour alive?", and a
// call when the answer changes. RIP asks per neighbour; the router asks for
// the next hop of every BFD-tracked route.
import type { PortView } from './port-view.js';

export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';

export interface SessionChange {
  port: PortView;
  peer: number;
  from: BfdState;
  to: BfdState;
  /** RFC 5880 §4.1 diagnostic, as text (e.g. "control-detection-time-expired"). */
  diagnostic: string;
}

export interface NeighbourLiveness {
  /** Make sure a session to `peer` on `port` exists; `owner` names who needs it (refcount). */
  require(port: PortView, peer: number, owner: string): void;
  /** `owner` no longer needs the session; it ends when nobody does (unless configured). */
  release(port: PortView, peer: number, owner: string): void;
  state(port: PortView, peer: number): BfdState | undefined;
  /** Returns the unsubscribe. */
  onChange(listener: (c: SessionChange) => void): () => void;
}
