// A YAML file read with positions, so that every mistake in a topology (or
// its migration settings) is reported as one line: FILE:LINE: field: problem.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';

/** A path into the document: map keys and list indexes, e.g. ['topology', 'links', 2, 'endpoints', 0]. */
export type Path = readonly (string | number)[];

export class TopologyError extends Error {
  constructor(readonly file: string, readonly line: number, readonly field: string, readonly problem: string) {
    super(`${file}:${line}: ${field ? `${field}: ` : ''}${problem}`);
  }
}

/** `topology.links[2].endpoints[0]` */
export function fieldName(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${p}` : p;
  return s;
}

export class YamlSource {
  /** The document as plain values (maps become objects). */
  readonly value: unknown;

  private constructor(readonly file: string, private readonly doc: Document, private readonly lines: LineCounter) {
    this.value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  }

  /** Read and parse a YAML file; a syntax error or a duplicate key is a TopologyError. */
  static load(file: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new TopologyError(file, 0, '', `cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return YamlSource.parse(file, text);
  }

  /**
   * containerlab reads topologies with go-yaml v2, which fills a string
   * field with the scalar's text (`yes`, `n`, `1.10` stay as written): the
   * YAML 1.2 core schema reads them the same way.
   */
  static parse(file: string, text: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, version: '1.2', uniqueKeys: true, prettyErrors: false });
    const err = doc.errors[0];
    if (err) {
      const line = lines.linePos(err.pos[0]).line;
      const problem = err.code === 'DUPLICATE_KEY' ? 'duplicate key (each name may appear once in a map)' : err.message.split('\n')[0]!;
      throw new TopologyError(file, line, '', `YAML: ${problem}`);
    }
    return new YamlSource(file, doc, lines);
  }

  /** A TopologyError at the line where `path` is (or its nearest existing parent). */
  error(path: Path, problem: string): TopologyError {
    return new TopologyError(this.file, this.lineOf(path), fieldName(path), problem);
  }

  /** Line (1-based) of the key or item at `path`; of the nearest ancestor that exists if it does not. */
  lineOf(path: Path): number {
    let node: Node | null = this.doc.contents;
    let line = node?.range ? this.lines.linePos(node.range[0]).line : 1;
    for (const step of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(step));
        if (!pair) break;
        const key = pair.key as Node | null;
        if (key?.range) line = this.lines.linePos(key.range[0]).line;
        node = pair.value as Node | null;
      } else if (isSeq(node) && typeof step === 'number') {
        const item = node.items[step] as Node | undefined;
        if (!item) break;
        if (item.range) line = this.lines.linePos(item.range[0]).line;
        node = item;
      } else {
        break;
      }
    }
    return line;
  }
}
