// The router's history triggers: one HistoryTail per watched file (shared by
// every trigger on that file), records from files and from the API routed to
// the armed triggers, triggers added and cancelled at run time. A tail that no
// armed trigger needs any more is closed.
import { isAbsolute, resolve } from 'node:path';
import type { TriggerConfig } from '../config/migration-config.js';
import { HistoryTail, type TailNotice, type TailStats } from './history-tail.js';
import { parseHistoryRecord, type HistoryRecord } from './history.js';
import { OperationError } from '../control/errors.js';
import type { RouterPlugin } from '../control/protocol.js';
import { Trigger, type HistorySource, type TriggerTarget } from './trigger.js';

export interface TriggerSetOptions {
  /** Relative `file` paths are taken from here (the config file's directory). */
  baseDir?: string;
  /** Passed to each HistoryTail (tests shorten nothing; the default is 100 ms). */
  pollMs?: number;
}

/** Per-file counts on top of the tail's own: lines that were JSON objects but no history record. */
export interface WatchStats extends TailStats {
  invalid: number;
  lastInvalid: string | null;
}

interface Watch {
  tail: HistoryTail;
  invalid: number;
  lastInvalid: string | null;
}

export interface OfferResult {
  accepted: number;
  rejected: { index: number; reason: string }[];
  fired: string[];
}

export class TriggerSet implements RouterPlugin {
  readonly name = 'triggers';
  private readonly triggers = new Map<string, Trigger>();
  private readonly watches = new Map<string, Watch>();
  private started = false;
  private stopped = false;

  constructor(private readonly target: TriggerTarget, private readonly opts: TriggerSetOptions = {}) {}

  /** Open the tails of the armed file triggers. Records appended before this are not looked at. */
  async start(): Promise<void> {
    if (this.started || this.stopped) return;
    this.started = true;
    await Promise.all([...this.triggers.values()].map((t) => this.ensureTail(t)));
  }

  /** Close every tail; triggers stay as they are (listable) but nothing fires any more. */
  async stop(): Promise<void> {
    this.stopped = true;
    const tails = [...this.watches.values()].map((w) => w.tail);
    this.watches.clear();
    await Promise.all(tails.map((t) => t.close()));
  }

  /** Add and arm a trigger (names are unique). */
  add(config: TriggerConfig): Trigger {
    if (this.triggers.has(config.name)) throw new OperationError('conflict', `a trigger named "${config.name}" already exists`);
    const t = new Trigger(this.resolved(config), this.target);
    this.triggers.set(t.name, t);
    void this.ensureTail(t);
    return t;
  }

  /**
   * A reloaded config's triggers: one whose config is unchanged keeps its
   * state (armed, or fired); a new or changed one is (re)armed; one that is
   * gone is forgotten. Triggers added through the API are left alone.
   */
  reconfigure(configs: readonly TriggerConfig[], previous: readonly TriggerConfig[]): { added: string[]; removed: string[] } {
    const next = new Map(configs.map((c) => [c.name, this.resolved(c)]));
    const added: string[] = [];
    const removed: string[] = [];
    for (const old of previous) {
      const t = this.triggers.get(old.name);
      const c = next.get(old.name);
      if (!t || (c && sameTrigger(t.config, c))) continue;
      if (t.state === 'armed') t.cancel();
      this.triggers.delete(old.name);
      removed.push(old.name);
    }
    for (const c of next.values()) {
      if (this.triggers.has(c.name)) continue;
      this.add(c);
      added.push(c.name);
    }
    this.releaseTails();
    return { added, removed };
  }

  private resolved(config: TriggerConfig): TriggerConfig {
    return { ...config, file: config.file === null ? null : resolve(this.opts.baseDir ?? process.cwd(), config.file) };
  }

  /** Disarm a trigger (refused if unknown or not armed) and close its tail if no one else needs it. */
  cancel(name: string): Trigger {
    const t = this.get(name);
    if (!t) throw new OperationError('not-found', `no trigger named "${name}"`);
    t.cancel();
    this.releaseTails();
    return t;
  }

  get(name: string): Trigger | undefined {
    return this.triggers.get(name);
  }

  list(): Trigger[] {
    return [...this.triggers.values()];
  }

  /** The tail following `file` (absolute), with its counts, if one is open. */
  watchStats(file: string): WatchStats | undefined {
    const w = this.watches.get(file);
    return w && { ...w.tail.stats, invalid: w.invalid, lastInvalid: w.lastInvalid };
  }

  /** Records pushed through the API: checked one by one, offered to the API triggers. */
  offerFromApi(values: unknown[]): OfferResult {
    const result: OfferResult = { accepted: 0, rejected: [], fired: [] };
    values.forEach((v, index) => {
      const p = parseHistoryRecord(v);
      if (!p.record) {
        result.rejected.push({ index, reason: p.reason });
        return;
      }
      result.accepted++;
      result.fired.push(...this.offer(p.record, 'api'));
    });
    return result;
  }

  /** Offer one record to the armed triggers listening to `via` (and, for files, to that file). Names of those that fired. */
  offer(r: HistoryRecord, via: HistorySource, file?: string): string[] {
    const fired: string[] = [];
    for (const t of this.triggers.values()) {
      if (via === 'file' && t.config.file !== file) continue;
      if (t.offer(r, via)) fired.push(t.name);
    }
    if (fired.length) this.releaseTails();
    return fired;
  }

  private async ensureTail(t: Trigger): Promise<void> {
    const file = t.config.file;
    if (!this.started || this.stopped || file === null || t.state !== 'armed' || this.watches.has(file)) return;
    const w: Watch = {
      invalid: 0,
      lastInvalid: null,
      tail: new HistoryTail(file, {
        pollMs: this.opts.pollMs,
        onObject: (obj) => {
          const p = parseHistoryRecord(obj);
          if (p.record) this.offer(p.record, 'file', file);
          else {
            w.invalid++;
            w.lastInvalid = p.reason;
          }
        },
        onNotice: (n) => this.logNotice(n),
      }),
    };
    this.watches.set(file, w);
    await w.tail.start();
  }

  /** Close the tails whose triggers are all fired, failed or cancelled. */
  private releaseTails(): void {
    const needed = new Set(this.list().filter((t) => t.state === 'armed' && t.config.file !== null).map((t) => t.config.file));
    for (const [file, w] of this.watches) {
      if (needed.has(file)) continue;
      this.watches.delete(file);
      void w.tail.close();
      this.target.log.info({ event: 'history.unwatched', file }, `no armed trigger watches ${file} any more`);
    }
  }

  private logNotice(n: TailNotice): void {
    const fields = { event: `history.${n.kind}`, file: n.file, detail: n.detail };
    const msg = `history ${n.file}: ${n.kind}${n.detail ? ` (${n.detail})` : ''}`;
    if (n.kind === 'error') this.target.log.warn(fields, msg);
    else this.target.log.info(fields, msg);
  }
}

/** Reject a relative file path from the API: the daemon's working directory is not the caller's. */
export function checkApiFile(file: string | null): void {
  if (file !== null && !isAbsolute(file)) throw new OperationError('invalid', `file: "${file}" must be an absolute path (the daemon's working directory is not yours)`);
}

function sameTrigger(a: TriggerConfig, b: TriggerConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
