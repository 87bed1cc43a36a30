/**
 * Where a real FRR's milliseconds go when it is R1 (topologies/frr-r1):
 * R2's port toward R1 is blocked, several times, with FRR's debug log on,
 * and each block is laid out from FRR's own log lines, in ms after the
 * block (R2's port.blocked):
 *   - poison: R2's poisoned Response (the service's metric 16) reaches ripd;
 *   - removed: ripd deletes the route from zebra;
 *   - refresh: R3's next Response with the service at a finite metric reaches ripd;
 *   - installed: ripd installs R3's route into zebra;
 *   - zebra: zebra writes the new route into the kernel (RTM_NEWROUTE), and
 *     whether it wrote the removal first (RTM_DELROUTE) or replaced the
 *     route in one step;
 *   - kernel: the kernel's route change as `ip monitor route` saw it.
 * The lab is a copy of the shipped topology with `log stdout debugging`,
 * `debug rip events|packet|zebra` and `debug zebra kernel` added to R1's
 * frr.conf; no fleet runs. Each block is followed by an unblock, laid out
 * the same way: ripd sees the interface up, drops what arrives there until
 * it enables RIP on it, sends its own Request, installs R2's route, sends
 * its first multicast Response there; the kernel's route back via R2.
 *
 * Run (root, FRR installed as by scripts/setup.sh): node dist/scripts/frr-timeline.js [--runs 6]
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { blockTimeline, parseFrrLog, serviceEntries, unblockTimeline, type FrrBlockTimeline, type FrrUnblockTimeline } from '../src/testbed/frr-log.js';
import { KernelRouteWatch } from '../src/testbed/kernel-routes.js';
import { inNetns, sleep, waitFor } from '../src/testbed/shell.js';
import { loadTopology } from '../src/testbed/topology/index.js';
import { TopologyLab } from '../src/testbed/topology-lab.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SHIPPED = join(ROOT, 'topologies/frr-r1');
const SERVICE = '1.1.1.1/32';
const DEBUG = ['log stdout debugging', 'log timestamp precision 6', 'debug rip events', 'debug rip packet', 'debug rip zebra', 'debug zebra kernel'];
/** How long one block may take to move R1's kernel route, and one unblock to move it back (FRR waits 1 s after a link comes up). */
const MOVE_WAIT_MS = 5000;
const BACK_WAIT_MS = 20_000;
/** R3's refreshes count as running when ripd got this many in this window (R3 sends one every 20 ms; a periodic update is one). */
const REFRESH_WINDOW_MS = 200;
const REFRESHES_SEEN = 4;

/** The shipped frr-r1 topology copied into a temporary directory, R1's frr.conf with FRR's debug log added. */
function debugCopy(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tunroute-frr-timeline-'));
  cpSync(SHIPPED, dir, { recursive: true });
  const conf = join(dir, 'r1/frr.conf');
  const text = readFileSync(conf, 'utf8');
  writeFileSync(conf, text.replace(/^hostname r1$/m, `hostname r1\n${DEBUG.join('\n')}`));
  return { dir, file: join(dir, 'frr-r1.clab.yml') };
}

/** Each block, and the unblock after it. */
export interface FrrTimeline {
  blocks: FrrBlockTimeline[];
  unblocks: FrrUnblockTimeline[];
}

export async function runFrrTimeline(runs: number, log: (s: string) => void): Promise<FrrTimeline> {
  const copy = debugCopy();
  let tl: TopologyLab | null = null;
  try {
    tl = await TopologyLab.up(loadTopology(copy.file));
    const lab = tl.lab;
    const r1 = lab.ns('r1');
    const r2 = tl.routers.get('r2')!;
    const frrDir = join(lab.dir, 'r1.frr');
    const watch = KernelRouteWatch.start(lab, r1, SERVICE, join(lab.dir, 'frr-timeline-routes.log'));
    // R2's address: R1's route via it (the cheaper path) once RIP has converged; R3's from its refreshes.
    const onR2 = await waitFor('R1: a kernel route to the service via R2 (eth3)', async () => {
      const route = (await inNetns(r1, 'ip', ['-4', 'route', 'show', SERVICE])).stdout;
      return /\bdev eth3\b/.test(route) ? /\bvia (\S+)/.exec(route)?.[1] : undefined;
    }, 60_000, 100);
    const ripdLines = () => parseFrrLog(readFileSync(join(frrDir, 'ripd.log'), 'utf8'));
    /** R1's kernel route went via `dev` at or after `t`. */
    const movedTo = (dev: string, t: number) => watch.changes().some((x) => x.time >= t && !x.deleted && x.dev === dev);
    /** When R2 logged `event` last, at or after `t` (else `t`: the API call's own time). */
    const loggedAt = (event: string, t: number) => r2.lastEvent(event, {}, t - 1)?.time ?? t;
    const out: FrrTimeline = { blocks: [], unblocks: [] };
    for (let i = 0; i < runs; i++) {
      // R3 refreshes R1's standby route only while R1 advertises the service to it with a finite
      // metric (and BFD is Up): after R1's start, and after R1 came back from R3 (its last word
      // to R3 was metric 16), that takes R1's next update — FRR damps triggered updates for 1–5 s.
      // A block before then falls back at R3's next periodic update, seconds later.
      const onR3 = await waitFor("R3's standby refreshes at R1's ripd (eth4)", () => {
        const recent = serviceEntries(ripdLines(), SERVICE).filter((e) => e.dev === 'eth4' && e.metric < 16 && Date.now() - e.time < REFRESH_WINDOW_MS);
        return recent.length >= REFRESHES_SEEN ? recent.at(-1)!.sender : undefined;
      }, 30_000, 50);
      const since = Date.now();
      await r2.api('POST', '/v1/ports/r1/block');
      await waitFor('R1: the route via R3', () => movedTo('eth4', since), MOVE_WAIT_MS, 20);
      const blocked = loggedAt('port.blocked', since);
      // FRR writes its log as it goes; a moment for the last lines.
      await sleep(200);
      const t = blockTimeline(ripdLines(), parseFrrLog(readFileSync(join(frrDir, 'zebra.log'), 'utf8')),
        watch.changes(), blocked, onR2, onR3, SERVICE);
      out.blocks.push(t);
      log(`  block ${i + 1}: ${formatTimeline(t)}`);
      const unblockSent = Date.now();
      await r2.api('POST', '/v1/ports/r1/unblock');
      await waitFor('R1: back on R2', () => movedTo('eth3', unblockSent), BACK_WAIT_MS, 50);
      const unblocked = loggedAt('port.unblocked', unblockSent);
      await sleep(200);
      const u = unblockTimeline(ripdLines(), watch.changes(), unblocked, 'eth3', SERVICE);
      out.unblocks.push(u);
      log(`  unblock ${i + 1}: ripd sees eth3 up ${ms(u.linkUp)}, drops ${u.dropped} packet(s) there, sends its Request ${ms(u.request)}, installs the route ${ms(u.installed)}, kernel ${ms(u.kernel)}, its first multicast Response ${ms(u.response)} ms`);
    }
    return out;
  } finally {
    await tl?.down();
    rmSync(copy.dir, { recursive: true, force: true });
  }
}

const ms = (x: number | null) => (x === null ? '-' : x.toFixed(1));

function formatTimeline(t: FrrBlockTimeline): string {
  return `poison ${ms(t.poison)}, removed ${ms(t.removed)}, refresh ${ms(t.refresh)}, installed ${ms(t.installed)}, zebra RTM_NEWROUTE ${ms(t.zebraNew)}` +
    ` (${t.zebraDeletedFirst ? 'after RTM_DELROUTE' : 'replaced in one step'}), kernel ${ms(t.kernel)} ms`;
}

/** The spread of one column over the runs: "min–max" (ms, or a count with 0 digits), or "-" when no run saw it. */
function spread(xs: (number | null)[], digits = 1): string {
  const seen = xs.filter((x): x is number => x !== null);
  if (seen.length === 0) return '-';
  return `${Math.min(...seen).toFixed(digits)}–${Math.max(...seen).toFixed(digits)}`;
}

export function formatFrrTimeline(all: FrrTimeline): string {
  const ts = all.blocks, us = all.unblocks;
  const col = (k: keyof Omit<FrrBlockTimeline, 'zebraDeletedFirst'>) => spread(ts.map((t) => t[k]));
  const ucol = (k: keyof Omit<FrrUnblockTimeline, 'dropped'>) => spread(us.map((u) => u[k]));
  return [
    `FRR as R1 (topologies/frr-r1, FRR's debug log), ${ts.length} blocks of R2's port toward R1, ms after the block (min–max):`,
    `  R2's poison at ripd ${col('poison')}; ripd removes the route ${col('removed')}; R3's refresh at ripd ${col('refresh')}; ripd installs it ${col('installed')};`,
    `  zebra's RTM_NEWROUTE ${col('zebraNew')}; the kernel's route via R3 ${col('kernel')}`,
    `  zebra replaced the route in one step (no RTM_DELROUTE first) in ${ts.filter((t) => !t.zebraDeletedFirst).length} of ${ts.length}`,
    `${us.length} unblocks, ms after the unblock (min–max): ripd sees eth3 up ${ucol('linkUp')}, drops ${spread(us.map((u) => u.dropped), 0)} packets there before it enables RIP,`,
    `  sends its own Request ${ucol('request')}; ripd installs R2's route ${ucol('installed')}; the kernel's route via R2 ${ucol('kernel')};`,
    `  ripd's first multicast Response there ${ucol('response')}`,
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const at = process.argv.indexOf('--runs');
  const runs = at > 0 ? Number(process.argv[at + 1]) : 6;
  if (!Number.isInteger(runs) || runs < 1 || runs > 100) {
    console.error('frr-timeline: --runs takes a whole number from 1 to 100');
    process.exit(2);
  }
  try {
    const ts = await runFrrTimeline(runs, (s) => console.log(s));
    console.log(formatFrrTimeline(ts));
  } catch (e) {
    console.error(`frr-timeline: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
