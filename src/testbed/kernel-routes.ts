// A namespace's kernel routes to one prefix as they change: `ip -4 -ts
// monitor route` runs in the namespace and writes to a file; its lines are
// read back on demand. For a router that forwards in its kernel (FRR, BIRD),
// the moment it switches is then the kernel's, not a daemon's log line.
import { readFileSync } from 'node:fs';
import type { Lab } from './lab.js';

/** One line of `ip -ts monitor route` about the watched prefix. */
export interface KernelRouteChange {
  /** Epoch ms. */
  time: number;
  /** The route went away (`Deleted …`). */
  deleted: boolean;
  via: string | null;
  dev: string | null;
  line: string;
}

export class KernelRouteWatch {
  private constructor(readonly prefix: string, readonly file: string) {}

  /** Start watching in `ns` (the monitor lives as long as the lab). */
  static start(lab: Lab, ns: string, prefix: string, file: string): KernelRouteWatch {
    lab.spawnIn(ns, 'ip', ['-4', '-ts', 'monitor', 'route'], { stdout: file });
    return new KernelRouteWatch(prefix, file);
  }

  /** Every change of the route to the prefix so far, oldest first. */
  changes(): KernelRouteChange[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    return parseRouteMonitor(text, this.prefix);
  }
}

/**
 * The lines of `ip -4 -ts monitor route` output about `prefix` ("1.1.1.1/32";
 * ip prints a host route without its /32). A replaced route is printed as a
 * new one (iproute2 6.1), or with "Replaced" by later versions.
 */
export function parseRouteMonitor(text: string, prefix: string): KernelRouteChange[] {
  const [addr, len] = prefix.split('/') as [string, string | undefined];
  const dest = len === undefined || len === '32' ? [addr, `${addr}/32`] : [prefix];
  const out: KernelRouteChange[] = [];
  for (const line of text.split('\n')) {
    const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)\]\s+(Deleted\s+|Replaced\s+)?(?:unicast\s+)?(\S+)(.*)$/.exec(line);
    if (!m || !dest.includes(m[3]!)) continue;
    const rest = m[4]!;
    out.push({
      time: localTimeMs(m[1]!),
      deleted: m[2]?.startsWith('Deleted') ?? false,
      via: /\bvia (\S+)/.exec(rest)?.[1] ?? null,
      dev: /\bdev (\S+)/.exec(rest)?.[1] ?? null,
      line: line.trim(),
    });
  }
  return out;
}

/** `ip -ts` prints local time with microseconds and no zone. */
function localTimeMs(stamp: string): number {
  const [date, time] = stamp.split('T') as [string, string];
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi, s] = time.split(':') as [string, string, string];
  return new Date(y, mo - 1, d, Number(h), Number(mi), 0, 0).getTime() + Number(s) * 1000;
}
