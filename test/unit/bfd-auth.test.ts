// BFD authentication (RFC 5880 §6.7): the section's bytes, digests
// computed here from the RFC's recipe, sequence number windows (keyed and
// meticulous, circular), bfd.AuthSeqKnown forgotten after twice the
// detection time; and two BFD protocols on the core interface coming Up
// with each type, staying Down with a wrong key (counted by reason), and
// taking a new key chain by reload.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { parseRouterConfig, type BfdConfig } from '../../src/config/router-config.js';
import { parseAddress as A } from '../../src/net/addr.js';
import { BfdAuth, BfdAuthFailure } from '../../src/protocols/bfd/auth.js';
import { BfdProtocol, dropCounts } from '../../src/protocols/bfd/bfd.js';
import { BfdAuthCode, BfdCheck, BfdControlView, BfdFlag, BfdStateCode, writeBfdControl } from '../../src/wire/bfd.js';
import { FakeClock } from '../support/fake-clock.js';
import { ProtocolHarness } from '../support/protocol-harness.js';

const auth = (type: string, keys: { id: number; secret: string }[]) => ({ type, keys: keys.map((k) => ({ ...k, from: null, until: null, acceptFrom: null, acceptUntil: null })) }) as BfdConfig['auth'];

/** A Control packet (Up, detect mult 3, 100 ms) signed by `a` at `now`. */
function signed(a: BfdAuth, now: number, detectMult = 3): Uint8Array {
  const b = new Uint8Array(64);
  writeBfdControl(b, 0, BfdStateCode.UP, 0, 0, detectMult, 0x11111111, 0x22222222, 100_000, 100_000, 0);
  const len = a.sign(b, 0, now);
  return b.slice(0, len);
}

const view = (b: Uint8Array) => {
  const v = new BfdControlView().attach(b, 0, b.length);
  assert.equal(v.validate(), BfdCheck.OK);
  return v;
};

test('keyed MD5 and SHA1 sections: the RFC layout and digest (the key in the digest field, padded, hashed over the packet)', () => {
  for (const [type, code, hash, len] of [['keyed-md5', BfdAuthCode.KEYED_MD5, 'md5', 16], ['meticulous-keyed-sha1', BfdAuthCode.METICULOUS_KEYED_SHA1, 'sha1', 20]] as const) {
    const a = new BfdAuth(auth(type, [{ id: 7, secret: 'bfd-key' }]), () => 0.25);
    const b = signed(a, 5000);
    const v = view(b);
    assert.equal(b.length, 24 + 8 + len);
    assert.equal(v.length, b.length, 'Length covers the section');
    assert.ok(v.authPresent);
    assert.deepEqual([v.authType, v.authLen, v.authKeyId, b[27]], [code, 8 + len, 7, 0]);
    assert.equal(v.authSequence, (0.25 * 2 ** 32 + 1) >>> 0, 'a random start, then one up');
    const copy = b.slice();
    copy.fill(0, 32, 32 + len);
    copy.set(Buffer.from('bfd-key'), 32);
    assert.deepEqual(Buffer.from(b.subarray(32)), createHash(hash).update(copy).digest());
  }
  const p = new BfdAuth(auth('password', [{ id: 2, secret: 'hello' }]), () => 0);
  const b = signed(p, 0);
  assert.deepEqual([...b.subarray(24)], [BfdAuthCode.SIMPLE, 3 + 5, 2, ...Buffer.from('hello')]);
  assert.equal(b[1]! & BfdFlag.AUTH_PRESENT, BfdFlag.AUTH_PRESENT);
});

test('verify: every failure by reason; a tampered byte anywhere fails the digest', () => {
  const k = [{ id: 1, secret: 'k' }];
  const md5 = new BfdAuth(auth('keyed-md5', k), () => 0);
  const none = new BfdAuth(auth('none', []), () => 0);
  const good = signed(md5, 1000);
  const other = (type: string, keys = k) => new BfdAuth(auth(type, keys), () => 0);
  assert.equal(other('keyed-md5').verify(view(good), 1000, 300), 0);
  assert.equal(none.verify(view(good), 1000, 300), BfdAuthFailure.NOT_CONFIGURED);
  assert.equal(other('keyed-md5').verify(view(signed(none, 1000)), 1000, 300), BfdAuthFailure.MISSING);
  assert.equal(other('keyed-sha1').verify(view(good), 1000, 300), BfdAuthFailure.WRONG_TYPE);
  assert.equal(other('keyed-md5', [{ id: 2, secret: 'k' }]).verify(view(good), 1000, 300), BfdAuthFailure.UNKNOWN_KEY);
  assert.equal(other('keyed-md5', [{ id: 1, secret: 'K' }]).verify(view(good), 1000, 300), BfdAuthFailure.BAD_DIGEST);
  for (let i = 0; i < good.length; i++) {
    if (i === 1 || i === 3 || i === 24 || i === 25 || i === 26) continue; // flags, Length, type, Auth Len, key id: caught before the digest
    const bad = good.slice();
    bad[i]! ^= 0x40;
    const v = new BfdControlView().attach(bad, 0, bad.length);
    if (v.validate() !== BfdCheck.OK) continue;
    assert.equal(other('keyed-md5').verify(v, 1000, 300), BfdAuthFailure.BAD_DIGEST, `byte ${i}`);
  }
  // Simple password: length and bytes.
  const pw = new BfdAuth(auth('password', [{ id: 1, secret: 'secret' }]), () => 0);
  assert.equal(pw.verify(view(signed(pw, 0)), 0, 300), 0);
  assert.equal(new BfdAuth(auth('password', [{ id: 1, secret: 'secreT' }]), () => 0).verify(view(signed(pw, 0)), 0, 300), BfdAuthFailure.BAD_DIGEST);
  assert.equal(new BfdAuth(auth('password', [{ id: 1, secret: 'secret!' }]), () => 0).verify(view(signed(pw, 0)), 0, 300), BfdAuthFailure.BAD_DIGEST);
});

test('sequence numbers: keyed takes [last, last + 3×DM], meticulous [last + 1, last + 3×DM], circular; forgotten after 2× detection time', () => {
  const keys = [{ id: 1, secret: 's' }];
  // Keyed: one up per second of the sender's clock, not per packet.
  const tx = new BfdAuth(auth('keyed-sha1', keys), () => 1 - 2 ** -32);
  const rx = new BfdAuth(auth('keyed-sha1', keys), () => 0);
  const a = signed(tx, 1000);
  const b = signed(tx, 1500);
  const c = signed(tx, 2000);
  assert.equal(view(a).authSequence, 0, 'wrapped: 0xffffffff + 1');
  assert.equal(view(b).authSequence, view(a).authSequence, 'same second');
  assert.equal(view(c).authSequence, 1);
  assert.equal(rx.verify(view(c), 2000, 300), 0);
  assert.equal(rx.verify(view(a), 2000, 300), BfdAuthFailure.BAD_SEQUENCE, 'one back: a replay');
  assert.equal(rx.verify(view(c), 2000, 300), 0, 'the same again: fine (keyed)');
  // Too far ahead: more than 3 × Detect Mult.
  let far = c;
  for (let s = 3; s <= 12; s++) far = signed(tx, s * 1000);
  assert.equal(view(far).authSequence, 11);
  assert.equal(rx.verify(view(far), 2000, 300), BfdAuthFailure.BAD_SEQUENCE, '10 ahead with DM 3');
  // The window is the sender's Detect Mult (its packets we may miss): with 4, 10 ahead is fine.
  assert.equal(rx.verify(view(signed(tx, 12_000, 4)), 2000, 300), 0);
  assert.equal(rx.rcvSeq, 11);
  // Silence for twice the detection time: the next number is taken whatever it is.
  assert.equal(rx.seqKnown(2000 + 599), true);
  assert.equal(rx.seqKnown(2000 + 600), false);
  assert.equal(rx.verify(view(a), 2600, 300), 0, 'even one that went back (a restarted peer)');
  // Meticulous: every packet one up, and the same number twice is a replay.
  const mtx = new BfdAuth(auth('meticulous-keyed-md5', keys), () => 0);
  const mrx = new BfdAuth(auth('meticulous-keyed-md5', keys), () => 0);
  const m1 = signed(mtx, 0);
  const m2 = signed(mtx, 0);
  assert.equal(view(m2).authSequence, view(m1).authSequence + 1);
  assert.equal(mrx.verify(view(m1), 0, 300), 0);
  assert.equal(mrx.verify(view(m1), 0, 300), BfdAuthFailure.BAD_SEQUENCE);
  assert.equal(mrx.verify(view(m2), 0, 300), 0);
});

// ---------- two BFD protocols on the core interface ----------

function pair(cfg1: unknown, cfg2: unknown) {
  const clock = new FakeClock();
  const a = new ProtocolHarness(clock, { link: '10.0.12.1/30' });
  const b = new ProtocolHarness(clock, { link: '10.0.12.2/30' });
  const join = (from: ProtocolHarness, to: ProtocolHarness) => {
    from.wire = (port, datagram) => void clock.setTimer(1, () => to.deliver(port.name, datagram));
  };
  join(a, b);
  join(b, a);
  const config = (peer: string, bfd: unknown) => parseRouterConfig({
    router: 'x', ports: [{ name: 'link', device: 'l', address: peer === '10.0.12.2' ? '10.0.12.1/30' : '10.0.12.2/30' }],
    bfd: { interval: 100, multiplier: 3, sessions: [{ port: 'link', peer }], ...(bfd as object) },
  }).bfd;
  const pa = new BfdProtocol(a.context('bfd', 255), config('10.0.12.2', cfg1));
  const pb = new BfdProtocol(b.context('bfd', 255), config('10.0.12.1', cfg2));
  pa.start();
  pb.start();
  const state = () => [pa.state(a.port('link'), A('10.0.12.2')), pb.state(b.port('link'), A('10.0.12.1'))];
  return { clock, a, b, pa, pb, state, config, stop: () => { pa.stop(); pb.stop(); } };
}

test('two BFD protocols come Up with each authentication type, and stay Up for a minute (sequence numbers keep up)', async (t) => {
  for (const type of ['password', 'keyed-md5', 'meticulous-keyed-md5', 'keyed-sha1', 'meticulous-keyed-sha1']) {
    await t.test(type, () => {
      const a = { type, keys: [{ id: 3, secret: 'shared' }] };
      const p = pair({ auth: a }, { ports: [{ port: 'link', auth: a }] });
      try {
        p.clock.advance(3000);
        assert.deepEqual(p.state(), ['Up', 'Up']);
        p.clock.advance(60_000);
        assert.deepEqual(p.state(), ['Up', 'Up']);
        const s = p.pa.sessions()[0]!;
        assert.equal(s.upTransitions, 1);
        assert.deepEqual(dropCounts(s.drops), {});
      } finally {
        p.stop();
      }
    });
  }
});

test('a wrong key, a missing or unexpected section: the session never comes Up, the drops say why', () => {
  const cases: [unknown, unknown, string][] = [
    [{ auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 'a' }] } }, { auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 'b' }] } }, 'auth-bad-digest'],
    [{ auth: { type: 'keyed-md5', keys: [{ id: 1, secret: 'a' }] } }, {}, 'auth-not-configured'],
    [{}, { auth: { type: 'keyed-md5', keys: [{ id: 1, secret: 'a' }] } }, 'auth-missing'],
    [{ auth: { type: 'keyed-md5', keys: [{ id: 1, secret: 'a' }] } }, { auth: { type: 'keyed-md5', keys: [{ id: 2, secret: 'a' }] } }, 'auth-unknown-key'],
    [{ auth: { type: 'keyed-md5', keys: [{ id: 1, secret: 'a' }] } }, { auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 'a' }] } }, 'auth-wrong-type'],
  ];
  for (const [c1, c2, reason] of cases) {
    const p = pair(c1, c2);
    try {
      p.clock.advance(5000);
      assert.notEqual(p.state()[1], 'Up', reason);
      assert.ok((dropCounts(p.pb.drops)[reason] ?? 0) >= 3, `${reason}: ${JSON.stringify(dropCounts(p.pb.drops))}`);
      assert.equal(p.pb.rx, 0, 'the session took nothing');
    } finally {
      p.stop();
    }
  }
});

test('a session\'s own auth beats its port\'s, which beats the default; a reload with new keys on both ends keeps the session Up', () => {
  const a = { type: 'keyed-sha1', keys: [{ id: 1, secret: 'one' }] };
  const p = pair({ auth: { type: 'password', keys: [{ id: 9, secret: 'x' }] }, ports: [{ port: 'link', auth: { type: 'keyed-md5', keys: [{ id: 9, secret: 'y' }] } }], sessions: [{ port: 'link', peer: '10.0.12.2', auth: a }] }, { auth: a });
  try {
    p.clock.advance(3000);
    assert.deepEqual(p.state(), ['Up', 'Up']);
    assert.equal(p.pa.sessions()[0]!.auth.type, 'keyed-sha1');
    // Both ends move to key 2 (a new secret) in the same instant: Up all along.
    const next = { type: 'keyed-sha1', keys: [{ id: 2, secret: 'two' }] };
    p.pa.reconfigure(p.config('10.0.12.2', { auth: next }));
    p.pb.reconfigure(p.config('10.0.12.1', { auth: next }));
    p.clock.advance(10_000);
    assert.deepEqual(p.state(), ['Up', 'Up']);
    assert.equal(p.pa.sessions()[0]!.downTransitions, 0);
    // A roll-over prepared on one end: a key added to its chain (accepted, and sent from the time it starts). Nothing changes on the wire.
    p.pb.reconfigure(p.config('10.0.12.1', { auth: { type: 'keyed-sha1', keys: [{ id: 2, secret: 'two' }, { id: 3, secret: 'four', from: '2100-01-01' }] } }));
    p.clock.advance(10_000);
    assert.deepEqual(p.state(), ['Up', 'Up']);
    assert.deepEqual([dropCounts(p.pa.drops), dropCounts(p.pb.drops)], [{}, {}]);
    // One end alone changes its key: the other stops taking its packets and the session goes Down (detection time).
    p.pa.reconfigure(p.config('10.0.12.2', { auth: { type: 'keyed-sha1', keys: [{ id: 2, secret: 'three' }] } }));
    p.clock.advance(1000);
    assert.equal(p.state()[1], 'Down');
    assert.ok((dropCounts(p.pb.drops)['auth-bad-digest'] ?? 0) > 0, JSON.stringify([dropCounts(p.pb.drops), dropCounts(p.pa.drops)]));
  } finally {
    p.stop();
  }
});
