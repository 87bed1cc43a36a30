// The migration's cut-over with a real router as R1 (src/testbed/real-r1.ts):
// BIRD 2 (RIP + BFD), then FRR 8 (ripd + bfdd), forwarding in the kernel;
// tunroute as R2 and R3 with the standby refresh on their ports toward R1;
// a client polls http://1.1.1.1/ every 50 ms (20 devices taking turns).
// For each R1:
//   block — R2 blocks its port toward R1: R1's kernel route moves to R3 and
//           server 2 answers within 100 ms; then unblock: back to server 1,
//           no poll lost;
//   drain — R2 drains the port: it refuses new connections from R1's side
//           (a SYN dropped is sent again by the client 1 s later), tells R1
//           (the drain metric) once no connection from R1's side is open,
//           keeps forwarding, and blocks the port once nothing flows. R1
//           moves without ever being without a route and with no connection
//           open through R2, so no poll is lost: a kernel R1 cannot pin
//           flows, and a connection open when it moved would have its next
//           segments reach server 2, which resets it. Server 2 answers
//           within 100 ms; the only slow polls are those whose SYN R2
//           refused before R1 moved.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RealR1Lab, formatCutover, inFlightAt, type CutoverResult, type RealR1 } from '../../src/testbed/real-r1.js';
import { sleep } from '../../src/testbed/shell.js';

/** R2's and R3's standby refresh toward R1 (ms). */
const STANDBY_MS = 20;
/**
 * R1 switches within one refresh interval of the block (or of R2 telling it
 * the drain metric), plus its own processing (BIRD, FRR and zebra, the
 * kernel): 20 + ≤ 40 ms on a shared 2-vCPU machine. Server 2 answers the
 * first poll sent after that within the issue's goal: ≤ 100 ms from R2's
 * block or drain.
 */
const SWITCH_BOUND_MS = 60;
const SERVER2_BOUND_MS = 100;
/** Unblock: BIRD takes R2's table as soon as its interface is up; FRR ripd listens to a link only 1 s after it came up. */
const BACK_BOUND_MS: Record<RealR1, number> = { bird: 300, frr: 1500 };

/**
 * A poll started this long before the drain began may still have its SYN on
 * the way to R2 when it begins (client → R1's kernel → R2's daemon, on a
 * loaded machine): R2 refuses it, and its retry goes to server 2. Seen in CI:
 * a poll started 1 ms before the drain, answered by server 2 after 1,009 ms.
 */
const SYN_TRANSIT_MS = 50;

for (const kind of ['bird', 'frr'] as const) {
  describe(`a real ${kind === 'bird' ? 'BIRD 2' : 'FRR 8'} as R1`, () => {
    let tb: RealR1Lab;
    let polls: string;

    before(async () => {
      tb = await RealR1Lab.up(kind, { standbyRefresh: STANDBY_MS });
      polls = tb.startPolling(50);
      await sleep(1500);
    });

    after(async () => {
      await tb?.down();
    });

    const check = (r: CutoverResult) => {
      console.log(`# ${formatCutover(kind, r)}`);
      assert.ok(r.r1SwitchMs !== null, `R1's kernel route never moved to R3: ${JSON.stringify(r.kernel)}`);
      assert.ok(r.r1SwitchMs <= SWITCH_BOUND_MS, `R1 switched ${r.r1SwitchMs} ms after R2's ${r.mode}`);
      assert.ok(r.server2Ms !== null && r.server2Ms <= SERVER2_BOUND_MS, `server 2 answered ${r.server2Ms} ms after R2's ${r.mode}`);
      assert.ok(r.r1BackMs !== null && r.r1BackMs <= BACK_BOUND_MS[kind], `R1 back via R2 ${r.r1BackMs} ms after the unblock`);
      assert.ok(r.server1Ms !== null && r.server1Ms <= BACK_BOUND_MS[kind] + 100, `server 1 answered ${r.server1Ms} ms after the unblock`);
      // R2 listens to R1 before R1 routes back to it: no poll is lost but one in flight when R1 switched back.
      assert.deepEqual(r.failedAfterUnblockPolls.filter((p) => !inFlightAt(p, r.unblockAt + r.r1BackMs!)), [], 'failed polls after the unblock');
      assert.ok(r.failedAfterUnblock <= 1);
    };

    test('R2 blocks its port toward R1: R1 learns R3\'s route within the refresh interval; unblock returns', { timeout: 30_000 }, async () => {
      const r = await tb.cutover('block', polls);
      check(r);
      if (kind === 'bird') {
        // BIRD reads R2's poisoned Response before BFD's AdminDown (RIP speaks first, BFD 25 ms later):
        // the route goes at once, not when BIRD's neighbour clean-up runs 100 ms later.
        assert.ok(r.r1WithdrawnMs !== null && r.r1WithdrawnMs < 100, `BIRD withdrew the route via R2 after ${r.r1WithdrawnMs} ms`);
      }
    });

    test('R2 drains its port toward R1: R1 moves with no poll lost, then R2 blocks; unblock returns', { timeout: 30_000 }, async () => {
      await sleep(1000);
      const r = await tb.cutover('drain', polls);
      check(r);
      assert.equal(r.r1WithdrawnMs, null, 'R1 never withdrew the route via R2 before R3\'s replaced it');
      assert.ok(r.drainMs !== null && r.drainMs < 5000, `drained in ${r.drainMs} ms`);
      const switchedAt = r.at + r.r1SwitchMs!;
      const times = `drain began at ${r.at}, R1 moved at ${switchedAt}, R2 blocked at ${r.at + r.drainMs}, R2 unblocked at ${r.unblockAt}, R1 back at ${r.unblockAt + r.r1BackMs!}`;
      assert.deepEqual(r.failedPolls, [], `no poll lost in the drain (${times})`);
      // A slow poll is one whose SYN R2 refused while draining, before R1 moved: its retry went to server 2.
      assert.deepEqual(r.slowPolls.filter((p) => p.t < r.at - SYN_TRANSIT_MS || p.t >= switchedAt || p.server !== 'server2'), [],
        `slow polls other than those R2 refused before R1 moved (${times})`);
      // Their dropped SYN went again at TCP's initial retransmission timeout (1 s, RFC 6298 §2.1) and found R1 moved:
      // each took that second plus one exchange with server 2, within what check() allows server 2's first answer.
      console.log(`# ${kind} drain: slow polls' latencies ${JSON.stringify(r.slowPolls.map((p) => p.latencyMs))} ms`);
      assert.deepEqual(r.slowPolls.filter((p) => p.latencyMs < 1000 || p.latencyMs >= 1000 + SERVER2_BOUND_MS), [],
        `slow polls not answered right after TCP's 1-s SYN retransmission (${times})`);
    });
  });
}
