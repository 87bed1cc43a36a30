// Addresses printed and parsed at the edges (API, CLI, logs).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IPv4 } from 'ip-num';
import { formatAddress, formatPrefix, parseAddress } from '../../src/net/addr.js';

test('formatAddress (printed by hand for speed) prints what ip-num prints, and parseAddress reads it back', () => {
  const samples = [0, 1, 255, 256, 0x7fffffff, 0x80000000, 0xffffffff, 0x0a000c02];
  for (let i = 0; i < 20_000; i++) samples.push(Math.floor(Math.random() * 2 ** 32));
  for (const n of samples) {
    assert.equal(formatAddress(n), IPv4.fromNumber(BigInt(n)).toString());
    assert.equal(parseAddress(formatAddress(n)), n);
  }
  assert.equal(formatAddress(-1), '255.255.255.255', 'a signed int32 is the same address');
});

test('formatPrefix', () => {
  assert.equal(formatPrefix(0, 0), '0.0.0.0/0');
  assert.equal(formatPrefix(0xc0a86400, 24), '192.168.100.0/24');
});
