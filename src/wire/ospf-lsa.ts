// OSPFv2 link state advertisements (RFC 2328 appendix A.4) as a reusable,
// zero-copy view, their Fletcher checksum (ISO 8473 / RFC 905 annex B, as
// §12.1.7 has it) and writers. Every LSA starts with the 20-byte header:
//
// |            LS age             |    Options    |    LS type    |
// |                        Link State ID                          |
// |                     Advertising Router                        |
// |                     LS sequence number                        |
// |         LS checksum           |             length            |
//
// Bodies: router (1) — flags, links of (id, data, type, metric); network
// (2) — mask, attached routers; summary (3, 4) — mask, metric; AS-external
// (5) — mask, E bit and metric, forwarding address, route tag. TOS entries
// (RFC 1583) are read past, never written. Nothing here allocates.
import { readU32, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const LSA_HEADER_LEN = 20;
export const LsaType = { ROUTER: 1, NETWORK: 2, SUMMARY_NETWORK: 3, SUMMARY_ASBR: 4, AS_EXTERNAL: 5 } as const;
export const LSA_TYPE_NAMES: readonly string[] = ['', 'router', 'network', 'summary-net', 'summary-asbr', 'external'];

/** Architectural constants (B): seconds. */
export const MAX_AGE = 3600;
export const MAX_AGE_DIFF = 900;
export const LS_REFRESH_TIME = 1800;
export const INITIAL_SEQUENCE = 0x80000001 | 0;
export const MAX_SEQUENCE = 0x7fffffff;
/** The metric of an unreachable summary or external destination (LSInfinity). */
export const LS_INFINITY = 0xffffff;

/** Router LSA flags (A.4.2). */
export const RouterFlag = { B: 0x01, E: 0x02, V: 0x04 } as const;
/** Router LSA link types (A.4.2). */
export const LinkType = { POINT_TO_POINT: 1, TRANSIT: 2, STUB: 3, VIRTUAL: 4 } as const;

export const LsaCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_TYPE: 2,
  BAD_LENGTH: 3,
  BAD_CHECKSUM: 4,
  BAD_AGE: 5,
  BAD_SEQUENCE: 6,
} as const;

export const LSA_CHECK_NAMES: readonly string[] = ['ok', 'lsa-truncated', 'lsa-bad-type', 'lsa-bad-length', 'lsa-bad-checksum', 'lsa-bad-age', 'lsa-bad-sequence'];

/** Where the checksum sits, from the byte after the age (which it does not cover). */
const CHECKSUM_AT = 14;

/** Fletcher checksum (§12.1.7) of an LSA at buf[off, off+len), age excluded; writes it into the LSA. */
export function fillLsaChecksum(buf: Uint8Array, off: number, len: number): number {
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  let c0 = 0, c1 = 0;
  for (let i = off + 2; i < off + len; i++) {
    c0 += buf[i]!;
    if (c0 >= 255) c0 -= 255;
    c1 += c0;
    if (c1 >= 255) c1 -= 255;
  }
  // The two check bytes make both sums zero (ISO 8473 annex C).
  const n = len - 2 - CHECKSUM_AT - 1;
  let x = (n * c0 - c1) % 255;
  if (x <= 0) x += 255;
  let y = 510 - c0 - x;
  if (y > 255) y -= 255;
  buf[off + 16] = x;
  buf[off + 17] = y;
  return (x << 8) | y;
}

/** Whether the LSA's Fletcher checksum is right (a zero checksum never is). */
export function lsaChecksumOk(buf: Uint8Array, off: number, len: number): boolean {
  if (buf[off + 16] === 0 && buf[off + 17] === 0) return false;
  let c0 = 0, c1 = 0;
  for (let i = off + 2; i < off + len; i++) {
    c0 += buf[i]!;
    if (c0 >= 255) c0 -= 255;
    c1 += c0;
    if (c1 >= 255) c1 -= 255;
  }
  return c0 === 0 && c1 === 0;
}

/** An LSA (or just its header, in DD and LSAck packets: then only the header fields apply). */
export class LsaView extends PacketView {
  get age(): number { return (this.buf[this.off] << 8) | this.buf[this.off + 1]; }
  get options(): number { return this.buf[this.off + 2]; }
  get type(): number { return this.buf[this.off + 3]; }
  get id(): number { return readU32(this.buf, this.off + 4); }
  get advRouter(): number { return readU32(this.buf, this.off + 8); }
  /** Signed, as §12.1.6 compares them. */
  get sequence(): number { return (this.buf[this.off + 12] << 24) | (this.buf[this.off + 13] << 16) | (this.buf[this.off + 14] << 8) | this.buf[this.off + 15]; }
  get checksum(): number { return (this.buf[this.off + 16] << 8) | this.buf[this.off + 17]; }
  get length(): number { return (this.buf[this.off + 18] << 8) | this.buf[this.off + 19]; }

  /** A whole LSA in an update: length, type, body shape, age, sequence and checksum; an LsaCheck code. */
  validate(): number {
    const b = this.buf, o = this.off;
    if (this.len < LSA_HEADER_LEN || o + LSA_HEADER_LEN > b.length) return LsaCheck.TRUNCATED;
    const len = this.length;
    if (len < LSA_HEADER_LEN || len > this.len || o + len > b.length) return LsaCheck.TRUNCATED;
    const type = this.type;
    const body = len - LSA_HEADER_LEN;
    switch (type) {
      case LsaType.ROUTER: {
        if (body < 4) return LsaCheck.BAD_LENGTH;
        // Each link: 12 bytes and 4 per TOS entry; they must fill the body exactly.
        const links = (b[o + 22] << 8) | b[o + 23];
        let at = o + 24;
        for (let i = 0; i < links; i++) {
          if (at + 12 > o + len) return LsaCheck.BAD_LENGTH;
          at += 12 + 4 * b[at + 9]!;
        }
        if (at !== o + len) return LsaCheck.BAD_LENGTH;
        break;
      }
      case LsaType.NETWORK: if (body < 8 || body % 4 !== 0) return LsaCheck.BAD_LENGTH; break;
      case LsaType.SUMMARY_NETWORK:
      case LsaType.SUMMARY_ASBR: if (body < 8 || body % 4 !== 0) return LsaCheck.BAD_LENGTH; break;
      case LsaType.AS_EXTERNAL: if (body < 16 || (body - 4) % 12 !== 0) return LsaCheck.BAD_LENGTH; break;
      default: return LsaCheck.BAD_TYPE;
    }
    if (this.age > MAX_AGE) return LsaCheck.BAD_AGE;
    // 0x80000000 is reserved (§12.1.6).
    if (this.sequence === (0x80000000 | 0)) return LsaCheck.BAD_SEQUENCE;
    if (!lsaChecksumOk(b, o, len)) return LsaCheck.BAD_CHECKSUM;
    return LsaCheck.OK;
  }

  // ---- router LSA (A.4.2) ----
  get routerFlags(): number { return this.buf[this.off + 20]; }
  get linkCount(): number { return (this.buf[this.off + 22] << 8) | this.buf[this.off + 23]; }
  /** Absolute offset of the link after the one at `at` (the first is at off + 24). */
  nextLink(at: number): number { return at + 12 + 4 * this.buf[at + 9]!; }
  get firstLink(): number { return this.off + 24; }
  linkId(at: number): number { return readU32(this.buf, at); }
  linkData(at: number): number { return readU32(this.buf, at + 4); }
  linkType(at: number): number { return this.buf[at + 8]; }
  linkMetric(at: number): number { return (this.buf[at + 10] << 8) | this.buf[at + 11]; }

  // ---- network LSA (A.4.3), summary (A.4.4), external (A.4.5): the mask comes first ----
  get mask(): number { return readU32(this.buf, this.off + 20); }
  get attachedCount(): number { return (this.length - 24) >>> 2; }
  attached(i: number): number { return readU32(this.buf, this.off + 24 + 4 * i); }
  /** Summary and external: the TOS 0 metric (24 bits). */
  get metric(): number { return (this.buf[this.off + 25] << 16) | (this.buf[this.off + 26] << 8) | this.buf[this.off + 27]; }
  /** External: the E bit, a type 2 metric. */
  get externalType2(): boolean { return (this.buf[this.off + 24] & 0x80) !== 0; }
  get forwardingAddress(): number { return readU32(this.buf, this.off + 28); }
  get routeTag(): number { return readU32(this.buf, this.off + 32); }
}

/** Write an LSA header; the checksum is left for fillLsaChecksum(). Returns 20. */
export function writeLsaHeader(buf: Uint8Array, off: number, age: number, options: number, type: number, id: number, advRouter: number, sequence: number, length: number): number {
  buf[off] = age >>> 8;
  buf[off + 1] = age;
  buf[off + 2] = options;
  buf[off + 3] = type;
  writeU32(buf, off + 4, id);
  writeU32(buf, off + 8, advRouter);
  writeU32(buf, off + 12, sequence >>> 0);
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  buf[off + 18] = length >>> 8;
  buf[off + 19] = length;
  return LSA_HEADER_LEN;
}

/** Set an LSA's age in place (not covered by the checksum). */
export function setLsaAge(buf: Uint8Array, off: number, age: number): void {
  buf[off] = age >>> 8;
  buf[off + 1] = age;
}

export interface RouterLink {
  id: number;
  data: number;
  type: number;
  metric: number;
}

/** Length of a router LSA with `links` links (no TOS). */
export const routerLsaLength = (links: number): number => LSA_HEADER_LEN + 4 + 12 * links;

/** Write a router LSA body (after its header). Returns the body length. */
export function writeRouterBody(buf: Uint8Array, off: number, flags: number, links: readonly RouterLink[]): number {
  const o = off + LSA_HEADER_LEN;
  buf[o] = flags;
  buf[o + 1] = 0;
  buf[o + 2] = links.length >>> 8;
  buf[o + 3] = links.length;
  let at = o + 4;
  for (const l of links) {
    writeU32(buf, at, l.id);
    writeU32(buf, at + 4, l.data);
    buf[at + 8] = l.type;
    buf[at + 9] = 0;
    buf[at + 10] = l.metric >>> 8;
    buf[at + 11] = l.metric;
    at += 12;
  }
  return at - o;
}

/** Write a network LSA body. Returns the body length. */
export function writeNetworkBody(buf: Uint8Array, off: number, mask: number, routers: readonly number[]): number {
  const o = off + LSA_HEADER_LEN;
  writeU32(buf, o, mask);
  for (let i = 0; i < routers.length; i++) writeU32(buf, o + 4 + 4 * i, routers[i]!);
  return 4 + 4 * routers.length;
}

/** Write an AS-external LSA body (TOS 0 only). Returns 16. */
export function writeExternalBody(buf: Uint8Array, off: number, mask: number, type2: boolean, metric: number, forwarding: number, tag: number): number {
  const o = off + LSA_HEADER_LEN;
  writeU32(buf, o, mask);
  buf[o + 4] = type2 ? 0x80 : 0;
  buf[o + 5] = metric >>> 16;
  buf[o + 6] = metric >>> 8;
  buf[o + 7] = metric;
  writeU32(buf, o + 8, forwarding);
  writeU32(buf, o + 12, tag);
  return 16;
}

/**
 * §13.1: which of two instances of an LSA is more recent: > 0 if `a`, < 0
 * if `b`, 0 if the same. Ages in seconds (now, not as received).
 */
export function compareInstances(aSeq: number, aChecksum: number, aAge: number, bSeq: number, bChecksum: number, bAge: number): number {
  if (aSeq !== bSeq) return aSeq > bSeq ? 1 : -1;
  if (aChecksum !== bChecksum) return aChecksum > bChecksum ? 1 : -1;
  const aMax = aAge >= MAX_AGE, bMax = bAge >= MAX_AGE;
  if (aMax !== bMax) return aMax ? 1 : -1;
  if (Math.abs(aAge - bAge) > MAX_AGE_DIFF) return aAge < bAge ? 1 : -1;
  return 0;
}
