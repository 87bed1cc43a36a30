// GET /v1/bfd: every BFD session with its negotiated timers and counters.
import { dropCounts, type BfdNeighbour, type BfdProtocol } from '../protocols/bfd/bfd.js';
import { BfdStateCode as S, STATE_NAMES, diagName } from '../wire/bfd.js';
import type { ApiServer } from './server.js';
import type { BfdJson, BfdSessionJson } from './types.js';

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
    auth: { type: n.auth.type, keys: n.auth.chain.keys.map((k) => k.id), sendKey: n.auth.chain.sendKey(now)?.id ?? null, sequenceKnown: n.auth.seqKnown(now) },
    counters: {
      rx: n.rx, tx: n.tx, txBlocked: n.txBlocked, txWithoutKey: n.txWithoutKey, upTransitions: n.upTransitions, downTransitions: n.downTransitions, drops: dropCounts(n.drops),
    },
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

export function registerBfdApi(api: ApiServer, bfd: BfdProtocol): void {
  api.on('GET', '/v1/bfd', () => bfdJson(bfd));
}
