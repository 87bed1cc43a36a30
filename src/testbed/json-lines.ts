// Reading a JSON-lines file someone may still be writing (a daemon's log, a
// server's access log): a missing file is empty, a line that does not parse
// (e.g. the half-written last one) is skipped.
import { existsSync, readFileSync } from 'node:fs';

export function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).flatMap((line) => {
    try {
      return [JSON.parse(line) as T];
    } catch {
      return [];
    }
  });
}
