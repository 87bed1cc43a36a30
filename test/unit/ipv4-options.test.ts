// The IPv4 option view (RFC 791 §3.1): the walk and its checks, and the
// in-place changes a router makes — alone, without a router around them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { writeIpv4Header, readU32 } from '../../src/wire/ipv4.js';
import {
  IpOption, Ipv4Options, keepOnlyOptions, optionFull, recordRoute, reverseSourceRoute, stampTimestamp, standardTimestamp,
} from '../../src/wire/ipv4-options.js';
import { parseAddress as A } from '../../src/net/addr.js';
import { seededRandom as rng } from '../../src/testbed/random.js';

/** A header at offset 3 of a buffer, with `opts` padded to a 4-byte boundary. */
function header(opts: number[]): { buf: Uint8Array; off: number } {
  const padded = (opts.length + 3) & ~3;
  const buf = new Uint8Array(3 + 20 + padded + 8);
  writeIpv4Header(buf, 3, 20 + padded + 8, 17, A('10.0.0.1'), A('10.0.0.2'), 64);
  buf[3] = 0x40 | ((20 + padded) >> 2);
  buf.set(opts, 23);
  return { buf, off: 3 };
}
const ip = (s: string) => [...new Uint8Array(new Uint32Array([A(s)]).buffer)].reverse();

test('parse finds RR, TS and a source route after NOPs; EOL ends the walk', () => {
  const o = new Ipv4Options();
  const { buf, off } = header([1, 7, 7, 4, 0, 0, 0, 0, 137, 7, 4, ...ip('10.1.1.1'), 68, 8, 5, 0, 0, 0, 0, 0, 0, 7, 1]);
  assert.equal(o.parse(buf, off), true);
  assert.deepEqual([o.rr - off, o.sr - off, o.ts - off, o.strict, o.any], [21, 28, 35, true, true]);
  const plain = header([1, 1, 1, 0]);
  assert.equal(o.parse(plain.buf, plain.off), true);
  assert.equal(o.any, false);
});

test('parse never reads past the header, whatever the bytes', () => {
  const r = rng(5);
  const o = new Ipv4Options();
  for (let n = 0; n < 20000; n++) {
    const len = 1 + Math.floor(r() * 40);
    const opts = Array.from({ length: len }, () => (r() < 0.3 ? [0, 1, 7, 68, 131, 137][Math.floor(r() * 6)]! : Math.floor(r() * 256)));
    const { buf, off } = header(opts);
    const ok = o.parse(buf, off);
    const hl = (buf[off]! & 15) * 4;
    if (!ok) assert.ok(o.problem >= 20 && o.problem < hl, `pointer ${o.problem} inside the options (hl ${hl})`);
    for (const at of [o.rr, o.ts, o.sr]) if (at >= 0) assert.ok(at - off + 3 <= hl);
  }
});

test('recordRoute fills the next slot, then stops when full', () => {
  const { buf, off } = header([7, 7, 4, 0, 0, 0, 0]);
  recordRoute(buf, off + 20, A('192.0.2.1'));
  assert.deepEqual([...buf.subarray(off + 20, off + 27)], [7, 7, 8, ...ip('192.0.2.1')]);
  recordRoute(buf, off + 20, A('192.0.2.9'));
  assert.deepEqual([...buf.subarray(off + 20, off + 27)], [7, 7, 8, ...ip('192.0.2.1')]);
});

test('stampTimestamp: one entry per flag; overflow counts when full, up to 15', () => {
  const { buf, off } = header([68, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  stampTimestamp(buf, off + 20, A('192.0.2.1'), 4242, false);
  assert.deepEqual([buf[off + 22], readU32(buf, off + 24), readU32(buf, off + 28)], [13, A('192.0.2.1'), 4242]);
  stampTimestamp(buf, off + 20, A('192.0.2.1'), 1, false);
  assert.equal(buf[off + 23], 0x11, 'full: overflow 1');
  assert.equal(standardTimestamp(Date.UTC(2024, 0, 2, 0, 0, 1, 5)), 1005);
});

test('an odd pointer or length never makes a write or read past the option: less than an entry of room is full (found by npm run fuzz)', () => {
  // Timestamp, flag 0, length 40, pointer 36: one stamp fits; the second (an echo reply's) would reach 3 bytes past.
  let { buf, off } = header([68, 40, 36, 0xd0, ...new Array(36).fill(0)]);
  const after = buf[off + 60];
  stampTimestamp(buf, off + 20, A('192.0.2.1'), 7, false);
  assert.deepEqual([buf[off + 22], readU32(buf, off + 55)], [40, 7]);
  stampTimestamp(buf, off + 20, A('192.0.2.1'), 8, false);
  assert.deepEqual([buf[off + 22], buf[off + 23], buf[off + 60]], [40, 0xe0, after], 'counted in the overflow, nothing written past the option');
  // Flag 1, length 20, pointer 9: one address+time entry fits, the next would reach 4 bytes past.
  ({ buf, off } = header([68, 20, 9, 1, ...new Array(16).fill(0)]));
  stampTimestamp(buf, off + 20, A('192.0.2.1'), 7, false);
  stampTimestamp(buf, off + 20, A('192.0.2.2'), 8, false);
  assert.deepEqual([buf[off + 22], buf[off + 23], readU32(buf, off + 40)], [17, 0x11, 0]);
  // Record Route of length 9 with pointer 4: one address, then full (not one byte past).
  ({ buf, off } = header([7, 9, 4, 0, 0, 0, 0, 0, 0, 0xee]));
  recordRoute(buf, off + 20, A('192.0.2.1'));
  assert.equal(optionFull(buf, off + 20), true);
  recordRoute(buf, off + 20, A('192.0.2.9'));
  assert.deepEqual([buf[off + 22], buf[off + 29]], [8, 0xee]);
});

test('reverseSourceRoute: {G1 … Gn} from S → to Gn with {Gn-1 … G1, S}; a route begun with S is not doubled', () => {
  const s = A('10.9.0.7');
  let h = header([131, 15, 16, ...ip('10.1.0.1'), ...ip('10.2.0.1'), ...ip('10.3.0.1'), 0]);
  assert.equal(reverseSourceRoute(h.buf, h.off + 20, s), A('10.3.0.1'));
  assert.deepEqual([...h.buf.subarray(h.off + 20, h.off + 35)], [131, 15, 4, ...ip('10.2.0.1'), ...ip('10.1.0.1'), ...ip('10.9.0.7')]);
  h = header([137, 15, 16, ...ip('10.9.0.7'), ...ip('10.2.0.1'), ...ip('10.3.0.1'), 0]);
  assert.equal(reverseSourceRoute(h.buf, h.off + 20, s), A('10.3.0.1'));
  assert.deepEqual([...h.buf.subarray(h.off + 20, h.off + 35)], [137, 11, 4, ...ip('10.2.0.1'), ...ip('10.9.0.7'), 1, 1, 1, 1]);
  h = header([131, 7, 8, ...ip('10.9.0.7'), 0]);
  assert.equal(reverseSourceRoute(h.buf, h.off + 20, s), s, 'nothing between: straight back');
  assert.deepEqual([...h.buf.subarray(h.off + 20, h.off + 27)], [1, 1, 1, 1, 1, 1, 1]);
});

test('keepOnlyOptions turns every other option into NOPs', () => {
  const { buf, off } = header([148, 4, 0, 0, 7, 3, 4, 0]);
  keepOnlyOptions(buf, off, off + 24, -1, -1);
  assert.deepEqual([...buf.subarray(off + 20, off + 28)], [1, 1, 1, 1, 7, 3, 4, 0]);
  assert.equal(IpOption.ROUTER_ALERT, 148);
});
