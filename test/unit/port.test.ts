// Who can be a neighbour on a port's link (BFD and RIP both ask).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacketArena } from '../../src/packet/arena.js';
import { parseAddress as A } from '../../src/net/addr.js';
import type { PacketDevice } from '../../src/ports/device.js';
import { Port } from '../../src/ports/port.js';

const device = { name: 'x' } as PacketDevice;
const port = (address: string, prefixLen: number) =>
  new Port(0, { name: 'p', address: A(address), prefixLen, mtu: 1500, netns: '', deviceName: 'x' }, device, new PacketArena(1 << 20, 4096));

test('a /24: hosts of the subnet, not ours, not network or broadcast', () => {
  const p = port('10.0.1.1', 24);
  assert.equal(p.isNeighbourAddress(A('10.0.1.2')), true);
  assert.equal(p.isNeighbourAddress(A('10.0.1.1')), false);
  assert.equal(p.isNeighbourAddress(A('10.0.1.0')), false);
  assert.equal(p.isNeighbourAddress(A('10.0.1.255')), false);
  assert.equal(p.isNeighbourAddress(A('10.0.2.2')), false);
});

test('a /31: both addresses are hosts, so the peer may be the even one', () => {
  const p = port('10.0.0.1', 31);
  assert.equal(p.isNeighbourAddress(A('10.0.0.0')), true);
  assert.equal(p.isNeighbourAddress(A('10.0.0.1')), false);
  assert.equal(port('10.0.0.0', 31).isNeighbourAddress(A('10.0.0.1')), true);
});
