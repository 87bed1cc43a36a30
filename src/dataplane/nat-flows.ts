// The flow table of virtual-service NAT: which backend each flow
// (protocol, client, client port, virtual address, service port) was sent
// to, findable from both directions, on typed arrays (nothing allocated per
// packet).
//
// Layout. Entries live in parallel typed arrays of fixed capacity. Two hash
// indexes point into them: the inbound key (proto, client, clientPort, vip,
// port) and the return key (proto, backend, port, client, clientPort). Both
// are open addressing with linear probing at load ≤ 1/2 (the index has at
// least twice as many slots as there are entries) and backward-shift
// deletion, so there are no tombstones and a lookup costs ~1.5 probes. Not
// set-associative like FlowTable: there a colliding flow may overwrite
// another (it only loses a drain hint); here that would mistranslate a live
// connection, and a full bucket would refuse flows while the table has room.
// The hash is seeded per table, so clients cannot aim collisions at it.
//
// Addresses are held as int32 (the uint32 bit pattern | 0): V8 boxes a
// uint32 ≥ 2^31 passed between functions (a heap allocation per packet for
// 192.168.x.x); an int32 travels unboxed. Callers may pass either form.
//
// Expiry. Each service has three LRU lists — unanswered flows (no packet back
// from the backend yet), answered ones, closing ones — linked through
// prev/next arrays; touching a flow moves it to its list's tail. All flows of
// one list share one timeout (an unanswered flow's is short, as conntrack's
// "unreplied"), so a list's head is its oldest flow and it is expired iff
// anything in the list is. Flows are reclaimed lazily: an expired flow met by
// a lookup, or — when no entry is free — the least recently used expired
// flow, found among the list heads in O(lists).
//
// A full table. When nothing has expired, the oldest *unanswered* flow is
// evicted (counted): a flood of one-packet flows — from one client or from
// many forged ones — only ever displaces itself, and a new connection gets
// in; flows that were answered are never evicted. With no unanswered flow
// left, a new flow is refused (counted). And no client may hold more than
// `maxPerClient` flows at once (refused and counted beyond that).
import { TcpFlag } from '../wire/tcp.js';
import { ClientCounts } from './client-counts.js';

/** A clock coarse enough to be set once per receive batch (BatchClock). */
export interface CoarseClock {
  readonly now: number;
}

/** A flow that saw FIN or RST is forgotten after this much silence, ms (at most its idle timeout). */
export const CLOSING_LINGER_MS = 1000;
/** A flow the backend never answered is forgotten after this much silence, ms (at most its idle timeout). */
export const UNANSWERED_IDLE_MS = 5000;

const USED = 1;
const CLOSING = 2;
const ANSWERED = 4;
/** The lists of a service: service × LISTS + kind. */
const LISTS = 3;
const UNANSWERED_LIST = 0;
const ANSWERED_LIST = 1;
const CLOSING_LIST = 2;

export class NatFlowTable {
  readonly capacity: number;
  // Entries (struct of arrays).
  readonly proto: Uint8Array;
  private readonly flags: Uint8Array;
  /** Addresses, as int32. */
  readonly client: Int32Array;
  readonly vip: Int32Array;
  readonly backend: Int32Array;
  /** clientPort << 16 | port (int32): one compare for both ports, same word in both keys. */
  private readonly ports: Int32Array;
  readonly backendIndex: Int32Array;
  readonly service: Uint16Array;
  /** Last packet in either direction, clock ms. */
  readonly last: Float64Array;
  readonly packets: Float64Array;
  private readonly hashIn: Int32Array;
  private readonly hashOut: Int32Array;
  // Hash indexes: slot = entry + 1, 0 = empty.
  private readonly indexIn: Int32Array;
  private readonly indexOut: Int32Array;
  private readonly indexMask: number;
  private readonly seed: number;
  // LRU lists: list = service * 2 + (closing ? 1 : 0).
  private readonly list: Uint16Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly head: Int32Array;
  private readonly tail: Int32Array;
  private readonly listTimeout: Float64Array;
  // Free entries, a stack.
  private readonly free: Int32Array;
  private freeCount: number;

  /** Entries held: live flows plus expired ones not reclaimed yet. */
  held = 0;
  created = 0;
  /** Flows reclaimed after their idle timeout. */
  expired = 0;
  /** New flows refused: no entry free and none expired. */
  refusedFull = 0;
  /** New flows refused: a live flow already owns the same return tuple. */
  refusedConflict = 0;
  /** New flows refused: their client already holds maxPerClient flows. */
  refusedClientLimit = 0;
  /** Unanswered flows evicted to make room for new ones (the table was full). */
  evictedUnanswered = 0;
  /** Most flows one client address may hold at once. */
  readonly maxPerClient: number;
  private readonly perClient: ClientCounts;

  constructor(capacity: number, idleMsByService: readonly number[], readonly clock: CoarseClock, opts: { maxPerClient?: number; seed?: number } = {}) {
    const seed = opts.seed ?? (Math.random() * 0x100000000) >>> 0;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 24) throw new RangeError(`capacity ${capacity}: must be 1..2^24`);
    if (idleMsByService.length === 0 || idleMsByService.length > 0x7fff) throw new RangeError('1..32767 services');
    this.capacity = capacity;
    const n = capacity;
    this.proto = new Uint8Array(n);
    this.flags = new Uint8Array(n);
    this.client = new Int32Array(n);
    this.vip = new Int32Array(n);
    this.backend = new Int32Array(n);
    this.ports = new Int32Array(n);
    this.backendIndex = new Int32Array(n);
    this.service = new Uint16Array(n);
    this.last = new Float64Array(n);
    this.packets = new Float64Array(n);
    this.hashIn = new Int32Array(n);
    this.hashOut = new Int32Array(n);
    let slots = 2;
    while (slots < 2 * n) slots *= 2;
    this.indexIn = new Int32Array(slots);
    this.indexOut = new Int32Array(slots);
    this.indexMask = slots - 1;
    this.seed = seed | 0;
    const lists = idleMsByService.length * LISTS;
    this.list = new Uint16Array(n);
    this.prev = new Int32Array(n);
    this.next = new Int32Array(n);
    this.head = new Int32Array(lists).fill(-1);
    this.tail = new Int32Array(lists).fill(-1);
    this.listTimeout = new Float64Array(lists);
    idleMsByService.forEach((ms, s) => {
      this.listTimeout[LISTS * s + UNANSWERED_LIST] = Math.min(UNANSWERED_IDLE_MS, ms);
      this.listTimeout[LISTS * s + ANSWERED_LIST] = ms;
      this.listTimeout[LISTS * s + CLOSING_LIST] = Math.min(CLOSING_LINGER_MS, ms);
    });
    this.maxPerClient = opts.maxPerClient ?? Math.max(64, capacity >>> 4);
    this.perClient = new ClientCounts(capacity, this.seed);
    this.free = new Int32Array(n);
    for (let i = 0; i < n; i++) this.free[i] = n - 1 - i;
    this.freeCount = n;
  }

  /** The flow with this inbound key (live or expired), or −1. */
  findInbound(proto: number, client: number, clientPort: number, vip: number, port: number): number {
    client |= 0;
    vip |= 0;
    const ports = (clientPort << 16) | port;
    const index = this.indexIn;
    const mask = this.indexMask;
    let i = hashKey(this.seed, proto, client, vip, ports) & mask;
    for (;;) {
      const slot = index[i]!;
      if (slot === 0) return -1;
      const e = slot - 1;
      if (this.client[e] === client && this.vip[e] === vip && this.ports[e] === ports && this.proto[e] === proto) return e;
      i = (i + 1) & mask;
    }
  }

  /** The flow with this return key (live or expired), or −1. */
  findReturn(proto: number, backend: number, port: number, client: number, clientPort: number): number {
    backend |= 0;
    client |= 0;
    const ports = (clientPort << 16) | port;
    const index = this.indexOut;
    const mask = this.indexMask;
    let i = hashKey(this.seed, proto, backend, client, ports) & mask;
    for (;;) {
      const slot = index[i]!;
      if (slot === 0) return -1;
      const e = slot - 1;
      if (this.backend[e] === backend && this.client[e] === client && this.ports[e] === ports && this.proto[e] === proto) return e;
      i = (i + 1) & mask;
    }
  }

  isExpired(e: number): boolean {
    return this.clock.now - this.last[e]! >= this.listTimeout[this.list[e]!]!;
  }

  isClosing(e: number): boolean {
    return (this.flags[e]! & CLOSING) !== 0;
  }

  clientPort(e: number): number {
    return this.ports[e]! >>> 16;
  }

  port(e: number): number {
    return this.ports[e]! & 0xffff;
  }

  /**
   * A new flow; the caller has made sure no flow holds its inbound key.
   * Returns the entry, or −1 when refused (its client holds too many flows;
   * the table is full of answered flows; or a live flow of another virtual
   * address already maps to the same return tuple — the backend could not
   * tell the two apart).
   */
  create(service: number, backendIndex: number, backend: number, proto: number, client: number, clientPort: number, vip: number, port: number): number {
    backend |= 0;
    client |= 0;
    vip |= 0;
    const ports = (clientPort << 16) | port;
    const clash = this.findReturn(proto, backend, port, client, clientPort);
    if (clash >= 0) {
      if (!this.isExpired(clash)) {
        this.refusedConflict++;
        return -1;
      }
      this.expire(clash);
    }
    if (this.perClient.get(client) >= this.maxPerClient) {
      this.refusedClientLimit++;
      return -1;
    }
    if (this.freeCount === 0 && !this.evictOldestExpired() && !this.evictOldestUnanswered()) {
      this.refusedFull++;
      return -1;
    }
    const e = this.free[--this.freeCount]!;
    this.proto[e] = proto;
    this.flags[e] = USED;
    this.client[e] = client;
    this.vip[e] = vip;
    this.backend[e] = backend;
    this.ports[e] = ports;
    this.backendIndex[e] = backendIndex;
    this.service[e] = service;
    this.last[e] = this.clock.now;
    this.packets[e] = 0;
    const hIn = hashKey(this.seed, proto, client, vip, ports);
    const hOut = hashKey(this.seed, proto, backend, client, ports);
    this.hashIn[e] = hIn;
    this.hashOut[e] = hOut;
    this.insert(this.indexIn, hIn, e);
    this.insert(this.indexOut, hOut, e);
    this.append(service * LISTS + UNANSWERED_LIST, e);
    this.perClient.increment(client);
    this.held++;
    this.created++;
    return e;
  }

  /** A packet of flow `e` passed; `reply`: from the backend; `tcpFlags` 0 for UDP. */
  touch(e: number, tcpFlags: number, reply = false): void {
    this.last[e] = this.clock.now;
    this.packets[e]! += 1;
    let flags = this.flags[e]!;
    if (reply) flags |= ANSWERED;
    if ((tcpFlags & (TcpFlag.FIN | TcpFlag.RST)) !== 0) flags |= CLOSING;
    this.flags[e] = flags;
    const base = this.list[e]! - (this.list[e]! % LISTS);
    const l = base + ((flags & CLOSING) !== 0 ? CLOSING_LIST : (flags & ANSWERED) !== 0 ? ANSWERED_LIST : UNANSWERED_LIST);
    if (this.tail[l] !== e) {
      this.detach(e);
      this.append(l, e);
    }
  }

  /** Forget flow `e` (counted as expired). */
  expire(e: number): void {
    this.remove(e);
    this.expired++;
  }

  /** Forget flow `e`. */
  remove(e: number): void {
    this.unindex(this.indexIn, this.hashIn, e);
    this.unindex(this.indexOut, this.hashOut, e);
    this.detach(e);
    this.flags[e] = 0;
    this.perClient.decrement(this.client[e]!);
    this.free[this.freeCount++] = e;
    this.held--;
  }

  /** Make room by evicting the least recently used flow never answered; false if there is none. */
  private evictOldestUnanswered(): boolean {
    let victim = -1;
    let oldest = Infinity;
    for (let l = UNANSWERED_LIST; l < this.head.length; l += LISTS) {
      const h = this.head[l]!;
      if (h >= 0 && this.last[h]! < oldest) {
        oldest = this.last[h]!;
        victim = h;
      }
    }
    if (victim < 0) return false;
    this.remove(victim);
    this.evictedUnanswered++;
    return true;
  }

  /** Reclaim the least recently used expired flow; false if none is expired. */
  private evictOldestExpired(): boolean {
    const now = this.clock.now;
    let victim = -1;
    let oldest = Infinity;
    for (let l = 0; l < this.head.length; l++) {
      const h = this.head[l]!;
      if (h >= 0 && now - this.last[h]! >= this.listTimeout[l]! && this.last[h]! < oldest) {
        oldest = this.last[h]!;
        victim = h;
      }
    }
    if (victim < 0) return false;
    this.expire(victim);
    return true;
  }

  private insert(index: Int32Array, hash: number, e: number): void {
    const mask = this.indexMask;
    let i = hash & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = e + 1;
  }

  /** Take `e` out of an index, shifting later members of its cluster back into the hole. */
  private unindex(index: Int32Array, hashes: Int32Array, e: number): void {
    const mask = this.indexMask;
    let hole = hashes[e]! & mask;
    while (index[hole] !== e + 1) hole = (hole + 1) & mask;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const slot = index[j]!;
      if (slot === 0) break;
      const home = hashes[slot - 1]! & mask;
      // It may fill the hole if the hole lies between its home and j.
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = slot;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  private append(l: number, e: number): void {
    const t = this.tail[l]!;
    this.list[e] = l;
    this.prev[e] = t;
    this.next[e] = -1;
    if (t >= 0) this.next[t] = e;
    else this.head[l] = e;
    this.tail[l] = e;
  }

  private detach(e: number): void {
    const l = this.list[e]!;
    const p = this.prev[e]!;
    const n = this.next[e]!;
    if (p >= 0) this.next[p] = n;
    else this.head[l] = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail[l] = p;
  }

  // For the API and tests (scans; not per packet).

  isLive(e: number): boolean {
    return (this.flags[e]! & USED) !== 0 && !this.isExpired(e);
  }

  /** Live flows now. */
  liveCount(): number {
    let n = 0;
    for (let e = 0; e < this.capacity; e++) if (this.isLive(e)) n++;
    return n;
  }

  /** Up to `limit` live flows, most recently used first. */
  recent(limit: number): number[] {
    const out: number[] = [];
    for (let l = 0; l < this.head.length; l++) {
      // Each list is ordered by last use: walk back from the tail until the first expired flow.
      let taken = 0;
      for (let e = this.tail[l]!; e >= 0 && taken < limit && !this.isExpired(e); e = this.prev[e]!, taken++) out.push(e);
    }
    out.sort((a, b) => this.last[b]! - this.last[a]!);
    return out.length > limit ? out.slice(0, limit) : out;
  }
}

/** Seeded 32-bit mix of a flow key (murmur3-style rounds). */
function hashKey(seed: number, proto: number, a: number, b: number, ports: number): number {
  let h = Math.imul(seed ^ proto ^ a, 0xcc9e2d51);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x1b873593);
  h = Math.imul(h ^ (h >>> 13) ^ ports, 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
