// Running commands for the testbed: bounded in time, failures as one line.
import { execFile } from 'node:child_process';

export class CommandError extends Error {
  constructor(readonly command: string, readonly code: number | null, readonly stderr: string) {
    super(`${command}: ${stderr.trim().split('\n').pop() || `exit status ${code}`}`);
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status (only non-zero with `allowFail`). */
  code: number;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string;
  /** Resolve with the exit status instead of rejecting on a non-zero exit. */
  allowFail?: boolean;
}

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      if (err && !(opts.allowFail && code > 0)) reject(new CommandError(`${cmd} ${args.join(' ')}`, code, stderr || err.message));
      else resolve({ stdout, stderr, code });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** `ip …` */
export function ip(...args: string[]): Promise<RunResult> {
  return run('ip', args);
}

/** Run a command inside a network namespace. */
export function inNetns(ns: string, cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * `work`'s value, or `late` once `ms` have passed without it. Unlike a race
 * with sleep(), the timer is cleared when `work` wins: a pending timer keeps
 * the process alive, and a test file's process is done only when it exits
 * (a 2 s stop bound left behind by every lab's cleanup was 2 s more per
 * file; a 60 s one in a test, most of a minute).
 */
export async function within<T, U>(work: Promise<T>, ms: number, late: U): Promise<T | U> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<U>((r) => { timer = setTimeout(() => r(late), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Await every one of `work` (started together), then throw the first
 * failure, if any: unlike Promise.all, nothing is still starting when the
 * caller cleans up after a failure.
 */
export async function settleAll<T>(work: readonly Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(work);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<T>).value);
}

/** Thrown by a waitFor probe to stop waiting at once (the awaited thing can no longer happen). */
export class FatalError extends Error {}

/** Poll `probe` until it returns a value (not undefined/false) or `timeoutMs` passes. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      if (e instanceof FatalError) throw e;
      lastErr = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? ` (last error: ${(lastErr as Error).message})` : ''}`);
    }
    await sleep(everyMs);
  }
}
