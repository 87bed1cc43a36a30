// `ip -4 -ts monitor route` lines about one prefix: host routes printed with
// or without /32, deletions, replacements, other prefixes ignored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRouteMonitor } from '../../src/testbed/kernel-routes.js';

const LOG = `[2026-11-30T23:50:01.250000] 1.1.1.1 via 10.0.12.2 dev eth3 proto rip metric 20
[2026-11-30T23:50:01.300000] 10.100.0.0/16 dev eth1 proto kernel scope link src 10.100.0.1
[2026-11-30T23:50:02.500000] Deleted 1.1.1.1 via 10.0.12.2 dev eth3 proto rip metric 20
[2026-11-30T23:50:02.501000] unicast 1.1.1.1/32 via 10.0.13.2 dev eth4 proto bird metric 32
[2026-11-30T23:50:03.000000] Replaced 1.1.1.1 nhid 12 via 10.0.12.2 dev eth3 proto rip metric 20
[2026-11-30T23:50:03.100000] 1.1.1.10 via 10.0.12.2 dev eth3
not a monitor line
`;

test('the changes of one prefix, in order, with their device and next hop', () => {
  const c = parseRouteMonitor(LOG, '1.1.1.1/32');
  assert.deepEqual(c.map((x) => [x.deleted, x.via, x.dev]), [[false, '10.0.12.2', 'eth3'], [true, '10.0.12.2', 'eth3'], [false, '10.0.13.2', 'eth4'], [false, '10.0.12.2', 'eth3']]);
  // Local time with microseconds: the stamps keep their order and spacing.
  assert.equal(c[1]!.time - c[0]!.time, 1250);
  assert.equal(c[2]!.time - c[1]!.time, 1);
  assert.equal(c[0]!.time, new Date(2026, 10, 30, 23, 50, 1, 250).getTime());
});

test('another prefix, and nothing to read', () => {
  assert.deepEqual(parseRouteMonitor(LOG, '10.100.0.0/16').map((x) => x.dev), ['eth1']);
  assert.deepEqual(parseRouteMonitor('', '1.1.1.1/32'), []);
});
