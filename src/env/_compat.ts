/**
 * The auto-resetting forms the trainer and evaluation still use while they move to the
 * contract with masks: an env wrapped in {@linkcode EpisodeStatistics} with auto-reset.
 *
 * @module
 */

import { EpisodeStatistics } from "./episode_statistics.ts";
import { MOUNTAIN_CAR_MAX_STEPS, MountainCar } from "./mountain_car.ts";

/** Options of {@linkcode MountainCarVecEnv}. */
export interface MountainCarOptions {
  /** Steps after which an episode is truncated (default 999, Gymnasium's). */
  maxEpisodeSteps?: number;
}

/**
 * N MountainCarContinuous envs with their episodes kept and same-step auto-reset (seed + N).
 *
 * @example
 * ```ts
 * const venv = new MountainCarVecEnv(4);
 * venv.reset([0, 1, 2, 3]);
 * venv.step(new Float64Array([1, 1, -1, 0])); // one force per env
 * ```
 */
export class MountainCarVecEnv extends EpisodeStatistics {
  /** Allocates every buffer once; call `reset` next. */
  constructor(numEnvs: number, opts: MountainCarOptions = {}) {
    const cap = opts.maxEpisodeSteps ?? MOUNTAIN_CAR_MAX_STEPS;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RangeError(`MountainCarVecEnv: maxEpisodeSteps must be >= 1, got ${cap}`);
    }
    super(new MountainCar(numEnvs, cap), { autoReset: true });
  }
}
