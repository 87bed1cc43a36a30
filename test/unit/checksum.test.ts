import test from 'node:test';
import assert from 'node:assert/strict';
import {
  sum16, fold16, checksum, pseudoHeaderSum, updateChecksum16, updateChecksum32,
} from '../../src/wire/checksum.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

// Independent, deliberately naive reference (RFC 1071 §4.1 style).
function refChecksum(b: Uint8Array, off = 0, len = b.length - off): number {
  let s = 0;
  for (let i = 0; i < len; i += 2) {
    s += b[off + i] * 256 + (i + 1 < len ? b[off + i + 1] : 0);
    s = (s & 0xffff) + Math.floor(s / 65536);
  }
  s = (s & 0xffff) + Math.floor(s / 65536);
  return (~s) & 0xffff;
}

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

test('RFC 1071 §3 example bytes: sum, fold and checksum', () => {
  const b = hex('00 01 f2 03 f4 f5 f6 f7');
  assert.equal(sum16(b, 0, 8), 0x2ddf0);
  assert.equal(fold16(0x2ddf0), 0xddf2);
  assert.equal(checksum(b, 0, 8), 0x220d);
  // Byte-order independence claim of RFC 1071 §2(B): swapped input, swapped sum.
  const sw = hex('01 00 03 f2 f5 f4 f7 f6');
  assert.equal(fold16(sum16(sw, 0, 8)), 0xf2dd);
});

test('known captured IPv4 header (UDP 192.168.0.1 -> 192.168.0.199) has checksum 0xb861', () => {
  const h = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
  assert.equal(checksum(h, 0, 20), 0, 'verifying a correct header gives 0');
  h[10] = 0; h[11] = 0;
  assert.equal(checksum(h, 0, 20), 0xb861);
});

test('odd length pads the trailing byte; offsets are honoured', () => {
  assert.equal(sum16(Uint8Array.of(0x01), 0, 1), 0x0100);
  assert.equal(sum16(Uint8Array.of(0xaa, 0x12, 0x34, 0x56), 1, 3), 0x1234 + 0x5600);
  assert.equal(sum16(Uint8Array.of(1, 2, 3, 4), 0, 4, 7), 0x0102 + 0x0304 + 7);
  assert.equal(checksum(new Uint8Array(0), 0, 0), 0xffff);
  assert.equal(checksum(Uint8Array.of(0xff, 0xff), 0, 2), 0);
});

test('fold16 handles large accumulators', () => {
  assert.equal(fold16(0), 0);
  assert.equal(fold16(0xffff), 0xffff);
  assert.equal(fold16(0x10000), 1);
  assert.equal(fold16(0x1fffe), 0xffff);
  assert.equal(fold16(0xffff * 100000), 0xffff);
  assert.equal(fold16(2 ** 40 + 5), fold16((2 ** 40) % 0xffff + 5));
  // 64 KiB of 0xff: accumulator ~2^31, still exact.
  const big = new Uint8Array(65535).fill(0xff);
  assert.equal(checksum(big, 0, big.length), refChecksum(big));
});

test('checksum matches a naive reference on random buffers, offsets and lengths', () => {
  const r = rng(1);
  const buf = new Uint8Array(3000);
  for (let n = 0; n < 2000; n++) {
    for (let i = 0; i < buf.length; i++) buf[i] = (r() * 256) | 0;
    const off = (r() * 50) | 0;
    const len = (r() * 2000) | 0;
    assert.equal(checksum(buf, off, len), refChecksum(buf, off, len));
    // Split computation: two partial sums chained via acc (even split point).
    const cut = (len >>> 1) & ~1;
    assert.equal(checksum(buf, off + cut, len - cut, sum16(buf, off, cut)), refChecksum(buf, off, len));
  }
});

test('pseudoHeaderSum equals summing the 12 pseudo-header bytes', () => {
  const r = rng(2);
  for (let n = 0; n < 1000; n++) {
    const src = (r() * 2 ** 32) >>> 0, dst = (r() * 2 ** 32) >>> 0;
    const proto = (r() * 256) | 0, len = (r() * 65536) | 0;
    const ph = new Uint8Array(12);
    const dv = new DataView(ph.buffer);
    dv.setUint32(0, src); dv.setUint32(4, dst); ph[9] = proto; dv.setUint16(10, len);
    assert.equal(fold16(pseudoHeaderSum(src, dst, proto, len)), fold16(sum16(ph, 0, 12)));
  }
  // Signed inputs are normalised.
  assert.equal(pseudoHeaderSum(-1, 0, 0, 0), 0x1fffe);
});

test('RFC 1624 §4 worked example: eqn. 3 gives 0x0000 (eqn. 2 would give 0xffff)', () => {
  // Sum of the other header words 0xcd7a; m = 0x5555 -> m' = 0x3285.
  assert.equal(updateChecksum16(0xdd2f, 0x5555, 0x3285), 0x0000);
  // And back again.
  assert.equal(updateChecksum16(0x0000, 0x3285, 0x5555), 0xdd2f);
});

// Force the checksum of a 20-byte header-like buffer (word 2 = checksum) to a
// chosen value by picking word 1; returns false if impossible.
function forceChecksum(b: Uint8Array, target: number): void {
  b[2] = 0; b[3] = 0; b[10] = 0; b[11] = 0;
  const s = fold16(sum16(b, 0, 20)); // 1..0xffff as b[0] != 0
  const want = ~target & 0xffff; // folded sum needed
  const w = ((want - s) % 0xffff + 0xffff) % 0xffff;
  b[2] = w >>> 8; b[3] = w & 0xff;
  const c = checksum(b, 0, 20);
  b[10] = c >>> 8; b[11] = c & 0xff;
}

test('updateChecksum16 == full recompute over thousands of random headers, incl. 0x0000 results', () => {
  const r = rng(3);
  const b = new Uint8Array(20);
  let zeroBefore = 0, zeroAfter = 0;
  for (let n = 0; n < 20000; n++) {
    for (let i = 0; i < 20; i++) b[i] = (r() * 256) | 0;
    b[0] = 0x45; // never an all-zero sum, as in a real header
    const wi = 2 * (2 + ((r() * 3) | 0)); // words 2..4 (bytes 4..9), not the checksum
    const mode = n % 4;
    const newWord = (r() * 65536) | 0;
    if (mode === 1) {
      forceChecksum(b, 0x0000); // HC = 0x0000 before the update
      zeroBefore++;
    } else if (mode === 2) {
      // Arrange HC' = 0x0000 after the update: set the new word, force, restore.
      const old = (b[wi] << 8) | b[wi + 1];
      b[wi] = newWord >>> 8; b[wi + 1] = newWord & 0xff;
      forceChecksum(b, 0x0000);
      b[wi] = old >>> 8; b[wi + 1] = old & 0xff;
      b[10] = 0; b[11] = 0;
      const c = checksum(b, 0, 20); b[10] = c >>> 8; b[11] = c & 0xff;
      zeroAfter++;
    } else {
      b[10] = 0; b[11] = 0;
      const c = checksum(b, 0, 20); b[10] = c >>> 8; b[11] = c & 0xff;
    }
    const hc = (b[10] << 8) | b[11];
    assert.equal(checksum(b, 0, 20), 0);
    const oldWord = (b[wi] << 8) | b[wi + 1];
    b[wi] = newWord >>> 8; b[wi + 1] = newWord & 0xff;
    const inc = updateChecksum16(hc, oldWord, newWord);
    b[10] = 0; b[11] = 0;
    const full = checksum(b, 0, 20);
    assert.equal(inc, full, `n=${n} hc=${hc.toString(16)} ${oldWord.toString(16)}->${newWord.toString(16)}`);
    if (mode === 2) assert.equal(inc, 0);
    assert.notEqual(inc, 0xffff);
  }
  assert.ok(zeroBefore > 1000 && zeroAfter > 1000);
});

test('updateChecksum32 == full recompute for random address rewrites', () => {
  const r = rng(4);
  const b = new Uint8Array(20);
  for (let n = 0; n < 10000; n++) {
    for (let i = 0; i < 20; i++) b[i] = (r() * 256) | 0;
    b[0] = 0x45;
    if (n % 3 === 0) forceChecksum(b, 0);
    else { b[10] = 0; b[11] = 0; const c = checksum(b, 0, 20); b[10] = c >>> 8; b[11] = c & 0xff; }
    const hc = (b[10] << 8) | b[11];
    const at = r() < 0.5 ? 12 : 16;
    const dv = new DataView(b.buffer);
    const old = dv.getUint32(at);
    const nv = n % 50 === 0 ? old ^ 0xffffffff : (r() * 2 ** 32) >>> 0;
    dv.setUint32(at, nv);
    const inc = updateChecksum32(hc, old, nv | 0); // signed input must work too
    b[10] = 0; b[11] = 0;
    assert.equal(inc, checksum(b, 0, 20));
  }
});
