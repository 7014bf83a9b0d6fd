/**
 * Running mean and variance per feature, merged batch by batch (Chan et al.'s parallel
 * formula), as Stable-Baselines3's `RunningMeanStd` keeps them for `VecNormalize`.
 *
 * @module
 */

/** A snapshot of a {@linkcode RunningMeanStd}'s statistics. */
export interface MeanStdState {
  /** (dim) running mean. */
  mean: Float64Array;
  /** (dim) running (population) variance. */
  var: Float64Array;
  /** Rows seen, plus the small prior count the statistics start with. */
  count: number;
}

/**
 * Mean and variance of `dim` features over every row it has been given. It starts as
 * SB3's does: mean 0, variance 1, count 1e-4 (a prior that the first batch outweighs).
 *
 * @example
 * ```ts
 * const rms = new RunningMeanStd(2);
 * rms.update(new Float64Array([1, 10, 3, 30]), 2); // two rows of two features
 * rms.mean; // ≈ [2, 20]
 * rms.var; // ≈ [1, 100]
 * ```
 */
export class RunningMeanStd {
  /** (dim) running mean. */
  readonly mean: Float64Array;
  /** (dim) running variance (population: divided by the count). */
  readonly var: Float64Array;
  /** Rows seen so far, plus the prior count. */
  count: number;
  readonly #batchMean: Float64Array;
  readonly #batchSq: Float64Array;

  /** Statistics of `dim` features, at the prior (mean 0, variance 1, count `priorCount`). */
  constructor(readonly dim: number, opts: { priorCount?: number } = {}) {
    if (!Number.isInteger(dim) || dim < 1) {
      throw new RangeError(`RunningMeanStd: dim must be a positive integer, got ${dim}`);
    }
    this.mean = new Float64Array(dim);
    this.var = new Float64Array(dim).fill(1);
    this.count = opts.priorCount ?? 1e-4;
    this.#batchMean = new Float64Array(dim);
    this.#batchSq = new Float64Array(dim);
  }

  /**
   * Merges the batch of rows `x` (rows, dim) where `mask` is absent or 1 into the
   * statistics: the batch's mean and population variance (two passes, as `np.mean` and
   * `np.var`), then SB3's `update_from_moments`. A batch of no rows changes nothing.
   */
  update(x: ArrayLike<number>, rows: number, mask?: Uint8Array): void {
    // bv: the batch's sum of squared deviations from its mean
    const d = this.dim, bm = this.#batchMean, bv = this.#batchSq;
    bm.fill(0);
    bv.fill(0);
    let n = 0;
    for (let r = 0; r < rows; r++) {
      if (mask && mask[r] === 0) continue;
      n++;
      for (let j = 0; j < d; j++) bm[j] += x[r * d + j];
    }
    if (n === 0) return;
    for (let j = 0; j < d; j++) bm[j] /= n;
    for (let r = 0; r < rows; r++) {
      if (mask && mask[r] === 0) continue;
      for (let j = 0; j < d; j++) {
        const e = x[r * d + j] - bm[j];
        bv[j] += e * e;
      }
    }
    const count = this.count, total = count + n;
    for (let j = 0; j < d; j++) {
      const delta = bm[j] - this.mean[j];
      // m_a + m_b + delta² · count · n / total, with m_b = batch var · n = bv[j]
      const m2 = this.var[j] * count + bv[j] + delta * delta * count * n / total;
      this.mean[j] += delta * n / total;
      this.var[j] = m2 / total;
    }
    this.count = total;
  }

  /** A copy of the statistics. */
  state(): MeanStdState {
    return { mean: this.mean.slice(), var: this.var.slice(), count: this.count };
  }

  /** Puts back statistics taken by {@linkcode RunningMeanStd.state} (sizes must match). */
  setState(s: MeanStdState): void {
    if (s.mean.length !== this.dim || s.var.length !== this.dim) {
      throw new RangeError(
        `RunningMeanStd: state of ${s.mean.length} features, expected ${this.dim}`,
      );
    }
    this.mean.set(s.mean);
    this.var.set(s.var);
    this.count = s.count;
  }
}
