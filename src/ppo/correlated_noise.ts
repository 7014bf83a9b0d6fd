/**
 * Exploration noise correlated in time: per env slot an AR(1) process
 * ε ← ρ·ε + sqrt(1 − ρ²)·ξ (ξ standard normal; ε = ξ at an episode's first step), so
 * each step's ε is still standard normal and the sampled delta μ + σ·ε still has the
 * policy's Gaussian as its law at every step (its log-prob is the one PPO uses), while
 * consecutive steps push the same way for about 1 / (1 − ρ) steps: a manoeuvre that
 * needs the plan moved the same way for a while (a lateral shift, a long brake) gets
 * explored.
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import { gaussianLogProb } from "../nn/mod.ts";

/**
 * AR(1) Gaussian noise for N slots of `dim` numbers.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const noise = new CorrelatedNoise(0.9, { numEnvs: 2, dim: 3 });
 * const mean = new Float64Array(6), logStd = new Float64Array(3);
 * const actions = new Float64Array(6), logp = new Float64Array(2);
 * noise.sample({ mean, logStd, n: 2, rng: new Rng(1) }, { actions, logp });
 * ```
 */
export class CorrelatedNoise {
  /** ρ: the correlation of a slot's noise between consecutive steps, in [0, 1). */
  readonly rho: number;
  // (N, dim) each slot's ε; (N, dim) this step's ξ; (N) 1 where the slot's episode starts
  readonly #eps: Float64Array;
  readonly #xi: Float64Array;
  readonly #fresh: Uint8Array;

  /** Noise for `sizes.numEnvs` slots of `sizes.dim` numbers, every slot starting afresh. */
  constructor(rho: number, sizes: { numEnvs: number; dim: number }) {
    if (!(rho >= 0 && rho < 1)) throw new RangeError(`noise correlation ${rho}: not in [0, 1)`);
    this.rho = rho;
    this.#eps = new Float64Array(sizes.numEnvs * sizes.dim);
    this.#xi = new Float64Array(sizes.numEnvs * sizes.dim);
    this.#fresh = new Uint8Array(sizes.numEnvs).fill(1);
  }

  /** Slot i's next draw starts a new episode's noise (ε = ξ). */
  restart(i: number): void {
    this.#fresh[i] = 1;
  }

  /**
   * Draws every slot's delta μ + σ·ε (n rows of `logStd.length`) into `out.actions` and
   * its joint log-prob under N(μ, σ²) into `out.logp`; the rows' draws are ordered as
   * `sampleGaussian`'s (row by row, dim by dim).
   */
  sample(
    p: { mean: Float64Array; logStd: Float64Array; n: number; rng: Rng },
    out: { actions: Float64Array; logp: Float64Array },
  ): void {
    const { mean, logStd, n, rng } = p;
    const dim = logStd.length, eps = this.#eps, xi = this.#xi, rho = this.rho;
    const keep = Math.sqrt(1 - rho * rho);
    rng.normals(xi, { count: n * dim });
    for (let r = 0; r < n; r++) {
      const fresh = this.#fresh[r] === 1;
      this.#fresh[r] = 0;
      for (let j = 0, o = r * dim; j < dim; j++, o++) {
        eps[o] = fresh ? xi[o] : rho * eps[o] + keep * xi[o];
        out.actions[o] = mean[o] + Math.exp(logStd[j]) * eps[o];
      }
    }
    gaussianLogProb(out.actions, mean, logStd, n, out.logp);
  }
}
