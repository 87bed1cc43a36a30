/**
 * `npm run bench`: every benchmark of the project in one run, each number
 * printed beside its baseline measured in the same invocation.
 *   1. Forwarding: tunroute vs a minimal C TUN→TUN forwarder vs the kernel.
 *   2. Route lookups: the FIB's compressed trie vs the uncompressed one it
 *      replaced vs a per-prefix-length hash map, on ~565,000 real prefixes.
 * Needs root (namespaces) and a quiet machine: other load skews the numbers.
 */
import { formatForwardingBench, runForwardingBench } from './bench-forwarding.js';
import { formatLookupBench, runLookupBench } from './bench-lookup.js';

const log = (s: string) => process.stderr.write(`${s}\n`);
const quick = process.argv.includes('--quick');

log('forwarding benchmark (namespaces)…');
const forwarding = await runForwardingBench({ seconds: quick ? 1 : 2, rounds: quick ? 1 : 5, log });
log('route lookup benchmark…');
const lookup = await runLookupBench({ log });

console.log(`\n${formatForwardingBench(forwarding)}\n\n${formatLookupBench(lookup)}`);
