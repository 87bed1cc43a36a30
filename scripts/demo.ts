/**
 * `npm run demo` (or ./scripts/demo) — the project's main job: rehearse the
 * service migration on a namespace lab and report it. Defaults: embodiment
 * 1, RIP + BFD, 2,000 appliances each polling every 10 s (200 polls/s), the
 * hard block and then the drain cut-over, compared. Prints the timeline, the
 * costs and a verdict; writes reports/demo-<time>/report.json and
 * report.html.
 *
 *   npm run demo -- --fleet 1000000 --day 10m           # a million appliances, a day in 10 minutes
 *   npm run demo -- --topology topologies/tun-only/tun-only.clab.yml
 *   npm run demo -- --topology topologies/embodiment1/embodiment1.clab.yml --containers   # routers as containers of the image
 *   npm run demo -- --rate 1000,2000,3000,4000,5000     # find this machine's capacity (drain)
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { parseDuration } from '../src/hosts/duration.js';
import { FLEET_PREFIX, type CutoverMode, type Embodiment, type RoutingMode } from '../src/testbed/migration.js';
import { ProgressPrinter } from '../src/testbed/progress.js';
import { rehearse, type RehearsalOptions, type RehearsalResult } from '../src/testbed/rehearsal.js';
import type { LabSpec } from '../src/testbed/rehearsal-lab.js';
import { comparisonText, reportHtml, timelineText } from '../src/testbed/report.js';
import { sweepText, type SweepStep } from '../src/testbed/sweep.js';
import { loadTopology, TopologyError } from '../src/testbed/topology/index.js';
import { fleetRange } from '../src/hosts/fleet.js';
import { parsePrefix } from '../src/net/addr.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const program = new Command('npm run demo --')
  .description('rehearse the service migration (JP4820780B2) on a namespace lab and report it')
  .addOption(new Option('--embodiment <e>', 'built-in lab: 1 (transfer unit + dedicated line), 2 (transfer distribution device, R4/R5), 2-vip (its virtual-address variant)').choices(['1', '2', '2-vip']).default('1'))
  .option('--topology <file>', 'rehearse on the lab a containerlab topology file describes, with its migration settings (docs/topologies.md)')
  .option('--containers', 'with --topology: run its tunroute routers as containers of the image (built from this checkout first), wired as containerlab wires them')
  .option('--image <name>', 'with --containers: run the routers from this image as it is, instead of building the topology\'s')
  .addOption(new Option('--cutover <mode>', 'block (the method), drain (zero-loss), or both, compared').choices(['block', 'drain', 'both']))
  .addOption(new Option('--routing <r>', 'built-in lab: how R1 knows its two paths').choices(['rip', 'ospf', 'static']).default('rip'))
  .option('--fleet <n>', 'number of appliances, each its own source address (default 2000, or the topology\'s count)')
  .option('--interval <dur>', 'each appliance polls once per interval, again and again (default 10s)')
  .option('--day <dur>', 'instead: each appliance polls once in a day compressed into this long; the cut-over happens mid-day')
  .option('--rate <list>', 'sweep the poll rate: one drain rehearsal per rate (polls/s, e.g. 1000,2000,5000), a day of --step each')
  .option('--step <dur>', 'with --rate: the day of each step', '30s')
  .option('--server-delay <dur>', 'built-in lab: the servers answer each poll after this long (polls in flight at the cut-over)', '50ms')
  .option('--bfd-interval <dur>', 'built-in lab: BFD interval (×3 to detect a silent peer; a block is told at once whatever it is)', '100ms')
  .option('--warmup <dur>', 'with --interval: fleet polling before the test appliance starts', '5s')
  .option('--after <dur>', 'with --interval: fleet polling after the cut-over', '12s')
  .option('--timeout <dur>', 'deadline of one poll', '2s')
  .option('--log-max-size <bytes>', 'built-in lab: the servers rotate their access logs at this size', '64000000')
  .option('--out <dir>', 'report directory (default: reports/demo-<time>)')
  .showHelpAfterError();

program.parse(process.argv);
const o = program.opts<{
  embodiment: Embodiment; topology?: string; containers?: boolean; image?: string; cutover?: CutoverMode | 'both'; routing: RoutingMode; fleet?: string; interval?: string; day?: string; rate?: string; step: string;
  serverDelay: string; bfdInterval: string; warmup: string; after: string; timeout: string; logMaxSize: string; out?: string;
}>();

function fail(msg: string): never {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(2);
}
function dur(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    fail(`${flag}: ${(e as Error).message}`);
  }
}
if (process.getuid?.() !== 0) fail('run as root: the lab creates network namespaces and TUN devices');
if (o.day && o.interval) fail('--day and --interval: choose one (once a day, or again and again)');
if (o.containers && !o.topology) fail('--containers: give the lab with --topology FILE (the built-in labs have no containers)');
if (o.image && !o.containers) fail('--image: only with --containers');

let lab: LabSpec;
let prefix = FLEET_PREFIX;
let defaultFleet = 2000;
let defaultIntervalMs = 10_000;
if (o.topology) {
  try {
    const t = loadTopology(o.topology);
    if (!t.migration) fail(`${t.file}: no migration settings (label tunroute.migration, see docs/topologies.md)`);
    prefix = t.migration.fleet.prefix;
    defaultFleet = t.migration.fleet.count;
    defaultIntervalMs = t.migration.fleet.intervalMs;
    lab = { kind: 'topology', file: t.file, ...(o.containers ? { containers: { ...(o.image ? { image: o.image } : {}) } } : {}) };
  } catch (e) {
    if (e instanceof TopologyError) fail(e.message);
    throw e;
  }
} else {
  lab = { kind: 'built-in', embodiment: o.embodiment, routing: o.routing, serverDelayMs: dur('--server-delay', o.serverDelay), bfdIntervalMs: dur('--bfd-interval', o.bfdInterval) };
}

const logMaxBytes = Number(o.logMaxSize);
if (!Number.isInteger(logMaxBytes) || logMaxBytes < 4096) fail(`--log-max-size: "${o.logMaxSize}" is not a number of bytes (at least 4096)`);
const common = {
  lab, warmupMs: dur('--warmup', o.warmup), afterMs: dur('--after', o.after), pollTimeoutMs: dur('--timeout', o.timeout), logMaxBytes,
};
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const dir = o.out ?? join(ROOT, 'reports', `demo-${stamp}`);

function checkFleet(n: number, flag: string): void {
  try {
    fleetRange(parsePrefix(prefix), n);
  } catch (e) {
    fail(`${flag}: ${(e as Error).message}`);
  }
}

/** Write report.json and report.html of some runs; say where and how big. */
function writeReports(runs: RehearsalResult[], into: string): void {
  const json = join(into, 'report.json');
  const html = join(into, 'report.html');
  writeFileSync(json, JSON.stringify(runs, null, 1));
  writeFileSync(html, reportHtml(runs));
  console.log(`Report: ${html} (${statSync(html).size.toLocaleString('en-US')} bytes) and report.json (${statSync(json).size.toLocaleString('en-US')} bytes)`);
}

async function runOne(opts: Omit<RehearsalOptions, 'log' | 'progress'>, label: string): Promise<RehearsalResult> {
  const printer = new ProgressPrinter(process.stderr, `[${label}] `);
  try {
    return await rehearse({ ...opts, log: (s) => printer.log(`[${label}] ${s}`), progress: (p) => printer.update(p) });
  } catch (e) {
    // The lab is down already (rehearse and the lab builders remove what they made): one line, no stack.
    printer.done();
    process.stderr.write(`demo: [${label}] ${(e as Error).message}\n`);
    process.exit(1);
  } finally {
    printer.done();
  }
}

if (o.rate) {
  // The sweep: one drain rehearsal per rate, each a day of --step with rate × step appliances.
  const rates = o.rate.split(',').map((s) => Number(s.trim()));
  if (rates.some((r) => !Number.isFinite(r) || r <= 0)) fail(`--rate: "${o.rate}" is not a list of polls per second (e.g. 1000,2000,5000)`);
  const stepMs = dur('--step', o.step);
  const cutover: CutoverMode = o.cutover === 'block' ? 'block' : 'drain';
  const steps: SweepStep[] = [];
  for (const rate of rates) {
    const fleetSize = Math.round((rate * stepMs) / 1000);
    checkFleet(fleetSize, '--rate');
    const stepDir = join(dir, `rate-${rate}`);
    const r = await runOne({ ...common, cutover, fleetSize, pollIntervalMs: stepMs, day: true, dir: stepDir }, `${rate}/s`);
    writeReports([r], stepDir);
    steps.push({ targetRate: rate, result: r });
    console.log(`\n${sweepText(steps)}\n`);
  }
  writeFileSync(join(dir, 'sweep.json'), JSON.stringify(steps.map((s) => ({ targetRate: s.targetRate, ...sweepRow(s) })), null, 1));
  console.log(`Sweep: ${join(dir, 'sweep.json')}; each step's report in ${dir}/rate-*/`);
  process.exit(steps.every((s) => s.result.ok) ? 0 : 1);
}

function sweepRow(s: SweepStep) {
  const r = s.result;
  return { ok: r.ok, metrics: r.metrics, costs: r.costs, lab: r.lab.name, fleetSize: r.options.fleetSize, dayMs: r.options.pollIntervalMs };
}

const fleetSize = o.fleet === undefined ? defaultFleet : Number(o.fleet);
if (!Number.isInteger(fleetSize) || fleetSize < 1) fail(`--fleet: "${o.fleet}" is not a whole number of appliances`);
checkFleet(fleetSize, '--fleet');
const day = o.day !== undefined;
const pollIntervalMs = day ? dur('--day', o.day!) : o.interval ? dur('--interval', o.interval) : defaultIntervalMs;
if (pollIntervalMs <= 0) fail('the interval (or day) must be longer than 0');
const modes: CutoverMode[] = (o.cutover ?? 'both') === 'both' ? ['block', 'drain'] : [o.cutover as CutoverMode];
const runs: RehearsalResult[] = [];
for (const cutover of modes) {
  const r = await runOne({ ...common, cutover, fleetSize, pollIntervalMs, day, dir }, cutover);
  runs.push(r);
  console.log(`\n${timelineText(r)}\n`);
}
if (runs.length > 1) console.log(`${comparisonText(runs)}\n`);
writeReports(runs, dir);
const ok = runs.every((r) => r.ok);
console.log(`Overall verdict: ${ok ? 'PASS' : 'FAIL'}`);
process.exit(ok ? 0 : 1);
