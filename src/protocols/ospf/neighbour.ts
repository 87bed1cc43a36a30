// One OSPF neighbour on an interface (RFC 2328 §10): what its Hellos say,
// where the adjacency stands, and the lists that drive the database
// exchange — the summary of our database to describe, the LSAs to request,
// the LSAs sent and not yet acknowledged.
import type { TimerHandle } from '../../control/clock.js';
import type { LsaEntry, LsaKey } from './lsdb.js';
import type { OspfInterface } from './interface.js';

export const NbrState = { DOWN: 0, ATTEMPT: 1, INIT: 2, TWO_WAY: 3, EXSTART: 4, EXCHANGE: 5, LOADING: 6, FULL: 7 } as const;
export const NBR_STATE_NAMES: readonly string[] = ['Down', 'Attempt', 'Init', '2-Way', 'ExStart', 'Exchange', 'Loading', 'Full'];

/** An LSA asked for in a Link State Request: which instance the neighbour described. */
export interface RequestedLsa {
  type: number;
  id: number;
  adv: number;
  seq: number;
  checksum: number;
  age: number;
}

export class OspfNeighbour {
  state: number = NbrState.DOWN;
  routerId = 0;
  priority = 0;
  /** What its Hellos declare (interface addresses). */
  dr = 0;
  bdr = 0;
  options = 0;
  /** When it entered its state, and when we last heard from it (clock ms). */
  since: number;
  lastHeard: number;

  // Database exchange (§10.6, §10.8).
  master = false;
  ddSequence = 0;
  /** The last DD received: flags, options, sequence (duplicate detection). */
  lastDd: { flags: number; options: number; seq: number } | null = null;
  /** The last DD we sent (bytes of the OSPF packet), resent on duplicates and timeouts. */
  lastSentDd: Uint8Array | null = null;
  /** Our database as it was when the exchange began, and how far it has been described. */
  summary: LsaEntry[] = [];
  summaryAt = 0;
  summaryBatchEnd = 0;
  sentAll = false;
  readonly requests = new Map<LsaKey, RequestedLsa>();
  /** A Link State Request is out and not yet answered. */
  requestOutstanding = false;
  readonly retransmit = new Map<LsaKey, LsaEntry>();

  inactivityTimer: TimerHandle | undefined;
  ddTimer: TimerHandle | undefined;
  requestTimer: TimerHandle | undefined;
  retransmitTimer: TimerHandle | undefined;
  /** Acks to send it directly, collected while a packet is processed. */
  readonly directAcks: Uint8Array[] = [];

  /** BFD: a session is required for it; it went down after having been Up (held at Init until BFD is Up again). */
  bfdRequired = false;
  bfdHeld = false;
  bfdWasUp = false;
  /** While held: its last Hello listed us; the last Database Description it sent (a copy of the OSPF packet). Taken when BFD is Up. */
  heldHeardUs = false;
  heldDd: Uint8Array | null = null;

  // Counters.
  adjacencyChanges = 0;
  lsasReceived = 0;
  lsasRetransmitted = 0;

  constructor(readonly iface: OspfInterface, public address: number, now: number) {
    this.since = now;
    this.lastHeard = now;
  }

  /** Declares itself the DR / BDR (its Hello names its own address). */
  get declaresDr(): boolean { return this.dr === this.address; }
  get declaresBdr(): boolean { return this.bdr === this.address; }
}
