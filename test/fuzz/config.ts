// Fuzz target: config loading. Inputs are the shipped example configs and
// the test corpus' good and bad configs, mutated two ways:
// - as text (byte edits of the JSON: broken syntax, odd characters, numbers
//   and strings cut in half), loaded from a file by loadRouterConfig();
// - as objects (a value anywhere replaced by a value of another type or a
//   boundary value, keys removed, unknown or doubled, list items copied),
//   checked by parseRouterConfig() or written out and loaded.
// Invariants: the loader returns a RouterConfig or throws a ConfigError —
// never anything else — whose message and every line are one line (with a
// file position when it came from a file); and a config it accepts works:
// a daemon assembles from it over in-memory devices, starts and stops, and
// the config served back by the API (configJson) loads again to the same.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { configJson } from '../../src/api/config-api.js';
import { ApiServer } from '../../src/api/server.js';
import { ConfigError } from '../../src/config/problems.js';
import { loadRouterConfig, parseRouterConfig, type RouterConfig } from '../../src/config/router-config.js';
import { assembleDaemon } from '../../src/daemon/assemble.js';
import { silentLogger } from '../../src/daemon/log.js';
import { BAD, full, good, type Json } from '../support/config-corpus.js';
import { MemoryDevice } from '../support/memory-device.js';
import { edits, mutateText } from './mutate.js';
import { ROUTER_CONFIG } from './packet-path.js';
import type { FuzzTarget, TargetInstance } from './target.js';

class Failure extends Error {}

/** The configs mutations start from. */
function seeds(): Json[] {
  const list: Json[] = [good(), full(), structuredClone(ROUTER_CONFIG)];
  const dir = join(import.meta.dirname, '../../../config');
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.json') && !f.includes('schema')) list.push(JSON.parse(readFileSync(join(dir, f), 'utf8')));
  }
  for (const b of BAD) {
    const c = good();
    b.mutate(c);
    list.push(c);
  }
  return list;
}

/** Values that checkers get wrong: other types, boundaries, near-misses of addresses. */
const ODD: unknown[] = [
  null, true, false, 0, -1, 1, 1.5, -0, 2 ** 31, 2 ** 53 + 2, 1e308, -1e308, 65535, 65536, 68, 67, 15, 16, 255, 256, 3600, 3601,
  '', ' ', 'x', 'lan', 'wan', 'r1', '0', '7', '1e3', 'true', 'null', '\n', 'a\nb', 'line\r\nbreak', '\u0000', '\u2028', 'é', '😀', 'x'.repeat(300),
  '10.0.0.1', '10.0.0.0/8', '10.0.0.1/33', '10.0.0.1/-1', '1.1.1.1/32', '0.0.0.0/0', '255.255.255.255', '224.0.0.9', '010.0.0.1',
  '10.0.0', '10.0.0.1.2', '::1', '10.0.1.1/24', '10.0.12.2', '1-2', '80-79', '65536', '0-65535', 'tcp', 'udp', 'icmp', 'gre',
  'block', 'drain', 'debug', 'info', 'silent', 'connected', 'static', '127.0.0.1:9100', '0.0.0.0:0', '__proto__', 'constructor',
  [], [null], [1, 2], ['lan'], ['10.0.0.0/8'], {}, { port: 'lan' }, { __proto__: null, x: 1 }, [[[]]], { a: { b: { c: [] } } },
];

type Step =
  | { op: 'set'; path: number; value: number }
  | { op: 'delete'; path: number }
  | { op: 'unknown'; path: number; value: number }
  | { op: 'copy'; from: number; to: number }
  | { op: 'dup'; path: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('set' as const), path: fc.nat(), value: fc.nat({ max: ODD.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('delete' as const), path: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unknown' as const), path: fc.nat(), value: fc.nat({ max: ODD.length - 1 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('copy' as const), from: fc.nat(), to: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dup' as const), path: fc.nat() }) },
);

export const configInput = fc.record({
  seed: fc.nat(),
  mode: fc.constantFrom('object', 'object-file', 'text'),
  steps: fc.array(step, { minLength: 0, maxLength: 4 }),
  edits: edits(6),
  indent: fc.constantFrom(0, 1, 2),
});
type ConfigInput = typeof configInput extends fc.Arbitrary<infer T> ? T : never;

type Path = (string | number)[];

/** Every place in a JSON value (the root included), depth first. */
function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as Json)[k], [...at, k], out);
  return out;
}

function get(root: Json, p: Path): Json {
  return p.reduce((v, k) => (v == null ? undefined : v[k]), root);
}

/** Apply structural steps to a copy of the config. */
function applySteps(seed: Json, steps: readonly Step[]): Json {
  const holder: Json = { root: structuredClone(seed) };
  for (const s of steps) {
    const all = paths(holder.root, ['root']);
    const pick = (n: number) => all[n % all.length]!;
    const p = pick(s.op === 'copy' ? s.to : s.path);
    const parent = get(holder, p.slice(0, -1));
    const key = p.at(-1)!;
    if (parent == null || typeof parent !== 'object') continue;
    switch (s.op) {
      case 'set': parent[key] = structuredClone(ODD[s.value]); break;
      case 'delete': if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete parent[key]; break;
      case 'unknown': {
        const target = get(holder, p);
        if (target && typeof target === 'object' && !Array.isArray(target)) target[`extra${s.value}`] = structuredClone(ODD[s.value]);
        break;
      }
      case 'copy': parent[key] = structuredClone(get(holder, pick(s.from))); break;
      case 'dup': if (Array.isArray(parent)) parent.push(structuredClone(parent[Number(key)])); break;
    }
  }
  return holder.root;
}

export class ConfigHarness {
  fed = 0;
  readonly tally: Record<string, number> = {};
  private readonly seeds = seeds();
  private readonly dir = mkdtempSync(join(tmpdirFast(), 'tunroute-fuzz-config-'));
  private readonly file = join(this.dir, 'router.json');

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private count(k: string): void {
    this.tally[k] = (this.tally[k] ?? 0) + 1;
  }

  async run(input: ConfigInput): Promise<void> {
    this.fed++;
    const seed = this.seeds[input.seed % this.seeds.length];
    const obj = applySteps(seed, input.steps);
    let text: string | null = null;
    let result: RouterConfig | undefined;
    try {
      if (input.mode === 'object') result = parseRouterConfig(obj, '<fuzz>');
      else {
        text = JSON.stringify(obj, null, input.indent) ?? 'null';
        if (input.mode === 'text') text = mutateText(text, input.edits);
        writeFileSync(this.file, text);
        result = loadRouterConfig(this.file);
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) {
        throw new Failure(`${input.mode}: not a ConfigError but ${(e as Error)?.constructor?.name}: ${(e as Error)?.stack ?? e}\nconfig: ${text ?? safeJson(obj)}`);
      }
      this.checkError(e, input.mode !== 'object', text ?? safeJson(obj));
      this.count(`refused:${input.mode}`);
      return;
    }
    this.count(`accepted:${input.mode}`);
    await this.checkAccepted(result, text ?? safeJson(obj));
  }

  private checkError(e: ConfigError, fromFile: boolean, what: string): void {
    const lines = e.lines();
    const fail = (m: string) => {
      throw new Failure(`${m}\nlines: ${JSON.stringify(lines)}\nconfig: ${what.slice(0, 2000)}`);
    };
    if (lines.length === 0) fail('a ConfigError with no problem');
    if (/[\n\r\u2028\u2029]/.test(e.message)) fail(`ConfigError message is not one line: ${JSON.stringify(e.message)}`);
    for (const l of lines) {
      if (/[\n\r\u2028\u2029]/.test(l)) fail(`a problem line is not one line: ${JSON.stringify(l)}`);
      if (l.trim() === '') fail('an empty problem line');
    }
    if (fromFile) {
      for (const p of e.problems) {
        if (p.file !== this.file || !(Number.isInteger(p.line) && p.line! >= 1 && Number.isInteger(p.column) && p.column! >= 1)) {
          fail(`a problem from a file without its position: ${JSON.stringify(p)}`);
        }
      }
    }
    this.count(`problems:${Math.min(lines.length, 5)}`);
  }

  /** An accepted config runs: assembled over memory devices, started, stopped; and it round-trips. */
  private async checkAccepted(config: RouterConfig, what: string): Promise<void> {
    const fail = (m: string) => {
      throw new Failure(`accepted config: ${m}\nconfig: ${what.slice(0, 3000)}`);
    };
    let back: RouterConfig | undefined;
    const served = configJson(config);
    try {
      back = parseRouterConfig(JSON.parse(JSON.stringify(served)), config.file);
    } catch (e) {
      fail(`the config served back does not load again: ${(e as Error).message}`);
    }
    if (JSON.stringify(configJson(back!)) !== JSON.stringify(served)) fail('the config served back loads to another config');
    // A trigger that tails a file would watch that file: not in a fuzz loop.
    if (config.triggers.some((t) => t.file !== null)) {
      this.count('accepted:not-started(file trigger)');
      return;
    }
    try {
      const daemon = assembleDaemon(config, silentLogger(), new ApiServer(), { openDevice: (pc) => new MemoryDevice(pc.device) });
      daemon.router.start();
      daemon.router.stop();
    } catch (e) {
      fail(`the daemon does not start from it: ${(e as Error).stack}`);
    }
    // Plugins stop asynchronously (the trigger tails): until their promises
    // settle they hold the router and its ~18 MB of typed arrays. Let them,
    // or a chunk's routers would all be alive at its end.
    await new Promise((r) => setImmediate(r));
    this.count('accepted:started');
  }
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** A memory file system for the config files when there is one. */
function tmpdirFast(): string {
  try {
    writeFileSync('/dev/shm/.tunroute-fuzz-probe', '');
    rmSync('/dev/shm/.tunroute-fuzz-probe');
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const BATCH = 8;

export const configTarget: FuzzTarget = {
  name: 'config',
  description: 'mutated config texts and objects through loadRouterConfig/parseRouterConfig; accepted ones assembled and started',
  inputsPerRun: BATCH,
  runsPerChunk: 1000,
  create(): TargetInstance {
    const h = new ConfigHarness();
    return {
      property: fc.asyncProperty(fc.array(configInput, { minLength: BATCH, maxLength: BATCH }), async (list) => {
        for (const i of list) await h.run(i);
        return true;
      }),
      inputs: () => h.fed,
      tally: () => h.tally,
      close: () => h.close(),
    };
  },
};
