/**
 * N driving environments stepped in one call over flat typed arrays, with same-step
 * auto-reset, for rollouts without per-step allocation.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { Episodes } from "./_episodes.ts";

/**
 * A batch of N environments over flat arrays. Any environment that fills these
 * arrays can be trained on; row i of an (N, D) array is `[i * D, (i + 1) * D)`.
 *
 * @example
 * ```ts
 * function rollout(venv: VecEnv, plans: Float64Array, steps: number): number {
 *   let finished = 0;
 *   for (let t = 0; t < steps; t++) {
 *     venv.step(plans); // plans: (N, actionDim) from venv.obs
 *     for (let i = 0; i < venv.numEnvs; i++) finished += venv.terminated[i] | venv.truncated[i];
 *   }
 *   return finished;
 * }
 * ```
 */
export interface VecEnv {
  /** N: environments stepped together. */
  readonly numEnvs: number;
  /** Length of one observation row. */
  readonly obsDim: number;
  /** Length of one action (plan) row. */
  readonly actionDim: number;
  /** (N, obsDim) current observations; after an auto-reset, the new episode's first. */
  readonly obs: Float64Array;
  /** (N, obsDim) the observation each env's step produced before any auto-reset (equal to `obs` for envs not done). */
  readonly finalObs: Float64Array;
  /** (N) rewards of the latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the episode ended this step: goal reached, left the corridor or the world. */
  readonly terminated: Uint8Array;
  /** (N) 1 when `max_episode_steps` was hit this step without terminating. */
  readonly truncated: Uint8Array;
  /** (N) 1 when the goal was reached this step. */
  readonly success: Uint8Array;
  /** (N) return of the episode that ended this step (valid where terminated or truncated). */
  readonly episodeReturns: Float64Array;
  /** (N) length of the episode that ended this step (valid where terminated or truncated). */
  readonly episodeLengths: Int32Array;
  /** (N) fraction of targets reached or passed, this step (before any reset). */
  readonly routeCompletion: Float64Array;
  /** (N) route length left (m), this step (before any reset). */
  readonly distanceToGoal: Float64Array;
  /** (N) longitudinal acceleration applied this step (m/s^2). */
  readonly accel: Float64Array;
  /** (N) 1 when the episode ended this step by leaving the corridor or the world. */
  readonly offRoute: Uint8Array;
  /** Starts every env: env i with `seeds[i]`. */
  reset(seeds: ArrayLike<number>): void;
  /** Steps every env with its row of `plans` (N, actionDim); finished envs restart. */
  step(plans: Float64Array): void;
}

/**
 * N toy driving envs. A finished env i restarts in the same step with seed = its
 * previous seed + N, so seeds `s, s + N, s + 2N, ...` of all envs never collide
 * when the first seeds are distinct and consecutive.
 *
 * @example
 * ```ts
 * const venv = new DrivingVecEnv(DEFAULT_ENV_CONFIG, 16);
 * venv.reset(Array.from({ length: 16 }, (_, i) => 100 + i));
 * const plans = new Float64Array(16 * venv.actionDim);
 * venv.step(plans); // all plans at the car: every car brakes
 * ```
 */
export class DrivingVecEnv implements VecEnv {
  /** N: environments stepped together. */
  readonly numEnvs: number;
  /** 1 + 2H. */
  readonly obsDim: number;
  /** 2H. */
  readonly actionDim: number;
  readonly obs: Float64Array;
  readonly finalObs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly success: Uint8Array;
  readonly episodeReturns: Float64Array;
  readonly episodeLengths: Int32Array;
  readonly routeCompletion: Float64Array;
  readonly distanceToGoal: Float64Array;
  readonly accel: Float64Array;
  /** (N) 1 when the car left the corridor or the world this step. */
  readonly offRoute: Uint8Array;
  /** (N) targets reached so far (this step, before any reset). */
  readonly targetsReached: Int32Array;
  /** (N) car speed after this step (m/s, before any reset). */
  readonly speed: Float64Array;
  /** (N) seed of each env's current episode. */
  readonly seeds: Float64Array;

  readonly #episodes: Episodes;
  /** (N) return so far of each running episode. */
  readonly #runningReturns: Float64Array;
  #started = false;

  /** Validates `cfg` and allocates every buffer once; call `reset` next. */
  constructor(cfg: EnvConfig, numEnvs: number) {
    const e = new Episodes(cfg, numEnvs);
    this.#episodes = e;
    this.numEnvs = numEnvs;
    this.obsDim = e.obsDim;
    this.actionDim = e.actionDim;
    this.obs = new Float64Array(numEnvs * e.obsDim);
    this.finalObs = new Float64Array(numEnvs * e.obsDim);
    this.rewards = e.rewards;
    this.terminated = e.terminated;
    this.truncated = e.truncated;
    this.success = e.success;
    this.offRoute = e.offRoute;
    this.routeCompletion = e.routeCompletion;
    this.distanceToGoal = e.distanceToGoal;
    this.accel = e.accel;
    this.targetsReached = e.targetsReached;
    this.speed = e.speed;
    this.seeds = e.seeds;
    this.episodeReturns = new Float64Array(numEnvs);
    this.episodeLengths = new Int32Array(numEnvs);
    this.#runningReturns = new Float64Array(numEnvs);
  }

  /** The (validated, frozen) configuration. */
  get config(): Readonly<EnvConfig> {
    return this.#episodes.cfg;
  }

  reset(seeds: ArrayLike<number>): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset: expected ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    const e = this.#episodes;
    const d = this.obsDim;
    for (let i = 0; i < this.numEnvs; i++) {
      e.resetEnv(i, seeds[i], this.obs, i * d);
      e.clearOutputs(i);
      this.#runningReturns[i] = 0;
      this.episodeReturns[i] = 0;
      this.episodeLengths[i] = 0;
    }
    this.finalObs.set(this.obs);
    this.#started = true;
  }

  step(plans: Float64Array): void {
    if (!this.#started) throw new Error("DrivingVecEnv.step: call reset() first");
    const n = this.numEnvs, d = this.obsDim, a = this.actionDim;
    if (plans.length !== n * a) {
      throw new RangeError(
        `step: plans must be (${n}, ${a}) = ${n * a} numbers, got ${plans.length}`,
      );
    }
    const e = this.#episodes;
    const obs = this.obs, finalObs = this.finalObs;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      e.stepEnv(i, plans, i * a, finalObs, row);
      const episodeReturn = this.#runningReturns[i] + e.rewards[i];
      if (e.terminated[i] === 1 || e.truncated[i] === 1) {
        this.episodeReturns[i] = episodeReturn;
        this.episodeLengths[i] = e.stepCount[i];
        this.#runningReturns[i] = 0;
        e.resetEnv(i, e.seeds[i] + n, obs, row);
      } else {
        this.#runningReturns[i] = episodeReturn;
        for (let j = 0; j < d; j++) obs[row + j] = finalObs[row + j];
      }
    }
  }
}
