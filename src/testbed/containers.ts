// tunroute's container image in a namespace lab: build it with the project's
// one command, run routers in containers, and wire them the way containerlab
// does — a running container's network namespace gets interfaces moved in
// from outside (`ip link set X netns …`).
import { readFileSync } from 'node:fs';
import type { Lab } from './lab.js';
import { ip, run, sleep, type RunResult } from './shell.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
export const IMAGE = process.env.TUNROUTE_IMAGE || 'tunroute:latest';
const LAB_PREFIX = 'tr-';

export function docker(args: string[], timeoutMs = 30_000): Promise<RunResult> {
  return run('docker', args, { timeoutMs });
}

/** Whether a Docker engine answers. */
export function engineRunning(): Promise<boolean> {
  return docker(['info'], 10_000).then(() => true, () => false);
}

/**
 * Build the image (or find it up to date) with scripts/container-image.sh:
 * installs the engine if missing, starts dockerd if needed, makes the base
 * image. Resolves with the script's output.
 */
export async function buildImage(timeoutMs: number): Promise<string> {
  const r = await run('sh', [`${ROOT}scripts/container-image.sh`], { timeoutMs });
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

/** Remove containers of labs whose owning test process is gone (named like lab namespaces). */
export async function removeStaleContainers(): Promise<string[]> {
  const names = (await docker(['ps', '-a', '--filter', `name=^${LAB_PREFIX}`, '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
  const stale = names.filter((n) => {
    const pid = parseInt(n.slice(LAB_PREFIX.length).split('-')[0]!, 36);
    return Number.isFinite(pid) && !alive(pid);
  });
  if (stale.length) await docker(['rm', '-f', ...stale]);
  return stale;
}

/** A router in a container; its network namespace is also named (ip netns attach) for `ip -n`. */
export class RouterContainer {
  private constructor(readonly name: string, readonly netns: string, readonly pid: number) {}

  /**
   * `docker run` the image as containerlab's linux kind would (no network
   * but what the lab moves in), with the config bind-mounted.
   */
  static async start(lab: Lab, role: string, configFile: string, env: Record<string, string> = {}): Promise<RouterContainer> {
    const name = lab.ns(role);
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    await docker(['run', '-d', '--name', name, '--network', 'none', '--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun',
      '-v', `${configFile}:/config/router.json:ro`, ...envArgs, IMAGE, 'run', '--config', '/config/router.json']);
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
    if (!pid) throw new Error(`container ${name} is not running: ${(await docker(['logs', name]).catch(() => undefined))?.stderr ?? ''}`);
    await ip('netns', 'attach', name, String(pid));
    return new RouterContainer(name, name, pid);
  }

  exec(args: string[], timeoutMs = 10_000): Promise<RunResult> {
    return docker(['exec', this.name, ...args], timeoutMs);
  }

  /** The tunroute CLI inside the container; stdout. */
  async cli(...args: string[]): Promise<string> {
    return (await this.exec(['tunroute', ...args])).stdout;
  }

  /** The container's output (the entry point's lines and the daemon's log). */
  async logs(): Promise<string> {
    const r = await docker(['logs', this.name]).catch(() => undefined);
    return r ? r.stdout + r.stderr : '';
  }

  /** Command line of the container's PID 1 (the entry point script, or node after it exec'd). */
  async pid1(): Promise<string> {
    return readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  }

  /** Move a device of this container's namespace into namespace `ns`. */
  async moveOut(device: string, ns: string): Promise<void> {
    await ip('-n', this.netns, 'link', 'set', 'dev', device, 'netns', ns);
  }

  async remove(): Promise<void> {
    await docker(['rm', '-f', this.name]).catch(() => undefined);
    await ip('netns', 'del', this.netns).catch(() => undefined);
  }
}

/**
 * A containerlab link: a veth pair made in the root namespace under
 * lab-unique names, each end moved into one container and renamed there
 * (eth1, eth2, …), then set up.
 */
export async function linkContainers(lab: Lab, a: RouterContainer, aIf: string, b: RouterContainer, bIf: string): Promise<void> {
  const [va, vb] = [lab.dev('va'), lab.dev('vb')];
  await ip('link', 'add', va, 'type', 'veth', 'peer', 'name', vb);
  try {
    for (const [dev, c, ifname] of [[va, a, aIf], [vb, b, bIf]] as const) {
      await ip('link', 'set', 'dev', dev, 'netns', c.netns);
      await ip('-n', c.netns, 'link', 'set', 'dev', dev, 'name', ifname);
      await ip('-n', c.netns, 'link', 'set', 'dev', ifname, 'up');
    }
  } finally {
    // An end still in the root namespace (a failed move) would outlive the lab.
    await ip('link', 'del', va).catch(() => undefined);
    await ip('link', 'del', vb).catch(() => undefined);
  }
}
