/**
 * Statistics across independent training seeds, as `rliable` (Agarwal et al., 2021)
 * recommends reporting them: the mean with the sample standard deviation, the
 * interquartile mean (IQM, the mean of the middle 50% of seeds, robust to one lucky
 * or unlucky seed), and 95% percentile-bootstrap confidence intervals of both, from
 * resampling the seeds with replacement. The bootstrap draws come from a fixed seed,
 * so a summary is reproducible to the bit.
 *
 * @module
 */

import { Rng } from "../math/mod.ts";

/** How {@linkcode describeSeeds} computes its intervals; written into `summary.json`. */
export interface IntervalMethod {
  /** Bootstrap resamples of the seeds. */
  samples: number;
  /** Seed of the resampling stream (xoshiro128**). */
  seed: number;
  /** Coverage of the interval, e.g. 0.95. */
  level: number;
}

/** The method used unless told otherwise: 10,000 resamples, stream seed 0, 95%. */
export const DEFAULT_INTERVAL_METHOD: Readonly<IntervalMethod> = Object.freeze({
  samples: 10_000,
  seed: 0,
  level: 0.95,
});

/** One metric across seeds. */
export interface SeedStats {
  /** Seeds with a finite value (the others are left out). */
  n: number;
  /** Mean over seeds. */
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); null for a single seed. */
  std: number | null;
  /** Interquartile mean: scipy's `trim_mean(x, 0.25)`, as rliable computes it. */
  iqm: number;
  /** Percentile-bootstrap interval of the mean, [low, high]. */
  mean_ci: [number, number];
  /** Percentile-bootstrap interval of the IQM, [low, high]. */
  iqm_ci: [number, number];
  /** Smallest and largest value. */
  min: number;
  /** Largest value. */
  max: number;
}

/**
 * Mean of `xs` (NaN when empty).
 *
 * @example
 * ```ts
 * mean([1, 2, 6]); // 3
 * ```
 */
export function mean(xs: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < xs.length; i++) sum += xs[i];
  return sum / xs.length;
}

/**
 * Sample standard deviation (denominator n - 1); null for fewer than two values.
 *
 * @example
 * ```ts
 * sampleStd([1, 2, 3]); // 1
 * ```
 */
export function sampleStd(xs: ArrayLike<number>): number | null {
  if (xs.length < 2) return null;
  const m = mean(xs);
  let ss = 0;
  for (let i = 0; i < xs.length; i++) ss += (xs[i] - m) * (xs[i] - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/**
 * Interquartile mean: drops floor(n / 4) values from each end of the sorted list and
 * averages the rest (scipy `trim_mean(x, 0.25)`, rliable's IQM). Below four values
 * nothing is dropped.
 *
 * @example
 * ```ts
 * interquartileMean([100, 1, 2, 3]); // 2.5
 * ```
 */
export function interquartileMean(xs: ArrayLike<number>): number {
  const sorted = Float64Array.from(xs).sort();
  return trimmedMeanOfSorted(sorted);
}

function trimmedMeanOfSorted(sorted: Float64Array): number {
  const cut = Math.floor(sorted.length / 4);
  let sum = 0;
  for (let i = cut; i < sorted.length - cut; i++) sum += sorted[i];
  return sum / (sorted.length - 2 * cut);
}

/**
 * The q-quantile (0..1) of sorted values, linearly interpolated between the two
 * nearest ranks (numpy's default).
 *
 * @example
 * ```ts
 * quantileOfSorted(new Float64Array([1, 2, 3, 4]), 0.5); // 2.5
 * ```
 */
export function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Mean, standard deviation, IQM, range, and percentile-bootstrap intervals of the mean
 * and of the IQM of `values` (one per seed; non-finite values are left out). Null when
 * no value is finite.
 *
 * @example
 * ```ts
 * const s = describeSeeds([26.1, 27.3, 25.9, 26.8]);
 * s!.mean_ci[0] <= s!.mean && s!.mean <= s!.mean_ci[1]; // true
 * ```
 */
export function describeSeeds(
  values: readonly (number | null)[],
  method: IntervalMethod = DEFAULT_INTERVAL_METHOD,
): SeedStats | null {
  const xs = Float64Array.from(
    values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)),
  );
  const n = xs.length;
  if (n === 0) return null;
  const sorted = xs.slice().sort();
  // Every resample draws n seeds with replacement from one stream, so the intervals of
  // the mean and of the IQM come from the same resamples.
  const rng = new Rng(method.seed);
  const means = new Float64Array(method.samples);
  const iqms = new Float64Array(method.samples);
  const resample = new Float64Array(n);
  for (let b = 0; b < method.samples; b++) {
    for (let i = 0; i < n; i++) resample[i] = xs[rng.int(n)];
    means[b] = mean(resample);
    iqms[b] = trimmedMeanOfSorted(resample.sort());
  }
  means.sort();
  iqms.sort();
  const tail = (1 - method.level) / 2;
  const interval = (s: Float64Array): [number, number] => [
    quantileOfSorted(s, tail),
    quantileOfSorted(s, 1 - tail),
  ];
  return {
    n,
    mean: mean(xs),
    std: sampleStd(xs),
    iqm: trimmedMeanOfSorted(sorted),
    mean_ci: interval(means),
    iqm_ci: interval(iqms),
    min: sorted[0],
    max: sorted[n - 1],
  };
}
