// Reloads that change ports, without forwarding workers, on real devices:
// a TUN port (host c behind it) and an Ethernet port on a veth (host d)
// change address three times. Each change opens a new port (a new index) on
// the same device and gives the old port's receive slots and link region
// back to the arena; the second change takes the start's slots, the third
// the first change's (test/unit/reload.test.ts checks that accounting).
// After every change both hosts answer ping at the new address and an HTTP
// transfer crosses the router from each — packets read into reused slots,
// ARP replies built in a reused link region — and the old address no
// longer answers.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor } from '../../src/testbed/shell.js';
import { startHttpEcho } from './helpers.js';

let lab: Lab;
let router: RouterProcess;
let [b, c, d] = ['', '', ''];

before(async () => {
  lab = await Lab.create('rlp');
  b = await lab.addNamespace('b');
  c = await lab.addNamespace('c');
  d = await lab.addNamespace('d');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  await lab.hostPort(c, lab.dev('c'), '10.0.3.2/24', '10.0.3.1');
  const r = await lab.addNamespace('r');
  await lab.ethernetHostPort(d, lab.dev('hd'), r, lab.dev('rd'), '10.0.4.2/24', '10.0.4.1');
  router = await lab.startRouter('r', {
    ports: [
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
      { name: 'c', device: lab.dev('c'), netns: c, address: '10.0.3.1/24' },
      { name: 'd', type: 'ethernet', device: lab.dev('rd'), address: '10.0.4.1/24' },
    ],
  });
});

after(async () => {
  await lab?.cleanup();
});

test('without workers: three reloads change a TUN and an Ethernet port (new addresses); traffic crosses both after each, on the slots the old ports gave back', { timeout: 60_000 }, async () => {
  const base = JSON.parse(readFileSync(router.configFile, 'utf8')) as { ports: Record<string, unknown>[] };
  await startHttpEcho(lab, b, '10.0.2.2', 8080);
  let old = 1;
  for (let step = 1; step <= 3; step++) {
    const host = 100 + step;
    writeFileSync(router.configFile, JSON.stringify({ ...base, ports: [base.ports[0], { ...base.ports[1], address: `10.0.3.${host}/24` }, { ...base.ports[2], address: `10.0.4.${host}/24` }] }));
    const summary = await router.api<{ ports: { changed: string[] } }>('POST', '/v1/reload');
    assert.deepEqual(summary.ports.changed, ['c', 'd'], `reload ${step}`);
    for (const [ns, net, dev] of [[c, '10.0.3', lab.dev('c')], [d, '10.0.4', lab.dev('hd')]] as const) {
      await ip('-n', ns, 'route', 'replace', 'default', 'via', `${net}.${host}`, 'dev', dev);
      await waitFor(`reload ${step}: ${net}.${host} answers`, async () => / 0% packet loss/.test((await inNetns(ns, 'ping', ['-c', '1', '-W', '1', `${net}.${host}`], { allowFail: true })).stdout), 5000, 50);
      assert.match((await inNetns(ns, 'ping', ['-c', '1', '-W', '1', `${net}.${old}`], { allowFail: true })).stdout, /0 received/, `reload ${step}: ${net}.${old}, the old address, no longer answers`);
      const got = await inNetns(ns, 'curl', ['-sS', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', 'http://10.0.2.2:8080/big?bytes=300000']);
      assert.equal(got.stdout, '200 300000', `reload ${step}: HTTP from ${net}.2 through the changed port`);
    }
    old = host;
  }
  const stats = JSON.parse(await router.cli('--json', 'stats')) as { ports: Record<string, { drops: Record<string, number> }> };
  for (const p of ['c', 'd']) assert.deepEqual(Object.keys(stats.ports[p]!.drops).filter((k) => k !== 'no-route' && stats.ports[p]!.drops[k]! > 0), [], `port ${p}: no drop but no-route`);
});
