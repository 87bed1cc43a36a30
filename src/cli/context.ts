// What every client command needs: the chosen daemon and the output mode.
import type { Command } from 'commander';
import { call, resolveSocket } from '../api/client.js';

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
