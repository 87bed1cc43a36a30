// The neighbour table of one Ethernet port: IPv4 address → MAC, with the
// states Linux uses (a subset) and their timers, on typed arrays of a fixed
// capacity — nothing is allocated per packet or per ARP.
//
// States (Linux NUD_* names):
//   INCOMPLETE  an ARP request is out; packets wait in the entry's queue.
//               Broadcast requests every retransMs, up to multicastProbes,
//               then FAILED (the waiting packets are given up).
//   REACHABLE   confirmed within reachableMs (a reply, or a request sent
//               unicast to our MAC); used as is.
//   STALE       the MAC is known but not recently confirmed (reachable time
//               passed, or learned from a broadcast request); still used.
//               The first packet sent through a STALE entry starts PROBE.
//               Unused for staleMs: removed.
//   PROBE       still used; unicast requests to the cached MAC every
//               retransMs, up to unicastProbes; a reply → REACHABLE, none →
//               FAILED. (Linux waits in DELAY first for a TCP-style upper
//               layer confirmation; a router has none, so it probes at once.)
//   FAILED      resolution failed. A packet for it starts INCOMPLETE again;
//               otherwise removed after failedMs.
// PERMANENT entries are configured (a MAC the router is told, not asks for):
// never aged, never evicted, never changed by ARP, kept when the link goes
// down. Not here: NOARP, DELAY, randomised reachable time.
//
// Which ARP packets touch the table (RFC 826's merge, bounded):
//   - any valid ARP whose sender address has an entry updates that entry
//     (a changed MAC is taken only after lockMs since the last change, as
//     Linux's locktime, so two answerers cannot make it flap);
//   - a new entry is created only by a request FOR US (the table's caller
//     decides, see learn(create)): a flood of requests for other addresses
//     creates nothing; unsolicited replies create nothing;
//   - creation when full evicts a FAILED or STALE entry, preferring one that
//     never carried a packet, then the least recently used — found by a
//     clock hand that looks at most EVICT_SCAN entries, so a flood costs
//     O(1) per packet. INCOMPLETE, REACHABLE and PROBE entries are never
//     evicted; if nothing can be, nothing is created (counted).
import { formatAddress } from '../../net/addr.js';
import { formatMac } from '../../wire/ethernet.js';

export const NeighbourState = {
  FREE: 0,
  INCOMPLETE: 1,
  REACHABLE: 2,
  STALE: 3,
  PROBE: 4,
  FAILED: 5,
  PERMANENT: 6,
} as const;

export const NEIGHBOUR_STATE_NAMES: readonly string[] = ['free', 'incomplete', 'reachable', 'stale', 'probe', 'failed', 'permanent'];

/** What resolve() says about a packet for an address. */
export const Resolve = {
  /** The MAC is usable: table.macs at entry * 6. */
  SEND: 0,
  /** Resolution is under way: hold the packet on `entry`. */
  HOLD: 1,
  /** No entry could be made (table full of entries that must not be evicted). */
  FULL: 2,
} as const;

export interface NeighbourSettings {
  /** Entries (default 512). */
  capacity: number;
  /** A confirmation keeps an entry REACHABLE this long (Linux base_reachable_time, 30 s). */
  reachableMs: number;
  /** Between ARP requests for one address (Linux retrans_time, 1 s). */
  retransMs: number;
  /** Broadcast requests before INCOMPLETE → FAILED (Linux mcast_solicit, 3). */
  multicastProbes: number;
  /** Unicast requests before PROBE → FAILED (Linux ucast_solicit, 3). */
  unicastProbes: number;
  /** An unused STALE entry is removed after this (Linux gc_stale_time, 60 s). */
  staleMs: number;
  /** A FAILED entry is removed after this. */
  failedMs: number;
  /** A changed MAC is ignored within this time of the last change (Linux locktime, 1 s). */
  lockMs: number;
  /** Packets held per INCOMPLETE entry; beyond it the oldest is dropped. */
  holdPerNeighbour: number;
}

export const DEFAULT_NEIGHBOUR_SETTINGS: NeighbourSettings = {
  capacity: 512,
  reachableMs: 30_000,
  retransMs: 1000,
  multicastProbes: 3,
  unicastProbes: 3,
  staleMs: 60_000,
  failedMs: 20_000,
  lockMs: 1000,
  holdPerNeighbour: 3,
};

/** What the table asks of its port (all arguments are numbers: nothing allocates). */
export interface NeighbourEvents {
  /** Send an ARP request for entry's address: broadcast, or unicast to its cached MAC. */
  solicit(entry: number, unicast: boolean): void;
  /** An INCOMPLETE entry got its MAC: send its held packets (takeHeld). */
  resolved(entry: number): void;
  /** Resolution failed: give up its held packets (takeHeld). */
  unresolved(entry: number): void;
}

export interface NeighbourRow {
  address: string;
  /** null while INCOMPLETE or FAILED */
  mac: string | null;
  state: string;
  /** ms since the MAC or state last changed */
  updatedMsAgo: number;
  /** ms since a reply/unicast request last confirmed it (null: never) */
  confirmedMsAgo: number | null;
  probes: number;
  held: number;
}

/** Entries the eviction clock hand looks at per creation, at most. */
const EVICT_SCAN = 32;
const NO_TIME = -1;

export class NeighbourTable {
  readonly settings: NeighbourSettings;
  readonly capacity: number;
  /** MAC of entry i at i * 6. */
  readonly macs: Uint8Array;
  readonly state: Uint8Array;
  /** Addresses as int32 (keys; >>> 0 for display). */
  readonly addrs: Int32Array;
  /** Set by resolve() on every packet sent (one byte write); folded into usedAt by tick(). */
  private readonly used: Uint8Array;
  private readonly usedAt: Float64Array;
  private readonly updatedAt: Float64Array;
  private readonly confirmedAt: Float64Array;
  private readonly deadline: Float64Array;
  private readonly probes: Uint8Array;
  private readonly heldHead: Int32Array;
  private readonly heldTail: Int32Array;
  private readonly heldCount: Uint16Array;
  /** Open-addressing index (linear probing): entry index or -1. */
  private readonly index: Int32Array;
  private readonly indexMask: number;
  private readonly freeList: Int32Array;
  private freeCount: number;
  private hand = 0;
  private live = 0;
  /** The entry of the last resolve() / learn(). */
  entry = -1;
  /** Counters: entries created, evicted to make room, creations refused (full), MAC changes ignored (lock time). */
  readonly stats = { created: 0, evicted: 0, full: 0, locked: 0 };

  /**
   * `holdLinks`: the hold pool's `next` array, through which held packets of
   * one entry are chained (the table keeps each queue's head, tail and count).
   */
  constructor(settings: Partial<NeighbourSettings>, private readonly events: NeighbourEvents,
    private readonly holdLinks: Int32Array, private readonly clock: () => number) {
    this.settings = { ...DEFAULT_NEIGHBOUR_SETTINGS, ...settings };
    const n = this.settings.capacity;
    if (!Number.isInteger(n) || n < 1 || n > 1 << 20) throw new RangeError(`neighbour table capacity ${n}: expected 1..${1 << 20}`);
    this.capacity = n;
    this.macs = new Uint8Array(n * 6);
    this.state = new Uint8Array(n);
    this.addrs = new Int32Array(n);
    this.used = new Uint8Array(n);
    this.usedAt = new Float64Array(n);
    this.updatedAt = new Float64Array(n);
    this.confirmedAt = new Float64Array(n);
    this.deadline = new Float64Array(n);
    this.probes = new Uint8Array(n);
    this.heldHead = new Int32Array(n).fill(-1);
    this.heldTail = new Int32Array(n).fill(-1);
    this.heldCount = new Uint16Array(n);
    let size = 2;
    while (size < n * 2) size <<= 1;
    this.index = new Int32Array(size).fill(-1);
    this.indexMask = size - 1;
    this.freeList = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeList[i] = n - 1 - i;
    this.freeCount = n;
  }

  /** Entries in use. */
  get size(): number {
    return this.live;
  }

  private home(addr: number): number {
    return (Math.imul(addr, 0x9e3779b1) >>> 7) & this.indexMask;
  }

  /** Entry index of an address (uint32 or int32), or -1. */
  find(addr: number): number {
    const a = addr | 0;
    for (let p = this.home(a); ; p = (p + 1) & this.indexMask) {
      const i = this.index[p]!;
      if (i < 0) return -1;
      if (this.addrs[i] === a) return i;
    }
  }

  /** Whether a packet to `addr` would be held: no entry yet, or one being resolved or failed (resolve() would say HOLD). No side effects. */
  wouldHold(addr: number): boolean {
    const i = this.find(addr);
    if (i < 0) return true;
    const st = this.state[i]!;
    return st === NeighbourState.INCOMPLETE || st === NeighbourState.FAILED;
  }

  /**
   * Where a packet to `addr` stands (Resolve.*); `entry` is set for SEND and
   * HOLD. A REACHABLE/PROBE entry costs a lookup and a byte write; a STALE
   * one starts PROBE; a missing or FAILED one starts INCOMPLETE (solicit).
   */
  resolve(addr: number): number {
    let i = this.find(addr);
    if (i >= 0) {
      const st = this.state[i]!;
      this.entry = i;
      if (st === NeighbourState.REACHABLE || st === NeighbourState.PROBE || st === NeighbourState.PERMANENT) {
        this.used[i] = 1;
        return Resolve.SEND;
      }
      if (st === NeighbourState.STALE) {
        this.used[i] = 1;
        this.state[i] = NeighbourState.PROBE;
        this.probes[i] = 1;
        this.deadline[i] = this.clock() + this.settings.retransMs;
        this.events.solicit(i, true);
        return Resolve.SEND;
      }
      if (st === NeighbourState.INCOMPLETE) return Resolve.HOLD;
      // FAILED: try again, as Linux does for a new packet.
      this.startIncomplete(i, this.clock());
      return Resolve.HOLD;
    }
    const now = this.clock();
    i = this.allocate(addr | 0, now);
    if (i < 0) return Resolve.FULL;
    this.entry = i;
    this.startIncomplete(i, now);
    return Resolve.HOLD;
  }

  private startIncomplete(i: number, now: number): void {
    this.state[i] = NeighbourState.INCOMPLETE;
    this.probes[i] = 1;
    this.updatedAt[i] = now;
    this.deadline[i] = now + this.settings.retransMs;
    this.events.solicit(i, false);
  }

  /**
   * An ARP packet from `addr` said its MAC is mac[macOff..+6].
   * `confirm`: it proves two-way reachability (a reply, or sent unicast to
   * us) → REACHABLE; else STALE. `create`: make an entry if there is none
   * (only for a request for us). Returns the entry, or -1 (not created, or
   * the change was ignored within the lock time).
   */
  learn(addr: number, mac: Uint8Array, macOff: number, confirm: boolean, create: boolean): number {
    const now = this.clock();
    let i = this.find(addr);
    if (i < 0) {
      if (!create) return -1;
      i = this.allocate(addr | 0, now);
      if (i < 0) return -1;
      this.setMac(i, mac, macOff);
      this.validate(i, confirm, now);
      this.entry = i;
      return i;
    }
    this.entry = i;
    const st = this.state[i]!;
    // A configured MAC is not for ARP to change.
    if (st === NeighbourState.PERMANENT) return i;
    if (st === NeighbourState.INCOMPLETE || st === NeighbourState.FAILED) {
      this.setMac(i, mac, macOff);
      this.validate(i, confirm, now);
      if (st === NeighbourState.INCOMPLETE) this.events.resolved(i);
      return i;
    }
    if (!this.sameMac(i, mac, macOff)) {
      if (now - this.updatedAt[i]! < this.settings.lockMs) {
        this.stats.locked++;
        return -1;
      }
      this.setMac(i, mac, macOff);
      this.validate(i, confirm, now);
      return i;
    }
    // Same MAC: a confirmation refreshes it; anything else leaves the state as it is.
    if (confirm) this.validate(i, true, now);
    return i;
  }

  private validate(i: number, confirm: boolean, now: number): void {
    this.updatedAt[i] = now;
    this.probes[i] = 0;
    if (confirm) {
      this.state[i] = NeighbourState.REACHABLE;
      this.confirmedAt[i] = now;
      this.deadline[i] = now + this.settings.reachableMs;
    } else {
      this.state[i] = NeighbourState.STALE;
      this.deadline[i] = now + this.settings.staleMs;
    }
  }

  private sameMac(i: number, mac: Uint8Array, o: number): boolean {
    const m = this.macs, p = i * 6;
    return m[p] === mac[o] && m[p + 1] === mac[o + 1] && m[p + 2] === mac[o + 2] &&
      m[p + 3] === mac[o + 3] && m[p + 4] === mac[o + 4] && m[p + 5] === mac[o + 5];
  }

  private setMac(i: number, mac: Uint8Array, o: number): void {
    const m = this.macs, p = i * 6;
    for (let k = 0; k < 6; k++) m[p + k] = mac[o + k]!;
  }

  /**
   * Queue held-packet buffer b on entry i. Returns the buffer dropped to
   * make room (the oldest, as Linux drops), or -1.
   */
  hold(i: number, b: number): number {
    const links = this.holdLinks;
    links[b] = -1;
    if (this.heldTail[i]! < 0) this.heldHead[i] = b;
    else links[this.heldTail[i]!] = b;
    this.heldTail[i] = b;
    if (++this.heldCount[i]! <= this.settings.holdPerNeighbour) return -1;
    const old = this.heldHead[i]!;
    this.heldHead[i] = links[old]!;
    this.heldCount[i]!--;
    return old;
  }

  /** Take entry i's held packets: the first buffer (chained through holdLinks), or -1. */
  takeHeld(i: number): number {
    const head = this.heldHead[i]!;
    this.heldHead[i] = -1;
    this.heldTail[i] = -1;
    this.heldCount[i] = 0;
    return head;
  }

  heldOn(i: number): number {
    return this.heldCount[i]!;
  }

  /** Run the timers (call every ~100 ms; retransMs is the finest one). */
  tick(now: number): void {
    const s = this.settings;
    for (let i = 0; i < this.capacity; i++) {
      const st = this.state[i]!;
      if (st === NeighbourState.FREE) continue;
      if (this.used[i]) {
        this.used[i] = 0;
        this.usedAt[i] = now;
      }
      if (this.deadline[i]! > now) continue;
      switch (st) {
        case NeighbourState.INCOMPLETE:
          if (this.probes[i]! < s.multicastProbes) {
            this.probes[i]!++;
            this.deadline[i] = now + s.retransMs;
            this.events.solicit(i, false);
          } else {
            this.state[i] = NeighbourState.FAILED;
            this.updatedAt[i] = now;
            this.deadline[i] = now + s.failedMs;
            this.events.unresolved(i);
          }
          break;
        case NeighbourState.REACHABLE:
          this.state[i] = NeighbourState.STALE;
          this.updatedAt[i] = now;
          this.deadline[i] = now + s.staleMs;
          break;
        case NeighbourState.STALE: {
          const last = Math.max(this.usedAt[i]!, this.updatedAt[i]!);
          if (now - last >= s.staleMs) this.remove(i);
          else this.deadline[i] = last + s.staleMs;
          break;
        }
        case NeighbourState.PROBE:
          if (this.probes[i]! < s.unicastProbes) {
            this.probes[i]!++;
            this.deadline[i] = now + s.retransMs;
            this.events.solicit(i, true);
          } else {
            this.state[i] = NeighbourState.FAILED;
            this.updatedAt[i] = now;
            this.deadline[i] = now + s.failedMs;
          }
          break;
        case NeighbourState.FAILED:
          this.remove(i);
          break;
      }
    }
  }

  /** Forget every learned entry (the link went down); configured ones stay. Held packets must have been taken first. */
  clear(): void {
    for (let i = 0; i < this.capacity; i++) {
      const st = this.state[i];
      if (st !== NeighbourState.FREE && st !== NeighbourState.PERMANENT) this.remove(i);
    }
  }

  /**
   * A configured neighbour: `addr` is at `mac` (as `ip neigh add … nud
   * permanent`). Returns the entry, or -1 when the table has no room.
   * Packets waiting for `addr` are released by the caller (resolved event).
   */
  setPermanent(addr: number, mac: Uint8Array): number {
    const now = this.clock();
    let i = this.find(addr);
    const wasIncomplete = i >= 0 && this.state[i] === NeighbourState.INCOMPLETE;
    if (i < 0) i = this.allocate(addr | 0, now);
    if (i < 0) return -1;
    this.setMac(i, mac, 0);
    this.state[i] = NeighbourState.PERMANENT;
    this.updatedAt[i] = now;
    this.probes[i] = 0;
    this.deadline[i] = Infinity;
    this.entry = i;
    if (wasIncomplete) this.events.resolved(i);
    return i;
  }

  /** Forget a configured neighbour; false if `addr` was not one. */
  removePermanent(addr: number): boolean {
    const i = this.find(addr);
    if (i < 0 || this.state[i] !== NeighbourState.PERMANENT) return false;
    this.remove(i);
    return true;
  }

  private allocate(addr: number, now: number): number {
    let i: number;
    if (this.freeCount > 0) i = this.freeList[--this.freeCount]!;
    else {
      i = this.victim();
      if (i < 0) {
        this.stats.full++;
        return -1;
      }
      this.stats.evicted++;
      this.unlink(i);
    }
    this.addrs[i] = addr;
    this.state[i] = NeighbourState.STALE; // the caller sets the real state at once
    this.used[i] = 0;
    this.usedAt[i] = NO_TIME;
    this.updatedAt[i] = now;
    this.confirmedAt[i] = NO_TIME;
    this.probes[i] = 0;
    this.heldHead[i] = -1;
    this.heldTail[i] = -1;
    this.heldCount[i] = 0;
    for (let p = this.home(addr); ; p = (p + 1) & this.indexMask) {
      if (this.index[p]! < 0) {
        this.index[p] = i;
        break;
      }
    }
    this.live++;
    this.stats.created++;
    return i;
  }

  /** An entry that may be replaced: FAILED, or STALE never used, else the least recently used STALE seen. */
  private victim(): number {
    let best = -1;
    let bestTime = Infinity;
    for (let k = 0; k < EVICT_SCAN && k < this.capacity; k++) {
      const i = this.hand;
      this.hand = this.hand + 1 === this.capacity ? 0 : this.hand + 1;
      const st = this.state[i]!;
      if (st === NeighbourState.FAILED) return i;
      if (st !== NeighbourState.STALE) continue;
      if (this.used[i]) continue;
      const t = this.usedAt[i]!;
      if (t === NO_TIME) return i;
      if (t < bestTime) {
        bestTime = t;
        best = i;
      }
    }
    return best;
  }

  private remove(i: number): void {
    this.unlink(i);
    this.freeList[this.freeCount++] = i;
  }

  /** Take entry i out of the index (backward-shift deletion keeps probe chains whole). */
  private unlink(i: number): void {
    const mask = this.indexMask;
    let p = this.home(this.addrs[i]!);
    while (this.index[p] !== i) p = (p + 1) & mask;
    let j = p;
    for (;;) {
      j = (j + 1) & mask;
      const e = this.index[j]!;
      if (e < 0) break;
      const h = this.home(this.addrs[e]!);
      // Move e back into the hole at p unless its home lies cyclically in (p, j].
      const inRange = p <= j ? h > p && h <= j : h > p || h <= j;
      if (!inRange) {
        this.index[p] = e;
        p = j;
      }
    }
    this.index[p] = -1;
    this.state[i] = NeighbourState.FREE;
    this.live--;
  }

  /** Every entry, by address, for `neigh list` and the API (allocates: not for the packet path). */
  rows(now = this.clock()): NeighbourRow[] {
    const live: number[] = [];
    for (let i = 0; i < this.capacity; i++) if (this.state[i] !== NeighbourState.FREE) live.push(i);
    live.sort((x, y) => (this.addrs[x]! >>> 0) - (this.addrs[y]! >>> 0));
    return live.map((i) => {
      const st = this.state[i]!;
      const hasMac = st === NeighbourState.REACHABLE || st === NeighbourState.STALE || st === NeighbourState.PROBE || st === NeighbourState.PERMANENT;
      return {
        address: formatAddress(this.addrs[i]! >>> 0),
        mac: hasMac ? formatMac(this.macs, i * 6) : null,
        state: NEIGHBOUR_STATE_NAMES[st]!,
        updatedMsAgo: Math.round(now - this.updatedAt[i]!),
        confirmedMsAgo: this.confirmedAt[i] === NO_TIME ? null : Math.round(now - this.confirmedAt[i]!),
        probes: this.probes[i]!,
        held: this.heldCount[i]!,
      };
    });
  }
}
