// What the control thread and its forwarding workers say to each other, and
// the layout of a worker's status block (shared memory: Int32 slots, then
// its drain flow table's figures as Float64).
import type { PortConfig, RouterConfig } from '../config/router-config.js';
import type { NatSnapshot } from '../dataplane/nat-snapshot.js';
import type { TransitSettings } from '../dataplane/packet-path.js';
import type { QueueHandle } from './port-devices.js';

/** Status block: timer ticks the worker ran (a drain waits for fresh counts). */
export const STATUS_TICKS = 0;
/** Status block: packets handed to the control thread and not yet taken. */
export const STATUS_HANDOFF = 1;
/** Status block: from here, two slots per port, counted while the port drains (else 0). */
const STATUS_PORT0 = 2;
/** Status block slot: the live flows this worker pins to a draining port. */
export const statusLive = (port: number): number => STATUS_PORT0 + 2 * port;
/** Status block slot: the TCP connections opened from a draining port's side still open in this worker. */
export const statusOpen = (port: number): number => STATUS_PORT0 + 2 * port + 1;
/** Int32 slots of a status block for `ports` ports. */
export const statusSlots = (ports: number): number => STATUS_PORT0 + 2 * ports;

/**
 * After the Int32 slots (from the next 8-byte boundary): the worker's drain
 * flow table's figures (flow-table.ts) and its ICMP and reply counts as
 * Float64 slots, written at its tick — exact integers to 2^53, where an
 * Int32 slot would wrap `inserted` after 2^31 flows. Read without atomics,
 * as the counter shards are.
 */
export const FLOW_PINNED = 0;
export const FLOW_INSERTED = 1;
export const FLOW_EVICTED_LIVE = 2;
export const FLOW_UNTRACKED = 3;
/** Live flows: a scan of the table, so refreshed at most every LIVE_SCAN_MS (forwarding-worker.ts). */
export const FLOW_LIVE = 4;
export const FLOW_CAPACITY = 5;
/** The worker's ICMP errors and its answers as a host (echo replies, TCP resets): sent and rate-limited. */
export const ICMP_SENT = 6;
export const ICMP_RATE_LIMITED = 7;
export const REPLIES_SENT = 8;
export const REPLIES_RATE_LIMITED = 9;
const FLOW_SLOTS = 10;
const flowOffset = (ports: number): number => Math.ceil(statusSlots(ports) / 2) * 8;
/** Bytes of a status block for `ports` ports (its Int32 slots, then its Float64 flow figures). */
export const statusBytes = (ports: number): number => flowOffset(ports) + FLOW_SLOTS * 8;

/** A status block's two views: the Int32 slots (STATUS_*, statusLive, statusOpen) and the flow figures (FLOW_*). */
export function statusViews(block: SharedArrayBuffer, ports: number): { slots: Int32Array; flows: Float64Array } {
  return { slots: new Int32Array(block, 0, statusSlots(ports)), flows: new Float64Array(block, flowOffset(ports), FLOW_SLOTS) };
}

/** Packets for the router a worker may have handed over and the control thread not yet taken. */
export const HANDOFF_MAX = 4096;

/** A packet (or an ARP frame) copied out of a worker's arena, with the index of the port it came in on. */
export interface HandedOver {
  port: number;
  bytes: Uint8Array;
}

/**
 * With 2 or more workers and virtual services: what one worker may have
 * handed to the others (packets of NAT flows they own) and they have not
 * taken yet — at most this many packets and bytes per worker; beyond that
 * they are dropped and counted handoff-full. In a shared Int32Array, two
 * slots per worker (peerPackets, peerBytes): the sender adds, the owner
 * subtracts once it has forwarded them.
 */
export const PEER_HANDOFF_MAX = 4096;
export const PEER_HANDOFF_MAX_BYTES = 16 << 20;
export const peerPackets = (worker: number): number => 2 * worker;
export const peerBytes = (worker: number): number => 2 * worker + 1;

/** A packet of a NAT flow handed to the worker that owns it: its ingress port, its offload word (as checked), its bytes. */
export interface HandedOff {
  port: number;
  word: number;
  bytes: Uint8Array;
}

/** What one worker sends another over their channel (a MessagePort each, made by the control thread). */
export interface PeerMessage {
  from: number;
  packets: HandedOff[];
}

export type WorkerToControl =
  | { type: 'local'; packets: HandedOver[] }
  | { type: 'arp'; frames: HandedOver[]; from: number }
  | { type: 'read-error'; port: number; errno: number }
  /** The worker no longer reads the port's old queue (its device vanished, or a reload removed the port): the control thread may close it. */
  | { type: 'detached'; port: number }
  /** The worker has the port a reload added (its routes may go into the FIB now). */
  | { type: 'added'; port: number }
  /** The worker's thread priority at its start: the nice it runs at, or why it could not take `workerNice`. */
  | { type: 'priority'; nice: number; error: string | null }
  /** A bug in the worker (an exception): it ends; the daemon stops. */
  | { type: 'failed'; error: string }
  /** The answer to 'nat-snapshot' (null: no virtual services here now). */
  | { type: 'nat-snapshot'; id: number; snapshot: NatSnapshot | null }
  /** Packets this worker steered by each source-policy rule, by rule name (sent at a tick when they changed). */
  | { type: 'policy-hits'; hits: [string, number][] };

export type ControlToWorker =
  | { type: 'policy'; rules: RouterConfig['policy'] }
  | { type: 'settings'; settings: TransitSettings }
  /** A reload's virtual services (the NAT starts over, as in the control thread without workers). */
  | { type: 'services'; services: RouterConfig['virtualServices'] }
  /** Send this worker's NAT as it is now ('nat-snapshot', with up to `limit` flows). */
  | { type: 'nat-snapshot'; id: number; limit: number }
  | { type: 'arp'; frames: HandedOver[] }
  /** Run the timers now (a drain began: its counts are wanted before the next 50 ms tick). */
  | { type: 'tick' }
  /** The port's device vanished: stop reading its queue (answer 'detached'). */
  | { type: 'detach'; port: number }
  /** The port's device is back: this worker's new queue of it. */
  | { type: 'adopt'; port: number; queue: QueueHandle }
  /**
   * A reload added a port at index `port` (the next one): this worker's
   * queue of it, or (`takeover` ≥ 0) the device of that leaving port, which
   * it stops reading; its counter shards. Answer 'added'.
   */
  | { type: 'add-port'; port: number; config: PortConfig; queue: QueueHandle | null; takeover: number; counters: SharedArrayBuffer; linkCounters: SharedArrayBuffer | null }
  /** A reload is taking these ports out: their names no longer find them (a changed port's finds its new version). */
  | { type: 'retire'; ports: number[] }
  /** A reload removed the port: stop reading it and never send on it again (answer 'detached'). */
  | { type: 'remove-port'; port: number }
  | { type: 'stop' };
