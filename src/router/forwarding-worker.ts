// A forwarding worker: one thread that owns queue `index` of every port and
// runs the transit packet path on it — the same elements as the daemon's
// own thread (dataplane/packet-path.ts), in an arena of its own, over the
// router's FIB in shared memory (routing/fib-view.ts).
//
// What it shares with the control thread (forwarding-workers.ts):
//   - the FIB: read lock-free, quiescent between batches;
//   - each port's state cell (state, muted), followed at every batch;
//   - its own shard of every port's counters (and of every Ethernet port's
//     link counters), which only it writes;
//   - a status block: ticks, packets handed over and not yet taken, per
//     draining port the live flows it pins to it and the connections from
//     its side still open, and its drain flow table's figures for stats
//     (Float64: `inserted` outgrows an Int32 in a long run).
// Packets for the router (BFD, RIP, OSPF, ICMP to it, fragments of them)
// go to the control thread in one message per batch, bounded by the
// status block's in-flight count (full: counted handoff-full). ARP replies
// an Ethernet port reads are copied to the control thread (which passes
// them on to the other workers): a reply comes back on the queue its flow
// hashes to, not necessarily to the thread that asked.
//
// Virtual-service NAT runs here too, each worker on the flows it owns
// (VirtualServiceNat.ownerOf: a hash of what both directions of a flow
// carry). With 2 or more workers a packet of a flow another worker owns is
// copied to that worker over their channel (one message per batch, bounded
// by PEER_HANDOFF_MAX: over it counted handoff-full), which runs it
// through its whole path and sends it on its own queues.
//
// A reload may add ports ('add-port': the next index, its queue or the
// device of the leaving port it replaces, its counter shards) and remove
// them ('remove-port': it stops reading and sending on them; kept as
// tombstones, as the control thread keeps them, so indices stay stable).
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { PortConfig, RouterConfig } from '../config/router-config.js';
import { systemClock } from '../control/clock.js';
import { PacketPath, SPARE_MTU, arenaFor } from '../dataplane/packet-path.js';
import { HEADROOM } from '../packet/arena.js';
import type { LocalSink } from '../dataplane/local-delivery.js';
import { Drop } from '../packet/drops.js';
import { PORT_CELL_SLOTS, Port, RX_BATCH } from '../ports/port.js';
import { SharedFib } from '../routing/fib-view.js';
import type { SharedFibHandles } from '../routing/fib.js';
import { ETHERNET_HEADER_LEN } from '../wire/ethernet.js';
import { IcmpType, UnreachCode } from '../wire/icmp.js';
import { Ipv4View } from '../wire/ipv4.js';
import { NatSteering } from './nat-steering.js';
import { adoptQueue, attachLink, makePort, releasePort, type LinkHooks, type QueueHandle } from './port-devices.js';
import {
  FLOW_CAPACITY, FLOW_EVICTED_LIVE, FLOW_INSERTED, FLOW_LIVE, FLOW_PINNED, FLOW_UNTRACKED, HANDOFF_MAX, ICMP_RATE_LIMITED, ICMP_SENT,
  REPLIES_RATE_LIMITED, REPLIES_SENT, STATUS_HANDOFF, STATUS_TICKS,
  statusLive, statusOpen, statusViews, type ControlToWorker, type HandedOver, type PeerMessage, type WorkerToControl,
} from './worker-protocol.js';

export interface WorkerInit {
  index: number;
  config: RouterConfig;
  fib: SharedFibHandles;
  /** Per port (by index): its queue for this worker. */
  queues: QueueHandle[];
  /** Int32 state cells of every port (PORT_CELL_SLOTS each). */
  cells: SharedArrayBuffer;
  /** Ports the cells and the status block have room for (the start's and those reloads may add). */
  capacity: number;
  /** This worker's counter shard of each port (a reload's added ports' shards pushed as they come). */
  counters: SharedArrayBuffer[];
  /** This worker's shard of each Ethernet port's link counters (null: a port without a link layer). */
  linkCounters: (SharedArrayBuffer | null)[];
  /** This worker's status block (worker-protocol.ts STATUS_*). */
  status: SharedArrayBuffer;
  /** Per worker: this worker's channel to it (null for itself, and with one worker). */
  peers: (MessagePort | null)[];
  /** Every worker's packets and bytes handed to the others and not yet taken (worker-protocol.ts peerPackets, peerBytes). */
  peerCounts: SharedArrayBuffer;
  /** The seed of the NAT flow owner hash: the same in every worker. */
  ownerSeed: number;
}

/** How often the worker runs its timers (link layer, drain accounting). */
const TICK_MS = 50;
/** While one of its ports drains: the drain's quiet wait polls the counts every 5 ms. */
const DRAIN_TICK_MS = 5;
/**
 * How often a tick counts the live flows for stats: a scan of the whole
 * table (about 1 ms), too much for every 5 ms tick of a drain. Stats show a
 * worker's live flows at most this old.
 */
const LIVE_SCAN_MS = 1000;
/** Ethertype ARP and ARP's reply opcode, where they sit in a frame. */
const ARP_TYPE = 0x0806;
const ARP_REPLY = 2;

class ForwardingWorker {
  private readonly ports: Port[] = [];
  /** Each port's config, by index (a reload's added ports follow the start's). */
  private readonly configs: PortConfig[];
  private readonly path: PacketPath;
  private readonly fib: SharedFib;
  private readonly cells: Int32Array;
  /** Each port's view of its cell, made once (followCells runs every batch). */
  private readonly cellViews: Int32Array[] = [];
  private readonly status: Int32Array;
  /** The status block's flow figures (FLOW_*). */
  private readonly flowFigures: Float64Array;
  /** When the next tick counts the live flows again (Date.now()). */
  private nextLiveScan = 0;
  /** The policy rules' hits as last sent to the control thread, in rule order. */
  private policyHitsSent: number[] = [];
  /** Packets for the router taken in this batch (sent at its end). */
  private pending: HandedOver[] = [];
  private pendingArp: HandedOver[] = [];
  private readonly view = new Ipv4View();
  private readonly hooks: LinkHooks;
  private nextTick: ReturnType<typeof setTimeout> | undefined;
  /** Packets of NAT flows other workers own, taken in this batch (sent at its end); null with one worker. */
  private readonly steering: NatSteering | null = null;
  /** Where packets handed in by other workers are forwarded from: RX_BATCH slots of `handInSlot` bytes (0: no such region). */
  private handInBase = 0;
  private readonly handInSlot: number;

  constructor(private readonly init: WorkerInit, private readonly control: MessagePort) {
    const { config } = init;
    this.send(takePriority(config.workerNice));
    this.configs = [...config.ports];
    // Packets another worker hands in are forwarded from slots of their own, as a port's received ones are (the largest any port
    // reads, or a port a reload adds may: as large as the arena's spare slots); with 2 or more workers, virtual services or not
    // (a reload may add them). Memory untouched until used costs nothing.
    const handIn = config.workers >= 2;
    this.handInSlot = Math.max(Port.slotSizeFor(SPARE_MTU, true), ...config.ports.map((p) => Port.slotSizeFor(p.mtu, p.offload)));
    const arena = arenaFor(config, handIn ? this.handInSlot * RX_BATCH : 0);
    this.fib = new SharedFib(init.fib);
    this.cells = new Int32Array(init.cells);
    const views = statusViews(init.status, init.capacity);
    this.status = views.slots;
    this.flowFigures = views.flows;
    const hooks = {
      clock: systemClock,
      announcements: 0,
      unresolved: (port: Port, off: number, len: number) => {
        const ip = this.view.attach(arena.bytes, off, len);
        this.path.clock.tick();
        if (ip.validate() === 0) this.path.icmp.send(IcmpType.DEST_UNREACHABLE, UnreachCode.HOST, 0, port, ip);
      },
    };
    this.hooks = hooks;
    const sink: LocalSink = { deliver: (port, ip) => this.handOver(port, ip) };
    config.ports.forEach((pc, i) => {
      const link = init.linkCounters[i];
      this.ports.push(makePort(i, pc, adoptQueue(init.queues[i]!), arena, hooks, { port: new Float64Array(init.counters[i]!), link: link ? new Float64Array(link) : undefined }));
    });
    this.path = new PacketPath(arena, this.ports, this.fib, config, Date.now, sink);
    if (handIn) {
      this.handInBase = arena.reserve(this.handInSlot * RX_BATCH);
      this.steering = new NatSteering(this.path, init.index, config.workers, init.ownerSeed, init.peerCounts);
      this.path.forwarder.steering = this.steering;
    }
    this.followCells();
    for (const port of this.ports) {
      port.link?.linkUp();
      this.startReading(port);
    }
    this.fib.offline();
    this.tick();
    control.on('message', (m: ControlToWorker) => {
      try {
        this.message(m);
      } catch (e) {
        this.fail(e);
      }
    });
    for (const peer of init.peers) {
      peer?.on('message', (m: PeerMessage) => {
        try {
          this.handIn(m);
        } catch (e) {
          this.fail(e);
        }
      });
    }
  }

  private startReading(port: Port): void {
    port.device.startReading(this.path.arena.buffer, port.readOffset, port.slotSize, port.rxLengths.length, port.rxLengths, (count, errno) => {
      try {
        if (count > 0) this.receive(port, count);
      } catch (e) {
        this.fail(e);
      }
      if (errno) this.send({ type: 'read-error', port: port.index, errno });
    });
  }

  private receive(port: Port, count: number): void {
    this.fib.quiescent();
    this.followCells();
    if (port.link !== null) this.copyArpReplies(port, count);
    this.path.forwarder.receive(port, count);
    this.fib.offline();
    this.flushHandOver();
  }

  /** The port's state cell in shared memory, as the control thread publishes it. */
  private cellOf(port: Port): Int32Array {
    return (this.cellViews[port.index] ??= this.cells.subarray(port.index * PORT_CELL_SLOTS, (port.index + 1) * PORT_CELL_SLOTS));
  }

  /** Port states as the control thread set them; a port muted or unmuted takes its link down or up. */
  private followCells(): void {
    for (const port of this.ports) {
      if (port.removed) continue;
      const changed = port.followCell(this.cellOf(port));
      if (!changed || !port.link) continue;
      if (port.muted) port.link.linkDown();
      else port.link.linkUp();
    }
  }

  /** A packet for the router: a copy to the control thread (it answers, and runs the protocols). */
  private handOver(port: Port, ip: Ipv4View): number {
    if (Atomics.load(this.status, STATUS_HANDOFF) >= HANDOFF_MAX) return Drop.HANDOFF_FULL;
    Atomics.add(this.status, STATUS_HANDOFF, 1);
    this.pending.push({ port: port.index, bytes: ip.buf.slice(ip.off, ip.off + ip.totalLength) });
    return -1;
  }

  /**
   * Packets of NAT flows this worker owns that another read: each into a
   * slot of the hand-in region and through the whole path, RX_BATCH at a
   * time (a flush between: queued packets point into the slots).
   */
  private handIn(m: PeerMessage): void {
    this.fib.quiescent();
    this.followCells();
    const path = this.path;
    const bytes = path.arena.bytes;
    const room = this.handInSlot - HEADROOM;
    let k = 0;
    let taken = 0;
    path.clock.tick();
    for (const p of m.packets) {
      taken += p.bytes.length;
      const port = this.ports[p.port];
      if (!port) continue;
      if (p.bytes.length > room) {
        port.counters.drop(Drop.TRUNCATED);
        continue;
      }
      if (k === RX_BATCH) {
        path.output.flushAll();
        k = 0;
      }
      const off = this.handInBase + k++ * this.handInSlot + HEADROOM;
      bytes.set(p.bytes, off);
      const drop = path.forwarder.receiveHandedIn(port, off, p.bytes.length, p.word);
      if (drop >= 0) port.counters.drop(drop);
    }
    path.output.flushAll();
    this.steering?.forwarded(m.from, m.packets.length, taken);
    this.fib.offline();
    this.flushHandOver();
  }

  private copyArpReplies(port: Port, count: number): void {
    const b = this.path.arena.bytes;
    let f = port.slotPacket(0) - ETHERNET_HEADER_LEN;
    for (let i = 0; i < count; i++, f += port.slotSize) {
      const len = port.rxLengths[i]!;
      if (len < ETHERNET_HEADER_LEN + 8 || ((b[f + 12]! << 8) | b[f + 13]!) !== ARP_TYPE || b[f + 21] !== ARP_REPLY) continue;
      this.pendingArp.push({ port: port.index, bytes: b.slice(f, f + len) });
    }
  }

  private flushHandOver(): void {
    for (let w = 0; w < this.init.peers.length && this.steering; w++) {
      const packets = this.steering.take(w);
      if (packets.length === 0) continue;
      const m: PeerMessage = { from: this.init.index, packets };
      // The copies are this message's alone: moved, not copied again.
      this.init.peers[w]!.postMessage(m, packets.map((p) => p.bytes.buffer as ArrayBuffer));
    }
    if (this.pending.length > 0) {
      this.send({ type: 'local', packets: this.pending });
      this.pending = [];
    }
    if (this.pendingArp.length > 0) {
      this.send({ type: 'arp', frames: this.pendingArp, from: this.init.index });
      this.pendingArp = [];
    }
  }

  private message(m: ControlToWorker): void {
    // What the message makes the path send may look routes up (an ICMP error about a held packet).
    this.fib.quiescent();
    try {
      this.handleMessage(m);
    } finally {
      this.fib.offline();
    }
  }

  private handleMessage(m: ControlToWorker): void {
    switch (m.type) {
      case 'policy':
        this.path.setPolicy(m.rules);
        break;
      case 'settings':
        this.path.setTransitSettings(m.settings);
        break;
      case 'services':
        this.path.setVirtualServices(m.services);
        break;
      case 'nat-snapshot':
        this.send({ type: 'nat-snapshot', id: m.id, snapshot: this.path.natSnapshot(m.limit) });
        break;
      case 'arp': {
        // Another thread's ARP replies: learnt here too.
        const out = this.path.output;
        this.path.clock.tick();
        for (const f of m.frames) {
          const port = this.ports[f.port];
          if (!port?.link || port.removed) continue;
          const off = out.scratch(f.bytes.length);
          this.path.arena.bytes.set(f.bytes, off);
          port.link.receive(off, f.bytes.length, true);
        }
        out.flushAll();
        break;
      }
      case 'tick':
        this.tick();
        break;
      case 'detach': {
        this.ports[m.port]?.device.stopReading?.();
        this.send({ type: 'detached', port: m.port });
        break;
      }
      case 'adopt': {
        const port = this.ports[m.port];
        if (!port) break;
        port.device.close(); // let go of the old queue (if 'detach' has not already)
        port.device = adoptQueue(m.queue);
        const shard = this.init.linkCounters[m.port];
        if (port.link && shard) {
          // A re-created interface has a new MAC: the link starts over, as the control thread's does.
          const counts = new Float64Array(shard);
          counts.fill(0);
          attachLink(port, this.configs[m.port]!, this.path.arena, this.hooks, counts);
          if (!port.muted) port.link.linkUp();
        }
        this.startReading(port);
        break;
      }
      case 'add-port':
        this.addPort(m);
        break;
      case 'retire':
        for (const i of m.ports) if (this.ports[i]) this.ports[i].removed = true;
        break;
      case 'remove-port':
        this.removePort(m.port);
        break;
      case 'stop':
        this.exit(0);
    }
  }

  /** A port a reload added: made on its queue (or on the leaving port's device it takes over), reading at once. */
  private addPort(m: Extract<ControlToWorker, { type: 'add-port' }>): void {
    if (m.port !== this.ports.length) throw new Error(`add-port: index ${m.port}, expected ${this.ports.length}`);
    const old = m.takeover >= 0 ? this.ports[m.takeover] : undefined;
    if (m.takeover >= 0 && !old) throw new Error(`add-port: no port ${m.takeover} to take over`);
    // A device taken over from a leaving port stops feeding that port first.
    old?.device.stopReading?.();
    const device = old ? old.device : adoptQueue(m.queue!);
    this.init.counters[m.port] = m.counters;
    this.init.linkCounters[m.port] = m.linkCounters;
    this.configs[m.port] = m.config;
    const port = makePort(m.port, m.config, device, this.path.arena, this.hooks, {
      port: new Float64Array(m.counters), link: m.linkCounters ? new Float64Array(m.linkCounters) : undefined,
    });
    this.ports.push(port);
    this.path.addresses.refresh();
    port.followCell(this.cellOf(port));
    if (!port.muted) port.link?.linkUp();
    this.startReading(port);
    this.send({ type: 'added', port: port.index });
  }

  /**
   * A port a reload removed: a tombstone from now on (down, muted, its link
   * down, never read or written again, as its queue is closed once every
   * worker answers — unless a new port took its device over); its receive
   * slots and link region go back to the arena for a later port.
   */
  private removePort(index: number): void {
    const port = this.ports[index];
    if (port) {
      port.removed = true;
      port.state = 'down';
      port.muted = true;
      port.link?.linkDown();
      if (!this.ports.some((p) => p !== port && !p.removed && p.device === port.device)) port.device.close();
      // Read only from this thread, between batches (whose queues are flushed): nothing points into them now.
      releasePort(port, this.path.arena);
      this.path.addresses.refresh();
    }
    this.send({ type: 'detached', port: index });
  }

  /** Let go of every queue (a worker's device closes its reader, not the fd) and the FIB; end this thread. */
  private exit(code: number): never {
    for (const port of this.ports) port.device.close();
    for (const peer of this.init.peers) peer?.close();
    this.fib.close();
    process.exit(code);
  }

  /**
   * A bug in this thread: report it and end cleanly (the control thread stops
   * the daemon with one line) rather than leave the thread, its readers still
   * open, to abort the whole process.
   */
  private fail(e: unknown): never {
    this.send({ type: 'failed', error: e instanceof Error ? e.stack ?? e.message : String(e) });
    return this.exit(1);
  }

  /** Timers: the link layer's (ARP retries, ageing), and what a drain waits for. */
  private tick(): void {
    this.fib.quiescent();
    this.followCells();
    let draining = false;
    const flows = this.path.flows;
    for (const port of this.ports) {
      if (!port.removed) {
        this.path.clock.tick();
        port.tick();
      }
      const drains = port.state === 'draining';
      draining ||= drains;
      Atomics.store(this.status, statusLive(port.index), drains ? flows.liveFlowsOn(port.index) : 0);
      Atomics.store(this.status, statusOpen(port.index), drains ? flows.openConnectionsFrom(port.index) : 0);
    }
    this.publishFigures();
    this.fib.offline();
    this.flushHandOver();
    Atomics.add(this.status, STATUS_TICKS, 1);
    clearTimeout(this.nextTick);
    this.nextTick = setTimeout(() => {
      try {
        this.tick();
      } catch (e) {
        this.fail(e);
      }
    }, draining ? DRAIN_TICK_MS : TICK_MS);
  }

  /**
   * The flow table's figures (the live flows at most every LIVE_SCAN_MS) and
   * the ICMP and reply counts into the status block, for stats; the policy
   * rules' hits in a message when they changed.
   */
  private publishFigures(): void {
    const { flows, icmp, server, policy } = this.path;
    const f = this.flowFigures;
    f[ICMP_SENT] = icmp.sent;
    f[ICMP_RATE_LIMITED] = icmp.suppressed;
    f[REPLIES_SENT] = server.sent;
    f[REPLIES_RATE_LIMITED] = server.suppressed;
    const hits = policy.list();
    if (hits.some((r, i) => r.hits !== this.policyHitsSent[i])) {
      this.policyHitsSent = hits.map((r) => r.hits);
      this.send({ type: 'policy-hits', hits: hits.map((r) => [r.rule.name, r.hits]) });
    }
    f[FLOW_PINNED] = flows.pinned;
    f[FLOW_INSERTED] = flows.inserted;
    f[FLOW_EVICTED_LIVE] = flows.evictedLive;
    f[FLOW_UNTRACKED] = flows.untracked;
    f[FLOW_CAPACITY] = flows.capacity;
    const now = Date.now();
    if (now >= this.nextLiveScan) {
      f[FLOW_LIVE] = flows.liveFlows();
      this.nextLiveScan = now + LIVE_SCAN_MS;
    }
  }

  private send(m: WorkerToControl): void {
    this.control.postMessage(m);
  }
}

/**
 * This thread's nice moved by `adjust` (Linux keeps a nice per thread): a
 * worker woken by a packet then goes ahead of CPU-bound threads of other
 * processes, as the kernel's own forwarding (in softirq) goes ahead of
 * every process. Lowering it needs CAP_SYS_NICE; without, the thread stays.
 */
function takePriority(adjust: number): WorkerToControl {
  const nice = Math.max(-20, Math.min(19, getPriority() + adjust));
  try {
    setPriority(nice);
    return { type: 'priority', nice, error: null };
  } catch (e) {
    return { type: 'priority', nice: getPriority(), error: (e as Error).message };
  }
}

if (parentPort) new ForwardingWorker(workerData as WorkerInit, parentPort);
