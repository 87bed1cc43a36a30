// BFD authentication of one session (RFC 5880 §6.7): a simple password, or
// keyed MD5 / SHA1 — the digest over the whole packet with the key, zero-
// padded to the digest's length, in the digest field — meticulous or not.
//
// Sequence numbers (§6.7.3, §6.7.4): ours start at a random value and go up
// by one every second (keyed; as BIRD does) or every packet (meticulous).
// A received one must lie in [last, last + 3 × Detect Mult] (keyed) or
// [last + 1, last + 3 × Detect Mult] (meticulous), in 32-bit circular
// space, once one is known; what is known is forgotten after twice the
// detection time without an authenticated packet (§6.8.1 bfd.AuthSeqKnown),
// so a peer that restarted is taken again.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthConfig, BfdAuthType } from '../../config/router-config.js';
import {
  BFD_CONTROL_LEN, BFD_KEYED_HEADER_LEN, BfdAuthCode, type BfdControlView, writeBfdKeyedAuth, writeBfdSimpleAuth,
} from '../../wire/bfd.js';
import { KeyChain } from '../auth/key-chain.js';

const TYPES: Record<BfdAuthType, { code: number; hash: string; len: number; meticulous: boolean }> = {
  none: { code: 0, hash: '', len: 0, meticulous: false },
  password: { code: BfdAuthCode.SIMPLE, hash: '', len: 0, meticulous: false },
  'keyed-md5': { code: BfdAuthCode.KEYED_MD5, hash: 'md5', len: 16, meticulous: false },
  'meticulous-keyed-md5': { code: BfdAuthCode.METICULOUS_KEYED_MD5, hash: 'md5', len: 16, meticulous: true },
  'keyed-sha1': { code: BfdAuthCode.KEYED_SHA1, hash: 'sha1', len: 20, meticulous: false },
  'meticulous-keyed-sha1': { code: BfdAuthCode.METICULOUS_KEYED_SHA1, hash: 'sha1', len: 20, meticulous: true },
};

/** Why a session refused a packet's authentication (each a BfdDrop reason, in this order). */
export const BfdAuthFailure = {
  /** The session authenticates; the A bit is clear. */
  MISSING: 1,
  /** The A bit is set and the session has no authentication (§6.8.6: discard). */
  NOT_CONFIGURED: 2,
  /** Another Auth Type than the session's. */
  WRONG_TYPE: 3,
  /** No key with that id is valid now. */
  UNKNOWN_KEY: 4,
  /** Auth Len is not the type's. */
  BAD_LENGTH: 5,
  /** The digest or the password does not match. */
  BAD_DIGEST: 6,
  /** The sequence number is outside the window (a replay, or too far ahead). */
  BAD_SEQUENCE: 7,
} as const;

export class BfdAuth {
  readonly type: BfdAuthType;
  readonly chain: KeyChain;
  private readonly t: (typeof TYPES)[BfdAuthType];
  /** bfd.XmitAuthSeq, and the clock's second it last moved in (keyed). */
  private xmitSeq: number;
  private xmitSecond = -1;
  /** bfd.RcvAuthSeq and bfd.AuthSeqKnown (until when it is known, ms). */
  rcvSeq = 0;
  private rcvKnownUntil = -Infinity;

  constructor(readonly config: AuthConfig<BfdAuthType>, random: () => number) {
    this.type = config.type;
    this.chain = new KeyChain(config.keys);
    this.t = TYPES[config.type];
    // §6.8.1: bfd.XmitAuthSeq starts at a random 32-bit value.
    this.xmitSeq = (random() * 0x1_0000_0000) >>> 0;
  }

  /**
   * The same session with a new key chain (a reload): the sequence numbers
   * go on where they were, so a peer that knows ours keeps taking them — a
   * key added for a roll-over does not flap the session.
   */
  rekeyed(config: AuthConfig<BfdAuthType>): BfdAuth {
    const next = new BfdAuth(config, () => 0);
    next.xmitSeq = this.xmitSeq;
    next.xmitSecond = this.xmitSecond;
    next.rcvSeq = this.rcvSeq;
    next.rcvKnownUntil = this.rcvKnownUntil;
    return next;
  }

  get enabled(): boolean {
    return this.type !== 'none';
  }

  /** Whether a received sequence number is known now (bfd.AuthSeqKnown). */
  seqKnown(now: number): boolean {
    return now < this.rcvKnownUntil;
  }

  /**
   * The 24-byte Control packet is at buf[off]: append the authentication
   * section. Returns the packet's length, or −1 when no key may be sent now.
   */
  sign(buf: Uint8Array, off: number, now: number): number {
    if (!this.enabled) return BFD_CONTROL_LEN;
    const key = this.chain.sendKey(now);
    if (!key) return -1;
    const t = this.t;
    if (t.code === BfdAuthCode.SIMPLE) return writeBfdSimpleAuth(buf, off, key.id, key.secret);
    const second = Math.floor(now / 1000);
    if (t.meticulous || second !== this.xmitSecond) {
      this.xmitSeq = (this.xmitSeq + 1) >>> 0;
      this.xmitSecond = second;
    }
    const len = writeBfdKeyedAuth(buf, off, t.code, key.id, this.xmitSeq, t.len);
    const digest = off + BFD_CONTROL_LEN + BFD_KEYED_HEADER_LEN;
    buf.fill(0, digest, digest + t.len);
    buf.set(key.secret.subarray(0, t.len), digest);
    createHash(t.hash).update(buf.subarray(off, off + len)).digest().copy(buf, digest);
    return len;
  }

  /**
   * Authenticate a packet validate() accepted and that selected this
   * session. `detectionMs`: the session's detection time, for how long the
   * sequence number stays known. Returns 0 or a BfdAuthFailure.
   */
  verify(v: BfdControlView, now: number, detectionMs: number): number {
    if (!v.authPresent) return this.enabled ? BfdAuthFailure.MISSING : 0;
    if (!this.enabled) return BfdAuthFailure.NOT_CONFIGURED;
    const t = this.t;
    if (v.authType !== t.code) return BfdAuthFailure.WRONG_TYPE;
    const key = this.chain.acceptKey(v.authKeyId, now);
    if (!key) return BfdAuthFailure.UNKNOWN_KEY;
    const b = v.buf;
    if (t.code === BfdAuthCode.SIMPLE) {
      // §6.7.2: Auth Len is 3 + the password's length, and the password matches.
      if (v.authLen !== 3 + key.secret.length) return BfdAuthFailure.BAD_DIGEST;
      return timingSafeEqual(b.subarray(v.passwordOffset, v.passwordOffset + key.secret.length), key.secret) ? 0 : BfdAuthFailure.BAD_DIGEST;
    }
    if (v.authLen !== BFD_KEYED_HEADER_LEN + t.len) return BfdAuthFailure.BAD_LENGTH;
    const seq = v.authSequence;
    if (this.seqKnown(now)) {
      const ahead = (seq - this.rcvSeq) >>> 0;
      const lowest = t.meticulous ? 1 : 0;
      if (ahead < lowest || ahead > 3 * v.detectMult) return BfdAuthFailure.BAD_SEQUENCE;
    }
    // The digest over the packet as sent: its own digest replaced by the key.
    const end = v.off + v.length;
    const padded = Buffer.alloc(t.len);
    padded.set(key.secret.subarray(0, t.len));
    const hash = createHash(t.hash).update(b.subarray(v.off, v.digestOffset)).update(padded).update(b.subarray(v.digestOffset + t.len, end)).digest();
    if (!timingSafeEqual(hash, b.subarray(v.digestOffset, v.digestOffset + t.len))) return BfdAuthFailure.BAD_DIGEST;
    this.rcvSeq = seq;
    this.rcvKnownUntil = now + 2 * Math.max(detectionMs, 1);
    return 0;
  }
}
