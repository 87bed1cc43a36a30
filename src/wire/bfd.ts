// BFD Control packet (RFC 5880 §4.1, no authentication section) as a
// reusable, zero-copy view, its reception checks (§6.8.6) and a writer.
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
  AUTH_UNSUPPORTED: 3,
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
  'auth-unsupported',
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

  /**
   * The RFC 5880 §6.8.6 reception checks that need no session, in the RFC's
   * order. Returns a BfdCheck code. We implement no authentication, so a
   * packet with the A bit is discarded (§6.8.6: "A bit set and no
   * authentication in use").
   */
  validate(): number {
    const b = this.buf, o = this.off;
    if (this.len < BFD_CONTROL_LEN) return BfdCheck.TRUNCATED;
    if (b[o]! >>> 5 !== BFD_VERSION) return BfdCheck.BAD_VERSION;
    const flags = b[o + 1]!;
    if (flags & BfdFlag.AUTH_PRESENT) return BfdCheck.AUTH_UNSUPPORTED;
    const length = b[o + 3]!;
    if (length < BFD_CONTROL_LEN) return BfdCheck.LENGTH_TOO_SHORT;
    if (length > this.len) return BfdCheck.LENGTH_EXCEEDS_DATAGRAM;
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
