// RIPv2 packet format (RFC 2453 §4): known bytes, round trips, and every
// validation failure, packet-level and entry-level.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddress } from '../../src/net/addr.js';
import {
  AFI_AUTH, RIP_CHECK_NAMES, RIP_ENTRY_LEN, RIP_HEADER_LEN, RIP_INFINITY, RipAuthType, RipCheck, RipCommand, RipView,
  maskLength, writeRipCryptoEntry, writeRipEntry, writeRipHeader, writeRipPasswordEntry, writeRipTrailerHeader, writeWholeTableRequest,
} from '../../src/wire/rip.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const A = parseAddress;

/** A Response with the given entries [prefix, len, nextHop, metric, tag]. */
function response(entries: [string, number, string, number, number?][], at = 0): Uint8Array {
  const b = new Uint8Array(at + RIP_HEADER_LEN + entries.length * RIP_ENTRY_LEN);
  writeRipHeader(b, at, RipCommand.RESPONSE);
  entries.forEach(([p, len, nh, metric, tag], i) => writeRipEntry(b, at + RIP_HEADER_LEN + i * RIP_ENTRY_LEN, A(p), len, A(nh), metric, tag ?? 0));
  return b;
}

const view = (b: Uint8Array, off = 0, len = b.length - off) => new RipView().attach(b, off, len);

test("BIRD's whole-table Request, byte for byte (command 1, version 2, AFI 0, metric 16)", () => {
  const b = new Uint8Array(24).fill(0xaa);
  assert.equal(writeWholeTableRequest(b, 0), 24);
  assert.equal(toHex(b), '01020000' + '0000' + '0000' + '00000000' + '00000000' + '00000000' + '00000010');
  const v = view(b);
  assert.equal(v.validate(), RipCheck.OK);
  assert.equal(v.command, RipCommand.REQUEST);
  assert.equal(v.entryCount, 1);
  assert.equal(v.isWholeTableRequest, true);
  // A Response of the same shape is not a table request, nor is a Request with metric 15.
  b[0] = RipCommand.RESPONSE;
  assert.equal(view(b).isWholeTableRequest, false);
  b[0] = RipCommand.REQUEST;
  b[23] = 15;
  assert.equal(view(b).isWholeTableRequest, false);
});

test('a Response entry, byte for byte, and read back', () => {
  const b = response([['10.0.1.0', 24, '0.0.0.0', 1, 0x1234], ['0.0.0.0', 0, '10.0.12.2', 16], ['192.168.7.9', 32, '0.0.0.0', 15]]);
  assert.equal(toHex(b.subarray(0, 24)), '02020000' + '00021234' + '0a000100' + 'ffffff00' + '00000000' + '00000001');
  const v = view(b);
  assert.equal(v.validate(), RipCheck.OK);
  assert.equal(v.command, RipCommand.RESPONSE);
  assert.equal(v.version, 2);
  assert.equal(v.entryCount, 3);
  assert.deepEqual([v.afi(0), v.routeTag(0), v.address(0), v.mask(0), v.nextHop(0), v.metric(0)], [2, 0x1234, A('10.0.1.0'), 0xffffff00, 0, 1]);
  assert.deepEqual([v.address(1), v.mask(1), v.nextHop(1), v.metric(1)], [0, 0, A('10.0.12.2'), 16]);
  assert.deepEqual([v.address(2), v.mask(2), maskLength(v.mask(2))], [A('192.168.7.9'), 0xffffffff, 32]);
  for (let i = 0; i < 3; i++) assert.equal(v.checkEntry(i), RipCheck.OK);
  v.setMetric(0, 9);
  assert.equal(v.metric(0), 9);
});

test('a hand-assembled two-entry Response decodes (10.0.2.0/24 and 192.168.60.0/24, metric 1)', () => {
  const b = hex('0202 0000  0002 0000 0a00 0200 ffff ff00 0000 0000 0000 0001  0002 0000 c0a8 3c00 ffff ff00 0000 0000 0000 0001');
  const v = view(b);
  assert.equal(v.validate(), RipCheck.OK);
  assert.equal(v.entryCount, 2);
  assert.equal(v.address(1), A('192.168.60.0'));
  assert.equal(maskLength(v.mask(1)), 24);
});

test('views honour the offset inside a larger buffer', () => {
  const b = response([['10.9.0.0', 16, '0.0.0.0', 3]], 100);
  const v = view(b, 100);
  assert.equal(v.validate(), RipCheck.OK);
  assert.equal(v.address(0), A('10.9.0.0'));
  assert.equal(v.entryOffset(0), 104);
});

test('maskLength: contiguous masks give their length, others −1', () => {
  for (let len = 0; len <= 32; len++) assert.equal(maskLength(len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0), len);
  for (const m of [0xff00ff00, 0x00ffffff, 0xfffffffe ^ 0x100, 0x80000001, 1]) assert.equal(maskLength(m >>> 0), -1, m.toString(16));
});

test('packet-level validation: each failure has its reason code', () => {
  const ok = () => response([['10.0.1.0', 24, '0.0.0.0', 1]]);
  const cases: [string, Uint8Array, number, number][] = [];
  const add = (name: string, b: Uint8Array, code: number, len = b.length) => cases.push([name, b, code, len]);

  add('empty', new Uint8Array(0), RipCheck.TRUNCATED);
  add('3 bytes', Uint8Array.of(2, 2, 0), RipCheck.TRUNCATED);
  let b = ok(); add('length beyond the buffer', b, RipCheck.TRUNCATED, b.length + 20);
  b = ok(); b[1] = 1; add('version 1 (RIPv1 is not supported)', b, RipCheck.BAD_VERSION);
  b = ok(); b[1] = 0; add('version 0', b, RipCheck.BAD_VERSION);
  b = ok(); b[1] = 3; add('version 3', b, RipCheck.BAD_VERSION);
  b = ok(); b[0] = 0; add('command 0', b, RipCheck.BAD_COMMAND);
  b = ok(); b[0] = 3; add('command 3 (traceon)', b, RipCheck.BAD_COMMAND);
  b = ok(); add('one byte short', b, RipCheck.BAD_LENGTH, b.length - 1);
  b = new Uint8Array(4 + 19); writeRipHeader(b, 0, 2); add('4 + 19', b, RipCheck.BAD_LENGTH);
  b = new Uint8Array(4 + 26 * 20); writeRipHeader(b, 0, 2); add('26 entries', b, RipCheck.TOO_MANY_ENTRIES);
  b = ok(); b[4] = 0xff; b[5] = 0xff; add('auth entry of type 0', b, RipCheck.AUTH_MALFORMED);

  for (const [name, buf, code, len] of cases) {
    assert.equal(view(buf, 0, len).validate(), code, `${name}: expected ${RIP_CHECK_NAMES[code]}, got ${RIP_CHECK_NAMES[view(buf, 0, len).validate()]}`);
  }
  // The limits themselves are fine: 25 entries, and a header with no entries.
  b = response(Array.from({ length: 25 }, (_, i) => [`10.${i}.0.0`, 16, '0.0.0.0', 1] as [string, number, string, number]));
  assert.equal(view(b).validate(), RipCheck.OK);
  assert.equal(view(b).entryCount, 25);
  b = new Uint8Array(4); writeRipHeader(b, 0, RipCommand.RESPONSE);
  assert.equal(view(b).validate(), RipCheck.OK);
  assert.equal(view(b).entryCount, 0);
  assert.equal(AFI_AUTH, 0xffff);
});

test('entry-level validation: AFI, metric, mask, host bits, address', () => {
  const one = (p: string, len: number, metric: number, patch?: (b: Uint8Array) => void) => {
    const b = response([[p, len, '0.0.0.0', metric]]);
    patch?.(b);
    const v = view(b);
    assert.equal(v.validate(), RipCheck.OK);
    return v.checkEntry(0);
  };
  assert.equal(one('10.0.0.0', 8, 1), RipCheck.OK);
  assert.equal(one('10.0.0.0', 8, RIP_INFINITY), RipCheck.OK);
  assert.equal(one('0.0.0.0', 0, 5), RipCheck.OK, 'the default route');
  assert.equal(one('10.0.0.0', 8, 1, (b) => { b[5] = 0; }), RipCheck.BAD_AFI, 'AFI 0 in a Response');
  assert.equal(one('10.0.0.0', 8, 1, (b) => { b[5] = 10; }), RipCheck.BAD_AFI, 'AFI 10 (IPv6)');
  assert.equal(one('10.0.0.0', 8, 0), RipCheck.BAD_METRIC, 'metric 0');
  assert.equal(one('10.0.0.0', 8, 17), RipCheck.BAD_METRIC, 'metric 17');
  assert.equal(one('10.0.0.0', 8, 1, (b) => { b[20] = 0x80; }), RipCheck.BAD_METRIC, 'metric 2^31 + 1');
  assert.equal(one('10.0.0.0', 8, 1, (b) => { b[14] = 0xff; }), RipCheck.BAD_MASK, 'mask 255.0.255.0');
  assert.equal(one('10.0.0.0', 8, 1, (b) => { b.set([0x00, 0xff, 0xff, 0xff], 12); }), RipCheck.BAD_MASK, 'mask 0.255.255.255');
  assert.equal(one('10.0.1.0', 16, 1), RipCheck.HOST_BITS_SET, '10.0.1.0/16');
  assert.equal(one('10.0.0.1', 31, 1), RipCheck.HOST_BITS_SET, '10.0.0.1/31');
  assert.equal(one('127.0.0.0', 8, 1), RipCheck.BAD_ADDRESS, 'loopback');
  assert.equal(one('224.0.0.0', 4, 1), RipCheck.BAD_ADDRESS, 'multicast');
  assert.equal(one('240.0.0.0', 4, 1), RipCheck.BAD_ADDRESS, 'class E');
  assert.equal(one('0.1.0.0', 16, 1), RipCheck.BAD_ADDRESS, 'net 0 other than the default');
});

test('random bytes never throw, and whatever validates has sane entries', () => {
  let seed = 7;
  const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const b = new Uint8Array(600);
  const v = new RipView();
  let okCount = 0;
  for (let n = 0; n < 20000; n++) {
    const len = (rnd() * 600) | 0;
    for (let i = 0; i < len; i++) b[i] = (rnd() * 256) | 0;
    if (n % 3 === 0) { b[0] = 2; b[1] = 2; } // get past the header now and then
    const l = n % 5 === 0 ? 4 + 20 * ((len / 20) | 0) : len;
    v.attach(b, 0, Math.min(l, 600));
    if (v.validate() !== RipCheck.OK) continue;
    okCount++;
    assert.ok(v.entryCount <= 25);
    for (let i = 0; i < v.entryCount; i++) {
      if (v.checkEntry(i) !== RipCheck.OK) continue;
      assert.ok(v.metric(i) >= 1 && v.metric(i) <= 16);
      assert.ok(maskLength(v.mask(i)) >= 0);
    }
  }
  assert.ok(okCount > 100, `only ${okCount} random packets got past validate()`);
});

/** A Response with an RFC 4822 auth entry, `routes` route entries and a trailer with `digest` bytes. */
function crypto(routes: number, digest: number, packetLen?: number): Uint8Array {
  const body = RIP_HEADER_LEN + RIP_ENTRY_LEN * (1 + routes);
  const b = new Uint8Array(body + 4 + digest).fill(0xee, body + 4);
  writeRipHeader(b, 0, RipCommand.RESPONSE);
  writeRipCryptoEntry(b, 4, packetLen ?? body, 7, digest, 0x01020304);
  for (let i = 0; i < routes; i++) writeRipEntry(b, 24 + i * 20, A(`10.${i}.0.0`), 16, 0, 1);
  writeRipTrailerHeader(b, body);
  return b;
}

test('RFC 4822 layout: the auth entry, byte for byte; the message ends where it says, the trailer follows', () => {
  const b = crypto(2, 16);
  assert.equal(toHex(b.subarray(4, 24)), 'ffff' + '0003' + '0040' + '07' + '10' + '01020304' + '0000000000000000');
  assert.equal(toHex(b.subarray(64, 68)), 'ffff0001');
  const v = view(b);
  assert.equal(v.validate(), RipCheck.OK);
  assert.deepEqual([v.hasAuthEntry, v.authType, v.firstRoute, v.bodyLen, v.entryCount], [true, RipAuthType.CRYPTO, 1, 64, 3]);
  assert.deepEqual([v.authPacketLength, v.authKeyId, v.authDataLen, v.authSequence, v.digestOffset, v.digestLength], [64, 7, 16, 0x01020304, 68, 16]);
  assert.equal(v.checkEntry(1), RipCheck.OK);
  assert.equal(v.address(2), A('10.1.0.0'));
  // A password entry (RFC 2453 §4.1): 16 bytes, zero-padded.
  const p = new Uint8Array(24);
  writeRipHeader(p, 0, RipCommand.RESPONSE);
  writeRipPasswordEntry(p, 4, Buffer.from('secret'));
  assert.equal(toHex(p.subarray(4)), 'ffff0002' + Buffer.from('secret').toString('hex') + '00'.repeat(10));
  const pv = view(p);
  assert.equal(pv.validate(), RipCheck.OK);
  assert.deepEqual([pv.authType, pv.firstRoute, pv.entryCount, pv.passwordOffset], [RipAuthType.PASSWORD, 1, 1, 8]);
  // A whole-table Request after an auth entry is still one.
  const r = new Uint8Array(64);
  const len = writeWholeTableRequest(r, 0, 20);
  writeRipPasswordEntry(r, 4, Buffer.from('x'));
  assert.equal(len, 44);
  const rv = view(r, 0, len);
  assert.equal(rv.validate(), RipCheck.OK);
  assert.equal(rv.isWholeTableRequest, true);
});

test('RFC 4822 layout failures: packet length out of range or not on an entry, no trailer, a digest longer than 64, an unknown auth type', () => {
  const failing: [string, Uint8Array, number][] = [
    ['packet length past the datagram', crypto(1, 16, 200), RipCheck.AUTH_MALFORMED],
    ['packet length under header + auth entry', crypto(1, 16, 20), RipCheck.AUTH_MALFORMED],
    ['packet length leaving no digest', crypto(1, 16, 44 + 16), RipCheck.AUTH_MALFORMED],
    ['packet length not on an entry', crypto(2, 16, 50), RipCheck.AUTH_MALFORMED],
    ['digest of 65 bytes', crypto(1, 65), RipCheck.AUTH_MALFORMED],
  ];
  const noTrailer = crypto(1, 16);
  noTrailer[47] = 2;
  failing.push(['trailer 0xffff 0x0002', noTrailer, RipCheck.AUTH_MALFORMED]);
  const odd = crypto(1, 16, 40);
  writeRipTrailerHeader(odd, 40);
  failing.push(['message of 40 bytes (not header + entries)', odd, RipCheck.BAD_LENGTH]);
  for (const type of [0, 1, 4, 0xffff]) {
    const b = crypto(1, 16);
    b[6] = type >>> 8;
    b[7] = type & 0xff;
    failing.push([`auth type ${type}`, b, RipCheck.AUTH_MALFORMED]);
  }
  const big = crypto(25, 16);
  failing.push(['26 entries before the trailer', big, RipCheck.TOO_MANY_ENTRIES]);
  for (const [name, b, code] of failing) assert.equal(view(b).validate(), code, `${name}: got ${RIP_CHECK_NAMES[view(b).validate()]}`);
  assert.equal(view(crypto(24, 64)).validate(), RipCheck.OK, '25 entries with the auth entry, and the longest digest');
});
