// The RIP routers heard on each port: when last heard, whether their
// Responses are taken (BFD), and what was wrong with what they sent.
import { portAddressKey } from '../../net/addr.js';
import type { PortView } from '../../control/protocol.js';
import { LimitWatch } from './limits.js';

/**
 * up: its Responses are taken; bfd-down: the port runs BFD and the session
 * to it is not Up, so its Responses are ignored (RIP listens only to neighbours BFD
 * says are alive); down: silent
 * for the timeout, or its port was blocked.
 */
export type NeighbourState = 'up' | 'bfd-down' | 'down';

export class RipNeighbour {
  state: NeighbourState | null = null;
  lastHeard: number;
  responses = 0;
  requests = 0;
  /** Packets rejected whole (bad version, length, source port, …). */
  badPackets = 0;
  /** Route entries rejected (bad AFI, metric, mask, …). */
  badRoutes = 0;
  /** Responses ignored while BFD was not Up. */
  ignored = 0;
  /** Packets that failed authentication (it is known by its address only, which anyone can use). */
  authFailures = 0;
  /** The last RFC 4822 sequence number accepted from it (−1: none yet). */
  authSequence = -1;
  /** Its per-neighbour route limit: reached, refusals. */
  readonly limit = new LimitWatch();
  /** A BFD session was required for it (released when it is forgotten). */
  bfdRequired = false;
  /** When its last Response came (ms), or null before the first. */
  lastResponse: number | null = null;
  /** When we last sent it a Request of its own (unicast), ms. */
  requestedAt = -Infinity;
  /** Answers to its withdrawals (see RipProtocol.answer): prefixes due, and when the next answer may go. */
  readonly answerDue = new Set<number>();
  answerTimer: unknown = undefined;
  answerDampedUntil = -Infinity;

  constructor(readonly port: PortView, readonly address: number, readonly firstHeard: number) {
    this.lastHeard = firstHeard;
  }
}

const keyOf = portAddressKey;

export class NeighbourTable {
  private readonly map = new Map<number, RipNeighbour>();
  /** Neighbours per port index. */
  private readonly perPort = new Map<number, number>();

  get(port: PortView, address: number): RipNeighbour | undefined {
    return this.map.get(keyOf(port.index, address));
  }

  /** The neighbour, made on first sight (its state is then still null). */
  heard(port: PortView, address: number, now: number): RipNeighbour {
    const key = keyOf(port.index, address);
    let n = this.map.get(key);
    if (!n) {
      this.map.set(key, (n = new RipNeighbour(port, address, now)));
      this.perPort.set(port.index, this.countOn(port) + 1);
    }
    n.lastHeard = now;
    return n;
  }

  delete(n: RipNeighbour): void {
    if (this.map.delete(keyOf(n.port.index, n.address))) this.perPort.set(n.port.index, this.countOn(n.port) - 1);
  }

  /** How many are known on the port (any state). */
  countOn(port: PortView): number {
    return this.perPort.get(port.index) ?? 0;
  }

  all(): IterableIterator<RipNeighbour> {
    return this.map.values();
  }

  onPort(port: PortView): RipNeighbour[] {
    return [...this.map.values()].filter((n) => n.port === port);
  }
}
