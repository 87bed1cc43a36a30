// Every shipped topology file that CI would otherwise only parse, rehearsed
// the way `npm run demo -- --topology FILE` rehearses it (the same rehearse()
// path): a short day, a small fleet, the hard block and then the drain.
// Block loses only the polls in flight at the switch and those sent before
// R1's route change (the rehearsal's own check); drain loses none; every
// poll sent once new polls move is answered by server 2. They move at R1's
// route change: after a block, a real R1 (frr-r1, bird-r1) may have no
// route for a moment — its routing daemon drops the route via the dead link
// before it learns R3's — and answers Net Unreachable (seen: one poll 2 ms
// before FRR's route change, ENETUNREACH); after a drain on R2, R1 routes by
// destination, so until its kernel's route changes it still sends new polls
// through R2's draining port, which forwards them to server 1 (seen: polls
// sent 4–24 ms after the drain began, answered by server 1).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CutoverMode } from '../../src/testbed/migration.js';
import { rehearse } from '../../src/testbed/rehearsal.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-shipped-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SHIPPED = ['frr-r1', 'bird-r1', 'embodiment2', 'embodiment2-vip', 'embodiment1-ospf'];
const file = (name: string) => new URL(`../../../topologies/${name}/${name}.clab.yml`, import.meta.url).pathname;
// 300 appliances, each polling once in a 6 s day: the switch falls mid-day, so polls straddle it.
const FLEET = 300;
const DAY_MS = 6_000;

for (const name of SHIPPED) {
  for (const cutover of ['block', 'drain'] as CutoverMode[]) {
    test(`${name}, ${cutover}: every check passes, ${cutover === 'drain' ? 'no poll lost' : 'only polls in flight or sent before R1 moves lost'}, server 2 after the switch`, { timeout: 120_000 }, async () => {
      const started = Date.now();
      const r = await rehearse({ lab: { kind: 'topology', file: file(name) }, cutover, fleetSize: FLEET, pollIntervalMs: DAY_MS, day: true, warmupMs: 0, afterMs: 0, dir: join(dir, `${name}-${cutover}`) });
      const m = r.metrics;
      console.log(`# ${name} ${cutover}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${m.fleetPolls} polls, ${m.failedPolls} failed (${m.lostInFlight} in flight), `
        + `switch → route change ${m.blockToRouteChangeMs} ms, → first server 2 answer ${m.blockToFirstServer2Ms} ms, ${m.answeredByNewAfterSwitch}/${m.sentAfterSwitch} after new polls moved on server 2`);
      for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
      assert.equal(m.fleetPolls, FLEET);
      assert.ok(m.sentAfterSwitch > 0, 'some polls came after new polls moved');
      assert.equal(m.answeredByNewAfterSwitch, m.sentAfterSwitch);
      if (cutover === 'drain') assert.equal(m.failedPolls, 0);
    });
  }
}
