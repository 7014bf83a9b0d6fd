/**
 * MountainCarContinuous, Gymnasium's `MountainCarContinuous-v0` dynamics: a car in a
 * valley, too weak to drive up the right hill directly, must swing back and forth.
 * Observation [position, velocity]; action a 1-D force, clipped to [-1, 1] by the
 * dynamics. Per step: velocity += force * 0.0015 - 0.0025 * cos(3 * position), clipped to
 * ±0.07; position += velocity, clipped to [-1.2, 0.6] (velocity zeroed at the left wall).
 * The episode terminates (success) when position >= 0.45; reward is 100 then, minus
 * 0.1 * action^2 every step (the unclipped action, as in Gymnasium). Starts at a position
 * uniform in [-0.6, -0.4] from the episode's seed, velocity 0.
 *
 * @module
 */

import { Rng } from "../../math/mod.ts";
import type { EpisodeMetric, VecEnv } from "../contract.ts";

/** Gymnasium's episode cap of `MountainCarContinuous-v0`. */
export const MOUNTAIN_CAR_MAX_STEPS = 999;

/** The per-episode metrics of {@linkcode MountainCar}. */
export const MOUNTAIN_CAR_METRICS: readonly EpisodeMetric[] = Object.freeze([{
  name: "max_position",
  description: "highest position reached in the episode (goal at 0.45)",
  better: "higher",
  mean: "max_position_mean",
  headline: { baseline: true },
}]);

/** N MountainCarContinuous envs. */
export class MountainCar implements VecEnv {
  readonly obsDim = 2;
  readonly actionDim = 1;
  /** Position spans ~1.8, velocity ±0.07: divided by 1 and 1/16. */
  readonly obsScale = new Float64Array([1, 1 / 16]);
  readonly metrics = MOUNTAIN_CAR_METRICS;
  readonly obs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly success: Uint8Array;
  readonly #maxPosition: Float64Array;
  readonly #rng = new Rng(0);

  /** `maxEpisodeSteps`: Gymnasium's 999 unless given. */
  constructor(readonly numEnvs: number, readonly maxEpisodeSteps = MOUNTAIN_CAR_MAX_STEPS) {
    this.obs = new Float64Array(numEnvs * 2);
    this.rewards = new Float64Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
    this.success = this.terminated; // the goal is the only way an episode terminates
    this.#maxPosition = new Float64Array(numEnvs);
  }

  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void {
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      this.#rng.seed(seeds[i]);
      this.#maxPosition[i] = this.obs[2 * i] = this.#rng.range(-0.6, -0.4);
      this.obs[2 * i + 1] = 0;
    }
  }

  step(actions: Float64Array, mask?: Uint8Array): void {
    const obs = this.obs;
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && !mask[i]) continue;
      const action = actions[i], force = Math.min(Math.max(action, -1), 1);
      let position = obs[2 * i], velocity = obs[2 * i + 1];
      velocity += force * 0.0015 - 0.0025 * Math.cos(3 * position);
      velocity = Math.min(Math.max(velocity, -0.07), 0.07);
      position = Math.min(Math.max(position + velocity, -1.2), 0.6);
      if (position === -1.2 && velocity < 0) velocity = 0;
      const reached = position >= 0.45;
      this.rewards[i] = (reached ? 100 : 0) - 0.1 * action * action;
      this.terminated[i] = reached ? 1 : 0;
      if (position > this.#maxPosition[i]) this.#maxPosition[i] = position;
      obs[2 * i] = position;
      obs[2 * i + 1] = velocity;
    }
  }

  writeEpisodeMetrics(i: number, out: Float64Array, offset: number): void {
    out[offset] = this.#maxPosition[i];
  }
}
