// A lab built from a containerlab topology (./topology/), here, without
// containers: one network namespace per node, each link a veth pair wired as
// containerlab wires it (made under temporary names, transmit offload off,
// each end moved into its node's namespace and renamed to the endpoint's
// interface name), the nodes' sysctls and exec lines run inside their
// namespaces, then each node's software started: FRR and BIRD with their
// own config files, tunroute routers with theirs, and tunroute's serve,
// fleet and probe. Binds are emulated by translating paths: a path inside a
// "container" is the bound host path, or else a private directory of the
// node in the lab's directory.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Bird } from './bird.js';
import { ContainerNodes, type ContainerOptions } from './container-nodes.js';
import { Frr } from './frr.js';
import { Lab, type RouterProcess } from './lab.js';
import { inNetns, ip, run, settleAll, waitFor } from './shell.js';
import { hostPathOf, LAB_DIR_VAR, NODE_DIR_VAR, type Topology, type TopologyNode } from './topology/index.js';

/** Options of tunroute's host commands whose values are files (paths inside the container). */
const PATH_OPTIONS = ['--log', '--settings', '--out'];

export interface TopologyLabOptions {
  /** Keep running after this process exits (`testbed up --topology`). */
  persistentName?: string;
  log?: (line: string) => void;
  /** Arm the cut-over trigger for this mode instead of the settings' own (a rehearsal of either mode). */
  cutover?: 'block' | 'drain';
  /** Container mode: tunroute routers as containers of the image (container-nodes.ts). */
  containers?: ContainerOptions;
}

export interface NodeState {
  ns: string;
  role: string;
  /** What was started there, for `status`. */
  runs: string;
  socket?: string;
}

export class TopologyLab {
  readonly routers = new Map<string, RouterProcess>();
  readonly frr = new Map<string, Frr>();
  readonly bird = new Map<string, Bird>();
  readonly processes = new Map<string, ChildProcess>();
  readonly state: Record<string, NodeState> = {};

  private constructor(readonly lab: Lab, readonly topology: Topology, private readonly cutoverMode?: 'block' | 'drain',
    /** Container mode's nodes, or null (every node a namespace). */
    readonly containers: ContainerNodes | null = null) {}

  /** Build the lab and start everything; on a failure everything made so far is removed. */
  static async up(topology: Topology, opts: TopologyLabOptions = {}): Promise<TopologyLab> {
    const containers = opts.containers ? await ContainerNodes.prepare(topology.nodes.values(), opts.containers, opts.log ?? (() => undefined)) : null;
    const lab = opts.persistentName ? await Lab.createPersistent(opts.persistentName) : await Lab.create('topo');
    const tl = new TopologyLab(lab, topology, opts.cutover, containers);
    try {
      await tl.build(opts.log ?? (() => undefined));
      return tl;
    } catch (e) {
      await containers?.down();
      if (opts.persistentName) await Lab.destroyPersistent(opts.persistentName);
      else await lab.cleanup();
      throw e;
    }
  }

  /** Stop everything and remove every namespace (also the veths inside them). */
  async down(): Promise<void> {
    await this.containers?.down();
    if (this.lab.persistent) await Lab.destroyPersistent(this.lab.dir.split('/').pop()!);
    else await this.lab.cleanup();
  }

  /** The namespace of a node. */
  ns(node: string): string {
    return this.lab.ns(node);
  }

  /** Where a path inside a node's "container" is on this machine. */
  hostPath(node: TopologyNode, containerPath: string): string {
    const bound = hostPathOf(node.binds, containerPath);
    if (bound === null) return join(this.lab.dir, `${node.name}.fs`, containerPath);
    if (bound.startsWith(NODE_DIR_VAR)) return join(this.lab.dir, node.name, bound.slice(NODE_DIR_VAR.length));
    if (bound.startsWith(LAB_DIR_VAR)) return join(this.lab.dir, bound.slice(LAB_DIR_VAR.length));
    return bound;
  }

  private where(node: TopologyNode, field: string, line = node.line): string {
    return `${this.topology.file}:${line}: topology.nodes.${node.name}${field ? `.${field}` : ''}`;
  }

  private async build(log: (line: string) => void): Promise<void> {
    const t = this.topology;
    const nodes = [...t.nodes.values()];
    log(this.containers ? `${nodes.filter((n) => this.containers!.runs(n)).length} containers, ${nodes.filter((n) => !this.containers!.runs(n)).length} namespaces` : `${nodes.length} namespaces`);
    for (const n of nodes) {
      // Container mode: the container's own namespace, named like the others.
      const ns = this.containers?.runs(n) ? await this.containers.create(n, this) : await this.lab.addNamespace(n.name);
      this.state[n.name] = { ns, role: n.role, runs: '' };
      for (const [k, v] of Object.entries(n.sysctls)) await inNetns(ns, 'sysctl', ['-qw', `${k}=${v}`]);
      // Bind sources that do not exist are made as directories, as docker does.
      for (const b of n.binds) {
        const p = this.hostPath(n, b.container);
        if (!existsSync(p)) mkdirSync(p, { recursive: true });
      }
    }

    log(`${t.links.length} links`);
    for (const [i, l] of t.links.entries()) await this.wire(i, l);

    for (const n of nodes) {
      for (const e of n.exec) {
        const r = await inNetns(this.ns(n.name), e.argv[0]!, e.argv.slice(1), { allowFail: true, timeoutMs: 10_000 });
        if (r.code !== 0) throw new Error(`${t.file}:${e.line}: ${e.field}: "${e.argv.join(' ')}" failed: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
      }
    }

    // Routing software first, then the servers, then the pollers; the nodes of
    // each group side by side (each mostly waits for its daemon to come up).
    const order = (n: TopologyNode): number => (n.frr || n.bird || n.tunroute?.kind === 'run' ? 0 : n.tunroute?.kind === 'serve' ? 1 : 2);
    for (const group of [0, 1, 2]) {
      const starting = nodes.filter((n) => order(n) === group);
      for (const n of starting) if (n.frr || n.bird || n.tunroute) log(`starting ${n.name}`);
      await settleAll(starting.map((n) => this.start(n)));
    }
    if (t.migration?.trigger || this.cutoverMode) await this.armTrigger();
    writeFileSync(join(this.lab.dir, 'topology.json'), JSON.stringify({ file: t.file, name: t.name, nodes: this.state }, null, 2));
  }

  /** One link as containerlab makes it. */
  private async wire(i: number, l: Topology['links'][number]): Promise<void> {
    // Temporary names, unique on this machine while this process lives (and
    // removed by the next lab if this process dies halfway: lab.ts).
    const tmp = [`trv${process.pid.toString(36)}-${i}a`, `trv${process.pid.toString(36)}-${i}b`];
    const where = `${this.topology.file}:${l.line}: topology.links[${i}]`;
    await ip('link', 'add', tmp[0]!, 'mtu', String(l.mtu), 'type', 'veth', 'peer', 'name', tmp[1]!, 'mtu', String(l.mtu))
      .catch((e: Error) => { throw new Error(`${where}: cannot make the veth pair: ${e.message}`); });
    try {
      for (const [j, end] of [l.a, l.b].entries()) {
        const ns = this.ns(end.node);
        // Checksums filled in by the sender: a program reading the interface raw sees them right.
        await run('ethtool', ['-K', tmp[j]!, 'tx', 'off'], { allowFail: true });
        await ip('link', 'set', tmp[j]!, 'netns', ns);
        await ip('-n', ns, 'link', 'set', tmp[j]!, 'name', end.interface);
        if (end.mac) await ip('-n', ns, 'link', 'set', end.interface, 'address', end.mac);
        await ip('-n', ns, 'link', 'set', end.interface, 'up');
      }
    } catch (e) {
      for (const d of tmp) await ip('link', 'del', d).catch(() => undefined);
      throw new Error(`${where}: ${(e as Error).message}`, { cause: e });
    }
  }

  private async start(n: TopologyNode): Promise<void> {
    const ns = this.ns(n.name);
    const st = this.state[n.name]!;
    if (n.frr) {
      this.frr.set(n.name, await Frr.startIntegrated(this.lab, ns, n.frr.daemons, n.frr.configFile, `${n.name}.frr`));
      st.runs = `FRR (${n.frr.daemons.join(', ')})`;
      st.socket = join(this.lab.dir, `${n.name}.frr`);
    } else if (n.bird) {
      this.bird.set(n.name, await Bird.startFile(this.lab, ns, n.bird.configFile, `${n.name}.bird`));
      st.runs = 'BIRD';
      st.socket = join(this.lab.dir, `${n.name}.bird.ctl`);
    } else if (n.tunroute?.kind === 'run' && this.containers?.runs(n)) {
      // Container mode: the container runs since its namespace was made; wait for its daemon.
      const r = await this.containers.router(n, this);
      this.routers.set(n.name, r);
      st.runs = `container ${r.container} (${r.image}): tunroute run (${n.tunroute.config.router})`;
      st.socket = r.socket;
    } else if (n.tunroute?.kind === 'run') {
      const c = n.tunroute;
      // The config as the container would see it, with its files where this machine has them.
      const config = structuredClone(c.raw) as { ports?: Record<string, unknown>[]; triggers?: { file?: string }[] };
      for (const tr of config.triggers ?? []) if (tr.file) tr.file = this.hostPath(n, tr.file);
      const r = await this.lab.startRouter(n.name, config as Record<string, unknown>);
      this.routers.set(n.name, r);
      st.runs = `tunroute run (${c.config.router})`;
      st.socket = r.socket;
    } else if (n.tunroute) {
      const args = this.translatePaths(n, n.tunroute.args);
      const out = join(this.lab.dir, `${n.name}.out`);
      const err = join(this.lab.dir, `${n.name}.err`);
      const child = this.lab.spawnTunroute(ns, [n.tunroute.kind, ...args], { stdout: out, stderr: err });
      this.processes.set(n.name, child);
      st.runs = `tunroute ${n.tunroute.kind}`;
      const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`${this.where(n, 'cmd', n.cmdLine ?? n.line)}: tunroute ${n.tunroute!.kind} exited (status ${code}): ${tail(err)}`))));
      exited.catch(() => undefined);
      // A server is ready when it says it listens; a poller when it has not failed at once.
      const ready = n.tunroute.kind === 'serve'
        ? waitFor(`${n.name} listening`, () => existsSync(out) && readFileSync(out, 'utf8').includes('listening'), 15_000, 50)
        : new Promise((r) => setTimeout(r, 300));
      await Promise.race([ready, exited]);
    }
  }

  /** A host command's file options (`--log FILE`, `--out=FILE`) with this machine's paths; their directories made. */
  private translatePaths(n: TopologyNode, args: string[]): string[] {
    const host = (p: string): string => {
      const h = this.hostPath(n, p);
      mkdirSync(dirname(h), { recursive: true });
      return h;
    };
    return args.map((a, i) => {
      const eq = /^(--[a-z-]+)=(.*)$/.exec(a);
      if (eq && PATH_OPTIONS.includes(eq[1]!)) return `${eq[1]}=${host(eq[2]!)}`;
      return PATH_OPTIONS.includes(args[i - 1] ?? '') ? host(a) : a;
    });
  }

  /** The migration's cut-over trigger, on the router its mode names, following server `to`'s access log. */
  private async armTrigger(): Promise<void> {
    const m = this.topology.migration!;
    const mode = this.cutoverMode ?? m.cutover.mode;
    const place = m.cutover[mode];
    if (!place) throw new Error(`${m.file}: cutover.${mode} is not set: say where the ${mode} acts ({ router, port })`);
    const router = this.routers.get(place.router)!;
    const node = this.topology.nodes.get(place.router)!;
    await router.api('POST', '/v1/triggers', {
      name: 'cutover',
      // A router in a container reads the log through its own binds.
      file: this.containers?.runs(node) ? place.accessLog : this.hostPath(node, place.accessLog),
      api: false,
      match: { client: m.testAppliance.address, server: m.servers.to, status: 200 },
      action: mode,
      port: place.port,
    });
    this.state[place.router]!.runs += `; trigger armed: ${mode} port ${place.port}`;
  }
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-2).join(' | ');
  } catch {
    return '';
  }
}
