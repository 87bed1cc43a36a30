// The migration's cut-over with a real router as R1: BIRD 2 (RIP + BFD) or
// FRR 8 (zebra + ripd + bfdd), forwarding in its namespace's kernel, and
// tunroute as R2 and R3, whose R1-side ports are TUN devices in R1's
// namespace. R2 reaches server 1, R3 server 2; both servers own 1.1.1.1.
// R1 adds cost 1 to what it hears from R2 and 10 to what it hears from R3
// (BIRD: the interface `metric`; FRR: an `offset-list`), so it prefers R2.
//
//   client ── R1 (BIRD | FRR, kernel forwarding) ─┬─ R2 (tunroute) ── server 1 (1.1.1.1)
//   10.100.0.1        10.100.0.254                └─ R3 (tunroute) ── server 2 (1.1.1.1)
//
// The client polls http://1.1.1.1/ (a fresh connection each time); R1's
// kernel routes are watched with `ip -ts monitor route`, so the moment R1
// switches is the kernel's, not a daemon's log line.
import { join } from 'node:path';
import { isAnswered } from '../hosts/poller.js';
import { readPollRecords, type PollRecord } from '../hosts/records.js';
import { analyseSwitch } from '../hosts/switch-analysis.js';
import { Bird } from './bird.js';
import { Frr } from './frr.js';
import { KernelRouteWatch, type KernelRouteChange } from './kernel-routes.js';
import { Lab, type RouterProcess } from './lab.js';
import { spawnInfoServer } from './servers.js';
import { inNetns, ip, sleep, waitFor } from './shell.js';

export type RealR1 = 'bird' | 'frr';

export const SERVICE = '1.1.1.1';
/** The client's first address (the pollers' sources are .1–.20) and R1's on that link. */
export const CLIENT = '10.100.0.1';
/** Pollers taking turns: one whose SYN fell into the dead path waits out TCP's 1 s retransmission, the others go on. */
const POLLERS = 20;
const CLIENT_GW = '10.100.0.254';
const CLIENT_NET = '10.100.0.0/24';
/** R2's and R3's addresses on their links to R1: R1's kernel next hop says which path it uses. */
export const VIA_R2 = '10.0.12.2';
export const VIA_R3 = '10.0.13.2';
/** R1's cost for each path. */
export const COST_R2 = 1;
export const COST_R3 = 10;

export interface RealR1Options {
  /** RIP timers of R2 and R3 (s); R1 is configured with the same update and timeout times. */
  updateTime?: number;
  timeoutTime?: number;
  garbageTime?: number;
  /** R2's and R3's standby refresh on their ports toward R1, ms (0: off). */
  standbyRefresh?: number;
  bfdIntervalMs?: number;
}

export class RealR1Lab {
  constructor(
    readonly lab: Lab,
    readonly kind: RealR1,
    readonly ns: { r1: string; client: string; server1: string; server2: string },
    readonly r2: RouterProcess,
    readonly r3: RouterProcess,
    readonly bird: Bird | undefined,
    readonly frr: Frr | undefined,
    readonly routes: KernelRouteWatch,
  ) {}

  static async up(kind: RealR1, opts: RealR1Options = {}): Promise<RealR1Lab> {
    const lab = await Lab.create(`r1${kind}`);
    try {
      return await build(lab, kind, opts);
    } catch (e) {
      await lab.cleanup();
      throw e;
    }
  }

  async down(): Promise<void> {
    await this.lab.cleanup();
  }

  /**
   * R1 routes to the service via R2, and R3 has heard R1 advertise it (so R3
   * knows R1 uses another path — FRR damps its triggered updates for 1–5 s,
   * so after a change this can take an update time).
   */
  async converged(timeoutMs: number): Promise<void> {
    await waitFor('R1\'s kernel route to 1.1.1.1 via R2', async () => (await this.r1Path()) === 'r2', timeoutMs, 50);
    await waitFor('R3 to hear R1\'s route to 1.1.1.1', async () => {
      const rip = await this.r3.api<{ routes: { prefix: string; neighbour: string; state: string }[] }>('GET', '/v1/rip');
      return rip.routes.some((r) => r.prefix === `${SERVICE}/32` && r.neighbour === '10.0.13.1' && r.state === 'active');
    }, timeoutMs, 50);
  }

  /** R1's kernel route to the service now: 'r2', 'r3', or null. */
  async r1Path(): Promise<'r2' | 'r3' | null> {
    const out = (await ip('-n', this.ns.r1, 'route', 'show', `${SERVICE}/32`)).stdout;
    if (out.includes(`via ${VIA_R2} `)) return 'r2';
    if (out.includes(`via ${VIA_R3} `)) return 'r3';
    return null;
  }

  /** Every change of R1's kernel route to the service so far. */
  kernelChanges(): KernelRouteChange[] {
    return this.routes.changes();
  }

  /**
   * The client polls http://1.1.1.1/ every `intervalMs` over fresh
   * connections (20 devices taking turns); records go to the returned file.
   */
  startPolling(intervalMs = 50, name = 'polls'): string {
    const file = join(this.lab.dir, `${name}.jsonl`);
    this.lab.spawnTunroute(this.ns.client, ['fleet', '--target', `http://${SERVICE}/`, '--prefix', CLIENT_NET, '--count', String(POLLERS),
      '--interval', `${intervalMs * POLLERS}ms`, '--jitter', '0', '--even', '--timeout', '2s', '--quiet', '--out', file]);
    return file;
  }

  /**
   * One cut-over and its undoing, measured, from a converged lab (see
   * converged()): R2 blocks (or drains) its port
   * toward R1; once server 2 answers the client (and a drain has ended in
   * a block), R2 unblocks the port and server 1 must answer again. Times
   * are from R2's own log events (port.blocked / port.draining,
   * port.unblocked), R1's kernel route changes and the poll records.
   */
  async cutover(mode: 'block' | 'drain', polls: string, o: { settleMs?: number; boundMs?: number } = {}): Promise<CutoverResult> {
    const bound = o.boundMs ?? 10_000;
    const settle = o.settleMs ?? 1000;
    const r2 = this.r2;
    await this.converged(bound + 5000);
    const t0 = Date.now();
    // A drain waits for the flows still on the port; one whose client has gone elsewhere (a poll
    // reset by server 2) keeps server 1 retransmitting for a while: 3 s is enough for the rest.
    await r2.cli('port', mode, 'r1', ...(mode === 'drain' ? ['--max-wait', '3000'] : []));
    const startEvent = mode === 'block' ? 'port.blocked' : 'port.draining';
    const start = await waitFor(`R2 ${startEvent}`, () => r2.firstEvent(startEvent, { port: 'r1' }, t0), 5000, 5);
    const at = start.time;
    const answeredBy = (server: string, since: number) => () =>
      readPollRecords(polls).find((r) => r.t >= since && isAnswered(r) && r.server === server);
    await waitFor('a poll answered by server 2', answeredBy('server2', at), bound, 10);
    let drainedAt: number | null = null;
    if (mode === 'drain') {
      const blocked = await waitFor('R2\'s drain to end in a block', () => r2.firstEvent('port.blocked', { port: 'r1' }, at), bound, 20);
      drainedAt = blocked.time;
    }
    await sleep(settle);
    const t1 = Date.now();
    await r2.cli('port', 'unblock', 'r1');
    const up = await waitFor('R2 port.unblocked', () => r2.firstEvent('port.unblocked', { port: 'r1' }, t1), 5000, 5);
    const backAt = up.time;
    const back = await waitFor('a poll answered by server 1 again', answeredBy('server1', backAt), bound, 10).then(() => true, () => false);
    await sleep(settle);
    const records = readPollRecords(polls);
    const kernel = this.kernelChanges();
    const there = analyseSwitch(records, at, 'server1', 'server2');
    const firstAfter = (since: number, until: number, pred: (c: KernelRouteChange) => boolean) =>
      kernel.find((c) => c.time >= since && c.time < until && pred(c));
    const viaR3 = firstAfter(at, backAt, (c) => !c.deleted && c.via === VIA_R3);
    const gone = firstAfter(at, backAt, (c) => c.deleted && c.via === VIA_R2);
    const viaR2 = firstAfter(backAt, Infinity, (c) => !c.deleted && c.via === VIA_R2);
    // A poll open when R1 switched back to R2 has its next segments meet server 1, which resets it: that
    // loss is the unblock's, even when the poll began just before R2's port.unblocked event.
    const switchBack = viaR2?.time ?? backAt;
    const resetBySwitchBack = (r: PollRecord) => r.error === 'ECONNRESET' && inFlightAt(r, switchBack);
    const failed = records.filter((r) => !isAnswered(r));
    const failedPolls = failed.filter((r) => r.t >= at - 1000 && r.t < backAt && !resetBySwitchBack(r));
    const failedAfterUnblockPolls = failed.filter((r) => r.t >= backAt || (r.t >= at && resetBySwitchBack(r)));
    return {
      mode,
      at,
      drainMs: drainedAt === null ? null : drainedAt - at,
      r1WithdrawnMs: gone ? gone.time - at : null,
      r1SwitchMs: viaR3 ? viaR3.time - at : null,
      server2Ms: firstAnswer(records, at, 'server2'),
      failed: failedPolls.length,
      failedPolls,
      gapMs: there.gapMs,
      unblockAt: backAt,
      r1BackMs: viaR2 ? viaR2.time - backAt : null,
      server1Ms: back ? firstAnswer(records, backAt, 'server1') : null,
      slow: records.filter((r) => r.t >= at - 1000 && isAnswered(r) && r.latencyMs >= SLOW_MS).length,
      slowPolls: records.filter((r) => r.t >= at - 1000 && r.t < backAt && isAnswered(r) && r.latencyMs >= SLOW_MS),
      failedAfterUnblock: failedAfterUnblockPolls.length,
      failedAfterUnblockPolls,
      kernel: kernel.filter((c) => c.time >= at - 10),
    };
  }

  /** R1's own view, for messages: `birdc show route` / `vtysh show ip rip`. */
  async r1Table(): Promise<string> {
    if (this.bird) return this.bird.cmd('show route');
    return this.frr!.vtysh('show ip rip');
  }
}

/** A poll whose connection was open at `t`: when R1's route moved then, its next segments met the other server. */
export const inFlightAt = (p: PollRecord, t: number): boolean => p.t <= t && p.t + p.latencyMs >= t;

/** A poll that took this long was answered only after a TCP retransmission (its SYN was lost). */
const SLOW_MS = 500;

/** The earliest answer by `server` to a poll sent at or after `at`, ms after `at` (null: none). */
function firstAnswer(records: PollRecord[], at: number, server: string): number | null {
  let best = Infinity;
  for (const r of records) if (r.t >= at && isAnswered(r) && r.server === server) best = Math.min(best, r.t + r.latencyMs - at);
  return best === Infinity ? null : best;
}

export interface CutoverResult {
  mode: 'block' | 'drain';
  /** R2's port.blocked (block) or port.draining (drain) event, epoch ms: what the times below count from. */
  at: number;
  /** Drain: until R2's port blocked itself. */
  drainMs: number | null;
  /** R1's kernel route via R2 deleted (a black hole begins, unless replaced at once). */
  r1WithdrawnMs: number | null;
  /** R1's kernel route via R3 installed. */
  r1SwitchMs: number | null;
  /** The earliest answer by server 2 to a poll sent after `at`, ms after `at`. */
  server2Ms: number | null;
  /** Polls answered only after ≥ 500 ms (a lost SYN retransmitted), from 1 s before `at` on. */
  slow: number;
  /** Those polls, until the unblock. */
  slowPolls: PollRecord[];
  /** Polls that failed from 1 s before `at` until the unblock (but for one reset by R1's switch back). */
  failed: number;
  failedPolls: PollRecord[];
  /** The longest time without an answer around the cut-over. */
  gapMs: number;
  /** R2's port.unblocked event, epoch ms. */
  unblockAt: number;
  /** R1's kernel route via R2 again, from the unblock. */
  r1BackMs: number | null;
  /** The earliest answer by server 1 to a poll sent after the unblock (null: none within the bound). */
  server1Ms: number | null;
  /** Polls that failed from the unblock on, and one begun before it that R1's switch back reset. */
  failedAfterUnblock: number;
  failedAfterUnblockPolls: PollRecord[];
  kernel: KernelRouteChange[];
}

/** One line per cut-over, for logs and the bench. */
export function formatCutover(kind: RealR1, r: CutoverResult): string {
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
  return `${kind.padEnd(4)} ${r.mode.padEnd(5)} R1 kernel: withdrawn ${ms(r.r1WithdrawnMs)}, via R3 ${ms(r.r1SwitchMs)}; ` +
    `first server-2 answer ${ms(r.server2Ms)}, failed polls ${r.failed}, slow ${r.slow}, longest gap ${ms(r.gapMs)}` +
    `${r.drainMs !== null ? `, drained in ${ms(r.drainMs)}` : ''} | unblock: R1 via R2 ${ms(r.r1BackMs)}, ` +
    `first server-1 answer ${ms(r.server1Ms)}, failed polls ${r.failedAfterUnblock}`;
}

async function build(lab: Lab, kind: RealR1, o: RealR1Options): Promise<RealR1Lab> {
  const update = o.updateTime ?? 5;
  const timeout = o.timeoutTime ?? 30;
  const garbage = o.garbageTime ?? 20;
  const bfdMs = o.bfdIntervalMs ?? 100;
  const d = (label: string) => lab.dev(label);
  const r1 = await lab.addNamespace('r1');
  const client = await lab.addNamespace('client');
  const server1 = await lab.addNamespace('server1');
  const server2 = await lab.addNamespace('server2');
  await inNetns(r1, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);

  // client ═ R1: a veth pair (both ends are kernels).
  const cdev = d('cv');
  const rdev = d('rv');
  await ip('-n', r1, 'link', 'add', rdev, 'type', 'veth', 'peer', 'name', cdev, 'netns', client);
  await ip('-n', r1, 'addr', 'add', `${CLIENT_GW}/24`, 'dev', rdev);
  await ip('-n', r1, 'link', 'set', rdev, 'up');
  for (let i = 1; i <= POLLERS; i++) await ip('-n', client, 'addr', 'add', `10.100.0.${i}/24`, 'dev', cdev);
  await ip('-n', client, 'link', 'set', cdev, 'up');
  await ip('-n', client, 'route', 'add', 'default', 'via', CLIENT_GW);

  // R1's ends of its links to R2 and R3: TUNs in R1's namespace, opened by R2 and R3.
  const to2 = d('12');
  const to3 = d('13');
  await lab.hostPort(r1, to2, '10.0.12.1/30');
  await lab.hostPort(r1, to3, '10.0.13.1/30');
  await lab.hostPort(server1, d('s1'), '10.1.1.2/24', '10.1.1.1');
  await lab.hostPort(server2, d('s2'), '10.1.2.2/24', '10.1.2.1');
  for (const s of [server1, server2]) await ip('-n', s, 'addr', 'add', `${SERVICE}/32`, 'dev', 'lo');

  // The route monitor starts before any routing daemon, so it sees every change.
  const routes = KernelRouteWatch.start(lab, r1, `${SERVICE}/32`, join(lab.dir, 'r1-routes.log'));

  const bfd = { interval: bfdMs, multiplier: 3 };
  const rip = { updateTime: update, timeoutTime: timeout, garbageTime: garbage };
  const ripPort = { port: 'r1', bfd: true, ...(o.standbyRefresh ? { standbyRefresh: o.standbyRefresh } : {}) };
  const r2 = await lab.startRouter('r2', {
    ports: [
      { name: 'r1', device: to2, netns: r1, address: `${VIA_R2}/30` },
      { name: 'srv', device: d('s1'), netns: server1, address: '10.1.1.1/24' },
    ],
    routes: [{ prefix: `${SERVICE}/32`, port: 'srv', via: '10.1.1.2', metric: 1 }],
    bfd,
    rip: { ports: [ripPort], redistribute: ['static'], ...rip },
  });
  const r3 = await lab.startRouter('r3', {
    ports: [
      { name: 'r1', device: to3, netns: r1, address: `${VIA_R3}/30` },
      { name: 'srv', device: d('s2'), netns: server2, address: '10.1.2.1/24' },
    ],
    routes: [{ prefix: `${SERVICE}/32`, port: 'srv', via: '10.1.2.2', metric: 1 }],
    bfd,
    rip: { ports: [ripPort], redistribute: ['static'], ...rip },
  });

  let bird: Bird | undefined;
  let frr: Frr | undefined;
  if (kind === 'bird') {
    bird = await Bird.start(lab, r1, [
      'router id 10.0.12.1;',
      'protocol device { scan time 1; }',
      `protocol direct { ipv4; interface "${rdev}"; }`,
      // Kernel forwarding: RIP's routes go into the namespace's kernel table.
      'protocol kernel { ipv4 { export where source = RTS_RIP; }; }',
      `protocol bfd { interface "${to2}" { interval ${bfdMs} ms; multiplier 3; }; interface "${to3}" { interval ${bfdMs} ms; multiplier 3; }; }`,
      'protocol rip {',
      '  ipv4 { import all; export all; };',
      `  interface "${to2}" { metric ${COST_R2}; update time ${update}; timeout time ${timeout}; bfd yes; };`,
      `  interface "${to3}" { metric ${COST_R3}; update time ${update}; timeout time ${timeout}; bfd yes; };`,
      '}',
      '',
    ].join('\n'), 'r1-bird');
  } else {
    frr = await Frr.start(lab, r1, {
      ripd: [
        'hostname r1-ripd',
        // ripd adds the offset instead of the interface's cost 1 where the list applies.
        'access-list any-prefix seq 5 permit any',
        '!',
        'router rip',
        ' version 2',
        ` network ${to2}`,
        ` network ${to3}`,
        ' redistribute connected',
        ` offset-list any-prefix in ${COST_R3} ${to3}`,
        ` timers basic ${update} ${timeout} ${garbage}`,
        '!',
        '',
      ].join('\n'),
      bfdd: [
        'hostname r1-bfdd',
        'bfd',
        ` peer ${VIA_R2} interface ${to2}`,
        `  receive-interval ${bfdMs}`,
        `  transmit-interval ${bfdMs}`,
        ' !',
        ` peer ${VIA_R3} interface ${to3}`,
        `  receive-interval ${bfdMs}`,
        `  transmit-interval ${bfdMs}`,
        ' !',
        '!',
        '',
      ].join('\n'),
    }, 'r1-frr');
  }

  await spawnInfoServer(lab, server1, 'server1', SERVICE, join(lab.dir, 'server1.access.log'));
  await spawnInfoServer(lab, server2, 'server2', SERVICE, join(lab.dir, 'server2.access.log'));
  const tb = new RealR1Lab(lab, kind, { r1, client, server1, server2 }, r2, r3, bird, frr, routes);
  await tb.converged(30_000);
  await waitFor('the service answering the client through R1', async () => {
    await inNetns(client, 'curl', ['-sf', '--max-time', '1', '-o', '/dev/null', `http://${SERVICE}/`]);
    return true;
  }, 15_000, 100);
  return tb;
}
