// Addresses printed and parsed at the edges (API, CLI, logs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPv4 } from 'ip-num';
import { AddressError, formatAddress, formatPrefix, parseAddress } from '../../src/net/addr.js';
import { mulberry32 } from '../../src/testbed/random.js';

test('formatAddress (printed by hand for speed) prints what ip-num prints, and parseAddress reads it back', () => {
  const samples = [0, 1, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff, 0x0a000c02];
  for (let i = 0; i < 20_000; i++) samples.push(Math.floor(Math.random() * 2 ** 32));
  for (const n of samples) {
    assert.equal(formatAddress(n), IPv4.fromNumber(BigInt(n)).toString());
    assert.equal(parseAddress(formatAddress(n)), n);
  }
  assert.equal(formatAddress(-1), '255.255.255.255', 'a signed int32 is the same address');
});

/** What ip-num makes of a text: its value, or null when it refuses it. */
function ipNum(text: string): number | null {
  try {
    return Number(IPv4.fromString(text).getValue());
  } catch {
    return null;
  }
}

test('parseAddress (Node\'s net.isIPv4, then the value by hand) takes and refuses what ip-num does', () => {
  const texts = [
    '0.0.0.0', '255.255.255.255', '10.0.12.1', '192.168.1.254', '1.2.3.4',
    '256.0.0.1', '1.2.3.256', '1.2.3.999', '010.0.0.1', '1.2.3.04', '00.1.2.3', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.',
    ' 1.2.3.4', '1.2.3.4 ', '1.2.3.4\n', '+1.2.3.4', '-1.2.3.4', '1.2.3.0x4', '1e2.1.1.1', '١.2.3.4', '', 'a.b.c.d', '1.2.3.4/32',
  ];
  // Random texts near the shape: digits, dots, and now and then a leading zero or a big octet.
  const rnd = mulberry32(7);
  const pieces = ['0', '1', '9', '10', '99', '100', '199', '200', '249', '250', '255', '256', '300', '01', '001', '1000', ''];
  for (let i = 0; i < 20_000; i++) {
    const n = 3 + (rnd() % 3);
    texts.push(Array.from({ length: n }, () => pieces[rnd() % pieces.length]).join('.'));
  }
  for (const text of texts) {
    const want = ipNum(text);
    if (want === null) {
      assert.throws(() => parseAddress(text), (e: unknown) => e instanceof AddressError && e.message === `"${text}" is not an IPv4 address`, JSON.stringify(text));
    } else {
      assert.equal(parseAddress(text), want, JSON.stringify(text));
    }
  }
  assert.throws(() => parseAddress(7 as unknown as string), /"7" is not an IPv4 address/);
});

test('formatPrefix', () => {
  assert.equal(formatPrefix(0, 0), '0.0.0.0/0');
  assert.equal(formatPrefix(0xc0a86400, 24), '192.168.100.0/24');
});
