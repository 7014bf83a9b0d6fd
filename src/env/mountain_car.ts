/**
 * MountainCarContinuous, Gymnasium's `MountainCarContinuous-v0` dynamics in the
 * {@linkcode VecEnv} shape: an example env with its own sizes (observation 2, action 1)
 * and metrics, trained by the same trainer, loop and evaluation as the driving env.
 *
 * A car in a valley, too weak to drive up the right hill directly, must swing back and
 * forth. Observation [position, velocity]; action a 1-D force, clipped to [-1, 1] by
 * the dynamics. Per step: velocity += force * 0.0015 - 0.0025 * cos(3 * position),
 * clipped to ±0.07; position += velocity, clipped to [-1.2, 0.6] (velocity zeroed at
 * the left wall). The episode terminates (success) when position >= 0.45; reward is
 * 100 then, minus 0.1 * action^2 every step (the unclipped action, as in Gymnasium).
 * Starts at a position uniform in [-0.6, -0.4] from the episode's seed, velocity 0.
 *
 * @module
 */

import { Rng } from "../math/mod.ts";
import type { EpisodeMetric, VecEnv } from "./vec_env.ts";

/** Gymnasium's episode cap of `MountainCarContinuous-v0`. */
export const MOUNTAIN_CAR_MAX_STEPS = 999;

const MIN_POSITION = -1.2;
const MAX_POSITION = 0.6;
const MAX_SPEED = 0.07;
const GOAL_POSITION = 0.45;
const POWER = 0.0015;

/** Options of {@linkcode MountainCarVecEnv}. */
export interface MountainCarOptions {
  /** Steps after which an episode is truncated (default 999, Gymnasium's). */
  maxEpisodeSteps?: number;
}

/**
 * N MountainCarContinuous envs with same-step auto-reset; a finished env i restarts
 * with its previous seed + N (as the driving env does).
 *
 * @example
 * ```ts
 * const venv = new MountainCarVecEnv(4);
 * venv.reset([0, 1, 2, 3]);
 * venv.step(new Float64Array([1, 1, -1, 0])); // one force per env
 * ```
 */
export class MountainCarVecEnv implements VecEnv {
  /** N: environments stepped together. */
  readonly numEnvs: number;
  /** [position, velocity]. */
  readonly obsDim = 2;
  /** [force]. */
  readonly actionDim = 1;
  readonly actionShape: readonly number[] = Object.freeze([1]);
  readonly maxEpisodeSteps: number;
  /** Position spans ~1.8, velocity ±0.07: divided by 1 and 1/16. */
  readonly obsScale: Float64Array = new Float64Array([1, 1 / 16]);
  readonly metrics: readonly EpisodeMetric[] = MOUNTAIN_CAR_METRICS;
  readonly episodeMetrics: Float64Array;
  readonly obs: Float64Array;
  readonly finalObs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly success: Uint8Array;
  readonly episodeReturns: Float64Array;
  readonly episodeLengths: Int32Array;
  /** (N) seed of each env's current episode. */
  readonly seeds: Float64Array;
  readonly #steps: Int32Array;
  readonly #returns: Float64Array;
  readonly #maxPosition: Float64Array;
  readonly #rng = new Rng(0);
  #started = false;

  /** Allocates every buffer once; call `reset` next. */
  constructor(numEnvs: number, opts: MountainCarOptions = {}) {
    const n = numEnvs;
    const cap = opts.maxEpisodeSteps ?? MOUNTAIN_CAR_MAX_STEPS;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RangeError(`MountainCarVecEnv: maxEpisodeSteps must be >= 1, got ${cap}`);
    }
    this.numEnvs = n;
    this.maxEpisodeSteps = cap;
    this.episodeMetrics = new Float64Array(n * MOUNTAIN_CAR_METRICS.length);
    this.obs = new Float64Array(n * 2);
    this.finalObs = new Float64Array(n * 2);
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.success = new Uint8Array(n);
    this.episodeReturns = new Float64Array(n);
    this.episodeLengths = new Int32Array(n);
    this.seeds = new Float64Array(n);
    this.#steps = new Int32Array(n);
    this.#returns = new Float64Array(n);
    this.#maxPosition = new Float64Array(n);
  }

  reset(seeds: ArrayLike<number>): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset: expected ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) {
      this.#start(i, seeds[i]);
      this.episodeReturns[i] = 0;
      this.episodeLengths[i] = 0;
    }
    this.finalObs.set(this.obs);
    this.#started = true;
  }

  step(plans: Float64Array): void {
    if (!this.#started) throw new Error("MountainCarVecEnv.step: call reset() first");
    const n = this.numEnvs;
    if (plans.length !== n) {
      throw new RangeError(`step: plans must be (${n}, 1) = ${n} numbers, got ${plans.length}`);
    }
    const obs = this.obs, finalObs = this.finalObs;
    for (let i = 0; i < n; i++) {
      const action = plans[i];
      const force = Math.min(Math.max(action, -1), 1);
      let position = obs[2 * i], velocity = obs[2 * i + 1];
      velocity += force * POWER - 0.0025 * Math.cos(3 * position);
      velocity = Math.min(Math.max(velocity, -MAX_SPEED), MAX_SPEED);
      position += velocity;
      position = Math.min(Math.max(position, MIN_POSITION), MAX_POSITION);
      if (position === MIN_POSITION && velocity < 0) velocity = 0;
      const reached = position >= GOAL_POSITION;
      const reward = (reached ? 100 : 0) - 0.1 * action * action;
      const steps = ++this.#steps[i];
      if (position > this.#maxPosition[i]) this.#maxPosition[i] = position;
      this.rewards[i] = reward;
      this.terminated[i] = reached ? 1 : 0;
      this.success[i] = reached ? 1 : 0;
      this.truncated[i] = !reached && steps >= this.maxEpisodeSteps ? 1 : 0;
      finalObs[2 * i] = position;
      finalObs[2 * i + 1] = velocity;
      const episodeReturn = this.#returns[i] + reward;
      if (reached || this.truncated[i] === 1) {
        this.episodeReturns[i] = episodeReturn;
        this.episodeLengths[i] = steps;
        this.episodeMetrics[i] = this.#maxPosition[i];
        this.#start(i, this.seeds[i] + n);
      } else {
        this.#returns[i] = episodeReturn;
        obs[2 * i] = position;
        obs[2 * i + 1] = velocity;
      }
    }
  }

  #start(i: number, seed: number): void {
    this.#rng.seed(seed);
    this.seeds[i] = seed;
    this.obs[2 * i] = this.#rng.range(-0.6, -0.4);
    this.obs[2 * i + 1] = 0;
    this.#steps[i] = 0;
    this.#returns[i] = 0;
    this.#maxPosition[i] = this.obs[2 * i];
  }
}

/** The per-episode metrics of {@linkcode MountainCarVecEnv}. */
export const MOUNTAIN_CAR_METRICS: readonly EpisodeMetric[] = Object.freeze([
  {
    name: "max_position",
    description: "highest position reached in the episode (goal at 0.45)",
    mean: "max_position_mean",
    entry: { sft: true },
    label: "max pos",
  },
]);
