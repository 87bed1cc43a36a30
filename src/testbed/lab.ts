// A namespace testbed: hosts and routers as network namespaces, host ports
// and router–router links as persistent TUN devices, tunroute daemons as
// child processes. Everything a lab makes carries its unique id and is
// removed by cleanup() — also after a failure, and for labs left behind by a
// process that died (their id names the dead owner's pid).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call } from '../api/client.js';
import { readJsonLines } from './json-lines.js';
import { ip, inNetns, run, sleep, waitFor, within } from './shell.js';

const TUNROUTE_BIN = new URL('../../../bin/tunroute.js', import.meta.url).pathname;
/** Namespace names look like `tr-<owner pid base36>-<random>-<role>`. */
const LAB_PREFIX = 'tr-';
/** Where persistent labs (`testbed up`) keep their state and files. */
export const PERSISTENT_DIR = '/run/tunroute/testbeds';

/** The id (namespace prefix) of the persistent lab NAME. */
export function persistentLabId(name: string): string {
  return `trtb-${name}`;
}

export interface LogEvent {
  time: number;
  event?: string;
  msg?: string;
  [k: string]: unknown;
}

function isEvent(e: LogEvent, event: string, fields: Record<string, unknown>, since: number): boolean {
  if (e.event !== event || e.time < since) return false;
  for (const k in fields) if (e[k] !== fields[k]) return false;
  return true;
}

export class RouterProcess {
  proc: ChildProcess | undefined;
  constructor(
    readonly lab: Lab,
    readonly name: string,
    readonly netns: string,
    readonly configFile: string,
    readonly socket: string,
    readonly logFile: string,
    /** A command the daemon runs under (e.g. `setpriv …` to drop a capability); none by default. */
    readonly under: readonly string[] = [],
  ) {}

  /** Call the daemon's API. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    return call<T>(this.socket, method, path, body);
  }

  /** The daemon's process id on this machine (for its costs), while it runs. */
  pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Run the tunroute CLI against this daemon; resolves with stdout, rejects on a non-zero exit. */
  async cli(...args: string[]): Promise<string> {
    return (await run(process.execPath, [TUNROUTE_BIN, '--socket', this.socket, ...args])).stdout;
  }

  /** Every JSON line the daemon has logged so far. */
  events(): LogEvent[] {
    return readJsonLines<LogEvent>(this.logFile);
  }

  /** The first log line of `event` with these field values, at or after `since` (ms since the epoch), or undefined. */
  firstEvent(event: string, fields: Record<string, unknown> = {}, since = 0): LogEvent | undefined {
    return this.events().find((e) => isEvent(e, event, fields, since));
  }

  /** The last such line, or undefined. */
  lastEvent(event: string, fields: Record<string, unknown> = {}, since = 0): LogEvent | undefined {
    return this.events().filter((e) => isEvent(e, event, fields, since)).at(-1);
  }

  async start(timeoutMs = 10_000): Promise<void> {
    const [cmd, ...args] = [...this.under, process.execPath, TUNROUTE_BIN, 'run', '--config', this.configFile, '--log-file', this.logFile, '--socket', this.socket];
    const proc = this.lab.spawnIn(this.netns, cmd!, args, { stderr: `${this.logFile}.stderr` });
    this.proc = proc;
    const exited = new Promise<never>((_, reject) => {
      proc.once('exit', (code, sig) => reject(new Error(`router ${this.name} exited (${sig ?? `status ${code}`}): ${readTail(`${this.logFile}.stderr`)}`)));
    });
    exited.catch(() => undefined);
    await Promise.race([exited, waitFor(`router ${this.name} API`, () => this.api('GET', '/v1/router').then(() => true), timeoutMs, 25)]);
  }

  /** Stop with SIGTERM (graceful) or SIGKILL (a crash, for fail-over tests). */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    // `ip netns exec` execs the daemon, so the child pid is the daemon itself.
    p.kill(signal);
    await within(done, timeoutMs, undefined);
    if (p.exitCode === null && p.signalCode === null) {
      p.kill('SIGKILL');
      await done;
    }
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter((l) => l.trim()).slice(-4).join(' | ');
  } catch {
    return '';
  }
}

export class Lab {
  readonly id: string;
  readonly dir: string;
  /** Short label that makes device names unique to this lab. */
  private readonly short: string;
  private readonly namespaces: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly routers: RouterProcess[] = [];
  private wiringNs: string | undefined;
  private readonly cleanups: (() => Promise<void>)[] = [];
  private cleaned = false;

  private constructor(id: string, short: string, dir: string, readonly persistent: boolean) {
    this.id = id;
    this.short = short;
    this.dir = dir;
  }

  /** Make a lab that lives as long as this process; stale labs of dead processes are removed first. */
  static async create(tag = ''): Promise<Lab> {
    await removeStaleLabs();
    const short = Math.random().toString(36).slice(2, 6);
    const id = `${LAB_PREFIX}${process.pid.toString(36)}-${short}${tag ? `-${tag.replace(/[^a-z0-9]/gi, '').slice(0, 8)}` : ''}`;
    const lab = new Lab(id, short, mkdtempSync(join(tmpdir(), `${id}-`)), false);
    LIVE.add(lab);
    return lab;
  }

  /**
   * A lab that outlives this process (`testbed up`): its processes are
   * detached and its state is written to PERSISTENT_DIR/NAME/state.json so
   * `Lab.destroyPersistent(NAME)` can remove it later.
   */
  static async createPersistent(name: string): Promise<Lab> {
    await Lab.destroyPersistent(name);
    const dir = join(PERSISTENT_DIR, name);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const lab = new Lab(persistentLabId(name), name.slice(0, 4), dir, true);
    lab.saveState();
    return lab;
  }

  /** Remove a persistent lab: its processes, namespaces and files. True if there was one. */
  static async destroyPersistent(name: string): Promise<boolean> {
    const file = join(PERSISTENT_DIR, name, 'state.json');
    if (!existsSync(file)) return false;
    const state = JSON.parse(readFileSync(file, 'utf8')) as { namespaces: string[]; pids: number[] };
    for (const pid of state.pids) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    await sleep(300);
    for (const ns of [...state.namespaces].reverse()) await removeNamespace(ns);
    rmSync(join(PERSISTENT_DIR, name), { recursive: true, force: true });
    return true;
  }

  private saveState(): void {
    if (!this.persistent) return;
    const pids = [...this.children].map((c) => c.pid).filter((p): p is number => p !== undefined);
    writeFileSync(join(this.dir, 'state.json'), JSON.stringify({ id: this.id, namespaces: this.namespaces, pids }, null, 2));
  }

  /** Full netns name of a role in this lab. */
  ns(role: string): string {
    return `${this.id}-${role}`;
  }

  /** A short, lab-unique TUN device name (Linux allows 15 bytes). */
  dev(label: string): string {
    const name = `${this.short}${label}`;
    if (name.length > 15) throw new Error(`device label "${label}" too long`);
    return name;
  }

  async addNamespace(role: string): Promise<string> {
    const ns = this.ns(role);
    await ip('netns', 'add', ns);
    this.namespaces.push(ns);
    this.saveState();
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    // Hosts speak IPv4 only: no IPv6 router solicitations or MLD on the ports.
    await inNetns(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /**
   * Name the network namespace of a running process (a container's) as a
   * namespace of this lab, so `ip -n` and `ip netns exec` reach it and
   * cleanup removes the name (which would otherwise keep the namespace, and
   * the links in it, alive after the process).
   */
  async attachNamespace(role: string, pid: number): Promise<string> {
    const ns = this.ns(role);
    await ip('netns', 'attach', ns, String(pid));
    this.namespaces.push(ns);
    this.saveState();
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    await inNetns(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
    return ns;
  }

  /**
   * A host's NIC that is a router port: a persistent TUN in the host's
   * namespace with the host's address and a default route via the router.
   * The daemon attaches to it by name; the host's set-up survives restarts.
   */
  async hostPort(hostNs: string, device: string, hostAddress: string, gateway?: string, mtu = 1500): Promise<void> {
    await ip('-n', hostNs, 'tuntap', 'add', 'dev', device, 'mode', 'tun', ...this.tunFlags());
    await ip('-n', hostNs, 'link', 'set', device, 'mtu', String(mtu), 'up');
    await ip('-n', hostNs, 'addr', 'add', hostAddress, 'dev', device);
    if (gateway) await ip('-n', hostNs, 'route', 'add', 'default', 'via', gateway, 'dev', device);
  }

  /**
   * A host's NIC that is an Ethernet router port: a veth pair whose host end
   * (in hostNs) gets the host's address and a default route via the router,
   * and whose router end (in routerNs) stays down and bare — the router's
   * Ethernet device takes it (no address, no kernel ARP or IPv6 on it).
   */
  async ethernetHostPort(hostNs: string, hostDev: string, routerNs: string, routerDev: string,
    hostAddress: string, gateway?: string, mtu = 1500): Promise<void> {
    await ip('link', 'add', 'name', hostDev, 'netns', hostNs, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', routerDev, 'netns', routerNs, 'mtu', String(mtu));
    await ip('-n', hostNs, 'addr', 'add', hostAddress, 'dev', hostDev);
    await ip('-n', hostNs, 'link', 'set', hostDev, 'up');
    if (gateway) await ip('-n', hostNs, 'route', 'add', 'default', 'via', gateway, 'dev', hostDev);
  }

  /** TUNs the lab makes from now on are multi-queue: a router with forwarding workers opens one queue per worker. */
  multiQueueTuns = false;

  private tunFlags(): string[] {
    return this.multiQueueTuns ? ['multi_queue'] : [];
  }

  /** The namespace where router–router links are joined (made on first use). */
  async wiring(): Promise<string> {
    this.wiringNs ??= await this.addNamespace('wire');
    return this.wiringNs;
  }

  /**
   * A router–router link: two persistent TUNs in the wiring namespace joined
   * by tc (u32 match-all + mirred redirect, both ways), so what one daemon
   * writes the other reads, unchanged.
   */
  async link(devA: string, devB: string, mtu = 1500): Promise<string> {
    const w = await this.wiring();
    for (const d of [devA, devB]) {
      await ip('-n', w, 'tuntap', 'add', 'dev', d, 'mode', 'tun', ...this.tunFlags());
      await ip('-n', w, 'link', 'set', d, 'mtu', String(mtu), 'up');
    }
    await this.join(w, devA, devB);
    return w;
  }

  /** Join two existing devices of namespace `ns` by tc (u32 match-all + mirred redirect, both ways). */
  async join(ns: string, devA: string, devB: string): Promise<void> {
    for (const [from, to] of [[devA, devB], [devB, devA]] as const) {
      await inNetns(ns, 'tc', ['qdisc', 'add', 'dev', from, 'ingress']);
      await inNetns(ns, 'tc', ['filter', 'add', 'dev', from, 'ingress', 'protocol', 'all', 'u32', 'match', 'u32', '0', '0', 'action', 'mirred', 'egress', 'redirect', 'dev', to]);
    }
  }

  /** Write a router config and start its daemon inside its own namespace (under `opts.under`, a command prefix, if given). */
  async startRouter(name: string, config: Record<string, unknown>, opts: { under?: string[] } = {}): Promise<RouterProcess> {
    const ns = this.namespaces.includes(this.ns(name)) ? this.ns(name) : await this.addNamespace(name);
    const configFile = join(this.dir, `${name}.json`);
    writeFileSync(configFile, JSON.stringify({ router: `${this.id}-${name}`, ...config }, null, 2));
    const r = new RouterProcess(this, name, ns, configFile, join(this.dir, `${name}.sock`), join(this.dir, `${name}.log`), opts.under);
    this.routers.push(r);
    await r.start();
    return r;
  }

  /**
   * Start a long-running command inside a namespace; it is killed at cleanup
   * (or, in a persistent lab, by destroyPersistent). Output goes to files.
   */
  spawnIn(ns: string, cmd: string, args: string[], opts: { stdout?: string; stderr?: string } = {}): ChildProcess {
    const out = opts.stdout ? openSync(opts.stdout, 'a') : 'ignore';
    const err = openSync(opts.stderr ?? join(this.dir, `${ns.slice(this.id.length + 1)}-${cmd.split('/').pop()}-${Date.now()}.stderr`), 'a');
    // `ip netns exec` execs the command: the child's pid is the command itself.
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', out, err], detached: this.persistent });
    if (typeof out === 'number') closeSync(out);
    closeSync(err);
    this.track(child);
    if (this.persistent) child.unref();
    this.saveState();
    return child;
  }

  /** Run tunroute's CLI (any subcommand) as a child process inside a namespace. */
  spawnTunroute(ns: string, args: string[], opts: { stdout?: string; stderr?: string } = {}): ChildProcess {
    return this.spawnIn(ns, process.execPath, [TUNROUTE_BIN, ...args], opts);
  }

  track(child: ChildProcess): void {
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
  }

  /** Run `fn` first at cleanup (also on SIGINT/SIGTERM): for what lives outside the lab's namespaces, e.g. containers. */
  onCleanup(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Stop every process and remove every namespace; safe to call twice. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    LIVE.delete(this);
    for (const fn of this.cleanups) await fn().catch(() => undefined);
    await Promise.all(this.routers.map((r) => r.stop('SIGTERM', 2000).catch(() => undefined)));
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of [...this.namespaces].reverse()) await removeNamespace(ns);
    if (!process.env.TUNROUTE_KEEP_LAB) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Labs of this process, cleaned on SIGINT/SIGTERM as well. */
const LIVE = new Set<Lab>();
let hooked = false;
function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.all([...LIVE].map((l) => l.cleanup())).finally(() => process.exit(130));
    });
  }
}
hookSignals();

async function removeNamespace(ns: string): Promise<void> {
  // Processes left inside would keep the namespace alive after `ip netns del`.
  const pids = await ip('netns', 'pids', ns).then((r) => r.stdout.split('\n').filter(Boolean), () => []);
  for (const pid of pids) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  if (pids.length) await sleep(50);
  await ip('netns', 'del', ns).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove namespaces of labs whose owning process is gone. */
export async function removeStaleLabs(): Promise<string[]> {
  const list = await ip('netns', 'list').then((r) => r.stdout, () => '');
  const stale = list.split('\n').map((l) => l.split(' ')[0]!).filter((n) => {
    if (!n?.startsWith(LAB_PREFIX)) return false;
    const pid = parseInt(n.slice(LAB_PREFIX.length).split('-')[0]!, 36);
    return Number.isFinite(pid) && !alive(pid);
  });
  for (const ns of stale) await removeNamespace(ns);
  // Veth pairs a topology lab was wiring when its process died (temporary
  // names trv<pid>-<link><a|b>, see topology-lab.ts).
  const links = await ip('-o', 'link', 'show').then((r) => r.stdout, () => '');
  for (const m of links.matchAll(/^\d+: (trv([0-9a-z]+)-\d+[ab])@(trv\2-\d+[ab]|if\d+):/gm)) {
    const pid = parseInt(m[2]!, 36);
    if (Number.isFinite(pid) && !alive(pid)) await ip('link', 'del', m[1]!).catch(() => undefined);
  }
  return stale;
}
