// OSPF authentication (RFC 2328 appendix D): null, simple password, and
// cryptographic — keyed MD5 (D.3) and HMAC-SHA (RFC 5709). A cryptographic
// packet carries no checksum; its digest follows the packet (the OSPF length
// leaves it out, the IP length counts it), and its sequence number must never
// go down from one neighbour (replay protection, D.3).
import { createHash, createHmac } from 'node:crypto';
import type { OspfAuthConfig } from '../../config/router-config.js';
import { AUTH_LEN, AUTH_OFFSET, AuType, OspfView, finishPacket, writeCryptoAuth } from '../../wire/ospf.js';

/** Why a packet failed authentication. */
export const AuthFailure = {
  OK: 0,
  TYPE_MISMATCH: 1,
  BAD_CHECKSUM: 2,
  BAD_PASSWORD: 3,
  UNKNOWN_KEY: 4,
  BAD_DIGEST_LENGTH: 5,
  BAD_DIGEST: 6,
  OLD_SEQUENCE: 7,
  TRUNCATED: 8,
} as const;

const ALGORITHMS: Record<string, { hash: string; len: number }> = {
  md5: { hash: 'md5', len: 16 },
  'hmac-sha-1': { hash: 'sha1', len: 20 },
  'hmac-sha-256': { hash: 'sha256', len: 32 },
  'hmac-sha-384': { hash: 'sha384', len: 48 },
  'hmac-sha-512': { hash: 'sha512', len: 64 },
};

/** RFC 5709 §3.3: the trailer holds Apad (0x878FE1F3 repeated) while the HMAC is computed. */
const APAD = Buffer.alloc(64);
for (let i = 0; i < 64; i += 4) APAD.writeUInt32BE(0x878fe1f3, i);

export class OspfAuth {
  readonly auType: number;
  /** Bytes the digest adds after the packet (0 unless cryptographic). */
  readonly trailer: number;
  private readonly key: Buffer;
  private readonly algorithm: { hash: string; len: number } | undefined;
  /** The last sequence number we sent (non-decreasing across restarts: it follows the clock). */
  private sequence = 0;

  constructor(readonly config: OspfAuthConfig) {
    this.algorithm = ALGORITHMS[config.type];
    this.auType = config.type === 'null' ? AuType.NULL : config.type === 'simple' ? AuType.SIMPLE : AuType.CRYPTO;
    this.trailer = this.algorithm?.len ?? 0;
    this.key = Buffer.from(config.key, 'utf8');
  }

  /**
   * Finish the packet at buf[off, off+len): length, AuType, checksum or
   * digest. Returns the IP payload length (the packet plus any digest).
   */
  sign(buf: Uint8Array, off: number, len: number, nowMs: number): number {
    if (this.auType !== AuType.CRYPTO) {
      finishPacket(buf, off, len, this.auType, this.auType === AuType.SIMPLE ? this.key : undefined);
      return len;
    }
    finishPacket(buf, off, len, AuType.CRYPTO);
    this.sequence = Math.max(this.sequence, Math.floor(nowMs / 1000));
    const alg = this.algorithm!;
    writeCryptoAuth(buf, off, this.config.keyId, alg.len, this.sequence);
    const digest = this.digest(buf, off, len);
    buf.set(digest, off + len);
    return len + alg.len;
  }

  /** Check a received packet (already validated); `lastSequence` is the sender's last cryptographic sequence number, or −1. */
  verify(p: OspfView, lastSequence: number): number {
    if (p.auType !== this.auType) return AuthFailure.TYPE_MISMATCH;
    if (this.auType !== AuType.CRYPTO) {
      if (!p.checksumOk()) return AuthFailure.BAD_CHECKSUM;
      if (this.auType === AuType.SIMPLE) {
        for (let i = 0; i < AUTH_LEN; i++) if (p.buf[p.off + AUTH_OFFSET + i] !== (this.key[i] ?? 0)) return AuthFailure.BAD_PASSWORD;
      }
      return AuthFailure.OK;
    }
    const alg = this.algorithm!;
    if (p.keyId !== this.config.keyId) return AuthFailure.UNKNOWN_KEY;
    if (p.authDataLength !== alg.len) return AuthFailure.BAD_DIGEST_LENGTH;
    const len = p.length;
    if (len + alg.len > p.len) return AuthFailure.TRUNCATED;
    const expected = this.digest(p.buf, p.off, len);
    const got = p.buf.subarray(p.off + len, p.off + len + alg.len);
    if (!Buffer.from(got.buffer, got.byteOffset, got.length).equals(expected)) return AuthFailure.BAD_DIGEST;
    if (lastSequence >= 0 && p.cryptoSequence < lastSequence) return AuthFailure.OLD_SEQUENCE;
    return AuthFailure.OK;
  }

  private digest(buf: Uint8Array, off: number, len: number): Buffer {
    const alg = this.algorithm!;
    const packet = buf.subarray(off, off + len);
    if (alg.hash === 'md5') {
      // D.4.3: MD5 over the packet followed by the key, zero-padded to 16 bytes.
      const key16 = Buffer.alloc(16);
      this.key.copy(key16, 0, 0, 16);
      return createHash('md5').update(packet).update(key16).digest();
    }
    return createHmac(alg.hash, this.key).update(packet).update(APAD.subarray(0, alg.len)).digest();
  }
}

export const AUTH_FAILURE_NAMES: readonly string[] = [
  'ok', 'auth-type-mismatch', 'bad-checksum', 'bad-password', 'unknown-key-id', 'bad-digest-length', 'bad-digest', 'old-crypto-sequence', 'truncated-digest',
];
