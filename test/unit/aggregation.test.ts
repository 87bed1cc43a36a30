// Streaming aggregation of poll records: what a million-poll rehearsal is
// summed up with. Totals equal the sum of the intervals (also after the
// intervals were coarsened), every failure is kept up to a cap and counted
// past it (so are the losses at the switch), the longest gap and the
// latency percentiles match an exact computation on sorted records, and the
// memory held does not grow with the number of polls.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { PollAggregator, type PollSummary } from '../../src/hosts/aggregation.js';
import { isAnswered, type PollRecord } from '../../src/hosts/poller.js';
import { forEachPollRecord, readPollRecords } from '../../src/hosts/records.js';
import { seededRandom } from '../../src/testbed/random.js';
import { FAILURES_KEPT, lostAtSwitch } from '../../src/testbed/rehearsal.js';

const dir = mkdtempSync(join(tmpdir(), 'tunroute-agg-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Records as a fleet writes them: sent at `rate` per second from t0, each
 * finishing after its latency (up to 2 s), written in the order they finish.
 * Server 1 answers before `switchAt`, server 2 after; some fail.
 */
function* fleetRecords(n: number, opts: { seed?: number; rate?: number; t0?: number; switchAt?: number; failEvery?: number; outage?: [number, number] } = {}): Generator<PollRecord> {
  const random = seededRandom(opts.seed ?? 1);
  const rate = opts.rate ?? 1000;
  const t0 = opts.t0 ?? 1_000_000;
  const switchAt = opts.switchAt ?? Infinity;
  // The polls in flight, a min-heap by finish time: released in finish order.
  const inFlight = new FinishOrder();
  for (let i = 0; i < n; i++) {
    const t = Math.round(t0 + (i * 1000) / rate);
    const fail = (opts.failEvery && i % opts.failEvery === 7) || (opts.outage && t >= opts.outage[0] && t < opts.outage[1]);
    const latencyMs = fail ? 2000 : Math.round((5 + 200 * random() ** 4) * 10) / 10;
    const r: PollRecord = {
      t, device: `dev-${i}`, source: '10.0.0.1', server: fail ? null : t < switchAt ? 'server1' : 'server2',
      status: fail ? null : 200, latencyMs, error: fail ? 'timeout' : null,
    };
    inFlight.push(t + latencyMs, r);
    while (inFlight.size && inFlight.peek() <= t) yield inFlight.pop();
  }
  while (inFlight.size) yield inFlight.pop();
}

class FinishOrder {
  private readonly h: { done: number; r: PollRecord }[] = [];
  get size(): number {
    return this.h.length;
  }
  peek(): number {
    return this.h[0]!.done;
  }
  push(done: number, r: PollRecord): void {
    const h = this.h;
    h.push({ done, r });
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]!.done <= h[i]!.done) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  pop(): PollRecord {
    const h = this.h;
    const top = h[0]!.r;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        let m = i;
        if (l < h.length && h[l]!.done < h[m]!.done) m = l;
        if (l + 1 < h.length && h[l + 1]!.done < h[m]!.done) m = l + 1;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

/** The longest gap without an answer, the slow exact way (sorted send times). */
function exactGap(records: PollRecord[]): number {
  const sorted = [...records].sort((a, b) => a.t - b.t);
  let last = sorted[0]!.t;
  let gap = 0;
  for (const r of sorted) {
    if (!isAnswered(r)) continue;
    gap = Math.max(gap, r.t - last);
    last = r.t;
  }
  return Math.max(gap, sorted.at(-1)!.t - last);
}

function sumBuckets(s: PollSummary): { byServer: Record<string, number>; failed: number } {
  const byServer: Record<string, number> = {};
  let failed = 0;
  for (const b of s.buckets) {
    failed += b.failed;
    for (const [k, n] of Object.entries(b.byServer)) byServer[k] = (byServer[k] ?? 0) + n;
  }
  return { byServer, failed };
}

test('totals equal the sum of the intervals, also after the intervals were coarsened', () => {
  const records = [...fleetRecords(50_000, { rate: 500, switchAt: 1_000_000 + 60_000, failEvery: 997 })];
  // 100 s of polls in 100 ms buckets is 1000 buckets; a cap of 64 doubles the width four times, to 1.6 s.
  for (const maxBuckets of [2000, 64]) {
    const a = new PollAggregator({ maxBuckets });
    for (const r of records) a.add(r);
    const s = a.summary();
    assert.equal(s.total, 50_000);
    assert.equal(s.answered + s.failed, s.total);
    assert.ok(s.buckets.length <= maxBuckets, `${s.buckets.length} buckets`);
    assert.deepEqual(sumBuckets(s), { byServer: s.byServer, failed: s.failed }, `maxBuckets ${maxBuckets}`);
    assert.equal(s.byServer.server1! + s.byServer.server2!, s.answered);
    // Buckets are consecutive and aligned to their width.
    for (let i = 1; i < s.buckets.length; i++) assert.equal(s.buckets[i]!.t - s.buckets[i - 1]!.t, s.bucketMs);
    assert.equal(s.buckets[0]!.t % s.bucketMs, 0);
    if (maxBuckets === 64) assert.equal(s.bucketMs, 1600);
  }
});

test('every failed poll is kept (up to the cap, the rest counted); errors by kind', () => {
  const records = [...fleetRecords(20_000, { failEvery: 101 })];
  const failed = records.filter((r) => !isAnswered(r));
  const a = new PollAggregator();
  for (const r of records) a.add(r);
  const s = a.summary();
  assert.equal(s.failed, failed.length);
  assert.deepEqual(s.failures, failed);
  assert.equal(s.failuresNotKept, 0);
  assert.deepEqual(s.errors, { timeout: failed.length });

  const capped = new PollAggregator({ keepFailures: 50 });
  for (const r of records) capped.add(r);
  const c = capped.summary();
  assert.equal(c.failures.length, 50);
  assert.equal(c.failuresNotKept, failed.length - 50);
  assert.equal(c.failed, failed.length);
});

test('the longest gap and the latency percentiles match the exact values though records come in finish order', () => {
  // An outage of 1.5 s in the middle: every poll sent then fails.
  const records = [...fleetRecords(30_000, { rate: 1000, seed: 7, outage: [1_010_000, 1_011_500] })];
  const a = new PollAggregator({ reorderMs: 5000 });
  for (const r of records) a.add(r);
  const s = a.summary();
  assert.equal(a.lateRecords, 0);
  assert.equal(s.longestGap!.ms, exactGap(records));
  assert.ok(s.longestGap!.ms >= 1500);
  const lat = records.filter(isAnswered).map((r) => r.latencyMs).sort((x, y) => x - y);
  const exact = (p: number) => lat[Math.ceil(p * lat.length) - 1]!;
  for (const [p, got] of [[0.5, s.latency!.p50], [0.9, s.latency!.p90], [0.99, s.latency!.p99]] as const) {
    assert.ok(got >= exact(p) && got <= exact(p) * 1.05 + 0.1, `p${p * 100}: ${got} vs exact ${exact(p)}`);
  }
  assert.equal(s.latency!.max, lat.at(-1));
});

test('named moments: how the polls sent at or after each went', () => {
  const switchAt = 1_000_000 + 5000;
  const records = [...fleetRecords(10_000, { rate: 1000, switchAt, failEvery: 500 })];
  const a = new PollAggregator({ marks: { switch: switchAt, late: switchAt + 2000 } });
  for (const r of records) a.add(r);
  const s = a.summary();
  const after = (at: number) => records.filter((r) => r.t >= at);
  assert.equal(s.after.switch!.total, after(switchAt).length);
  assert.equal(s.after.switch!.failed, after(switchAt).filter((r) => !isAnswered(r)).length);
  assert.deepEqual(s.after.switch!.byServer, { server2: after(switchAt).filter(isAnswered).length });
  assert.equal(s.after.late!.total, after(switchAt + 2000).length);
  assert.equal(s.servers.server2!.firstT, switchAt);
});

test('past the cap of failures kept, the losses before and after the switch are still counted in full', () => {
  // 240,000 polls at 2,000/s, one in eight failing, the switch at 100 s: 30,000 failures, more than the rehearsal keeps.
  const switchAt = 1_000_000 + 100_000;
  const records = [...fleetRecords(240_000, { rate: 2000, switchAt, failEvery: 8 })];
  const a = new PollAggregator({ marks: { switch: switchAt }, keepFailures: FAILURES_KEPT });
  for (const r of records) a.add(r);
  const s = a.summary();
  const failed = records.filter((r) => !isAnswered(r));
  const before = failed.filter((r) => r.t < switchAt).length;
  assert.ok(failed.length > FAILURES_KEPT && before > 0 && failed.length - before > 0, `${failed.length} failures, ${before} before the switch`);
  assert.equal(s.failures.length, FAILURES_KEPT);
  assert.equal(s.failuresNotKept, failed.length - FAILURES_KEPT);
  // The failures kept are the first to come: all before the switch, so counting them would say none came after it.
  assert.ok(s.failures.every((f) => f.t < switchAt));
  assert.deepEqual(lostAtSwitch(s, switchAt), { lostInFlight: before, lostAfterSwitch: failed.length - before });
  assert.deepEqual(lostAtSwitch(s, null), { lostInFlight: 0, lostAfterSwitch: 0 });
});

test('memory held does not grow with the number of polls', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heldAfter = (n: number): number => {
    const a = new PollAggregator();
    gc();
    const before = process.memoryUsage().heapUsed;
    // 2,000 polls/s with one failure in 10,000: the shape of a long rehearsal.
    for (const r of fleetRecords(n, { rate: 2000, failEvery: 10_000 })) a.add(r);
    gc();
    const held = process.memoryUsage().heapUsed - before;
    assert.equal(a.count, n);
    return held;
  };
  const small = heldAfter(100_000);
  const large = heldAfter(1_000_000);
  // Ten times the polls: the same buckets (coarsened), a hundred more failures, the same reorder window.
  assert.ok(large < small + 2 * 2 ** 20, `100k polls hold ${(small / 2 ** 20).toFixed(1)} MB, 1M hold ${(large / 2 ** 20).toFixed(1)} MB`);
  assert.ok(large < 16 * 2 ** 20, `1M polls hold ${(large / 2 ** 20).toFixed(1)} MB`);
});

test('a records file is streamed record by record: the same records, a half-written last line ignored', async () => {
  const file = join(dir, 'fleet.jsonl');
  const records = [...fleetRecords(5000, { failEvery: 333 })];
  writeFileSync(file, `${records.map((r) => JSON.stringify(r)).join('\n')}\n{"t":12`);
  const seen: PollRecord[] = [];
  const counts = await forEachPollRecord(file, (r) => seen.push(r));
  assert.deepEqual(counts, { records: 5000, bad: 0 });
  assert.deepEqual(seen, records);
  assert.deepEqual(readPollRecords(file), records);
});
