// Following an access log with a real temp file: appends, partial lines,
// truncation, rotation, a file that appears late, junk; and how fast an
// appended line is seen (with fs.watch, and by the poll alone).
import test from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HistoryTail, type HistoryTailOptions, type TailNotice } from '../../src/triggers/history-tail.js';
import { parseHistoryRecord } from '../../src/triggers/history.js';
import { sleep, waitFor } from '../../src/testbed/shell.js';

const tmp = mkdtempSync(join(tmpdir(), 'tunroute-history-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A fresh file path and a tail on it that collects what it emits. */
function follow(opts: Partial<HistoryTailOptions> = {}, create: string | null = '') {
  const file = join(tmp, `access-${++n}.jsonl`);
  if (create !== null) writeFileSync(file, create);
  const got: Record<string, unknown>[] = [];
  const notices: TailNotice[] = [];
  const tail = new HistoryTail(file, { onObject: (o) => got.push(o as Record<string, unknown>), onNotice: (x) => notices.push(x), ...opts });
  return { file, got, notices, tail };
}

const line = (seq: number) => `${JSON.stringify({ seq })}\n`;
/** Long enough for the poll to have run several times. */
const QUIET_MS = 350;

test('joins an existing file at its end, then sees every appended line in order', async () => {
  const { file, got, tail } = follow({}, line(0) + line(1));
  await tail.start();
  try {
    appendFileSync(file, line(2));
    appendFileSync(file, line(3) + line(4));
    await waitFor('3 lines', () => got.length >= 3, 2000);
    assert.deepEqual(got.map((o) => o.seq), [2, 3, 4]);
    assert.equal(tail.stats.lines, 3);
    assert.equal(tail.stats.malformed, 0);
  } finally {
    await tail.close();
  }
});

test('fromStart reads what the file already holds', async () => {
  const { file, got, tail } = follow({ fromStart: true }, line(0) + line(1));
  await tail.start();
  try {
    await waitFor('2 lines', () => got.length >= 2, 2000);
    appendFileSync(file, line(2));
    await waitFor('3 lines', () => got.length >= 3, 2000);
    assert.deepEqual(got.map((o) => o.seq), [0, 1, 2]);
  } finally {
    await tail.close();
  }
});

test('a partial line is held until its newline arrives', async () => {
  const { file, got, tail } = follow();
  await tail.start();
  try {
    appendFileSync(file, '{"seq": 7, "path": "/po');
    await sleep(QUIET_MS);
    assert.equal(got.length, 0, 'nothing before the newline');
    appendFileSync(file, 'll"}');
    await sleep(QUIET_MS);
    assert.equal(got.length, 0, 'still nothing');
    appendFileSync(file, `\n${line(8).slice(0, 4)}`);
    await waitFor('the completed line', () => got.length >= 1, 2000);
    assert.deepEqual(got[0], { seq: 7, path: '/poll' });
    appendFileSync(file, line(8).slice(4));
    await waitFor('the second line', () => got.length >= 2, 2000);
    assert.equal(got[1]!.seq, 8);
    assert.equal(tail.stats.malformed, 0);
  } finally {
    await tail.close();
  }
});

test('truncation: reading restarts at byte 0', async () => {
  const { file, got, tail } = follow();
  await tail.start();
  try {
    appendFileSync(file, line(1) + line(2) + line(3));
    await waitFor('3 lines', () => got.length >= 3, 2000);
    truncateSync(file, 0);
    await waitFor('truncation noticed', () => tail.stats.truncations === 1, 2000);
    appendFileSync(file, line(4));
    await waitFor('line after truncation', () => got.length >= 4, 2000);
    // Truncated and rewritten before the tail looked: still shorter than before, so still seen.
    truncateSync(file, 0);
    appendFileSync(file, line(5));
    await waitFor('line after quick truncation', () => got.length >= 5, 2000);
    assert.deepEqual(got.map((o) => o.seq), [1, 2, 3, 4, 5]);
    assert.equal(tail.stats.truncations, 2);
  } finally {
    await tail.close();
  }
});

test('rotation: the old file is finished, the new file read from its start', async () => {
  const { file, got, notices, tail } = follow();
  await tail.start();
  try {
    appendFileSync(file, line(1));
    await waitFor('line 1', () => got.length >= 1, 2000);
    renameSync(file, `${file}.1`);
    // The writer has not reopened yet: its last line lands in the renamed file.
    appendFileSync(`${file}.1`, line(2));
    writeFileSync(file, line(3));
    appendFileSync(file, line(4));
    await waitFor('lines 2-4', () => got.length >= 4, 2000);
    assert.deepEqual(got.map((o) => o.seq).sort(), [1, 2, 3, 4]);
    assert.deepEqual(got.slice(2).map((o) => o.seq), [3, 4]);
    assert.equal(tail.stats.rotations, 1);
    assert.ok(notices.some((x) => x.kind === 'rotated'));
    // And again, with the file replaced by rename-over (logrotate's create mode / atomic writers).
    writeFileSync(join(tmp, 'next.tmp'), line(5));
    renameSync(join(tmp, 'next.tmp'), file);
    await waitFor('line 5', () => got.length >= 5, 2000);
    assert.equal(got[4]!.seq, 5);
    assert.equal(tail.stats.rotations, 2);
  } finally {
    await tail.close();
  }
});

test('a file created after the tail started is read from its start', async () => {
  const { file, got, notices, tail } = follow({}, null);
  await tail.start();
  try {
    assert.equal(tail.stats.following, false);
    assert.ok(notices.some((x) => x.kind === 'missing'));
    await sleep(150);
    writeFileSync(file, line(1) + line(2));
    await waitFor('2 lines', () => got.length >= 2, 2000);
    assert.equal(tail.stats.following, true);
    // Deleted, then created again.
    rmSync(file);
    await sleep(150);
    writeFileSync(file, line(3));
    await waitFor('line 3', () => got.length >= 3, 2000);
    assert.deepEqual(got.map((o) => o.seq), [1, 2, 3]);
  } finally {
    await tail.close();
  }
});

test('a directory that does not exist yet: waits for it too', async () => {
  const dir = join(tmp, 'later');
  const file = join(dir, 'access.jsonl');
  const got: unknown[] = [];
  const tail = new HistoryTail(file, { onObject: (o) => got.push(o) });
  await tail.start();
  try {
    await sleep(150);
    mkdirSync(dir);
    writeFileSync(file, line(1));
    await waitFor('line 1', () => got.length >= 1, 2000);
  } finally {
    await tail.close();
  }
});

test('malformed lines, binary junk and giant lines are skipped and counted', async () => {
  const { file, got, tail } = follow({ maxLineBytes: 64 * 1024 });
  await tail.start();
  try {
    const junk = Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x22, 0x80, 0x0d, 0x0a]); // ends with \r\n
    appendFileSync(file, 'not json\n');
    appendFileSync(file, '[1, 2, 3]\n42\n"text"\nnull\n');
    appendFileSync(file, junk);
    appendFileSync(file, '\n   \n'); // blank lines: not counted at all
    appendFileSync(file, `${JSON.stringify({ big: 'x'.repeat(100_000) })}\n`); // one line over the cap
    appendFileSync(file, `${'['.repeat(30_000)}${']'.repeat(30_000)}\n`); // deep nesting, under the cap
    appendFileSync(file, line(1));
    // A giant line arriving in pieces, over several reads.
    for (let i = 0; i < 5; i++) {
      appendFileSync(file, 'y'.repeat(30_000));
      await sleep(20);
    }
    appendFileSync(file, `\n${line(2)}`);
    await waitFor('both good lines', () => got.length >= 2, 3000);
    assert.deepEqual(got.map((o) => o.seq), [1, 2]);
    const s = tail.stats;
    assert.equal(s.oversized, 2);
    assert.equal(s.malformed, 9); // not json, array, number, string, null, junk, big, nested, giant
    assert.equal(s.objects, 2);
  } finally {
    await tail.close();
  }
});

test('a throwing handler is reported, and the tail carries on', async () => {
  let calls = 0;
  const { file, notices, tail } = follow({ onObject: () => { calls++; throw new Error('boom'); } });
  await tail.start();
  try {
    appendFileSync(file, line(1) + line(2));
    await waitFor('2 calls', () => calls >= 2, 2000);
    assert.ok(notices.some((x) => x.kind === 'error' && x.detail?.includes('boom')));
  } finally {
    await tail.close();
  }
});

test('close() stops everything: nothing arrives afterwards', async () => {
  const { file, got, tail } = follow();
  await tail.start();
  await tail.close();
  await tail.close();
  appendFileSync(file, line(1));
  await sleep(QUIET_MS);
  assert.equal(got.length, 0);
  assert.equal(tail.stats.following, false);
});

async function measure(opts: Partial<HistoryTailOptions>, rounds: number): Promise<number[]> {
  const seen: number[] = [];
  const { file, tail } = follow({ ...opts, onObject: () => seen.push(performance.now()) });
  await tail.start();
  const latencies: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      // Appends land at random phases of the poll.
      await sleep(5 + Math.random() * 60);
      const t0 = performance.now();
      await appendFile(file, line(i));
      await waitFor(`line ${i}`, () => seen.length > i, 2000, 1);
      latencies.push(seen[i]! - t0);
    }
  } finally {
    await tail.close();
  }
  return latencies.sort((a, b) => a - b);
}

function summary(l: number[]): string {
  const q = (p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))]!.toFixed(1);
  return `median ${q(0.5)} ms, p90 ${q(0.9)} ms, max ${l[l.length - 1]!.toFixed(1)} ms (n=${l.length})`;
}

test('detection latency: fs.watch, and the poll fallback alone', async () => {
  const withWatch = await measure({}, 40);
  const pollOnly = await measure({ watch: false, pollMs: 100 }, 40);
  console.log(`# history tail detection latency, fs.watch + poll: ${summary(withWatch)}`);
  console.log(`# history tail detection latency, poll only (100 ms): ${summary(pollOnly)}`);
  assert.ok(withWatch[Math.floor(withWatch.length / 2)]! < 50, 'fs.watch wakes the tail well before the poll would');
  // The poll bounds the worst case (plus scheduling slack on a busy machine).
  assert.ok(pollOnly[pollOnly.length - 1]! < 100 + 150);
});

test('history records: fields checked, never thrown', () => {
  const ok = { time: 1_700_000_000_000, client: '192.0.2.7', path: '/poll?device=dev-1', status: 200, server: 'server2', device: 'dev-1' };
  assert.deepEqual(parseHistoryRecord(ok).record, { ...ok, clientAddr: 0xc0000207 });
  assert.equal(parseHistoryRecord({ ...ok, client: '::ffff:192.0.2.7' }).record?.client, '192.0.2.7');
  assert.equal(parseHistoryRecord({ ...ok, device: null }).record?.device, null);
  assert.equal(parseHistoryRecord({ ...ok, device: undefined }).record?.device, null);
  assert.equal(parseHistoryRecord({ ...ok, device: 17 }).record?.device, '17');
  const bad: [unknown, RegExp][] = [
    [null, /object/], [[ok], /object/], ['x', /object/],
    [{ ...ok, time: '1' }, /^time/], [{ ...ok, time: -1 }, /^time/], [{ ...ok, time: Infinity }, /^time/],
    [{ ...ok, client: '192.0.2' }, /^client/], [{ ...ok, client: 7 }, /^client/], [{ ...ok, client: '300.1.1.1' }, /^client/],
    [{ ...ok, path: '' }, /^path/], [{ ...ok, path: 'x'.repeat(10_000) }, /^path/],
    [{ ...ok, status: 99 }, /^status/], [{ ...ok, status: 200.5 }, /^status/], [{ ...ok, status: '200' }, /^status/],
    [{ ...ok, server: undefined }, /^server/], [{ ...ok, device: {} }, /^device/],
  ];
  for (const [v, why] of bad) {
    const p = parseHistoryRecord(v);
    assert.equal(p.record, null, JSON.stringify(v)?.slice(0, 80));
    assert.match(p.reason!, why);
  }
});
