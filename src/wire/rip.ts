// RIPv2 messages (RFC 2453 §4) as a reusable, zero-copy view and writers.
//
//  0                   1                   2                   3
// |  command (1)  |  version (1)  |       must be zero (2)        |
// | Address Family Identifier (2) |        Route Tag (2)          |   ┐
// |                         IP Address (4)                        |   │ one route
// |                         Subnet Mask (4)                       |   │ entry,
// |                         Next Hop (4)                          |   │ 1–25 of them
// |                         Metric (4)                            |   ┘
//
// Only version 2 is accepted: RIPv1 (RFC 1058) carries no masks, and every
// peer we meet (BIRD, FRR) speaks v2.
//
// Authentication, when present, is the first entry (AFI 0xffff):
// - a password (RFC 2453 §4.1, type 2): 16 bytes, zero-padded;
// - cryptographic (RFC 4822, type 3): the entry says where the RIP message
//   ends (RIPv2 Packet Length), the key id, the length of the digest, a
//   non-decreasing sequence number; a trailer follows the message:
//
// | 0xffff | type 3 | RIPv2 Packet Length | Key ID | Auth Data Len |   auth entry
// |                      Sequence Number                           |
// |                 reserved, must be zero (8)                     |
// | … route entries …                                              |
// | 0xffff | 0x0001 | Authentication Data (16–64 bytes) …          |   trailer
//
// "Auth Data Len" is the digest's length (RFC 4822) or, in the older
// keyed-MD5 habit that BIRD and FRR keep, the trailer's (digest + 4).
// Here only the layout is checked; the digest is the protocol's business.
//
// Checks come in two layers, as RFC 2453 §3.9.2 has them: validate() judges
// the packet (a failure drops it), checkEntry() one route entry (a failure
// drops only that entry). Nothing here allocates.
import { readU32, writeU32 } from './ipv4.js';
import { PacketView } from './view.js';

export const RIP_PORT = 520;
/** 224.0.0.9, RIP-2 routers (RFC 2453 §4.5). */
export const RIP_MULTICAST = 0xe0000009;
export const RIP_VERSION = 2;
export const RIP_HEADER_LEN = 4;
export const RIP_ENTRY_LEN = 20;
/** RFC 2453 §3.6: a datagram carries at most 25 route entries (512 bytes of RIP). */
export const RIP_MAX_ENTRIES = 25;
export const RIP_MAX_LEN = RIP_HEADER_LEN + RIP_MAX_ENTRIES * RIP_ENTRY_LEN;
/** Unreachable (RFC 2453 §3.6). */
export const RIP_INFINITY = 16;
export const AFI_INET = 2;
export const AFI_AUTH = 0xffff;
/** Authentication types of the auth entry. */
export const RipAuthType = { PASSWORD: 2, CRYPTO: 3 } as const;
/** RFC 2453 §4.1: the password field. */
export const RIP_PASSWORD_LEN = 16;
/** The trailer's 0xffff 0x0001 before the authentication data (RFC 4822). */
export const RIP_TRAILER_HEADER_LEN = 4;
/** The longest digest (HMAC-SHA-512). */
export const RIP_MAX_DIGEST_LEN = 64;
/** Room for the longest message: 504 bytes and the longest trailer. */
export const RIP_MAX_AUTH_LEN = RIP_HEADER_LEN + RIP_MAX_ENTRIES * RIP_ENTRY_LEN + RIP_TRAILER_HEADER_LEN + RIP_MAX_DIGEST_LEN;

export const RipCommand = { REQUEST: 1, RESPONSE: 2 } as const;

/** Outcome of validate() and checkEntry(). */
export const RipCheck = {
  OK: 0,
  // packet
  TRUNCATED: 1,
  BAD_VERSION: 2,
  BAD_COMMAND: 3,
  BAD_LENGTH: 4,
  TOO_MANY_ENTRIES: 5,
  /** An auth entry of an unknown type, a packet length that does not fit, no trailer where it says. */
  AUTH_MALFORMED: 6,
  // entry
  BAD_AFI: 7,
  BAD_METRIC: 8,
  BAD_MASK: 9,
  HOST_BITS_SET: 10,
  BAD_ADDRESS: 11,
} as const;

/** Indexed by RipCheck codes, for logs and counters. */
export const RIP_CHECK_NAMES: readonly string[] = [
  'ok', 'truncated', 'bad-version', 'bad-command', 'bad-length', 'too-many-entries', 'auth-malformed',
  'bad-afi', 'bad-metric', 'bad-mask', 'host-bits-set', 'bad-address',
];

/**
 * Prefix length of a netmask, or −1 if the mask is not contiguous
 * (ones then zeros).
 */
export function maskLength(mask: number): number {
  const inv = ~mask >>> 0;
  // Contiguous iff the inverted mask is 2^k − 1.
  if ((inv & (inv + 1)) !== 0) return -1;
  let len = 32;
  for (let v = inv; v !== 0; v >>>= 1) len--;
  return len;
}

/** A RIPv2 message; `len` is the UDP payload length. */
export class RipView extends PacketView {
  /** The message without an RFC 4822 trailer (set by validate()). */
  bodyLen = 0;

  override attach(buf: Uint8Array, off: number, len: number): this {
    super.attach(buf, off, len);
    this.bodyLen = len;
    return this;
  }

  get command(): number { return this.buf[this.off]; }
  get version(): number { return this.buf[this.off + 1]; }
  /** Entries carried, the auth entry included (valid after validate() said OK). */
  get entryCount(): number { return ((this.bodyLen - RIP_HEADER_LEN) / RIP_ENTRY_LEN) | 0; }
  /** The first entry is an auth entry (AFI 0xffff). */
  get hasAuthEntry(): boolean {
    return this.len >= RIP_HEADER_LEN + RIP_ENTRY_LEN && this.afi(0) === AFI_AUTH;
  }
  /** The auth entry's type (RipAuthType; validate() refuses others), or 0 when there is none. */
  get authType(): number {
    return this.hasAuthEntry ? this.routeTag(0) : 0;
  }
  /** The first route entry: 1 after an auth entry. */
  get firstRoute(): number { return this.hasAuthEntry ? 1 : 0; }
  // The cryptographic auth entry (RFC 4822 §2.1).
  get authPacketLength(): number { return (this.buf[this.off + 8] << 8) | this.buf[this.off + 9]; }
  get authKeyId(): number { return this.buf[this.off + 10]; }
  get authDataLen(): number { return this.buf[this.off + 11]; }
  get authSequence(): number { return readU32(this.buf, this.off + 12); }
  /** Where the trailer's authentication data starts (absolute offset), and how long it is. */
  get digestOffset(): number { return this.off + this.bodyLen + RIP_TRAILER_HEADER_LEN; }
  get digestLength(): number { return this.len - this.bodyLen - RIP_TRAILER_HEADER_LEN; }
  /** The password of a type-2 auth entry starts here (absolute offset); 16 bytes. */
  get passwordOffset(): number { return this.off + 8; }

  /** Absolute offset of entry i. */
  entryOffset(i: number): number { return this.off + RIP_HEADER_LEN + i * RIP_ENTRY_LEN; }
  afi(i: number): number { const o = this.entryOffset(i); return (this.buf[o] << 8) | this.buf[o + 1]; }
  routeTag(i: number): number { const o = this.entryOffset(i); return (this.buf[o + 2] << 8) | this.buf[o + 3]; }
  address(i: number): number { return readU32(this.buf, this.entryOffset(i) + 4); }
  mask(i: number): number { return readU32(this.buf, this.entryOffset(i) + 8); }
  nextHop(i: number): number { return readU32(this.buf, this.entryOffset(i) + 12); }
  metric(i: number): number { return readU32(this.buf, this.entryOffset(i) + 16); }
  /** Overwrite entry i's metric (answering a specific Request in place, §3.9.1). */
  setMetric(i: number, metric: number): void { writeU32(this.buf, this.entryOffset(i) + 16, metric); }

  /**
   * §3.9.1: one entry, AFI 0, metric 16 asks for the whole table
   * (what BIRD and FRR send at start).
   */
  get isWholeTableRequest(): boolean {
    const i = this.firstRoute;
    return this.command === RipCommand.REQUEST && this.entryCount === i + 1 &&
      this.afi(i) === 0 && this.metric(i) === RIP_INFINITY;
  }

  /** Packet-level checks; returns a RipCheck code. */
  validate(): number {
    const b = this.buf, o = this.off, len = this.len;
    if (len < RIP_HEADER_LEN || o + len > b.length) return RipCheck.TRUNCATED;
    if (b[o + 1] !== RIP_VERSION) return RipCheck.BAD_VERSION;
    const cmd = b[o];
    if (cmd !== RipCommand.REQUEST && cmd !== RipCommand.RESPONSE) return RipCheck.BAD_COMMAND;
    // RFC 2453 §4.1: authentication, if present, is the first entry.
    const auth = this.authType;
    if (auth === RipAuthType.CRYPTO) {
      // The message ends where the auth entry says; the trailer follows it.
      const body = this.authPacketLength;
      if (body < RIP_HEADER_LEN + RIP_ENTRY_LEN || body + RIP_TRAILER_HEADER_LEN >= len) return RipCheck.AUTH_MALFORMED;
      if (readU32(b, o + body) !== 0xffff0001) return RipCheck.AUTH_MALFORMED;
      if (len - body - RIP_TRAILER_HEADER_LEN > RIP_MAX_DIGEST_LEN) return RipCheck.AUTH_MALFORMED;
      this.bodyLen = body;
    } else if (this.hasAuthEntry && auth !== RipAuthType.PASSWORD) {
      return RipCheck.AUTH_MALFORMED;
    }
    const body = this.bodyLen;
    if ((body - RIP_HEADER_LEN) % RIP_ENTRY_LEN !== 0) return RipCheck.BAD_LENGTH;
    if (body > RIP_MAX_LEN) return RipCheck.TOO_MANY_ENTRIES;
    return RipCheck.OK;
  }

  /**
   * §3.9.2 checks of one route entry of a Response: AFI 2, metric 1–16, a
   * contiguous mask, no host bits, and an address that can be a destination
   * (not 0/8 except the default route, not 127/8, not class D or E).
   */
  checkEntry(i: number): number {
    if (this.afi(i) !== AFI_INET) return RipCheck.BAD_AFI;
    const metric = this.metric(i);
    if (metric < 1 || metric > RIP_INFINITY) return RipCheck.BAD_METRIC;
    const mask = this.mask(i);
    const len = maskLength(mask);
    if (len < 0) return RipCheck.BAD_MASK;
    const addr = this.address(i);
    if ((addr & ~mask) !== 0) return RipCheck.HOST_BITS_SET;
    const top = addr >>> 24;
    if ((top === 0 && len !== 0) || top === 127 || top >= 224) return RipCheck.BAD_ADDRESS;
    return RipCheck.OK;
  }
}

/** Write the 4-byte header. Returns 4. */
export function writeRipHeader(buf: Uint8Array, off: number, command: number): number {
  buf[off] = command;
  buf[off + 1] = RIP_VERSION;
  buf[off + 2] = 0;
  buf[off + 3] = 0;
  return RIP_HEADER_LEN;
}

/** Write one route entry (AFI 2) for prefix/len. Returns 20. */
export function writeRipEntry(
  buf: Uint8Array, off: number, prefix: number, len: number, nextHop: number, metric: number, routeTag = 0,
): number {
  buf[off] = 0;
  buf[off + 1] = AFI_INET;
  buf[off + 2] = routeTag >>> 8;
  buf[off + 3] = routeTag;
  writeU32(buf, off + 4, prefix);
  writeU32(buf, off + 8, len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
  writeU32(buf, off + 12, nextHop);
  writeU32(buf, off + 16, metric);
  return RIP_ENTRY_LEN;
}

/**
 * The whole-table Request (§3.9.1): one entry, AFI 0, metric 16, written
 * `gap` bytes after the header (room for an auth entry). Returns 24 + gap.
 */
export function writeWholeTableRequest(buf: Uint8Array, off: number, gap = 0): number {
  writeRipHeader(buf, off, RipCommand.REQUEST);
  const e = off + RIP_HEADER_LEN + gap;
  for (let i = 0; i < 16; i++) buf[e + i] = 0;
  writeU32(buf, e + 16, RIP_INFINITY);
  return RIP_HEADER_LEN + gap + RIP_ENTRY_LEN;
}

/** A password auth entry (RFC 2453 §4.1) at buf[off]: the secret's bytes, zero-padded to 16. Returns 20. */
export function writeRipPasswordEntry(buf: Uint8Array, off: number, password: Uint8Array): number {
  buf[off] = 0xff;
  buf[off + 1] = 0xff;
  buf[off + 2] = 0;
  buf[off + 3] = RipAuthType.PASSWORD;
  for (let i = 0; i < RIP_PASSWORD_LEN; i++) buf[off + 4 + i] = password[i] ?? 0;
  return RIP_ENTRY_LEN;
}

/** A cryptographic auth entry (RFC 4822 §2.1) at buf[off]. Returns 20. */
export function writeRipCryptoEntry(
  buf: Uint8Array, off: number, packetLen: number, keyId: number, authDataLen: number, sequence: number,
): number {
  buf[off] = 0xff;
  buf[off + 1] = 0xff;
  buf[off + 2] = 0;
  buf[off + 3] = RipAuthType.CRYPTO;
  buf[off + 4] = packetLen >>> 8;
  buf[off + 5] = packetLen;
  buf[off + 6] = keyId;
  buf[off + 7] = authDataLen;
  writeU32(buf, off + 8, sequence);
  writeU32(buf, off + 12, 0);
  writeU32(buf, off + 16, 0);
  return RIP_ENTRY_LEN;
}

/** The trailer's header (0xffff, 0x0001) at buf[off]; the authentication data follows it. Returns 4. */
export function writeRipTrailerHeader(buf: Uint8Array, off: number): number {
  writeU32(buf, off, 0xffff0001);
  return RIP_TRAILER_HEADER_LEN;
}
