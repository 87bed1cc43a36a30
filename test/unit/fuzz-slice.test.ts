// A bounded slice of `npm run fuzz` for every run of the suite: each fuzz
// target (test/fuzz/) for a fixed number of inputs with a fixed seed, so the
// same inputs every time (about 20 s here). A failure prints the command
// that replays the failing chunk. The full run (10 M inputs) is `npm run fuzz`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiTarget } from '../fuzz/api.js';
import { configTarget } from '../fuzz/config.js';
import { packetPathTarget } from '../fuzz/packet-path.js';
import { runTarget, type FuzzTarget } from '../fuzz/target.js';
import { wireTarget } from '../fuzz/wire.js';

/** Target, inputs, seed, and outcomes the slice must reach (so the inputs got past the first checks). */
const SLICE: [FuzzTarget, number, number, string[]][] = [
  [packetPathTarget, 20_000, 1812, ['forwarded', 'fragmented', 'consumed', 'nat-checksum-verified', 'icmp:11/0', 'icmp:3/4', 'drop:rip-invalid', 'drop:bfd-invalid']],
  [wireTarget, 40_000, 791, ['ipv4:0', 'l4-rewrite-verified', 'fragment:split', 'echo-reply', 'rip-entry:0', 'bfd:0']],
  [configTarget, 3_000, 2453, ['accepted:started', 'refused:text', 'refused:object']],
  [apiTarget, 1_500, 5880, ['status:200', 'status:400', 'status:404', 'status:405', 'status:413']],
];

for (const [target, inputs, seed, reached] of SLICE) {
  test(`fuzz slice: ${target.name}, ${inputs} inputs, seed ${seed}`, async () => {
    const r = await runTarget(target, { seed, inputs });
    assert.equal(r.failure, null, r.failure ?? '');
    assert.ok(r.inputs >= inputs, `${r.inputs} inputs fed, ${inputs} asked`);
    for (const k of reached) assert.ok((r.tally[k] ?? 0) > 0, `no input reached "${k}"; outcomes: ${JSON.stringify(r.tally)}`);
  });
}
