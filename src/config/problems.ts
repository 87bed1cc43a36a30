// Config problems: each one a line that names the field by its path (e.g.
// `ports[1].address`) and, once the loader has placed it in the file, the
// line and column. Checks collect problems and go on, so one run reports
// every mistake instead of the first.

export interface Problem {
  /** Field path such as `ports[1].address`; "" = the whole config or the file. */
  path: string;
  message: string;
  /** Point at the field's key instead of its value (e.g. an unknown field). */
  atKey?: boolean;
  /** Set by the loader: where in which file. */
  file?: string;
  line?: number;
  column?: number;
}

/** `FILE:LINE:COL: path: message`, leaving out what is not known. */
export function formatProblem(p: Problem): string {
  const where = p.file === undefined ? '' : p.line === undefined ? `${p.file}: ` : `${p.file}:${p.line}:${p.column ?? 1}: `;
  return oneLine(`${where}${p.path ? `${p.path}: ` : ''}${p.message}`);
}

// Messages quote what the user wrote (values, keys): a line break or other
// control character in it would split the line or garble the terminal.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f\u0085\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The text with control characters and line separators escaped as in JSON (`\n`, `\u2028`). */
export function oneLine(text: string): string {
  return text.replace(UNPRINTABLE, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A config that cannot be used; carries every problem found. */
export class ConfigError extends Error {
  readonly problems: readonly Problem[];

  /** One problem (path, message), or a list of them. */
  constructor(problems: readonly Problem[]);
  constructor(path: string, message: string);
  constructor(a: readonly Problem[] | string, message?: string) {
    const problems = typeof a === 'string' ? [{ path: a, message: message ?? '' }] : a;
    const first = problems[0] ? formatProblem(problems[0]) : 'invalid config';
    // The message stays one line (API answers, logs); lines() has them all.
    super(problems.length > 1 ? `${first} (and ${problems.length - 1} more)` : first);
    this.problems = problems;
  }

  /** Every problem, one line each. */
  lines(): string[] {
    return this.problems.map(formatProblem);
  }
}

/** Collects problems while the checks go on. */
export class Problems {
  readonly list: Problem[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  /** Run one check: a ConfigError it throws is recorded and gives undefined. */
  check<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      this.list.push(...e.problems);
      return undefined;
    }
  }

  get ok(): boolean {
    return this.list.length === 0;
  }
}

/**
 * Run a parser that records into a fresh collector; throw one ConfigError with
 * everything it found, or return its result. Parsers built this way nest: the
 * outer one's `check()` takes in the inner one's problems.
 */
export function collect<T>(parse: (p: Problems) => T | undefined): T {
  const p = new Problems();
  const result = p.check(() => parse(p));
  if (!p.ok || result === undefined) throw new ConfigError(p.list);
  return result;
}

/** The object if every field came out defined (each bad field was already recorded). */
export function complete<T extends object>(fields: { [K in keyof T]: T[K] | undefined }): T | undefined {
  return Object.values(fields).every((v) => v !== undefined) ? (fields as T) : undefined;
}
