// BFD authentication (RFC 5880 §6.7) against real peers, over TUN ports:
//   1. BIRD 2 (`authentication [meticulous] keyed md5|sha1`, `simple`): the
//      session comes Up both ways and stays Up, nothing refused; a port
//      block (an authenticated AdminDown) takes BIRD's session Down.
//   2. A wrong key: never Up on either side; our drops say auth-bad-digest.
//   3. FRR 8.4 bfdd has no authentication: it ignores the A bit, and
//      sends none, so an authenticating tunroute refuses it (auth-missing).
//   4. BIRD with RIP + BFD, both authenticated, the BFD keys per port
//      (`bfd.ports`) for the sessions RIP makes: routes both ways.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BfdJson, BfdSessionJson } from '../../src/api/types.js';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { sleep, waitFor } from '../../src/testbed/shell.js';

let lab: Lab;
let subnet = 50;

before(async () => {
  lab = await Lab.create('bfdauth');
});

after(async () => {
  await lab?.cleanup();
});

async function session(r: RouterProcess, peer: string): Promise<BfdSessionJson | undefined> {
  return (await r.api<BfdJson>('GET', '/v1/bfd')).sessions.find((s) => s.peer === peer);
}

/** tunroute (10.0.N.1) and BIRD (10.0.N.2) on one link, BFD 100 ms × 3, each with its authentication. */
async function withBird(label: string, auth: Record<string, unknown>, theirs: string[]) {
  const n = subnet++;
  const ns = await lab.addNamespace(label);
  const dev = lab.dev(`b${n}`);
  await lab.hostPort(ns, dev, `10.0.${n}.2/24`);
  const r = await lab.startRouter(`r${label}`, {
    ports: [{ name: 'bird', device: dev, netns: ns, address: `10.0.${n}.1/24` }],
    bfd: { sessions: [{ port: 'bird', peer: `10.0.${n}.2`, interval: 100, multiplier: 3 }], auth },
  });
  const bird = await Bird.start(lab, ns, [
    `router id 10.0.${n}.2;`,
    'protocol device { scan time 1; }',
    'protocol bfd {',
    `  interface "${dev}" { interval 100 ms; multiplier 3; ${theirs.join(' ')} };`,
    `  neighbor 10.0.${n}.1 dev "${dev}";`,
    '}',
    '',
  ].join('\n'), `bird${label}`);
  const birdState = async () => new RegExp(`^10\\.0\\.${n}\\.1\\s+\\S+\\s+(\\S+)`, 'm').exec(await bird.cmd('show bfd sessions'))?.[1];
  const ours = () => session(r, `10.0.${n}.2`);
  return { r, bird, birdState, ours, n };
}

const BIRD_TYPES: [string, string, string][] = [
  ['ksha1', 'keyed-sha1', 'keyed sha1'],
  ['kmd5', 'keyed-md5', 'keyed md5'],
  ['msha1', 'meticulous-keyed-sha1', 'meticulous keyed sha1'],
  ['mmd5', 'meticulous-keyed-md5', 'meticulous keyed md5'],
  ['simple', 'password', 'simple'],
];

describe('BFD authentication with BIRD 2', () => {
  for (const [label, type, birds] of BIRD_TYPES) {
    test(`${type}: Up both ways, 3 s without a refusal; a block takes BIRD's session Down`, { timeout: 40_000 }, async () => {
      const p = await withBird(label, { type, keys: [{ id: 5, secret: 'bfd-secret' }] }, [`authentication ${birds};`, 'password "bfd-secret" { id 5; };']);
      await waitFor('BIRD session Up', async () => (await p.birdState()) === 'Up', 15_000, 50);
      await waitFor('our session Up', async () => (await p.ours())?.state === 'Up', 5000, 50);
      await sleep(3000);
      const s = (await p.ours())!;
      assert.equal(s.state, 'Up');
      assert.equal(s.counters.upTransitions, 1);
      assert.deepEqual(s.counters.drops, {});
      assert.deepEqual([s.auth.type, s.auth.keys, s.auth.sendKey], [type, [5], 5]);
      assert.equal(s.auth.sequenceKnown, type !== 'password');
      assert.equal(await p.birdState(), 'Up');
      await p.r.cli('port', 'block', 'bird');
      await waitFor('BIRD session Down (our signed AdminDown)', async () => (await p.birdState()) === 'Down', 1000, 20);
    });
  }

  test('a wrong key: never Up on either side; ours refused as auth-bad-digest', { timeout: 40_000 }, async () => {
    const p = await withBird('wrong', { type: 'keyed-sha1', keys: [{ id: 5, secret: 'ours' }] }, ['authentication keyed sha1;', 'password "theirs" { id 5; };']);
    await waitFor('our refusals', async () => ((await p.ours())?.counters.drops['auth-bad-digest'] ?? 0) >= 3, 10_000, 100);
    const s = (await p.ours())!;
    assert.notEqual(s.state, 'Up');
    assert.equal(s.counters.rx, 0);
    assert.notEqual(await p.birdState(), 'Up');
  });
});

describe('BFD authentication with FRR 8.4 bfdd (which has none)', () => {
  test('FRR sends no authentication and ignores ours: an authenticating tunroute refuses it (auth-missing), never Up', { timeout: 40_000 }, async () => {
    const n = subnet++;
    const ns = await lab.addNamespace('frr');
    const dev = lab.dev(`f${n}`);
    await lab.hostPort(ns, dev, `10.0.${n}.2/24`);
    const r = await lab.startRouter('rfrr', {
      ports: [{ name: 'frr', device: dev, netns: ns, address: `10.0.${n}.1/24` }],
      bfd: { sessions: [{ port: 'frr', peer: `10.0.${n}.2`, interval: 100, multiplier: 3, auth: { type: 'keyed-sha1', keys: [{ id: 1, secret: 's' }] } }] },
    });
    const frr = await Frr.start(lab, ns, {
      bfdd: ['hostname frr-bfd', '!', 'bfd', ` peer 10.0.${n}.1 interface ${dev}`, '  receive-interval 100', '  transmit-interval 100', ' !', '!', ''].join('\n'),
    });
    const frrStatus = async (): Promise<string | undefined> =>
      (JSON.parse(await frr.vtysh('show bfd peers json')) as { peer: string; status: string }[]).find((x) => x.peer === `10.0.${n}.1`)?.status;
    await waitFor('our refusals', async () => ((await session(r, `10.0.${n}.2`))?.counters.drops['auth-missing'] ?? 0) >= 3, 15_000, 100);
    // FRR takes our Down packets, A bit and all, as unauthenticated ones and moves to Init.
    // Our Down packets go out once a second (RFC 5880 §6.8.3), so FRR may sit in Down between them: wait for Init.
    await waitFor("FRR's session Init", async () => (await frrStatus()) === 'init', 10_000, 50);
    await sleep(2000);
    const s = (await session(r, `10.0.${n}.2`))!;
    const theirs = await frrStatus();
    console.log(`# FRR bfdd with our keyed SHA1: ours ${s.state} (auth-missing ${s.counters.drops['auth-missing']}), FRR's ${theirs}`);
    assert.notEqual(s.state, 'Up');
    assert.equal(s.counters.rx, 0);
    assert.notEqual(theirs, 'up');
  });
});

describe('RIP and BFD both authenticated, with BIRD 2', () => {
  test('BFD keys per port (bfd.ports) for the sessions RIP makes; RIP with HMAC-SHA-256: routes both ways once BFD is Up', { timeout: 60_000 }, async () => {
    const n = subnet++;
    const ns = await lab.addNamespace('ripbfd');
    const h = await lab.addNamespace('hrb');
    const dev = lab.dev(`rb${n}`);
    await lab.hostPort(ns, dev, `10.0.${n}.2/24`);
    await lab.hostPort(h, lab.dev(`hr${n}`), `10.1.${n}.2/24`, `10.1.${n}.1`);
    const r = await lab.startRouter('rripbfd', {
      ports: [
        { name: 'bird', device: dev, netns: ns, address: `10.0.${n}.1/24` },
        { name: 'lan', device: lab.dev(`hr${n}`), netns: h, address: `10.1.${n}.1/24` },
      ],
      bfd: { interval: 100, multiplier: 3, ports: [{ port: 'bird', auth: { type: 'meticulous-keyed-sha1', keys: [{ id: 2, secret: 'bfd-key' }] } }] },
      rip: {
        ports: [{ port: 'bird', bfd: true, auth: { type: 'hmac-sha256', keys: [{ id: 1, secret: 'rip-key' }] } }],
        updateTime: 5, timeoutTime: 30, garbageTime: 20,
      },
    });
    const bird = await Bird.start(lab, ns, [
      `router id 10.0.${n}.2;`,
      'protocol device { scan time 1; }',
      `protocol static { ipv4; route 192.168.${n}.0/24 blackhole; }`,
      `protocol bfd { interface "${dev}" { interval 100 ms; multiplier 3; authentication meticulous keyed sha1; password "bfd-key" { id 2; }; }; }`,
      'protocol rip {',
      '  ipv4 { import all; export all; };',
      `  interface "${dev}" { update time 5; timeout time 30; bfd yes; authentication cryptographic; password "rip-key" { id 1; algorithm hmac sha256; }; };`,
      '}',
      '',
    ].join('\n'), 'birdripbfd');
    await waitFor('BIRD BFD Up', async () => new RegExp(`^10\\.0\\.${n}\\.1\\s+\\S+\\s+Up`, 'm').test(await bird.cmd('show bfd sessions')), 15_000, 100);
    await waitFor('BIRD learns our LAN', async () => new RegExp(`10\\.1\\.${n}\\.0/24\\s+unicast \\[rip1`).test(await bird.cmd('show route protocol rip1')), 15_000, 100);
    await waitFor('we learn BIRD\'s', async () => (await r.api<{ prefix: string; source: string; state: string }[]>('GET', '/v1/routes'))
      .some((x) => x.prefix === `192.168.${n}.0/24` && x.source === 'rip' && x.state === 'active'), 15_000, 100);
    const s = (await session(r, `10.0.${n}.2`))!;
    assert.deepEqual([s.state, s.owners, s.auth.type], ['Up', ['rip'], 'meticulous-keyed-sha1']);
    assert.deepEqual(s.counters.drops, {});
  });
});
