// Plain-text tables for humans; `--json` prints the API's JSON instead.
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}

/**
 * A table printed as its rows arrive (a streamed list). The first `settle`
 * rows are held to size the columns, as table() would; a later cell wider
 * than its column widens it from that row on. Each call gives text ending
 * in a newline, or ''.
 */
export class StreamedTable {
  private widths: number[];
  private held: string[][] | null = [];

  constructor(private readonly headers: string[], private readonly settle = 1000) {
    this.widths = headers.map((h) => h.length);
  }

  rows(rows: (string | number | null | undefined)[][]): string {
    const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))));
    if (this.held) {
      this.held.push(...cells);
      return this.held.length >= this.settle ? this.release() : '';
    }
    return cells.map((r) => `${this.line(r)}\n`).join('');
  }

  /** What is still held (all of a table shorter than `settle`, and the header). */
  end(): string {
    return this.held ? this.release() : '';
  }

  private release(): string {
    const rows = this.held!;
    this.held = null;
    for (const r of rows) this.widen(r);
    return [this.headers, ...rows].map((r) => `${this.line(r)}\n`).join('');
  }

  private widen(r: string[]): void {
    for (let i = 0; i < r.length; i++) if (r[i]!.length > (this.widths[i] ?? 0)) this.widths[i] = r[i]!.length;
  }

  private line(r: string[]): string {
    this.widen(r);
    return r.map((c, i) => c.padEnd(this.widths[i]!)).join('  ').trimEnd();
  }
}

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
