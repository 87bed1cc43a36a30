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
// peer we meet (BIRD, FRR) speaks v2. Authentication (AFI 0xffff, RFC 2453
// §4.1 / RFC 4822) is not supported: such packets are dropped whole, as a
// router without authentication configured must not trust them either.
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
  AUTH_UNSUPPORTED: 6,
  // entry
  BAD_AFI: 7,
  BAD_METRIC: 8,
  BAD_MASK: 9,
  HOST_BITS_SET: 10,
  BAD_ADDRESS: 11,
} as const;

/** Indexed by RipCheck codes, for logs and counters. */
export const RIP_CHECK_NAMES: readonly string[] = [
  'ok', 'truncated', 'bad-version', 'bad-command', 'bad-length', 'too-many-entries', 'auth-unsupported',
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
  get command(): number { return this.buf[this.off]; }
  get version(): number { return this.buf[this.off + 1]; }
  /** Route entries carried (valid after validate() said OK). */
  get entryCount(): number { return ((this.len - RIP_HEADER_LEN) / RIP_ENTRY_LEN) | 0; }

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
    return this.command === RipCommand.REQUEST && this.len === RIP_HEADER_LEN + RIP_ENTRY_LEN &&
      this.afi(0) === 0 && this.metric(0) === RIP_INFINITY;
  }

  /** Packet-level checks; returns a RipCheck code. */
  validate(): number {
    const b = this.buf, o = this.off, len = this.len;
    if (len < RIP_HEADER_LEN || o + len > b.length) return RipCheck.TRUNCATED;
    if (b[o + 1] !== RIP_VERSION) return RipCheck.BAD_VERSION;
    const cmd = b[o];
    if (cmd !== RipCommand.REQUEST && cmd !== RipCommand.RESPONSE) return RipCheck.BAD_COMMAND;
    if ((len - RIP_HEADER_LEN) % RIP_ENTRY_LEN !== 0) return RipCheck.BAD_LENGTH;
    if (len > RIP_MAX_LEN) return RipCheck.TOO_MANY_ENTRIES;
    // RFC 2453 §4.1: authentication, if present, is the first entry.
    if (len > RIP_HEADER_LEN && ((b[o + 4] << 8) | b[o + 5]) === AFI_AUTH) return RipCheck.AUTH_UNSUPPORTED;
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

/** The whole-table Request (§3.9.1): one entry, AFI 0, metric 16. Returns 24. */
export function writeWholeTableRequest(buf: Uint8Array, off: number): number {
  writeRipHeader(buf, off, RipCommand.REQUEST);
  const e = off + RIP_HEADER_LEN;
  for (let i = 0; i < 16; i++) buf[e + i] = 0;
  writeU32(buf, e + 16, RIP_INFINITY);
  return RIP_HEADER_LEN + RIP_ENTRY_LEN;
}
