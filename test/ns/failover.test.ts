// The three-router form of the method, once with RIP and once with OSPF
// between the routers, BFD under both. An appliance polls
// http://1.1.1.1/ every 50 ms; R2 advertises the service with a better
// metric than R3. Each way of losing the path via R2 — R2 blocks its port,
// R1 blocks its own port, R2's daemon dies — must move the polls to server
// 2, and undoing it must bring them back to server 1.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isAnswered } from '../../src/hosts/poller.js';
import { readPollRecords } from '../../src/hosts/records.js';
import type { LogEvent, RouterProcess } from '../../src/testbed/lab.js';
import { FLEET_PREFIX, MigrationTestbed, SERVICE, type RoutingMode } from '../../src/testbed/migration.js';
import { waitFor } from '../../src/testbed/shell.js';

for (const routing of ['rip', 'ospf'] as const satisfies readonly RoutingMode[]) {
  describe(`fail-over with ${routing.toUpperCase()} and BFD`, () => {
    let tb: MigrationTestbed;
    let polls: string;

    before(async () => {
      tb = await MigrationTestbed.up({ embodiment: '1', routing, trigger: false });
      polls = join(tb.lab.dir, 'appliance.jsonl');
      // A poll every 50 ms, from 20 appliances taking turns: an appliance whose
      // SYN fell into the dead path waits out TCP's 1 s retransmission, the
      // others keep showing what the routing does.
      tb.lab.spawnTunroute(tb.ns.fleet, ['fleet', '--target', `http://${SERVICE}/`, '--prefix', FLEET_PREFIX, '--count', '20',
        '--interval', '1s', '--jitter', '0', '--timeout', '2s', '--quiet', '--out', polls]);
      await waitForServer('server1', 0);
    });

    after(async () => {
      await tb?.down();
    });

    function waitForServer(server: string, since: number): Promise<number> {
      return waitFor(`a poll answered by ${server}`, () => {
        const hit = readPollRecords(polls).filter((r) => r.t >= since && isAnswered(r) && r.server === server).map((r) => r.t + r.latencyMs);
        return hit.length ? Math.min(...hit) : undefined;
      }, 10_000, 20);
    }

    /** The first log event of `router` at or after `since` that `pred` accepts. */
    function eventAfter(router: RouterProcess, since: number, pred: (e: LogEvent) => boolean): Promise<LogEvent> {
      return waitFor(`${router.name} event`, () => router.events().find((e) => e.time >= since && pred(e)), 5_000, 10);
    }

    const r1MovesTo = (port: string) => (e: LogEvent) =>
      e.prefix === `${SERVICE}/32` && (e.event === 'route.changed' || e.event === 'route.installed') && (e.new as { port?: string } | null)?.port === port;

    test('R2 blocks its port toward R1: R1 changes route within 50 ms, polls move to server 2', { timeout: 60_000 }, async () => {
      const { r1, r2 } = tb.routers;
      const t0 = Date.now();
      await r2.cli('port', 'block', 'r1');
      const blocked = await eventAfter(r2, t0, (e) => e.event === 'port.blocked' && e.port === 'r1');
      const moved = await eventAfter(r1, t0, r1MovesTo('r3'));
      const answered = await waitForServer('server2', blocked.time);
      const bfd = await eventAfter(r1, t0, (e) => e.event === 'bfd.session' && e.to !== 'Up');
      console.log(`# R2 block: R1 route change ${moved.time - blocked.time} ms after the block (cause ${String(moved.cause)}), ` +
        `R1's BFD session ${String(bfd.to)} (${String(bfd.diagnostic)}) at +${bfd.time - blocked.time} ms, first poll answered by server 2 at +${Math.round(answered - blocked.time)} ms`);
      assert.ok(moved.time - blocked.time < 50, `route change took ${moved.time - blocked.time} ms`);

      const t1 = Date.now();
      await r2.cli('port', 'unblock', 'r1');
      await eventAfter(r1, t1, r1MovesTo('r2'));
      await waitForServer('server1', t1);
    });

    test('R1 blocks its own port toward R2: same fallback', { timeout: 60_000 }, async () => {
      const { r1 } = tb.routers;
      const t0 = Date.now();
      await r1.cli('port', 'block', 'r2');
      const blocked = await eventAfter(r1, t0, (e) => e.event === 'port.blocked' && e.port === 'r2');
      const moved = await eventAfter(r1, t0, r1MovesTo('r3'));
      const answered = await waitForServer('server2', blocked.time);
      console.log(`# R1 block: route change ${moved.time - blocked.time} ms after the block, first poll answered by server 2 at +${Math.round(answered - blocked.time)} ms`);
      assert.ok(moved.time - blocked.time < 50);
      const t1 = Date.now();
      await r1.cli('port', 'unblock', 'r2');
      await eventAfter(r1, t1, r1MovesTo('r2'));
      await waitForServer('server1', t1);
    });

    test('R2 killed (SIGKILL): R1 falls back by BFD silence within 350 ms; restart brings server 1 back', { timeout: 60_000 }, async () => {
      const { r1, r2 } = tb.routers;
      const killedAt = Date.now();
      await r2.stop('SIGKILL');
      const down = await eventAfter(r1, killedAt, (e) => e.event === 'bfd.session' && e.to === 'Down');
      const moved = await eventAfter(r1, killedAt, r1MovesTo('r3'));
      const answered = await waitForServer('server2', killedAt);
      console.log(`# R2 killed: R1's BFD Down (${String(down.diagnostic)}) after ${down.time - killedAt} ms, route change after ${moved.time - killedAt} ms, ` +
        `first poll answered by server 2 after ${Math.round(answered - killedAt)} ms`);
      assert.ok(moved.time - killedAt < 350, `route change ${moved.time - killedAt} ms after the kill`);

      const restartedAt = Date.now();
      await r2.start();
      await eventAfter(r1, restartedAt, r1MovesTo('r2'));
      const back = await waitForServer('server1', restartedAt);
      console.log(`# R2 restarted: polls answered by server 1 again after ${Math.round(back - restartedAt)} ms`);
    });
  });
}
