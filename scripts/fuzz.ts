// npm run fuzz — drive the fuzz targets (test/fuzz/) with fast-check:
// generated and mutated inputs, seeded and reproducible.
//
//   npm run fuzz                                   every target, the full run (≥ 10,000,000 inputs)
//   npm run fuzz -- --target wire --inputs 100000  one target
//   npm run fuzz -- --seed 42                      another seed (printed at the start either way)
//   npm run fuzz -- --quick                        a short run of every target (≈ 1/100 of the full one)
//
// `npm run fuzz` runs with --expose-gc (a collection before every memory
// sample) and MALLOC_MMAP_THRESHOLD_=131072: the targets make a router per
// chunk (the config target one per accepted config, ~18 MB of typed arrays
// each), and glibc's adaptive threshold would serve such buffers from its
// heap and keep the freed pages; with a fixed threshold they are mapped and
// unmapped, so RSS shows what is held.
//
// Prints inputs/s per target, RSS, heap and open handles sampled after
// every chunk (each chunk runs on a fresh instance of its target), the peak
// RSS, and the heap and RSS slopes over the second half of each target's
// run; exits 1 on a failure (with the command that reproduces it) or when
// memory grows.
import { parseArgs } from 'node:util';
import { apiTarget } from '../test/fuzz/api.js';
import { configTarget } from '../test/fuzz/config.js';
import { packetPathTarget } from '../test/fuzz/packet-path.js';
import { slope } from '../src/testbed/proc-stats.js';
import { runTarget, type FuzzTarget, type TargetResult } from '../test/fuzz/target.js';
import { wireTarget } from '../test/fuzz/wire.js';

/** Inputs per target in the full run: 10.4 M together (the slow targets get fewer). */
const FULL: Record<string, number> = {
  'packet-path': 3_000_000,
  wire: 7_000_000,
  config: 300_000,
  api: 100_000,
};

const TARGETS: FuzzTarget[] = [packetPathTarget, wireTarget, configTarget, apiTarget];

// Growth is judged on each target's second half (the first is warm-up:
// compiled code, inline caches, pools), on two measures:
// - the V8 heap after a forced collection: exact to a few kB, so it may
//   grow by 1 MB per million inputs (1 byte an input) and no more than
//   0.5 MB over the half (a small, slow target's half is 150,000 inputs,
//   where code caches still settle by a few hundred kB). A leak of one
//   small object per router made (~150 B every 40 config inputs) shows.
// - RSS, which also sees native memory, but wobbles by up to ~7 MB from
//   chunk to chunk (the config target maps and unmaps ~18 MB per router):
//   8 MB per million inputs and more than 8 MB over the half. A leak of a
//   few hundred bytes an input is 30 MB or more over the smallest half.
/** Heap after GC may grow by this much per million inputs over a target's second half… */
const HEAP_SLOPE_LIMIT_MB_PER_M = 1;
/** …and by this much in all over that half. */
const HEAP_GROWTH_LIMIT_MB = 0.5;
/** RSS may grow by this much per million inputs over a target's second half… */
const RSS_SLOPE_LIMIT_MB_PER_M = 8;
/** …and by this much in all over that half (the noise floor). */
const RSS_GROWTH_LIMIT_MB = 8;

const OPTIONS = {
  seed: { type: 'string' },
  target: { type: 'string', multiple: true },
  inputs: { type: 'string' },
  quick: { type: 'boolean', default: false },
  quiet: { type: 'boolean', default: false },
} as const;

function args(): ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>> {
  try {
    return parseArgs({ options: OPTIONS });
  } catch (e) {
    // A bad argument is a one-line error (a negative seed needs --seed=-N).
    process.stderr.write(`fuzz: ${(e as Error).message.replace(/\s*\n\s*/g, ' ')}\n`);
    process.exit(2);
  }
}
const { values } = args();

const seed = values.seed !== undefined ? Number(values.seed) | 0 : (Date.now() % 0x7fffffff) | 0;
const chosen = values.target?.length ? values.target : TARGETS.map((t) => t.name);
for (const name of chosen) {
  if (!TARGETS.some((t) => t.name === name)) {
    process.stderr.write(`fuzz: no target "${name}" (targets: ${TARGETS.map((t) => t.name).join(', ')})\n`);
    process.exit(2);
  }
}
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(`fuzz: seed ${seed}, targets ${chosen.join(', ')}, node ${process.version}, started ${new Date().toISOString()}`);
const results: TargetResult[] = [];
let peakRss = process.memoryUsage().rss;
const t0 = performance.now();
for (const target of TARGETS.filter((t) => chosen.includes(t.name))) {
  const inputs = values.inputs !== undefined ? Number(values.inputs) : values.quick ? Math.ceil(FULL[target.name]! / 100) : FULL[target.name]!;
  console.log(`\n${target.name}: ${target.description}`);
  let lastPrint = 0;
  const r = await runTarget(target, {
    seed,
    inputs,
    onChunk: (c) => {
      peakRss = Math.max(peakRss, c.rss);
      if (values.quiet || c.elapsedMs - lastPrint < 10_000) return;
      lastPrint = c.elapsedMs;
      console.log(`  ${fmt(c.inputs).padStart(11)} inputs  ${(c.elapsedMs / 1000).toFixed(0).padStart(5)} s  ${fmt(c.inputs / (c.elapsedMs / 1000)).padStart(8)}/s  rss ${mb(c.rss)} MB  heap ${mb(c.heapUsed)} MB  handles ${c.handles}`);
    },
  });
  results.push(r);
  if (r.failure) {
    console.log(`\nFAILURE\n${r.failure}`);
    break;
  }
  const top = Object.entries(r.tally).sort((a, b) => b[1] - a[1]).slice(0, 14).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
  console.log(`  done: ${fmt(r.inputs)} inputs in ${(r.ms / 1000).toFixed(1)} s (${fmt(r.inputs / (r.ms / 1000))}/s), ${r.chunks} chunks`);
  if (top) console.log(`  outcomes: ${top}`);
}

// Memory: the heap-after-GC and RSS slopes over the second half of each target's samples.
console.log('\ntarget         inputs        seconds   inputs/s   rss first→last (MB)  peak   heap first→last (MB)  handles first→last  2nd half (MB per M inputs): heap   rss');
let grew = false;
for (const r of results) {
  const s = r.samples;
  const half = s.slice(Math.floor(s.length / 2));
  const xs = half.map((x) => x.inputs / 1e6);
  const span = (xs.at(-1) ?? 0) - (xs[0] ?? 0);
  const k = slope(xs, half.map((x) => x.rss / 2 ** 20));
  const kHeap = slope(xs, half.map((x) => x.heapUsed / 2 ** 20));
  const peak = Math.max(...s.map((x) => x.rss));
  // A trend needs samples and inputs enough (a short run is all warm-up).
  const judged = half.length >= 10 && r.inputs >= 100_000;
  const heapGrows = judged && kHeap > HEAP_SLOPE_LIMIT_MB_PER_M && kHeap * span > HEAP_GROWTH_LIMIT_MB;
  const rssGrows = judged && k > RSS_SLOPE_LIMIT_MB_PER_M && k * span > RSS_GROWTH_LIMIT_MB;
  const bad = heapGrows || rssGrows;
  // Handles left open after a chunk's instance closed (sockets still closing) vary a little: a leak climbs.
  const handlesUp = judged && Math.min(...half.slice(-3).map((x) => x.handles)) > Math.max(...s.slice(0, Math.max(3, Math.floor(s.length / 4))).map((x) => x.handles)) + 2;
  grew ||= bad || handlesUp;
  console.log(`${r.target.padEnd(13)} ${fmt(r.inputs).padStart(11)} ${(r.ms / 1000).toFixed(1).padStart(10)} ${fmt(r.inputs / (r.ms / 1000)).padStart(10)}   ${mb(s[0]?.rss ?? 0).padStart(7)} → ${mb(s.at(-1)?.rss ?? 0).padEnd(7)}  ${mb(peak).padStart(6)}   ${mb(s[0]?.heapUsed ?? 0).padStart(6)} → ${mb(s.at(-1)?.heapUsed ?? 0).padEnd(11)}  ${String(s[0]?.handles ?? 0).padStart(4)} → ${String(s.at(-1)?.handles ?? 0).padEnd(10)}                    ${judged ? `${kHeap.toFixed(2).padStart(6)} ${k.toFixed(2).padStart(6)}` : '     -      -'}${heapGrows ? '  HEAP GROWS' : ''}${rssGrows ? '  RSS GROWS' : ''}${handlesUp ? '  HANDLES GROW' : ''}`);
}
const total = results.reduce((a, r) => a + r.inputs, 0);
const failed = results.some((r) => r.failure);
console.log(`\ntotal: ${fmt(total)} inputs in ${((performance.now() - t0) / 1000).toFixed(1)} s, seed ${seed}, peak RSS ${mb(peakRss)} MB, ${failed ? 'FAILED' : '0 failures'}${grew ? ', MEMORY OR HANDLES GROW' : ''}`);
console.log(`reproduce: npm run fuzz -- --seed=${seed}${values.target?.length ? chosen.map((t) => ` --target ${t}`).join('') : ''}${values.inputs ? ` --inputs ${values.inputs}` : values.quick ? ' --quick' : ''}`);
process.exit(failed || grew ? 1 : 0);
