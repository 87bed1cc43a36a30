// One rehearsal of the migration on a namespace testbed, end to end:
// testbed up → fleet polling server 1 → test appliance polls → the transfer
// unit steers it to server 2 → server 2's history line → the trigger blocks
// (or drains) the port → R1 falls back to R3 → the fleet is answered by
// server 2 → verify → tear down. Returns the timeline, every poll and a
// verdict; the demo prints and reports it, the tests assert on it.
import { join } from 'node:path';
import { mkdirSync, existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { isAnswered, type PollRecord } from '../hosts/poller.js';
import { readPollRecords, summarisePolls, type PollSummary } from '../hosts/records.js';
import { FLEET_PREFIX, MigrationTestbed, SERVICE, TEST_APPLIANCE, type CutoverMode, type Embodiment, type RoutingMode } from './migration.js';
import type { LogEvent, RouterProcess } from './lab.js';
import { readJsonLines } from './json-lines.js';
import { FatalError, sleep, waitFor } from './shell.js';

export interface RehearsalOptions {
  embodiment: Embodiment;
  routing: RoutingMode;
  cutover: CutoverMode;
  fleetSize: number;
  /** Each appliance polls once per this interval (the real fleet: once a day). */
  pollIntervalMs: number;
  /** The servers answer each poll after this long (ms): polls in flight at the cut-over. */
  serverDelayMs: number;
  /** Fleet polling before the test appliance starts. */
  warmupMs: number;
  /** Fleet polling after the cut-over, before the verdict. */
  afterMs: number;
  /** Where poll records and copies of the logs go. */
  dir: string;
  log?: (s: string) => void;
}

export interface TimelineEntry {
  /** Epoch ms. */
  t: number;
  what: string;
  /** Which log said so (router name, access log, poll records). */
  source: string;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RehearsalResult {
  options: Omit<RehearsalOptions, 'log'>;
  startedAt: number;
  timeline: TimelineEntry[];
  /** The moments the verdict and the report are built on (epoch ms, null if it never happened). */
  moments: {
    testPollSent: number | null;
    historySeen: number | null;
    triggerFired: number | null;
    portBlocked: number | null;
    r1RouteChanged: number | null;
    firstFleetOnServer2: number | null;
    lastFleetOnServer1: number | null;
  };
  metrics: {
    fleetPolls: number;
    failedPolls: number;
    /** Longest time with no answered fleet poll (send times), ms. */
    longestGapMs: number;
    blockToRouteChangeMs: number | null;
    blockToFirstServer2Ms: number | null;
    historyToBlockMs: number | null;
    pollsPerSecond: number;
  };
  summary: PollSummary;
  fleetPolls: PollRecord[];
  testPolls: PollRecord[];
  routerEvents: Record<string, LogEvent[]>;
  checks: Check[];
  ok: boolean;
}

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalResult> {
  const log = opts.log ?? (() => undefined);
  mkdirSync(opts.dir, { recursive: true });
  const startedAt = Date.now();
  const timeline: TimelineEntry[] = [{ t: startedAt, what: 'rehearsal started', source: 'demo' }];
  log(`bringing up embodiment ${opts.embodiment} (${opts.routing} routing, ${opts.cutover} cut-over)`);
  const tb = await MigrationTestbed.up({ embodiment: opts.embodiment, routing: opts.routing, cutover: opts.cutover, trigger: true, serverDelayMs: opts.serverDelayMs }, (s) => log(`  testbed: ${s}`));
  timeline.push({ t: Date.now(), what: 'testbed up: R1 reaches 1.1.1.1 via R2', source: 'testbed' });
  // One set of files per run: the poll writers append.
  const run = `e${opts.embodiment}-${opts.cutover}-${startedAt}`;
  const fleetFile = join(opts.dir, `fleet-${run}.jsonl`);
  const probeFile = join(opts.dir, `test-appliance-${run}.jsonl`);
  try {
    log(`fleet: ${opts.fleetSize} appliances polling http://${SERVICE}/ every ${opts.pollIntervalMs} ms (${Math.round((opts.fleetSize * 1000) / opts.pollIntervalMs)} polls/s)`);
    const fleet = tb.lab.spawnTunroute(tb.ns.fleet, ['fleet', '--target', `http://${SERVICE}/poll`, '--prefix', FLEET_PREFIX, '--count', String(opts.fleetSize),
      '--interval', `${opts.pollIntervalMs}ms`, '--jitter', '0.2', '--timeout', '2s', '--out', fleetFile, '--quiet']);
    timeline.push({ t: Date.now(), what: `fleet of ${opts.fleetSize} starts polling`, source: 'fleet' });
    await waitFor('fleet polls answered by server1', () => existsSync(fleetFile) && readPollRecords(fleetFile).some((r) => isAnswered(r) && r.server === 'server1'), 20_000, 100);
    await sleep(opts.warmupMs);

    // The evidence is server 2's history line, not the test appliance seeing
    // the answer: the cut-over may win the race against that answer's way
    // back (it returns over the dedicated line and R2), so the appliance's
    // own success is reported but not waited for.
    log(`test appliance ${TEST_APPLIANCE} polls until server 2 answers`);
    const probe = tb.lab.spawnTunroute(tb.ns.test, ['probe', '--target', `http://${SERVICE}/poll`, '--source', TEST_APPLIANCE, '--interval', '1s',
      '--until-server', 'server2', '--timeout-total', '30s', '--out', probeFile, '--quiet']);
    const cutoverRouter = opts.cutover === 'block' ? tb.routers.r2 : tb.routers.r1;
    const cutoverPort = opts.cutover === 'block' ? 'r1' : 'r2';
    log(`waiting for ${cutoverRouter.name}'s trigger to ${opts.cutover} port ${cutoverPort}`);
    await waitFor(`port ${cutoverPort} of ${cutoverRouter.name} blocked`, async () => {
      if (findEvent(cutoverRouter, 'port.blocked', cutoverPort)) return true;
      if (probe.exitCode !== null && probe.exitCode !== 0) {
        const last = existsSync(probeFile) ? readPollRecords(probeFile).slice(-2) : [];
        throw new FatalError(`test appliance did not reach server 2 (probe exit ${probe.exitCode}); last polls: ${JSON.stringify(last)}; ${await dropsReport(tb)}`);
      }
      return false;
    }, 75_000, 50);
    if (probe.exitCode === null) probe.kill('SIGTERM');
    log(`cut-over done; fleet keeps polling for ${opts.afterMs} ms`);
    await sleep(opts.afterMs);
    await stopGracefully(fleet);

    const fleetPolls = readPollRecords(fleetFile);
    const testPolls = existsSync(probeFile) ? readPollRecords(probeFile) : [];
    const routerEvents = Object.fromEntries(tb.allRouters.map((r) => [r.name, r.events()]));
    return analyse(opts, startedAt, timeline, tb, fleetPolls, testPolls, routerEvents, cutoverRouter, cutoverPort);
  } finally {
    log('tearing the testbed down');
    await tb.down();
  }
}

/** Every router's drops by port and reason: what to look at when traffic went missing. */
async function dropsReport(tb: MigrationTestbed): Promise<string> {
  const parts: string[] = [];
  for (const r of tb.allRouters) {
    const s = await r.api<{ ports: Record<string, { drops: Record<string, number>; txPackets: number; rxPackets: number }> }>('GET', '/v1/stats').catch(() => null);
    if (!s) continue;
    parts.push(`${r.name}: ${Object.entries(s.ports).map(([p, c]) => `${p} rx ${c.rxPackets} tx ${c.txPackets}${Object.keys(c.drops).length ? ` drops ${JSON.stringify(c.drops)}` : ''}`).join(', ')}`);
  }
  return parts.join('; ');
}

function findEvent(r: RouterProcess, event: string, port?: string): LogEvent | undefined {
  return r.events().find((e) => e.event === event && (port === undefined || e.port === port));
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(t);
      resolve(code);
    });
  });
}

async function stopGracefully(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if ((await exitOf(child, 5000)) === null) child.kill('SIGKILL');
}

function analyse(
  opts: RehearsalOptions, startedAt: number, timeline: TimelineEntry[], tb: MigrationTestbed,
  fleetPolls: PollRecord[], testPolls: PollRecord[], routerEvents: Record<string, LogEvent[]>,
  cutoverRouter: RouterProcess, cutoverPort: string,
): RehearsalResult {
  const ev = (router: string, pred: (e: LogEvent) => boolean) => routerEvents[router]?.find(pred);
  const testPollSent = testPolls[0]?.t ?? null;
  const history = readJsonLines<{ time: number; client: string; server: string; status: number }>(tb.accessLog.server2).find((l) => l.client === TEST_APPLIANCE && l.status === 200);
  const fired = ev(cutoverRouter.name, (e) => e.event === 'trigger.fired');
  const draining = ev(cutoverRouter.name, (e) => e.event === 'port.draining' && e.port === cutoverPort);
  const blocked = ev(cutoverRouter.name, (e) => e.event === 'port.blocked' && e.port === cutoverPort);
  // R1 moves 1.1.1.1 to R3 (for a drain: when new flows start taking R3).
  const moved = ev('r1', (e) => (e.event === 'route.changed' || e.event === 'route.installed') && e.prefix === `${SERVICE}/32` && (e.new as { port?: string } | null)?.port === 'r3');
  const switchAt = draining?.time ?? blocked?.time ?? null;
  // When each answer arrived (a poll sent before the switch may be answered long after it).
  const answersBy = (server: string) => fleetPolls.filter((r) => isAnswered(r) && r.server === server).map((r) => Math.round(r.t + r.latencyMs));
  const onServer2 = answersBy('server2');
  const onServer1 = answersBy('server1');
  const firstFleetOnServer2 = onServer2.length ? Math.min(...onServer2) : null;
  const lastFleetOnServer1 = onServer1.length ? Math.max(...onServer1) : null;
  const summary = summarisePolls(fleetPolls);

  const add = (t: number | null | undefined, what: string, source: string) => {
    if (t) timeline.push({ t, what, source });
  };
  add(testPollSent, `test appliance ${TEST_APPLIANCE} sends its first poll`, 'test appliance');
  add(history?.time, 'server 2 takes the test appliance\'s poll: its history line (status 200)', 'server2 access log');
  const testAnswered = testPolls.find((p) => isAnswered(p) && p.server === 'server2');
  add(testAnswered && Math.round(testAnswered.t + testAnswered.latencyMs), 'the test appliance receives server 2\'s answer', 'test appliance');
  add(fired?.time, `${cutoverRouter.name}'s trigger fires`, cutoverRouter.name);
  add(draining?.time, `${cutoverRouter.name} starts draining port ${cutoverPort}`, cutoverRouter.name);
  add(blocked?.time, `${cutoverRouter.name} blocks port ${cutoverPort}`, cutoverRouter.name);
  add(moved?.time, 'R1 changes its route to 1.1.1.1: via R3', 'r1');
  add(firstFleetOnServer2, 'first fleet poll answered by server 2', 'fleet');
  add(lastFleetOnServer1, 'last fleet poll answered by server 1', 'fleet');
  timeline.sort((a, b) => a.t - b.t);

  const windowStart = switchAt === null ? Infinity : switchAt + 2000;
  const late = fleetPolls.filter((r) => r.t >= windowStart);
  const checks: Check[] = [
    check('test appliance reached server 2 through the real network before any device moved',
      history !== undefined && (switchAt === null || history.time <= switchAt) && onServer2.every((t) => t >= (switchAt ?? 0)),
      history ? `history line at +${history.time - startedAt} ms` : 'no history line from the test appliance'),
    check('the cut-over followed the history line, not before', history !== undefined && fired !== undefined && fired.time >= history.time,
      fired && history ? `trigger ${fired.time - history.time} ms after the history line` : 'trigger did not fire'),
    check('R1 fell back to the route via R3', moved !== undefined, moved ? `route change at +${moved.time - startedAt} ms` : 'no route change seen in R1\'s log'),
    check('after the cut-over the fleet is answered by server 2 only', late.length > 0 && late.every((r) => isAnswered(r) && r.server === 'server2'),
      `${late.filter((r) => isAnswered(r) && r.server === 'server2').length}/${late.length} polls from 2 s after the switch answered by server 2`),
  ];
  if (opts.cutover === 'drain') {
    const failed = summary.failed;
    checks.push(check('drain lost no poll', failed === 0, `${failed} failed polls`));
  }
  const durationS = summary.firstT !== null && summary.lastT !== null ? (summary.lastT - summary.firstT) / 1000 : 0;
  return {
    options: { ...opts, log: undefined } as Omit<RehearsalOptions, 'log'>,
    startedAt,
    timeline,
    moments: {
      testPollSent, historySeen: history?.time ?? null, triggerFired: fired?.time ?? null, portBlocked: blocked?.time ?? null,
      r1RouteChanged: moved?.time ?? null, firstFleetOnServer2, lastFleetOnServer1,
    },
    metrics: {
      fleetPolls: fleetPolls.length,
      failedPolls: summary.failed,
      longestGapMs: summary.longestGap?.ms ?? 0,
      blockToRouteChangeMs: switchAt !== null && moved ? moved.time - switchAt : null,
      blockToFirstServer2Ms: switchAt !== null && firstFleetOnServer2 !== null ? firstFleetOnServer2 - switchAt : null,
      historyToBlockMs: history && switchAt !== null ? switchAt - history.time : null,
      pollsPerSecond: durationS > 0 ? fleetPolls.length / durationS : 0,
    },
    summary,
    fleetPolls,
    testPolls,
    routerEvents,
    checks,
    ok: checks.every((c) => c.ok),
  };
}

function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}
