/**
 * The running observation normaliser both heads see their input through (SB3's
 * `VecNormalize(norm_obs=True)`): z -> clamp((z − mean) / sqrt(var + epsilon), ±clip),
 * with mean and var running statistics of the training observations. A checkpoint
 * carries it as `obs_rms`; the Python loader and the ONNX export apply the same formula.
 *
 * @module
 */

import { RunningMeanStd } from "../math/mod.ts";

/** A normaliser's numbers, as a checkpoint's `obs_rms` holds them. */
export interface ObsRms {
  /** (obs_dim) running mean of the observation. */
  mean: Float64Array;
  /** (obs_dim) running variance, ≥ 0. */
  var: Float64Array;
  /** Observations the statistics were taken over (plus SB3's prior count 1e-4). */
  count: number;
  /** Added to the variance before the square root. */
  epsilon: number;
  /** The normalised value is clamped to ±clip. */
  clip: number;
}

/**
 * Running mean and variance of the observation (updated by the trainer on each batch of
 * training observations as they arrive, never in evaluation) and the normalisation they
 * define.
 *
 * @example
 * ```ts
 * const norm = new ObsNormalizer(2, { epsilon: 1e-8, clip: 10 });
 * const obs = new Float64Array([1, 10, 3, 30]);
 * norm.update(obs, 2);
 * const z = new Float64Array(4);
 * norm.normalize(obs, 2, z); // ≈ [-1, -1, 1, 1]
 * ```
 */
export class ObsNormalizer extends RunningMeanStd implements ObsRms {
  /** Added to the variance before the square root (SB3: 1e-8). */
  readonly epsilon: number;
  /** Bound of the normalised value (SB3's `clip_obs`: 10). */
  readonly clip: number;

  /** A normaliser of `dim` features at the prior (mean 0, variance 1). */
  constructor(dim: number, opts: { epsilon: number; clip: number }) {
    super(dim);
    this.epsilon = opts.epsilon;
    this.clip = opts.clip;
  }

  /** A normaliser holding `rms`'s numbers (a copy). */
  static from(rms: ObsRms): ObsNormalizer {
    const norm = new ObsNormalizer(rms.mean.length, { epsilon: rms.epsilon, clip: rms.clip });
    norm.setState(rms);
    return norm;
  }

  /**
   * obs (rows, dim) -> out (rows, dim): clamp((z − mean) / sqrt(var + epsilon), ±clip).
   * `out` may be `obs`.
   */
  normalize(obs: Float64Array, rows: number, out: Float64Array): void {
    const d = this.dim, mean = this.mean, variance = this.var;
    const eps = this.epsilon, hi = this.clip, lo = -this.clip;
    for (let r = 0; r < rows; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) {
        const x = (obs[o + j] - mean[j]) / Math.sqrt(variance[j] + eps);
        out[o + j] = x < lo ? lo : x > hi ? hi : x;
      }
    }
  }
}
