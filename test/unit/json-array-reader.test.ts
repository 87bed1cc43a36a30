// Reading a streamed JSON list piece by piece (the CLI's side of GET
// /v1/routes), and the table printed as its rows arrive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonArrayReader } from '../../src/api/json-array-reader.js';
import { StreamedTable, table } from '../../src/cli/table.js';

const LIST = [
  { prefix: '10.0.0.0/8', via: null, n: -1.5e3, ok: true },
  { s: 'a "quoted" ] , } [ { string\\', u: 'é ✓ \u2028', nested: [[1, [2]], { a: { b: [] } }] },
  'a string, with a comma',
  42,
  null,
  [],
  {},
];
const TEXT = ` [${LIST.map((x) => JSON.stringify(x)).join(',\n  ')}] \n`;

function readAll(pieces: string[]): unknown[] {
  const r = new JsonArrayReader();
  const out = pieces.flatMap((p) => r.push(p));
  r.end();
  return out;
}

test('a list cut into two pieces at every position reads as JSON.parse reads it whole', () => {
  for (let i = 0; i <= TEXT.length; i++) assert.deepEqual(readAll([TEXT.slice(0, i), TEXT.slice(i)]), LIST, `cut at ${i}`);
});

test('a list one character at a time; an empty list; items come as soon as they are complete', () => {
  assert.deepEqual(readAll([...TEXT]), LIST);
  assert.deepEqual(readAll(['[', ' ', ']']), []);
  assert.deepEqual(readAll(['[]']), []);
  const r = new JsonArrayReader();
  assert.deepEqual(r.push('[{"a":1},{"b"'), [{ a: 1 }]);
  assert.deepEqual(r.push(':2}'), []);
  assert.deepEqual(r.push(']'), [{ b: 2 }]);
  assert.equal(r.count, 2);
});

test('a list cut short, or not JSON, is an error, never a shorter list', () => {
  for (const cut of [TEXT.length - 3, TEXT.length - 10, 1, 0]) {
    const r = new JsonArrayReader();
    r.push(TEXT.slice(0, cut));
    assert.throws(() => r.end(), /cut short/, `cut at ${cut}`);
  }
  for (const bad of ['{"a":1}', '[1,,2]', '[1,]', '[1] 2', '[1 2]', '[nope]']) {
    assert.throws(() => readAll([bad]), Error, bad);
  }
});

test('a streamed table: as table() for fewer rows than it holds to size the columns; wider later rows widen their column', () => {
  const rows = [['10.0.0.0/8', 'direct', 1], ['192.168.100.0/24', '10.0.12.2', 100]];
  const t = new StreamedTable(['PREFIX', 'VIA', 'METRIC'], 3);
  assert.equal(t.rows(rows) + t.end(), `${table(['PREFIX', 'VIA', 'METRIC'], rows)}\n`);
  const s = new StreamedTable(['A', 'B'], 2);
  assert.equal(s.rows([['x', 'y']]), '', 'held until two rows');
  assert.equal(s.rows([['xx', null]]), 'A   B\nx   y\nxx  -\n');
  assert.equal(s.rows([['xxxx', 'z']]), 'xxxx  z\n');
  assert.equal(s.rows([['x', 'z']]), 'x     z\n');
  assert.equal(s.end(), '');
});
