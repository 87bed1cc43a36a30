// What an Ethernet port's device drops below the link layer is counted and
// shown, in-thread and with forwarding workers: frames the kernel dropped
// because the port did not read them in time (the daemon stopped while a
// host sends), and 802.1Q-tagged frames (the kernel takes the tag out of
// the frame, so only the device sees it). Both appear in the port's link
// counters; the first is also checked in `stats` text and /metrics.
//   host h ─veth─ [r] (port b, Ethernet)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PortJson, StatsJson } from '../../src/api/types.js';
import { EthernetDevice } from '../../src/ports/ethernet/ethernet-device.js';
import { parseMac } from '../../src/wire/ethernet.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, run, waitFor } from '../../src/testbed/shell.js';

/** Datagrams sent while the daemon is stopped: 28 MB, several times the port's socket buffer. */
const FLOOD = 20_000;
const FLOOD_SCRIPT = `
const s = require('dgram').createSocket('udp4');
const data = Buffer.alloc(1400);
let left = Number(process.argv[1]);
const next = () => { if (left-- > 0) s.send(data, 9, '10.0.9.9', next); else s.close(); };
next();
`;

for (const workers of [0, 2]) {
  describe(`device drops below an Ethernet port's link, ${workers ? `${workers} workers` : 'in-thread'}`, () => {
    let lab: Lab;
    let h: string;
    let router: RouterProcess;
    const linkDrops = async (): Promise<Record<string, number>> =>
      (await router.api<StatsJson>('GET', '/v1/stats')).ports.b!.link?.drops ?? {};

    before(async () => {
      lab = await Lab.create(`dd${workers}`);
      h = await lab.addNamespace('h');
      const r = await lab.addNamespace('r');
      await lab.ethernetHostPort(h, lab.dev('h'), r, lab.dev('r'), '10.0.1.2/24', '10.0.1.1');
      router = await lab.startRouter('r', { workers, ports: [{ name: 'b', type: 'ethernet', device: lab.dev('r'), address: '10.0.1.1/24' }] });
    });

    after(async () => {
      await lab?.cleanup();
    });

    test('frames the kernel dropped while the daemon did not read are counted as receive-buffer-full', { timeout: 60_000 }, async () => {
      // Host h learns the router's MAC first, so the flood goes out at once.
      assert.match((await inNetns(h, 'ping', ['-c', '1', '-W', '2', '10.0.1.1'])).stdout, /1 received/);
      assert.equal((await linkDrops())['receive-buffer-full'], undefined, 'nothing dropped before the flood');
      const pid = router.pid()!;
      process.kill(pid, 'SIGSTOP');
      try {
        await inNetns(h, process.execPath, ['-e', FLOOD_SCRIPT, String(FLOOD)]);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      const drops = await waitFor('receive-buffer-full in stats', async () => {
        const d = await linkDrops();
        return (d['receive-buffer-full'] ?? 0) > 0 && d;
      }, 5000, 100);
      // The socket holds a few thousand such frames (its 4 MB buffer, doubled by the kernel); the rest were dropped.
      const full = drops['receive-buffer-full']!;
      assert.ok(full >= FLOOD / 2 && full < FLOOD, `receive-buffer-full ${full} of ${FLOOD}`);
      // What the port read once the daemon went on, plus what the kernel dropped, is what the host sent (give or take the ping and ARP).
      const seen = await waitFor('the socket\'s backlog read', async () => {
        const n = (await router.api<StatsJson>('GET', '/v1/stats')).ports.b!.rxPackets + full;
        return n >= FLOOD && n;
      }, 5000, 100);
      assert.ok(seen <= FLOOD + 10, `read + dropped ${seen} for ${FLOOD} sent`);
      assert.equal((await linkDrops())['receive-buffer-full'], full, 'no more dropped once reading');
      assert.match(await router.cli('stats'), new RegExp(`Link-layer drops[^\\n]*\\nb: [^\\n]*receive-buffer-full=${full}`));
      const metrics = (await run('curl', ['-sS', '--max-time', '3', '--unix-socket', router.socket, 'http://x/metrics'])).stdout;
      assert.match(metrics, new RegExp(`tunroute_link_drops_total\\{port="b",reason="receive-buffer-full"\\} ${full}\\n`));
    });

    test('802.1Q-tagged frames, whose tag the kernel took out of the frame, are counted as vlan-tagged', { timeout: 30_000 }, async () => {
      const before = (await linkDrops())['vlan-tagged'] ?? 0;
      const [port] = await router.api<PortJson[]>('GET', '/v1/ports');
      // Three frames to the port's MAC, tagged VLAN 7, an IPv4 packet inside; sent from host h's end of the veth.
      const frame = new Uint8Array(64);
      frame.set(parseMac(port!.mac!), 0);
      frame.set([0x02, 0, 0, 0, 0, 7, 0x81, 0x00, 0x00, 0x07, 0x08, 0x00, 0x45], 6);
      const sender = new EthernetDevice({ name: lab.dev('h'), netns: h, configure: false });
      try {
        const lengths = Int32Array.of(64, 64, 64);
        assert.equal(sender.writeBatch(frame.buffer, Int32Array.of(0, 0, 0), lengths, 3), 3);
      } finally {
        sender.close();
      }
      const after = await waitFor('vlan-tagged in stats', async () => {
        const n = (await linkDrops())['vlan-tagged'] ?? 0;
        return n >= before + 3 && n;
      }, 5000, 100);
      assert.equal(after - before, 3);
    });
  });
}
