// RIPv2 authentication on one port: the simple password of RFC 2453 §4.1,
// and RFC 4822's cryptographic authentication — keyed MD5 (RFC 2082's
// digest: MD5 over the message, the trailer's header and the key padded to
// 16 bytes) and HMAC-SHA-1/-256/-384/-512 (HMAC over the message, the
// trailer's header and Apad) — with a key chain and sequence numbers.
//
// Interoperability, as BIRD 2 and FRR ripd do it:
// - "Auth Data Len" is sent as the digest length for HMAC and as digest + 4
//   for keyed MD5 (both BIRD and FRR's default `auth-length old-ripd`); both
//   readings are accepted.
// - The sequence number sent is the clock's seconds, never less than the
//   last one sent (BIRD does the same): one update's datagrams share it,
//   and a restarted router starts above where it left off. Received ones
//   must not decrease (RFC 4822 §3.2) while the neighbour is up; one that
//   timed out may start again lower (FRR counts from 1 after a restart).
// - Datagrams stay within 504 bytes, trailer included (RFC 2453's 25
//   entries; BIRD 2.0.12 refuses a 544-byte one): fewer route entries per
//   datagram with longer digests.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthConfig, RipAuthType } from '../../config/router-config.js';
import {
  RIP_ENTRY_LEN, RIP_HEADER_LEN, RIP_MAX_LEN, RIP_PASSWORD_LEN, RIP_TRAILER_HEADER_LEN, RipAuthType as Wire, type RipView,
  writeRipCryptoEntry, writeRipPasswordEntry, writeRipTrailerHeader,
} from '../../wire/rip.js';
import { KeyChain, type Key } from '../auth/key-chain.js';

/** Hash name for node:crypto and digest length, per cryptographic type. */
const DIGESTS: Record<string, { hash: string; len: number; hmac: boolean }> = {
  md5: { hash: 'md5', len: 16, hmac: false },
  'hmac-sha1': { hash: 'sha1', len: 20, hmac: true },
  'hmac-sha256': { hash: 'sha256', len: 32, hmac: true },
  'hmac-sha384': { hash: 'sha384', len: 48, hmac: true },
  'hmac-sha512': { hash: 'sha512', len: 64, hmac: true },
};

/** RFC 4822 §2.5: the authentication data holds Apad while the HMAC is computed. */
const APAD = Buffer.alloc(64);
for (let i = 0; i < 64; i += 4) APAD.writeUInt32BE(0x878fe1f3, i);

/** Why an authenticated port refused a packet (each a RipDrop reason). */
export const AuthFailure = {
  /** The port authenticates; the packet carries nothing. */
  MISSING: 1,
  /** The packet carries authentication and the port has none configured (RFC 2453 §4.1: discard). */
  NOT_CONFIGURED: 2,
  /** A password where a digest is expected, or the other way round. */
  WRONG_TYPE: 3,
  /** No key with that id is valid now. */
  UNKNOWN_KEY: 4,
  /** Auth Data Len or the digest's length is not the algorithm's. */
  BAD_LENGTH: 5,
  /** The digest or the password does not match. */
  BAD_DIGEST: 6,
  /** The sequence number went back (a replay). */
  OLD_SEQUENCE: 7,
} as const;

export class RipAuth {
  readonly type: RipAuthType;
  readonly chain: KeyChain;
  /** The sequence number last sent. */
  private sent = 0;
  private readonly digest: { hash: string; len: number; hmac: boolean } | undefined;
  /** The sequence number of the packet verify() last accepted (cryptographic types), else −1. */
  sequence = -1;

  constructor(readonly config: AuthConfig<RipAuthType>) {
    this.type = config.type;
    this.chain = new KeyChain(config.keys);
    this.digest = DIGESTS[config.type];
  }

  get enabled(): boolean {
    return this.type !== 'none';
  }

  /** Bytes before the route entries: the header, and the auth entry if any. */
  get entriesOffset(): number {
    return RIP_HEADER_LEN + (this.enabled ? RIP_ENTRY_LEN : 0);
  }

  /** Bytes after the route entries (the RFC 4822 trailer). */
  get trailerLength(): number {
    return this.digest ? RIP_TRAILER_HEADER_LEN + this.digest.len : 0;
  }

  /** Route entries per datagram: 25, fewer with authentication (504 bytes in all). */
  get maxEntries(): number {
    return Math.floor((RIP_MAX_LEN - this.entriesOffset - this.trailerLength) / RIP_ENTRY_LEN);
  }

  /**
   * The message is written at buf[off…off+bodyLen) with room left for the
   * auth entry (entriesOffset) and the trailer: fill them in. Returns the
   * datagram's length, or −1 when no key may be sent now (nothing goes out).
   */
  sign(buf: Uint8Array, off: number, bodyLen: number, now: number): number {
    if (!this.enabled) return bodyLen;
    const key = this.chain.sendKey(now);
    if (!key) return -1;
    const entry = off + RIP_HEADER_LEN;
    if (this.type === 'password') {
      writeRipPasswordEntry(buf, entry, key.secret);
      return bodyLen;
    }
    const d = this.digest!;
    this.sent = Math.max(this.sent, Math.floor(now / 1000));
    writeRipCryptoEntry(buf, entry, bodyLen, key.id, d.hmac ? d.len : d.len + RIP_TRAILER_HEADER_LEN, this.sent >>> 0);
    writeRipTrailerHeader(buf, off + bodyLen);
    const at = off + bodyLen + RIP_TRAILER_HEADER_LEN;
    this.mac(key, buf.subarray(off, at)).copy(buf, at);
    return bodyLen + RIP_TRAILER_HEADER_LEN + d.len;
  }

  /**
   * Check a packet validate() accepted, against the keys valid at `now`
   * and `lastSequence` (the neighbour's last accepted one, or −1 when none
   * counts). Returns 0, or an AuthFailure; `sequence` holds the packet's.
   */
  verify(rip: RipView, now: number, lastSequence: number): number {
    this.sequence = -1;
    const wire = rip.authType;
    if (!this.enabled) return wire === 0 ? 0 : AuthFailure.NOT_CONFIGURED;
    if (wire === 0) return AuthFailure.MISSING;
    if (this.type === 'password') {
      if (wire !== Wire.PASSWORD) return AuthFailure.WRONG_TYPE;
      const got = rip.buf.subarray(rip.passwordOffset, rip.passwordOffset + RIP_PASSWORD_LEN);
      for (const k of this.chain.acceptable(now)) {
        const want = new Uint8Array(RIP_PASSWORD_LEN);
        want.set(k.secret.subarray(0, RIP_PASSWORD_LEN));
        if (timingSafeEqual(got, want)) return 0;
      }
      return AuthFailure.BAD_DIGEST;
    }
    if (wire !== Wire.CRYPTO) return AuthFailure.WRONG_TYPE;
    const d = this.digest!;
    const key = this.chain.acceptKey(rip.authKeyId, now);
    if (!key) return AuthFailure.UNKNOWN_KEY;
    const stated = rip.authDataLen;
    if ((stated !== d.len && stated !== d.len + RIP_TRAILER_HEADER_LEN) || rip.digestLength !== d.len) return AuthFailure.BAD_LENGTH;
    const seq = rip.authSequence;
    if (lastSequence >= 0 && seq < lastSequence) return AuthFailure.OLD_SEQUENCE;
    const want = this.mac(key, rip.buf.subarray(rip.off, rip.digestOffset));
    if (!timingSafeEqual(want, rip.buf.subarray(rip.digestOffset, rip.digestOffset + d.len))) return AuthFailure.BAD_DIGEST;
    this.sequence = seq;
    return 0;
  }

  /** The digest of `signed` (message and trailer header) with `key`: keyed MD5 (key in the data field) or HMAC (Apad there). */
  private mac(key: Key, signed: Uint8Array): Buffer {
    const d = this.digest!;
    if (!d.hmac) {
      const padded = Buffer.alloc(d.len);
      padded.set(key.secret.subarray(0, d.len));
      return createHash(d.hash).update(signed).update(padded).digest();
    }
    return createHmac(d.hash, key.secret).update(signed).update(APAD.subarray(0, d.len)).digest();
  }
}
