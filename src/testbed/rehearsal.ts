// One rehearsal of the migration on a lab, end to end: lab up → fleet
// polling server 1 → the test appliance polls → it is steered to server 2 →
// server 2's history line → the trigger blocks (or drains) the port → the
// router with both paths falls back → the fleet is answered by server 2 →
// verify → tear down. The lab is a built-in embodiment or a topology file
// (rehearsal-lab.ts). The fleet either polls on a steady interval, or — a
// day of the real fleet compressed — each appliance polls exactly once in
// the day, the cut-over at mid-day. Poll records go to a file and are summed
// up by streaming (hosts/aggregation.ts): a million polls are never held in
// memory; the failed ones are kept whole up to FAILURES_KEPT, the rest
// counted. Returns the timeline, the summary, each process's cost and a
// verdict; the demo prints and reports it, the tests assert on it.
import type { ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PollAggregator, type PollSummary } from '../hosts/aggregation.js';
import { isAnswered, type PollCounters, type PollRecord } from '../hosts/poller.js';
import { forEachPollRecord, readPollRecords } from '../hosts/records.js';
import type { LogEvent, RouterProcess } from './lab.js';
import type { CutoverMode } from './migration.js';
import { ProcessMeter, type CostReport, type ProcessCost } from './proc-stats.js';
import { openRehearsalLab, type LabDescription, type LabSpec, type RehearsalLab } from './rehearsal-lab.js';
import { FatalError, run, sleep, waitFor } from './shell.js';

export interface RehearsalOptions {
  lab: LabSpec;
  cutover: CutoverMode;
  fleetSize: number;
  /** Each appliance polls once per this interval; with `day`, exactly once in it. */
  pollIntervalMs: number;
  /** The interval is a day: each appliance polls once at a random moment of it, the cut-over happens mid-day, the run ends with the day. */
  day: boolean;
  /** Interval mode: fleet polling before the test appliance starts. */
  warmupMs: number;
  /** Interval mode: fleet polling after the cut-over, before the verdict. */
  afterMs: number;
  /** Deadline of one poll (default DEFAULT_POLL_TIMEOUT_MS, 2 s). */
  pollTimeoutMs?: number;
  /** The servers of a built-in lab rotate their access logs at this size (bytes; default DEFAULT_LOG_MAX_BYTES, 64 MB). */
  logMaxBytes?: number;
  /** Where poll records and the status file go. */
  dir: string;
  log?: (s: string) => void;
  /** Called about once a second while the rehearsal runs. */
  progress?: (p: RehearsalProgress) => void;
}

export interface RehearsalProgress {
  /** lab up, the fleet's phases (first half of the day, cut-over, …), analysis, lab down. */
  phase: string;
  elapsedMs: number;
  /** While the fleet polls (from its status file, once it has written one); else null. */
  fleet: FleetProgress | null;
  /** During the analysis: poll records summed up so far, of the polls the fleet finished (null: not known). */
  records: { read: number; of: number | null } | null;
}

export interface FleetProgress {
  /** Fleet polls finished, and how many the run will have (day mode; null when open-ended). */
  polls: number;
  expected: number | null;
  /** Polls finished per second over the last few seconds. */
  ratePerS: number;
  failed: number;
  inFlight: number;
  /** Until the fleet's day ends (day mode), else null. */
  remainingMs: number | null;
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
  options: Omit<RehearsalOptions, 'log' | 'progress'>;
  lab: LabDescription & {
    service: string; servers: { from: string; to: string }; cutover: { router: string; port: string };
    /** Where the fall-back was watched: a tunroute router's log, or a router's kernel (FRR, BIRD). */
    fallback: { router: string; oldPort: string; source?: 'log' | 'kernel' } | null;
  };
  version: { tunroute: string; commit: string | null; node: string };
  startedAt: number;
  timeline: TimelineEntry[];
  /** The moments the verdict and the report are built on (epoch ms, null if it never happened). */
  moments: {
    fleetStarted: number;
    fleetEnded: number;
    testPollSent: number | null;
    historySeen: number | null;
    triggerFired: number | null;
    /** When the cut-over took effect: the port blocked (block) or started draining (drain). */
    switched: number | null;
    portBlocked: number | null;
    r1RouteChanged: number | null;
    firstFleetOnServer2: number | null;
    lastFleetOnServer1: number | null;
  };
  metrics: {
    fleetPolls: number;
    /** Day mode: one per appliance. */
    expectedPolls: number | null;
    failedPolls: number;
    /** Longest time with no answered fleet poll (send times), ms. */
    longestGapMs: number;
    blockToRouteChangeMs: number | null;
    blockToFirstServer2Ms: number | null;
    historyToBlockMs: number | null;
    /** Fleet polls per second, first poll to last. */
    pollsPerSecond: number;
    latencyP50Ms: number | null;
    latencyP99Ms: number | null;
    /** Failed polls sent before the switch (in flight at it), and sent after it. */
    lostInFlight: number;
    lostAfterSwitch: number;
    /**
     * Polls sent once new polls take the new path, and of them answered by the
     * new server. That moment is the route change of the router with both
     * paths (R1) when it is watched: after a block, and after a drain acting
     * on a neighbour of R1 (a real R1 cannot pin flows: until its route
     * changes it still sends new polls through the draining port, to the old
     * server). Otherwise (a drain on R1 itself, or no R1 watched) the switch.
     */
    sentAfterSwitch: number;
    answeredByNewAfterSwitch: number;
    /** Polls the fleet did not send: its device still busy, or its own limit of polls in flight. */
    notSent: number;
    /** The fleet's event loop ran this late at worst (ms): beyond a fraction of the poll timeout, failures are partly the load generator's own. */
    fleetLoopDelayMaxMs: number | null;
  };
  summary: PollSummary;
  /** The cut-over up close: 1 s before the switch to 2 s after it, in 20 ms buckets (null without a switch). */
  zoom: PollSummary | null;
  testPolls: PollRecord[];
  routerEvents: Record<string, LogEvent[]>;
  /** Each server's access log: lines (history records) over all its files. */
  accessLogs: Record<string, { lines: number; files: number }>;
  /** Each router's counters at the end (ports, drops, flow table, NAT). */
  routerStats: Record<string, unknown>;
  costs: CostReport;
  checks: Check[];
  ok: boolean;
  /** Files in the report directory. */
  files: { fleetRecords: string; testRecords: string; fleetStatus: string };
}

/** The fleet's status file (hosts command `fleet --status`). */
interface FleetStatus extends PollCounters {
  time: number;
  startedAt: number;
  expected: number | null;
  finished: boolean;
  cpuUserS: number;
  cpuSysS: number;
  peakRssMb: number;
  /** How late the fleet's event loop ran (ms): a starved fleet times its own polls out. */
  loopDelayMs?: { p99: number; max: number };
}

const PACKAGE = new URL('../../../package.json', import.meta.url).pathname;
/**
 * Failed polls copied whole into the result (report.json): a few MB. Past
 * this a run has collapsed; the rest are counted (summary.failuresNotKept),
 * and every one is a line of the fleet's poll records file, which the
 * summary is streamed from.
 */
export const FAILURES_KEPT = 20_000;
/** Deadline of one poll unless given. */
export const DEFAULT_POLL_TIMEOUT_MS = 2000;
/** A built-in lab's servers rotate their access logs at this size unless given (bytes). */
export const DEFAULT_LOG_MAX_BYTES = 64e6;
/** Interval mode: each appliance's interval varies uniformly by this fraction either way. */
export const FLEET_JITTER = 0.2;
/** Router log events kept per router in the result (a router logs state changes only; this bounds a chatty one). */
const EVENTS_KEPT = 5000;

function readStatus(file: string): FleetStatus | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as FleetStatus;
  } catch {
    return null;
  }
}

export async function rehearse(opts: RehearsalOptions): Promise<RehearsalResult> {
  const log = opts.log ?? (() => undefined);
  mkdirSync(opts.dir, { recursive: true });
  const startedAt = Date.now();
  const timeline: TimelineEntry[] = [{ t: startedAt, what: 'rehearsal started', source: 'demo' }];
  // Progress once a second from start to end: the phase always; the fleet's
  // numbers while it polls (from its status file); during the analysis, the
  // poll records summed up so far.
  const phase = { name: 'lab up' };
  const watch: ProgressWatch = { meter: null, statusFile: null, fleetStarted: 0, records: null };
  const recent: { at: number; total: number }[] = [];
  const report = (): void => {
    if (!opts.progress) return;
    const now = Date.now();
    let fleet: FleetProgress | null = null;
    const s = watch.statusFile === null ? null : readStatus(watch.statusFile);
    if (s) {
      recent.push({ at: s.time, total: s.total });
      if (recent.length > 5) recent.shift();
      const span = recent.length > 1 ? (recent.at(-1)!.at - recent[0]!.at) / 1000 : 0;
      fleet = {
        polls: s.total, expected: opts.day ? opts.fleetSize : null, ratePerS: span > 0 ? (recent.at(-1)!.total - recent[0]!.total) / span : 0, failed: s.failed, inFlight: s.inFlight,
        remainingMs: opts.day ? Math.max(0, watch.fleetStarted + opts.pollIntervalMs - now) : null,
      };
    }
    opts.progress({ phase: phase.name, elapsedMs: now - startedAt, fleet, records: watch.records && { ...watch.records } });
  };
  const setPhase = (name: string): void => {
    phase.name = name;
    report();
  };
  // The processes' costs are sampled while the fleet polls.
  const ticker = setInterval(() => {
    watch.meter?.sample();
    report();
  }, 1000);
  ticker.unref();
  report();
  try {
    return await rehearseOnLab(opts, { startedAt, timeline, log, setPhase, watch });
  } finally {
    clearInterval(ticker);
  }
}

/** What the progress ticker looks at: set by the phases as they come. */
interface ProgressWatch {
  /** Sampled once a second while the fleet polls. */
  meter: ProcessMeter | null;
  /** The fleet's status file while it polls. */
  statusFile: string | null;
  fleetStarted: number;
  /** During the analysis. */
  records: { read: number; of: number | null } | null;
}

interface Progressing {
  startedAt: number;
  timeline: TimelineEntry[];
  log: (s: string) => void;
  setPhase: (name: string) => void;
  watch: ProgressWatch;
}

async function rehearseOnLab(opts: RehearsalOptions, pr: Progressing): Promise<RehearsalResult> {
  const { startedAt, timeline, log, setPhase, watch } = pr;
  const where = opts.lab.kind === 'built-in' ? `embodiment ${opts.lab.embodiment} (${opts.lab.routing} routing)` : opts.lab.file;
  log(`bringing up ${where}, ${opts.cutover} cut-over`);
  const lab = await openRehearsalLab(opts.lab, { cutover: opts.cutover, logMaxBytes: opts.logMaxBytes ?? DEFAULT_LOG_MAX_BYTES, log: (s) => log(`  lab: ${s}`) });
  timeline.push({ t: Date.now(), what: `lab up: ${lab.description.name}`, source: 'testbed' });
  const runId = `${opts.cutover}-${startedAt}`;
  const files = { fleetRecords: `fleet-${runId}.jsonl`, testRecords: `test-appliance-${runId}.jsonl`, fleetStatus: `fleet-${runId}.status.json` };
  const fleetFile = join(opts.dir, files.fleetRecords);
  const probeFile = join(opts.dir, files.testRecords);
  const statusFile = join(opts.dir, files.fleetStatus);
  const target = `http://${lab.service}/poll`;
  const timeoutMs = opts.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS;

  const meter = new ProcessMeter();
  for (const r of lab.routers) meter.add(r.name, 'router', () => r.pid());
  for (const h of lab.hostProcesses) meter.add(h.name, h.role, () => h.process.pid);
  try {
    const rate = (opts.fleetSize * 1000) / opts.pollIntervalMs;
    log(`fleet: ${opts.fleetSize} appliances from ${lab.fleet.prefix} polling ${target} ${opts.day ? `once each in a day of ${opts.pollIntervalMs} ms` : `every ${opts.pollIntervalMs} ms`} (${Math.round(rate)} polls/s)`);
    const fleet = lab.spawnTunroute(lab.fleet.ns, ['fleet', '--target', target, '--prefix', lab.fleet.prefix, '--count', String(opts.fleetSize),
      '--interval', `${opts.pollIntervalMs}ms`, '--jitter', String(FLEET_JITTER), '--timeout', `${timeoutMs}ms`, '--out', fleetFile, '--status', statusFile, '--anyip', '--quiet',
      ...(opts.day ? ['--once'] : [])], { stderr: join(opts.dir, `fleet-${runId}.stderr`) });
    const fleetStarted = Date.now();
    meter.start();
    timeline.push({ t: fleetStarted, what: `fleet of ${opts.fleetSize} starts polling${opts.day ? ' (its day begins)' : ''}`, source: 'fleet' });
    Object.assign(watch, { meter, statusFile, fleetStarted });
    setPhase(opts.day ? 'first half of the day' : 'warm-up');

    const fleetExited = (): string | null => (fleet.exitCode !== null && fleet.exitCode !== 0) || fleet.signalCode !== null
      ? `the fleet exited (${fleet.signalCode ?? `status ${fleet.exitCode}`}): ${tail(join(opts.dir, `fleet-${runId}.stderr`))}` : null;
    const answeredByFrom = (): boolean => {
      const died = fleetExited();
      if (died) throw new FatalError(died);
      return (readStatus(statusFile)?.byServer[lab.servers.from] ?? 0) > 0;
    };
    if (opts.day) {
      await sleep(Math.max(0, fleetStarted + opts.pollIntervalMs / 2 - Date.now()));
      if (fleetExited()) throw new Error(fleetExited()!);
    } else {
      await waitFor(`fleet polls answered by ${lab.servers.from}`, answeredByFrom, 30_000, 100);
      await sleep(opts.warmupMs);
    }

    // The evidence is server 2's history line, not the test appliance seeing
    // the answer: the cut-over may win the race against that answer's way
    // back, so the appliance's own success is reported but not waited for.
    setPhase('cut-over');
    log(`test appliance ${lab.testAppliance.address} polls until ${lab.servers.to} answers`);
    const probe = lab.spawnTunroute(lab.testAppliance.ns, ['probe', '--target', target, '--source', lab.testAppliance.address, '--interval', '1s',
      '--until-server', lab.servers.to, '--timeout-total', '30s', '--out', probeFile, '--quiet']);
    const { router: cutRouter, port: cutPort } = lab.cutover;
    log(`waiting for ${cutRouter.name}'s trigger to ${opts.cutover} port ${cutPort}`);
    await waitFor(`port ${cutPort} of ${cutRouter.name} blocked`, async () => {
      if (cutRouter.firstEvent('port.blocked', { port: cutPort })) return true;
      if (probe.exitCode !== null && probe.exitCode !== 0) {
        const last = existsSync(probeFile) ? readPollRecords(probeFile).slice(-2) : [];
        throw new FatalError(`test appliance did not reach ${lab.servers.to} (probe exit ${probe.exitCode}); last polls: ${JSON.stringify(last)}; ${await dropsReport(lab.routers)}`);
      }
      return false;
    }, 75_000, 50);
    if (probe.exitCode === null) probe.kill('SIGTERM');

    if (opts.day) {
      setPhase('second half of the day');
      log('cut-over done; the fleet polls until the end of its day');
      // Every appliance polls once; the last poll ends by its timeout.
      await waitFor('the fleet\'s day to end', () => {
        const died = fleetExited();
        if (died) throw new FatalError(died);
        return fleet.exitCode === 0 || readStatus(statusFile)?.finished === true;
      }, Math.max(0, fleetStarted + opts.pollIntervalMs - Date.now()) + timeoutMs + 60_000, 200);
      meter.sample();
      await exitOf(fleet, 10_000);
    } else {
      setPhase('after the cut-over');
      log(`cut-over done; fleet keeps polling for ${opts.afterMs} ms`);
      await sleep(opts.afterMs);
      meter.sample();
      await stopGracefully(fleet);
    }
    Object.assign(watch, { meter: null, statusFile: null });
    const fleetEnded = Date.now();
    timeline.push({ t: fleetEnded, what: opts.day ? 'the fleet\'s day is over: every appliance has polled' : 'fleet stopped', source: 'fleet' });

    watch.records = { read: 0, of: readStatus(statusFile)?.total ?? null };
    setPhase('analysis');
    log('summing up the polls');
    const result = await analyse(opts, lab, { startedAt, fleetStarted, fleetEnded, timeline, files, fleetFile, probeFile, statusFile, meter, records: watch.records });
    return result;
  } finally {
    Object.assign(watch, { meter: null, statusFile: null, records: null });
    setPhase('lab down');
    log('tearing the lab down');
    await lab.down();
  }
}

/** Every router's drops by port and reason: what to look at when traffic went missing. */
async function dropsReport(routers: RouterProcess[]): Promise<string> {
  const parts: string[] = [];
  for (const r of routers) {
    const s = await r.api<{ ports: Record<string, { drops: Record<string, number>; txPackets: number; rxPackets: number }> }>('GET', '/v1/stats').catch(() => null);
    if (!s) continue;
    parts.push(`${r.name}: ${Object.entries(s.ports).map(([p, c]) => `${p} rx ${c.rxPackets} tx ${c.txPackets}${Object.keys(c.drops).length ? ` drops ${JSON.stringify(c.drops)}` : ''}`).join(', ')}`);
  }
  return parts.join('; ');
}

function exitOf(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
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
  if ((await exitOf(child, 10_000)) === null) child.kill('SIGKILL');
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' | ');
  } catch {
    return '';
  }
}

/** A log and its rotated files, oldest first: FILE.N … FILE.1, FILE. */
function logFiles(file: string): string[] {
  const rotated: string[] = [];
  for (let i = 1; existsSync(`${file}.${i}`); i++) rotated.unshift(`${file}.${i}`);
  return existsSync(file) ? [...rotated, file] : rotated;
}

/** Lines of a file, counted by streaming (an access log of a million lines). */
async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    const b = chunk as Buffer;
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}

/** The first access-log line (over the rotated files, oldest first) that is `client`'s answered poll. */
async function findHistoryLine(file: string, client: string): Promise<{ time: number; status: number } | null> {
  const needle = `"client":"${client}"`;
  for (const f of logFiles(file)) {
    let rest = '';
    for await (const chunk of createReadStream(f, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      const lines = (rest + (chunk as string)).split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        if (!line.includes(needle)) continue;
        try {
          const l = JSON.parse(line) as { time: number; client: string; status: number };
          if (l.client === client && l.status === 200) return l;
        } catch {
          /* a damaged line is not the history record */
        }
      }
    }
  }
  return null;
}

function version(): RehearsalResult['version'] {
  let tunroute = 'unknown';
  try {
    tunroute = (JSON.parse(readFileSync(PACKAGE, 'utf8')) as { version: string }).version;
  } catch {
    /* keep unknown */
  }
  return { tunroute, commit: null, node: process.version };
}

async function gitCommit(): Promise<string | null> {
  const r = await run('git', ['-C', new URL('.', `file://${PACKAGE}`).pathname, 'describe', '--always', '--dirty'], { allowFail: true, timeoutMs: 5000 }).catch(() => null);
  return r && r.code === 0 ? r.stdout.trim() : null;
}

interface RunState {
  startedAt: number;
  fleetStarted: number;
  fleetEnded: number;
  timeline: TimelineEntry[];
  files: RehearsalResult['files'];
  fleetFile: string;
  probeFile: string;
  statusFile: string;
  meter: ProcessMeter;
  /** Poll records summed up so far (for progress). */
  records: { read: number };
}

async function analyse(opts: RehearsalOptions, lab: RehearsalLab, st: RunState): Promise<RehearsalResult> {
  const { timeline } = st;
  const { from, to } = lab.servers;
  const routerEvents = Object.fromEntries(lab.routers.map((r) => [r.name, r.events().slice(0, EVENTS_KEPT)]));
  const ev = (router: string, pred: (e: LogEvent) => boolean) => routerEvents[router]?.find(pred);
  const cut = lab.cutover;
  const fired = ev(cut.router.name, (e) => e.event === 'trigger.fired');
  const draining = ev(cut.router.name, (e) => e.event === 'port.draining' && e.port === cut.port);
  const blocked = ev(cut.router.name, (e) => e.event === 'port.blocked' && e.port === cut.port);
  const switchAt = draining?.time ?? blocked?.time ?? null;
  // The router with both paths moves the service off its old port (for a drain: when new flows start taking the new path).
  const fb = lab.fallback;
  const moved = fb?.routeChanges().find((c) => c.port !== null && c.port !== fb.oldPort && (switchAt === null || c.time >= switchAt - 1));
  const routeChangeAt = moved ? Math.round(moved.time) : null;

  const history = lab.accessLogs[to] ? await findHistoryLine(lab.accessLogs[to], lab.testAppliance.address) : null;
  const marks: Record<string, number> = {};
  if (switchAt !== null) marks.switch = switchAt;
  if (routeChangeAt !== null) marks.routeChange = routeChangeAt;
  // Block without a watched fall-back: allow 2 s for the routers to notice.
  if (switchAt !== null) marks.settled = routeChangeAt ?? switchAt + 2000;
  // New polls move when the router with both paths changes its route: after a block, polls sent before
  // that still go to the dead path (a real R1 may even have no route for a moment and answer Net
  // Unreachable); a drain on a neighbour of that router moves them then too (it cannot pin flows; until
  // then the draining port still carries them to the old server). Count "after" from there.
  const fromRouteChange = fb !== null && routeChangeAt !== null && (opts.cutover === 'block' || fb.router !== cut.router.name);
  const agg = new PollAggregator({ marks, reorderMs: (opts.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS) + 5000, keepFailures: FAILURES_KEPT });
  const zoomAgg = switchAt === null ? null : new PollAggregator({ bucketMs: 20, keepFailures: 0, reorderMs: Infinity });
  const zoomFrom = (switchAt ?? 0) - 1000;
  const zoomTo = (switchAt ?? 0) + 2000;
  const read = existsSync(st.fleetFile) ? await forEachPollRecord(st.fleetFile, (r) => {
    agg.add(r);
    st.records.read++;
    if (zoomAgg && r.t >= zoomFrom && r.t < zoomTo) zoomAgg.add(r);
  }) : { records: 0, bad: 0 };
  const summary = agg.summary();
  const testPolls = existsSync(st.probeFile) ? readPollRecords(st.probeFile) : [];
  const status = readStatus(st.statusFile);

  const accessLogs: RehearsalResult['accessLogs'] = {};
  for (const [server, file] of Object.entries(lab.accessLogs)) {
    const fs = logFiles(file);
    let lines = 0;
    for (const f of fs) lines += await countLines(f);
    accessLogs[server] = { lines, files: fs.length };
  }
  const routerStats: Record<string, unknown> = {};
  for (const r of lab.routers) {
    routerStats[r.name] = {
      stats: await r.api('GET', '/v1/stats').catch((e: Error) => ({ error: e.message })),
      nat: await r.api<{ counters: unknown }>('GET', '/v1/nat').then((n) => n.counters).catch(() => null),
    };
  }

  const costs = st.meter.finish();
  if (status) {
    const fleetCost: ProcessCost = {
      name: 'fleet', role: 'fleet', pid: null, userS: round2(status.cpuUserS), sysS: round2(status.cpuSysS), cpuS: round2(status.cpuUserS + status.cpuSysS), peakRssMb: status.peakRssMb, cpuSPer1000Polls: null,
    };
    costs.processes.unshift(fleetCost);
  }
  for (const p of costs.processes) p.cpuSPer1000Polls = summary.total > 0 ? round2(p.cpuS / (summary.total / 1000)) : null;

  const servers = summary.servers;
  const firstFleetOnNew = servers[to]?.firstAnswerAt ?? null;
  const lastFleetOnOld = servers[from]?.lastAnswerAt ?? null;
  const testPollSent = testPolls[0]?.t ?? null;
  const add = (t: number | null | undefined, what: string, source: string) => {
    if (t) timeline.push({ t: Math.round(t), what, source });
  };
  add(testPollSent, `test appliance ${lab.testAppliance.address} sends its first poll`, 'test appliance');
  add(history?.time, `${to} takes the test appliance's poll: its history line (status 200)`, `${to} access log`);
  const testAnswered = testPolls.find((p) => isAnswered(p) && p.server === to);
  add(testAnswered && testAnswered.t + testAnswered.latencyMs, `the test appliance receives ${to}'s answer`, 'test appliance');
  add(fired?.time, `${cut.router.name}'s trigger fires`, cut.router.name);
  add(draining?.time, `${cut.router.name} starts draining port ${cut.port}`, cut.router.name);
  add(blocked?.time, `${cut.router.name} blocks port ${cut.port}`, cut.router.name);
  if (fb) add(moved?.time, `${fb.router}${fb.source === 'kernel' ? '\'s kernel' : ''} changes its route to ${lab.service}: via ${moved?.port ?? '?'}`, fb.source === 'kernel' ? `${fb.router} kernel` : fb.router);
  add(firstFleetOnNew, `first fleet poll answered by ${to}`, 'fleet');
  add(lastFleetOnOld, `last fleet poll answered by ${from}`, 'fleet');
  timeline.sort((a, b) => a.t - b.t);

  const after = (name: string) => summary.after[name] ?? { at: 0, total: 0, failed: 0, byServer: {} };
  const { lostInFlight, lostAfterSwitch } = lostAtSwitch(summary, switchAt);
  const sw = after('switch');
  const settled = after('settled');
  const notSent = (status?.skipped ?? 0) + (status?.overLimit ?? 0);
  const checks: Check[] = [
    check(`the test appliance reached ${to} through the real network before any appliance moved`,
      history !== null && (switchAt === null || history.time <= switchAt) && (firstFleetOnNew === null || switchAt === null || firstFleetOnNew >= switchAt),
      history ? `history line at +${history.time - st.startedAt} ms; first fleet answer from ${to} ${firstFleetOnNew && switchAt ? `${Math.round(firstFleetOnNew - switchAt)} ms after the switch` : '—'}` : `no history line from the test appliance in ${to}'s access log`),
    check('the cut-over followed the history line, not before', history !== null && fired !== undefined && fired.time >= history.time,
      fired && history ? `trigger ${fired.time - history.time} ms after the history line` : 'trigger did not fire'),
  ];
  if (fb) {
    checks.push(check(`${fb.router} fell back to the other path`, moved !== undefined,
      moved ? `route change at +${Math.round(moved.time - st.startedAt)} ms${fb.source === 'kernel' ? ' (its kernel\'s route)' : ''}` : `no route change seen in ${fb.source === 'kernel' ? `${fb.router}'s kernel` : `${fb.router}'s log`}`));
  }
  if (opts.cutover === 'drain') {
    // A drain on the router with both paths moves new flows at once; a drain on a neighbour of it (a real
    // R1, which cannot pin flows) moves them when that router's route changes: count from there.
    const moved = fromRouteChange ? settled : sw;
    checks.push(check(`every poll sent after ${fromRouteChange ? `${fb.router}'s route change` : 'the switch'} was answered by ${to}`, moved.total > 0 && (moved.byServer[to] ?? 0) === moved.total,
      `${moved.byServer[to] ?? 0} of ${moved.total} polls sent after ${fromRouteChange ? 'the route change' : 'the drain started'}`));
    checks.push(check('drain lost no poll', summary.failed === 0 && read.bad === 0, `${summary.failed} failed polls${read.bad ? `, ${read.bad} unreadable records` : ''}`));
  } else {
    checks.push(check(`every poll sent after ${fb ? `${fb.router}'s route change` : 'the switch (+2 s)'} was answered by ${to}`, settled.total > 0 && (settled.byServer[to] ?? 0) === settled.total,
      `${settled.byServer[to] ?? 0} of ${settled.total} polls`));
    // Only the polls in flight at the instant are lost: sent before the switch and not answered by then, or sent before the fall-back took effect.
    const settledAt = marks.settled ?? Infinity;
    const stray = summary.failures.filter((f) => switchAt === null || f.t >= settledAt || f.t + f.latencyMs < switchAt);
    checks.push(check('the block lost only the polls in flight at the instant', switchAt !== null && stray.length === 0 && summary.failuresNotKept === 0,
      `${lostInFlight} in flight at the block, ${lostAfterSwitch} sent before the fall-back took effect${stray.length ? `; ${stray.length} other failures` : ''}`));
  }
  const stall = status?.loopDelayMs?.max ?? 0;
  checks.push(check('the fleet kept its schedule (its event loop never stalled for half a poll timeout)', stall < (opts.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS) / 2,
    `longest stall ${stall} ms, p99 ${status?.loopDelayMs?.p99 ?? '—'} ms${stall >= (opts.pollTimeoutMs ?? DEFAULT_POLL_TIMEOUT_MS) / 2 ? ': the load generator was starved of CPU, so some timeouts are its own' : ''}`));
  if (opts.day) {
    checks.push(check('every appliance polled once in its day', summary.total === opts.fleetSize && notSent === 0,
      `${summary.total} of ${opts.fleetSize} polls${notSent ? `; ${notSent} not sent by the fleet (busy or at its limit of polls in flight)` : ''}`));
  }
  const durationS = summary.firstT !== null && summary.lastT !== null ? (summary.lastT - summary.firstT) / 1000 : 0;
  const v = version();
  v.commit = await gitCommit();
  return {
    options: { ...opts, log: undefined, progress: undefined } as Omit<RehearsalOptions, 'log' | 'progress'>,
    lab: {
      ...lab.description, service: lab.service, servers: lab.servers, cutover: { router: cut.router.name, port: cut.port },
      fallback: fb ? { router: fb.router, oldPort: fb.oldPort, source: fb.source } : null,
    },
    version: v,
    startedAt: st.startedAt,
    timeline,
    moments: {
      fleetStarted: st.fleetStarted, fleetEnded: st.fleetEnded, testPollSent, historySeen: history?.time ?? null, triggerFired: fired?.time ?? null, switched: switchAt,
      portBlocked: blocked?.time ?? null, r1RouteChanged: routeChangeAt, firstFleetOnServer2: firstFleetOnNew, lastFleetOnServer1: lastFleetOnOld,
    },
    metrics: {
      fleetPolls: summary.total,
      expectedPolls: opts.day ? opts.fleetSize : null,
      failedPolls: summary.failed,
      longestGapMs: summary.longestGap?.ms ?? 0,
      blockToRouteChangeMs: switchAt !== null && routeChangeAt !== null ? routeChangeAt - switchAt : null,
      blockToFirstServer2Ms: switchAt !== null && firstFleetOnNew !== null ? Math.round(firstFleetOnNew - switchAt) : null,
      historyToBlockMs: history && switchAt !== null ? switchAt - history.time : null,
      pollsPerSecond: durationS > 0 ? summary.total / durationS : 0,
      latencyP50Ms: summary.latency?.p50 ?? null,
      latencyP99Ms: summary.latency?.p99 ?? null,
      lostInFlight,
      lostAfterSwitch,
      sentAfterSwitch: (fromRouteChange ? settled : sw).total,
      answeredByNewAfterSwitch: (fromRouteChange ? settled : sw).byServer[to] ?? 0,
      notSent,
      fleetLoopDelayMaxMs: status?.loopDelayMs?.max ?? null,
    },
    summary,
    zoom: zoomAgg?.summary() ?? null,
    testPolls,
    routerEvents,
    accessLogs,
    routerStats,
    costs,
    checks,
    ok: checks.every((c) => c.ok),
    files: { fleetRecords: basename(st.fleetFile), testRecords: basename(st.probeFile), fleetStatus: basename(st.statusFile) },
  };
}

/**
 * Failed polls sent before the switch (in flight at it) and at or after it,
 * from the streamed counts (the "switch" mark), not from the failures kept
 * whole: past FAILURES_KEPT those would undercount.
 */
export function lostAtSwitch(summary: PollSummary, switchAt: number | null): { lostInFlight: number; lostAfterSwitch: number } {
  if (switchAt === null) return { lostInFlight: 0, lostAfterSwitch: 0 };
  const after = summary.after.switch;
  if (after?.at !== switchAt) throw new Error('lostAtSwitch: the summary has no "switch" mark at the switch');
  return { lostInFlight: summary.failed - after.failed, lostAfterSwitch: after.failed };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function check(name: string, ok: boolean, detail: string): Check {
  return { name, ok, detail };
}
