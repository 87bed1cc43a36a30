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

/** Each run over the baseline's run of the same round (`xs[i]` and `base[i]` ran in round i). */
export const overRound = (xs: number[], base: number[]): Spread => spread(xs.map((x, round) => x / base[round]!));

/** "median (min–max)", two decimals. */
export const formatSpread = (x: Spread): string => `${x.median.toFixed(2)} (${x.min.toFixed(2)}–${x.max.toFixed(2)})`;
