// Which egress port each flow (protocol, src, dst, ports) took last, so a
// port being drained keeps carrying the flows already on it while new flows
// take the next-best route. A set-associative table on typed arrays: one
// hash and at most WAYS compares per packet, nothing allocated. A flow's
// fields sit together in one 32-byte record (its last-seen time and SYN
// sequence number in arrays of their own): a packet of a known flow
// touches two or three cache lines, not one per field.
//
// Size: 2^15 sets of 8 ways (262,144 flows, 11 MB). A flow holds its entry
// while live: until its idle timeout, or 1 s after FIN/RST. At 5,000 new
// TCP connections a second (both directions tracked) about 11,000 entries
// are live, 4 % of the table, and a set holding 8 live flows is a
// one-in-10^8 event.
//
// When a set is full of live flows — the full-table policy:
//   - a new flow is never refused a route: it takes the FIB's choice
//     whether or not it gets an entry;
//   - it takes the entry of the least recently used live flow whose port is
//     not draining (counted in `evictedLive`: that flow would lose its pin
//     if its port were drained later, and would then move mid-connection);
//   - flows pinned to a draining port are never evicted: if every way holds
//     one, the new flow goes untracked (counted in `untracked`) — it is on
//     the new path already, so only a later drain of that path could miss it.
import type { Port } from '../ports/port.js';
import { IpProto, type Ipv4View } from '../wire/ipv4.js';
import { TcpFlag, isBareSyn } from '../wire/tcp.js';
import { BatchClock } from './batch-clock.js';

const WAYS = 8;
// A record: Int32 fields, REC apart. Addresses, ports and next hops as int32
// bits: a uint32 ≥ 2^31 crossing a call is boxed.
const REC = 8;
const SRC = 0;
const DST = 1;
/** Source port << 16 | destination port (0 without ports). */
const PORTS = 2;
const PROTO = 3;
const FLAGS = 4;
const EGRESS = 5;
/** The port the flow's last packet came in by (−1: not told). */
const INGRESS = 6;
/** The next hop the flow was sent to on its port (0: its destination). */
const GATEWAY = 7;
const FLAG_CLOSING = 1;
/** This direction opened the connection (its first packet was a bare SYN): the client's side. */
const FLAG_OPENER = 2;
/** A flow that saw FIN or RST holds its port only this much longer, ms. */
const CLOSING_LINGER_MS = 1000;

/** A connection silent for longer is not counted open (its peer gone: a reset it never answered). */
export const OPEN_ACTIVE_MS = 500;

/** A drain flow table's figures, as stats show them (with forwarding workers: summed over every thread's table). */
export interface FlowFigures {
  /** Packets of existing flows kept on a draining port. */
  pinned: number;
  /** Entries in all. */
  capacity: number;
  /** Live flows (a scan). */
  live: number;
  inserted: number;
  evictedLive: number;
  untracked: number;
}

export class FlowTable {
  /** The hash's top bits pick the set: shifted down by this, masked (0 with one set). */
  private readonly setShift: number;
  private readonly setMask: number;
  /** The flows' records (REC fields each). */
  private readonly rec: Int32Array;
  /**
   * The sequence number of the bare SYN that opened the flow. A SYN sent
   * again (its answer late: TCP retries after 1 s) carries the same one and
   * is the same connection — it must follow its flow to the draining port,
   * or the old server's late SYN-ACK meets the new server's, which resets
   * the connection. A SYN with another one reuses the tuple: a new connection.
   */
  private readonly isn: Int32Array;
  /** Set by track(): the next hop to send the packet to (0: its destination). */
  nextHop = 0;
  /** Last packet, the batch clock's ms (0 = empty slot). */
  private readonly last: Float64Array;
  /** Packets of existing flows kept on a draining port. */
  pinned = 0;
  /** Flows given an entry. */
  inserted = 0;
  /** Entries of live flows (not on a draining port) taken for new flows: the table was full there. */
  evictedLive = 0;
  /** New flows left without an entry: every way held a flow pinned to a draining port. */
  untracked = 0;

  constructor(private readonly portList: readonly Port[], public idleMs: number, private readonly clock = new BatchClock(), bucketBits = 15) {
    // A shift by 32 would be a shift by 0: one set (no bits) takes the mask instead.
    this.setShift = bucketBits === 0 ? 0 : 32 - bucketBits;
    this.setMask = (1 << bucketBits) - 1;
    const n = (1 << bucketBits) * WAYS;
    this.rec = new Int32Array(n * REC);
    this.isn = new Int32Array(n);
    this.last = new Float64Array(n);
  }

  /** Move the clock on (before a scan outside the packet path). */
  tick(): void {
    this.clock.tick();
  }

  /**
   * Record that the packet `ip` is about to leave by `egress` toward
   * `gateway` and return the port it should really take: the draining port
   * its flow already uses, if any, else `egress`; `nextHop` then holds the
   * gateway that goes with it.
   */
  track(ip: Ipv4View, egress: number, gateway = 0, ingress = -1): number {
    this.nextHop = gateway;
    // The header read once (what ip.hasPorts, payloadOffset and the port getters would each read again).
    const b = ip.buf, o = ip.off;
    const proto = b[o + 9]!;
    const src = ip.srcBits;
    const dst = ip.dstBits;
    let l4 = 0;
    let tcpFlags = 0;
    let seq = 0;
    if (proto === IpProto.TCP || proto === IpProto.UDP) {
      const t = o + ((b[o]! & 0x0f) << 2);
      const payload = ((b[o + 2]! << 8) | b[o + 3]!) - (t - o);
      // Ports only in a first fragment (offset 0) that holds them (ip.hasPorts).
      if ((((b[o + 6]! << 8) | b[o + 7]!) & 0x1fff) === 0 && payload >= 4) {
        l4 = (b[t]! << 24) | (b[t + 1]! << 16) | (b[t + 2]! << 8) | b[t + 3]!;
        if (proto === IpProto.TCP && payload >= 14) {
          tcpFlags = b[t + 13]!;
          if (isBareSyn(tcpFlags)) seq = (b[t + 4]! << 24) | (b[t + 5]! << 16) | (b[t + 6]! << 8) | b[t + 7]!;
        }
      }
    }
    // The hash's top bits pick the set (setMask 0: one set, whatever the shift).
    const h = ((Math.imul(src, 0x9e3779b1) ^ Math.imul(dst, 0x85ebca6b) ^ Math.imul(l4, 0xc2b2ae35) ^ proto) >>> this.setShift) & this.setMask;
    const base = h * WAYS;
    let victim = -1;
    let oldest = Infinity;
    let victimLive = false;
    const rec = this.rec;
    for (let i = base; i < base + WAYS; i++) {
      const seen = this.last[i]!;
      const r = i * REC;
      if (seen !== 0 && rec[r + SRC] === src && rec[r + DST] === dst && rec[r + PORTS] === l4 && rec[r + PROTO] === proto) {
        rec[r + INGRESS] = ingress;
        return this.update(i, egress, gateway, tcpFlags, seq);
      }
      // A free or expired entry first; else the least recently used live one not pinned to a draining port.
      const live = seen !== 0 && this.isLive(i);
      if (live && this.portList[rec[r + EGRESS]!]?.state === 'draining') continue;
      if (victim < 0 || (victimLive && !live) || (victimLive === live && seen < oldest)) {
        oldest = seen;
        victim = i;
        victimLive = live;
      }
    }
    if (victim < 0) {
      this.untracked++;
      return egress;
    }
    if (victimLive) this.evictedLive++;
    this.inserted++;
    const r = victim * REC;
    rec[r + SRC] = src;
    rec[r + DST] = dst;
    rec[r + PORTS] = l4;
    rec[r + PROTO] = proto;
    rec[r + FLAGS] = (tcpFlags & (TcpFlag.FIN | TcpFlag.RST) ? FLAG_CLOSING : 0) | (isBareSyn(tcpFlags) ? FLAG_OPENER : 0);
    this.isn[victim] = seq;
    rec[r + EGRESS] = egress;
    rec[r + INGRESS] = ingress;
    rec[r + GATEWAY] = gateway;
    this.last[victim] = this.clock.now;
    return egress;
  }

  private update(i: number, egress: number, gateway: number, tcpFlags: number, seq: number): number {
    const rec = this.rec, r = i * REC;
    const prev = rec[r + EGRESS]!;
    const live = this.isLive(i);
    // A bare SYN opens a new connection on a reused tuple — unless it is the opening SYN sent again.
    const newConnection = isBareSyn(tcpFlags) && !((rec[r + FLAGS]! & FLAG_OPENER) !== 0 && this.isn[i] === seq);
    let out = egress;
    if (prev !== egress && live && !newConnection && this.portList[prev]?.state === 'draining') {
      out = prev;
      this.nextHop = rec[r + GATEWAY]!;
      this.pinned++;
    } else {
      rec[r + GATEWAY] = gateway;
    }
    if (newConnection) {
      rec[r + FLAGS] = FLAG_OPENER;
      this.isn[i] = seq;
    }
    if (tcpFlags & (TcpFlag.FIN | TcpFlag.RST)) rec[r + FLAGS] = rec[r + FLAGS]! | FLAG_CLOSING;
    rec[r + EGRESS] = out;
    this.last[i] = this.clock.now;
    return out;
  }

  private isLive(i: number): boolean {
    const age = this.clock.now - this.last[i]!;
    return age < ((this.rec[i * REC + FLAGS]! & FLAG_CLOSING) !== 0 ? Math.min(CLOSING_LINGER_MS, this.idleMs) : this.idleMs);
  }

  /** Is any live flow leaving by `port`? (A scan that stops at the first: the drain timer asks this every 50 ms.) */
  hasLiveFlowOn(port: number): boolean {
    this.tick();
    for (let i = 0; i < this.last.length; i++) {
      if (this.last[i] !== 0 && this.rec[i * REC + EGRESS] === port && this.isLive(i)) return true;
    }
    return false;
  }

  /**
   * Open TCP connections opened from `port`'s side (their SYN came in by
   * it; the answers of connections opened from elsewhere do not count): their sender has sent
   * neither FIN nor RST, and sent something in the last `activeMs`. While one
   * is open, a neighbour on that port that moved its traffic elsewhere would
   * cut it in half. (One silent for longer — its peer gone, or idle — is cut
   * by its next packet whenever the move comes: waiting does not save it.)
   */
  openConnectionsFrom(port: number, activeMs = OPEN_ACTIVE_MS): number {
    this.tick();
    const since = this.clock.now - activeMs;
    let n = 0;
    for (let i = 0; i < this.last.length; i++) {
      const r = i * REC;
      if (this.last[i]! > since && this.rec[r + INGRESS] === port && this.rec[r + PROTO] === IpProto.TCP && (this.rec[r + FLAGS]! & (FLAG_CLOSING | FLAG_OPENER)) === FLAG_OPENER) n++;
    }
    return n;
  }

  /** Entries and live flows in all. */
  get capacity(): number {
    return this.last.length;
  }

  /** This table's figures (a scan for the live flows: for stats, not per packet). */
  figures(): FlowFigures {
    return { pinned: this.pinned, capacity: this.capacity, live: this.liveFlows(), inserted: this.inserted, evictedLive: this.evictedLive, untracked: this.untracked };
  }

  /** Live flows (a scan: for stats, not per packet). */
  liveFlows(): number {
    this.tick();
    let n = 0;
    for (let i = 0; i < this.last.length; i++) if (this.last[i] !== 0 && this.isLive(i)) n++;
    return n;
  }

  /** Live flows currently leaving by `port` (a scan: for the drain's last word, not per packet). */
  liveFlowsOn(port: number): number {
    this.tick();
    let n = 0;
    for (let i = 0; i < this.last.length; i++) {
      if (this.last[i] !== 0 && this.rec[i * REC + EGRESS] === port && this.isLive(i)) n++;
    }
    return n;
  }
}
