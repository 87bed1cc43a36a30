// Adjacencies (RFC 2328 §9.5, §10): Hellos out and in, the neighbour state
// machine, the DR election's triggers, and the database exchange — master
// and slave negotiation, Database Description packets carrying our
// database's headers, Link State Requests for what the neighbour has newer.
import { formatAddress } from '../../net/addr.js';
import { LSA_HEADER_LEN, LsaType, LsaView } from '../../wire/ospf-lsa.js';
import {
  ALL_SPF_ROUTERS, DD_FIXED_LEN, DdFlag, LSR_ENTRY_LEN, OSPF_HEADER_LEN, OspfCheck, OspfOption, OspfType, OspfView, writeDdFixed,
  writeHelloBody, writeRequestEntry,
} from '../../wire/ospf.js';
import { IfState, type OspfInterface } from './interface.js';
import { compareWith, lsaKey } from './lsdb.js';
import { NbrState, OspfNeighbour } from './neighbour.js';
import { OUR_OPTIONS, OspfDrop, type OspfProtocol } from './ospf.js';

export class Adjacency {
  private readonly lsa = new LsaView();
  /** A held neighbour's DD, read when BFD is Up again. */
  private readonly heldView = new OspfView();

  constructor(private readonly o: OspfProtocol) {}

  // ---- Hellos (§9.5, §10.5) ----

  startHellos(iface: OspfInterface): void {
    const tick = () => {
      iface.helloTimer = this.o.clock.setTimer(iface.config.helloInterval * 1000, tick);
      this.sendHello(iface, false);
    };
    if (iface.helloTimer !== undefined) this.o.clock.clearTimer(iface.helloTimer);
    tick();
  }

  /** A Hello to AllSPFRouters; `nobody` lists no neighbour (last words: the peers' adjacencies go 1-Way). */
  sendHello(iface: OspfInterface, nobody: boolean): void {
    const heard = nobody ? [] : [...iface.neighbours.values()].filter((n) => n.state >= NbrState.INIT).map((n) => n.routerId);
    const { bytes, off } = this.o.beginPacket(iface, OspfType.HELLO);
    const body = writeHelloBody(bytes, off, {
      mask: iface.mask, helloInterval: iface.config.helloInterval, options: OUR_OPTIONS, priority: iface.config.priority,
      deadInterval: iface.config.deadInterval, dr: nobody ? 0 : iface.dr, bdr: nobody ? 0 : iface.bdr,
    }, heard);
    iface.helloesSent++;
    this.o.sendPacket(iface, bytes, off, OSPF_HEADER_LEN + body, ALL_SPF_ROUTERS);
  }

  onHello(iface: OspfInterface, src: number, p: OspfView): number {
    const cfg = iface.config;
    if (!iface.pointToPoint && p.helloMask !== iface.mask) return OspfDrop.HELLO_MASK;
    if (p.helloInterval !== cfg.helloInterval) return OspfDrop.HELLO_INTERVAL;
    if (p.deadInterval !== cfg.deadInterval) return OspfDrop.DEAD_INTERVAL;
    if ((p.helloOptions & OspfOption.E) !== (OUR_OPTIONS & OspfOption.E)) return OspfDrop.OPTIONS;
    const rid = p.routerId;
    const key = iface.pointToPoint ? rid : src;
    const now = this.o.clock.now();
    let n = iface.neighbours.get(key);
    if (!n) {
      n = new OspfNeighbour(iface, src, now);
      n.routerId = rid;
      iface.neighbours.set(key, n);
      this.o.requireBfd(n);
    }
    n.address = src;
    if (n.bfdHeld) {
      // Its BFD session went down: no further than Init until BFD says it is
      // back (no flapping adjacency; RFC 9355's rule). Init, not Down: our
      // Hellos list it, so a peer that starts its BFD session only at 2-Way
      // (FRR) does start it — held Down, neither side would ever go on.
      if (this.o.liveness.state(iface.port, src) === 'Up') n.bfdHeld = false;
      else {
        n.lastHeard = now;
        n.priority = p.priority;
        n.dr = p.designatedRouter;
        n.bdr = p.backupDesignatedRouter;
        if (n.state === NbrState.DOWN) this.setState(n, NbrState.INIT, 'hello-received');
        n.heldHeardUs = p.listsNeighbour(this.o.routerId);
        this.restartInactivity(n);
        return OspfDrop.BFD_DOWN;
      }
    }
    n.lastHeard = now;
    const prev = { priority: n.priority, dr: n.dr, bdr: n.bdr, routerId: n.routerId };
    n.routerId = rid;
    n.priority = p.priority;
    n.dr = p.designatedRouter;
    n.bdr = p.backupDesignatedRouter;
    // HelloReceived.
    const fresh = n.state === NbrState.DOWN;
    if (fresh) this.setState(n, NbrState.INIT, 'hello-received');
    this.restartInactivity(n);
    const twoWay = p.listsNeighbour(this.o.routerId);
    // A new neighbour hears at once that we heard it (2-Way now, not a Hello interval later).
    if (fresh && !twoWay) this.sendHello(iface, false);
    if (twoWay) this.twoWayReceived(n);
    else if (n.state >= NbrState.TWO_WAY) this.setState(n, NbrState.INIT, '1-way-received');
    if (iface.pointToPoint) return -1;
    // §10.5: what the Hello says about the DR may call for an election.
    let change = prev.priority !== n.priority || prev.routerId !== n.routerId;
    let backupSeen = false;
    if (n.declaresDr && n.bdr === 0 && iface.state === IfState.WAITING) backupSeen = true;
    else if ((prev.dr === n.address) !== n.declaresDr) change = true;
    if (n.declaresBdr && iface.state === IfState.WAITING) backupSeen = true;
    else if ((prev.bdr === n.address) !== n.declaresBdr) change = true;
    if (backupSeen && iface.state === IfState.WAITING) this.electDr(iface);
    else if (change) this.neighbourChange(iface);
    return -1;
  }

  private restartInactivity(n: OspfNeighbour): void {
    if (n.inactivityTimer !== undefined) this.o.clock.clearTimer(n.inactivityTimer);
    n.inactivityTimer = this.o.clock.setTimer(n.iface.config.deadInterval * 1000, () => {
      n.inactivityTimer = undefined;
      this.deleteNeighbour(n, 'inactivity-timer');
    });
  }

  /**
   * BFD is Up again for a held neighbour: what it said meanwhile counts now.
   * Its Hello listed us, or it sent a DD: 2-WayReceived. The DD (it went on
   * to ExStart as soon as it heard us, and would send it again only a
   * retransmission interval later) is taken now: the exchange starts at once.
   */
  bfdReleased(n: OspfNeighbour): void {
    const dd = n.heldDd;
    n.heldDd = null;
    // A DD in Init is 2-WayReceived too (§10.6), as it would have been without the hold.
    if (n.state === NbrState.INIT && (n.heldHeardUs || dd)) this.twoWayReceived(n);
    n.heldHeardUs = false;
    if (dd && n.state === NbrState.EXSTART && this.heldView.attach(dd, 0, dd.length).validate() === OspfCheck.OK) this.onDatabaseDescription(n, this.heldView);
  }

  /** 2-WayReceived in Init: an adjacency starts, or the neighbour stays 2-Way (§10.4). */
  private twoWayReceived(n: OspfNeighbour): void {
    if (n.state !== NbrState.INIT || n.bfdHeld) return;
    if (n.iface.shouldBeAdjacent(n)) this.setState(n, NbrState.EXSTART, '2-way-received');
    else this.setState(n, NbrState.TWO_WAY, '2-way-received');
  }

  // ---- the neighbour state machine ----

  /**
   * Move `n` to `state`. What each move implies is done here: leaving an
   * adjacency clears its lists, entering ExStart starts the negotiation,
   * reaching or leaving Full changes our LSAs and the routes.
   */
  setState(n: OspfNeighbour, state: number, event: string): void {
    const from = n.state;
    if (from === state && state !== NbrState.EXSTART) return;
    n.state = state;
    n.since = this.o.clock.now();
    if (from !== state) {
      n.adjacencyChanges++;
      this.o.logNeighbour(n, from, event);
    }
    if (state < NbrState.EXCHANGE || state === NbrState.EXSTART) this.clearLists(n);
    if (state < NbrState.EXSTART || state === NbrState.FULL) this.stopTimer(n, 'ddTimer');
    if (state === NbrState.EXSTART) this.startExchange(n);
    if ((from === NbrState.FULL) !== (state === NbrState.FULL)) {
      if (state === NbrState.FULL) this.o.originator.adjacencyUp();
      else this.o.originator.schedule(true);
      if (state === NbrState.FULL) this.o.scheduleSpf('adjacency-full');
      else this.o.scheduleSpf('adjacency-down', true);
    }
    const iface = n.iface;
    if (!iface.pointToPoint && (from >= NbrState.TWO_WAY) !== (state >= NbrState.TWO_WAY)) this.neighbourChange(iface);
  }

  private clearLists(n: OspfNeighbour): void {
    n.summary = [];
    n.summaryAt = n.summaryBatchEnd = 0;
    n.sentAll = false;
    n.requests.clear();
    n.requestOutstanding = false;
    n.retransmit.clear();
    n.lastDd = null;
    n.lastSentDd = null;
    n.directAcks.length = 0;
    this.stopTimer(n, 'requestTimer');
    this.stopTimer(n, 'retransmitTimer');
  }

  private stopTimer(n: OspfNeighbour, which: 'ddTimer' | 'requestTimer' | 'retransmitTimer' | 'inactivityTimer'): void {
    const t = n[which];
    if (t !== undefined) this.o.clock.clearTimer(t);
    n[which] = undefined;
  }

  /** KillNbr (BFD Down, a port block): the adjacency ends at once. */
  killNeighbour(n: OspfNeighbour, cause: string): void {
    if (n.state === NbrState.DOWN) return;
    this.setState(n, NbrState.DOWN, cause);
    this.stopTimer(n, 'ddTimer');
    // Held neighbours are kept (their BFD session too) until they fall silent.
    if (!n.bfdHeld) this.deleteNeighbour(n, cause);
    else this.restartInactivity(n);
  }

  /** The neighbour goes Down and is forgotten; its BFD session is released. */
  deleteNeighbour(n: OspfNeighbour, cause: string): void {
    if (n.state !== NbrState.DOWN) this.setState(n, NbrState.DOWN, cause);
    this.stopTimer(n, 'inactivityTimer');
    this.stopTimer(n, 'ddTimer');
    const iface = n.iface;
    for (const [k, x] of iface.neighbours) if (x === n) iface.neighbours.delete(k);
    this.o.releaseBfd(n);
  }

  /** NeighborChange on a broadcast interface (§9.2): elect again; adjacencies follow the new DR/BDR. */
  neighbourChange(iface: OspfInterface): void {
    if (iface.pointToPoint || iface.state < IfState.DR_OTHER) return;
    this.electDr(iface);
  }

  electDr(iface: OspfInterface): void {
    const prevState = iface.state;
    iface.state = IfState.WAITING; // setInterfaceState logs from here
    const changed = iface.electDr(this.o.routerId);
    const state = iface.state;
    iface.state = prevState;
    this.o.setInterfaceState(iface, state);
    if (!changed && prevState !== IfState.WAITING) return;
    if (changed) {
      this.o.log.info({ event: 'ospf.dr', port: iface.port.name, dr: formatAddress(iface.dr), bdr: formatAddress(iface.bdr) },
        `OSPF ${iface.port.name}: DR ${formatAddress(iface.dr)}, BDR ${formatAddress(iface.bdr)}`);
    }
    // AdjOK? for every neighbour in 2-Way or above.
    for (const n of iface.neighbours.values()) {
      if (n.state === NbrState.TWO_WAY && iface.shouldBeAdjacent(n)) this.setState(n, NbrState.EXSTART, 'adj-ok');
      else if (n.state >= NbrState.EXSTART && !iface.shouldBeAdjacent(n)) this.setState(n, NbrState.TWO_WAY, 'adj-ok');
    }
    this.o.originator.schedule();
    this.o.scheduleSpf('dr-changed');
  }

  // ---- database exchange (§10.6, §10.8) ----

  /** ExStart: claim to be master with a fresh sequence number, send empty DDs with I, M, MS until the neighbour answers. */
  private startExchange(n: OspfNeighbour): void {
    n.ddSequence = ((n.ddSequence || Math.floor(this.o.clock.now() / 1000)) + 1) >>> 0;
    n.master = true;
    this.sendDd(n, DdFlag.I | DdFlag.M | DdFlag.MS, false);
    this.armDdTimer(n);
  }

  private armDdTimer(n: OspfNeighbour): void {
    this.stopTimer(n, 'ddTimer');
    n.ddTimer = this.o.clock.setTimer(n.iface.config.retransmitInterval * 1000, () => {
      n.ddTimer = undefined;
      // The master (and anyone in ExStart) resends until answered.
      if (n.state === NbrState.EXSTART || (n.state === NbrState.EXCHANGE && n.master)) {
        this.resendDd(n);
        this.armDdTimer(n);
      }
    });
  }

  /** Write and send a DD: `withHeaders` fills it with the next batch of our summary. */
  private sendDd(n: OspfNeighbour, flags: number, withHeaders: boolean): void {
    const iface = n.iface;
    const { bytes, off, max } = this.o.beginPacket(iface, OspfType.DD);
    let len = OSPF_HEADER_LEN + DD_FIXED_LEN;
    let i = n.summaryAt;
    if (withHeaders) {
      const now = this.o.clock.now();
      for (; i < n.summary.length && len + LSA_HEADER_LEN <= max; i++) {
        const e = n.summary[i]!;
        bytes.set(e.bytes.subarray(0, LSA_HEADER_LEN), off + len);
        const age = e.age(now);
        bytes[off + len] = age >>> 8;
        bytes[off + len + 1] = age;
        len += LSA_HEADER_LEN;
      }
      n.summaryBatchEnd = i;
      n.sentAll = i >= n.summary.length;
      if (!n.sentAll) flags |= DdFlag.M;
    }
    writeDdFixed(bytes, off, iface.port.mtu, OUR_OPTIONS, flags, n.ddSequence);
    n.lastSentDd = bytes.slice(off, off + len);
    this.o.sendPacket(iface, bytes, off, len, this.o.neighbourDestination(n));
  }

  private resendDd(n: OspfNeighbour): void {
    const last = n.lastSentDd;
    if (!last) return;
    const { bytes, off } = this.o.beginPacket(n.iface, OspfType.DD);
    bytes.set(last, off);
    this.o.sendPacket(n.iface, bytes, off, last.length, this.o.neighbourDestination(n));
  }

  onDatabaseDescription(n: OspfNeighbour, p: OspfView): number {
    if (p.ddMtu > n.iface.port.mtu) return OspfDrop.MTU_MISMATCH;
    const flags = p.ddFlags, options = p.ddOptions, seq = p.ddSequence;
    const dup = n.lastDd !== null && n.lastDd.flags === flags && n.lastDd.options === options && n.lastDd.seq === seq;
    switch (n.state) {
      case NbrState.DOWN:
      case NbrState.ATTEMPT:
        return OspfDrop.NEIGHBOUR_STATE;
      case NbrState.INIT:
        if (n.bfdHeld) {
          n.heldDd = p.buf.slice(p.off, p.off + p.length);
          return OspfDrop.BFD_DOWN;
        }
        this.twoWayReceived(n);
        return (n.state as number) === NbrState.EXSTART ? this.negotiate(n, p) : -1;
      case NbrState.EXSTART:
        return this.negotiate(n, p);
      case NbrState.TWO_WAY:
        return -1;
      case NbrState.EXCHANGE: {
        if (dup) {
          if (!n.master) this.resendDd(n);
          return -1;
        }
        const theyMaster = (flags & DdFlag.MS) !== 0;
        if (theyMaster === n.master || (flags & DdFlag.I) !== 0 || options !== n.options ||
          seq !== (n.master ? n.ddSequence : (n.ddSequence + 1) >>> 0)) {
          this.seqNumberMismatch(n);
          return -1;
        }
        n.lastDd = { flags, options, seq };
        if (!this.takeHeaders(n, p)) return -1;
        this.accept(n, p);
        return -1;
      }
      default: // Loading, Full
        if (dup) {
          if (!n.master) this.resendDd(n);
          return -1;
        }
        this.seqNumberMismatch(n);
        return -1;
    }
  }

  /** ExStart: who is master (§10.6); the packet that settles it is taken as the first of the exchange. */
  private negotiate(n: OspfNeighbour, p: OspfView): number {
    const flags = p.ddFlags, options = p.ddOptions, seq = p.ddSequence;
    const all = DdFlag.I | DdFlag.M | DdFlag.MS;
    if ((flags & all) === all && p.ddHeaderCount === 0 && p.routerId > this.o.routerId) {
      n.master = false;
      n.ddSequence = seq;
    } else if ((flags & (DdFlag.I | DdFlag.MS)) === 0 && seq === n.ddSequence && p.routerId < this.o.routerId) {
      n.master = true;
    } else {
      return -1;
    }
    n.options = options;
    n.lastDd = { flags, options, seq };
    // NegotiationDone: our database as it is now is what we describe.
    n.summary = [...this.o.lsdb.all()].filter((e) => !e.maxAged);
    n.summaryAt = n.summaryBatchEnd = 0;
    n.sentAll = false;
    this.setState(n, NbrState.EXCHANGE, 'negotiation-done');
    if (!this.takeHeaders(n, p)) return -1;
    this.accept(n, p);
    return -1;
  }

  /** The LSA headers of an accepted DD: request what we lack or hold older. False if one is not a type we know. */
  private takeHeaders(n: OspfNeighbour, p: OspfView): boolean {
    const now = this.o.clock.now();
    const count = p.ddHeaderCount;
    for (let i = 0; i < count; i++) {
      const h = this.lsa.attach(p.buf, p.ddHeaderOffset(i), LSA_HEADER_LEN);
      const type = h.type;
      if (type < LsaType.ROUTER || type > LsaType.AS_EXTERNAL) {
        this.seqNumberMismatch(n);
        return false;
      }
      const key = lsaKey(type, h.id, h.advRouter);
      const e = this.o.lsdb.get(key);
      if (!e || compareWith(e, now, h.sequence, h.checksum, h.age) > 0) {
        n.requests.set(key, { type, id: h.id, adv: h.advRouter, seq: h.sequence, checksum: h.checksum, age: h.age });
      }
    }
    if (n.requests.size > 0 && !n.requestOutstanding) this.sendRequest(n);
    return true;
  }

  /** The accepted DD moves the exchange on: the master sends its next, the slave echoes. */
  private accept(n: OspfNeighbour, p: OspfView): void {
    const theirMore = (p.ddFlags & DdFlag.M) !== 0;
    // Their packet acknowledges our last one.
    n.summaryAt = n.summaryBatchEnd;
    if (n.master) {
      if (n.sentAll && !theirMore) {
        this.exchangeDone(n);
        return;
      }
      n.ddSequence = (n.ddSequence + 1) >>> 0;
      this.sendDd(n, DdFlag.MS, true);
      this.armDdTimer(n);
    } else {
      n.ddSequence = p.ddSequence;
      this.sendDd(n, 0, true);
      if (!theirMore && n.sentAll) this.exchangeDone(n);
    }
  }

  private exchangeDone(n: OspfNeighbour): void {
    if (n.requests.size === 0) this.setState(n, NbrState.FULL, 'exchange-done');
    else {
      this.setState(n, NbrState.LOADING, 'exchange-done');
      if (!n.requestOutstanding) this.sendRequest(n);
    }
  }

  /** SeqNumberMismatch or BadLSReq: the exchange starts over. */
  seqNumberMismatch(n: OspfNeighbour, cause = 'seq-number-mismatch'): void {
    if (n.state < NbrState.EXCHANGE) return;
    this.setState(n, NbrState.EXSTART, cause);
  }

  // ---- Link State Requests (§10.7, §10.9) ----

  /** Ask for the LSAs at the head of the request list (as many as fit one packet). */
  sendRequest(n: OspfNeighbour): void {
    if (n.requests.size === 0) return;
    const iface = n.iface;
    const { bytes, off, max } = this.o.beginPacket(iface, OspfType.LSR);
    let len = OSPF_HEADER_LEN;
    for (const r of n.requests.values()) {
      if (len + LSR_ENTRY_LEN > max) break;
      len += writeRequestEntry(bytes, off + len, r.type, r.id, r.adv);
    }
    n.requestOutstanding = true;
    this.o.sendPacket(iface, bytes, off, len, this.o.neighbourDestination(n));
    this.stopTimer(n, 'requestTimer');
    n.requestTimer = this.o.clock.setTimer(iface.config.retransmitInterval * 1000, () => {
      n.requestTimer = undefined;
      if (n.state >= NbrState.EXCHANGE && n.requests.size > 0) this.sendRequest(n);
    });
  }

  /** Requests got answered (some LSAs came): ask for the rest, or the database is loaded. */
  requestsProgressed(n: OspfNeighbour): void {
    n.requestOutstanding = false;
    if (n.requests.size > 0) {
      this.sendRequest(n);
      return;
    }
    this.stopTimer(n, 'requestTimer');
    if (n.state === NbrState.LOADING) this.setState(n, NbrState.FULL, 'loading-done');
  }

  onRequest(n: OspfNeighbour, p: OspfView): number {
    if (n.state < NbrState.EXCHANGE) return OspfDrop.NEIGHBOUR_STATE;
    const entries = [];
    for (let i = 0; i < p.requestCount; i++) {
      const e = this.o.lsdb.find(p.requestType(i), p.requestId(i), p.requestAdvRouter(i));
      if (!e) {
        this.seqNumberMismatch(n, 'bad-ls-request');
        return -1;
      }
      entries.push(e);
    }
    // Answered in updates of their own, not put on the retransmission list (§10.7).
    this.o.flooding.sendUpdate(n.iface, entries, this.o.neighbourDestination(n));
    return -1;
  }
}
