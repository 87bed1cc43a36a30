// The rehearsal's live progress: a phase line from the lab coming up to its
// going down (not only while the fleet polls); on a terminal one line
// redrawn in place with log lines above it, elsewhere plain lines at each
// change of phase and every so often. Written to a real stream (a Writable
// that collects what it is given), as a terminal or not.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { ProgressPrinter, progressLine } from '../../src/testbed/progress.js';
import type { RehearsalProgress } from '../../src/testbed/rehearsal.js';

/** A stream that keeps what is written to it; a terminal of `columns` columns when `tty`. */
function sink(tty: boolean, columns?: number): Writable & { text: () => string; isTTY: boolean; columns?: number } {
  const chunks: string[] = [];
  const w = new Writable({
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  return Object.assign(w, { isTTY: tty, columns, text: () => chunks.join('') });
}

const labUp: RehearsalProgress = { phase: 'lab up', elapsedMs: 4200, fleet: null, records: null };
const polling: RehearsalProgress = {
  phase: 'second half of the day', elapsedMs: 300_000, fleet: { polls: 431_022, expected: 1_000_000, ratePerS: 1702.4, failed: 0, inFlight: 84, remainingMs: 341_000 }, records: null,
};
const analysis: RehearsalProgress = { phase: 'analysis', elapsedMs: 632_000, fleet: null, records: { read: 431_022, of: 1_000_000 } };

test('the status line: the phase and the time before the fleet polls, the fleet\'s numbers while it does, the records summed up in the analysis', () => {
  assert.equal(progressLine(labUp), 'lab up | 4s elapsed');
  assert.equal(progressLine(polling), 'second half of the day | polls 431,022 / 1,000,000 (43%) | 1,702/s | failed 0 | in flight 84 | 5m41s left');
  assert.equal(progressLine({ ...polling, phase: 'warm-up', fleet: { ...polling.fleet!, expected: null, remainingMs: null } }),
    'warm-up | polls 431,022 | 1,702/s | failed 0 | in flight 84 | 5m00s elapsed');
  assert.equal(progressLine(analysis), 'analysis | poll records summed up 431,022 / 1,000,000 (43%) | 10m32s elapsed');
  assert.equal(progressLine({ ...analysis, records: { read: 12, of: null } }), 'analysis | poll records summed up 12 | 10m32s elapsed');
  assert.equal(progressLine({ phase: 'lab down', elapsedMs: 3_700_000, fleet: null, records: null }), 'lab down | 1h01m elapsed');
});

test('on a terminal: one line redrawn in place, cut to the width, log lines above it, a newline when done', async () => {
  const out = sink(true, 40);
  const p = new ProgressPrinter(out, '[drain] ');
  p.update(labUp);
  p.log('[drain] lab: 5 routers');
  p.update(polling);
  p.done();
  await new Promise<void>((r) => out.end(r));
  const cut = '[drain] second half of the day | polls 4'.slice(0, 39);
  assert.equal(out.text(), `\r[drain] lab up | 4s elapsed\x1b[K\r\x1b[K[drain] lab: 5 routers\n[drain] lab up | 4s elapsed\r${cut}\x1b[K\n`);
});

test('not on a terminal: plain lines, one at each change of phase and then one per interval', async () => {
  const out = sink(false);
  const p = new ProgressPrinter(out, '', 60_000);
  p.update(labUp);
  p.update({ ...labUp, elapsedMs: 5200 });
  p.log('lab: 5 routers');
  p.update(polling);
  p.update({ ...polling, elapsedMs: 301_000 });
  p.update(analysis);
  p.done();
  await new Promise<void>((r) => out.end(r));
  assert.equal(out.text(), [
    'lab up | 4s elapsed',
    'lab: 5 routers',
    progressLine(polling),
    'analysis | poll records summed up 431,022 / 1,000,000 (43%) | 10m32s elapsed',
    '',
  ].join('\n'));
  assert.ok(!out.text().includes('\r') && !out.text().includes('\x1b'), 'no carriage return or escape sequence');

  // With an interval of 0 every update is a line.
  const every = sink(false);
  const q = new ProgressPrinter(every, '', 0);
  q.update(labUp);
  q.update({ ...labUp, elapsedMs: 5200 });
  await new Promise<void>((r) => every.end(r));
  assert.equal(every.text(), 'lab up | 4s elapsed\nlab up | 5s elapsed\n');
});
