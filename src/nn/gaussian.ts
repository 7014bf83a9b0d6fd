/**
 * The diagonal Gaussian policy over the 2H waypoint-delta dims with a
 * state-independent `log_std`: joint log-probabilities and entropies (summed over the
 * 2H dims, one number per sample), their gradients, and sampling.
 *
 * Formulas follow `torch.distributions.Normal`:
 * log p(a) = Σ_j −(a_j − μ_j)² / (2σ_j²) − log σ_j − log √(2π),
 * H = Σ_j ½ + ½ log(2π) + log σ_j, with σ = exp(log_std).
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";

const LOG_SQRT_2PI = Math.log(Math.sqrt(2 * Math.PI));
const HALF_LOG_2PI_E = 0.5 + 0.5 * Math.log(2 * Math.PI);

/**
 * Joint log-probabilities of a batch of actions.
 * Shapes: actions, mean (n, D); logStd (D); logpOut (n). D = logStd.length.
 *
 * @example
 * ```ts
 * const logp = new Float64Array(1);
 * gaussianLogProb(new Float64Array([0, 0]), new Float64Array([0, 0]), new Float64Array(2), 1, logp);
 * // logp[0] = -log(2π)
 * ```
 */
export function gaussianLogProb(
  actions: Float64Array,
  mean: Float64Array,
  logStd: Float64Array,
  n: number,
  logpOut: Float64Array,
): void {
  const dim = logStd.length;
  const twoVar = twoVariances(logStd);
  for (let r = 0, ro = 0; r < n; r++, ro += dim) {
    logpOut[r] = jointLogProbRow(actions, mean, logStd, twoVar, ro);
  }
}

// σ and 2σ² per dimension, computed once per call rather than per row (Math.exp of the
// same number gives the same bits every time, so every row's numbers are what they
// were). Scratch, reused: holds nothing between calls.
let stdScratch = new Float64Array(0);
let twoVarScratch = new Float64Array(0);
function twoVariances(logStd: Float64Array): Float64Array {
  const dim = logStd.length;
  if (twoVarScratch.length < dim) {
    stdScratch = new Float64Array(dim);
    twoVarScratch = new Float64Array(dim);
  }
  for (let j = 0; j < dim; j++) {
    const std = Math.exp(logStd[j]);
    stdScratch[j] = std;
    twoVarScratch[j] = 2 * (std * std);
  }
  return twoVarScratch;
}

function jointLogProbRow(
  actions: Float64Array,
  mean: Float64Array,
  logStd: Float64Array,
  twoVar: Float64Array,
  ro: number,
): number {
  const dim = logStd.length;
  let logp = 0;
  for (let j = 0; j < dim; j++) {
    const diff = actions[ro + j] - mean[ro + j];
    logp += -(diff * diff) / twoVar[j] - logStd[j] - LOG_SQRT_2PI;
  }
  return logp;
}

/**
 * Backward of {@linkcode gaussianLogProb}, accumulating, given dLogp (n) = ∂L/∂logp:
 * dMean (n, D) += dLogp · (a − μ)/σ², dLogStd (D) += Σ_rows dLogp · ((a − μ)²/σ² − 1).
 *
 * @example
 * ```ts
 * const dMean = new Float64Array(2);
 * const dLogStd = new Float64Array(2);
 * gaussianLogProbBackward(dMean, dLogStd, new Float64Array([1]), {
 *   actions: new Float64Array([1, 0]),
 *   mean: new Float64Array(2),
 *   logStd: new Float64Array(2),
 *   n: 1,
 * }); // dMean = [1, 0], dLogStd = [0, -1]
 * ```
 */
export function gaussianLogProbBackward(
  dMean: Float64Array,
  dLogStd: Float64Array,
  dLogp: Float64Array,
  opts: { actions: Float64Array; mean: Float64Array; logStd: Float64Array; n: number },
): void {
  const { actions, mean, logStd, n } = opts;
  const dim = logStd.length;
  for (let j = 0; j < dim; j++) {
    const std = Math.exp(logStd[j]);
    const invVar = 1 / (std * std);
    let dls = 0;
    for (let r = 0, idx = j; r < n; r++, idx += dim) {
      const g = dLogp[r];
      const z = (actions[idx] - mean[idx]) * invVar; // (a − μ)/σ²
      dMean[idx] += g * z;
      dls += g * (z * (actions[idx] - mean[idx]) - 1);
    }
    dLogStd[j] += dls;
  }
}

/**
 * Joint entropy of the Gaussian, the same for every sample since log_std does not
 * depend on the state: Σ_j ½ + ½ log(2π) + log σ_j.
 *
 * @example
 * ```ts
 * const h = gaussianEntropy(new Float64Array(40)); // 40 · 1.4189...
 * ```
 */
export function gaussianEntropy(logStd: Float64Array): number {
  let h = 0;
  for (let j = 0; j < logStd.length; j++) h += HALF_LOG_2PI_E + logStd[j];
  return h;
}

/**
 * Backward of {@linkcode gaussianEntropy}: ∂H/∂log σ_j = 1, so dLogStd (D) += dEntropy.
 *
 * @example
 * ```ts
 * const dLogStd = new Float64Array(4);
 * gaussianEntropyBackward(dLogStd, -0.01); // entropy bonus 0.01 in a loss to minimise
 * ```
 */
export function gaussianEntropyBackward(dLogStd: Float64Array, dEntropy: number): void {
  for (let j = 0; j < dLogStd.length; j++) dLogStd[j] += dEntropy;
}

/**
 * Draws a = μ + σ·ε, ε ~ N(0, I) for each of n rows (row by row, dim by dim, from
 * `rng`) and writes the joint log-probability of each draw, computed from the stored
 * action exactly as {@linkcode gaussianLogProb} does, so a PPO ratio starts at exactly 1.
 * Shapes: mean, actionsOut (n, D), two different arrays; logStd (D); logpOut (n).
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const actions = new Float64Array(4);
 * const logp = new Float64Array(2);
 * sampleGaussian(new Float64Array(4), new Float64Array(2), 2, new Rng(7), actions, logp);
 * ```
 */
export function sampleGaussian(
  mean: Float64Array,
  logStd: Float64Array,
  n: number,
  rng: Rng,
  actionsOut: Float64Array,
  logpOut: Float64Array,
): void {
  const dim = logStd.length;
  if (actionsOut === mean) throw new RangeError("sampleGaussian: actionsOut must not be mean");
  const twoVar = twoVariances(logStd), std = stdScratch;
  // ε for all rows at once, row by row and dim by dim: the order of the draws
  rng.normals(actionsOut, { count: n * dim });
  for (let r = 0, ro = 0; r < n; r++, ro += dim) {
    for (let j = 0; j < dim; j++) actionsOut[ro + j] = mean[ro + j] + std[j] * actionsOut[ro + j];
    logpOut[r] = jointLogProbRow(actionsOut, mean, logStd, twoVar, ro);
  }
}
