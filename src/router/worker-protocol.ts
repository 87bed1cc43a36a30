// What the control thread and its forwarding workers say to each other, and
// the layout of a worker's status block (Int32 slots in shared memory).
import type { RouterConfig } from '../config/router-config.js';
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

/** Packets for the router a worker may have handed over and the control thread not yet taken. */
export const HANDOFF_MAX = 4096;

/** A packet (or an ARP frame) copied out of a worker's arena, with the index of the port it came in on. */
export interface HandedOver {
  port: number;
  bytes: Uint8Array;
}

export type WorkerToControl =
  | { type: 'local'; packets: HandedOver[] }
  | { type: 'arp'; frames: HandedOver[]; from: number }
  | { type: 'read-error'; port: number; errno: number }
  /** The worker no longer reads the port's old queue (its device vanished): the control thread may close it. */
  | { type: 'detached'; port: number }
  /** A bug in the worker (an exception): it ends; the daemon stops. */
  | { type: 'failed'; error: string };

export type ControlToWorker =
  | { type: 'policy'; rules: RouterConfig['policy'] }
  | { type: 'arp'; frames: HandedOver[] }
  /** Run the timers now (a drain began: its counts are wanted before the next 50 ms tick). */
  | { type: 'tick' }
  /** The port's device vanished: stop reading its queue (answer 'detached'). */
  | { type: 'detach'; port: number }
  /** The port's device is back: this worker's new queue of it. */
  | { type: 'adopt'; port: number; queue: QueueHandle }
  | { type: 'stop' };
