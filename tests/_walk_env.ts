/**
 * A small env for the PPO tests: a 1-D walk whose episodes end (terminated) after a
 * length drawn from their seed, 3 to 17 steps, so rollouts hold episodes of different
 * lengths; it records what the tests compare with (the observations the policy acts
 * on, the steps simulated, the seeds its episodes started on).
 */

import { Rng } from "../src/math/rng.ts";
import type { VecEnv } from "../src/env/mod.ts";
import { DEFAULT_PPO_CONFIG } from "../src/ppo/mod.ts";
import type { PpoConfig } from "../src/ppo/mod.ts";

/** PPO settings of the walk: small and quick. */
export const WALK_PPO: PpoConfig = {
  ...DEFAULT_PPO_CONFIG,
  encoder_out_dim: 2,
  hidden_dim: 8,
  num_envs: 3,
  batch_size: 16,
  update_epochs: 2,
  episodes: 1000,
  eval_interval: 1000,
  save_interval: 1000,
  init_log_std: 0,
  value_scale: 1,
};

/** obs [x, steps left / 10]; action a force; reward −|x|; ends after 3..17 steps. */
export class RecordingEnv implements VecEnv {
  readonly obsDim = 2;
  readonly actionDim = 1;
  readonly maxEpisodeSteps = 20;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  /** Every observation a running episode continues from (the policy acts on it). */
  readonly actedOn: number[][] = [];
  /** Steps simulated (rows stepped). */
  simulated = 0;
  /** Seeds of the episodes started, in order. */
  readonly seeds: number[] = [];
  readonly #left: Int32Array;

  constructor(readonly numEnvs: number) {
    this.obs = new Float64Array(2 * numEnvs);
    this.rewards = new Float64Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
    this.#left = new Int32Array(numEnvs);
  }

  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      const rng = new Rng(seeds[i]);
      this.#left[i] = 3 + Math.floor(15 * rng.uniform());
      this.obs[2 * i] = rng.range(-2, 2);
      this.obs[2 * i + 1] = this.#left[i] / 10;
      this.seeds.push(seeds[i]);
      this.actedOn.push([this.obs[2 * i], this.obs[2 * i + 1]]);
    }
  }

  step(actions: Float64Array, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      this.simulated++;
      const x = this.obs[2 * i] + 0.3 * Math.max(-1, Math.min(1, actions[i]));
      this.#left[i]--;
      this.obs[2 * i] = x;
      this.obs[2 * i + 1] = this.#left[i] / 10;
      this.rewards[i] = -Math.abs(x);
      this.terminated[i] = this.#left[i] === 0 ? 1 : 0;
      if (!this.terminated[i]) this.actedOn.push([x, this.#left[i] / 10]);
    }
  }
}
