// What a fuzz target is, and the runner that drives one: fast-check
// properties run in chunks, each chunk on a fresh instance of the target
// (a new router, a new API server, …) with its own seed, so a failure is
// reproduced by running that one chunk again (`--seed=S --inputs N` of the
// chunk). Between chunks the runner yields to the event loop (the routers'
// timers run) and samples the process's memory and open handles.
import fc from 'fast-check';

/** One live instance of a target: the property to check, and how to let it go. */
export interface TargetInstance {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each target has its own input type
  property: fc.IRawProperty<any, boolean>;
  /** Inputs fed so far (packets, byte strings, texts, requests; shrinking included). */
  inputs(): number;
  /** Counters of what the inputs did (outcomes by kind), added up over the run. */
  tally?(): Record<string, number>;
  close(): Promise<void> | void;
}

export interface FuzzTarget {
  name: string;
  description: string;
  /** Inputs (packets, byte strings, texts, requests) one property run feeds, on average. */
  inputsPerRun: number;
  /** Property runs per chunk (one fresh instance). */
  runsPerChunk: number;
  create(): Promise<TargetInstance> | TargetInstance;
}

export interface RunOptions {
  seed: number;
  inputs: number;
  /** Called after every chunk (progress, memory samples). */
  onChunk?(p: ChunkReport): void;
  /** Stop after this many ms even if `inputs` are not reached (0: no limit). */
  maxMs?: number;
}

export interface ChunkReport {
  target: string;
  chunk: number;
  seed: number;
  inputs: number;
  elapsedMs: number;
  rss: number;
  heapUsed: number;
  handles: number;
}

export interface TargetResult {
  target: string;
  seed: number;
  inputs: number;
  runs: number;
  chunks: number;
  ms: number;
  failure: string | null;
  tally: Record<string, number>;
  samples: ChunkReport[];
}

/** The seed of chunk k of a run with `seed`: chunk 0 has the run's own seed. */
export function chunkSeed(seed: number, k: number): number {
  return (seed + k * 0x9e3779b1) | 0;
}

/** Active handles and requests of the process (libuv), by count. */
export function openHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').length;
}

export async function runTarget(target: FuzzTarget, opts: RunOptions): Promise<TargetResult> {
  const t0 = performance.now();
  const tally: Record<string, number> = {};
  const samples: ChunkReport[] = [];
  let inputs = 0;
  let runs = 0;
  let chunk = 0;
  let failure: string | null = null;
  while (inputs < opts.inputs && failure === null) {
    if (opts.maxMs && performance.now() - t0 > opts.maxMs) break;
    const seed = chunkSeed(opts.seed, chunk);
    const left = opts.inputs - inputs;
    const numRuns = Math.max(1, Math.min(target.runsPerChunk, Math.ceil(left / target.inputsPerRun)));
    const instance = await target.create();
    let details: fc.RunDetails<unknown>;
    try {
      details = await fc.check(instance.property, { seed, numRuns, endOnFailure: true });
    } finally {
      const t = instance.tally?.() ?? {};
      // Counts add up; a figure marked (max) keeps the largest.
      for (const [k, v] of Object.entries(t)) tally[k] = k.endsWith('(max)') ? Math.max(tally[k] ?? 0, v) : (tally[k] ?? 0) + v;
      await instance.close();
    }
    const consumed = instance.inputs();
    inputs += consumed;
    runs += details.numRuns;
    if (details.failed) {
      // The chunk again: its seed (`=`: a seed may be negative) and as many runs (inputs are counted by the run's estimate).
      failure = `${target.name}: chunk ${chunk} failed; reproduce with: npm run fuzz -- --target ${target.name} --seed=${seed} --inputs ${numRuns * target.inputsPerRun}\n` +
        `${String((details.errorInstance as Error | undefined)?.message ?? '')}\n` + fc.defaultReportMessage(details);
    }
    // Let timers and closed handles settle, and (with --expose-gc) collect, before sampling.
    await new Promise((r) => setImmediate(r));
    (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    const report: ChunkReport = { target: target.name, chunk, seed, inputs, elapsedMs: performance.now() - t0, rss: m.rss, heapUsed: m.heapUsed, handles: openHandles() };
    samples.push(report);
    opts.onChunk?.(report);
    chunk++;
  }
  return { target: target.name, seed: opts.seed, inputs, runs, chunks: chunk, ms: performance.now() - t0, failure, tally, samples };
}
