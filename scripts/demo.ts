/**
 * `npm run demo` — the project's main job: rehearse the service migration on
 * a namespace testbed and report it. Defaults: embodiment 1, RIP + BFD,
 * 2,000 appliances each polling every 10 s (200 polls/s), the hard block and
 * then the drain cut-over, compared. Prints the timeline and a verdict;
 * writes reports/demo-<time>/report.json and report.html.
 *
 *   npm run demo -- --embodiment 2 --fleet 5000 --cutover drain
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { rehearse, type RehearsalResult } from '../src/testbed/rehearsal.js';
import { comparisonText, reportHtml, timelineText } from '../src/testbed/report.js';
import type { CutoverMode, Embodiment, RoutingMode } from '../src/testbed/migration.js';
import { parseDuration } from '../src/hosts/duration.js';

const ROOT = new URL('../../', import.meta.url).pathname;

const program = new Command('npm run demo --')
  .description('rehearse the service migration (JP4820780B2) on a namespace testbed and report it')
  .addOption(new Option('--embodiment <e>', 'testbed: 1 (transfer unit + dedicated line), 2 (transfer distribution device, R4/R5), 2-vip (its virtual-address variant)').choices(['1', '2', '2-vip']).default('1'))
  .addOption(new Option('--cutover <mode>', 'block (the method), drain (zero-loss), or both, compared').choices(['block', 'drain', 'both']).default('both'))
  .addOption(new Option('--routing <r>', 'how R1 knows its two paths').choices(['rip', 'ospf', 'static']).default('rip'))
  .option('--fleet <n>', 'number of appliances', '2000')
  .option('--interval <dur>', 'each appliance polls once per interval (a real fleet: once a day)', '10s')
  .option('--server-delay <dur>', 'the servers answer each poll after this long (polls in flight at the cut-over)', '50ms')
  .option('--warmup <dur>', 'fleet polling before the test appliance starts', '5s')
  .option('--after <dur>', 'fleet polling after the cut-over', '12s')
  .option('--out <dir>', 'report directory (default: reports/demo-<time>)')
  .showHelpAfterError();

program.parse(process.argv);
const o = program.opts<{ embodiment: Embodiment; cutover: CutoverMode | 'both'; routing: RoutingMode; fleet: string; interval: string; serverDelay: string; warmup: string; after: string; out?: string }>();

function fail(msg: string): never {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0) fail('run as root: the testbed creates network namespaces and TUN devices');
const fleetSize = Number(o.fleet);
if (!Number.isInteger(fleetSize) || fleetSize < 1 || fleetSize > 65_000) fail(`--fleet: "${o.fleet}" is not a number from 1 to 65000`);
let pollIntervalMs: number, serverDelayMs: number, warmupMs: number, afterMs: number;
try {
  pollIntervalMs = parseDuration(o.interval);
  serverDelayMs = parseDuration(o.serverDelay);
  warmupMs = parseDuration(o.warmup);
  afterMs = parseDuration(o.after);
} catch (e) {
  fail((e as Error).message);
}

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const dir = o.out ?? join(ROOT, 'reports', `demo-${stamp}`);
const modes: CutoverMode[] = o.cutover === 'both' ? ['block', 'drain'] : [o.cutover];
const runs: RehearsalResult[] = [];
for (const cutover of modes) {
  const r = await rehearse({
    embodiment: o.embodiment, routing: o.routing, cutover, fleetSize, pollIntervalMs, serverDelayMs, warmupMs, afterMs, dir,
    log: (s) => process.stderr.write(`[${cutover}] ${s}\n`),
  });
  runs.push(r);
  console.log(`\n${timelineText(r)}\n`);
}
if (runs.length > 1) console.log(`${comparisonText(runs)}\n`);

writeFileSync(join(dir, 'report.json'), JSON.stringify(runs, null, 1));
writeFileSync(join(dir, 'report.html'), reportHtml(runs));
const ok = runs.every((r) => r.ok);
console.log(`Report: ${join(dir, 'report.html')} (and report.json)`);
console.log(`Overall verdict: ${ok ? 'PASS' : 'FAIL'}`);
process.exit(ok ? 0 : 1);
