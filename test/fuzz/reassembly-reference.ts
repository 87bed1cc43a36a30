// Reassembly of datagrams for the router (RFC 791 §3.2, RFC 1812 §4.2.2.8)
// as the fuzz oracle expects it, in plain code: a datagram is keyed by
// (identification, protocol, source, destination); a few contexts at once,
// the oldest given up for a new datagram when all are taken, a context
// older than the timeout given up when the next fragment looks; 8-byte
// units mark what arrived (a later fragment's bytes overwrite an earlier
// one's); a fragment that would make more than 65,535 bytes, a non-last
// fragment whose data is no multiple of 8, an empty one, a second end that
// differs, or data past the end is refused (and, but for the first three,
// gives the datagram up). The whole datagram carries the first fragment's
// header with its length, MF, offset and checksum made whole.
//
// Time is the reassembler's own clock, which the harness makes a counter
// (one tick per fragment that reaches a context), so which context is the
// oldest is known exactly.
import { put16, refChecksum, u16, u32 } from './reference.js';

export const CONTEXTS = 4;
export const TIMEOUT = 30_000;
const MAX = 65_535;

interface Context {
  key: string;
  started: number;
  header: Uint8Array | null;
  /** Data bytes in all, once the last fragment came. */
  end: number;
  maxEnd: number;
  data: Uint8Array;
  units: Set<number>;
}

export type Added = { result: 'pending' } | { result: 'invalid' } | { result: 'whole'; datagram: Uint8Array };

export class RefReassembly {
  private readonly slots: (Context | null)[] = new Array<Context | null>(CONTEXTS).fill(null);
  /** The reassembler's clock: ticks once per fragment that reaches a context. */
  clock = 0;
  completed = 0;
  refused = 0;

  /** A fragment (a valid header, for one of the router's addresses). */
  add(f: Uint8Array): Added {
    const hl = (f[0]! & 15) * 4;
    const len = u16(f, 2) - hl;
    const start = (u16(f, 6) & 0x1fff) * 8;
    const more = (f[6]! & 0x20) !== 0;
    if (start + len + hl > MAX || (more && len % 8 !== 0) || len <= 0) return this.refuse();
    const i = this.context(`${u16(f, 4)}/${f[9]}/${u32(f, 12)}/${u32(f, 16)}`);
    const c = this.slots[i]!;
    c.data.set(f.subarray(hl, hl + len), start);
    if (start === 0) c.header = f.slice(0, hl);
    const end = start + len;
    c.maxEnd = Math.max(c.maxEnd, end);
    if (!more) {
      if (c.end >= 0 && c.end !== end) return this.giveUp(i);
      c.end = end;
    }
    if (c.end >= 0 && c.maxEnd > c.end) return this.giveUp(i);
    for (let u = start / 8; u < Math.ceil(end / 8); u++) c.units.add(u);
    if (c.end < 0 || !c.header || c.units.size < Math.ceil(c.end / 8)) return { result: 'pending' };
    if (c.header.length + c.end > MAX) return this.giveUp(i);
    const d = new Uint8Array(c.header.length + c.end);
    d.set(c.header);
    d.set(c.data.subarray(0, c.end), c.header.length);
    put16(d, 2, d.length);
    d[6]! &= 0xc0;
    d[7] = 0;
    put16(d, 10, 0);
    put16(d, 10, refChecksum(d, 0, c.header.length));
    this.slots[i] = null;
    this.completed++;
    return { result: 'whole', datagram: d };
  }

  /** The context of this datagram: its own, a free one, or the oldest's (contexts past the timeout are freed as the search meets them). */
  private context(key: string): number {
    const now = ++this.clock;
    let free = -1, oldest = 0;
    for (let i = 0; i < CONTEXTS; i++) {
      const c = this.slots[i];
      if (c && now - c.started > TIMEOUT) this.slots[i] = null;
      const s = this.slots[i];
      if (s && s.key === key) return i;
      if (!s) { if (free < 0) free = i; } else if (s.started < (this.slots[oldest]?.started ?? -Infinity)) oldest = i;
    }
    const i = free >= 0 ? free : oldest;
    this.slots[i] = { key, started: now, header: null, end: -1, maxEnd: 0, data: new Uint8Array(MAX + 8), units: new Set() };
    return i;
  }

  private giveUp(i: number): Added {
    this.slots[i] = null;
    return this.refuse();
  }

  private refuse(): Added {
    this.refused++;
    return { result: 'invalid' };
  }

  /** Time passes (past the timeout, say). */
  advance(ms: number): void {
    this.clock += ms;
  }
}
