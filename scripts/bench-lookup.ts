/**
 * Route-lookup benchmark: the FIB's LpmTable (compressed 16-8-8 trie in a
 * SharedArrayBuffer), the uncompressed 16-8-8 trie it replaced, and a
 * straightforward per-prefix-length hash map, side by side on a
 * real-world-sized table (every IPv4 range of @ip-location-db/asn turned into
 * CIDR prefixes).
 *
 * Run directly: node --expose-gc dist/scripts/bench-lookup.js
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { formatAddress } from '../src/net/addr.js';
import { LpmTable } from '../src/routing/lpm.js';
import { LpmTable1688 } from '../src/routing/lpm-16-8-8.js';
import { mulberry32 as prng } from '../src/testbed/random.js';

export interface StructureResult {
  /** Best build time over the runs, ms. */
  buildMs: number;
  /** Heap + ArrayBuffer growth after building (after gc when exposed), MB. */
  memoryMB: number;
  /** Bytes held by typed arrays as reported by the structure (trie only), MB. */
  typedArrayMB: number | null;
  /** Best lookups/s on uniformly random addresses. */
  lookupsPerSecRandom: number;
  /** Best lookups/s on addresses drawn from inside the table's prefixes. */
  lookupsPerSecHit: number;
  /** Same two with LpmTable.lookupBatch (null for the baseline, which has none). */
  batchLookupsPerSecRandom: number | null;
  batchLookupsPerSecHit: number | null;
  /** Single delete or insert operations per second (delete+re-insert = 2 updates). */
  updatesPerSec: number;
}

export interface LookupBenchResult {
  source: string;
  /** CSV ranges read. */
  ranges: number;
  /** CIDR prefixes produced from the ranges. */
  prefixes: number;
  /** Distinct prefixes in the table (ranges are disjoint, so normally = prefixes). */
  tablePrefixes: number;
  /** Level-2/3 groups of the old trie, and nodes of the new one, for this table. */
  oldGroups: number;
  trieNodes: number;
  /** Addresses per timed run and runs (best taken), for the trie and for the Map baseline. */
  lookupAddresses: number;
  runs: number;
  mapLookupAddresses: number;
  mapRuns: number;
  /** Share of the random addresses that match a prefix. */
  randomHitRatio: number;
  updatesTimed: number;
  /** Addresses compared between both structures (all equal, or the bench throws). */
  verifiedAddresses: number;
  gcExposed: boolean;
  /** The FIB's LpmTable, the old uncompressed trie, the Map baseline. */
  trie: StructureResult;
  old: StructureResult;
  mapBaseline: StructureResult;
}

const LOOKUP_ADDRESSES = 5_000_000;
const UPDATE_PREFIXES = 100_000;
const RUNS = 5;
/** The Map baseline is ~30x slower: fewer addresses and runs keep the bench short. */
const MAP_ADDRESSES = 500_000;
const MAP_RUNS = 3;
const VERIFY_ADDRESSES = 250_000;
const BUILD_RUNS = 3;
const SEED = 0x5eed1234;

const maskOf = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/** Split one CSV line; quoted fields may contain commas and "" escapes. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new Error(`unterminated quote in CSV line: ${line}`);
        field += line.slice(i, q);
        if (line[q + 1] === '"') {
          field += '"';
          i = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      out.push(field);
    } else {
      const c = line.indexOf(',', i);
      out.push(line.slice(i, c < 0 ? line.length : c));
      if (c < 0) return out;
      i = c;
    }
    if (i >= line.length) return out;
    if (line[i] !== ',') throw new Error(`bad CSV line: ${line}`);
    i++;
  }
}

interface PrefixList {
  prefix: Uint32Array;
  len: Uint8Array;
  value: Uint32Array;
  count: number;
  ranges: number;
}

/** Largest aligned blocks first: the minimal CIDR cover of [start, end]. */
export function rangeToCidrs(start: number, end: number, emit: (prefix: number, len: number) => void): void {
  let s = start;
  while (s <= end) {
    // Alignment of s bounds the block; "& -s" on the int32 view gives its lowest set bit.
    let len = s === 0 ? 0 : 32 - (31 - Math.clz32(s & -s));
    while (2 ** (32 - len) > end - s + 1) len++;
    emit(s, len);
    s += 2 ** (32 - len);
  }
}

function loadPrefixes(file: string): PrefixList {
  const text = readFileSync(file, 'utf8');
  let cap = 1 << 20;
  let prefix = new Uint32Array(cap);
  let len = new Uint8Array(cap);
  let value = new Uint32Array(cap);
  let count = 0;
  let ranges = 0;
  let pos = 0;
  while (pos < text.length) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = text.length;
    const line = text.slice(pos, nl).replace(/\r$/, '');
    pos = nl + 1;
    if (line.length === 0) continue;
    const f = splitCsvLine(line);
    const start = Number(f[0]);
    const end = Number(f[1]);
    const asn = Number(f[2]);
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > 0xffffffff || start > end) {
      throw new Error(`bad range in ${file}: ${line}`);
    }
    // FIB values are 1..0x7fffffff; 0 means "no route" and 32-bit ASNs can exceed 2^31.
    const v = Math.min(Math.max(Number.isFinite(asn) ? asn : 1, 1), 0x7fffffff);
    ranges++;
    rangeToCidrs(start, end, (p, l) => {
      if (count === cap) {
        cap *= 2;
        const np = new Uint32Array(cap);
        np.set(prefix);
        prefix = np;
        const nl2 = new Uint8Array(cap);
        nl2.set(len);
        len = nl2;
        const nv = new Uint32Array(cap);
        nv.set(value);
        value = nv;
      }
      prefix[count] = p;
      len[count] = l;
      value[count] = v;
      count++;
    });
  }
  return { prefix, len, value, count, ranges };
}

/** The baseline: one Map per prefix length, longest length first. Keys are `addr & mask` (int32). */
class MapPerLength {
  private readonly maps: Map<number, number>[] = [];
  private readonly masks: number[] = [];
  /** Non-empty lengths, longest first (skipping empty ones is what any real implementation does). */
  private active: number[] = [];
  private activeMaps: Map<number, number>[] = [];
  private activeMasks: number[] = [];

  constructor() {
    for (let l = 0; l <= 32; l++) {
      this.maps.push(new Map());
      this.masks.push(maskOf(l) | 0);
    }
  }

  set(prefix: number, len: number, value: number): void {
    const m = this.maps[len];
    const empty = m.size === 0;
    m.set(prefix | 0, value);
    if (empty) this.refresh();
  }

  delete(prefix: number, len: number): boolean {
    const m = this.maps[len];
    const had = m.delete(prefix | 0);
    if (had && m.size === 0) this.refresh();
    return had;
  }

  get(prefix: number, len: number): number | undefined {
    return this.maps[len].get(prefix | 0);
  }

  private refresh(): void {
    this.active = [];
    for (let l = 32; l >= 0; l--) if (this.maps[l].size > 0) this.active.push(l);
    this.activeMaps = this.active.map((l) => this.maps[l]);
    this.activeMasks = this.active.map((l) => this.masks[l]);
  }

  lookup(addr: number): number {
    const maps = this.activeMaps;
    const masks = this.activeMasks;
    for (let i = 0; i < maps.length; i++) {
      const v = maps[i].get(addr & masks[i]);
      if (v !== undefined) return v;
    }
    return 0;
  }
}

interface Lookup {
  lookup(addr: number): number;
}

// Separate loops per structure keep each call site monomorphic.
function loopTrie(t: LpmTable, addrs: Uint32Array): number {
  let acc = 0;
  for (let i = 0; i < addrs.length; i++) acc ^= t.lookup(addrs[i]);
  return acc;
}

function loopOld(t: LpmTable1688, addrs: Uint32Array): number {
  let acc = 0;
  for (let i = 0; i < addrs.length; i++) acc ^= t.lookup(addrs[i]);
  return acc;
}

function loopMaps(t: MapPerLength, addrs: Uint32Array): number {
  let acc = 0;
  for (let i = 0; i < addrs.length; i++) acc ^= t.lookup(addrs[i]);
  return acc;
}

function loopTrieBatch(s: { t: LpmTable; out: Uint32Array }, addrs: Uint32Array): number {
  s.t.lookupBatch(addrs, s.out, addrs.length);
  return s.out[addrs.length >>> 1];
}

function loopOldBatch(s: { t: LpmTable1688; out: Uint32Array }, addrs: Uint32Array): number {
  s.t.lookupBatch(addrs, s.out, addrs.length);
  return s.out[addrs.length >>> 1];
}

/**
 * Process CPU time in ns. Rates are per CPU-second: on an idle machine the
 * same as per wall second, and on a shared one they leave out the time the
 * process was not running (wall-clock rates varied 2x between runs there).
 */
function cpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

function bestRate<T>(runs: number, n: number, fn: (s: T, a: Uint32Array) => number, s: T, addrs: Uint32Array): number {
  let best = 0;
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    // Untimed warm-up on a fifth of the addresses: the runs of the structures
    // alternate, and each would otherwise start in caches the other filled.
    sink ^= fn(s, addrs.subarray(0, addrs.length / 5));
    const t0 = cpuNs();
    sink ^= fn(s, addrs);
    const ns = cpuNs() - t0;
    best = Math.max(best, (n * 1e9) / ns);
  }
  if (sink === 0x7fffffff + 1) console.log(sink); // keep the result alive
  return best;
}

const gcFn: (() => void) | undefined = (globalThis as { gc?: () => void }).gc;

function heapBytes(): number {
  if (gcFn) {
    gcFn();
    gcFn();
  }
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function buildOnce<T extends { set(p: number, l: number, v: number): void }>(make: () => T, list: PrefixList): [T, number] {
  const t0 = cpuNs();
  const x = make();
  for (let i = 0; i < list.count; i++) x.set(list.prefix[i], list.len[i], list.value[i]);
  return [x, (cpuNs() - t0) / 1e6];
}

/** Memory is taken around the first build (nothing else of its kind alive); later builds only refine the time. */
function buildBest<T extends { set(p: number, l: number, v: number): void }>(
  make: () => T,
  list: PrefixList,
): { s: T; buildMs: number; memoryMB: number } {
  const before = heapBytes();
  const [s, firstMs] = buildOnce(make, list);
  const memoryMB = (heapBytes() - before) / 2 ** 20;
  let buildMs = firstMs;
  for (let r = 1; r < BUILD_RUNS; r++) buildMs = Math.min(buildMs, buildOnce(make, list)[1]);
  heapBytes(); // drop the extra builds before the next measurement
  return { s, buildMs, memoryMB };
}

function verify(a: Lookup, name: string, b: Lookup, addrs: Uint32Array, what: string): number {
  for (let i = 0; i < addrs.length; i++) {
    const x = a.lookup(addrs[i]);
    const y = b.lookup(addrs[i]);
    if (x !== y) {
      throw new Error(`bench-lookup: ${what}: ${name} says ${x}, Map baseline says ${y} for ${formatAddress(addrs[i])}`);
    }
  }
  return addrs.length;
}

function verifyBatch(
  t: { lookupBatch(a: Uint32Array, o: Uint32Array): void },
  name: string,
  b: Lookup,
  addrs: Uint32Array,
  what: string,
): number {
  const out = new Uint32Array(addrs.length);
  t.lookupBatch(addrs, out);
  for (let i = 0; i < addrs.length; i++) {
    const y = b.lookup(addrs[i]);
    if (out[i] !== y) {
      throw new Error(`bench-lookup: ${what}: ${name}.lookupBatch says ${out[i]}, Map baseline says ${y} for ${formatAddress(addrs[i])}`);
    }
  }
  return addrs.length;
}

function updates(
  s: { get(p: number, l: number): number | undefined; delete(p: number, l: number): boolean; set(p: number, l: number, v: number): void },
  list: PrefixList,
  picks: Uint32Array,
): number {
  let best = 0;
  for (let r = 0; r < 3; r++) {
    const t0 = cpuNs();
    for (let i = 0; i < picks.length; i++) {
      const k = picks[i];
      const p = list.prefix[k];
      const l = list.len[k];
      const v = s.get(p, l)!;
      s.delete(p, l);
      s.set(p, l, v);
    }
    const ns = cpuNs() - t0;
    best = Math.max(best, (2 * picks.length * 1e9) / ns);
  }
  return best;
}

export async function runLookupBench(opts?: { log?: (s: string) => void }): Promise<LookupBenchResult> {
  const log = opts?.log ?? (() => {});
  const require = createRequire(import.meta.url);
  const file = require.resolve('@ip-location-db/asn/asn-ipv4-num.csv');
  log(`loading ${file}`);
  const list = loadPrefixes(file);
  log(`${list.ranges} ranges -> ${list.count} prefixes`);

  const rnd = prng(SEED);
  const randomAddrs = new Uint32Array(LOOKUP_ADDRESSES);
  for (let i = 0; i < randomAddrs.length; i++) randomAddrs[i] = rnd();
  const hitAddrs = new Uint32Array(LOOKUP_ADDRESSES);
  for (let i = 0; i < hitAddrs.length; i++) {
    const k = rnd() % list.count;
    hitAddrs[i] = (list.prefix[k] | (rnd() & ~maskOf(list.len[k]))) >>> 0;
  }
  // Prefix edges: first and last address and the neighbours just outside.
  const edgeAddrs = new Uint32Array(4 * Math.min(list.count, VERIFY_ADDRESSES / 4));
  for (let i = 0; i < edgeAddrs.length; i += 4) {
    const k = rnd() % list.count;
    const first = list.prefix[k];
    const last = (first | ~maskOf(list.len[k])) >>> 0;
    edgeAddrs.set([first, last, (first - 1) >>> 0, (last + 1) >>> 0], i);
  }
  const picks = new Uint32Array(UPDATE_PREFIXES);
  for (let i = 0; i < picks.length; i++) picks[i] = rnd() % list.count;

  log('building LpmTable (shared)');
  // Shared, as the data plane's readers will use it; its own lookups are the readers' code.
  const trieBuild = buildBest(() => new LpmTable({ shared: true }), list);
  const trie = trieBuild.s;
  log('building LpmTable1688 (old)');
  const oldBuild = buildBest(() => new LpmTable1688(), list);
  const old = oldBuild.s;
  log('building Map baseline');
  const mapBuild = buildBest(() => new MapPerLength(), list);
  const maps = mapBuild.s;

  const check = (when: string): number => {
    let n = 0;
    for (const [t, name] of [
      [trie, 'LpmTable'],
      [old, 'LpmTable1688'],
    ] as const) {
      n +=
        verify(t, name, maps, randomAddrs.subarray(0, VERIFY_ADDRESSES), `random addresses ${when}`) +
        verify(t, name, maps, hitAddrs.subarray(0, VERIFY_ADDRESSES), `hit addresses ${when}`) +
        verify(t, name, maps, edgeAddrs, `prefix edges ${when}`) +
        verifyBatch(t, name, maps, randomAddrs.subarray(0, VERIFY_ADDRESSES), `random addresses ${when}`) +
        verifyBatch(t, name, maps, edgeAddrs, `prefix edges ${when}`);
    }
    return n;
  };
  let verified = check('after build');

  let hits = 0;
  for (let i = 0; i < 1_000_000; i++) if (trie.lookup(randomAddrs[i]) !== 0) hits++;

  log('timing lookups');
  // Runs of the two tries alternate, so a noisy neighbour hurts both alike.
  const r = { trieRandom: 0, trieHit: 0, trieBatchRandom: 0, trieBatchHit: 0, oldRandom: 0, oldHit: 0, oldBatchRandom: 0, oldBatchHit: 0 };
  const batch = { t: trie, out: new Uint32Array(LOOKUP_ADDRESSES) };
  const oldBatch = { t: old, out: batch.out };
  const n = LOOKUP_ADDRESSES;
  for (let run = 0; run < RUNS; run++) {
    r.trieRandom = Math.max(r.trieRandom, bestRate(1, n, loopTrie, trie, randomAddrs));
    r.oldRandom = Math.max(r.oldRandom, bestRate(1, n, loopOld, old, randomAddrs));
    r.trieHit = Math.max(r.trieHit, bestRate(1, n, loopTrie, trie, hitAddrs));
    r.oldHit = Math.max(r.oldHit, bestRate(1, n, loopOld, old, hitAddrs));
    r.trieBatchRandom = Math.max(r.trieBatchRandom, bestRate(1, n, loopTrieBatch, batch, randomAddrs));
    r.oldBatchRandom = Math.max(r.oldBatchRandom, bestRate(1, n, loopOldBatch, oldBatch, randomAddrs));
    r.trieBatchHit = Math.max(r.trieBatchHit, bestRate(1, n, loopTrieBatch, batch, hitAddrs));
    r.oldBatchHit = Math.max(r.oldBatchHit, bestRate(1, n, loopOldBatch, oldBatch, hitAddrs));
  }
  const mapRandom = bestRate(MAP_RUNS, MAP_ADDRESSES, loopMaps, maps, randomAddrs.subarray(0, MAP_ADDRESSES));
  const mapHit = bestRate(MAP_RUNS, MAP_ADDRESSES, loopMaps, maps, hitAddrs.subarray(0, MAP_ADDRESSES));

  log('timing updates');
  const sizeBefore = trie.size;
  const trieUpdates = updates(trie, list, picks);
  const oldUpdates = updates(old, list, picks);
  const mapUpdates = updates(maps, list, picks);
  verified += check('after updates');
  if (trie.size !== sizeBefore || old.size !== sizeBefore) {
    throw new Error(`bench-lookup: table size changed by updates (${sizeBefore} -> ${trie.size}, ${old.size})`);
  }

  return {
    source: '@ip-location-db/asn asn-ipv4-num.csv',
    ranges: list.ranges,
    prefixes: list.count,
    tablePrefixes: trie.size,
    oldGroups: old.groupCount,
    trieNodes: trie.blockCount,
    lookupAddresses: LOOKUP_ADDRESSES,
    runs: RUNS,
    mapLookupAddresses: MAP_ADDRESSES,
    mapRuns: MAP_RUNS,
    randomHitRatio: hits / 1_000_000,
    updatesTimed: 2 * UPDATE_PREFIXES,
    verifiedAddresses: verified,
    gcExposed: gcFn !== undefined,
    trie: {
      buildMs: trieBuild.buildMs,
      memoryMB: trieBuild.memoryMB,
      typedArrayMB: trie.memoryBytes() / 2 ** 20,
      lookupsPerSecRandom: r.trieRandom,
      lookupsPerSecHit: r.trieHit,
      batchLookupsPerSecRandom: r.trieBatchRandom,
      batchLookupsPerSecHit: r.trieBatchHit,
      updatesPerSec: trieUpdates,
    },
    old: {
      buildMs: oldBuild.buildMs,
      memoryMB: oldBuild.memoryMB,
      typedArrayMB: old.memoryBytes() / 2 ** 20,
      lookupsPerSecRandom: r.oldRandom,
      lookupsPerSecHit: r.oldHit,
      batchLookupsPerSecRandom: r.oldBatchRandom,
      batchLookupsPerSecHit: r.oldBatchHit,
      updatesPerSec: oldUpdates,
    },
    mapBaseline: {
      buildMs: mapBuild.buildMs,
      memoryMB: mapBuild.memoryMB,
      typedArrayMB: null,
      lookupsPerSecRandom: mapRandom,
      lookupsPerSecHit: mapHit,
      batchLookupsPerSecRandom: null,
      batchLookupsPerSecHit: null,
      updatesPerSec: mapUpdates,
    },
  };
}

export function formatLookupBench(r: LookupBenchResult): string {
  const mops = (x: number | null): string => (x === null ? '-' : `${(x / 1e6).toFixed(1)} M`);
  const mb = (x: number | null): string => (x === null ? '-' : x.toFixed(1));
  const cols = [r.old, r.trie, r.mapBaseline];
  const row = (name: string, f: (x: StructureResult) => string): string[] => [name, ...cols.map(f)];
  const rows: string[][] = [
    row('build (ms)', (x) => x.buildMs.toFixed(0)),
    row('memory, typed arrays (MB)', (x) => mb(x.typedArrayMB)),
    row('memory, heap+arrayBuffers (MB)', (x) => mb(x.memoryMB)),
    row('lookups/s, random addresses', (x) => mops(x.lookupsPerSecRandom)),
    row('lookups/s, hit-biased', (x) => mops(x.lookupsPerSecHit)),
    row('lookups/s, random, lookupBatch', (x) => mops(x.batchLookupsPerSecRandom)),
    row('lookups/s, hit-biased, lookupBatch', (x) => mops(x.batchLookupsPerSecHit)),
    row('updates/s (delete or insert)', (x) => mops(x.updatesPerSec)),
  ];
  const head = ['', 'old 16-8-8 trie', 'LpmTable (new)', 'Map per length'];
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((x) => x[c].length)));
  const line = (x: string[]): string => '  ' + x.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join('  ');
  return [
    `Route lookup: ${r.prefixes.toLocaleString('en-US')} prefixes from ${r.ranges.toLocaleString('en-US')} ranges (${r.source}); ` +
      `old trie: ${r.oldGroups.toLocaleString('en-US')} level-2/3 groups; LpmTable: ${r.trieNodes.toLocaleString('en-US')} compressed nodes, in a SharedArrayBuffer`,
    `  timed in process CPU time; lookups: best of ${r.runs} warmed-up runs over ${(r.lookupAddresses / 1e6).toFixed(1)} M addresses, the tries' runs alternating ` +
      `(Map baseline: best of ${r.mapRuns} over ${(r.mapLookupAddresses / 1e6).toFixed(1)} M); ` +
      `${(r.randomHitRatio * 100).toFixed(0)}% of random addresses match a prefix`,
    `  ${r.verifiedAddresses.toLocaleString('en-US')} lookups cross-checked against the Map baseline: all agree; ` +
      `updates: ${r.updatesTimed.toLocaleString('en-US')} (delete + re-insert of random prefixes)`,
    line(head),
    ...rows.map(line),
    "  (heap+arrayBuffers: growth over the build, including the old trie's per-length Maps of exact prefixes; typed arrays: as the structure reports them)",
    r.gcExposed
      ? '  (memory measured after global.gc)'
      : '  (gc not exposed: memory deltas include garbage; run with node --expose-gc)',
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runLookupBench({ log: (s) => console.error(`# ${s}`) });
  console.log(formatLookupBench(result));
}
