/**
 * `npm run real-r1 -- [--r1 bird|frr|both] [--runs N] [--mode block|drain|both]`
 *
 * The cut-over with a real router as R1 (src/testbed/real-r1.ts), repeated:
 * for each R1, one lab, then N rounds of R2 blocking (or draining) its port
 * toward R1 and unblocking it, while a client polls http://1.1.1.1/ every
 * 50 ms. Prints one line per round and the range of each number. Needs
 * root, BIRD 2 and FRR; numbers from a shared machine are indicative.
 */
import { Command, Option } from 'commander';
import { RealR1Lab, formatCutover, type CutoverResult, type RealR1 } from '../src/testbed/real-r1.js';
import { sleep } from '../src/testbed/shell.js';

const program = new Command('npm run real-r1 --')
  .addOption(new Option('--r1 <kind>', 'the router that is R1').choices(['bird', 'frr', 'both']).default('both'))
  .addOption(new Option('--mode <mode>', 'what R2 does to its port toward R1').choices(['block', 'drain', 'both']).default('both'))
  .option('--runs <n>', 'rounds per mode', '3')
  .option('--pause <ms>', 'pause between rounds, ms (R1 damps its triggered updates)', '3000')
  .option('--standby <ms>', 'standby refresh of R2 and R3 toward R1, ms (0: off)', '0')
  .showHelpAfterError();
program.parse();
const o = program.opts<{ r1: RealR1 | 'both'; mode: 'block' | 'drain' | 'both'; runs: string; pause: string; standby: string }>();

const kinds: RealR1[] = o.r1 === 'both' ? ['bird', 'frr'] : [o.r1];
const modes: ('block' | 'drain')[] = o.mode === 'both' ? ['block', 'drain'] : [o.mode];
const runs = Number(o.runs);
const standbyRefresh = Number(o.standby);

const range = (xs: (number | null)[]) => {
  const v = xs.filter((x): x is number => x !== null).map(Math.round);
  const missing = xs.length - v.length;
  if (v.length === 0) return '—';
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return `${lo === hi ? `${lo}` : `${lo}–${hi}`}${missing ? ` (+${missing} none)` : ''}`;
};

for (const kind of kinds) {
  const tb = await RealR1Lab.up(kind, { standbyRefresh });
  try {
    const polls = tb.startPolling(50);
    await sleep(1500);
    for (const mode of modes) {
      const results: CutoverResult[] = [];
      for (let i = 0; i < runs; i++) {
        await sleep(Number(o.pause));
        const r = await tb.cutover(mode, polls);
        results.push(r);
        console.log(formatCutover(kind, r));
      }
      console.log(`${kind} ${mode} over ${runs}: R1 via R3 ${range(results.map((r) => r.r1SwitchMs))} ms, first server-2 answer ${range(results.map((r) => r.server2Ms))} ms, ` +
        `failed ${range(results.map((r) => r.failed))}; unblock: R1 via R2 ${range(results.map((r) => r.r1BackMs))} ms, ` +
        `first server-1 answer ${range(results.map((r) => r.server1Ms))} ms, failed ${range(results.map((r) => r.failedAfterUnblock))}`);
    }
  } finally {
    await tb.down();
  }
}
