// Container mode of a topology lab (`--containers`): each tunroute router of
// the topology runs as a container of the real image, started as
// containerlab starts a `kind: linux` node — `docker run` with no network
// but what the lab moves in (containerlab's management network left
// out), the node's binds and labels, CLAB_INTFS = its number of links, the
// node's cmd as the container's arguments — before its links exist; the
// image's entry point waits for them. containerlab runs nodes privileged;
// here they get what tunroute needs, NET_ADMIN and /dev/net/tun (AF_PACKET's
// NET_RAW is Docker's default), because the machines this is developed on
// refuse a privileged container. The container's network namespace
// (its pid from `docker inspect`) is then named as the node's namespace of
// the lab (`ip netns attach`), so every link is wired into it exactly as
// into a namespace: a veth end moved in (`ip link set X netns …`), renamed
// to the endpoint's name, brought up. Hosts, FRR and BIRD stay namespaces.
//
// The directory of the router's API socket (/run/tunroute, where the CLI in
// the container looks too) is bound from the lab's directory: the rehearsal
// and the CLI on this machine talk to the daemon through it. As in namespace
// mode the testbed places the log (`--log-file`, in the same directory), so
// the rehearsal reads the router's events.
import { existsSync, mkdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { buildImage, docker, engineRunning, imageExists, LAB_LABEL, removeLabContainers, removeStaleContainers } from './containers.js';
import { RouterProcess, type Lab } from './lab.js';
import { FatalError, waitFor } from './shell.js';
import type { TopologyNode } from './topology/index.js';

export interface ContainerOptions {
  /** Run the routers from this image as it is; by default each router's image is built from this checkout first. */
  image?: string;
}

/** What container mode needs of the topology lab. */
export interface ContainerLabHost {
  readonly lab: Lab;
  readonly topology: { name: string; file: string };
  hostPath(node: TopologyNode, containerPath: string): string;
}

type RunCommand = Extract<NonNullable<TopologyNode['tunroute']>, { kind: 'run' }>;

interface Started {
  container: string;
  pid: number;
  image: string;
  /** The socket directory on this machine, and inside the container. */
  runDir: string;
  runInside: string;
}

/** A cold build on a fresh machine installs the engine and makes the base image first. */
const BUILD_TIMEOUT_MS = 20 * 60_000;
/** Images built from this checkout by this process (a demo of both modes brings two labs up). */
const built = new Set<string>();

function runCommand(n: TopologyNode): RunCommand | null {
  return n.tunroute?.kind === 'run' ? n.tunroute : null;
}

export class ContainerNodes {
  private readonly started = new Map<string, Started>();
  private labId: string | null = null;

  private constructor(private readonly opts: ContainerOptions) {}

  /** The image each router will run: there (built from this checkout unless `image` is given), else a one-line error. */
  static async prepare(nodes: Iterable<TopologyNode>, opts: ContainerOptions, log: (line: string) => void): Promise<ContainerNodes> {
    const images = new Set([...nodes].filter((n) => runCommand(n)).map((n) => opts.image ?? n.image));
    for (const image of images) {
      if (opts.image) {
        if (!(await engineRunning())) throw new Error('no Docker engine answers (./scripts/container-image.sh installs and starts one)');
        if (!(await imageExists(image))) throw new Error(`image ${image} is not on this machine (build it: TUNROUTE_IMAGE=${image} ./scripts/container-image.sh)`);
      } else if (!built.has(image)) {
        log(`building ${image} from this checkout (scripts/container-image.sh)`);
        const out = await buildImage(BUILD_TIMEOUT_MS, image);
        log(out.trim().split('\n').filter((l) => l.startsWith('container-image:')).pop() ?? `built ${image}`);
        built.add(image);
      }
    }
    if (images.size) await removeStaleContainers();
    return new ContainerNodes(opts);
  }

  /** Whether the node runs as a container (a tunroute router). */
  runs(n: TopologyNode): boolean {
    return runCommand(n) !== null;
  }

  /**
   * Start the node's container as containerlab would and name its network
   * namespace as the node's namespace of the lab; returns that name.
   */
  async create(n: TopologyNode, host: ContainerLabHost): Promise<string> {
    const c = runCommand(n)!;
    const lab = host.lab;
    if (this.labId === null) lab.onCleanup(() => this.down());
    this.labId = lab.id;
    const name = lab.ns(n.name);
    const image = this.opts.image ?? n.image;
    // The socket's directory: bound from the lab's directory (or the node's own bind of it).
    const runInside = posix.dirname(c.config.socket);
    const own = n.binds.some((b) => b.container === runInside);
    const runDir = own ? host.hostPath(n, runInside) : join(lab.dir, `${n.name}.run`);
    mkdirSync(runDir, { recursive: true });
    const volumes = n.binds.flatMap((b) => {
      const p = host.hostPath(n, b.container);
      // Bind sources that do not exist are made as directories, as docker does.
      if (!existsSync(p)) mkdirSync(p, { recursive: true });
      return ['-v', `${p}:${b.container}${b.readOnly ? ':ro' : ''}`];
    });
    if (!own) volumes.push('-v', `${runDir}:${runInside}`);
    // Labels as containerlab sets them (and each also in the environment as CLAB_LABEL_…).
    const labels: Record<string, string> = { containerlab: host.topology.name, 'clab-node-name': n.name, 'clab-node-kind': 'linux', 'clab-topo-file': host.topology.file, ...n.labels };
    const labelArgs = Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`, '-e', `CLAB_LABEL_${k.toUpperCase().replace(/[^A-Z0-9]/g, '_')}=${v}`]);
    // An Ethernet port wants IPv6 and kernel forwarding off on its interface,
    // which the daemon cannot write in a container (/proc/sys is read-only
    // there): set as the namespace's defaults, the links moved in later get them.
    const sysctls = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1', 'net.ipv4.conf.default.forwarding=0'].flatMap((s) => ['--sysctl', s]);
    // A container of this name left by an earlier testbed of the same name.
    await docker(['rm', '-f', name]).catch(() => undefined);
    await docker(['run', '-d', '--name', name, '--hostname', n.name, '--network', 'none', '--cap-add', 'NET_ADMIN', '--device', '/dev/net/tun', ...sysctls,
      '--label', `${LAB_LABEL}=${lab.id}`, ...labelArgs, '-e', `CLAB_INTFS=${n.interfaces.length}`, ...volumes,
      image, 'run', ...c.args, '--log-file', posix.join(runInside, `${n.name}.log`)], 120_000);
    const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', name])).stdout.trim());
    if (!pid) throw new Error(`container ${name} (${image}) is not running: ${await containerLogs(name)}`);
    this.started.set(n.name, { container: name, pid, image, runDir, runInside });
    return lab.attachNamespace(n.name, pid);
  }

  /** The router of a started container, once its API answers. */
  async router(n: TopologyNode, host: ContainerLabHost): Promise<ContainerRouter> {
    const c = runCommand(n)!;
    const s = this.started.get(n.name)!;
    const r = new ContainerRouter(host.lab, n.name, host.lab.ns(n.name), c.configFile,
      join(s.runDir, posix.basename(c.config.socket)), join(s.runDir, `${n.name}.log`), s.container, s.image, s.pid);
    await r.start();
    return r;
  }

  /** The container's name, for `docker exec`. */
  container(node: string): string | undefined {
    return this.started.get(node)?.container;
  }

  /** Remove every container of the lab (also one whose start failed halfway). */
  async down(): Promise<void> {
    if (this.labId) await removeLabContainers(this.labId);
    this.started.clear();
  }
}

async function containerLogs(name: string): Promise<string> {
  const r = await docker(['logs', '--tail', '6', name]).catch(() => null);
  return r ? `${r.stdout}${r.stderr}`.trim().split('\n').join(' | ') : '';
}

/** A tunroute router in a container: its API through the bound socket, its events through the bound log. */
export class ContainerRouter extends RouterProcess {
  private stopped = false;

  constructor(lab: Lab, name: string, netns: string, configFile: string, socket: string, logFile: string,
    readonly container: string, readonly image: string, private readonly daemonPid: number) {
    super(lab, name, netns, configFile, socket, logFile);
  }

  /** The container's PID 1: the entry point, which execs the daemon. */
  override pid(): number | undefined {
    return this.stopped ? undefined : this.daemonPid;
  }

  /** Wait for the daemon the container started (the container runs from `create` on). */
  override async start(timeoutMs = 30_000): Promise<void> {
    await waitFor(`router ${this.name}'s API (container ${this.container})`, async () => {
      if (!existsSync(`/proc/${this.daemonPid}`)) throw new FatalError(`container ${this.container} of router ${this.name} exited: ${await containerLogs(this.container)}`);
      return this.api('GET', '/v1/router').then(() => true);
    }, timeoutMs, 50);
  }

  /** `docker stop` (SIGTERM, then SIGKILL after the timeout) or `docker kill -s SIGNAL`. */
  override async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    if (signal === 'SIGTERM') await docker(['stop', '-t', String(Math.ceil(timeoutMs / 1000)), this.container], timeoutMs + 20_000).catch(() => undefined);
    else await docker(['kill', '-s', signal, this.container]).catch(() => undefined);
  }

  /** Run a command in the container (`docker exec`). */
  exec(args: string[], timeoutMs = 15_000) {
    return docker(['exec', this.container, ...args], timeoutMs);
  }
}
