// The items of a JSON array read as its text arrives, a piece at a time:
// the client's side of a streamed list (GET /v1/routes with 500,000 routes
// is ~75 MB of JSON — parsed whole it would be one string that size and the
// whole list in memory at once). Only the item being read is held.

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

export class JsonArrayReader<T = unknown> {
  private state: 'before' | 'inside' | 'after' = 'before';
  /** Nesting of objects and arrays inside the current item. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The current item's text from earlier pieces. */
  private partial = '';
  /** Items read so far. */
  count = 0;

  /** The items that `text` completes (text may cut an item, a string or an escape anywhere). */
  push(text: string): T[] {
    const out: T[] = [];
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.state !== 'inside') {
        if (SPACE.has(c)) continue;
        if (this.state === 'before' && c === 0x5b /* [ */) {
          this.state = 'inside';
          start = i + 1;
          continue;
        }
        throw new Error(this.state === 'before' ? 'not a JSON list' : `text after the end of the list (after ${this.count} items)`);
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 0x5c /* \ */) this.escaped = true;
        else if (c === 0x22 /* " */) this.inString = false;
      } else if (c === 0x22) {
        this.inString = true;
      } else if (c === 0x7b /* { */ || c === 0x5b) {
        this.depth++;
      } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
        if (this.depth > 0) {
          this.depth--;
        } else {
          this.item(text.slice(start, i), out, true);
          this.state = 'after';
        }
      } else if (c === 0x2c /* , */ && this.depth === 0) {
        this.item(text.slice(start, i), out, false);
        start = i + 1;
      }
    }
    if (this.state === 'inside') this.partial += text.slice(start);
    return out;
  }

  /** The text has all come: throws unless the list was closed. */
  end(): void {
    if (this.state !== 'after') throw new Error(`the list was cut short after ${this.count} items`);
  }

  private item(tail: string, out: T[], last: boolean): void {
    const raw = (this.partial + tail).trim();
    this.partial = '';
    // `[]` is an empty list; an empty item anywhere else (`[1,,2]`, `[1,]`) is not JSON.
    if (raw === '' && last && this.count === 0 && out.length === 0) return;
    if (raw === '') throw new Error(`malformed list: an empty item after ${this.count} items`);
    out.push(JSON.parse(raw) as T);
    this.count++;
  }
}
