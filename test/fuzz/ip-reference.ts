// Plain re-implementations, from the RFC text and the router's stated rules,
// of what a router does to and with IPv4 datagrams — the fuzz oracle's
// expectations, written independently of src/:
// - the header checks (RFC 791, RFC 1812 §5.2.2);
// - IP options: the walk and what makes them malformed (RFC 791 §3.1,
//   RFC 1122 §3.2.1.8, RFC 1812 §4.3.3.5: the Parameter Problem pointer),
//   a source-route hop (RFC 791, RFC 1812 §5.2.4.1), and what forwarding
//   writes into Record Route, Timestamp and the source route (§5.3.13);
// - the router as a host: echo, timestamp and address-mask replies with the
//   options they return (RFC 792, RFC 950, RFC 1122 §3.2.1.8 and §3.2.2.6,
//   RFC 1812 §4.2.2.1, §4.3.3.6-9), and the reset a closed TCP port sends
//   (RFC 9293 §3.10.7.1);
// - may an ICMP error be sent about a datagram (RFC 1812 §4.3.2.7);
// - ARP for the router's address (RFC 826).
// Positions are byte offsets from the start of the datagram. Where the
// router writes the time (ms since midnight UT), the expectation lists the
// offset instead of a value: the oracle checks it against the clock.
import { put16, put32, refChecksum, refPseudo, u16, u32 } from './reference.js';

export const enum V4 { OK = 0, TRUNCATED = 1, BAD_VERSION = 2, BAD_IHL = 3, BAD_TOTAL_LENGTH = 4, BAD_CHECKSUM = 5 }

/** RFC 1812 §5.2.2 receive checks on `len` captured bytes (more than the total length is link padding). */
export function refIpv4Check(b: Uint8Array, len = b.length): number {
  if (len < 20) return V4.TRUNCATED;
  if (b[0]! >> 4 !== 4) return V4.BAD_VERSION;
  const hl = (b[0]! & 15) * 4;
  if (hl < 20 || hl > len) return V4.BAD_IHL;
  const total = u16(b, 2);
  if (total < hl || total > len) return V4.BAD_TOTAL_LENGTH;
  return refChecksum(b, 0, hl) === 0 ? V4.OK : V4.BAD_CHECKSUM;
}

export const headerLength = (b: Uint8Array): number => (b[0]! & 15) * 4;
export const isFragment = (b: Uint8Array): boolean => (u16(b, 6) & 0x3fff) !== 0;

// ---- options ----

const EOL = 0, NOP = 1, RR = 7, TS = 68, LSRR = 131, SSRR = 137;

export interface RefOptions {
  /** Well formed; else `problem` is the offset of the offending octet (the Parameter Problem pointer). */
  ok: boolean;
  problem: number;
  /** Offsets of Record Route, Timestamp and the source route (-1: none). */
  rr: number;
  ts: number;
  sr: number;
  strict: boolean;
}

/**
 * Walk the options of a header (RFC 791 §3.1): an option is type, length
 * (≥ 2, within the header), data; EOL ends the list, NOP is one byte.
 * Record Route, Timestamp and a source route may each appear once (RFC
 * 1122 §3.2.1.8: two source routes mean nothing); their pointer is at
 * least 4 (Timestamp: 5); "some room, but not for a whole entry" is an
 * error (RFC 791 says so of Timestamp; the router of every slot option); a
 * Timestamp's flag is 0, 1 or 3, and a full one whose overflow counter
 * cannot count one more (15; flag 3 counts nothing) is in error.
 */
export function refOptions(h: Uint8Array): RefOptions {
  const r: RefOptions = { ok: true, problem: -1, rr: -1, ts: -1, sr: -1, strict: false };
  const fail = (at: number): RefOptions => ({ ...r, ok: false, problem: at });
  const end = headerLength(h);
  for (let i = 20; i < end;) {
    const type = h[i]!;
    if (type === EOL) break;
    if (type === NOP) { i += 1; continue; }
    if (i + 1 === end) return fail(i);
    const len = h[i + 1]!;
    if (len < 2 || i + len > end) return fail(i + 1);
    if (type === RR || type === LSRR || type === SSRR) {
      if ((type === RR ? r.rr : r.sr) !== -1) return fail(i);
      const bad = slotProblem(h, i, 4, 4);
      if (bad !== -1) return fail(bad);
      if (type === RR) r.rr = i;
      else { r.sr = i; r.strict = type === SSRR; }
    } else if (type === TS) {
      if (r.ts !== -1) return fail(i);
      if (len < 4) return fail(i + 1);
      const flag = h[i + 3]! & 15;
      if (flag !== 0 && flag !== 1 && flag !== 3) return fail(i + 3);
      const bad = slotProblem(h, i, 5, flag === 0 ? 4 : 8);
      if (bad !== -1) return fail(bad);
      if (h[i + 2]! > len && flag !== 3 && h[i + 3]! >> 4 === 15) return fail(i + 3);
      r.ts = i;
    }
    i += len;
  }
  return r;
}

/** A slot option at `o`: its length must hold the pointer, the pointer be ≥ `min`, and room be none or a whole entry. */
function slotProblem(h: Uint8Array, o: number, min: number, entry: number): number {
  const len = h[o + 1]!;
  if (len < min - 1) return o + 1;
  const ptr = h[o + 2]!;
  if (ptr < min) return o + 2;
  if (ptr <= len && len - ptr + 1 < entry) return o + 2;
  return -1;
}

/** No room left in a route option for a whole address (RFC 791: each is 4 bytes; the pointer may be anywhere past 3). */
const full = (h: Uint8Array, o: number): boolean => h[o + 2]! + 3 > h[o + 1]!;

/** A source route whose next address is still to be visited. */
export const sourceRoutePending = (h: Uint8Array, o: RefOptions): boolean => o.sr !== -1 && !full(h, o.sr);

/**
 * The datagram is addressed to the router and its source route goes on
 * (RFC 791; RFC 1812 §5.2.4.1): the router's own addresses in the route
 * are passed over, the first other one becomes the destination. Changes
 * `h`; returns whether the datagram is now to be forwarded (false: the
 * route ended at the router).
 */
export function refSourceRouteHop(h: Uint8Array, o: RefOptions, isOwn: (a: number) => boolean): boolean {
  const sr = o.sr;
  while (!full(h, sr)) {
    const next = u32(h, sr + h[sr + 2]! - 1);
    if (!isOwn(next)) {
      put32(h, 16, next);
      return true;
    }
    h[sr + 2]! += 4;
  }
  return false;
}

/**
 * One module's Timestamp entry (RFC 791; RFC 1812 §5.3.13.6): flag 0 the
 * time, flag 1 `addr` and the time, flag 3 the time when the next
 * prespecified address `mayStamp` says is ours; a full option counts the
 * module in its overflow (not for flag 3). Returns where the time went, or -1.
 */
export function refStamp(h: Uint8Array, ts: number, addr: number, mayStamp: (prespecified: number) => boolean): number {
  const len = h[ts + 1]!, ptr = h[ts + 2]!, flag = h[ts + 3]! & 15, overflow = h[ts + 3]! >> 4;
  // No room for a whole entry (4 bytes, or address and time: 8) is full.
  if (ptr + (flag === 0 ? 4 : 8) - 1 > len) {
    if (flag !== 3 && overflow < 15) h[ts + 3] = ((overflow + 1) << 4) | flag;
    return -1;
  }
  if (flag === 0) {
    h[ts + 2] = ptr + 4;
    return ts + ptr - 1;
  }
  if (flag === 1) {
    put32(h, ts + ptr - 1, addr);
    h[ts + 2] = ptr + 8;
    return ts + ptr + 3;
  }
  const pre = u32(h, ts + ptr - 1);
  if (pre === 0 || !mayStamp(pre)) return -1;
  h[ts + 2] = ptr + 8;
  return ts + ptr + 3;
}

function recordRoute(h: Uint8Array, rr: number, addr: number): void {
  const ptr = h[rr + 2]!;
  if (full(h, rr)) return;
  put32(h, rr + ptr - 1, addr);
  h[rr + 2] = ptr + 4;
}

/**
 * What forwarding out of the port with address `egress` writes (RFC 1812
 * §5.3.13.4-6): a source-route hop records `egress` in the slot it used;
 * Record Route gets `egress`; Timestamp its entry (flag 3: at any of the
 * router's addresses). Changes `h`; returns where times went.
 */
export function refForwardOptions(h: Uint8Array, o: RefOptions, egress: number, hop: boolean, isOwn: (a: number) => boolean): number[] {
  const times: number[] = [];
  if (hop) {
    const ptr = h[o.sr + 2]!;
    put32(h, o.sr + ptr - 1, egress);
    h[o.sr + 2] = ptr + 4;
  }
  if (o.rr !== -1) recordRoute(h, o.rr, egress);
  if (o.ts !== -1) {
    const t = refStamp(h, o.ts, egress, isOwn);
    if (t !== -1) times.push(t);
  }
  return times;
}

/** The options the copied flag (0x80) puts into every fragment after the first (RFC 791 §3.1), unpadded. */
export function copiedOptions(h: Uint8Array): number[] {
  const out: number[] = [];
  const end = headerLength(h);
  for (let i = 20; i < end;) {
    const type = h[i]!;
    if (type === EOL) break;
    if (type === NOP) { i += 1; continue; }
    if (i + 1 >= end) break;
    const len = h[i + 1]!;
    if (len < 2 || i + len > end) break;
    if (type & 0x80) for (let k = 0; k < len; k++) out.push(h[i + k]!);
    i += len;
  }
  return out;
}

// ---- the router as a host ----

/** An expected datagram: its bytes, where times go, and bytes not compared (beyond the checksums, always checked for validity). */
export interface Expected {
  bytes: Uint8Array;
  times: number[];
  skip: number[];
}

/** Is this a complete, valid query the router answers: echo (8), timestamp (13), address mask (17)? (RFC 792, RFC 950) */
export function refValidQuery(d: Uint8Array): boolean {
  const hl = headerLength(d), total = u16(d, 2), len = total - hl;
  if (len < 8) return false;
  const type = d[hl]!, code = d[hl + 1]!;
  if (type === 13 && (len < 20 || code !== 0)) return false;
  if (type === 17 && (len < 12 || code !== 0)) return false;
  if (type !== 8 && type !== 13 && type !== 17) return false;
  return refChecksum(d, hl, len) === 0;
}

/**
 * Turn a completed source route into the reply's route (RFC 1122
 * §3.2.1.8 c): the request recorded G1 … Gn from `origSrc`; the reply goes
 * to Gn carrying Gn-1 … G1, origSrc, pointer at the first. A G1 that is
 * origSrc is not repeated; a route with nothing left to carry becomes NOPs
 * and the reply goes straight to origSrc. Returns the reply's destination.
 */
function reverseRoute(h: Uint8Array, sr: number, origSrc: number): number {
  const len = h[sr + 1]!;
  const ptr = Math.min(h[sr + 2]!, len + 1);
  const n = Math.floor((ptr - 4) / 4);
  const recorded: number[] = [];
  for (let k = 0; k < n; k++) recorded.push(u32(h, sr + 3 + 4 * k));
  const nops = (from: number, count: number) => { for (let k = 0; k < count; k++) h[from + k] = NOP; };
  if (n === 0) { nops(sr, len); return origSrc; }
  const firstHop = recorded[n - 1]!;
  const route = recorded.slice(0, n - 1).reverse();
  if (route.at(-1) !== origSrc) route.push(origSrc);
  if (route.length === 1 && firstHop === origSrc) { nops(sr, len); return origSrc; }
  route.forEach((a, k) => put32(h, sr + 3 + 4 * k, a));
  const newLen = 3 + 4 * route.length;
  h[sr + 1] = newLen;
  h[sr + 2] = 4;
  nops(sr + newLen, len - newLen);
  return firstHop;
}

/** Keep Record Route, Timestamp and the source route; every other option becomes NOPs (RFC 1122 §3.2.2.6: those are returned). */
function keepReturnedOptions(h: Uint8Array, o: RefOptions): void {
  const end = headerLength(h);
  for (let i = 20; i < end;) {
    const type = h[i]!;
    if (type === EOL) break;
    if (type === NOP) { i += 1; continue; }
    const len = h[i + 1]!;
    if (i !== o.rr && i !== o.ts && i !== o.sr) for (let k = 0; k < len; k++) h[i + k] = NOP;
    i += len;
  }
}

/** What the reply to a query needs to know of the router and the request. */
export interface QueryContext {
  /** The request was to this unicast address of the router (else a broadcast: only mask requests are answered). */
  unicast: boolean;
  /** The mask of the port the request came in on (RFC 950). */
  ingressMask: number;
  isOwn(a: number): boolean;
}

/**
 * The reply to the valid query `request` (the whole datagram as the router
 * has it, a source route's own addresses passed over), whose options `o`
 * were found as it arrived, leaving by the port with address `egress`: built in the
 * request's place — identification, TOS, flags and length kept, TTL 64,
 * from the address asked (a broadcast mask request: from `egress`). It
 * goes to the request's source, or to the first hop of its reversed source
 * route (the router's own addresses there passed over), or — from a
 * requester without an address — to 255.255.255.255 (RFC 950). Options
 * (RFC 1122 §3.2.2.6, RFC 1812 §4.2.2.1): only Record Route, Timestamp
 * and the source route are returned; the Timestamp is stamped on receipt
 * (as the address asked; flag 3 at any of ours) and on sending (as
 * `egress`; flag 3 only at exactly that address), Record Route gets
 * `egress`. Echo data returned; timestamp receive/transmit times; the
 * ingress port's mask.
 */
export function refQueryReply(request: Uint8Array, o: RefOptions | null, c: QueryContext, egress: number): Expected {
  const total = u16(request, 2);
  const r = request.slice(0, total);
  const src = u32(r, 12), requestDst = u32(r, 16);
  const hl = headerLength(r);
  const times: number[] = [];
  let dst = src;
  if (o) {
    if (o.ts !== -1) {
      const t = refStamp(r, o.ts, requestDst, c.isOwn);
      if (t !== -1) times.push(t);
    }
    keepReturnedOptions(r, o);
    if (o.sr !== -1) {
      dst = reverseRoute(r, o.sr, src);
      while (c.isOwn(dst) && r[o.sr] !== NOP && !full(r, o.sr)) {
        dst = u32(r, o.sr + r[o.sr + 2]! - 1);
        r[o.sr + 2]! += 4;
      }
    }
  }
  if (src === 0) dst = 0xffffffff;
  if (o) {
    if (o.ts !== -1) {
      const t = refStamp(r, o.ts, egress, (pre) => pre === egress);
      if (t !== -1) times.push(t);
    }
    if (o.rr !== -1) recordRoute(r, o.rr, egress);
  }
  put32(r, 12, c.unicast ? requestDst : egress);
  put32(r, 16, dst);
  r[8] = 64;
  const type = r[hl]!;
  r[hl] = type === 8 ? 0 : type === 13 ? 14 : 18;
  if (type === 13) times.push(hl + 12, hl + 16);
  if (type === 17) put32(r, hl + 8, c.ingressMask);
  return { bytes: r, times, skip: [hl + 2, hl + 3] };
}

/**
 * Does a closed port answer this TCP segment with a reset (RFC 9293
 * §3.10.7.1)? Not a reset itself, not from 0.0.0.0, a whole header, a
 * right checksum.
 */
export function refResetDue(d: Uint8Array): boolean {
  const hl = headerLength(d), seg = u16(d, 2) - hl;
  if (seg < 20 || u32(d, 12) === 0) return false;
  if (refChecksum(d, hl, seg, refPseudo(u32(d, 12), u32(d, 16), 6, seg)) !== 0) return false;
  const thl = (d[hl + 12]! >> 4) * 4;
  if (thl < 20 || thl > seg) return false;
  return (d[hl + 13]! & 0x04) === 0;
}

/**
 * The reset: to a segment with ACK, <SEQ=SEG.ACK><CTL=RST>; without,
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and FIN count in
 * SEG.LEN). A plain IPv4 header (TOS 0, id 0, TTL 64) from the address
 * the segment was sent to.
 */
export function refTcpReset(d: Uint8Array): Uint8Array {
  const hl = headerLength(d), seg = u16(d, 2) - hl, t = hl;
  const flags = d[t + 13]!;
  const dataLen = seg - (d[t + 12]! >> 4) * 4;
  const r = new Uint8Array(40);
  r[0] = 0x45;
  put16(r, 2, 40);
  r[8] = 64;
  r[9] = 6;
  put32(r, 12, u32(d, 16));
  put32(r, 16, u32(d, 12));
  put16(r, 20, u16(d, t + 2));
  put16(r, 22, u16(d, t));
  if (flags & 0x10) {
    put32(r, 24, u32(d, t + 8));
    r[33] = 0x04;
  } else {
    put32(r, 28, (u32(d, t + 4) + dataLen + (flags & 0x02 ? 1 : 0) + (flags & 0x01 ? 1 : 0)) >>> 0);
    r[33] = 0x14;
  }
  r[32] = 5 << 4;
  put16(r, 36, refChecksum(r, 20, 20, refPseudo(u32(r, 12), u32(r, 16), 6, 20)));
  put16(r, 10, refChecksum(r, 0, 20));
  return r;
}

// ---- ICMP errors ----

export const isIcmpError = (type: number): boolean => type === 3 || type === 4 || type === 5 || type === 11 || type === 12;

/**
 * RFC 1812 §4.3.2.7: an error may be sent about this datagram — not about
 * an ICMP error, a non-first fragment, a datagram to a broadcast or
 * multicast address, or from an address that is no single host; and the
 * port's own directed broadcast (either way) counts as a broadcast.
 */
export function refErrorAllowed(d: Uint8Array, ingressBroadcast: number): boolean {
  if ((u16(d, 6) & 0x1fff) !== 0) return false;
  const src = u32(d, 12), dst = u32(d, 16), s8 = src >>> 24;
  if (s8 === 0 || s8 === 127 || s8 >= 224) return false;
  if (dst >>> 28 === 0xe || dst === 0xffffffff) return false;
  if (src === ingressBroadcast || dst === ingressBroadcast) return false;
  const hl = headerLength(d);
  return !(d[9] === 1 && hl < u16(d, 2) && isIcmpError(d[hl]!));
}

// ---- ARP ----

/**
 * The router's ARP reply to a frame (RFC 826), or null when the frame asks
 * nothing of it: a well-formed IPv4-over-Ethernet request for `addr` from
 * a sender with a unicast, non-zero MAC and an address not ours. The reply
 * goes to the sender's hardware address, 42 bytes.
 */
export function refArpReply(frame: Uint8Array, mac: Uint8Array, addr: number): Uint8Array | null {
  if (frame.length < 14 + 28) return null;
  const a = 14;
  if (u16(frame, a) !== 1 || u16(frame, a + 2) !== 0x0800 || frame[a + 4] !== 6 || frame[a + 5] !== 4) return null;
  const op = u16(frame, a + 6);
  if (op !== 1 && op !== 2) return null;
  const sha = frame.subarray(a + 8, a + 14);
  if ((sha[0]! & 1) !== 0 || sha.every((x) => x === 0)) return null;
  const spa = u32(frame, a + 14), tpa = u32(frame, a + 24);
  if (spa === addr || tpa !== addr || op !== 1) return null;
  const r = new Uint8Array(42);
  r.set(sha, 0);
  r.set(mac, 6);
  put16(r, 12, 0x0806);
  put16(r, 14, 1);
  put16(r, 16, 0x0800);
  r[18] = 6;
  r[19] = 4;
  put16(r, 20, 2);
  r.set(mac, 22);
  put32(r, 28, addr);
  r.set(sha, 32);
  put32(r, 38, spa);
  return r;
}

/** A gratuitous ARP (RFC 5227 announcement): a broadcast request for our own address. */
export function refGratuitousArp(mac: Uint8Array, addr: number): Uint8Array {
  const r = new Uint8Array(42);
  r.fill(0xff, 0, 6);
  r.set(mac, 6);
  put16(r, 12, 0x0806);
  put16(r, 14, 1);
  put16(r, 16, 0x0800);
  r[18] = 6;
  r[19] = 4;
  put16(r, 20, 1);
  r.set(mac, 22);
  put32(r, 28, addr);
  put32(r, 38, addr);
  return r;
}
