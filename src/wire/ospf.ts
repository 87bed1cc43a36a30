// OSPFv2 packets (RFC 2328 appendix A.3) as a reusable, zero-copy view and
// writers. Every packet starts with the 24-byte header:
//
//  0                   1                   2                   3
// |   Version #   |     Type      |         Packet length         |
// |                          Router ID                            |
// |                           Area ID                             |
// |           Checksum            |             AuType            |
// |                       Authentication (8)                      |
//
// then a body by type: Hello (1), Database Description (2), Link State
// Request (3), Link State Update (4), Link State Acknowledgment (5). The
// LSAs that DD, LSU and LSAck carry are in ospf-lsa.ts.
//
// Checks come in layers, as RFC 2328 §8.2 has them: validate() judges the
// header and the body's shape against the bytes present; checksumOk() the
// header checksum (not used with cryptographic authentication, §D.4.3).
// Nothing here allocates.
import { checksum, sum16 } from './checksum.js';
import { readU32, writeU32 } from './ipv4.js';
import { LSA_HEADER_LEN } from './ospf-lsa.js';
import { PacketView } from './view.js';

export const OSPF_PROTOCOL = 89;
/** 224.0.0.5 and 224.0.0.6 (RFC 2328 A.1). */
export const ALL_SPF_ROUTERS = 0xe0000005;
export const ALL_D_ROUTERS = 0xe0000006;
export const OSPF_VERSION = 2;
export const OSPF_HEADER_LEN = 24;
export const HELLO_FIXED_LEN = 20;
export const DD_FIXED_LEN = 8;
export const LSR_ENTRY_LEN = 12;
export const LSU_FIXED_LEN = 4;
/** Where the 8-byte authentication field sits in the header. */
export const AUTH_OFFSET = 16;
export const AUTH_LEN = 8;

export const OspfType = { HELLO: 1, DD: 2, LSR: 3, LSU: 4, LSACK: 5 } as const;
export const OSPF_TYPE_NAMES: readonly string[] = ['', 'hello', 'dd', 'ls-request', 'ls-update', 'ls-ack'];

export const AuType = { NULL: 0, SIMPLE: 1, CRYPTO: 2 } as const;

/** Options bits (A.2). E: AS-external LSAs flooded here (not a stub area). */
export const OspfOption = { MT: 0x01, E: 0x02, MC: 0x04, NP: 0x08, EA: 0x10, DC: 0x20, O: 0x40 } as const;

/** Database Description flags (A.3.3). */
export const DdFlag = { MS: 0x01, M: 0x02, I: 0x04 } as const;

/** Outcome of validate(). */
export const OspfCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_VERSION: 2,
  BAD_TYPE: 3,
  BAD_LENGTH: 4,
} as const;

export const OSPF_CHECK_NAMES: readonly string[] = ['ok', 'truncated', 'bad-version', 'bad-type', 'bad-length'];

/** An OSPFv2 packet; `len` is the IP payload length (the packet plus any authentication trailer). */
export class OspfView extends PacketView {
  get version(): number { return this.buf[this.off]; }
  get type(): number { return this.buf[this.off + 1]; }
  /** The OSPF packet length (header and body; not a cryptographic trailer). */
  get length(): number { return (this.buf[this.off + 2] << 8) | this.buf[this.off + 3]; }
  get routerId(): number { return readU32(this.buf, this.off + 4); }
  get areaId(): number { return readU32(this.buf, this.off + 8); }
  get checksum(): number { return (this.buf[this.off + 12] << 8) | this.buf[this.off + 13]; }
  get auType(): number { return (this.buf[this.off + 14] << 8) | this.buf[this.off + 15]; }
  /** Cryptographic authentication (D.3): key id, digest length, sequence number. */
  get keyId(): number { return this.buf[this.off + 18]; }
  get authDataLength(): number { return this.buf[this.off + 19]; }
  get cryptoSequence(): number { return readU32(this.buf, this.off + 20); }
  get bodyOffset(): number { return this.off + OSPF_HEADER_LEN; }

  /** Header and body shape against the bytes present; an OspfCheck code. */
  validate(): number {
    const b = this.buf, o = this.off;
    if (this.len < OSPF_HEADER_LEN || o + this.len > b.length) return OspfCheck.TRUNCATED;
    if (b[o] !== OSPF_VERSION) return OspfCheck.BAD_VERSION;
    const type = b[o + 1];
    if (type < OspfType.HELLO || type > OspfType.LSACK) return OspfCheck.BAD_TYPE;
    const len = this.length;
    if (len < OSPF_HEADER_LEN || len > this.len) return OspfCheck.BAD_LENGTH;
    const body = len - OSPF_HEADER_LEN;
    switch (type) {
      case OspfType.HELLO: if (body < HELLO_FIXED_LEN || (body - HELLO_FIXED_LEN) % 4 !== 0) return OspfCheck.BAD_LENGTH; break;
      case OspfType.DD: if (body < DD_FIXED_LEN || (body - DD_FIXED_LEN) % LSA_HEADER_LEN !== 0) return OspfCheck.BAD_LENGTH; break;
      case OspfType.LSR: if (body % LSR_ENTRY_LEN !== 0) return OspfCheck.BAD_LENGTH; break;
      case OspfType.LSU: if (body < LSU_FIXED_LEN) return OspfCheck.BAD_LENGTH; break;
      case OspfType.LSACK: if (body % LSA_HEADER_LEN !== 0) return OspfCheck.BAD_LENGTH; break;
    }
    return OspfCheck.OK;
  }

  /** §D.4.1: the Internet checksum over the packet, the authentication field left out. */
  checksumOk(): boolean {
    const b = this.buf, o = this.off;
    const acc = sum16(b, o, AUTH_OFFSET);
    return checksum(b, o + OSPF_HEADER_LEN, this.length - OSPF_HEADER_LEN, acc) === 0;
  }

  // ---- Hello (A.3.2) ----
  get helloMask(): number { return readU32(this.buf, this.off + 24); }
  get helloInterval(): number { return (this.buf[this.off + 28] << 8) | this.buf[this.off + 29]; }
  get helloOptions(): number { return this.buf[this.off + 30]; }
  get priority(): number { return this.buf[this.off + 31]; }
  get deadInterval(): number { return readU32(this.buf, this.off + 32); }
  get designatedRouter(): number { return readU32(this.buf, this.off + 36); }
  get backupDesignatedRouter(): number { return readU32(this.buf, this.off + 40); }
  get neighbourCount(): number { return (this.length - OSPF_HEADER_LEN - HELLO_FIXED_LEN) >>> 2; }
  neighbour(i: number): number { return readU32(this.buf, this.off + 44 + 4 * i); }
  /** Whether the Hello lists `routerId` (uint32) among the neighbours it has heard. */
  listsNeighbour(routerId: number): boolean {
    for (let i = 0; i < this.neighbourCount; i++) if (this.neighbour(i) === routerId) return true;
    return false;
  }

  // ---- Database Description (A.3.3) ----
  get ddMtu(): number { return (this.buf[this.off + 24] << 8) | this.buf[this.off + 25]; }
  get ddOptions(): number { return this.buf[this.off + 26]; }
  get ddFlags(): number { return this.buf[this.off + 27] & 0x07; }
  get ddSequence(): number { return readU32(this.buf, this.off + 28); }
  get ddHeaderCount(): number { return ((this.length - OSPF_HEADER_LEN - DD_FIXED_LEN) / LSA_HEADER_LEN) | 0; }
  /** Absolute offset of the i-th LSA header of a DD packet. */
  ddHeaderOffset(i: number): number { return this.off + 32 + i * LSA_HEADER_LEN; }

  // ---- Link State Request (A.3.4) ----
  get requestCount(): number { return ((this.length - OSPF_HEADER_LEN) / LSR_ENTRY_LEN) | 0; }
  requestType(i: number): number { return readU32(this.buf, this.off + 24 + i * LSR_ENTRY_LEN); }
  requestId(i: number): number { return readU32(this.buf, this.off + 28 + i * LSR_ENTRY_LEN); }
  requestAdvRouter(i: number): number { return readU32(this.buf, this.off + 32 + i * LSR_ENTRY_LEN); }

  // ---- Link State Update (A.3.5) ----
  /** The number of LSAs the update says it carries (each still to be checked against the bytes). */
  get lsaCount(): number { return readU32(this.buf, this.off + 24); }
  /** Absolute offset of the first LSA of an update. */
  get firstLsaOffset(): number { return this.off + 28; }

  // ---- Link State Acknowledgment (A.3.6) ----
  get ackCount(): number { return ((this.length - OSPF_HEADER_LEN) / LSA_HEADER_LEN) | 0; }
  ackOffset(i: number): number { return this.off + 24 + i * LSA_HEADER_LEN; }
}

/** Write the 24-byte header: authentication, checksum and length are filled in by finishPacket(). Returns 24. */
export function writeOspfHeader(buf: Uint8Array, off: number, type: number, routerId: number, areaId: number): number {
  buf[off] = OSPF_VERSION;
  buf[off + 1] = type;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  writeU32(buf, off + 4, routerId);
  writeU32(buf, off + 8, areaId);
  for (let i = 12; i < OSPF_HEADER_LEN; i++) buf[off + i] = 0;
  return OSPF_HEADER_LEN;
}

/** Set the packet length and the checksum (§D.4.1, for null and simple authentication; the auth field must be zero or set after). */
export function finishPacket(buf: Uint8Array, off: number, len: number, auType: number, password?: Uint8Array): void {
  buf[off + 2] = len >>> 8;
  buf[off + 3] = len;
  buf[off + 14] = auType >>> 8;
  buf[off + 15] = auType;
  buf[off + 12] = 0;
  buf[off + 13] = 0;
  if (auType === AuType.CRYPTO) return;
  const acc = sum16(buf, off, AUTH_OFFSET);
  const c = checksum(buf, off + OSPF_HEADER_LEN, len - OSPF_HEADER_LEN, acc);
  buf[off + 12] = c >>> 8;
  buf[off + 13] = c;
  for (let i = 0; i < AUTH_LEN; i++) buf[off + AUTH_OFFSET + i] = password?.[i] ?? 0;
}

/** The cryptographic authentication field (D.3): zero, key id, digest length, sequence number. */
export function writeCryptoAuth(buf: Uint8Array, off: number, keyId: number, digestLen: number, sequence: number): void {
  buf[off + 16] = 0;
  buf[off + 17] = 0;
  buf[off + 18] = keyId;
  buf[off + 19] = digestLen;
  writeU32(buf, off + 20, sequence);
}

export interface HelloFields {
  mask: number;
  helloInterval: number;
  options: number;
  priority: number;
  deadInterval: number;
  dr: number;
  bdr: number;
}

/** Write a Hello body after the header; returns the body length (20 + 4 per neighbour). */
export function writeHelloBody(buf: Uint8Array, off: number, h: HelloFields, neighbours: readonly number[]): number {
  const o = off + OSPF_HEADER_LEN;
  writeU32(buf, o, h.mask);
  buf[o + 4] = h.helloInterval >>> 8;
  buf[o + 5] = h.helloInterval;
  buf[o + 6] = h.options;
  buf[o + 7] = h.priority;
  writeU32(buf, o + 8, h.deadInterval);
  writeU32(buf, o + 12, h.dr);
  writeU32(buf, o + 16, h.bdr);
  for (let i = 0; i < neighbours.length; i++) writeU32(buf, o + 20 + 4 * i, neighbours[i]!);
  return HELLO_FIXED_LEN + 4 * neighbours.length;
}

/** Write the fixed part of a DD body; LSA headers follow at off + 32. Returns 8. */
export function writeDdFixed(buf: Uint8Array, off: number, mtu: number, options: number, flags: number, sequence: number): number {
  const o = off + OSPF_HEADER_LEN;
  buf[o] = mtu >>> 8;
  buf[o + 1] = mtu;
  buf[o + 2] = options;
  buf[o + 3] = flags;
  writeU32(buf, o + 4, sequence);
  return DD_FIXED_LEN;
}

/** Write one Link State Request entry at `at`. Returns 12. */
export function writeRequestEntry(buf: Uint8Array, at: number, type: number, id: number, advRouter: number): number {
  writeU32(buf, at, type);
  writeU32(buf, at + 4, id);
  writeU32(buf, at + 8, advRouter);
  return LSR_ENTRY_LEN;
}
