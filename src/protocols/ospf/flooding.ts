// Flooding (RFC 2328 §13): Link State Updates in — each LSA checked, judged
// newer, the same or older than our copy (§13.1), installed and flooded on
// (§13.3), acknowledged directly or with a delay (§13.5) — acknowledgments
// in, retransmission of what is not yet acknowledged, and aging (§14):
// LSAs that reach MaxAge are flushed, ours are refreshed every 30 minutes.
//
// Hostile input stays bounded: a bad LSA is dropped and counted (the rest
// of the update still counts), an LSA that changes faster than MinLSArrival
// is dropped, and the database takes no more LSAs of others than its limit.
import { formatAddress } from '../../net/addr.js';
import { LSA_HEADER_LEN, LS_REFRESH_TIME, LsaCheck, LsaView, MAX_AGE, MAX_SEQUENCE, compareInstances } from '../../wire/ospf-lsa.js';
import { ALL_D_ROUTERS, ALL_SPF_ROUTERS, LSU_FIXED_LEN, OSPF_HEADER_LEN, OspfType, type OspfView } from '../../wire/ospf.js';
import { writeU32 } from '../../wire/ipv4.js';
import { IfState, type OspfInterface } from './interface.js';
import { LsaEntry, compareWith } from './lsdb.js';
import { NbrState, type OspfNeighbour } from './neighbour.js';
import { LsaDrop, OspfDrop, type OspfProtocol } from './ospf.js';

/** MinLSArrival (B): a newer instance of an LSA sooner than this after the last is dropped. */
export const MIN_LS_ARRIVAL_MS = 1000;
/** Delayed acknowledgments are gathered this long (well under any neighbour's retransmission interval). */
const ACK_DELAY_MS = 200;

export class Flooding {
  private readonly lsa = new LsaView();
  /** Neighbours whose request list shrank while an update was processed. */
  private readonly progressed = new Set<OspfNeighbour>();

  constructor(private readonly o: OspfProtocol) {}

  // ---- receiving updates (§13) ----

  onUpdate(n: OspfNeighbour, p: OspfView): number {
    if (n.state < NbrState.EXCHANGE) return OspfDrop.NEIGHBOUR_STATE;
    const end = p.off + p.length;
    let at = p.firstLsaOffset;
    const count = p.lsaCount;
    for (let i = 0; i < count && at < end; i++) {
      const v = this.lsa.attach(p.buf, at, end - at);
      const check = v.validate();
      if (check === LsaCheck.TRUNCATED) {
        this.o.lsaDrops[check]! += 1;
        break;
      }
      const len = v.length;
      if (check !== LsaCheck.OK) this.o.lsaDrops[check]! += 1;
      else if (!this.takeLsa(n, v)) break;
      at += len;
    }
    for (const x of this.progressed) this.o.adjacency.requestsProgressed(x);
    this.progressed.clear();
    return -1;
  }

  /** One valid LSA from `n`; false when the exchange had to start over (the rest of the update is moot). */
  private takeLsa(n: OspfNeighbour, v: LsaView): boolean {
    const o = this.o;
    const now = o.clock.now();
    n.lsasReceived++;
    const key = keyOf(v);
    const e = o.lsdb.get(key);
    const age = v.age;
    const iface = n.iface;
    // (4) A MaxAge LSA we do not have, while nobody is exchanging: just acknowledge it.
    if (age >= MAX_AGE && !e && !o.anyExchanging()) {
      n.directAcks.push(headerCopy(v));
      return true;
    }
    const cmp = e ? compareWith(e, now, v.sequence, v.checksum, age) : 1;
    if (cmp > 0) {
      const self = o.isSelfOriginated(v.type, v.id, v.advRouter);
      // (5a) Too soon after the last instance: dropped, not acknowledged (a storm costs nothing). What we asked for is not flooding.
      if (e && !e.self && now - e.installedAt < MIN_LS_ARRIVAL_MS && !n.requests.has(key)) {
        o.lsaDrops[LsaDrop.MIN_LS_ARRIVAL]! += 1;
        return true;
      }
      if (!o.lsdb.hasRoom(key, self)) {
        o.lsaDrops[LsaDrop.LSDB_FULL]! += 1;
        this.warnFull();
        return true;
      }
      const entry = new LsaEntry(v.buf.slice(v.off, v.off + v.length), now, self);
      const req = n.requests.get(key);
      if (req && compareInstances(v.sequence, v.checksum, age, req.seq, req.checksum, req.age) >= 0) {
        n.requests.delete(key);
        this.progressed.add(n);
      }
      const floodedBack = this.flood(entry, n);
      this.install(entry, e);
      if (!floodedBack || (iface.state === IfState.BACKUP && n.address === iface.dr)) this.delayAck(iface, v);
      if (self) o.originator.selfReceived(entry);
      return true;
    }
    // (6) An instance we asked for that is not newer than ours: the exchange went wrong.
    if (n.requests.has(key)) {
      o.adjacency.seqNumberMismatch(n, 'bad-ls-request');
      return false;
    }
    if (cmp === 0) {
      // (7) A duplicate: an implied acknowledgment if we were waiting for one, else acknowledged directly.
      const r = n.retransmit.get(key);
      if (r && compareWith(r, now, v.sequence, v.checksum, age) === 0) {
        n.retransmit.delete(key);
        if (iface.state === IfState.BACKUP && n.address === iface.dr) this.delayAck(iface, v);
      } else {
        n.directAcks.push(headerCopy(v));
      }
      return true;
    }
    // (8) Ours is newer: send it back (unless it is a wrapping sequence number being flushed).
    if (e && !(e.age(now) >= MAX_AGE && e.seq === MAX_SEQUENCE)) this.sendUpdate(iface, [e], o.neighbourDestination(n));
    return true;
  }

  private lastFullWarning = -Infinity;

  private warnFull(): void {
    const now = this.o.clock.now();
    if (now - this.lastFullWarning < 60_000) return;
    this.lastFullWarning = now;
    this.o.log.warn({ event: 'ospf.lsdb-full', limit: this.o.lsdb.limit }, `OSPF: the database holds ${this.o.lsdb.limit} LSAs (its limit): LSAs of others are dropped`);
  }

  /** §13.2: put `entry` in the database; routing is recalculated if the contents changed. */
  install(entry: LsaEntry, old: LsaEntry | undefined): void {
    const o = this.o;
    // (c) The old instance is no longer to be retransmitted.
    if (old) {
      for (const iface of o.interfaces) for (const nb of iface.neighbours.values()) if (nb.retransmit.get(old.key) === old) nb.retransmit.delete(old.key);
    }
    o.lsdb.install(entry);
    o.counters.lsasInstalled++;
    const changed = !old || old.maxAged !== entry.maxAged || !old.sameContents(entry.bytes, 0, entry.length);
    if (changed) o.scheduleSpf('lsdb-changed');
    if (o.log.isLevelEnabled('debug')) {
      o.log.debug({ event: 'ospf.lsa', type: entry.type, id: formatAddress(entry.id), adv: formatAddress(entry.adv), seq: entry.seq, maxAge: entry.maxAged, changed },
        `OSPF LSA ${entry.type}/${formatAddress(entry.id)}/${formatAddress(entry.adv)} installed`);
    }
  }

  /**
   * §13.3: put `entry` on the retransmission lists of the neighbours that
   * should get it and queue it out of their interfaces. `from` is the
   * neighbour it came from (none for our own). Returns whether it goes back
   * out of the interface it came in on.
   */
  flood(entry: LsaEntry, from?: OspfNeighbour): boolean {
    let floodedBack = false;
    const now = this.o.clock.now();
    for (const iface of this.o.interfaces) {
      if (!iface.speaks) continue;
      let added = false;
      for (const nb of iface.neighbours.values()) {
        if (nb.state < NbrState.EXCHANGE) continue;
        if (nb.state !== NbrState.FULL) {
          const req = nb.requests.get(entry.key);
          if (req) {
            const c = compareWith(entry, now, req.seq, req.checksum, req.age);
            // c > 0: what they asked for is newer than this.
            if (c > 0) continue;
            nb.requests.delete(entry.key);
            this.progressed.add(nb);
            if (c === 0) continue;
          }
        }
        if (nb === from) continue;
        nb.retransmit.set(entry.key, entry);
        this.armRetransmit(nb);
        added = true;
      }
      if (!added) continue;
      if (from && iface === from.iface) {
        if (!iface.pointToPoint && (from.address === iface.dr || from.address === iface.bdr)) continue;
        if (iface.state === IfState.BACKUP) continue;
        floodedBack = true;
      }
      iface.outbox.push(entry);
    }
    return floodedBack;
  }

  /** Send what was queued for flooding: one update (or more, by MTU) per interface. */
  flushOutboxes(): void {
    for (const iface of this.o.interfaces) {
      if (iface.outbox.length === 0) continue;
      const entries = iface.outbox.splice(0);
      if (!iface.speaks) continue;
      const dst = iface.pointToPoint || iface.state === IfState.DR || iface.state === IfState.BACKUP ? ALL_SPF_ROUTERS : ALL_D_ROUTERS;
      this.sendUpdate(iface, entries, dst);
    }
  }

  /** Link State Updates carrying `entries` (their age now + InfTransDelay), as many per packet as fit. */
  sendUpdate(iface: OspfInterface, entries: readonly LsaEntry[], dst: number): void {
    const now = this.o.clock.now();
    let i = 0;
    while (i < entries.length) {
      const { bytes, off, max } = this.o.beginPacket(iface, OspfType.LSU);
      let len = OSPF_HEADER_LEN + LSU_FIXED_LEN;
      let count = 0;
      for (; i < entries.length; i++) {
        const e = entries[i]!;
        if (len + e.length > max) {
          if (count === 0) i++; // too big for any packet here: skipped
          break;
        }
        bytes.set(e.bytes, off + len);
        e.lastSentAt = now;
        const age = Math.min(MAX_AGE, e.age(now) + 1);
        bytes[off + len] = age >>> 8;
        bytes[off + len + 1] = age;
        len += e.length;
        count++;
      }
      if (count === 0) continue;
      writeU32(bytes, off + OSPF_HEADER_LEN, count);
      this.o.sendPacket(iface, bytes, off, len, dst);
    }
  }

  // ---- acknowledgments (§13.5, §13.7) ----

  private delayAck(iface: OspfInterface, v: LsaView): void {
    iface.delayedAcks.push(headerCopy(v));
    if (iface.ackTimer !== undefined) return;
    iface.ackTimer = this.o.clock.setTimer(ACK_DELAY_MS, () => {
      iface.ackTimer = undefined;
      const acks = iface.delayedAcks.splice(0);
      if (!iface.speaks || acks.length === 0) return;
      const dst = iface.pointToPoint || iface.state === IfState.DR || iface.state === IfState.BACKUP ? ALL_SPF_ROUTERS : ALL_D_ROUTERS;
      this.sendAcks(iface, acks, dst);
    });
  }

  /** Direct acknowledgments gathered while a packet was processed. */
  flushDirectAcks(): void {
    for (const iface of this.o.interfaces) {
      for (const n of iface.neighbours.values()) {
        if (n.directAcks.length === 0) continue;
        const acks = n.directAcks.splice(0);
        if (iface.speaks) this.sendAcks(iface, acks, this.o.neighbourDestination(n));
      }
    }
  }

  private sendAcks(iface: OspfInterface, headers: readonly Uint8Array[], dst: number): void {
    let i = 0;
    while (i < headers.length) {
      const { bytes, off, max } = this.o.beginPacket(iface, OspfType.LSACK);
      let len = OSPF_HEADER_LEN;
      for (; i < headers.length && len + LSA_HEADER_LEN <= max; i++) {
        bytes.set(headers[i]!, off + len);
        len += LSA_HEADER_LEN;
      }
      this.o.sendPacket(iface, bytes, off, len, dst);
    }
  }

  onAck(n: OspfNeighbour, p: OspfView): number {
    if (n.state < NbrState.EXCHANGE) return OspfDrop.NEIGHBOUR_STATE;
    const now = this.o.clock.now();
    for (let i = 0; i < p.ackCount; i++) {
      const h = this.lsa.attach(p.buf, p.ackOffset(i), LSA_HEADER_LEN);
      const key = keyOf(h);
      const r = n.retransmit.get(key);
      if (r && compareWith(r, now, h.sequence, h.checksum, h.age) === 0) n.retransmit.delete(key);
    }
    return -1;
  }

  // ---- retransmission (§13.6) ----

  private armRetransmit(n: OspfNeighbour): void {
    if (n.retransmitTimer !== undefined) return;
    n.retransmitTimer = this.o.clock.setTimer(n.iface.config.retransmitInterval * 1000, () => {
      n.retransmitTimer = undefined;
      if (n.retransmit.size === 0 || n.state < NbrState.EXCHANGE || !n.iface.speaks) return;
      const entries = [...n.retransmit.values()];
      n.lsasRetransmitted += entries.length;
      this.o.counters.lsasRetransmitted += entries.length;
      this.sendUpdate(n.iface, entries, this.o.neighbourDestination(n));
      this.armRetransmit(n);
    });
  }

  // ---- aging (§14) ----

  /** Once a second: LSAs reaching MaxAge are flooded and then removed; ours are refreshed. */
  age(): void {
    const o = this.o;
    const now = o.clock.now();
    const exchanging = o.anyExchanging();
    for (const e of [...o.lsdb.all()]) {
      if (!e.maxAged && e.age(now) >= MAX_AGE) {
        e.maxAged = true;
        this.flood(e);
        o.scheduleSpf('lsa-max-age');
        continue;
      }
      if (e.maxAged) {
        if (!exchanging && !this.onAnyRetransmitList(e)) o.lsdb.remove(e);
        continue;
      }
      if (e.self && e.age(now) >= LS_REFRESH_TIME) o.originator.refresh(e);
    }
  }

  private onAnyRetransmitList(e: LsaEntry): boolean {
    for (const iface of this.o.interfaces) for (const n of iface.neighbours.values()) if (n.retransmit.get(e.key) === e) return true;
    return false;
  }
}

function keyOf(v: LsaView): string {
  return `${v.type}:${v.id}:${v.advRouter}`;
}

function headerCopy(v: LsaView): Uint8Array {
  return v.buf.slice(v.off, v.off + LSA_HEADER_LEN);
}
