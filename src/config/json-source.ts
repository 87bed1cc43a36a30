// A JSON file with positions: the parsed value, plus where each field sits
// (line and column) so a problem can point at the text. jsonc-parser gives the
// syntax tree with offsets; the value itself comes from JSON.parse, so what is
// accepted is exactly JSON (no comments, no trailing commas).
import { findNodeAtLocation, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 units like editors' "Col". */
  column: number;
}

export class JsonSyntaxError extends Error {
  constructor(readonly position: Position, message: string) {
    super(message);
  }
}

/** A key given twice in one object (JSON.parse would keep the last silently). */
export interface DuplicateKey {
  path: string;
  position: Position;
  first: Position;
}

export interface JsonSource {
  value: unknown;
  duplicateKeys: DuplicateKey[];
  /**
   * Where the field at `path` (e.g. `ports[1].address`) is written: its value,
   * or its key with `atKey`; for a missing field, the object that lacks it.
   */
  locate(path: string, atKey?: boolean): Position;
}

/** Parse JSON text; a syntax error is a JsonSyntaxError with the position of the first mistake. */
export function readJson(text: string): JsonSource {
  // A byte-order mark is not JSON, but harmless; editors do not count it as a column.
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const positionOf = lineIndex(src);
  const errors: ParseError[] = [];
  const tree = parseTree(src, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  // Later errors are mostly echoes of the first one.
  const first = errors[0];
  if (first) throw new JsonSyntaxError(positionOf(first.offset), describe(first, src));
  let value: unknown;
  try {
    value = JSON.parse(src);
  } catch (e) {
    // Not expected after a clean parseTree; kept so nothing non-JSON slips through.
    const at = /position (\d+)/.exec((e as Error).message);
    throw new JsonSyntaxError(positionOf(at ? Number(at[1]) : 0), (e as Error).message);
  }
  return {
    value,
    duplicateKeys: tree ? duplicates(tree, '', positionOf) : [],
    locate(path, atKey = false) {
      if (!tree) return { line: 1, column: 1 };
      const segments = pathSegments(path);
      // Walk up to the deepest part of the path that is written in the file.
      for (let n = segments.length; n >= 0; n--) {
        const node = findNodeAtLocation(tree, segments.slice(0, n));
        if (!node) continue;
        const key = atKey && n === segments.length && node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
        return positionOf((key ?? node).offset);
      }
      return positionOf(tree.offset);
    },
  };
}

/** `ports[1].address` → ["ports", 1, "address"]. */
export function pathSegments(path: string): (string | number)[] {
  return [...path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : m[1]!));
}

function lineIndex(text: string): (offset: number) => Position {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  };
}

function duplicates(node: Node, path: string, positionOf: (offset: number) => Position): DuplicateKey[] {
  const found: DuplicateKey[] = [];
  if (node.type === 'object') {
    const seen = new Map<string, number>();
    for (const prop of node.children ?? []) {
      const [key, value] = prop.children ?? [];
      if (!key) continue;
      const name = String(key.value);
      const sub = path ? `${path}.${name}` : name;
      const prev = seen.get(name);
      if (prev !== undefined) found.push({ path: sub, position: positionOf(key.offset), first: positionOf(prev) });
      else seen.set(name, key.offset);
      if (value) found.push(...duplicates(value, sub, positionOf));
    }
  } else if (node.type === 'array') {
    node.children?.forEach((item, i) => found.push(...duplicates(item, `${path}[${i}]`, positionOf)));
  }
  return found;
}

/** jsonc-parser's error code in words, with the offending text where that helps. */
function describe(e: ParseError, text: string): string {
  const token = text.slice(e.offset, e.offset + Math.min(Math.max(e.length, 1), 40));
  // A string token is shown as written; anything else quoted.
  const found = token.startsWith('"') ? token : JSON.stringify(token);
  const atEnd = e.offset >= text.length;
  const before = text.slice(0, e.offset).trimEnd();
  switch (printParseErrorCode(e.error)) {
    case 'InvalidSymbol':
      if (token.startsWith("'")) return 'strings and field names need double quotes (")';
      return `unexpected ${JSON.stringify(text.slice(e.offset, e.offset + e.length))} (JSON values are "strings", numbers, true, false, null, {…} and […])`;
    case 'InvalidNumberFormat':
    case 'UnexpectedEndOfNumber':
      return `${JSON.stringify(text.slice(e.offset, e.offset + e.length))} is not a valid number`;
    case 'PropertyNameExpected':
      if (before.endsWith(',')) return 'a comma before "}" (JSON allows no trailing comma)';
      return 'expected a field name in double quotes';
    case 'ValueExpected':
      if (atEnd) return 'the file ends where a value is expected';
      if (before.endsWith(',') && (token === ']' || token === '}')) return `a comma before "${token}" (JSON allows no trailing comma)`;
      return `expected a value, found ${found}`;
    case 'ColonExpected':
      return 'expected ":" after the field name';
    case 'CommaExpected':
      if (/(^|[:,[\s])-?0$/.test(text.slice(0, e.offset)) && /\d/.test(token)) return 'a number with a leading zero (JSON has no octal; write 8, not 08)';
      return `expected "," between items, found ${found}`;
    case 'CloseBraceExpected':
      return atEnd ? 'the file ends inside an object (a "}" is missing)' : `expected "," or "}", found ${found}`;
    case 'CloseBracketExpected':
      return atEnd ? 'the file ends inside a list (a "]" is missing)' : `expected "," or "]", found ${found}`;
    case 'EndOfFileExpected':
      return `text after the end of the JSON value: ${found}`;
    case 'InvalidCommentToken':
    case 'UnexpectedEndOfComment':
      return 'comments are not allowed in JSON';
    case 'UnexpectedEndOfString':
      return 'a string is not closed (missing ")';
    case 'InvalidUnicode':
      return 'a bad \\u escape in a string (\\u and four hex digits)';
    case 'InvalidEscapeCharacter':
      return 'a bad escape in a string (use \\\\, \\", \\n, \\t or \\uXXXX)';
    case 'InvalidCharacter':
      return 'a control character (such as a tab or line break) inside a string: escape it (\\t, \\n)';
    default:
      return 'not valid JSON';
  }
}
