// What a port's device drops below the router is counted and shown, on TUN
// and Ethernet ports, in-thread and with forwarding workers: packets the
// kernel dropped because the port did not read them in time (the daemon
// stopped while a host sends: a TUN's queue, an Ethernet socket's buffer
// fills), counted `kernel-dropped` in the port's drops; and 802.1Q-tagged
// frames (the kernel takes the tag out of the frame, so only an Ethernet
// port's device sees it), counted `vlan-tagged` in its link counters; and
// what a host sends into a blocked TUN port (its carrier off: the host sees
// NO-CARRIER), counted `kernel-dropped` too.
//   host h ─TUN or veth─ [r] (port p)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PortJson, StatsJson } from '../../src/api/types.js';
import { EthernetDevice } from '../../src/ports/ethernet/ethernet-device.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, sleep, waitFor } from '../../src/testbed/shell.js';
import { parseMac } from '../../src/wire/ethernet.js';
import { metricSample, scrapeMetrics, TUN_DROPS_LAG_MS } from './helpers.js';

/** Datagrams sent while the daemon is stopped: 28 MB, many times a TUN queue (500 packets) or a socket buffer (8 MB). */
const FLOOD = 20_000;
const FLOOD_SCRIPT = `
const s = require('dgram').createSocket('udp4');
const data = Buffer.alloc(1400);
let left = Number(process.argv[1]);
const next = () => { if (left-- > 0) s.send(data, 9, '10.0.9.9', next); else s.close(); };
next();
`;

for (const kind of ['tun', 'ethernet'] as const) {
  for (const workers of [0, 2]) {
    describe(`device drops below ${kind === 'tun' ? 'a TUN' : 'an Ethernet'} port, ${workers ? `${workers} workers` : 'in-thread'}`, () => {
      let lab: Lab;
      let h: string;
      let router: RouterProcess;
      const port = async () => (await router.api<StatsJson>('GET', '/v1/stats')).ports.p!;
      /** Longer than it takes a drop to be counted: a TUN's are read once a second, an Ethernet socket's at every tick (≤ 100 ms). */
      const countingDelay = () => sleep(kind === 'tun' ? TUN_DROPS_LAG_MS : 300);

      before(async () => {
        lab = await Lab.create(`dd${kind[0]}${workers}`);
        h = await lab.addNamespace('h');
        let config: Record<string, unknown>;
        if (kind === 'tun') {
          lab.multiQueueTuns = workers > 0;
          await lab.hostPort(h, lab.dev('h'), '10.0.1.2/24', '10.0.1.1');
          config = { name: 'p', device: lab.dev('h'), netns: h, address: '10.0.1.1/24' };
        } else {
          await lab.ethernetHostPort(h, lab.dev('h'), await lab.addNamespace('r'), lab.dev('r'), '10.0.1.2/24', '10.0.1.1');
          config = { name: 'p', type: 'ethernet', device: lab.dev('r'), address: '10.0.1.1/24' };
        }
        router = await lab.startRouter('r', { workers, ports: [config] });
      });

      after(async () => {
        await lab?.cleanup();
      });

      test('packets the kernel dropped while the daemon did not read are counted as kernel-dropped (stats, its text, /metrics)', { timeout: 60_000 }, async () => {
        // Host h learns the way first (ARP on a veth), so the flood goes out at once.
        assert.match((await inNetns(h, 'ping', ['-c', '1', '-W', '2', '10.0.1.1'])).stdout, /1 received/);
        // A TUN's first read of its drops sets the base: let it happen before the flood.
        await countingDelay();
        const rxBefore = (await port()).rxPackets;
        assert.equal((await port()).drops['kernel-dropped'], undefined, 'nothing dropped before the flood');
        const pid = router.pid()!;
        process.kill(pid, 'SIGSTOP');
        try {
          await inNetns(h, process.execPath, ['-e', FLOOD_SCRIPT, String(FLOOD)]);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
        // What the port read once the daemon went on, plus what the kernel dropped, is what the host sent.
        const after = await waitFor('the flood read or counted dropped', async () => {
          const p = await port();
          return p.rxPackets - rxBefore + (p.drops['kernel-dropped'] ?? 0) >= FLOOD && p;
        }, 5000, 100);
        const dropped = after.drops['kernel-dropped']!;
        assert.ok(dropped >= FLOOD / 2 && dropped < FLOOD, `kernel-dropped ${dropped} of ${FLOOD}`);
        assert.ok(after.rxPackets - rxBefore + dropped <= FLOOD + 10, `read ${after.rxPackets - rxBefore} + dropped ${dropped} for ${FLOOD} sent`);
        await countingDelay();
        assert.equal((await port()).drops['kernel-dropped'], dropped, 'no more dropped once reading');
        assert.match(await router.cli('stats'), new RegExp(`\\bp\\b.*kernel-dropped=${dropped}`));
        assert.equal(metricSample(await scrapeMetrics(router), 'tunroute_port_drops_total', 'port="p",reason="kernel-dropped"'), dropped);
      });

      if (kind === 'tun') {
        test('a blocked TUN port: the host sees NO-CARRIER, and what it sends into the port is counted kernel-dropped', { timeout: 30_000 }, async () => {
          const before = (await port()).drops['kernel-dropped'] ?? 0;
          await router.cli('port', 'block', 'p');
          try {
            await waitFor('NO-CARRIER on the host\'s side', async () => /NO-CARRIER/.test((await ip('-n', h, 'link', 'show', lab.dev('h'))).stdout), 5000, 50);
            await inNetns(h, process.execPath, ['-e', FLOOD_SCRIPT, '200']);
            const dropped = await waitFor('200 counted kernel-dropped', async () => {
              const n = ((await port()).drops['kernel-dropped'] ?? 0) - before;
              return n >= 200 && n;
            }, TUN_DROPS_LAG_MS + 3000, 100);
            assert.equal(dropped, 200);
          } finally {
            await router.cli('port', 'unblock', 'p');
          }
        });
      }

      if (kind === 'ethernet') {
        test('802.1Q-tagged frames, whose tag the kernel took out of the frame, are counted as vlan-tagged', { timeout: 30_000 }, async () => {
          const tagged = async () => (await port()).link?.drops['vlan-tagged'] ?? 0;
          const before = await tagged();
          const [json] = await router.api<PortJson[]>('GET', '/v1/ports');
          // Three frames to the port's MAC, tagged VLAN 7, an IPv4 packet inside; sent from host h's end of the veth.
          const frame = new Uint8Array(64);
          frame.set(parseMac(json!.mac!), 0);
          frame.set([0x02, 0, 0, 0, 0, 7, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00, 0x45], 6);
          const sender = new EthernetDevice({ name: lab.dev('h'), netns: h, configure: false });
          try {
            assert.equal(sender.writeBatch(frame.buffer, Int32Array.of(0, 0, 0), Int32Array.of(64, 64, 64), 3), 3);
          } finally {
            sender.close();
          }
          const after = await waitFor('vlan-tagged in stats', async () => {
            const n = await tagged();
            return n >= before + 3 && n;
          }, 5000, 100);
          assert.equal(after - before, 3);
          assert.match(await router.cli('stats'), new RegExp(`Link-layer drops[^\\n]*\\np: [^\\n]*vlan-tagged=${after}`));
        });
      }
    });
  }
}
