/**
 * `npm run bench`: every benchmark of the project in one run, each number
 * printed beside its baseline measured in the same invocation.
 *   1. Forwarding: tunroute vs a minimal C TUN→TUN forwarder vs the kernel.
 *   2. Bulk TCP: tunroute (offloads on) vs the C TUN forwarder without and
 *      with offloads vs the kernel, through one router and through two.
 *   3. Route lookups: the FIB's compressed trie vs the uncompressed one it
 *      replaced vs a per-prefix-length hash map, on ~565,000 real prefixes.
 *   4. The JavaScript packet path in memory (no devices): ns per 64-byte
 *      packet vs a minimal loop (checksum, TTL, one lookup) — where the
 *      per-packet user-space time of part 1 goes.
 * Needs root (namespaces) and a quiet machine: other load skews the numbers.
 * `--quick`: one short round each.
 */
import { formatBulkBench, runBulkBench } from './bench-bulk.js';
import { formatForwardingBench, runForwardingBench } from './bench-forwarding.js';
import { formatLookupBench, runLookupBench } from './bench-lookup.js';
import { formatPathBench, runPathBench } from './bench-path.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const quick = process.argv.includes('--quick');

log('forwarding benchmark (namespaces)…');
const forwarding = await runForwardingBench({ seconds: quick ? 1 : 2, rounds: quick ? 1 : 5, log });
const bulkSeconds = quick ? 2 : 5;
log('bulk TCP benchmark (namespaces, iperf3)…');
const bulk = await runBulkBench({ seconds: bulkSeconds, rounds: quick ? 1 : 3, log });
log('route lookup benchmark…');
const lookup = await runLookupBench({ log });
log('packet path benchmark (in memory)…');
const path = runPathBench(quick ? { rounds: 3 } : {});

console.log(`\n${formatForwardingBench(forwarding)}\n\n${formatBulkBench(bulk, bulkSeconds)}\n\n${formatLookupBench(lookup)}\n\n${formatPathBench(path)}`);
