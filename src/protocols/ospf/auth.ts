// OSPF authentication (RFC 2328 appendix D) on one interface: null, simple
// password (D.2), and cryptographic — keyed MD5 (D.3) and HMAC-SHA (RFC
// 5709) — with a key chain, as RIP's and BFD's: the newest key valid for
// sending signs, any key valid for accepting verifies (found by the key id
// in the packet), so keys roll over without a flap (D.3 allows several keys
// at once for this). A cryptographic packet carries no checksum; its digest
// follows the packet (the OSPF length leaves it out, the IP length counts
// it), and its sequence number must never go down from one neighbour
// (replay protection, D.3), whichever key signed it.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { AuthConfig, OspfAuthType } from '../../config/router-config.js';
import { AUTH_LEN, AUTH_OFFSET, AuType, OspfView, finishPacket, writeCryptoAuth } from '../../wire/ospf.js';
import { KeyChain, type Key } from '../auth/key-chain.js';

/** Why a packet failed authentication. */
export const AuthFailure = {
  OK: 0,
  TYPE_MISMATCH: 1,
  BAD_CHECKSUM: 2,
  BAD_PASSWORD: 3,
  /** No key with the packet's key id may be accepted now (unknown, or outside its accept window). */
  UNKNOWN_KEY: 4,
  BAD_DIGEST_LENGTH: 5,
  BAD_DIGEST: 6,
  OLD_SEQUENCE: 7,
  TRUNCATED: 8,
} as const;

const ALGORITHMS: Record<string, { hash: string; len: number }> = {
  md5: { hash: 'md5', len: 16 },
  'hmac-sha1': { hash: 'sha1', len: 20 },
  'hmac-sha256': { hash: 'sha256', len: 32 },
  'hmac-sha384': { hash: 'sha384', len: 48 },
  'hmac-sha512': { hash: 'sha512', len: 64 },
};

/** RFC 5709 §3.3: the trailer holds Apad (0x878FE1F3 repeated) while the HMAC is computed. */
const APAD = Buffer.alloc(64);
for (let i = 0; i < 64; i += 4) APAD.writeUInt32BE(0x878fe1f3, i);

export class OspfAuth {
  readonly type: OspfAuthType;
  readonly auType: number;
  readonly chain: KeyChain;
  /** Bytes the digest adds after the packet (0 unless cryptographic). */
  readonly trailer: number;
  private readonly algorithm: { hash: string; len: number } | undefined;
  /** The last sequence number sent: the clock's seconds, never less than before (also across a reload: `sequence` carries it over). */
  private sent: number;
  /** The key id of the packet verify() last accepted (cryptographic types), else −1. */
  keyId = -1;

  constructor(readonly config: AuthConfig<OspfAuthType>, sequence = 0) {
    this.type = config.type;
    this.algorithm = ALGORITHMS[config.type];
    this.auType = config.type === 'none' ? AuType.NULL : config.type === 'password' ? AuType.SIMPLE : AuType.CRYPTO;
    this.trailer = this.algorithm?.len ?? 0;
    this.chain = new KeyChain(config.keys);
    this.sent = sequence;
  }

  /** The sequence number last sent (for the instance that replaces this one on a reload). */
  get sequence(): number {
    return this.sent;
  }

  /**
   * Finish the packet at buf[off, off+len): length, AuType, checksum or
   * digest, signed with the key to send with at `now` (epoch ms). Returns the
   * IP payload length (the packet plus any digest), or −1 when the port
   * authenticates and no key may be sent now (nothing goes out).
   */
  sign(buf: Uint8Array, off: number, len: number, now: number): number {
    if (this.auType === AuType.NULL) {
      finishPacket(buf, off, len, AuType.NULL);
      return len;
    }
    const key = this.chain.sendKey(now);
    if (!key) return -1;
    if (this.auType === AuType.SIMPLE) {
      finishPacket(buf, off, len, AuType.SIMPLE, key.secret);
      return len;
    }
    finishPacket(buf, off, len, AuType.CRYPTO);
    this.sent = Math.max(this.sent, Math.floor(now / 1000));
    const alg = this.algorithm!;
    writeCryptoAuth(buf, off, key.id, alg.len, this.sent >>> 0);
    this.digest(key, buf, off, len).copy(buf, off + len);
    return len + alg.len;
  }

  /**
   * Check a received packet (already validated) against the keys that may
   * be accepted at `now`; `lastSequence` is the sender's last cryptographic
   * sequence number, or −1. On success `keyId` holds the packet's key id.
   */
  verify(p: OspfView, now: number, lastSequence: number): number {
    this.keyId = -1;
    if (p.auType !== this.auType) return AuthFailure.TYPE_MISMATCH;
    if (this.auType !== AuType.CRYPTO) {
      if (!p.checksumOk()) return AuthFailure.BAD_CHECKSUM;
      if (this.auType === AuType.SIMPLE) {
        // A password carries no key id: any key in its accept window will do.
        const at = p.off + AUTH_OFFSET;
        for (const k of this.chain.keys) {
          if (this.chain.acceptKey(k.id, now) && samePassword(p.buf, at, k.secret)) return AuthFailure.OK;
        }
        return AuthFailure.BAD_PASSWORD;
      }
      return AuthFailure.OK;
    }
    const alg = this.algorithm!;
    const key = this.chain.acceptKey(p.keyId, now);
    if (!key) return AuthFailure.UNKNOWN_KEY;
    if (p.authDataLength !== alg.len) return AuthFailure.BAD_DIGEST_LENGTH;
    const len = p.length;
    if (len + alg.len > p.len) return AuthFailure.TRUNCATED;
    const expected = this.digest(key, p.buf, p.off, len);
    if (!timingSafeEqual(expected, p.buf.subarray(p.off + len, p.off + len + alg.len))) return AuthFailure.BAD_DIGEST;
    if (lastSequence >= 0 && p.cryptoSequence < lastSequence) return AuthFailure.OLD_SEQUENCE;
    this.keyId = key.id;
    return AuthFailure.OK;
  }

  private digest(key: Key, buf: Uint8Array, off: number, len: number): Buffer {
    const alg = this.algorithm!;
    const packet = buf.subarray(off, off + len);
    if (alg.hash === 'md5') {
      // D.4.3: MD5 over the packet followed by the key, zero-padded to 16 bytes.
      const key16 = Buffer.alloc(16);
      key16.set(key.secret.subarray(0, 16));
      return createHash('md5').update(packet).update(key16).digest();
    }
    // Keys are at most the hash length (config), where RFC 5709's key padding and plain HMAC agree.
    return createHmac(alg.hash, key.secret).update(packet).update(APAD.subarray(0, alg.len)).digest();
  }
}

/** The 8-byte password field against a secret zero-padded to 8 bytes, in constant time. */
function samePassword(buf: Uint8Array, at: number, secret: Uint8Array): boolean {
  let diff = 0;
  for (let i = 0; i < AUTH_LEN; i++) diff |= buf[at + i]! ^ (secret[i] ?? 0);
  return diff === 0;
}

export const AUTH_FAILURE_NAMES: readonly string[] = [
  'ok', 'auth-type-mismatch', 'bad-checksum', 'bad-password', 'unknown-key-id', 'bad-digest-length', 'bad-digest', 'old-crypto-sequence', 'truncated-digest',
];
