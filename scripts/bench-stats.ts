// What the benchmarks make of their rounds: medians, and each run set over a
// baseline's run of the same round — on this shared machine the speed drifts
// between rounds more than the runs of one round differ.

/** The median of the runs (of an even count the upper middle one: a value that was measured). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A median and the range around it. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export const spread = (xs: number[]): Spread => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });

/**
 * Each run over the baseline's run of the same round (`xs[i]` and `base[i]`
 * ran in round i), leaving out the rounds where `skip[i]` (the baseline did
 * not show its ceiling: see senderLimited); NaN if none is left.
 */
export const overRound = (xs: number[], base: number[], skip: readonly boolean[] = []): Spread => {
  const ratios = xs.flatMap((x, round) => (skip[round] ? [] : [x / base[round]!]));
  return ratios.length > 0 ? spread(ratios) : { median: NaN, min: NaN, max: NaN };
};

/**
 * A forwarding run that delivered (nearly) all the sender offered: the sender,
 * not the router, was the limit — the run says only that the router kept up.
 */
export const senderLimited = (delivered: number, offered: number): boolean => delivered >= 0.98 * offered;

/** "median (min–max)", two decimals. */
export const formatSpread = (x: Spread): string =>
  Number.isNaN(x.median) ? 'n/a (every round sender-limited)' : `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
