// One history-triggered port block: when the history line it waits for
// appears (the test appliance's poll answered by the target server), it
// blocks or drains its port — once. Step 4 of the method, made automatic.
import type { TriggerConfig } from '../config/migration-config.js';
import { OperationError } from '../control/errors.js';
import type { HistoryRecord } from './history.js';

export type TriggerState = 'armed' | 'fired' | 'cancelled' | 'failed';

/** Where a record came from: the watched file or the API. */
export type HistorySource = 'file' | 'api';

/** What a trigger needs of the router (the Router class has it; tests pass a fake). */
export interface TriggerTarget {
  blockPort(name: string): void;
  drainPort(name: string): void;
  readonly log: {
    info(obj: object, msg?: string): void;
    warn(obj: object, msg?: string): void;
  };
}

export class Trigger {
  state: TriggerState = 'armed';
  readonly armedAt = Date.now();
  /** When the action ran (or failed), epoch ms. */
  firedAt: number | null = null;
  cancelledAt: number | null = null;
  /** The history line that fired it. */
  matched: HistoryRecord | null = null;
  matchedVia: HistorySource | null = null;
  /** From the history line's `time` to the port action, ms. */
  latencyMs: number | null = null;
  /** Why the action failed (state 'failed'). */
  error: string | null = null;

  constructor(readonly config: TriggerConfig, private readonly target: TriggerTarget) {}

  get name(): string {
    return this.config.name;
  }

  /** Does this history line mean "the test appliance reached the target server"? */
  matches(r: HistoryRecord): boolean {
    const m = this.config.match;
    if (r.clientAddr !== m.client) return false;
    if (m.server !== null && r.server !== m.server) return false;
    if (m.status !== null && r.status !== m.status) return false;
    if (m.path !== null && !r.path.startsWith(m.path)) return false;
    return true;
  }

  /** Whether a record from `via` is for this trigger at all. */
  listensTo(via: HistorySource): boolean {
    return via === 'api' ? this.config.api : this.config.file !== null;
  }

  /** Fire on `r` if armed and it matches; true if it fired (or tried to and failed). */
  offer(r: HistoryRecord, via: HistorySource): boolean {
    if (this.state !== 'armed' || !this.listensTo(via) || !this.matches(r)) return false;
    this.fire(r, via);
    return true;
  }

  /** Run the port action, once. A refused action (e.g. the port is already blocked) leaves the trigger 'failed'. */
  fire(r: HistoryRecord, via: HistorySource): void {
    if (this.state !== 'armed') return;
    const { name, action, port } = this.config;
    this.matched = r;
    this.matchedVia = via;
    try {
      if (action === 'block') this.target.blockPort(port);
      else this.target.drainPort(port);
    } catch (e) {
      this.state = 'failed';
      this.firedAt = Date.now();
      this.error = (e as Error).message;
      this.target.log.warn({ event: 'trigger.failed', trigger: name, port, action, historyTime: r.time, client: r.client, server: r.server, via, error: this.error },
        `trigger ${name}: ${action} ${port} failed: ${this.error}`);
      return;
    }
    this.state = 'fired';
    this.firedAt = Date.now();
    this.latencyMs = this.firedAt - r.time;
    this.target.log.info({ event: 'trigger.fired', trigger: name, port, action, historyTime: r.time, client: r.client, server: r.server, path: r.path, status: r.status, via, latencyMs: this.latencyMs },
      `trigger ${name}: ${r.server} answered ${r.client} → ${action} port ${port} (${this.latencyMs} ms after the history line)`);
  }

  /** Disarm. Only an armed trigger can be cancelled. */
  cancel(): void {
    if (this.state !== 'armed') throw new OperationError('conflict', `trigger "${this.name}" is ${this.state}, not armed`);
    this.state = 'cancelled';
    this.cancelledAt = Date.now();
    this.target.log.info({ event: 'trigger.cancelled', trigger: this.name, port: this.config.port, action: this.config.action }, `trigger ${this.name} cancelled`);
  }
}
