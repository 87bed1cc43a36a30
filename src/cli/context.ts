// What every client command needs: the chosen daemon and the output mode.
import type { Command } from 'commander';
import { call, resolveSocket } from '../api/client.js';
import { DurationError } from '../hosts/duration.js';
import { AddressError } from '../net/addr.js';

export interface Ctx {
  json: boolean;
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  print(humanText: string, json: unknown): void;
}

export function ctx(cmd: Command): Ctx {
  const o = cmd.optsWithGlobals() as { router?: string; socket?: string; json?: boolean };
  let socket: string | undefined;
  return {
    json: Boolean(o.json),
    call: (method, path, body) => call(socket ??= resolveSocket(o), method, path, body),
    print(humanText, json) {
      process.stdout.write(o.json ? `${JSON.stringify(json, null, 2)}\n` : `${humanText}\n`);
    },
  };
}

/** A mistake in the arguments that commander cannot see (e.g. a bad address). */
export class UsageError extends Error {}

/** Parse an argument; a parser's AddressError or DurationError becomes a UsageError naming `flag`. */
export function parseArg<T>(flag: string, text: string, parse: (s: string) => T): T {
  try {
    return parse(text);
  } catch (e) {
    if (e instanceof AddressError || e instanceof DurationError) throw new UsageError(`${flag}: ${e.message}`);
    throw e;
  }
}

/** A whole number from `min` to `max`. */
export function integerArg(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw new UsageError(`${flag}: "${text}" is not an integer from ${min} to ${max}`);
  return n;
}
