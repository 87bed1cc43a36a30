// A key chain: the keys a port (or session) authenticates with, each valid
// for sending and for accepting over its own time window, so a key can be
// rolled over without a flap (accept the new key first, then send it, then
// stop accepting the old one) — FRR's key-chain send-/accept-lifetime,
// BIRD's password generate/accept from/to.
import type { AuthKeyConfig } from '../../config/router-config.js';

export interface Key {
  readonly id: number;
  readonly secret: Uint8Array;
  readonly from: number | null;
  readonly until: number | null;
  readonly acceptFrom: number | null;
  readonly acceptUntil: number | null;
}

const within = (now: number, from: number | null, until: number | null) => (from === null || now >= from) && (until === null || now < until);

export class KeyChain {
  readonly keys: readonly Key[];

  constructor(keys: readonly AuthKeyConfig[]) {
    this.keys = keys.map((k) => ({
      id: k.id,
      secret: new Uint8Array(Buffer.from(k.secret, 'utf8')),
      from: k.from,
      until: k.until,
      // The accept window defaults to the send window.
      acceptFrom: k.acceptFrom ?? k.from,
      acceptUntil: k.acceptUntil ?? k.until,
    }));
  }

  /**
   * The key to send with at `now` (epoch ms): of those whose send window
   * holds now, the one that started last (the newest in a roll-over); the
   * last listed among equals. Undefined when none is valid.
   */
  sendKey(now: number): Key | undefined {
    let best: Key | undefined;
    for (const k of this.keys) {
      if (!within(now, k.from, k.until)) continue;
      if (!best || (k.from ?? -Infinity) >= (best.from ?? -Infinity)) best = k;
    }
    return best;
  }

  /** The key with this id, if it may be accepted at `now`. */
  acceptKey(id: number, now: number): Key | undefined {
    const k = this.keys.find((x) => x.id === id);
    return k && within(now, k.acceptFrom, k.acceptUntil) ? k : undefined;
  }

  /** Every key that may be accepted at `now` (a password carries no key id). */
  acceptable(now: number): Key[] {
    return this.keys.filter((k) => within(now, k.acceptFrom, k.acceptUntil));
  }
}
