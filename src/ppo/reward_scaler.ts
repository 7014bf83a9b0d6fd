/**
 * Reward scaling as SB3's `VecNormalize(norm_reward=True)` does it: each env copy keeps a
 * running discounted return (reset when its episode ends); a running variance of those
 * returns is updated on every step's batch; the rewards PPO learns from are divided by
 * its standard deviation and clipped. The returns a run reports stay the unscaled ones.
 *
 * @module
 */

import { RunningMeanStd } from "../math/mod.ts";
import type { MeanStdState } from "../math/mod.ts";

/** Options of {@linkcode RewardScaler}. */
export interface RewardScalerOptions {
  /** Discount of the running return (the run's gamma). */
  gamma: number;
  /** Added to the variance before the square root (1e-8). */
  epsilon: number;
  /** A scaled reward is clipped to ±clip. */
  clip: number;
}

/**
 * Running return per env copy and the running variance of those returns.
 *
 * @example
 * ```ts
 * const scaler = new RewardScaler(2, { gamma: 0.99, epsilon: 1e-8, clip: 10 });
 * const scaled = new Float64Array(2);
 * const running = new Uint8Array([1, 1]);
 * scaler.scale(new Float64Array([-3, 5]), { active: running, done: new Uint8Array(2), out: scaled });
 * ```
 */
export class RewardScaler {
  /** Running mean and variance of the discounted returns (the checkpoint's `ret_rms`). */
  readonly retRms: RunningMeanStd = new RunningMeanStd(1);
  /** (N) each copy's discounted return of its current episode so far. */
  readonly returns: Float64Array;
  readonly #opts: RewardScalerOptions;

  /** A scaler of `numEnvs` copies, all returns at 0. */
  constructor(numEnvs: number, opts: RewardScalerOptions) {
    this.returns = new Float64Array(numEnvs);
    this.#opts = { ...opts };
  }

  /**
   * One step of the copies where `active` is 1: returns = γ · returns + reward, the
   * variance updated with that batch of returns, then each reward into `out` as
   * clip(reward / sqrt(var + ε), ±clip); the return of a copy whose episode ended
   * (`done`) restarts at 0.
   */
  scale(
    rewards: Float64Array,
    opts: { active: Uint8Array; done: Uint8Array; out: Float64Array },
  ): void {
    const { active, done, out } = opts;
    const { gamma, epsilon, clip } = this.#opts;
    const ret = this.returns, n = ret.length;
    for (let i = 0; i < n; i++) if (active[i]) ret[i] = ret[i] * gamma + rewards[i];
    this.retRms.update(ret, n, active);
    const std = Math.sqrt(this.retRms.var[0] + epsilon);
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      const r = rewards[i] / std;
      out[i] = r < -clip ? -clip : r > clip ? clip : r;
      if (done[i]) ret[i] = 0;
    }
  }

  /** The statistics (a copy; the per-copy returns are 0 between rollouts). */
  state(): MeanStdState {
    return this.retRms.state();
  }

  /** Puts back statistics taken by {@linkcode RewardScaler.state}; every return to 0. */
  setState(s: MeanStdState): void {
    this.retRms.setState(s);
    this.returns.fill(0);
  }
}
