// The control thread's side of forwarding workers (`workers: N`): N
// threads, worker i reading queue i of every port (forwarding-worker.ts).
// The control thread keeps the RIB, the protocols, the API and the ports'
// administrative state; it writes the FIB (in shared memory: the workers
// see a change at their next batch), publishes port states in shared cells,
// sums the workers' counter shards, and takes what the workers hand over:
// packets for the router and ARP replies (passed on to the other workers).
// It sends on queue 0 of each port; it reads none.
//
// A reload may add and remove ports while the workers run: the shared
// per-port state (state cells, status block slots) has room for
// `capacity` ports from the start (the start's ports and
// SPARE_PORT_INDICES more; indices are never reused). An added port's
// routes stay out of the FIB (unusable: port-joining) until every worker
// has it; a removed port's queues are closed once every worker has let go
// of them (each gives its receive slots back to its own arena).
import { randomInt } from 'node:crypto';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { PortConfig, RouterConfig } from '../config/router-config.js';
import type { FlowFigures } from '../dataplane/flow-table.js';
import { mergeNatSnapshots, type NatSnapshot } from '../dataplane/nat-snapshot.js';
import type { PacketPath } from '../dataplane/packet-path.js';
import type { PacketDevice } from '../ports/device.js';
import { COUNTER_SLOTS } from '../ports/counters.js';
import { LINK_COUNTER_SLOTS } from '../ports/ethernet/link-counters.js';
import { PORT_CELL_SLOTS, type Port } from '../ports/port.js';
import type { Fib } from '../routing/fib.js';
import { queueHandle } from './port-devices.js';
import type { WorkerInit } from './forwarding-worker.js';
import {
  FLOW_CAPACITY, FLOW_EVICTED_LIVE, FLOW_INSERTED, FLOW_LIVE, FLOW_PINNED, FLOW_UNTRACKED, ICMP_RATE_LIMITED, ICMP_SENT,
  REPLIES_RATE_LIMITED, REPLIES_SENT, STATUS_HANDOFF, STATUS_TICKS,
  statusBytes, statusLive, statusOpen, statusViews, type ControlToWorker, type HandedOver, type WorkerToControl,
} from './worker-protocol.js';

/** How long stop() waits for a worker to close its readers before terminating it. */
const STOP_WAIT_MS = 2000;
/** How long a NAT snapshot waits for every worker's answer. */
const SNAPSHOT_WAIT_MS = 2000;

export interface WorkerHost {
  config: RouterConfig;
  ports: readonly Port[];
  /** Ports (indices) the shared per-port state has room for: the start's and the ones reloads may add. */
  capacity: number;
  /** Per port: its queues (queue i for worker i; queue 0 is also the port's own device). */
  queues: readonly PacketDevice[][];
  fib: Fib;
  path: PacketPath;
  log: Logger;
  readError(port: Port, errno: number): void;
  /** Every worker has the port a reload added: its routes may go into the FIB. */
  joined(port: Port): void;
  /** Something the daemon cannot run on without: it stops. */
  fatal(message: string): void;
}

/** A worker's answer about a port, awaited from `waiting.get(port)` workers: whether it is the last (the count is then gone). */
function lastAnswer(waiting: Map<number, number>, port: number): boolean {
  const left = waiting.get(port);
  if (left === undefined) return false;
  if (left > 1) waiting.set(port, left - 1);
  else waiting.delete(port);
  return left === 1;
}

export class ForwardingWorkers {
  private readonly threads: Worker[] = [];
  private readonly status: Int32Array[] = [];
  /** Each worker's drain flow table figures and ICMP and reply counts (its status block's Float64 slots). */
  private readonly figures: Float64Array[] = [];
  /** Each worker's policy hits by rule name, as its last 'policy-hits' said. */
  private readonly policyHits: Map<string, number>[] = [];
  private readonly exited: Promise<void>[] = [];
  private stopping = false;
  /** Per Ethernet port, every worker's link counter shard (a re-made link sums them again). */
  private readonly linkShards: SharedArrayBuffer[][] = [];
  /** Ports whose vanished device's queues some workers still read: how many have not let go yet. */
  private readonly detaching = new Map<number, number>();
  /** Ports a reload added that some workers do not have yet: how many. */
  private readonly adding = new Map<number, number>();
  /** Every port's state cell (PORT_CELL_SLOTS each, room for host.capacity ports). */
  private readonly cells: Int32Array;
  /** NAT snapshots asked of the workers, by request id: the answers so far. */
  private readonly snapshots = new Map<number, { answers: (NatSnapshot | null)[]; left: number; done: (answers: (NatSnapshot | null)[] | Error) => void }>();
  private nextSnapshot = 1;

  constructor(private readonly host: WorkerHost) {
    const { config, ports } = host;
    const n = config.workers;
    const cells = new Int32Array(new SharedArrayBuffer(host.capacity * PORT_CELL_SLOTS * 4));
    this.cells = cells;
    // NAT flows are owned by one worker each; one channel per pair of workers carries the packets one reads for the other.
    const peers: (MessagePort | null)[][] = Array.from({ length: n }, () => new Array<MessagePort | null>(n).fill(null));
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const { port1, port2 } = new MessageChannel();
        peers[i]![j] = port1;
        peers[j]![i] = port2;
      }
    }
    const peerCounts = new SharedArrayBuffer(2 * n * 4);
    const ownerSeed = randomInt(0x7fffffff);
    for (const p of ports) this.publishCell(p);
    for (let w = 0; w < n; w++) {
      const shards = ports.map((p) => this.newShards(p));
      const counters = shards.map((s) => s.counters);
      const linkCounters = shards.map((s) => s.linkCounters);
      const status = new SharedArrayBuffer(statusBytes(host.capacity));
      const views = statusViews(status, host.capacity);
      this.status.push(views.slots);
      // Its table is made as this thread's is: its size is known before its first tick writes it.
      views.flows[FLOW_CAPACITY] = host.path.flows.capacity;
      this.figures.push(views.flows);
      const fib = host.fib.share();
      const init: WorkerInit = {
        index: w, config, fib, cells: cells.buffer as SharedArrayBuffer, capacity: host.capacity, counters, linkCounters, status,
        queues: host.queues.map((q) => queueHandle(q[w]!)),
        peers: peers[w]!, peerCounts, ownerSeed,
      };
      const channels = peers[w]!.filter((p): p is MessagePort => p !== null);
      const t = new Worker(new URL('./forwarding-worker.js', import.meta.url), { workerData: init, transferList: [fib.lpm.port, ...channels] });
      t.on('message', (m: WorkerToControl) => this.message(w, m));
      t.on('error', (e) => host.log.error({ event: 'worker.error', worker: w, err: e.message }, `forwarding worker ${w}: ${e.message}`));
      this.exited.push(new Promise((resolve) => t.once('exit', (code) => {
        if (!this.stopping) {
          host.log.error({ event: 'worker.exit', worker: w, code }, `forwarding worker ${w} exited (${code})`);
          // Its queues are read by nobody now: stop the daemon rather than black-hole their flows.
          host.fatal(`forwarding worker ${w} exited (${code}); see the log`);
        }
        resolve();
      })));
      this.threads.push(t);
    }
    host.path.onPolicy = (rules) => this.broadcast({ type: 'policy', rules });
    host.path.onSettings = (settings) => this.broadcast({ type: 'settings', settings });
    host.path.onVirtualServices = (services) => this.broadcast({ type: 'services', services });
    host.log.info({ event: 'workers.started', workers: n }, `${n} forwarding worker${n === 1 ? '' : 's'}`);
  }

  get count(): number {
    return this.threads.length;
  }

  /**
   * The port's device vanished: every worker stops reading its queue; once
   * all have, the queues are closed (a re-created Ethernet interface's new
   * sockets cannot join a fanout group the old ones still hold).
   */
  detach(port: number): void {
    // (Added to what an earlier detach still waits for: a port whose device vanished, then removed.)
    this.detaching.set(port, (this.detaching.get(port) ?? 0) + this.threads.length);
    this.broadcast({ type: 'detach', port });
  }

  /** Whether the port's old queues are closed (a reattach may open new ones). */
  detached(port: number): boolean {
    return !this.detaching.has(port);
  }

  /** The port's device is back on `queues`: worker i takes queue i; the port's new link sums the workers' again. */
  adopt(port: Port, queues: readonly PacketDevice[]): void {
    for (const shard of this.linkShards[port.index] ?? []) port.link?.counters.addShard(new Float64Array(shard));
    for (let w = 0; w < this.threads.length; w++) this.post(w, { type: 'adopt', port: port.index, queue: queueHandle(queues[w]!) });
  }

  /**
   * A reload added `port` (the next index; its cell still free): its cell
   * is published, each worker gets its queue of it (or, with `takeover`, the
   * device of that leaving port, which the new port takes over) and new
   * counter shards, which the port's counters (and its link's) sum from
   * now on. Messages to a worker arrive in order: what the reload sends
   * after this (policy, settings) finds the port there. joined() once every
   * worker has it.
   */
  addPort(port: Port, config: PortConfig, queues: readonly PacketDevice[], takeover: Port | null): void {
    if (port.index >= this.host.capacity) throw new Error(`port ${port.name}: index ${port.index}, room for ${this.host.capacity}`);
    this.publishCell(port);
    this.adding.set(port.index, this.threads.length);
    for (let w = 0; w < this.threads.length; w++) {
      const { counters, linkCounters } = this.newShards(port);
      const queue = takeover ? null : queueHandle(queues[w]!);
      this.post(w, { type: 'add-port', port: port.index, config, queue, takeover: takeover?.index ?? -1, counters, linkCounters });
    }
  }

  /** The port's state cell in shared memory: the workers follow it. */
  private publishCell(port: Port): void {
    port.publishTo(this.cells.subarray(port.index * PORT_CELL_SLOTS, (port.index + 1) * PORT_CELL_SLOTS));
  }

  /** One worker's counter shard of the port (and of its link), which the port's counters sum from now on. */
  private newShards(port: Port): { counters: SharedArrayBuffer; linkCounters: SharedArrayBuffer | null } {
    const counters = new SharedArrayBuffer(COUNTER_SLOTS * 8);
    port.counters.addShard(new Float64Array(counters));
    if (!port.link) return { counters, linkCounters: null };
    const linkCounters = new SharedArrayBuffer(LINK_COUNTER_SLOTS * 8);
    port.link.counters.addShard(new Float64Array(linkCounters));
    (this.linkShards[port.index] ??= []).push(linkCounters);
    return { counters, linkCounters };
  }

  /** Whether some worker does not have the port a reload added yet. */
  joining(port: number): boolean {
    return this.adding.has(port);
  }

  /** A reload is taking these ports out: in the workers too their names find the new ports now. */
  retire(ports: readonly number[]): void {
    if (ports.length > 0) this.broadcast({ type: 'retire', ports: [...ports] });
  }

  /**
   * A reload removed the port: every worker stops reading it and sending on
   * it; once all have, its queues are closed (unless a new port took its
   * device over).
   */
  removePort(port: number): void {
    this.adding.delete(port);
    this.detaching.set(port, (this.detaching.get(port) ?? 0) + this.threads.length);
    this.broadcast({ type: 'remove-port', port });
  }

  /** Every worker runs its timers now (then every 5 ms while a port drains). */
  tickNow(): void {
    this.broadcast({ type: 'tick' });
  }

  /** Timer ticks each worker has run (a drain reads live flows only after fresh ones). */
  ticks(): number[] {
    return this.status.map((s) => Atomics.load(s, STATUS_TICKS));
  }

  /** Live flows the workers pin to a draining port. */
  liveFlowsOn(port: number): number {
    return this.sum(statusLive(port));
  }

  /** TCP connections opened from a draining port's side that are still open in the workers. */
  openConnectionsFrom(port: number): number {
    return this.sum(statusOpen(port));
  }

  /**
   * The workers' drain flow tables' figures summed, as of their last ticks
   * (every 50 ms; the live flows at most a second old).
   */
  flowFigures(): FlowFigures {
    const sum = (slot: number) => this.figureSum(slot);
    return {
      pinned: sum(FLOW_PINNED), capacity: sum(FLOW_CAPACITY), live: sum(FLOW_LIVE),
      inserted: sum(FLOW_INSERTED), evictedLive: sum(FLOW_EVICTED_LIVE), untracked: sum(FLOW_UNTRACKED),
    };
  }

  /** The workers' ICMP errors and answers as a host, sent and rate-limited, as of their last ticks. */
  replyFigures(): { icmpSent: number; icmpRateLimited: number; repliesSent: number; repliesRateLimited: number } {
    const sum = (slot: number) => this.figureSum(slot);
    return { icmpSent: sum(ICMP_SENT), icmpRateLimited: sum(ICMP_RATE_LIMITED), repliesSent: sum(REPLIES_SENT), repliesRateLimited: sum(REPLIES_RATE_LIMITED) };
  }

  /** One Float64 figure of the status blocks, summed over the workers. */
  private figureSum(slot: number): number {
    return this.figures.reduce((n, f) => n + f[slot]!, 0);
  }

  /** Packets the workers steered by the policy rule `name`, as of their last ticks. */
  policyHitsOf(name: string): number {
    return this.policyHits.reduce((n, m) => n + (m?.get(name) ?? 0), 0);
  }

  /**
   * The workers' NAT (each runs it on the flows it owns), merged: counters
   * and per-backend figures summed, the `limit` most recently used flows
   * of all. Null without virtual services. Rejects if a worker does not
   * answer within SNAPSHOT_WAIT_MS.
   */
  natSnapshot(limit: number): Promise<NatSnapshot | null> {
    const id = this.nextSnapshot++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.snapshots.delete(id);
        reject(new Error(`NAT figures: a forwarding worker did not answer within ${SNAPSHOT_WAIT_MS} ms`));
      }, SNAPSHOT_WAIT_MS);
      this.snapshots.set(id, {
        answers: [], left: this.threads.length,
        done: (answers) => {
          clearTimeout(timer);
          if (answers instanceof Error) reject(answers);
          else resolve(mergeNatSnapshots(answers.filter((a): a is NatSnapshot => a !== null), limit));
        },
      });
      this.broadcast({ type: 'nat-snapshot', id, limit });
    });
  }

  /** One status slot summed over the workers. */
  private sum(slot: number): number {
    return this.status.reduce((n, s) => n + Atomics.load(s, slot), 0);
  }

  private message(from: number, m: WorkerToControl): void {
    const { path, ports } = this.host;
    switch (m.type) {
      case 'local': {
        for (const p of m.packets) {
          const port = ports[p.port];
          if (!port) continue;
          const drop = path.deliverHandedOver(port, p.bytes);
          if (drop >= 0) port.counters.drop(drop);
        }
        path.output.flushAll();
        Atomics.sub(this.status[from]!, STATUS_HANDOFF, m.packets.length);
        break;
      }
      case 'arp':
        this.learnArp(m.frames);
        for (let w = 0; w < this.threads.length; w++) if (w !== from) this.post(w, { type: 'arp', frames: m.frames });
        break;
      case 'detached': {
        if (!lastAnswer(this.detaching, m.port)) break;
        const queues = this.host.queues[m.port] ?? [];
        // A removed port whose device a new port took over (a changed port): its queues stay open for that one.
        if (ports.some((p) => p.index !== m.port && !p.removed && this.host.queues[p.index] === queues)) break;
        for (const q of queues) q.close();
        break;
      }
      case 'added': {
        if (!lastAnswer(this.adding, m.port)) break;
        const port = ports[m.port];
        if (port && !port.removed) this.host.joined(port);
        break;
      }
      case 'nat-snapshot': {
        const ask = this.snapshots.get(m.id);
        if (!ask) break;
        ask.answers.push(m.snapshot);
        if (--ask.left === 0) {
          this.snapshots.delete(m.id);
          ask.done(ask.answers);
        }
        break;
      }
      case 'policy-hits':
        this.policyHits[from] = new Map(m.hits);
        break;
      case 'priority':
        if (m.error === null) this.host.log.info({ event: 'worker.priority', worker: from, nice: m.nice }, `forwarding worker ${from} runs at nice ${m.nice}`);
        else this.host.log.warn({ event: 'worker.priority', worker: from, nice: m.nice, error: m.error }, `forwarding worker ${from} stays at nice ${m.nice} (workerNice): ${m.error}`);
        break;
      case 'failed':
        this.host.log.error({ event: 'worker.failed', worker: from, error: m.error }, `forwarding worker ${from} failed: ${m.error.split('\n')[0]}`);
        break;
      case 'read-error': {
        const port = ports[m.port];
        if (port) this.host.readError(port, m.errno);
        break;
      }
    }
  }

  /** ARP replies a worker read: the control thread's link learns from them too. */
  private learnArp(frames: HandedOver[]): void {
    const { path, ports } = this.host;
    path.clock.tick();
    for (const f of frames) {
      const port = ports[f.port];
      const link = port?.link;
      if (!link || port.removed) continue;
      const off = path.output.scratch(f.bytes.length);
      path.arena.bytes.set(f.bytes, off);
      link.receive(off, f.bytes.length, true);
    }
    path.output.flushAll();
  }

  private broadcast(m: ControlToWorker): void {
    for (let w = 0; w < this.threads.length; w++) this.post(w, m);
  }

  private post(w: number, m: ControlToWorker): void {
    this.threads[w]!.postMessage(m);
  }

  /**
   * Each worker stops reading and leaves (terminated if it does not within
   * STOP_WAIT_MS); then the queues only the workers used are closed.
   */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.broadcast({ type: 'stop' });
    const timer = setTimeout(() => {
      for (const t of this.threads) void t.terminate();
    }, STOP_WAIT_MS);
    await Promise.all(this.exited);
    clearTimeout(timer);
    for (const ask of this.snapshots.values()) ask.done(new Error('NAT figures: the forwarding workers stopped'));
    this.snapshots.clear();
    for (const q of this.host.queues) for (let i = 1; i < q.length; i++) q[i]!.close();
  }
}
