// The link state database of area 0 (RFC 2328 §12, §14): one copy of each
// LSA, keyed by (type, Link State ID, Advertising Router), with the time it
// was installed so that its age can be told at any moment without touching
// it every second. Bounded: past `limit` entries, LSAs of others are refused
// (the caller counts them); our own always fit.
import { LSA_HEADER_LEN, LsaView, MAX_AGE, compareInstances } from '../../wire/ospf-lsa.js';
import { readU32 } from '../../wire/ipv4.js';

export type LsaKey = string;

export const lsaKey = (type: number, id: number, adv: number): LsaKey => `${type}:${id >>> 0}:${adv >>> 0}`;

/** One LSA in the database: its own copy of the bytes, and when it came. */
export class LsaEntry {
  readonly key: LsaKey;
  readonly type: number;
  readonly id: number;
  readonly adv: number;
  readonly seq: number;
  readonly checksum: number;
  readonly length: number;
  /** Set when the LSA is flushed (premature aging, §14.1) or reached MaxAge. */
  maxAged = false;
  /** When this instance last went out in an update (clock ms): a newer one waits out the receivers' MinLSArrival. */
  lastSentAt = -Infinity;

  constructor(
    /** The whole LSA; its age field is the age when installed. */
    readonly bytes: Uint8Array,
    /** Clock ms when installed. */
    readonly installedAt: number,
    /** Originated by this router (or a network LSA for one of our addresses). */
    readonly self: boolean,
  ) {
    this.type = bytes[3]!;
    this.id = readU32(bytes, 4);
    this.adv = readU32(bytes, 8);
    this.seq = (bytes[12]! << 24) | (bytes[13]! << 16) | (bytes[14]! << 8) | bytes[15]!;
    this.checksum = (bytes[16]! << 8) | bytes[17]!;
    this.length = bytes.length;
    this.key = lsaKey(this.type, this.id, this.adv);
    if (((bytes[0]! << 8) | bytes[1]!) >= MAX_AGE) this.maxAged = true;
  }

  get installedAge(): number {
    return (this.bytes[0]! << 8) | this.bytes[1]!;
  }

  /** Age in seconds at `now` (ms), at most MaxAge. */
  age(now: number): number {
    if (this.maxAged) return MAX_AGE;
    return Math.min(MAX_AGE, this.installedAge + Math.floor((now - this.installedAt) / 1000));
  }

  view(v: LsaView): LsaView {
    return v.attach(this.bytes, 0, this.bytes.length);
  }

  /** Whether `other` (an LSA's bytes) carries the same contents: §13.2's test for a changed LSA (age aside). */
  sameContents(other: Uint8Array, otherOff: number, otherLen: number): boolean {
    if (otherLen !== this.length) return false;
    // Options (byte 2) and the body; the header's sequence/checksum are not contents.
    if (other[otherOff + 2] !== this.bytes[2]) return false;
    for (let i = LSA_HEADER_LEN; i < otherLen; i++) if (other[otherOff + i] !== this.bytes[i]) return false;
    return true;
  }
}

/** §13.1 between an entry and an instance given by its header fields (age now). */
export function compareWith(e: LsaEntry, now: number, seq: number, checksum: number, age: number): number {
  return compareInstances(seq, checksum, age, e.seq, e.checksum, e.age(now));
}

export class Lsdb {
  private readonly entries = new Map<LsaKey, LsaEntry>();
  /** Network LSAs by Link State ID (the DR's address): SPF finds them from a transit link. */
  private readonly networks = new Map<number, Set<LsaEntry>>();

  constructor(public limit: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: LsaKey): LsaEntry | undefined {
    return this.entries.get(key);
  }

  find(type: number, id: number, adv: number): LsaEntry | undefined {
    return this.entries.get(lsaKey(type, id, adv));
  }

  /** The network LSA with this Link State ID (any advertising router; the newest if several). */
  network(id: number): LsaEntry | undefined {
    let best: LsaEntry | undefined;
    for (const e of this.networks.get(id >>> 0) ?? []) if (!e.maxAged && (!best || e.seq > best.seq)) best = e;
    return best;
  }

  all(): IterableIterator<LsaEntry> {
    return this.entries.values();
  }

  /** Whether a new LSA (not replacing one) of another router fits. */
  hasRoom(key: LsaKey, self: boolean): boolean {
    return self || this.entries.has(key) || this.entries.size < this.limit;
  }

  /** Put `e` in place of the current copy of its key (if any); returns the copy it replaced. */
  install(e: LsaEntry): LsaEntry | undefined {
    const old = this.entries.get(e.key);
    if (old) this.unindex(old);
    this.entries.set(e.key, e);
    if (e.type === 2) {
      let set = this.networks.get(e.id);
      if (!set) this.networks.set(e.id, (set = new Set()));
      set.add(e);
    }
    return old;
  }

  remove(e: LsaEntry): void {
    if (this.entries.get(e.key) !== e) return;
    this.entries.delete(e.key);
    this.unindex(e);
  }

  private unindex(e: LsaEntry): void {
    if (e.type !== 2) return;
    const set = this.networks.get(e.id);
    set?.delete(e);
    if (set?.size === 0) this.networks.delete(e.id);
  }
}
