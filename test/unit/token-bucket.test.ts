// The rate limiter of ICMP errors and replies (RFC 1812 §4.3.2.8), on a
// clock the test moves by hand; and the even shares forwarding threads get.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchClock } from '../../src/dataplane/batch-clock.js';
import { TokenBucket, shareOf } from '../../src/dataplane/token-bucket.js';

const takes = (b: TokenBucket, n: number): number => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (b.take()) ok++;
  return ok;
};

test('a bucket gives its burst at once, then its rate', () => {
  const clock = new BatchClock();
  const b = new TokenBucket({ rate: 10, burst: 5 }, clock);
  assert.equal(takes(b, 20), 5);
  clock.now += 1000;
  assert.equal(takes(b, 20), 5, 'a second refills the burst, not 10: it caps what is saved');
  clock.now += 300;
  assert.equal(takes(b, 20), 3);
});

test('a new limit keeps saved tokens only up to its burst', () => {
  const clock = new BatchClock();
  const b = new TokenBucket({ rate: 1, burst: 50 }, clock);
  b.setLimit({ rate: 1, burst: 2 });
  assert.equal(takes(b, 10), 2);
});

test('shares: one part is the limit; N parts split rate and burst, a burst share never below 1', () => {
  const limit = { rate: 100, burst: 50 };
  assert.equal(shareOf(limit, 1), limit);
  assert.deepEqual(shareOf(limit, 4), { rate: 25, burst: 12.5 });
  assert.deepEqual(shareOf({ rate: 3, burst: 2 }, 3), { rate: 1, burst: 1 });
  const clock = new BatchClock();
  // Three threads with a third each send what one bucket with the whole limit would, in a burst and over time.
  const parts = [0, 1, 2].map(() => new TokenBucket(shareOf({ rate: 30, burst: 9 }, 3), clock));
  assert.equal(parts.reduce((n, b) => n + takes(b, 10), 0), 9);
  clock.now += 1000;
  assert.equal(parts.reduce((n, b) => n + takes(b, 100), 0), 9, 'a second later: the bursts refilled (30/s, capped at 3 each)');
});
