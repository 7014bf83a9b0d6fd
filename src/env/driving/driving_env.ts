/**
 * The toy driving environment in Gymnasium's shape: `reset(seed) -> {obs, info}`,
 * `step(plan) -> {obs, reward, terminated, truncated, info}`.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { Episodes } from "./_episodes.ts";
import type { Route } from "./route.ts";

/** What a step (or reset) reports besides the observation and reward. */
export interface StepInfo {
  /** The goal was reached this step. */
  success: boolean;
  /** The car left the corridor or the world this step. */
  offRoute: boolean;
  /** Targets reached within `target_reach_radius` so far this episode. */
  targetsReached: number;
  /** Fraction of the route's targets reached or passed (1 on success). */
  routeCompletion: number;
  /** Straight-line distance from the car to the goal, the route's last target (m). */
  distanceToGoal: number;
  /** Car speed after the step (m/s). */
  speed: number;
  /** Longitudinal acceleration applied this step (m/s^2). */
  accel: number;
}

/** Result of {@linkcode DrivingEnv.step}. */
export interface StepResult {
  /** (1 + 2H) observation after the step. */
  obs: Float64Array;
  /** Reward of this step. */
  reward: number;
  /** The episode ended: goal reached, or the car left the corridor or the world. */
  terminated: boolean;
  /** The episode hit `max_episode_steps` without terminating. */
  truncated: boolean;
  /** Progress and vehicle numbers of this step. */
  info: StepInfo;
}

/**
 * One driving episode at a time. The action is the final waypoint plan (2H numbers,
 * car frame, [x1, y1, ..., xH, yH]); a tracking controller follows it for one step.
 * Returned observations are fresh arrays the caller may keep.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const env = new DrivingEnv(DEFAULT_ENV_CONFIG);
 * let { obs } = env.reset(7);
 * const step = env.step(obs.slice(1)); // drive the exact route targets
 * obs = step.obs;
 * ```
 */
export class DrivingEnv {
  /** Length of an observation (1 + 2H). */
  readonly obsDim: number;
  /** Length of a plan (2H). */
  readonly actionDim: number;
  readonly #episodes: Episodes;
  readonly #obs: Float64Array;
  #lastSeed = -1;
  #running = false;

  /** Validates `cfg` (throws a `RangeError` naming a bad key); call `reset` next. */
  constructor(cfg: EnvConfig) {
    this.#episodes = new Episodes(cfg, 1);
    this.obsDim = this.#episodes.obsDim;
    this.actionDim = this.#episodes.actionDim;
    this.#obs = new Float64Array(this.obsDim);
  }

  /** The (validated, frozen) configuration. */
  get config(): Readonly<EnvConfig> {
    return this.#episodes.cfg;
  }

  /** The current episode's route (read-only use; it is overwritten by the next reset). */
  get route(): Route {
    return this.#episodes.routes[0];
  }

  /** Seed of the current episode. */
  get seed(): number {
    return this.#episodes.seeds[0];
  }

  /** Car pose and speed: [x (m), y (m), heading (rad), speed (m/s)] in the world frame (a copy). */
  get pose(): Float64Array {
    return this.#episodes.vehicle.slice(0, 4);
  }

  /**
   * Starts the episode of `seed` (equal seeds, equal episodes). Without a seed, the
   * previous seed + 1 (0 for the first reset).
   */
  reset(seed?: number): { obs: Float64Array; info: StepInfo } {
    const s = seed ?? this.#lastSeed + 1;
    this.#episodes.resetEnv(0, s, this.#obs, 0);
    this.#episodes.clearOutputs(0);
    this.#lastSeed = s;
    this.#running = true;
    return { obs: this.#obs.slice(), info: this.#info() };
  }

  /** Follows `plan` (2H, car frame) for one step. Throws after the episode has ended. */
  step(plan: Float64Array): StepResult {
    if (!this.#running) {
      throw new Error("DrivingEnv.step: call reset() first (no episode running)");
    }
    if (plan.length !== this.actionDim) {
      throw new RangeError(
        `DrivingEnv.step: plan must hold 2H = ${this.actionDim} numbers, got ${plan.length}`,
      );
    }
    const e = this.#episodes;
    e.stepEnv(0, plan, 0, this.#obs, 0);
    const terminated = e.terminated[0] === 1;
    const truncated = e.truncated[0] === 1;
    if (terminated || truncated) this.#running = false;
    return {
      obs: this.#obs.slice(),
      reward: e.rewards[0],
      terminated,
      truncated,
      info: this.#info(),
    };
  }

  #info(): StepInfo {
    const e = this.#episodes;
    return {
      success: e.success[0] === 1,
      offRoute: e.offRoute[0] === 1,
      targetsReached: e.targetsReached[0],
      routeCompletion: e.routeCompletion[0],
      distanceToGoal: e.distanceToGoal[0],
      speed: e.speed[0],
      accel: e.accel[0],
    };
  }
}
