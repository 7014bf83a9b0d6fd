/**
 * N driving environments stepped in one call over flat typed arrays, with same-step
 * auto-reset, for rollouts without per-step allocation.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { RouteEnv } from "./_route_env.ts";
import { EpisodeStatistics } from "../episode_statistics.ts";
import { observationScale } from "./obs_scale.ts";
import { rowPlanErrors } from "./plan_metrics.ts";

/**
 * A number an env reports for each finished episode, besides return, length and success
 * (which every env reports). Generic evaluation averages whatever metrics the env declares.
 */
export interface EpisodeMetric {
  /** Key in each episode record of `eval --output`; a dot nests ("comfort.max_accel"). */
  readonly name: string;
  /** One line: what it measures, with its unit. */
  readonly description: string;
  /** Key of its mean over episodes in the evaluation summary (absent: not summarised). */
  readonly mean?: string;
  /** Key of its population standard deviation over episodes in the summary. */
  readonly std?: string;
  /**
   * Present: its held-out mean is logged in every `metrics.json` entry's `heldout`,
   * under its `mean` key; `sft` also logs the SFT baseline's in `sft_heldout`;
   * `tieBreak` makes it the metric (lower is better) that breaks ties of held-out
   * return when picking `best.pt`.
   */
  readonly entry?: { sft?: boolean; tieBreak?: boolean };
  /** Also kept in `train_metrics.json`'s held-out block (metrics with `entry` always are). */
  readonly heldout?: boolean;
  /** Column header of its mean in `train`'s held-out table (absent: not printed). */
  readonly label?: string;
}

/**
 * A batch of N environments over flat arrays. Any environment that fills these
 * arrays can be trained on and evaluated; row i of an (N, D) array is `[i * D, (i + 1) * D)`.
 * The env declares its sizes (`obsDim`, `actionDim`, `actionShape`, `maxEpisodeSteps`)
 * and the per-episode metrics it reports (`metrics`, filled into `episodeMetrics`).
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
  /**
   * Shape of one action, its product `actionDim`; the policy's `log_std` has this shape
   * (driving: [H, 2], the Python DeltaHead's). Default [actionDim].
   */
  readonly actionShape?: readonly number[];
  /**
   * Steps after which an episode is truncated at the latest: sizes the trainer's rollout
   * buffers. Default: the trainer's `EnvConfig.max_episode_steps`.
   */
  readonly maxEpisodeSteps?: number;
  /**
   * (obsDim) powers of two the policy divides the observation by when `ppo.obs_norm` is
   * on (see `observationScale`); absent: the raw observation.
   */
  readonly obsScale?: Float64Array;
  /** The per-episode metrics the env reports (default none). */
  readonly metrics?: readonly EpisodeMetric[];
  /** (N, metrics.length) metrics of the episode that ended this step (valid where terminated or truncated). */
  readonly episodeMetrics?: Float64Array;
  /** (N, obsDim) current observations; after an auto-reset, the new episode's first. */
  readonly obs: Float64Array;
  /** (N, obsDim) the observation each env's step produced before any auto-reset (equal to `obs` for envs not done). */
  readonly finalObs: Float64Array;
  /** (N) rewards of the latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the episode ended this step (the env's own terminal condition). */
  readonly terminated: Uint8Array;
  /** (N) 1 when `maxEpisodeSteps` was hit this step without terminating. */
  readonly truncated: Uint8Array;
  /** (N) 1 when the episode reached its goal this step. */
  readonly success: Uint8Array;
  /** (N) return of the episode that ended this step (valid where terminated or truncated). */
  readonly episodeReturns: Float64Array;
  /** (N) length of the episode that ended this step (valid where terminated or truncated). */
  readonly episodeLengths: Int32Array;
  /** Starts every env: env i with `seeds[i]`. */
  reset(seeds: ArrayLike<number>): void;
  /** Steps every env with its row of `plans` (N, actionDim); finished envs restart. */
  step(plans: Float64Array): void;
}

/**
 * The per-episode metrics of the driving env, in the research repo's evaluation schema's
 * names: ADE/FDE of the driven plan against the expert plan (the route targets), route
 * completion, off-route, distance to the goal, comfort; collisions and red lights are
 * always 0 (no other road users, no lights).
 */
export const DRIVING_METRICS: readonly EpisodeMetric[] = Object.freeze([
  {
    name: "ade",
    description: "mean over steps of the plan's ADE against the expert plan (m)",
    mean: "ade_mean",
    std: "ade_std",
    entry: { sft: true, tieBreak: true },
    label: "ADE m",
  },
  {
    name: "fde",
    description: "mean over steps of the plan's FDE (last waypoint) against the expert plan (m)",
    mean: "fde_mean",
    std: "fde_std",
    entry: {},
    label: "FDE m",
  },
  {
    name: "route_completion",
    description: "fraction of the route's targets reached or passed, 0..1",
    mean: "route_completion_mean",
  },
  { name: "collisions", description: "collisions: always 0, no other road users" },
  {
    name: "offroad",
    description: "1 if the episode ended by leaving the corridor or the world, else 0",
    mean: "offroad_rate",
    heldout: true,
  },
  { name: "red_light", description: "red lights run: always 0, no traffic lights" },
  {
    name: "final_dist",
    description: "distance (m) from the car to the goal when the episode ended",
    mean: "final_dist_mean",
  },
  { name: "comfort.max_accel", description: "peak |longitudinal acceleration| (m/s^2)" },
  { name: "comfort.max_jerk", description: "peak |change of acceleration| / dt (m/s^3)" },
]);

/**
 * N toy driving envs (the env contract's form: no returns, no auto-reset; wrap in
 * `EpisodeStatistics` to keep episodes).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const env = new Driving(DEFAULT_ENV_CONFIG, 16);
 * env.reset(Array.from({ length: 16 }, (_, i) => 100 + i));
 * env.step(new Float64Array(16 * env.actionDim)); // all plans at the car: every car brakes
 * ```
 */
export class Driving extends RouteEnv {
  readonly obsScale: Float64Array;

  /** Validates `cfg` and allocates every buffer once; call `reset` next. */
  constructor(cfg: EnvConfig, numEnvs: number) {
    super(cfg, numEnvs, { name: "Driving", metrics: DRIVING_METRICS });
    this.obsScale = observationScale(this.config);
  }

  protected startEpisode(i: number, seed: number): void {
    this.episodes.resetEnv(i, seed, this.obs, i * this.obsDim);
  }

  // the expert plan is the observation's route targets, obs[1..]
  protected planErrors(i: number, plans: Float64Array, out: Float64Array): void {
    rowPlanErrors(plans, this.obs, {
      planAt: i * this.actionDim,
      expertAt: i * this.obsDim + 1,
      horizon: this.episodes.horizon,
      out,
    });
  }

  // in DRIVING_METRICS order
  writeEpisodeMetrics(i: number, m: Float64Array, o: number): void {
    const steps = this.episodes.stepCount[i];
    const stats = this.stats;
    m[o] = stats.ade(i, steps);
    m[o + 1] = stats.fde(i, steps);
    m[o + 2] = this.routeCompletion[i];
    m[o + 3] = 0;
    m[o + 4] = this.offRoute[i];
    m[o + 5] = 0;
    m[o + 6] = this.distanceToGoal[i];
    m[o + 7] = stats.maxAccel[i];
    m[o + 8] = stats.maxJerk[i];
  }
}

/**
 * N toy driving envs with their episodes kept and same-step auto-reset: a finished env i
 * restarts in the same step with seed = its previous seed + N, so seeds `s, s + N, s + 2N,
 * ...` of all envs never collide when the first seeds are distinct and consecutive.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const venv = new DrivingVecEnv(DEFAULT_ENV_CONFIG, 16);
 * venv.reset(Array.from({ length: 16 }, (_, i) => 100 + i));
 * venv.step(new Float64Array(16 * venv.actionDim));
 * ```
 */
export class DrivingVecEnv extends EpisodeStatistics {
  /** The driving env kept. */
  declare readonly env: Driving;
  /** Validates `cfg` and allocates every buffer once; call `reset` next. */
  constructor(cfg: EnvConfig, numEnvs: number) {
    super(new Driving(cfg, numEnvs), { autoReset: true });
  }
  /** The (validated, frozen) driving configuration. */
  get config(): Readonly<EnvConfig> {
    return this.env.config;
  }
  /** (N) fraction of targets reached or passed, this step (before any reset). */
  get routeCompletion(): Float64Array {
    return this.env.routeCompletion;
  }
  /** (N) 1 when the car left the corridor or the world this step. */
  get offRoute(): Uint8Array {
    return this.env.offRoute;
  }
  /** (N) distance from the car to the goal (m), this step (before any reset). */
  get distanceToGoal(): Float64Array {
    return this.env.distanceToGoal;
  }
}
