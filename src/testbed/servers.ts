// `tunroute serve` spawned in a lab namespace, ready when it says it is listening
// (probing it with a request would put a line in its access log).
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab } from './lab.js';
import { waitFor } from './shell.js';

export async function spawnInfoServer(lab: Lab, ns: string, name: string, address: string, accessLog: string, delayMs = 0, extraArgs: string[] = []): Promise<ChildProcess> {
  const out = join(lab.dir, `${name}.out`);
  const delay = delayMs > 0 ? ['--delay', `${delayMs}ms`] : [];
  const child = lab.spawnTunroute(ns, ['serve', '--address', address, '--name', name, '--log', accessLog, ...delay, ...extraArgs], { stdout: out });
  await waitFor(`${name} listening`, () => existsSync(out) && readFileSync(out, 'utf8').includes('listening'), 15_000, 50);
  return child;
}
