import test from 'node:test';
import assert from 'node:assert/strict';
import {
  BFD_CHECK_NAMES, BFD_CONTROL_LEN, BfdCheck, BfdControlView, BfdFlag, BfdStateCode, DIAG_NAMES, Diag, STATE_NAMES,
  diagName, writeBfdControl,
} from '../../src/wire/bfd.js';

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  return Uint8Array.from(clean.match(/../g)!.map((h) => parseInt(h, 16)));
}

// Captured on this machine (tcpdump -X, UDP payload) from BIRD 2.0.12
// starting a session at `interval 100 ms; multiplier 3;`: version 1, no
// diagnostic, state Down, detect mult 3, length 24, my discriminator
// 0xd83d71cf (random per session), your discriminator 0 (peer not heard
// yet), desired min TX 1 000 000 µs (§6.8.3: ≥ 1 s while not Up), required
// min RX 100 000 µs, required min echo RX 0.
const BIRD_DOWN = hex('20 40 03 18  d8 3d 71 cf  00 00 00 00  00 0f 42 40  00 01 86 a0  00 00 00 00');

test('known answer: a Down packet as BIRD sends it', () => {
  const v = new BfdControlView().attach(BIRD_DOWN, 0, BIRD_DOWN.length);
  assert.equal(v.validate(), BfdCheck.OK);
  assert.equal(v.version, 1);
  assert.equal(v.diag, Diag.NONE);
  assert.equal(v.state, BfdStateCode.DOWN);
  assert.equal(STATE_NAMES[v.state], 'Down');
  assert.equal(v.poll, false);
  assert.equal(v.final, false);
  assert.equal(v.cpi, false);
  assert.equal(v.authPresent, false);
  assert.equal(v.demand, false);
  assert.equal(v.multipoint, false);
  assert.equal(v.detectMult, 3);
  assert.equal(v.length, 24);
  assert.equal(v.myDiscriminator, 0xd83d71cf);
  assert.equal(v.yourDiscriminator, 0);
  assert.equal(v.desiredMinTx, 1_000_000);
  assert.equal(v.requiredMinRx, 100_000);
  assert.equal(v.requiredMinEchoRx, 0);

  // The writer produces the same bytes from the same fields.
  const out = new Uint8Array(24);
  assert.equal(writeBfdControl(out, 0, BfdStateCode.DOWN, Diag.NONE, 0, 3, 0xd83d71cf, 0, 1_000_000, 100_000, 0), BFD_CONTROL_LEN);
  assert.deepEqual(out, BIRD_DOWN);
});

test('known answer: AdminDown with diag 7 and Final', () => {
  const out = new Uint8Array(24);
  writeBfdControl(out, 0, BfdStateCode.ADMIN_DOWN, Diag.ADMINISTRATIVELY_DOWN, BfdFlag.FINAL, 3, 1, 0xfffffffe, 100_000, 100_000, 0);
  assert.deepEqual(out, hex('27 10 03 18  00 00 00 01  ff ff ff fe  00 01 86 a0  00 01 86 a0  00 00 00 00'));
});

test('round trip of every field, at an offset, all states and flags', () => {
  const buf = new Uint8Array(100).fill(0xaa);
  const v = new BfdControlView();
  for (let state = 0; state < 4; state++) {
    for (const flags of [0, BfdFlag.POLL, BfdFlag.FINAL, BfdFlag.CONTROL_PLANE_INDEPENDENT, BfdFlag.AUTH_PRESENT, BfdFlag.DEMAND, BfdFlag.MULTIPOINT, 0x3f]) {
      for (const diag of [0, 1, 3, 7, 8, 31]) {
        writeBfdControl(buf, 13, state, diag, flags, 255, 0xdeadbeef, 0x80000001, 0xffffffff, 1, 12345);
        v.attach(buf, 13, 24);
        assert.equal(v.version, 1);
        assert.equal(v.state, state);
        assert.equal(v.diag, diag);
        assert.equal(v.poll, (flags & BfdFlag.POLL) !== 0);
        assert.equal(v.final, (flags & BfdFlag.FINAL) !== 0);
        assert.equal(v.cpi, (flags & BfdFlag.CONTROL_PLANE_INDEPENDENT) !== 0);
        assert.equal(v.authPresent, (flags & BfdFlag.AUTH_PRESENT) !== 0);
        assert.equal(v.demand, (flags & BfdFlag.DEMAND) !== 0);
        assert.equal(v.multipoint, (flags & BfdFlag.MULTIPOINT) !== 0);
        assert.equal(v.detectMult, 255);
        assert.equal(v.length, 24);
        assert.equal(v.myDiscriminator, 0xdeadbeef);
        assert.equal(v.yourDiscriminator, 0x80000001);
        assert.equal(v.desiredMinTx, 0xffffffff);
        assert.equal(v.requiredMinRx, 1);
        assert.equal(v.requiredMinEchoRx, 12345);
      }
    }
  }
  // Nothing outside the 24 bytes was touched.
  assert.equal(buf[12], 0xaa);
  assert.equal(buf[37], 0xaa);
});

test('validate: every RFC 5880 §6.8.6 failure', () => {
  const v = new BfdControlView();
  const good = () => {
    const b = new Uint8Array(64);
    writeBfdControl(b, 0, BfdStateCode.UP, 0, 0, 3, 11, 22, 100_000, 100_000, 0);
    return b;
  };
  const check = (mutate: (b: Uint8Array) => void, datagram = 24) => {
    const b = good();
    mutate(b);
    return v.attach(b, 0, datagram).validate();
  };
  assert.equal(check(() => undefined), BfdCheck.OK);
  assert.equal(check(() => undefined, 64), BfdCheck.OK, 'trailing bytes beyond Length are fine');
  assert.equal(check(() => undefined, 23), BfdCheck.TRUNCATED);
  assert.equal(check(() => undefined, 0), BfdCheck.TRUNCATED);
  assert.equal(check((b) => { b[0] = (0 << 5); }), BfdCheck.BAD_VERSION);
  assert.equal(check((b) => { b[0] = (2 << 5); }), BfdCheck.BAD_VERSION);
  assert.equal(check((b) => { b[0] = (7 << 5) | 1; }), BfdCheck.BAD_VERSION);
  // The A bit: at least 26 bytes, and an authentication section (≥ 3 bytes) within Length.
  assert.equal(check((b) => { b[1]! |= BfdFlag.AUTH_PRESENT; b[3] = 26; }, 26), BfdCheck.AUTH_MALFORMED, 'Auth Len 0');
  assert.equal(check((b) => { b[1]! |= BfdFlag.AUTH_PRESENT; }), BfdCheck.AUTH_MALFORMED, 'Length 24 with the A bit');
  assert.equal(check((b) => { b[1]! |= BfdFlag.AUTH_PRESENT; b[3] = 27; b[24] = 1; b[25] = 4; }, 27), BfdCheck.AUTH_MALFORMED, 'section past Length');
  assert.equal(check((b) => { b[1]! |= BfdFlag.AUTH_PRESENT; b[3] = 28; b[24] = 1; b[25] = 4; }, 28), BfdCheck.OK, 'a 1-byte password fits');
  assert.equal(check((b) => { b[3] = 23; }), BfdCheck.LENGTH_TOO_SHORT);
  assert.equal(check((b) => { b[3] = 0; }), BfdCheck.LENGTH_TOO_SHORT);
  assert.equal(check((b) => { b[3] = 25; }), BfdCheck.LENGTH_EXCEEDS_DATAGRAM);
  assert.equal(check((b) => { b[3] = 255; }, 64), BfdCheck.LENGTH_EXCEEDS_DATAGRAM);
  assert.equal(check((b) => { b[2] = 0; }), BfdCheck.ZERO_DETECT_MULT);
  assert.equal(check((b) => { b[1]! |= BfdFlag.MULTIPOINT; }), BfdCheck.MULTIPOINT);
  assert.equal(check((b) => { b.fill(0, 4, 8); }), BfdCheck.ZERO_MY_DISCRIMINATOR);
  // Your Discriminator 0 is allowed only in Down and AdminDown.
  for (const [state, ok] of [[BfdStateCode.ADMIN_DOWN, true], [BfdStateCode.DOWN, true], [BfdStateCode.INIT, false], [BfdStateCode.UP, false]] as const) {
    const r = check((b) => { b.fill(0, 8, 12); b[1] = (state << 6) | (b[1]! & 0x3f); });
    assert.equal(r, ok ? BfdCheck.OK : BfdCheck.ZERO_YOUR_DISCRIMINATOR, STATE_NAMES[state]);
  }
  // Every code has a name for the counters.
  for (const code of Object.values(BfdCheck)) assert.ok(BFD_CHECK_NAMES[code]);
});

test('validate never reads outside the datagram and never throws on random bytes', () => {
  let seed = 1;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) & 0xff;
  const v = new BfdControlView();
  const buf = new Uint8Array(80);
  let ok = 0;
  for (let i = 0; i < 20000; i++) {
    for (let j = 0; j < buf.length; j++) buf[j] = rnd();
    if (i & 1) buf[0] = (1 << 5) | (buf[0]! & 0x1f);
    const len = rnd() % 60;
    const r = v.attach(buf, 10, len).validate();
    assert.ok(r >= 0 && r < BFD_CHECK_NAMES.length);
    if (r === BfdCheck.OK) {
      ok++;
      assert.ok(v.length >= 24 && v.length <= len && v.detectMult > 0 && v.myDiscriminator !== 0 && !v.multipoint);
      if (v.authPresent) assert.ok(v.authLen >= 3 && 24 + v.authLen <= v.length);
    }
  }
  assert.ok(ok >= 0);
});

test('diagnostic and state names', () => {
  assert.equal(DIAG_NAMES[7], 'administratively-down');
  assert.equal(DIAG_NAMES[3], 'neighbor-signaled-session-down');
  assert.equal(DIAG_NAMES[1], 'control-detection-time-expired');
  assert.equal(diagName(Diag.NONE), 'none');
  assert.equal(diagName(8), 'reverse-concatenated-path-down');
  assert.equal(diagName(20), 'reserved-20');
  assert.deepEqual([...STATE_NAMES], ['AdminDown', 'Down', 'Init', 'Up']);
});
