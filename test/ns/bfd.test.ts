// BFD against itself and against real BIRD 2 and FRR bfdd, over TUN ports.
//   1. r1 ═ r2 (wiring namespace): block → the peer is told (AdminDown) at
//      once; SIGKILL → the peer detects the silence (100 ms × 3).
//   2. BIRD in a host namespace on a tunroute port: session Up both ways;
//      a port block takes BIRD's session Down within 1 s.
//   3. FRR bfdd: Up both ways, and no flapping for 10 s (FRR
//      polls 1 s → 100 ms; we must re-arm our transmit timer).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { BfdJson, BfdSessionJson } from '../../src/api/types.js';
import { Bird } from '../../src/testbed/bird.js';
import { Frr } from '../../src/testbed/frr.js';
import { Lab, type LogEvent, type RouterProcess } from '../../src/testbed/lab.js';
import { sleep, waitFor } from '../../src/testbed/shell.js';

let lab: Lab;

before(async () => {
  lab = await Lab.create('bfd');
});

after(async () => {
  await lab?.cleanup();
});

async function session(r: RouterProcess, peer: string): Promise<BfdSessionJson | undefined> {
  const b = await r.api<BfdJson>('GET', '/v1/bfd');
  return b.sessions.find((s) => s.peer === peer);
}

function waitState(r: RouterProcess, peer: string, state: string, timeoutMs: number): Promise<BfdSessionJson> {
  return waitFor(`${r.name}: BFD to ${peer} ${state}`, async () => {
    const s = await session(r, peer);
    return s?.state === state ? s : undefined;
  }, timeoutMs, 10);
}

function bfdEvents(r: RouterProcess, peer: string): LogEvent[] {
  return r.events().filter((e) => e.event === 'bfd.session' && e.peer === peer);
}

function waitEvent(r: RouterProcess, peer: string, pred: (e: LogEvent) => boolean, timeoutMs: number): Promise<LogEvent> {
  return waitFor(`${r.name}: bfd.session event for ${peer}`, () => bfdEvents(r, peer).find(pred), timeoutMs, 10);
}

async function route(r: RouterProcess, prefix: string): Promise<{ state: string; unusable: string | null }> {
  const routes = await r.api<{ prefix: string; source: string; state: string; unusable: string | null }[]>('GET', '/v1/routes');
  return routes.find((x) => x.prefix === prefix && x.source === 'static')!;
}

describe('tunroute ↔ tunroute', () => {
  let r1: RouterProcess;
  let r2: RouterProcess;

  before(async () => {
    const wire = await lab.link(lab.dev('l1'), lab.dev('l2'));
    const bfd = { interval: 100, multiplier: 3 };
    r1 = await lab.startRouter('r1', {
      ports: [{ name: 'r2', device: lab.dev('l1'), netns: wire, address: '10.0.12.1/30' }],
      routes: [{ prefix: '10.0.2.0/24', port: 'r2', via: '10.0.12.2', metric: 1, bfd: true }],
      bfd: { ...bfd, sessions: [{ port: 'r2', peer: '10.0.12.2' }] },
    });
    r2 = await lab.startRouter('r2', {
      ports: [{ name: 'r1', device: lab.dev('l2'), netns: wire, address: '10.0.12.2/30' }],
      routes: [{ prefix: '10.0.1.0/24', port: 'r1', via: '10.0.12.1', metric: 1, bfd: true }],
      bfd: { ...bfd, sessions: [{ port: 'r1', peer: '10.0.12.1' }] },
    });
  });

  test('both sessions come Up at 100 ms × 3 and the tracked routes become active', { timeout: 20_000 }, async () => {
    const s1 = await waitState(r1, '10.0.12.2', 'Up', 10_000);
    await waitState(r2, '10.0.12.1', 'Up', 10_000);
    await waitFor('r1 route active', async () => (await route(r1, '10.0.2.0/24')).state === 'active', 2000);
    await waitFor('r2 route active', async () => (await route(r2, '10.0.1.0/24')).state === 'active', 2000);
    const s = (await session(r1, '10.0.12.2'))!;
    assert.equal(s.txIntervalMs, 100);
    assert.equal(s.rxIntervalMs, 100);
    assert.equal(s.detectionTimeMs, 300);
    assert.deepEqual(s.owners, ['config', 'static']);
    assert.ok(s1.remoteDiscriminator !== 0);
  });

  test('port block → the peer goes Down (diag 3) at once and its tracked route is unusable; unblock → Up', { timeout: 20_000 }, async () => {
    const cliAt = Date.now();
    await r2.cli('port', 'block', 'r1');
    const bye = await waitEvent(r2, '10.0.12.1', (e) => e.to === 'AdminDown', 2000);
    assert.equal(bye.diagnostic, 'administratively-down');
    const down = await waitEvent(r1, '10.0.12.2', (e) => e.to === 'Down', 2000);
    assert.equal(down.from, 'Up');
    assert.equal(down.diagnostic, 'neighbor-signaled-session-down');
    // From r2's AdminDown event (the block carried out; logged just after the
    // packet left, ms resolution) to r1's Down event.
    const blockToDown = down.time - bye.time;
    console.log(`# block → peer Down: ${Math.max(0, blockToDown)} ms by the daemons' logs (r2 AdminDown at ${bye.time}, r1 Down at ${down.time}; ms resolution)`);
    console.log(`# (from starting the \`tunroute port block\` CLI process: ${down.time - cliAt} ms, Node start-up included)`);
    assert.ok(blockToDown < 50, `peer Down ${blockToDown} ms after the block`);

    const s = (await session(r1, '10.0.12.2'))!;
    assert.equal(s.state, 'Down');
    assert.equal(s.lastDiagnostic, 'neighbor-signaled-session-down');
    assert.equal(s.remoteDiagnostic, 'administratively-down');
    const tracked = await route(r1, '10.0.2.0/24');
    assert.equal(tracked.state, 'unusable');
    assert.equal(tracked.unusable, 'bfd-down');
    const fib = r1.firstEvent('route.withdrawn', { prefix: '10.0.2.0/24', cause: 'bfd-down' });
    assert.ok(fib, 'the FIB change names BFD as the cause');

    await r2.cli('port', 'unblock', 'r1');
    await waitState(r1, '10.0.12.2', 'Up', 5000);
    await waitState(r2, '10.0.12.1', 'Up', 5000);
    await waitFor('r1 route active again', async () => (await route(r1, '10.0.2.0/24')).state === 'active', 2000);
  });

  test('SIGKILL → the peer declares Down by detection time (< 350 ms)', { timeout: 20_000 }, async () => {
    await waitState(r1, '10.0.12.2', 'Up', 5000);
    const killedAt = Date.now();
    await r2.stop('SIGKILL');
    const down = await waitEvent(r1, '10.0.12.2', (e) => e.to === 'Down' && e.time >= killedAt, 3000);
    assert.equal(down.diagnostic, 'control-detection-time-expired');
    const killToDown = down.time - killedAt;
    console.log(`# SIGKILL → peer Down: ${killToDown} ms (detection time 300 ms)`);
    assert.ok(killToDown < 350, `Down ${killToDown} ms after the kill`);
    assert.ok(killToDown >= 200, `Down ${killToDown} ms after the kill: sooner than 3 × 100 ms × 75 % jitter?`);
    assert.equal((await route(r1, '10.0.2.0/24')).unusable, 'bfd-down');
  });
});

describe('tunroute ↔ BIRD 2', () => {
  test('BIRD runs a session with us; a port block takes it Down within 1 s; unblock → Up', { timeout: 40_000 }, async () => {
    const ns = await lab.addNamespace('bird');
    const dev = lab.dev('b');
    await lab.hostPort(ns, dev, '10.0.30.2/24');
    const r = await lab.startRouter('rb', {
      ports: [{ name: 'bird', device: dev, netns: ns, address: '10.0.30.1/24' }],
      bfd: { sessions: [{ port: 'bird', peer: '10.0.30.2', interval: 100, multiplier: 3 }] },
    });
    // BIRD 2: a `neighbor` in `protocol bfd` makes a session of its own, no RIP needed.
    const bird = await Bird.start(lab, ns, [
      'router id 10.0.30.2;',
      'protocol device { scan time 1; }',
      'protocol bfd {',
      `  interface "${dev}" { interval 100 ms; multiplier 3; };`,
      `  neighbor 10.0.30.1 dev "${dev}";`,
      '}',
      '',
    ].join('\n'));
    const birdState = async () => /^10\.0\.30\.1\s+\S+\s+(\S+)/m.exec(await bird.cmd('show bfd sessions'))?.[1];
    // A failed wait says what both sides saw.
    const explain = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } catch (e) {
        const theirs = await bird.cmd('show bfd sessions').catch((x: Error) => x.message);
        const mine = await r.api('GET', '/v1/bfd').catch((x: Error) => x.message);
        throw new Error(`${(e as Error).message}\nBIRD:\n${theirs}\ntunroute: ${JSON.stringify(mine)}`, { cause: e });
      }
    };

    await explain(waitFor('BIRD session Up', async () => (await birdState()) === 'Up', 10_000, 50));
    const ours = async () => (JSON.parse(await r.cli('--json', 'bfd', 'list')) as BfdJson).sessions.find((s) => s.peer === '10.0.30.2')!;
    await explain(waitFor('our session Up', async () => (await ours()).state === 'Up', 5000, 50));
    const s = await ours();
    assert.equal(s.txIntervalMs, 100);
    assert.equal(s.rxIntervalMs, 100);
    assert.equal(s.remoteDetectMult, 3);
    assert.match(await bird.cmd('show bfd sessions'), /10\.0\.30\.1\s+\S+\s+Up\s+\S+\s+0\.100\s+0\.300/);

    await r.cli('port', 'block', 'bird');
    const blockedAt = Date.now();
    await explain(waitFor('BIRD session Down', async () => (await birdState()) === 'Down', 1000, 20));
    console.log(`# BIRD saw the session Down ≤ ${Date.now() - blockedAt} ms after the block command returned`);
    assert.equal((await ours()).state, 'AdminDown');

    await r.cli('port', 'unblock', 'bird');
    await explain(waitFor('BIRD session Up again', async () => (await birdState()) === 'Up', 5000, 50));
    await explain(waitFor('our session Up again', async () => (await ours()).state === 'Up', 5000, 50));
    const end = await ours();
    assert.deepEqual(end.counters.drops, {}, JSON.stringify(end));
  });
});

describe('tunroute ↔ FRR bfdd', () => {
  test('Up both ways, then no flapping for 10 s', { timeout: 60_000 }, async () => {
    const ns = await lab.addNamespace('frr');
    const dev = lab.dev('f');
    await lab.hostPort(ns, dev, '10.0.40.2/24');
    const r = await lab.startRouter('rf', {
      ports: [{ name: 'frr', device: dev, netns: ns, address: '10.0.40.1/24' }],
      bfd: { sessions: [{ port: 'frr', peer: '10.0.40.2', interval: 100, multiplier: 3 }] },
    });
    const frr = await Frr.start(lab, ns, {
      bfdd: [
        'hostname frr-bfd',
        '!',
        'bfd',
        ` peer 10.0.40.1 interface ${dev}`,
        '  detect-multiplier 3',
        '  receive-interval 100',
        '  transmit-interval 100',
        ' !',
        '!',
        '',
      ].join('\n'),
    });
    interface FrrPeer { peer: string; status: string; uptime: number }
    interface FrrCounters { peer: string; 'session-up': number; 'session-down': number }
    const frrPeer = async () => (JSON.parse(await frr.vtysh('show bfd peers json')) as FrrPeer[]).find((p) => p.peer === '10.0.40.1');
    const frrCounters = async () => (JSON.parse(await frr.vtysh('show bfd peers counters json')) as FrrCounters[]).find((p) => p.peer === '10.0.40.1')!;

    await waitFor('FRR peer up', async () => (await frrPeer())?.status === 'up', 15_000, 50);
    await waitState(r, '10.0.40.2', 'Up', 5000);
    // Let FRR's Poll from 1 s down to 100 ms complete before the window starts.
    await waitFor('100 ms both ways', async () => {
      const s = await session(r, '10.0.40.2');
      return s?.txIntervalMs === 100 && s.rxIntervalMs === 100 && !s.pollActive;
    }, 5000, 20);

    const windowStart = Date.now();
    await sleep(10_000);

    const p = (await frrPeer())!;
    const c = await frrCounters();
    const ours = (await session(r, '10.0.40.2'))!;
    const events = bfdEvents(r, '10.0.40.2');
    console.log(`# FRR: status ${p.status}, uptime ${p.uptime} s, session-up ${c['session-up']}, session-down ${c['session-down']}; ours: ${ours.state}, up ${ours.counters.upTransitions}, down ${ours.counters.downTransitions}, rx ${ours.counters.rx}, tx ${ours.counters.tx}`);
    assert.equal(p.status, 'up');
    assert.ok(p.uptime >= 10, `FRR uptime ${p.uptime} s`);
    assert.equal(c['session-up'], 1);
    assert.equal(c['session-down'], 0);
    assert.equal(ours.state, 'Up');
    assert.equal(ours.counters.upTransitions, 1);
    assert.equal(ours.counters.downTransitions, 0);
    assert.equal(events.filter((e) => e.to === 'Up').length, 1);
    assert.equal(events.filter((e) => e.time >= windowStart).length, 0, 'no state change during the 10 s');
    assert.ok(ours.uptimeMs! >= 10_000);
    assert.equal(ours.txIntervalMs, 100);
  });
});
