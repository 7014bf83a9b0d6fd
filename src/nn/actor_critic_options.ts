/**
 * The options of the actor-critic model, and the check of its input scale.
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import type { ObsNormalizer } from "./obs_normalizer.ts";
import { isPowerOfTwo } from "./power_of_two.ts";

/** Options of the `ActorCritic` (`heads.ts`). */
export interface ActorCriticOptions {
  /** observation size (encoder_out_dim, 1 + 2H) */
  inDim: number;
  /** hidden width of both heads */
  hidden: number;
  /** number of waypoints H: the action has 2H dims and log_std is [H, 2] (driving) */
  horizon?: number;
  /**
   * instead of `horizon`, any env's action shape: log_std has this shape and the action
   * its product of dims (e.g. [1] for a 1-D force)
   */
  actionShape?: readonly number[];
  /** draws the initial weights */
  rng: Rng;
  /** initial value of every log_std entry (default 0) */
  initLogStd?: number;
  /** rows per chunk for `ActorCritic.act` and `ActorCritic.values` (default 256) */
  maxBatch?: number;
  /**
   * (in) per-feature divisors applied to the observation before net.0 of both heads,
   * powers of two (see `ActorCritic.inputScale`); default none (raw input)
   */
  inputScale?: Float64Array;
  /** the value head's output is multiplied by this power of two (default 1) */
  valueScale?: number;
  /**
   * the running observation normaliser (see `ActorCritic.obsNorm`); default
   * none. Held by reference: the trainer updates its statistics.
   */
  obsNorm?: ObsNormalizer;
}

/**
 * A copy of `scale` after checking it has `inDim` entries, each a power of two (what makes
 * folding the input scale into the weights exact).
 *
 * @example
 * ```ts
 * checkInputScale(new Float64Array([1, 4]), 2); // Float64Array [1, 4]
 * ```
 */
export function checkInputScale(scale: Float64Array, inDim: number): Float64Array {
  if (scale.length !== inDim) {
    throw new RangeError(`inputScale has ${scale.length} entries, the input has ${inDim}`);
  }
  for (const s of scale) {
    if (!isPowerOfTwo(s)) {
      throw new RangeError(`inputScale entries must be powers of two, got ${s}`);
    }
  }
  return Float64Array.from(scale);
}
