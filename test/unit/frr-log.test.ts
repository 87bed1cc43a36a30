// FRR's debug log read back (lines as ripd and zebra 8.4 write them): the
// service's entries by sender and interface, and one block laid out —
// poison, removal, R3's refresh, install, zebra's kernel write — beside the
// kernel's own route change.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockTimeline, parseFrrLog, serviceEntries, unblockTimeline } from '../../src/testbed/frr-log.js';
import { parseRouteMonitor } from '../../src/testbed/kernel-routes.js';

const RIPD = `2026/12/02 21:18:27.740100 RIP: [ZSVDP-D63B3] RECV packet from 10.0.13.2 port 520 on eth4 (VRF default)
2026/12/02 21:18:27.740110 RIP: [G4HZH-53B3V] RECV RESPONSE version 2 packet size 24
2026/12/02 21:18:27.740120 RIP: [XHCQJ-PBD83]   1.1.1.1/32 -> 0.0.0.0 family 2 tag 0 metric 1
2026/12/02 21:18:27.757966 RIP: [ZSVDP-D63B3] RECV packet from 10.0.12.2 port 520 on eth3 (VRF default)
2026/12/02 21:18:27.757969 RIP: [G4HZH-53B3V] RECV RESPONSE version 2 packet size 104
2026/12/02 21:18:27.757970 RIP: [XHCQJ-PBD83]   1.1.1.1/32 -> 0.0.0.0 family 2 tag 0 metric 16
2026/12/02 21:18:27.757971 RIP: [XHCQJ-PBD83]   10.0.1.0/24 -> 0.0.0.0 family 2 tag 0 metric 16
2026/12/02 21:18:27.758190 RIP: [HMK8E-NJBQY] Delete from zebra: 1.1.1.1/32
2026/12/02 21:18:27.777062 RIP: [ZSVDP-D63B3] RECV packet from 10.0.13.2 port 520 on eth4 (VRF default)
2026/12/02 21:18:27.777067 RIP: [G4HZH-53B3V] RECV RESPONSE version 2 packet size 24
2026/12/02 21:18:27.777068 RIP: [XHCQJ-PBD83]   1.1.1.1/32 -> 0.0.0.0 family 2 tag 0 metric 1
2026/12/02 21:18:27.777192 RIP: [HMK8E-NJBQY] Install into zebra: 1.1.1.1/32
2026/12/02 21:18:27.786523 RIP: [VRVKC-PY6YG] turn off eth3
not a log line
`;

const ZEBRA = `2026/12/02 21:18:24.273742 ZEBRA: [YXPF5-B2CE0] netlink_route_multipath_msg_encode: RTM_NEWROUTE 1.1.1.1/32 vrf 0(254)
2026/12/02 21:18:27.768258 ZEBRA: [YXPF5-B2CE0] netlink_route_multipath_msg_encode: RTM_DELROUTE 1.1.1.1/32 vrf 0(254)
2026/12/02 21:18:27.787711 ZEBRA: [YXPF5-B2CE0] netlink_route_multipath_msg_encode: RTM_NEWROUTE 1.1.1.1/32 vrf 0(254)
`;

const ROUTES = `[2026-12-02T21:18:24.274058] 1.1.1.1 nhid 13 via 10.0.12.2 dev eth3 proto rip metric 20
[2026-12-02T21:18:27.768590] Deleted 1.1.1.1 nhid 13 via 10.0.12.2 dev eth3 proto rip metric 20
[2026-12-02T21:18:27.787776] 1.1.1.1 nhid 15 via 10.0.13.2 dev eth4 proto rip metric 20
`;

/** The block: 21:18:27.755 local time. */
const BLOCK = new Date(2026, 11, 2, 21, 18, 27, 755).getTime();

test("FRR's lines: local time with microseconds; other lines left out", () => {
  const lines = parseFrrLog(RIPD);
  assert.equal(lines.length, 13);
  assert.equal(lines[0]!.time, new Date(2026, 11, 2, 21, 18, 27, 740).getTime() + 0.1);
  assert.match(lines[0]!.text, /^RIP: \[ZSVDP-D63B3\] RECV packet from 10\.0\.13\.2/);
});

test("the service's entries, each with its packet's sender and interface; other prefixes left out", () => {
  const e = serviceEntries(parseFrrLog(RIPD), '1.1.1.1/32');
  assert.deepEqual(e.map((x) => [x.sender, x.dev, x.metric]), [['10.0.13.2', 'eth4', 1], ['10.0.12.2', 'eth3', 16], ['10.0.13.2', 'eth4', 1]]);
  assert.deepEqual(serviceEntries(parseFrrLog(RIPD), '10.0.1.0/24').map((x) => x.metric), [16]);
});

test('a block laid out: the refresh counts only after the poison; zebra deleted first', () => {
  const t = blockTimeline(parseFrrLog(RIPD), parseFrrLog(ZEBRA), parseRouteMonitor(ROUTES, '1.1.1.1/32'), BLOCK, '10.0.12.2', '10.0.13.2', '1.1.1.1/32');
  assert.deepEqual(t, { poison: 3, removed: 3.2, refresh: 22.1, installed: 22.2, zebraNew: 32.7, zebraDeletedFirst: true, kernel: 32.8 });
});

test('zebra replacing the route in one step, and a block with nothing after it', () => {
  const oneStep = ZEBRA.split('\n').filter((l) => !l.includes('RTM_DELROUTE')).join('\n');
  const t = blockTimeline(parseFrrLog(RIPD), parseFrrLog(oneStep), [], BLOCK, '10.0.12.2', '10.0.13.2', '1.1.1.1/32');
  assert.equal(t.zebraDeletedFirst, false);
  assert.equal(t.kernel, null);
  const later = new Date(2026, 11, 2, 21, 18, 28).getTime();
  assert.deepEqual(blockTimeline(parseFrrLog(RIPD), parseFrrLog(ZEBRA), [], later, '10.0.12.2', '10.0.13.2', '1.1.1.1/32'),
    { poison: null, removed: null, refresh: null, installed: null, zebraNew: null, zebraDeletedFirst: false, kernel: null });
});

const UNBLOCK = `2026/12/02 21:22:14.078649 RIP: [Y8TK7-J2AVW] interface eth3 vrf default(0) index 3807 flags 0x11043 metric 0 mtu 1500 is up
2026/12/02 21:22:14.078725 RIP: [VRVKC-PY6YG] turn on eth3
2026/12/02 21:22:14.081044 RIP: [ZSVDP-D63B3] RECV packet from 10.0.12.2 port 520 on eth3 (VRF default)
2026/12/02 21:22:14.081050 RIP: [H9JMF-CJ3VB] RIP is not enabled on interface eth3.
2026/12/02 21:22:14.081138 RIP: [ZSVDP-D63B3] RECV packet from 10.0.12.2 port 520 on eth3 (VRF default)
2026/12/02 21:22:14.081141 RIP: [H9JMF-CJ3VB] RIP is not enabled on interface eth3.
2026/12/02 21:22:15.079547 RIP: [X9Z5V-RGW7V] multicast join at eth3
2026/12/02 21:22:15.079584 RIP: [JRXQ1-XTJQT] multicast request on eth3
2026/12/02 21:22:15.079592 RIP: [K2SQ1-XBQ3S] rip_send_packet 10.0.12.1 > 224.0.0.9 (eth3)
2026/12/02 21:22:15.079720 RIP: [MXZQ9-5N2RY] SEND to 224.0.0.9520
2026/12/02 21:22:15.079721 RIP: [G4HZH-53B3V] SEND REQUEST version 2 packet size 24
2026/12/02 21:22:15.081923 RIP: [ZSVDP-D63B3] RECV packet from 10.0.12.2 port 520 on eth3 (VRF default)
2026/12/02 21:22:15.081928 RIP: [XHCQJ-PBD83]   1.1.1.1/32 -> 0.0.0.0 family 2 tag 0 metric 1
2026/12/02 21:22:15.081973 RIP: [HMK8E-NJBQY] Install into zebra: 1.1.1.1/32
2026/12/02 21:22:15.082011 RIP: [K2SQ1-XBQ3S] rip_send_packet 10.0.12.1 > 10.0.12.2 (eth3)
2026/12/02 21:22:15.082070 RIP: [MXZQ9-5N2RY] SEND to 10.0.12.2520
2026/12/02 21:22:15.082070 RIP: [G4HZH-53B3V] SEND RESPONSE version 2 packet size 84
2026/12/02 21:22:15.090000 RIP: [H9JMF-CJ3VB] RIP is not enabled on interface eth3.
2026/12/02 21:22:16.500000 RIP: [K2SQ1-XBQ3S] rip_send_packet 10.0.13.1 > 224.0.0.9 (eth4)
2026/12/02 21:22:16.500010 RIP: [G4HZH-53B3V] SEND RESPONSE version 2 packet size 44
2026/12/02 21:22:17.200000 RIP: [K2SQ1-XBQ3S] rip_send_packet 10.0.12.1 > 224.0.0.9 (eth3)
2026/12/02 21:22:17.200010 RIP: [G4HZH-53B3V] SEND RESPONSE version 2 packet size 44
`;

test('an unblock laid out: the interface up, what ripd dropped before it enabled RIP there, its Request, the install, the kernel, its first multicast Response there (not an answer to a neighbour, not on another interface)', () => {
  const routes = parseRouteMonitor('[2026-12-02T21:22:15.082300] 1.1.1.1 nhid 17 via 10.0.12.2 dev eth3 proto rip metric 20\n', '1.1.1.1/32');
  const t0 = new Date(2026, 11, 2, 21, 22, 14, 77).getTime();
  assert.deepEqual(unblockTimeline(parseFrrLog(UNBLOCK), routes, t0, 'eth3', '1.1.1.1/32'),
    { linkUp: 1.6, dropped: 2, request: 1002.6, response: 3123, installed: 1005, kernel: 1005.3 });
  // Another interface: nothing of it in the log.
  assert.deepEqual(unblockTimeline(parseFrrLog(UNBLOCK), routes, t0, 'eth4', '1.1.1.1/32'),
    { linkUp: null, dropped: 0, request: null, response: 2423, installed: 1005, kernel: null });
});
