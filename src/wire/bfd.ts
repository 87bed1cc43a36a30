// BFD Control packet (RFC 5880 §4.1) as a reusable, zero-copy view, its
// reception checks (§6.8.6) and writers, with the optional authentication
// section (§4.2–4.4) that follows the 24 bytes when the A bit is set:
//
// | Auth Type | Auth Len  |  Key ID   | Password (1–16) …                simple (§4.2)
// | Auth Type | Auth Len  |  Key ID   | Reserved  |                      keyed MD5 / SHA1,
// |                  Sequence Number                  |                  meticulous or not
// |      Digest (16, MD5) or Hash (20, SHA1) …        |                  (§4.3, §4.4)
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// | Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
// |                       My Discriminator                        |
// |                      Your Discriminator                       |
// |                    Desired Min TX Interval                    |
// |                   Required Min RX Interval                    |
// |                 Required Min Echo RX Interval                 |
//
// Intervals are in microseconds, as on the wire. A view is attach()ed to
// (buf, off, len) and reused for every packet; no method allocates.

import { readU32, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const BFD_VERSION = 1;
/** Length of a Control packet without an authentication section. */
export const BFD_CONTROL_LEN = 24;
/** The longest authentication section (keyed SHA1: 8 + 20). */
export const BFD_MAX_AUTH_LEN = 28;

/** Auth Type (RFC 5880 §4.1). */
export const BfdAuthCode = {
  SIMPLE: 1,
  KEYED_MD5: 2,
  METICULOUS_KEYED_MD5: 3,
  KEYED_SHA1: 4,
  METICULOUS_KEYED_SHA1: 5,
} as const;
/** Bytes of a keyed section before the digest: type, length, key id, reserved, sequence number. */
export const BFD_KEYED_HEADER_LEN = 8;
/** RFC 5881 §4: single-hop Control packets go to this UDP port. */
export const BFD_CONTROL_PORT = 3784;
/** RFC 5881 §4: the source port of a session is taken from this range. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;

/** Session states (RFC 5880 §4.1 "Sta"). */
export const BfdStateCode = { ADMIN_DOWN: 0, DOWN: 1, INIT: 2, UP: 3 } as const;
/** Indexed by state code; the names NeighbourLiveness uses. */
export const STATE_NAMES = ['AdminDown', 'Down', 'Init', 'Up'] as const;

/** Diagnostic codes (RFC 5880 §4.1 "Diag"). */
export const Diag = {
  NONE: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_SESSION_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;

/** Indexed by diagnostic code; 9–31 are reserved. */
export const DIAG_NAMES: readonly string[] = [
  'none',
  'control-detection-time-expired',
  'echo-function-failed',
  'neighbor-signaled-session-down',
  'forwarding-plane-reset',
  'path-down',
  'concatenated-path-down',
  'administratively-down',
  'reverse-concatenated-path-down',
];

export function diagName(code: number): string {
  return DIAG_NAMES[code] ?? `reserved-${code}`;
}

/** Flag bits of byte 1 (below the two state bits). */
export const BfdFlag = {
  POLL: 0x20,
  FINAL: 0x10,
  CONTROL_PLANE_INDEPENDENT: 0x08,
  AUTH_PRESENT: 0x04,
  DEMAND: 0x02,
  MULTIPOINT: 0x01,
} as const;

/** Results of validate(): the RFC 5880 §6.8.6 checks that need no session. */
export const BfdCheck = {
  OK: 0,
  TRUNCATED: 1,
  BAD_VERSION: 2,
  /** The A bit with a Length under 26, or an authentication section that does not fit in it. */
  AUTH_MALFORMED: 3,
  LENGTH_TOO_SHORT: 4,
  LENGTH_EXCEEDS_DATAGRAM: 5,
  ZERO_DETECT_MULT: 6,
  MULTIPOINT: 7,
  ZERO_MY_DISCRIMINATOR: 8,
  ZERO_YOUR_DISCRIMINATOR: 9,
} as const;

/** Indexed by BfdCheck codes, for counters. */
export const BFD_CHECK_NAMES: readonly string[] = [
  'ok',
  'truncated',
  'bad-version',
  'auth-malformed',
  'length-too-short',
  'length-exceeds-datagram',
  'zero-detect-mult',
  'multipoint',
  'zero-my-discriminator',
  'zero-your-discriminator-not-down',
];

/** A BFD control packet; `len` is the UDP payload length. */
export class BfdControlView extends PacketView {
  get version(): number { return this.buf[this.off]! >>> 5; }
  get diag(): number { return this.buf[this.off]! & 0x1f; }
  get state(): number { return this.buf[this.off + 1]! >>> 6; }
  get poll(): boolean { return (this.buf[this.off + 1]! & BfdFlag.POLL) !== 0; }
  get final(): boolean { return (this.buf[this.off + 1]! & BfdFlag.FINAL) !== 0; }
  get cpi(): boolean { return (this.buf[this.off + 1]! & BfdFlag.CONTROL_PLANE_INDEPENDENT) !== 0; }
  get authPresent(): boolean { return (this.buf[this.off + 1]! & BfdFlag.AUTH_PRESENT) !== 0; }
  get demand(): boolean { return (this.buf[this.off + 1]! & BfdFlag.DEMAND) !== 0; }
  get multipoint(): boolean { return (this.buf[this.off + 1]! & BfdFlag.MULTIPOINT) !== 0; }
  get detectMult(): number { return this.buf[this.off + 2]!; }
  get length(): number { return this.buf[this.off + 3]!; }
  get myDiscriminator(): number { return readU32(this.buf, this.off + 4); }
  get yourDiscriminator(): number { return readU32(this.buf, this.off + 8); }
  /** µs */
  get desiredMinTx(): number { return readU32(this.buf, this.off + 12); }
  /** µs */
  get requiredMinRx(): number { return readU32(this.buf, this.off + 16); }
  /** µs */
  get requiredMinEchoRx(): number { return readU32(this.buf, this.off + 20); }
  // The authentication section (valid when authPresent and validate() said OK).
  get authType(): number { return this.buf[this.off + 24]!; }
  get authLen(): number { return this.buf[this.off + 25]!; }
  get authKeyId(): number { return this.buf[this.off + 26]!; }
  /** Keyed types' sequence number. */
  get authSequence(): number { return readU32(this.buf, this.off + 28); }
  /** Absolute offset of a simple password; of a keyed digest. */
  get passwordOffset(): number { return this.off + 27; }
  get digestOffset(): number { return this.off + BFD_CONTROL_LEN + BFD_KEYED_HEADER_LEN; }

  /**
   * The RFC 5880 §6.8.6 reception checks that need no session, in the RFC's
   * order. Returns a BfdCheck code. An authentication section must fit in
   * the packet; whether it authenticates is the session's business.
   */
  validate(): number {
    const b = this.buf, o = this.off;
    if (this.len < BFD_CONTROL_LEN) return BfdCheck.TRUNCATED;
    if (b[o]! >>> 5 !== BFD_VERSION) return BfdCheck.BAD_VERSION;
    const flags = b[o + 1]!;
    const length = b[o + 3]!;
    if (length < BFD_CONTROL_LEN) return BfdCheck.LENGTH_TOO_SHORT;
    if (length > this.len) return BfdCheck.LENGTH_EXCEEDS_DATAGRAM;
    // §6.8.6: with the A bit, at least 26 bytes, and the section within Length.
    if (flags & BfdFlag.AUTH_PRESENT) {
      if (length < BFD_CONTROL_LEN + 2) return BfdCheck.AUTH_MALFORMED;
      const authLen = b[o + 25]!;
      if (authLen < 3 || BFD_CONTROL_LEN + authLen > length) return BfdCheck.AUTH_MALFORMED;
    }
    if (b[o + 2] === 0) return BfdCheck.ZERO_DETECT_MULT;
    if (flags & BfdFlag.MULTIPOINT) return BfdCheck.MULTIPOINT;
    if (readU32(b, o + 4) === 0) return BfdCheck.ZERO_MY_DISCRIMINATOR;
    const state = flags >>> 6;
    if (readU32(b, o + 8) === 0 && state !== BfdStateCode.DOWN && state !== BfdStateCode.ADMIN_DOWN) {
      return BfdCheck.ZERO_YOUR_DISCRIMINATOR;
    }
    return BfdCheck.OK;
  }
}

/**
 * Write a 24-byte Control packet (version 1, no authentication) at buf[off].
 * `flags` is a sum of BfdFlag bits; intervals are in µs. Returns 24.
 */
export function writeBfdControl(
  buf: Uint8Array, off: number, state: number, diag: number, flags: number, detectMult: number,
  myDiscriminator: number, yourDiscriminator: number,
  desiredMinTx: number, requiredMinRx: number, requiredMinEchoRx: number,
): number {
  buf[off] = (BFD_VERSION << 5) | (diag & 0x1f);
  buf[off + 1] = ((state & 3) << 6) | (flags & 0x3f);
  buf[off + 2] = detectMult;
  buf[off + 3] = BFD_CONTROL_LEN;
  writeU32(buf, off + 4, myDiscriminator);
  writeU32(buf, off + 8, yourDiscriminator);
  writeU32(buf, off + 12, desiredMinTx);
  writeU32(buf, off + 16, requiredMinRx);
  writeU32(buf, off + 20, requiredMinEchoRx);
  return BFD_CONTROL_LEN;
}

/** A simple-password section (§4.2) after the 24 bytes at buf[off]; sets the A bit and Length. Returns the packet's length. */
export function writeBfdSimpleAuth(buf: Uint8Array, off: number, keyId: number, password: Uint8Array): number {
  const at = off + BFD_CONTROL_LEN;
  const len = 3 + password.length;
  buf[at] = BfdAuthCode.SIMPLE;
  buf[at + 1] = len;
  buf[at + 2] = keyId;
  buf.set(password, at + 3);
  buf[off + 1]! |= BfdFlag.AUTH_PRESENT;
  buf[off + 3] = BFD_CONTROL_LEN + len;
  return BFD_CONTROL_LEN + len;
}

/**
 * A keyed MD5/SHA1 section (§4.3, §4.4) after the 24 bytes at buf[off],
 * its digest field left for the caller; sets the A bit and Length.
 * Returns the packet's length.
 */
export function writeBfdKeyedAuth(buf: Uint8Array, off: number, type: number, keyId: number, sequence: number, digestLen: number): number {
  const at = off + BFD_CONTROL_LEN;
  const len = BFD_KEYED_HEADER_LEN + digestLen;
  buf[at] = type;
  buf[at + 1] = len;
  buf[at + 2] = keyId;
  buf[at + 3] = 0;
  writeU32(buf, at + 4, sequence);
  buf[off + 1]! |= BfdFlag.AUTH_PRESENT;
  buf[off + 3] = BFD_CONTROL_LEN + len;
  return BFD_CONTROL_LEN + len;
}
