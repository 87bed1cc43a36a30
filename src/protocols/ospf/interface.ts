// An OSPF interface (RFC 2328 §9): a port in area 0, its state, its
// neighbours, and — on a broadcast network — the Designated Router election
// (§9.4). Point-to-point interfaces (TUN links) have no DR; broadcast ones
// (Ethernet segments) elect one, and the adjacencies follow from it.
import type { TimerHandle } from '../../control/clock.js';
import type { OspfPortConfig } from '../../config/router-config.js';
import type { PortView } from '../../control/protocol.js';
import { maskOf } from '../../net/addr.js';
import { OspfAuth } from './auth.js';
import type { LsaEntry } from './lsdb.js';
import { NbrState, type OspfNeighbour } from './neighbour.js';

export const IfState = { DOWN: 0, WAITING: 1, POINT_TO_POINT: 2, DR_OTHER: 3, BACKUP: 4, DR: 5 } as const;
export const IF_STATE_NAMES: readonly string[] = ['Down', 'Waiting', 'PointToPoint', 'DROther', 'Backup', 'DR'];

export class OspfInterface {
  state: number = IfState.DOWN;
  /** DR and BDR by interface address (0 = none). */
  dr = 0;
  bdr = 0;
  /** Neighbours: by Router ID on point-to-point links, by address on broadcast ones (§10.5). */
  readonly neighbours = new Map<number, OspfNeighbour>();
  auth: OspfAuth;
  /** The last cryptographic sequence number heard per sender (Router ID), kept past a neighbour's end. */
  readonly cryptoSequences = new Map<number, number>();
  /** The key id of the last packet accepted per sender (Router ID), cryptographic authentication only. */
  readonly cryptoKeys = new Map<number, number>();
  helloTimer: TimerHandle | undefined;
  waitTimer: TimerHandle | undefined;
  readonly delayedAcks: Uint8Array[] = [];
  ackTimer: TimerHandle | undefined;
  /** LSAs to flood out of this interface, sent together at the end of the work at hand. */
  readonly outbox: LsaEntry[] = [];
  helloesSent = 0;

  constructor(readonly port: PortView, public config: OspfPortConfig) {
    this.auth = new OspfAuth(config.auth);
  }

  get pointToPoint(): boolean { return this.config.network === 'point-to-point'; }
  get mask(): number { return maskOf(this.port.prefixLen); }
  get network(): number { return this.port.network; }
  get address(): number { return this.port.address; }
  get cost(): number { return this.config.cost; }
  get passive(): boolean { return this.config.passive; }
  get up(): boolean { return this.state !== IfState.DOWN; }
  /** Sends and takes packets: up and not passive. */
  get speaks(): boolean { return this.state !== IfState.DOWN && !this.config.passive; }

  setConfig(c: OspfPortConfig): void {
    // New keys take effect at once; the sequence number sent goes on from where it was.
    if (JSON.stringify(c.auth) !== JSON.stringify(this.config.auth)) this.auth = new OspfAuth(c.auth, this.auth.sequence);
    this.config = c;
  }

  /** The neighbour with this Router ID, if any. */
  byRouterId(rid: number): OspfNeighbour | undefined {
    for (const n of this.neighbours.values()) if (n.routerId === rid) return n;
    return undefined;
  }

  fullNeighbours(): OspfNeighbour[] {
    return [...this.neighbours.values()].filter((n) => n.state === NbrState.FULL);
  }

  /** §10.4: whether an adjacency should form with `n`. */
  shouldBeAdjacent(n: OspfNeighbour): boolean {
    if (this.pointToPoint) return true;
    const me = this.address;
    return this.dr === me || this.bdr === me || this.dr === n.address || this.bdr === n.address;
  }

  /**
   * §9.4: elect the DR and BDR among this router (priority > 0) and the
   * neighbours in 2-Way or above. Returns whether either changed; the
   * interface state follows.
   */
  electDr(selfId: number): boolean {
    const before = { dr: this.dr, bdr: this.bdr };
    const me = this.address;
    const priority = this.config.priority;
    const round = (): void => {
      type Candidate = { id: number; address: number; priority: number; dr: number; bdr: number };
      const cands: Candidate[] = [];
      if (priority > 0) cands.push({ id: selfId, address: me, priority, dr: this.dr, bdr: this.bdr });
      for (const n of this.neighbours.values()) {
        if (n.state >= NbrState.TWO_WAY && n.priority > 0) cands.push({ id: n.routerId, address: n.address, priority: n.priority, dr: n.dr, bdr: n.bdr });
      }
      const best = (list: Candidate[]) => list.reduce<Candidate | undefined>((b, c) => (!b || c.priority > b.priority || (c.priority === b.priority && c.id > b.id) ? c : b), undefined);
      const notDr = cands.filter((c) => c.dr !== c.address);
      const bdrDeclared = notDr.filter((c) => c.bdr === c.address);
      const bdr = best(bdrDeclared.length > 0 ? bdrDeclared : notDr);
      const drDeclared = cands.filter((c) => c.dr === c.address);
      const dr = best(drDeclared) ?? bdr;
      this.dr = dr?.address ?? 0;
      this.bdr = bdr && bdr !== dr ? bdr.address : 0;
    };
    const wasDr = before.dr === me, wasBdr = before.bdr === me;
    round();
    // Step 5: if this router became or ceased to be DR or BDR, elect again with its new declaration.
    if ((this.dr === me) !== wasDr || (this.bdr === me) !== wasBdr) round();
    this.state = this.dr === me ? IfState.DR : this.bdr === me ? IfState.BACKUP : IfState.DR_OTHER;
    return this.dr !== before.dr || this.bdr !== before.bdr;
  }
}
