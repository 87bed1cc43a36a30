// The BFD session state machine (RFC 5880) on a fake clock: every timer
// fires exactly when armed, so timings can be asserted to the microsecond.
import test, { describe } from 'node:test';
import assert from 'node:assert/strict';
import { BfdSession, IDLE_TX_US, type SessionEnv, type SessionTimer } from '../../src/protocols/bfd/session.js';
import { BfdControlView, BfdFlag, BfdStateCode as S, Diag, STATE_NAMES, writeBfdControl } from '../../src/wire/bfd.js';
import { ApiServer } from '../../src/api/server.js';
import { parseRouterConfig } from '../../src/config/router-config.js';
import { silentLogger } from '../../src/daemon/log.js';
import { assembleDaemon } from '../../src/daemon/assemble.js';
import { parseAddress } from '../../src/net/addr.js';
import { MemoryDevice } from '../support/memory-device.js';
import { GOODBYE_MS } from '../../src/router/router.js';
import { BfdDrop, dropCounts } from '../../src/protocols/bfd/bfd.js';
import { bfdJson } from '../../src/api/bfd-api.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { UdpView, buildUdpDatagram } from '../../src/wire/udp.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

class FakeClock {
  t = 0;
  private readonly timers: { at: number; armed: boolean; fire: () => void }[] = [];

  timer(fire: () => void): SessionTimer {
    const rec = { at: NaN, armed: false, fire };
    this.timers.push(rec);
    return {
      arm: (at) => { rec.at = at; rec.armed = true; },
      disarm: () => { rec.armed = false; },
    };
  }

  /** A one-shot callback (packet delivery with latency). */
  at(when: number, fn: () => void): void {
    const t = this.timer(fn);
    t.arm(when);
  }

  /** Run every timer due up to now + ms, in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: (typeof this.timers)[number] | undefined;
      for (const r of this.timers) if (r.armed && r.at <= end && (!next || r.at < next.at)) next = r;
      if (!next) break;
      this.t = Math.max(this.t, next.at);
      next.armed = false;
      next.fire();
    }
    this.t = end;
  }
}

interface Sent { t: number; bytes: Uint8Array; state: number; diag: number; poll: boolean; final: boolean; yours: number; desiredTx: number; requiredRx: number }
interface Change { t: number; from: string; to: string; diag: number }

/** A session on a fake clock recording what it sends and how it changes. */
function harness(opts: { discr?: number; txMs?: number; rxMs?: number; mult?: number; random?: () => number; clock?: FakeClock; adminDown?: boolean; checkSent?: boolean } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const sent: Sent[] = [];
  const changes: Change[] = [];
  const view = new BfdControlView();
  const env: SessionEnv = {
    now: () => clock.t,
    random: opts.random ?? (() => 0.5),
    timer: (fire) => clock.timer(fire),
    send: (final) => {
      const bytes = new Uint8Array(24);
      session.writeControl(bytes, 0, final);
      const v = view.attach(bytes, 0, 24);
      if (opts.checkSent !== false) assert.equal(v.validate(), 0, 'we only send valid packets');
      assert.ok(!(v.poll && v.final), 'never P and F together');
      sent.push({ t: clock.t, bytes, state: v.state, diag: v.diag, poll: v.poll, final: v.final, yours: v.yourDiscriminator, desiredTx: v.desiredMinTx, requiredRx: v.requiredMinRx });
    },
    changed: (from, to, diag) => changes.push({ t: clock.t, from: STATE_NAMES[from]!, to: STATE_NAMES[to]!, diag }),
  };
  const session: BfdSession = new BfdSession({
    localDiscriminator: opts.discr ?? 0x1111,
    desiredMinTxUs: (opts.txMs ?? 100) * 1000,
    requiredMinRxUs: (opts.rxMs ?? 100) * 1000,
    detectMult: opts.mult ?? 3,
    adminDown: opts.adminDown,
  }, env);
  return { clock, session, sent, changes };
}

const PEER = 0x2222;
const pktBuf = new Uint8Array(24);
const pktView = new BfdControlView();

/** A packet from the peer, as a view (valid until the next call). */
function peer(state: number, o: { yours?: number; diag?: number; flags?: number; mult?: number; tx?: number; rx?: number; my?: number } = {}): BfdControlView {
  writeBfdControl(pktBuf, 0, state, o.diag ?? 0, o.flags ?? 0, o.mult ?? 3, o.my ?? PEER, o.yours ?? 0x1111, o.tx ?? 100_000, o.rx ?? 100_000, 0);
  return pktView.attach(pktBuf, 0, 24);
}

/** A session brought Up by hand, its Poll answered: steady state at 100 ms. */
function upSession(opts: Parameters<typeof harness>[0] = {}) {
  const h = harness(opts);
  h.session.start();
  h.clock.advance(0);
  h.session.receive(peer(S.DOWN, { yours: 0, tx: 1_000_000 }));
  h.session.receive(peer(S.UP));
  assert.equal(h.session.state, S.UP);
  h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL }));
  assert.equal(h.session.pollActive, false);
  return h;
}

describe('three-way handshake (RFC 5880 §6.2, §6.8.6)', () => {
  test('Down → Init → Up, one packet per step, with the right fields', () => {
    const { clock, session, sent, changes } = harness();
    session.start();
    clock.advance(0);
    // First packet: Down, no peer known, slow (≥ 1 s) while not Up (§6.8.3).
    assert.equal(sent.length, 1);
    assert.deepEqual({ state: sent[0]!.state, yours: sent[0]!.yours, desiredTx: sent[0]!.desiredTx, requiredRx: sent[0]!.requiredRx }, { state: S.DOWN, yours: 0, desiredTx: 1_000_000, requiredRx: 100_000 });

    clock.advance(10);
    session.receive(peer(S.DOWN, { yours: 0, tx: 1_000_000 }));
    assert.equal(session.state, S.INIT);
    assert.equal(session.remoteDiscriminator, PEER);
    assert.equal(sent.length, 2, 'the state change is told at once');
    assert.equal(sent[1]!.state, S.INIT);
    assert.equal(sent[1]!.yours, PEER);

    clock.advance(10);
    session.receive(peer(S.INIT));
    assert.equal(session.state, S.UP);
    assert.equal(session.upSince, 20);
    assert.equal(sent.length, 3);
    assert.equal(sent[2]!.state, S.UP);
    // Up: the configured 100 ms TX, announced by a Poll Sequence (§6.8.3).
    assert.equal(sent[2]!.desiredTx, 100_000);
    assert.equal(sent[2]!.poll, true);
    assert.deepEqual(changes.map((c) => `${c.from}>${c.to}@${c.t}`), ['Down>Init@10', 'Init>Up@20']);
  });

  test('Down + Init → Up directly; Init + Up → Up; Down + Up stays Down', () => {
    let h = harness();
    h.session.start();
    h.session.receive(peer(S.INIT));
    assert.equal(h.session.state, S.UP);

    h = harness();
    h.session.start();
    h.session.receive(peer(S.DOWN, { yours: 0 }));
    h.session.receive(peer(S.UP));
    assert.equal(h.session.state, S.UP);

    h = harness();
    h.session.start();
    h.session.receive(peer(S.UP));
    assert.equal(h.session.state, S.DOWN, 'a stale Up from a peer we never talked to is no handshake');
  });

  test('two sessions back to back (1 ms latency) come Up and stay Up', () => {
    const clock = new FakeClock();
    const a = harness({ clock, discr: 0xa, random: rng(1) });
    const b = harness({ clock, discr: 0xb, random: rng(2) });
    const wire = (from: ReturnType<typeof harness>, to: ReturnType<typeof harness>) => {
      let seen = 0;
      return () => {
        for (; seen < from.sent.length; seen++) {
          const bytes = from.sent[seen]!.bytes;
          clock.at(clock.t + 1, () => {
            const v = new BfdControlView().attach(bytes, 0, 24);
            assert.equal(v.validate(), 0);
            to.session.receive(v);
          });
        }
      };
    };
    const ab = wire(a, b);
    const ba = wire(b, a);
    a.session.start();
    b.session.start();
    for (let i = 0; i < 10_000; i++) {
      clock.advance(1);
      ab();
      ba();
    }
    assert.equal(a.session.state, S.UP);
    assert.equal(b.session.state, S.UP);
    assert.equal(a.changes.filter((c) => c.to === 'Up').length, 1);
    assert.equal(b.changes.filter((c) => c.to === 'Down').length, 0);
    assert.equal(a.session.txIntervalUs, 100_000);
    assert.equal(a.session.detectionTimeUs, 300_000);
    // ~10 packets/s once Up (jittered 75–100 %).
    const late = a.sent.filter((s) => s.t > 5000);
    assert.ok(late.length >= 50 && late.length <= 67, `${late.length} packets in 5 s`);
  });
});

describe('detection time (§6.8.4)', () => {
  test('Down exactly Detect Mult × agreed interval after the last packet, diag 1', () => {
    const h = upSession();
    h.clock.advance(50);
    h.session.receive(peer(S.UP));
    const last = h.clock.t;
    assert.equal(h.session.detectionTimeUs, 300_000);
    h.clock.advance(299.5);
    assert.equal(h.session.state, S.UP);
    h.clock.advance(0.5);
    assert.equal(h.session.state, S.DOWN);
    const down = h.changes.at(-1)!;
    assert.deepEqual(down, { t: last + 300, from: 'Up', to: 'Down', diag: Diag.CONTROL_DETECTION_TIME_EXPIRED });
    assert.equal(h.session.localDiag, Diag.CONTROL_DETECTION_TIME_EXPIRED);
    // §6.8.1: the peer's discriminator is forgotten; we go back to 1 s.
    assert.equal(h.session.remoteDiscriminator, 0);
    assert.equal(h.sent.at(-1)!.state, S.DOWN);
    assert.equal(h.sent.at(-1)!.yours, 0);
    assert.equal(h.sent.at(-1)!.desiredTx, 1_000_000);
  });

  test('the agreed interval is the slower of our RX and the peer TX; the multiplier is the peer’s', () => {
    const h = upSession();
    h.session.receive(peer(S.UP, { tx: 250_000, mult: 5 }));
    assert.equal(h.session.detectionTimeUs, 5 * 250_000);
    const last = h.clock.t;
    h.clock.advance(1249);
    assert.equal(h.session.state, S.UP);
    h.clock.advance(1);
    assert.equal(h.session.state, S.DOWN);
    assert.equal(h.changes.at(-1)!.t, last + 1250);
  });

  test('every packet pushes the deadline; a shorter detection time takes effect at once', () => {
    const h = upSession();
    h.session.receive(peer(S.UP, { tx: 1_000_000 }));
    // 3 s detection; 200 ms later the peer speeds up to 100 ms: 300 ms from now.
    h.clock.advance(200);
    h.session.receive(peer(S.UP, { tx: 100_000 }));
    h.clock.advance(299);
    assert.equal(h.session.state, S.UP);
    h.clock.advance(1);
    assert.equal(h.session.state, S.DOWN);
  });

  test('Init times out too; Down does not change state but forgets the peer', () => {
    let h = harness();
    h.session.start();
    h.session.receive(peer(S.DOWN, { yours: 0, tx: 1_000_000 }));
    assert.equal(h.session.state, S.INIT);
    h.clock.advance(3000);
    assert.equal(h.session.state, S.DOWN);
    assert.equal(h.changes.at(-1)!.diag, Diag.CONTROL_DETECTION_TIME_EXPIRED);

    h = harness();
    h.session.start();
    h.session.receive(peer(S.UP, { tx: 1_000_000 }));
    assert.equal(h.session.remoteDiscriminator, PEER);
    h.clock.advance(3000);
    assert.equal(h.session.state, S.DOWN);
    assert.equal(h.changes.length, 0);
    assert.equal(h.session.remoteDiscriminator, 0);
  });
});

describe('AdminDown (§6.8.16, §6.8.6)', () => {
  test('ours: one AdminDown packet with diag 7 at once, then silence; adminUp starts again from Down', () => {
    const h = upSession();
    h.clock.advance(30);
    const before = h.sent.length;
    h.session.adminDown();
    assert.equal(h.sent.length, before + 1);
    const p = h.sent.at(-1)!;
    assert.equal(p.t, h.clock.t, 'sent immediately');
    assert.equal(p.state, S.ADMIN_DOWN);
    assert.equal(p.diag, Diag.ADMINISTRATIVELY_DOWN);
    assert.equal(p.yours, PEER);
    assert.deepEqual(h.changes.at(-1), { t: h.clock.t, from: 'Up', to: 'AdminDown', diag: 7 });
    h.clock.advance(10_000);
    assert.equal(h.sent.length, before + 1, 'silent while AdminDown');
    assert.equal(h.session.state, S.ADMIN_DOWN, 'no detection timeout out of AdminDown');
    // Packets are discarded (§6.8.6: "If bfd.SessionState is AdminDown, discard").
    assert.equal(h.session.receive(peer(S.UP)), false);
    assert.equal(h.session.state, S.ADMIN_DOWN);

    h.session.adminUp();
    assert.equal(h.session.state, S.DOWN);
    assert.deepEqual(h.changes.at(-1), { t: h.clock.t, from: 'AdminDown', to: 'Down', diag: 0 });
    const q = h.sent.at(-1)!;
    assert.equal(q.state, S.DOWN);
    assert.equal(q.yours, 0, 'the peer is forgotten');
    assert.equal(q.desiredTx, 1_000_000);
    h.session.receive(peer(S.DOWN, { yours: 0 }));
    h.session.receive(peer(S.UP));
    assert.equal(h.session.state, S.UP);
  });

  test('theirs: a peer AdminDown takes us Down at once with diag 3', () => {
    const h = upSession();
    h.clock.advance(40);
    h.session.receive(peer(S.ADMIN_DOWN, { diag: Diag.ADMINISTRATIVELY_DOWN }));
    assert.equal(h.session.state, S.DOWN);
    assert.deepEqual(h.changes.at(-1), { t: h.clock.t, from: 'Up', to: 'Down', diag: Diag.NEIGHBOR_SIGNALED_SESSION_DOWN });
    assert.equal(h.session.remoteDiag, Diag.ADMINISTRATIVELY_DOWN);
    assert.equal(h.sent.at(-1)!.state, S.DOWN);
    assert.equal(h.sent.at(-1)!.diag, Diag.NEIGHBOR_SIGNALED_SESSION_DOWN);
    // While the peer stays AdminDown we stay Down (no Init).
    h.session.receive(peer(S.ADMIN_DOWN, { diag: 7 }));
    assert.equal(h.session.state, S.DOWN);
    assert.equal(h.changes.length, 3);
  });

  test('a peer Down (e.g. restarted) while Up also gives diag 3', () => {
    const h = upSession();
    h.session.receive(peer(S.DOWN, { yours: 0 }));
    assert.equal(h.session.state, S.DOWN);
    assert.equal(h.changes.at(-1)!.diag, Diag.NEIGHBOR_SIGNALED_SESSION_DOWN);
  });

  test('created AdminDown: silent, no event, until adminUp', () => {
    const h = harness({ adminDown: true });
    h.session.start();
    h.clock.advance(5000);
    assert.equal(h.sent.length, 0);
    assert.equal(h.changes.length, 0);
    h.session.adminUp();
    assert.equal(h.sent.length, 1);
  });
});

describe('Poll/Final (§6.5, §6.8.3)', () => {
  test('a Poll from the peer is answered by a Final at once, never with P', () => {
    const h = upSession();
    h.session.setParameters(100_000, 100_000, 3); // no change: no Poll
    assert.equal(h.session.pollActive, false);
    h.clock.advance(20);
    const n = h.sent.length;
    h.session.receive(peer(S.UP, { flags: BfdFlag.POLL }));
    assert.equal(h.sent.length, n + 1);
    assert.equal(h.sent.at(-1)!.final, true);
    assert.equal(h.sent.at(-1)!.poll, false);
    assert.equal(h.sent.at(-1)!.t, h.clock.t);
  });

  test('our Poll: P on every packet until the Final; then none', () => {
    const h = harness();
    h.session.start();
    h.session.receive(peer(S.DOWN, { yours: 0 }));
    h.session.receive(peer(S.UP));
    assert.equal(h.session.pollActive, true);
    for (let i = 0; i < 10; i++) {
      h.clock.advance(50);
      h.session.receive(peer(S.UP));
    }
    const polling = h.sent.filter((s) => s.state === S.UP);
    assert.ok(polling.length >= 5);
    assert.ok(polling.every((s) => s.poll && !s.final));
    // The peer polls at the same time: our Final answer does not carry P…
    h.session.receive(peer(S.UP, { flags: BfdFlag.POLL }));
    assert.equal(h.sent.at(-1)!.final, true);
    assert.equal(h.sent.at(-1)!.poll, false);
    // …and our Poll goes on until the peer's Final.
    h.clock.advance(100);
    assert.equal(h.sent.at(-1)!.poll, true);
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL }));
    assert.equal(h.session.pollActive, false);
    const n = h.sent.length;
    h.clock.advance(500);
    assert.ok(h.sent.length > n);
    assert.ok(h.sent.slice(n).every((s) => !s.poll));
  });

  test('slowing our TX while Up: advertised at once, used only after the Final', () => {
    const h = upSession();
    h.session.setParameters(500_000, 100_000, 3);
    assert.equal(h.session.pollActive, true);
    h.clock.advance(0);
    assert.equal(h.sent.at(-1)!.poll, true, 'the Poll goes out at once');
    assert.equal(h.sent.at(-1)!.desiredTx, 500_000);
    assert.equal(h.session.txIntervalUs, 100_000, 'old interval until the peer acknowledges');
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL }));
    assert.equal(h.session.txIntervalUs, 500_000);
    const t = h.clock.t;
    assert.ok(h.session.nextTxAt >= t + 375 && h.session.nextTxAt <= t + 500, `next TX ${h.session.nextTxAt - t} ms`);
  });

  test('expecting packets faster (RX 100 → 50 ms) keeps the old detection time until the Final', () => {
    const h = upSession();
    h.session.receive(peer(S.UP, { tx: 10_000 }));
    assert.equal(h.session.detectionTimeUs, 300_000);
    h.session.setParameters(100_000, 50_000, 3);
    assert.equal(h.session.detectionTimeUs, 300_000);
    h.session.receive(peer(S.UP, { tx: 10_000, flags: BfdFlag.FINAL }));
    assert.equal(h.session.detectionTimeUs, 150_000);
  });

  test('a change during a Poll Sequence starts another one after the Final', () => {
    const h = upSession();
    h.session.setParameters(200_000, 100_000, 3);
    h.session.setParameters(300_000, 100_000, 3);
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL }));
    assert.equal(h.session.pollActive, true, 'second Poll Sequence');
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL }));
    assert.equal(h.session.pollActive, false);
    assert.equal(h.session.txIntervalUs, 300_000);
  });
});

describe('transmit timer (§6.8.2, §6.8.3, §6.8.7)', () => {
  test('TX = max(our desired TX, peer required RX); ≥ 1 s while not Up', () => {
    const h = harness();
    h.session.start();
    h.clock.advance(0);
    assert.equal(h.session.txIntervalUs, IDLE_TX_US);
    h.session.receive(peer(S.DOWN, { yours: 0, rx: 2_000_000 }));
    assert.equal(h.session.txIntervalUs, 2_000_000);
  });

  test('re-armed at once when the peer’s Required Min RX drops (FRR polls 1 s → 100 ms)', () => {
    const h = harness();
    h.session.start();
    h.session.receive(peer(S.DOWN, { yours: 0, tx: 1_000_000, rx: 1_000_000 }));
    h.session.receive(peer(S.UP, { tx: 1_000_000, rx: 1_000_000 }));
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL, tx: 1_000_000, rx: 1_000_000 }));
    assert.equal(h.session.state, S.UP);
    assert.equal(h.session.txIntervalUs, 1_000_000, 'the peer still wants 1 s');
    h.clock.advance(10);
    let t = h.clock.t;
    assert.ok(h.session.nextTxAt >= t + 740 && h.session.nextTxAt <= t + 1000, `next TX in ${h.session.nextTxAt - t} ms`);

    // Without a Poll: the next packet is rescheduled from now at the new interval.
    h.clock.advance(5);
    t = h.clock.t;
    const n = h.sent.length;
    h.session.receive(peer(S.UP, { tx: 100_000, rx: 100_000 }));
    assert.equal(h.session.txIntervalUs, 100_000);
    assert.equal(h.sent.length, n, 'nothing sent now');
    assert.ok(h.session.nextTxAt >= t + 75 && h.session.nextTxAt <= t + 100, `next TX in ${h.session.nextTxAt - t} ms`);
    h.clock.advance(100);
    assert.equal(h.sent.length, n + 1);
  });

  test('…and with the Poll FRR sends: Final now, next periodic within the new interval', () => {
    const h = harness();
    h.session.start();
    h.session.receive(peer(S.DOWN, { yours: 0, tx: 1_000_000, rx: 1_000_000 }));
    h.session.receive(peer(S.UP, { tx: 1_000_000, rx: 1_000_000 }));
    h.session.receive(peer(S.UP, { flags: BfdFlag.FINAL, tx: 1_000_000, rx: 1_000_000 }));
    h.clock.advance(300);
    const t = h.clock.t;
    h.session.receive(peer(S.UP, { flags: BfdFlag.POLL, tx: 100_000, rx: 100_000 }));
    assert.equal(h.sent.at(-1)!.final, true);
    assert.equal(h.sent.at(-1)!.t, t);
    assert.ok(h.session.nextTxAt >= t + 75 && h.session.nextTxAt <= t + 100);
    // Steady state: the peer never waits more than 100 ms for a packet.
    let last = t;
    for (let i = 0; i < 100; i++) {
      h.clock.advance(10);
      h.session.receive(peer(S.UP));
      const s = h.sent.at(-1)!;
      assert.ok(s.t - last <= 100);
      last = s.t;
    }
  });

  test('jitter: 75–100 % of the interval, 75–90 % when Detect Mult is 1', () => {
    for (const [mult, lo, hi] of [[3, 75, 100], [1, 75, 90]] as const) {
      for (const [name, random] of [['seeded', rng(mult)], ['lowest', () => 0], ['highest', () => 0.9999999]] as const) {
        const h = upSession({ mult, random });
        const start = h.sent.length;
        for (let i = 0; i < 400; i++) {
          h.clock.advance(25);
          h.session.receive(peer(S.UP)); // keep it Up
        }
        const gaps = h.sent.slice(start + 1).map((s, i) => s.t - h.sent[start + i]!.t);
        assert.ok(gaps.length > 50, `${name}: ${gaps.length} gaps`);
        const min = Math.min(...gaps);
        const max = Math.max(...gaps);
        assert.ok(min >= lo && max <= hi, `mult ${mult} ${name}: gaps ${min}–${max} ms`);
        if (name === 'seeded') assert.ok(max - min > (hi - lo) / 2, 'actually jittered');
      }
    }
  });

  test('no periodic packets when the peer asks for none (Required Min RX 0), Polls still answered', () => {
    const h = upSession();
    h.session.receive(peer(S.UP, { rx: 0 }));
    const n = h.sent.length;
    h.clock.advance(250);
    h.session.receive(peer(S.UP, { rx: 0 }));
    h.clock.advance(250);
    assert.equal(h.sent.length, n);
    h.session.receive(peer(S.UP, { rx: 0, flags: BfdFlag.POLL }));
    assert.equal(h.sent.length, n + 1);
  });

  test('stop() leaves no timer armed', () => {
    const h = upSession();
    h.session.stop();
    const n = h.sent.length;
    h.clock.advance(60_000);
    assert.equal(h.sent.length, n);
    assert.equal(h.session.state, S.UP, 'no detection after stop');
  });
});

test('hostile packet sequences never throw and keep the state machine sane', () => {
  const random = rng(42);
  const byte = () => Math.floor(random() * 256);
  const v = new BfdControlView();
  const buf = new Uint8Array(64);
  for (let run = 0; run < 50; run++) {
    // Unvalidated input may make us echo nonsense (e.g. Your Discriminator 0 while Up): not checked here.
    const h = harness({ random, mult: 1 + (run % 4), checkSent: false });
    h.session.start();
    for (let i = 0; i < 400; i++) {
      const choice = random();
      if (choice < 0.4) {
        // Raw random bytes, validated or not.
        for (let j = 0; j < buf.length; j++) buf[j] = byte();
        buf[0] = (1 << 5) | (buf[0]! & 0x1f);
        v.attach(buf, 0, 24 + (byte() % 40));
        if (v.validate() === 0 || random() < 0.5) h.session.receive(v);
      } else if (choice < 0.85) {
        // Plausible packets with wild values.
        const flags = byte() & 0x3f;
        const vals = [0, 1, 1000, 100_000, 1_000_000, 0xffffffff];
        h.session.receive(peer(byte() & 3, {
          yours: random() < 0.8 ? 0x1111 : byte(), my: random() < 0.9 ? PEER : byte() * 0x1000000, diag: byte() & 0x1f, flags,
          mult: random() < 0.1 ? 0 : byte(), tx: vals[byte() % vals.length], rx: vals[byte() % vals.length],
        }));
      } else if (choice < 0.9) {
        h.session.adminDown();
      } else if (choice < 0.95) {
        h.session.adminUp();
      } else {
        h.session.setParameters(1 + byte() * 1000, byte() * 1000, 1 + (byte() % 255));
      }
      h.clock.advance(random() * 200);
      const s = h.session;
      assert.ok(s.state >= 0 && s.state <= 3);
      assert.ok(Number.isFinite(s.txIntervalUs) && Number.isFinite(s.detectionTimeUs));
      assert.ok(Number.isNaN(s.nextTxAt) || s.nextTxAt >= h.clock.t - 200);
    }
    // Every reported change is a real change, and AdminDown only by our hand.
    for (const c of h.changes) assert.notEqual(c.from, c.to);
  }
});

// ---- The protocol in a router: UDP 3784 in, packets out, routes, blocking ----
// (Router over in-memory ports; real timers, so every test stops its router.)

const OURS = parseAddress('10.0.12.1');
const THEIRS = parseAddress('10.0.12.2');

function router(extra: Record<string, unknown> = {}) {
  const devices: MemoryDevice[] = [];
  const config = parseRouterConfig({
    router: 't',
    ports: [{ name: 'r2', device: 'x0', address: '10.0.12.1/30' }, { name: 'lan', device: 'x1', address: '10.9.0.1/24' }],
    routes: [{ prefix: '10.0.2.0/24', port: 'r2', via: '10.0.12.2', metric: 1, bfd: true }],
    ...extra,
  });
  const { router: r, bfd } = assembleDaemon(config, silentLogger(), new ApiServer(), { openDevice: (pc) => {
    const d = new MemoryDevice(pc.device);
    devices.push(d);
    return d;
  } });
  r.start();
  const port = r.ports[0]!;
  const ip = new Ipv4View();
  const udp = new UdpView();
  const view = new BfdControlView();
  /** Hand the router one packet on `port`, as if read from its device; returns the port's drop counts. */
  const inject = (build: (b: Uint8Array, off: number) => number, on = port) => {
    const len = build(r.arena.bytes, on.slotPacket(0));
    on.rxLengths[0] = len;
    r.path.forwarder.receive(on, 1);
  };
  const bfdPacket = (state: number, o: { yours?: number; my?: number; flags?: number; ttl?: number; src?: number; dst?: number; tx?: number } = {}) =>
    (b: Uint8Array, off: number) => {
      writeBfdControl(b, off + 28, state, 0, o.flags ?? 0, 3, o.my ?? 0x5150, o.yours ?? 0, o.tx ?? 100_000, 100_000, 0);
      return buildUdpDatagram(b, off, o.src ?? THEIRS, o.dst ?? OURS, 49200, 3784, 24, o.ttl ?? 255, 0xc0);
    };
  /** The last BFD packet the router wrote on `dev`. */
  const lastSent = (dev = devices[0]!) => {
    const bytes = dev.written.at(-1)!;
    ip.attach(bytes, 0, bytes.length);
    assert.equal(ip.validate(), 0);
    udp.attach(bytes, ip.payloadOffset, ip.payloadLength);
    assert.ok(udp.checksumOk(ip.src, ip.dst));
    return { ip, udp, bfd: view.attach(bytes, ip.payloadOffset + 8, udp.length - 8) };
  };
  return { r, bfd, port, devices, inject, bfdPacket, lastSent, drops: () => port.counters.snapshot().drops };
}

describe('BfdProtocol in a router', () => {
  test('a session per BFD-tracked static route; handshake over UDP 3784; the route follows the session', async () => {
    const t = router();
    try {
      const n = t.bfd.session(t.port, THEIRS)!;
      assert.ok(n, 'session from the static route');
      assert.deepEqual([...n.owners], ['static']);
      const route = t.r.rib.routes().find((x) => x.source === 'static')!;
      assert.equal(route.unusable, 'bfd-down');
      await new Promise((res) => setTimeout(res, 20));
      // The first packet: RFC 5881 §4 addressing, TTL 255, TOS 0xc0, ephemeral source port.
      const first = t.lastSent();
      assert.equal(first.ip.ttl, 255);
      assert.equal(first.ip.tos, 0xc0);
      assert.equal(first.ip.src, OURS);
      assert.equal(first.ip.dst, THEIRS);
      assert.equal(first.udp.dstPort, 3784);
      assert.ok(first.udp.srcPort >= 49152 && first.udp.srcPort <= 65535);
      assert.equal(first.udp.srcPort, n.sourcePort);
      assert.equal(first.bfd.state, S.DOWN);
      assert.equal(first.bfd.myDiscriminator, n.session.localDiscriminator);

      t.inject(t.bfdPacket(S.DOWN));
      assert.equal(n.session.state, S.INIT);
      assert.equal(t.lastSent().bfd.state, S.INIT);
      assert.equal(t.lastSent().bfd.yourDiscriminator, 0x5150);
      t.inject(t.bfdPacket(S.INIT, { yours: n.session.localDiscriminator }));
      assert.equal(n.session.state, S.UP);
      assert.equal(route.unusable, null);
      assert.equal(route.selected, true);
      assert.equal(n.rx, 2);
      assert.equal(t.bfd.state(t.port, THEIRS), 'Up');

      // Blocking the port: AdminDown (diag 7) goes out before the carrier drops.
      const dev = t.devices[0]!;
      const before = dev.written.length;
      t.r.blockPort('r2');
      assert.equal(dev.written.length, before + 1);
      const bye = t.lastSent();
      assert.equal(bye.bfd.state, S.ADMIN_DOWN);
      assert.equal(bye.bfd.diag, Diag.ADMINISTRATIVELY_DOWN);
      assert.equal(dev.carrier, false);
      assert.equal(n.session.state, S.ADMIN_DOWN);
      assert.equal(route.unusable, 'port-blocked');
      t.r.unblockPort('r2');
      assert.equal(n.session.state, S.DOWN);
      assert.equal(t.lastSent().bfd.state, S.DOWN);
      assert.equal(route.unusable, 'bfd-down');
    } finally {
      t.r.stop();
    }
  });

  test('blocking a port where RIP speaks too: RIP\'s poisoned update first, BFD\'s AdminDown and the silence GOODBYE_MS later', async () => {
    const t = router({ rip: { ports: ['r2'], updateTime: 5, timeoutTime: 30, garbageTime: 20 } });
    try {
      const dev = t.devices[0]!;
      await new Promise((res) => setTimeout(res, 20));
      const before = dev.written.length;
      const ports = (from: number) => dev.written.slice(from).map((b) => {
        const ip = new Ipv4View().attach(b, 0, b.length);
        return new UdpView().attach(b, ip.payloadOffset, ip.payloadLength).dstPort;
      });
      t.r.blockPort('r2');
      assert.deepEqual(ports(before), [520], 'at once: RIP\'s poisoned Response only');
      assert.equal(dev.carrier, true, 'the link is still up');
      const blockedAt = Date.now();
      await new Promise((res) => setTimeout(res, GOODBYE_MS + 40));
      assert.deepEqual(ports(before), [520, 3784], 'then BFD\'s AdminDown');
      assert.equal(t.lastSent().bfd.state, S.ADMIN_DOWN);
      assert.equal(dev.carrier, false, 'and silence');
      assert.ok(Date.now() - blockedAt >= GOODBYE_MS);
      const after = dev.written.length;
      await new Promise((res) => setTimeout(res, 150));
      assert.equal(dev.written.length, after, 'nothing more');
    } finally {
      t.r.stop();
    }
  });

  test('invalid packets are dropped and counted by reason; nothing throws', () => {
    const t = router();
    try {
      const n = t.bfd.session(t.port, THEIRS)!;
      const reasons = () => dropCounts(t.bfd.drops);
      t.inject(t.bfdPacket(S.DOWN, { ttl: 64 }));
      t.inject(t.bfdPacket(S.DOWN, { src: parseAddress('10.0.99.2') }));
      t.inject(t.bfdPacket(S.DOWN, { dst: parseAddress('10.0.12.3') }));
      t.inject(t.bfdPacket(S.DOWN, { yours: 12345 }));
      t.inject(t.bfdPacket(S.DOWN, { src: parseAddress('10.0.12.1') }));
      t.inject(t.bfdPacket(S.UP)); // Your Discriminator 0 while Up
      t.inject((b, off) => { const l = t.bfdPacket(S.DOWN)(b, off); b[off + 27]! ^= 1; return l; }); // bad UDP checksum
      t.inject((b, off) => { // a datagram too short for a Control packet
        writeBfdControl(b, off + 28, S.DOWN, 0, 0, 3, 1, 0, 1, 1, 0);
        return buildUdpDatagram(b, off, THEIRS, OURS, 49200, 3784, 20, 255);
      });
      // On the other port: a peer with no session there.
      t.inject((b, off) => t.bfdPacket(S.DOWN, { src: parseAddress('10.9.0.7'), dst: parseAddress('10.9.0.1') })(b, off), t.r.ports[1]!);
      assert.deepEqual(reasons(), {
        'bad-ttl': 1, 'off-link-source': 1, 'wrong-destination': 1, 'unknown-discriminator': 1,
        'zero-your-discriminator-not-down': 1, 'bad-udp': 1, truncated: 1, 'no-session': 1,
      });
      assert.equal(t.drops()['bfd-invalid'], 7);
      // Our own address as source never reaches BFD: the packet path drops it first (RFC 1812 §5.3.7).
      assert.equal(t.drops()['own-source-address'], 1);
      // Attributed to the session where the source is its peer.
      assert.deepEqual(dropCounts(n.drops), { 'bad-ttl': 1, 'wrong-destination': 1, 'unknown-discriminator': 1, 'zero-your-discriminator-not-down': 1, 'bad-udp': 1, truncated: 1 });
      assert.equal(n.session.state, S.DOWN);
      assert.equal(n.rx, 0);

      // Hostile: random payloads with valid IP/UDP framing from the peer.
      const random = rng(7);
      for (let i = 0; i < 5000; i++) {
        t.inject((b, off) => {
          const len = Math.floor(random() * 40);
          for (let j = 0; j < len; j++) b[off + 28 + j] = Math.floor(random() * 256);
          if (len > 0 && random() < 0.7) b[off + 28] = 0x20 | (b[off + 28]! & 0x1f);
          if (len > 3 && random() < 0.7) b[off + 31] = 24;
          if (len > 11 && random() < 0.3) { b[off + 36] = 0; b[off + 37] = 0; b[off + 38] = 0; b[off + 39] = 0; }
          return buildUdpDatagram(b, off, THEIRS, OURS, 50000, 3784, len, 255);
        });
      }
      assert.equal(t.bfd.drops[BfdDrop.INTERNAL_ERROR], 0);
    } finally {
      t.r.stop();
    }
  });

  test('require/release: refcounted; the last release says AdminDown; tracked API routes get a session', () => {
    const t = router({ routes: [] });
    try {
      const lan = t.r.ports[1]!;
      const peerAddr = parseAddress('10.9.0.5');
      const changes: string[] = [];
      t.bfd.onChange((c) => changes.push(`${c.port.name} ${c.peer} ${c.from}>${c.to} ${c.diagnostic}`));
      t.bfd.require(lan, peerAddr, 'rip');
      t.bfd.require(lan, peerAddr, 'other');
      assert.equal(t.bfd.state(lan, peerAddr), 'Down');
      t.bfd.release(lan, peerAddr, 'rip');
      assert.equal(t.bfd.state(lan, peerAddr), 'Down');
      t.bfd.release(lan, peerAddr, 'other');
      assert.equal(t.bfd.state(lan, peerAddr), undefined);
      assert.deepEqual(changes, [`lan ${peerAddr} Down>AdminDown administratively-down`]);
      const bye = t.lastSent(t.devices[1]);
      assert.equal(bye.bfd.state, S.ADMIN_DOWN);
      // Not a neighbour: ignored.
      t.bfd.require(lan, parseAddress('10.0.12.2'), 'rip');
      assert.equal(t.bfd.state(lan, parseAddress('10.0.12.2')), undefined);

      const route = t.r.addRoute({ prefix: parseAddress('10.7.0.0'), len: 16, port: 0, nextHop: THEIRS, metric: 1, trackBfd: true }, 'api');
      assert.equal(route.unusable, 'bfd-down');
      assert.deepEqual([...t.bfd.session(t.port, THEIRS)!.owners], ['api']);
      // Removing the last route that tracks it gives the session back.
      t.r.removeRoute(route.id);
      assert.equal(t.bfd.session(t.port, THEIRS), undefined);
      // On a /30 without via: the other end of the link.
      const p2p = t.r.addRoute({ prefix: parseAddress('10.8.0.0'), len: 16, port: 0, nextHop: 0, metric: 1, trackBfd: true }, 'api');
      assert.equal(p2p.unusable, 'bfd-down');
      assert.equal(t.port.pointToPointPeer(), THEIRS);
      assert.deepEqual([...t.bfd.session(t.port, THEIRS)!.owners], ['api']);
    } finally {
      t.r.stop();
    }
  });

  test('the API JSON', () => {
    const t = router({ bfd: { interval: 50, multiplier: 4, sessions: [{ port: 'lan', peer: '10.9.0.9', interval: 20, multiplier: 2 }] } });
    try {
      const j = bfdJson(t.bfd);
      assert.equal(j.sessions.length, 2);
      const s = j.sessions.find((x) => x.port === 'lan')!;
      assert.equal(s.peer, '10.9.0.9');
      assert.equal(s.state, 'Down');
      assert.equal(s.detectMult, 2);
      assert.equal(s.txIntervalMs, 1000, 'not Up: 1 s');
      assert.equal(s.uptimeMs, null);
      assert.deepEqual(s.owners, ['config']);
      const st = j.sessions.find((x) => x.port === 'r2')!;
      assert.equal(st.detectMult, 4);
      assert.deepEqual(st.owners, ['static']);
      t.inject(t.bfdPacket(S.INIT, { yours: t.bfd.session(t.port, THEIRS)!.session.localDiscriminator }));
      const up = bfdJson(t.bfd).sessions.find((x) => x.port === 'r2')!;
      assert.equal(up.state, 'Up');
      assert.equal(up.txIntervalMs, 100, 'max(our 50 ms, their required 100 ms)');
      assert.equal(up.rxIntervalMs, 100);
      assert.equal(up.detectionTimeMs, 300);
      assert.ok(up.uptimeMs !== null && up.uptimeMs >= 0);
      assert.equal(up.counters.upTransitions, 1);
    } finally {
      t.r.stop();
    }
  });
});
