// Mutations as fast-check values: a list of edits (bit flips, byte sets,
// interesting values, truncation, extension, copies of a range, inserts and
// deletes) that turns a well-formed input into a slightly broken one. The
// edits are data, so fast-check generates, replays and shrinks them like any
// other value; applying them is plain code.
import fc from 'fast-check';

export type Edit =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'interesting'; at: number; width: 1 | 2 | 4; which: number }
  | { op: 'truncate'; at: number }
  | { op: 'extend'; bytes: Uint8Array }
  | { op: 'copy'; from: number; to: number; n: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number };

/** Boundary values that parsers get wrong (AFL's list, big-endian). */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 16, 32, 64, 100, 127, 128, 255, 256, 512, 1000, 1024, 4096];

// Positions are fractions of the input's length, so an edit means something on any input.
const pos = fc.integer({ min: 0, max: 0xffff });

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('flip' as const), at: pos, bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), at: pos, value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('interesting' as const), at: pos, width: fc.constantFrom(1 as const, 2 as const, 4 as const), which: fc.nat({ max: INTERESTING.length - 1 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('truncate' as const), at: pos }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('extend' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('copy' as const), from: pos, to: pos, n: fc.integer({ min: 1, max: 32 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('insert' as const), at: pos, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), at: pos, n: fc.integer({ min: 1, max: 16 }) }) },
);

export const edits = (maxLength = 4): fc.Arbitrary<Edit[]> => fc.array(edit, { minLength: 1, maxLength });

const place = (at: number, len: number): number => (len === 0 ? 0 : Math.floor((at / 0x10000) * len));

/**
 * Apply edits to a copy of `input`, at most `max` bytes long. `keep` lists
 * byte ranges ([from, to)) no edit may change in place (e.g. a tag the
 * harness needs); length changes still move them.
 */
export function mutate(input: Uint8Array, list: readonly Edit[], max = 65535, keep: readonly [number, number][] = []): Uint8Array {
  let b = Uint8Array.from(input);
  const kept = (i: number) => keep.some(([f, t]) => i >= f && i < t);
  for (const e of list) {
    switch (e.op) {
      case 'flip': {
        const i = place(e.at, b.length);
        if (i < b.length && !kept(i)) b[i]! ^= 1 << e.bit;
        break;
      }
      case 'set': {
        const i = place(e.at, b.length);
        if (i < b.length && !kept(i)) b[i] = e.value;
        break;
      }
      case 'interesting': {
        const i = place(e.at, b.length);
        const v = INTERESTING[e.which]! >>> 0;
        for (let k = 0; k < e.width && i + k < b.length; k++) {
          if (!kept(i + k)) b[i + k] = (v >>> (8 * (e.width - 1 - k))) & 0xff;
        }
        break;
      }
      case 'truncate':
        b = b.slice(0, place(e.at, b.length + 1));
        break;
      case 'extend': {
        const n = new Uint8Array(b.length + e.bytes.length);
        n.set(b);
        n.set(e.bytes, b.length);
        b = n;
        break;
      }
      case 'copy': {
        const from = place(e.from, b.length);
        const to = place(e.to, b.length);
        for (let k = 0; k < e.n && from + k < b.length && to + k < b.length; k++) if (!kept(to + k)) b[to + k] = b[from + k]!;
        break;
      }
      case 'insert': {
        const i = place(e.at, b.length + 1);
        const n = new Uint8Array(b.length + e.bytes.length);
        n.set(b.subarray(0, i));
        n.set(e.bytes, i);
        n.set(b.subarray(i), i + e.bytes.length);
        b = n;
        break;
      }
      case 'delete': {
        const i = place(e.at, b.length);
        b = Uint8Array.from([...b.subarray(0, i), ...b.subarray(i + e.n)]);
        break;
      }
    }
  }
  return b.length > max ? b.slice(0, max) : b;
}

/** Text mutations for JSON-like input: the same edits on its UTF-8 bytes, decoded leniently. */
export function mutateText(text: string, list: readonly Edit[]): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(mutate(new TextEncoder().encode(text), list, 1 << 20));
}
