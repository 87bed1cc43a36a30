// Forwarding workers end to end, with 1 and with 2 workers:
//   host a (10.0.1.2) — [port a] router [port b] — host b (10.0.2.2, and 10.9.9.9 on lo)
// Port a is a multi-queue TUN, port b a veth end (AF_PACKET fanout): the
// workers forward ping and TCP, the control thread still answers ping to
// the router, route changes it makes reach the workers, a block withdraws
// the routes through the port and the workers stop sending on it, the
// counters `stats` and the link counters show are the workers' summed, so
// are their drain flow tables' figures (/v1/stats `flows`, /metrics, the
// CLI), a drain sees the connections the workers carry, and a port whose device
// vanished comes back on new queues when the device is made again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { NeighbourPortJson, StatsJson } from '../../src/api/types.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, run, sleep, waitFor } from '../../src/testbed/shell.js';
import { startHttpEcho } from './helpers.js';

/** A TCP client that keeps its connection busy: one byte of a request header every 50 ms. */
const TRICKLE = `
const s = require('net').connect(Number(process.argv[2]), process.argv[1], () => {
  s.write('GET / HTTP/1.1\\r\\nX-Trickle: ');
  setInterval(() => s.write('x'), 50);
});
`;

interface Stats { ports: Record<string, { rxBytes: number; txBytes: number; drops: Record<string, number> }> }

/** Entries of one drain flow table (flow-table.ts: 2^15 sets of 8 ways). */
const FLOW_TABLE_ENTRIES = 262_144;

/** The value of the one sample `name{labels}` in a /metrics text, or NaN if absent. */
function sample(text: string, name: string, labels: string): number {
  const m = new RegExp(`^${name}\\{${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

for (const workers of [1, 2]) {
  describe(`${workers} forwarding worker${workers === 1 ? '' : 's'}`, () => {
    let lab: Lab;
    let router: RouterProcess;
    let a: string;
    let b: string;

    before(async () => {
      lab = await Lab.create(`wk${workers}`);
      a = await lab.addNamespace('a');
      b = await lab.addNamespace('b');
      // Host a's NIC: a TUN made multi-queue (each worker opens one queue of it).
      lab.multiQueueTuns = true;
      await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
      const r = await lab.addNamespace('r');
      await lab.ethernetHostPort(b, lab.dev('hb'), r, lab.dev('rb'), '10.0.2.2/24', '10.0.2.1');
      await ip('-n', b, 'link', 'set', 'lo', 'up');
      await ip('-n', b, 'addr', 'add', '10.9.9.9/32', 'dev', 'lo');
      router = await lab.startRouter('r', {
        workers,
        ports: [
          { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
          { name: 'b', type: 'ethernet', device: lab.dev('rb'), address: '10.0.2.1/24' },
        ],
      });
    });

    after(async () => {
      await lab?.cleanup();
    });

    test('ping both ways through the workers (TTL down by one); ping to the router answered', { timeout: 30_000 }, async () => {
      const ab = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.2.2']);
      assert.match(ab.stdout, /3 received/);
      assert.match(ab.stdout, /ttl=63 /);
      const ba = await inNetns(b, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.0.1.2']);
      assert.match(ba.stdout, /3 received/);
      for (const [ns, addr] of [[a, '10.0.1.1'], [b, '10.0.2.1'], [a, '10.0.2.1']] as const) {
        const r = await inNetns(ns, 'ping', ['-c', '2', '-i', '0.2', '-W', '2', addr]);
        assert.match(r.stdout, /2 received/, addr);
      }
      assert.ok(router.events().some((e) => e.event === 'workers.started' && e.workers === workers), 'workers.started logged');
      // Port b's link counters sum every thread's: each ARP request sent (by a worker resolving host b,
      // or by the control thread) is answered once, and a reply relayed to the other threads is counted once.
      await waitFor('every ARP request answered once, in the link counters', async () => {
        const [nb] = await router.api<NeighbourPortJson[]>('GET', '/v1/neighbours');
        const ev = nb!.counters.events;
        return (ev['arp-requests-sent'] ?? 0) >= 1 && ev['arp-replies-received'] === ev['arp-requests-sent'];
      }, 3000, 100);
    });

    test('TCP: 2 MB over HTTP through the workers; stats sum the workers\' counters and their flow tables', { timeout: 30_000 }, async () => {
      const before = JSON.parse(await router.cli('--json', 'stats')) as Stats;
      const insertedBefore = (await router.api<StatsJson>('GET', '/v1/stats')).flows.inserted;
      const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
      // A connection held open (a byte every 50 ms, each ACKed): both its directions stay live in the workers' flow tables.
      const client = lab.spawnIn(a, process.execPath, ['-e', TRICKLE, '10.0.2.2', '8080']);
      try {
        const r = await inNetns(a, 'curl', ['-sS', '--max-time', '10', 'http://10.0.2.2:8080/big?bytes=2000000']);
        assert.equal(r.stdout.length, 2_000_000);
        // The workers forwarded every packet of both connections, the control thread none: its own table is
        // empty, so what /v1/stats shows of the flows is the workers' tables, as of their last ticks (every
        // 50 ms; the live flows counted at most 1 s ago): curl's connection and the held one, each direction.
        const flows = await waitFor('both connections\' flows in /v1/stats flows', async () => {
          const f = (await router.api<StatsJson>('GET', '/v1/stats')).flows;
          return f.inserted - insertedBefore >= 4 && f.live >= 2 && f;
        }, 5000, 100);
        assert.equal(flows.capacity, (workers + 1) * FLOW_TABLE_ENTRIES, 'capacity: every thread\'s table');
        assert.deepEqual([flows.evictedLive, flows.untracked], [0, 0]);
        // The same totals in /metrics and in the CLI's text.
        const metrics = (await run('curl', ['-sS', '--max-time', '3', '--unix-socket', router.socket, 'http://x/metrics'])).stdout;
        assert.ok(sample(metrics, 'tunroute_drain_flows', 'kind="live"') >= 2, 'tunroute_drain_flows live');
        assert.equal(sample(metrics, 'tunroute_drain_flows', 'kind="capacity"'), (workers + 1) * FLOW_TABLE_ENTRIES);
        assert.ok(sample(metrics, 'tunroute_drain_flow_events_total', 'event="inserted"') >= flows.inserted, 'tunroute_drain_flow_events_total inserted');
        assert.match(await router.cli('stats'), new RegExp(`Drain flow table: [1-9]\\d* live of ${(workers + 1) * FLOW_TABLE_ENTRIES} entries; [1-9]\\d* inserted`));
      } finally {
        client.kill('SIGKILL');
        server.kill('SIGKILL');
      }
      const stats = JSON.parse(await router.cli('--json', 'stats')) as Stats;
      // The workers counted it (super-packets count once: compare bytes): 2 MB in on b and out on a, plus headers.
      const rxB = stats.ports.b!.rxBytes - before.ports.b!.rxBytes;
      const txA = stats.ports.a!.txBytes - before.ports.a!.txBytes;
      assert.ok(rxB >= 2_000_000, `port b received ${rxB} bytes`);
      assert.ok(txA >= 2_000_000, `port a sent ${txA} bytes`);
    });

    test('a route the control thread adds and deletes takes effect in the workers', { timeout: 30_000 }, async () => {
      const none = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '10.9.9.9'], { allowFail: true });
      assert.match(none.stdout, /From 10\.0\.1\.1 .*Destination Net Unreachable/);
      await router.cli('route', 'add', '10.9.9.0/24', '--port', 'b', '--via', '10.0.2.2');
      const ok = await inNetns(a, 'ping', ['-c', '3', '-i', '0.2', '-W', '2', '10.9.9.9']);
      assert.match(ok.stdout, /3 received/);
      await router.cli('route', 'del', '10.9.9.0/24');
      const gone = await inNetns(a, 'ping', ['-c', '1', '-W', '2', '10.9.9.9'], { allowFail: true });
      assert.match(gone.stdout, /From 10\.0\.1\.1 .*Destination Net Unreachable/);
      const stats = JSON.parse(await router.cli('--json', 'stats')) as Stats;
      assert.ok((stats.ports.a!.drops['no-route'] ?? 0) >= 2, 'no-route drops counted by the workers');
    });

    test('a port block withdraws its routes: the workers stop forwarding to it; unblock brings it back', { timeout: 30_000 }, async () => {
      await router.cli('port', 'block', 'b');
      const routes = JSON.parse(await router.cli('--json', 'route', 'list')) as { prefix: string; state: string; unusable: string | null }[];
      assert.equal(routes.find((r) => r.prefix === '10.0.2.0/24')?.unusable, 'port-blocked');
      const blocked = await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.0.2.2'], { allowFail: true });
      assert.match(blocked.stdout, /0 received/);
      assert.match(blocked.stdout, /Destination Net Unreachable/);
      await router.cli('port', 'unblock', 'b');
      // After the carrier returns, b's kernel and the router's link need a moment (ARP).
      let back = '';
      for (let i = 0; i < 10 && !/ 0% packet loss/.test(back); i++) {
        back = (await inNetns(a, 'ping', ['-c', '2', '-i', '0.2', '-W', '1', '10.0.2.2'], { allowFail: true })).stdout;
      }
      assert.match(back, / 0% packet loss/);
    });

    test('a vanished device (the TUN, then the veth) takes its port down; made again, the workers read its new queues', { timeout: 60_000 }, async () => {
      const portState = async (name: string) => (await router.api<{ name: string; state: string }[]>('GET', '/v1/ports')).find((p) => p.name === name)!.state;
      const restored = (name: string) => router.events().filter((e) => e.event === 'port.restored' && e.port === name).length;
      const pingAcross = () => waitFor('ping a → b across the workers', async () => / 0% packet loss/.test((await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2'], { allowFail: true })).stdout), 10_000, 100);
      // The TUN of host a: deleted, then made again (multi-queue) as it was.
      await ip('-n', a, 'link', 'del', lab.dev('a'));
      await waitFor('port a down', async () => (await portState('a')) === 'down', 5000, 50);
      await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
      await waitFor('port a restored', async () => restored('a') === 1, 10_000, 100);
      await pingAcross();
      // The veth to host b: deleting the host's end takes the router's with it; made again with new MACs.
      await ip('-n', b, 'link', 'del', lab.dev('hb'));
      await waitFor('port b down', async () => (await portState('b')) === 'down', 5000, 50);
      await lab.ethernetHostPort(b, lab.dev('hb'), lab.ns('r'), lab.dev('rb'), '10.0.2.2/24', '10.0.2.1');
      await waitFor('port b restored', async () => restored('b') === 1, 10_000, 100);
      await pingAcross();
      const stats = JSON.parse(await router.cli('--json', 'stats')) as Stats;
      assert.ok(stats.ports.b!.txBytes > 0 && stats.ports.a!.rxBytes > 0);
    });

    test('a drain waits (≤ 250 ms) for a connection from the port\'s side that the workers carry before telling the neighbours', { timeout: 30_000 }, async () => {
      const server = await startHttpEcho(lab, b, '10.0.2.2', 8080);
      // A connection from host a (its SYN comes in by port a) that sends every 50 ms: a request header, byte by byte.
      const client = lab.spawnIn(a, process.execPath, ['-e', TRICKLE, '10.0.2.2', '8080']);
      try {
        await sleep(1000);
        await router.cli('port', 'drain', 'a', '--max-wait', '1500');
        const quiet = await waitFor('port.quiet logged', async () => router.events().find((e) => e.event === 'port.quiet' && e.port === 'a'), 5000, 50);
        // The workers' flow tables hold the connection: the drain saw it open and waited its bound for it.
        assert.equal(quiet.openBefore, 1);
        assert.equal(quiet.openLeft, 1);
        assert.ok(Number(quiet.waitedMs) >= 250, `waited ${String(quiet.waitedMs)} ms`);
        // Its flow is pinned to port a until the drain's bound: then the port blocks itself.
        const drained = await waitFor('port.drained logged', async () => router.events().find((e) => e.event === 'port.drained' && e.port === 'a'), 5000, 50);
        assert.ok(Number(drained.flowsLeft) >= 1, `flows left ${String(drained.flowsLeft)}`);
      } finally {
        client.kill('SIGKILL');
        server.kill('SIGKILL');
      }
      await router.cli('port', 'unblock', 'a');
      await waitFor('ping through port a again', async () => / 0% packet loss/.test((await inNetns(a, 'ping', ['-c', '1', '-W', '1', '10.0.2.2'], { allowFail: true })).stdout), 10_000, 100);
    });
  });
}
