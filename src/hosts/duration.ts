// Durations as people type them on a command line: "500ms", "20s", "2m",
// "1h", "1.5s"; a plain number is milliseconds.

export class DurationError extends Error {}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration such as "500ms", "20s", "2m" or "250". */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(String(text));
  if (!m) throw new DurationError(`"${String(text)}" is not a duration (e.g. 500ms, 20s, 2m; a plain number is ms)`);
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  if (!Number.isFinite(ms)) throw new DurationError(`"${text}" is too long a duration`);
  return Math.round(ms);
}

/** "1.5s", "250ms", "2m" — the short form a progress line wants. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)}s`;
  return `${(ms / 60_000).toFixed(ms % 60_000 === 0 ? 0 : 1)}m`;
}
