// The Docker engine for the testbed: build tunroute's image with the
// project's one command, and find or remove the containers labs made.
import { readFileSync } from 'node:fs';
import { run, sleep, type RunResult } from './shell.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
/** The image tests build and run: TUNROUTE_IMAGE, else the tag the topologies name. */
export const IMAGE = process.env.TUNROUTE_IMAGE || 'tunroute:latest';
/** Label on every container a lab starts: the lab's id (its namespaces' prefix). */
export const LAB_LABEL = 'org.tunroute.lab';
const LAB_PREFIX = 'tr-';

export function docker(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return run('docker', args, { timeoutMs });
}

/** Whether a Docker engine answers. */
export function engineRunning(): Promise<boolean> {
  return docker(['info'], 10_000).then(() => true, () => false);
}

export function imageExists(image: string): Promise<boolean> {
  return docker(['image', 'inspect', image], 15_000).then(() => true, () => false);
}

/**
 * Build `image` from this checkout (or find it up to date) with
 * scripts/container-image.sh: installs the engine if missing, starts dockerd
 * if needed, makes the base image. Resolves with the script's output.
 */
export async function buildImage(timeoutMs: number, image = IMAGE): Promise<string> {
  const r = await run('env', [`TUNROUTE_IMAGE=${image}`, 'sh', `${ROOT}scripts/container-image.sh`], { timeoutMs });
  return r.stdout;
}

/** Stop the dockerd that this process started (SIGTERM, bounded wait). */
export async function stopEngine(timeoutMs = 20_000): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
  } catch {
    return;
  }
  if (!pid || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const end = Date.now() + timeoutMs;
  while (alive(pid) && Date.now() < end) await sleep(100);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function names(filter: string): Promise<string[]> {
  return (await docker(['ps', '-a', '--filter', filter, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
}

/** Remove containers of labs whose owning process is gone (named like lab namespaces, tr-<pid36>-…). */
export async function removeStaleContainers(): Promise<string[]> {
  const stale = (await names(`name=^${LAB_PREFIX}`)).filter((n) => {
    const pid = parseInt(n.slice(LAB_PREFIX.length).split('-')[0]!, 36);
    return Number.isFinite(pid) && !alive(pid);
  });
  if (stale.length) await docker(['rm', '-f', ...stale], 60_000);
  return stale;
}

/**
 * Remove every container of lab `labId` (its label). Without a docker
 * client or engine there is nothing to remove: resolves with [].
 */
export async function removeLabContainers(labId: string): Promise<string[]> {
  const found = await names(`label=${LAB_LABEL}=${labId}`).catch(() => []);
  if (found.length) await docker(['rm', '-f', ...found], 60_000);
  return found;
}
