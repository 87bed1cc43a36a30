// RIP hardening against real peers, over TUN ports:
//   1. BIRD 2 with RIP authentication — plaintext, keyed MD5, HMAC-SHA-1,
//      -256, -384, -512 (RFC 4822): routes both ways (with HMAC-SHA-512, 70 static
//      routes in 20-entry datagrams, all learned); a wrong key: nothing learned
//      on either side, and our refusals counted by reason.
//   2. FRR ripd with `ip rip authentication mode md5` (a key chain) and
//      `mode text`: routes both ways; a wrong key: nothing learned, counted.
//   3. GTSM with BIRD `ttl security on`: routes both ways with ours on; FRR
//      (which sends TTL 1 and has no such option) is refused, counted.
//   4. A hostile on-link host floods 65,000 routes: we hold the limit, log
//      one rip.limit event, and the daemon's RSS stays flat.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { RipJson as RipApiJson } from '../../src/api/types.js';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { inNetns, ip, waitFor, sleep } from '../../src/testbed/shell.js';

interface RouteJson { prefix: string; port: string; via: string | null; metric: number; source: string; state: string }
type RipJson = Omit<RipApiJson, 'counters'> & { counters: { droppedPackets: Record<string, number>; entriesOverLimit: number } };

const RIP_TIMERS = { updateTime: 5, timeoutTime: 30, garbageTime: 20 };

let lab: Lab;
let subnet = 100;

before(async () => {
  lab = await Lab.create('riphard');
});

after(async () => {
  await lab?.cleanup();
});

async function ripRoute(r: RouterProcess, prefix: string): Promise<RouteJson | undefined> {
  const routes = await r.api<RouteJson[]>('GET', '/v1/routes');
  return routes.find((x) => x.prefix === prefix && x.source === 'rip' && x.state === 'active');
}

const rip = (r: RouterProcess) => r.api<RipJson>('GET', '/v1/rip');

/**
 * A peer's namespace whose NIC is a tunroute port (10.0.N.2/24, ours .1)
 * and a host LAN behind us (10.1.N.0/24) for the peer to learn; returns
 * what the peer's config needs.
 */
async function peerLab(label: string, ripPort: Record<string, unknown>, ripGlobal: Record<string, unknown> = {}, staticRoutes = 0): Promise<{ r: RouterProcess; ns: string; dev: string; n: number }> {
  const n = subnet++;
  const ns = await lab.addNamespace(label);
  const h = await lab.addNamespace(`h${label}`);
  const dev = lab.dev(`p${n}`);
  await lab.hostPort(ns, dev, `10.0.${n}.2/24`);
  await lab.hostPort(h, lab.dev(`h${n}`), `10.1.${n}.2/24`, `10.1.${n}.1`);
  const r = await lab.startRouter(`r${label}`, {
    ports: [
      { name: 'peer', device: dev, netns: ns, address: `10.0.${n}.1/24` },
      { name: 'lan', device: lab.dev(`h${n}`), netns: h, address: `10.1.${n}.1/24` },
    ],
    rip: { ports: [{ port: 'peer', ...ripPort }], ...RIP_TIMERS, ...ripGlobal },
    // Static routes for RIP to send (172.20.i.0/24 via the LAN host): enough to fill several datagrams.
    routes: Array.from({ length: staticRoutes }, (_, i) => ({ prefix: `172.20.${i}.0/24`, port: 'lan', via: `10.1.${n}.2` })),
  });
  return { r, ns, dev, n };
}

async function birdPeer(label: string, ripPort: Record<string, unknown>, birdIface: string[], staticRoutes = 0) {
  const p = await peerLab(label, ripPort, {}, staticRoutes);
  const bird = await Bird.start(lab, p.ns, [
    `router id 10.0.${p.n}.2;`,
    'protocol device { scan time 1; }',
    `protocol static { ipv4; route 192.168.${p.n}.0/24 blackhole; }`,
    'protocol rip {',
    '  ipv4 { import all; export all; };',
    `  interface "${p.dev}" { update time 5; timeout time 30; ${birdIface.join(' ')} };`,
    '}',
    '',
  ].join('\n'), `bird${label}`);
  const birdHasOurs = async () => new RegExp(`10\\.1\\.${p.n}\\.0/24\\s+unicast \\[rip1[^\\n]*\\n\\s+via 10\\.0\\.${p.n}\\.1 on `).test(await bird.cmd('show route protocol rip1'));
  return { ...p, bird, birdHasOurs, theirs: `192.168.${p.n}.0/24` };
}

const BIRD_AUTH: [string, string, Record<string, unknown>, string[]][] = [
  ['pw', 'plaintext', { type: 'password', keys: [{ id: 1, secret: 'pass-word' }] }, ['authentication plaintext;', 'password "pass-word";']],
  ['md5', 'keyed MD5', { type: 'md5', keys: [{ id: 3, secret: 'md5-secret' }] }, ['authentication cryptographic;', 'password "md5-secret" { id 3; algorithm keyed md5; };']],
  ['sha1', 'HMAC-SHA-1', { type: 'hmac-sha1', keys: [{ id: 4, secret: 'sha1-secret' }] }, ['authentication cryptographic;', 'password "sha1-secret" { id 4; algorithm hmac sha1; };']],
  ['sha256', 'HMAC-SHA-256', { type: 'hmac-sha256', keys: [{ id: 5, secret: 'sha256-secret' }] }, ['authentication cryptographic;', 'password "sha256-secret" { id 5; algorithm hmac sha256; };']],
  ['sha384', 'HMAC-SHA-384', { type: 'hmac-sha384', keys: [{ id: 8, secret: 'sha384-secret' }] }, ['authentication cryptographic;', 'password "sha384-secret" { id 8; algorithm hmac sha384; };']],
  ['sha512', 'HMAC-SHA-512', { type: 'hmac-sha512', keys: [{ id: 6, secret: 'sha512-secret' }] }, ['authentication cryptographic;', 'password "sha512-secret" { id 6; algorithm hmac sha512; };']],
];

// These wait on RIP updates (seconds), each with its own namespaces, peer and router, and none
// has BFD: the four run side by side (the tests of each too). The 65,000-route flood, CPU-heavy
// and measuring the daemon's memory, runs after them alone.
describe('authentication, GTSM and a reload: side by side', { concurrency: true }, () => {
  // Each test has its own namespaces, peer and router, and mostly waits on RIP updates: run them side by side.
  describe('RIP authentication with BIRD 2', { concurrency: true }, () => {
    for (const [label, name, ours, theirs] of BIRD_AUTH) {
      // README: with HMAC-SHA-512 (the longest trailer) a datagram holds 20 entries and stays within 504
      // bytes, which BIRD takes: 70 static routes, the LAN and the link are four datagrams, all learned.
      const many = label === 'sha512' ? 70 : 0;
      test(`${name}: routes both ways${many ? `, ${many} static routes in 20-entry datagrams all learned` : ''}`, { timeout: 40_000 }, async () => {
        const p = await birdPeer(label, { auth: ours }, theirs, many);
        await waitFor('BIRD learns our LAN', p.birdHasOurs, 15_000, 100);
        if (many) {
          const count = async () => Number(/(\d+) of \d+ routes/.exec(await p.bird.cmd('show route count protocol rip1 where net ~ 172.20.0.0/16'))?.[1] ?? 0);
          await waitFor(`BIRD learns our ${many} static routes`, async () => (await count()) === many, 15_000, 100);
        }
        const learned = await waitFor(`we learn ${p.theirs} from BIRD`, () => ripRoute(p.r, p.theirs), 15_000, 100);
        assert.deepEqual([learned.via, learned.metric], [`10.0.${p.n}.2`, 2]);
        const j = await rip(p.r);
        const nb = j.neighbours.find((x) => x.address === `10.0.${p.n}.2`)!;
        assert.equal(nb.authFailures, 0);
        assert.deepEqual(Object.keys(j.counters.droppedPackets).filter((k) => k.startsWith('auth')), [], 'nothing refused');
        // README: BIRD's sequence number is the clock's seconds (so a restarted BIRD starts above what we kept).
        if (ours.type !== 'password') assert.ok(Math.abs(nb.authSequence! - Date.now() / 1000) < 60, `BIRD's sequence number ${nb.authSequence}`);
      });
    }

    test('a wrong key (HMAC-SHA-256, same id): nothing learned either way; our refusals counted as auth-bad-digest', { timeout: 40_000 }, async () => {
      const p = await birdPeer('wrong', { auth: { type: 'hmac-sha256', keys: [{ id: 5, secret: 'ours' }] } },
        ['authentication cryptographic;', 'password "theirs" { id 5; algorithm hmac sha256; };']);
      const refused = await waitFor('our refusals', async () => {
        const j = await rip(p.r);
        return (j.counters.droppedPackets['auth-bad-digest'] ?? 0) >= 2 ? j : undefined;
      }, 15_000, 100);
      assert.equal(refused.neighbours.length, 0, 'a source that fails authentication is not a neighbour');
      await sleep(1500);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
      assert.equal(await p.birdHasOurs(), false);
      assert.doesNotMatch(await p.bird.cmd('show route protocol rip1'), new RegExp(`10\\.1\\.${p.n}\\.0/24`));
    });
  });

  async function frrPeer(label: string, ripPort: Record<string, unknown>, frrLines: { global?: string[]; iface: string[] }) {
    const p = await peerLab(label, ripPort);
    // Something for ripd to redistribute: a connected network on lo.
    await ip('-n', p.ns, 'addr', 'add', `192.168.${p.n}.1/24`, 'dev', 'lo');
    const frr = await Frr.start(lab, p.ns, {
      ripd: [
        'hostname frr-rip', '!', ...(frrLines.global ?? []), '!',
        `interface ${p.dev}`, ...frrLines.iface.map((l) => ` ${l}`), '!',
        'router rip', ' version 2', ` network ${p.dev}`, ' timers basic 5 30 20', ' redistribute connected', '!', '',
      ].join('\n'),
    }, `frr${label}`);
    const frrHasOurs = async () => new RegExp(`R\\(n\\)\\s+10\\.1\\.${p.n}\\.0/24\\s+10\\.0\\.${p.n}\\.1\\s+2\\b`).test(await frr.vtysh('show ip rip'));
    return { ...p, frr, frrHasOurs, theirs: `192.168.${p.n}.0/24` };
  }

  describe('RIP authentication with FRR ripd 8', { concurrency: true }, () => {
    test('keyed MD5 with a key chain (key 7): routes both ways', { timeout: 60_000 }, async () => {
      const p = await frrPeer('fmd5', { auth: { type: 'md5', keys: [{ id: 7, secret: 'frr-md5-secret' }] } }, {
        global: ['key chain tunroute', ' key 7', '  key-string frr-md5-secret'],
        iface: ['ip rip authentication mode md5', 'ip rip authentication key-chain tunroute'],
      });
      await waitFor('FRR learns our LAN', p.frrHasOurs, 20_000, 200);
      const learned = await waitFor(`we learn ${p.theirs} from FRR`, () => ripRoute(p.r, p.theirs), 20_000, 100);
      assert.deepEqual([learned.via, learned.metric], [`10.0.${p.n}.2`, 2]);
      const nb = (await rip(p.r)).neighbours.find((x) => x.address === `10.0.${p.n}.2`)!;
      assert.equal(nb.authFailures, 0);
      // README: FRR's is a counter from 1 when ripd starts, not the clock (a restarted FRR goes back to 1).
      assert.ok(nb.authSequence !== null && nb.authSequence >= 1 && nb.authSequence < 1000, `FRR's sequence number ${nb.authSequence}`);
    });

    test('MD5 with `auth-length rfc` (Auth Data Len 16 instead of 20): taken too', { timeout: 60_000 }, async () => {
      const p = await frrPeer('frfc', { auth: { type: 'md5', keys: [{ id: 2, secret: 'rfc-len' }] } }, {
        global: ['key chain k', ' key 2', '  key-string rfc-len'],
        iface: ['ip rip authentication mode md5 auth-length rfc', 'ip rip authentication key-chain k'],
      });
      await waitFor('FRR learns our LAN', p.frrHasOurs, 20_000, 200);
      await waitFor(`we learn ${p.theirs} from FRR`, () => ripRoute(p.r, p.theirs), 20_000, 100);
    });

    test('text password: routes both ways', { timeout: 60_000 }, async () => {
      const p = await frrPeer('ftxt', { auth: { type: 'password', keys: [{ id: 1, secret: 'frr-text' }] } }, {
        iface: ['ip rip authentication mode text', 'ip rip authentication string frr-text'],
      });
      await waitFor('FRR learns our LAN', p.frrHasOurs, 20_000, 200);
      await waitFor(`we learn ${p.theirs} from FRR`, () => ripRoute(p.r, p.theirs), 20_000, 100);
    });

    test('a wrong MD5 key: nothing learned either way; our refusals counted (auth-bad-digest)', { timeout: 60_000 }, async () => {
      const p = await frrPeer('fbad', { auth: { type: 'md5', keys: [{ id: 7, secret: 'ours' }] } }, {
        global: ['key chain tunroute', ' key 7', '  key-string theirs'],
        iface: ['ip rip authentication mode md5', 'ip rip authentication key-chain tunroute'],
      });
      await waitFor('our refusals', async () => ((await rip(p.r)).counters.droppedPackets['auth-bad-digest'] ?? 0) >= 2, 20_000, 100);
      await sleep(2000);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
      assert.equal(await p.frrHasOurs(), false);
      assert.equal((await rip(p.r)).neighbours.length, 0);
    });

    test('FRR without authentication against our MD5 port: refused as auth-missing, and FRR refuses ours', { timeout: 60_000 }, async () => {
      const p = await frrPeer('fnone', { auth: { type: 'md5', keys: [{ id: 1, secret: 'x' }] } }, { iface: [] });
      await waitFor('our refusals', async () => ((await rip(p.r)).counters.droppedPackets['auth-missing'] ?? 0) >= 1, 20_000, 100);
      await sleep(2000);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
      assert.equal(await p.frrHasOurs(), false);
    });
  });

  describe('GTSM (RFC 5082, ttlSecurity)', { concurrency: true }, () => {
    test('with BIRD `ttl security on`: both send TTL 255, routes both ways', { timeout: 40_000 }, async () => {
      const p = await birdPeer('gtsm', { ttlSecurity: true }, ['ttl security on;']);
      await waitFor('BIRD learns our LAN', p.birdHasOurs, 15_000, 100);
      await waitFor(`we learn ${p.theirs} from BIRD`, () => ripRoute(p.r, p.theirs), 15_000, 100);
      assert.equal((await rip(p.r)).counters.droppedPackets['bad-ttl'] ?? 0, 0);
    });

    test('ours on, BIRD off (it sends TTL 1): we refuse its packets (bad-ttl), it still takes ours', { timeout: 40_000 }, async () => {
      const p = await birdPeer('gtsm1', { ttlSecurity: true }, []);
      await waitFor('BIRD learns our LAN (TTL 255 is fine to it)', p.birdHasOurs, 15_000, 100);
      await waitFor('refused: bad-ttl', async () => ((await rip(p.r)).counters.droppedPackets['bad-ttl'] ?? 0) >= 2, 15_000, 100);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
    });

    test('BIRD on, ours "tx-only": BIRD takes ours (TTL 255) and we take its', { timeout: 40_000 }, async () => {
      const p = await birdPeer('gtsmtx', { ttlSecurity: 'tx-only' }, ['ttl security on;']);
      await waitFor('BIRD learns our LAN', p.birdHasOurs, 15_000, 100);
      await waitFor(`we learn ${p.theirs} from BIRD`, () => ripRoute(p.r, p.theirs), 15_000, 100);
    });

    test('FRR ripd (TTL 1, no GTSM option) against ours on: refused, counted; FRR takes ours', { timeout: 60_000 }, async () => {
      const p = await frrPeer('fgtsm', { ttlSecurity: true }, { iface: [] });
      await waitFor('refused: bad-ttl', async () => ((await rip(p.r)).counters.droppedPackets['bad-ttl'] ?? 0) >= 1, 20_000, 100);
      await waitFor('FRR learns our LAN', p.frrHasOurs, 20_000, 200);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
    });
  });

  describe('a reload turns RIP authentication on', () => {
    test('BIRD authenticates, we do not: nothing learned; the same key written to our config and `tunroute reload`: routes both ways', { timeout: 60_000 }, async () => {
      const p = await birdPeer('reload', {}, ['authentication cryptographic;', 'password "reload-key" { id 4; algorithm hmac sha1; };']);
      await waitFor('our refusals', async () => ((await rip(p.r)).counters.droppedPackets['auth-not-configured'] ?? 0) >= 1, 15_000, 100);
      assert.equal(await ripRoute(p.r, p.theirs), undefined);
      const config = JSON.parse(readFileSync(p.r.configFile, 'utf8')) as { rip: { ports: Record<string, unknown>[] } };
      config.rip.ports[0]!.auth = { type: 'hmac-sha1', keys: [{ id: 4, secret: 'reload-key' }] };
      writeFileSync(p.r.configFile, JSON.stringify(config));
      await p.r.cli('reload');
      await waitFor('BIRD learns our LAN', p.birdHasOurs, 15_000, 100);
      await waitFor(`we learn ${p.theirs}`, () => ripRoute(p.r, p.theirs), 15_000, 100);
      const port = (await rip(p.r)).ports[0]!;
      assert.deepEqual(port.auth, { type: 'hmac-sha1', keys: [4], sendKey: 4 });
      assert.doesNotMatch(JSON.stringify(await p.r.api('GET', '/v1/rip')), /reload-key/, 'the API never shows a secret');
    });
  });
});

/** Sends `count` /32 routes (172.16.0.0 + from …) in Responses of 25 entries from src:520 to dst:520, `rounds` times. */
const FLOOD = `
const dgram = require('node:dgram');
const [src, dst, from, count, rounds] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind(520, src, async () => {
  const base = (172 << 24 | 16 << 16) >>> 0;
  for (let r = 0; r < Number(rounds); r++) {
    for (let i = Number(from); i < Number(from) + Number(count); i += 25) {
      const n = Math.min(25, Number(from) + Number(count) - i);
      const b = Buffer.alloc(4 + 20 * n);
      b.writeUInt32BE(0x02020000, 0);
      for (let e = 0; e < n; e++) {
        const o = 4 + 20 * e;
        b.writeUInt16BE(2, o);
        b.writeUInt32BE((base + i + e) >>> 0, o + 4);
        b.writeUInt32BE(0xffffffff, o + 8);
        b.writeUInt32BE(1, o + 16);
      }
      await new Promise((ok) => s.send(b, 520, dst, ok));
      if ((i / 25) % 40 === 0) await new Promise((ok) => setTimeout(ok, 4));
    }
  }
  s.close();
});
`;

function rssMb(r: RouterProcess): number {
  const status = readFileSync(`/proc/${r.proc!.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function flood(p: { ns: string; dev: string; n: number }, from: number, count: number, rounds = 1): Promise<void> {
  // The host's queue toward the TUN holds a whole round: what the daemon reads slower than it comes is not lost on the way.
  await ip('-n', p.ns, 'link', 'set', p.dev, 'txqueuelen', '10000');
  await inNetns(p.ns, process.execPath, ['-e', FLOOD, `10.0.${p.n}.2`, `10.0.${p.n}.1`, String(from), String(count), String(rounds)]);
}

/** Wait until a counter stops moving (every entry sent has been read). */
async function settled(read: () => Promise<number>, atLeast: number): Promise<number> {
  let last = -1;
  return waitFor(`counter settles at ≥ ${atLeast}`, async () => {
    const v = await read();
    const done = v >= atLeast && v === last;
    last = v;
    return done ? v : undefined;
  }, 60_000, 500);
}

describe('a hostile on-link host floods 65,000 routes', () => {
  test('limited (defaults: 5,000 per neighbour): held at the limit, one rip.limit event, RSS flat; unlimited for comparison', { timeout: 240_000 }, async () => {
    const limited = await peerLab('flood', {});
    const rss0 = rssMb(limited.r);
    await flood(limited, 0, 5000);
    await waitFor('5,000 held', async () => (await rip(limited.r)).limits.routesHeld === 5000, 30_000, 200);
    await sleep(1000);
    const rss1 = rssMb(limited.r);
    // The other 60,000, twice (as a neighbour sends its table every update).
    await flood(limited, 5000, 60_000, 2);
    const refused = await settled(async () => (await rip(limited.r)).counters.entriesOverLimit, 100_000);
    await sleep(1000);
    const rss2 = rssMb(limited.r);
    const j = await rip(limited.r);
    const nb = j.neighbours.find((x) => x.address === `10.0.${limited.n}.2`)!;
    assert.deepEqual([j.limits.routesHeld, nb.held, nb.limitReached], [5000, 5000, true]);
    assert.equal(nb.routesRefused, refused);
    const ev = limited.r.events();
    const limits = ev.filter((e) => e.event === 'rip.limit');
    assert.deepEqual(limits.map((e) => [e.limit, e.state, e.neighbour, e.max]), [['maxRoutesPerNeighbour', 'reached', `10.0.${limited.n}.2`, 5000]], 'one event');
    const perRoute = ev.filter((e) => String(e.event).startsWith('route.') && e.event !== 'route.changes').length;
    const summaries = ev.filter((e) => e.event === 'route.changes');
    const notLogged = summaries.reduce((a, e) => a + (e.notLogged as { installed: number }).installed, 0);
    assert.ok(perRoute < 500, `${perRoute} route.* lines for 5,000 routes`);
    assert.equal(perRoute + notLogged, 5000 + 2, 'every FIB change is a line or counted in a summary (+ the two connected routes)');
    // What an operator sees: the CLI and Prometheus.
    const list = await limited.r.cli('rip', 'list');
    assert.match(list, new RegExp(`10\\.0\\.${limited.n}\\.2\\s+up\\s+\\S+\\s+\\S+ ago\\s+5000\\s+5000\\s+${refused} \\(limit\\)`));
    assert.match(list, /limits: 10000 routes \(5000 held\), 5000 per neighbour, 32 neighbours per port/);
    const metrics = (await inNetns(limited.r.netns, 'curl', ['-sS', '--unix-socket', limited.r.socket, 'http://x/metrics'])).stdout;
    assert.match(metrics, new RegExp(`tunroute_rip_limit_reached\\{limit="maxRoutesPerNeighbour",port="peer",neighbour="10\\.0\\.${limited.n}\\.2"\\} 1`));
    assert.match(metrics, /tunroute_rip_routes_held\{kind="held"\} 5000/);
    assert.match(metrics, new RegExp(`tunroute_rip_events_total\\{kind="entriesOverLimit"\\} ${refused}`));

    // The same flood with the limits out of the way (what the daemon did before them), for comparison.
    const open = await peerLab('open', {}, { maxRoutes: 100_000, maxRoutesPerNeighbour: 100_000 });
    const orss0 = rssMb(open.r);
    await flood(open, 0, 65_000, 2);
    const held = await settled(async () => (await rip(open.r)).limits.routesHeld, 60_000);
    assert.equal(held, 65_000);
    await sleep(1000);
    const orss = rssMb(open.r);
    console.log(`# daemon RSS (MB): limited ${rss0.toFixed(1)} → ${rss1.toFixed(1)} holding 5,000 routes → ${rss2.toFixed(1)} after ${refused} more entries were refused; ` +
      `without limits ${orss0.toFixed(1)} → ${orss.toFixed(1)} holding 65,000`);
    // Refusing 120,000 entries costs what the API polls and GC slack cost, not what holding them would (≈ 3 KB a route, below).
    assert.ok(rss2 - rss1 < 25, `RSS grew ${(rss2 - rss1).toFixed(1)} MB while every entry was refused`);
    assert.ok(rss2 - rss0 < (orss - orss0) / 2, 'the limit holds memory well below the unlimited case');
  });
});
