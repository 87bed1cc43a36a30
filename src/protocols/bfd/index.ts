// BFD in a daemon: the protocol, plugged into the router, and its API
// (GET /v1/bfd: every session with its negotiated timers and counters).
import type { ApiServer } from '../../api/server.js';
import type { Router } from '../../daemon/router.js';
import { BfdStateCode as S, STATE_NAMES, diagName } from '../../wire/bfd.js';
import { BfdProtocol, dropCounts, type BfdNeighbour } from './bfd.js';

export { BfdProtocol } from './bfd.js';

export interface BfdSessionJson {
  port: string;
  peer: string;
  state: string;
  remoteState: string;
  localDiscriminator: number;
  remoteDiscriminator: number;
  sourcePort: number;
  /** Negotiated: the interval between our packets (RFC 5880 §6.8.7). */
  txIntervalMs: number;
  /** Negotiated: the interval we expect the peer's packets at. */
  rxIntervalMs: number;
  detectMult: number;
  remoteDetectMult: number;
  /** 0 until the peer was heard from. */
  detectionTimeMs: number;
  /** Since the session went Up; null when it is not Up. */
  uptimeMs: number | null;
  /** Diagnostic of the last transition to Down/AdminDown. */
  lastDiagnostic: string;
  remoteDiagnostic: string;
  pollActive: boolean;
  owners: string[];
  counters: { rx: number; tx: number; txBlocked: number; upTransitions: number; downTransitions: number; drops: Record<string, number> };
}

export interface BfdJson {
  sessions: BfdSessionJson[];
  /** Over all sessions, and packets that matched none. */
  counters: { rx: number; tx: number; drops: Record<string, number> };
}

function sessionJson(n: BfdNeighbour, now: number): BfdSessionJson {
  const s = n.session;
  return {
    port: n.port.name,
    peer: n.peerText,
    state: STATE_NAMES[s.state]!,
    remoteState: STATE_NAMES[s.remoteState]!,
    localDiscriminator: s.localDiscriminator,
    remoteDiscriminator: s.remoteDiscriminator,
    sourcePort: n.sourcePort,
    txIntervalMs: s.txIntervalUs / 1000,
    rxIntervalMs: s.rxIntervalUs / 1000,
    detectMult: s.detectMult,
    remoteDetectMult: s.remoteDetectMult,
    detectionTimeMs: s.detectionTimeUs / 1000,
    uptimeMs: s.state === S.UP && s.upSince !== null ? Math.round(now - s.upSince) : null,
    lastDiagnostic: diagName(n.lastDownDiag),
    remoteDiagnostic: diagName(s.remoteDiag),
    pollActive: s.pollActive,
    owners: [...n.owners].sort(),
    counters: { rx: n.rx, tx: n.tx, txBlocked: n.txBlocked, upTransitions: n.upTransitions, downTransitions: n.downTransitions, drops: dropCounts(n.drops) },
  };
}

export function bfdJson(bfd: BfdProtocol): BfdJson {
  const now = bfd.now();
  const sessions = bfd.sessions();
  return {
    sessions: sessions.map((n) => sessionJson(n, now)),
    counters: { rx: bfd.rx, tx: sessions.reduce((a, n) => a + n.tx, 0), drops: dropCounts(bfd.drops) },
  };
}

export function setupBfd(router: Router, api: ApiServer): BfdProtocol {
  const bfd = new BfdProtocol(router);
  router.addProtocol(bfd);
  api.on('GET', '/v1/bfd', () => bfdJson(bfd));
  return bfd;
}
