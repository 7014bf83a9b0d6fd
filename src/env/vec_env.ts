/**
 * N driving environments stepped in one call over flat typed arrays, with same-step
 * auto-reset, for rollouts without per-step allocation.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { Episodes } from "./_episodes.ts";
import { observationScale } from "./obs_scale.ts";
import { rowPlanErrors } from "./plan_metrics.ts";
import { PlanStats } from "./_plan_stats.ts";

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
 * N toy driving envs. A finished env i restarts in the same step with seed = its
 * previous seed + N, so seeds `s, s + N, s + 2N, ...` of all envs never collide
 * when the first seeds are distinct and consecutive.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
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
  /** [H, 2]: (dx, dy) per waypoint. */
  readonly actionShape: readonly number[];
  readonly maxEpisodeSteps: number;
  readonly obsScale: Float64Array;
  readonly metrics: readonly EpisodeMetric[] = DRIVING_METRICS;
  readonly episodeMetrics: Float64Array;
  readonly obs: Float64Array;
  readonly finalObs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly success: Uint8Array;
  readonly episodeReturns: Float64Array;
  readonly episodeLengths: Int32Array;
  /** (N) fraction of targets reached or passed, this step (before any reset). */
  readonly routeCompletion: Float64Array;
  /** (N) distance from the car to the goal (m), this step (before any reset). */
  readonly distanceToGoal: Float64Array;
  /** (N) longitudinal acceleration applied this step (m/s^2). */
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
  /** Per-env plan-error sums and comfort peaks of the running episode. */
  readonly #stats: PlanStats;
  /** [ADE, FDE] of this step's plan. */
  readonly #errors = new Float64Array(2);
  #started = false;

  /** Validates `cfg` and allocates every buffer once; call `reset` next. */
  constructor(cfg: EnvConfig, numEnvs: number) {
    const e = new Episodes(cfg, numEnvs);
    this.#episodes = e;
    this.numEnvs = numEnvs;
    this.obsDim = e.obsDim;
    this.actionDim = e.actionDim;
    this.actionShape = Object.freeze([e.horizon, 2]);
    this.maxEpisodeSteps = e.cfg.max_episode_steps;
    this.obsScale = observationScale(e.cfg);
    this.episodeMetrics = new Float64Array(numEnvs * DRIVING_METRICS.length);
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
    this.#stats = new PlanStats(numEnvs);
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
      this.#stats.clear(i);
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
    const h = e.horizon, errors = this.#errors;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      // the expert plan is the observation's route targets, obs[1..]
      rowPlanErrors(plans, obs, { planAt: i * a, expertAt: row + 1, horizon: h, out: errors });
      const firstStep = e.stepCount[i] === 0;
      e.stepEnv(i, plans, i * a, finalObs, row);
      this.#stats.add(i, {
        ade: errors[0],
        fde: errors[1],
        accel: this.accel[i],
        firstStep,
        dt: e.cfg.dt,
      });
      const episodeReturn = this.#runningReturns[i] + e.rewards[i];
      if (e.terminated[i] === 1 || e.truncated[i] === 1) {
        this.episodeReturns[i] = episodeReturn;
        this.episodeLengths[i] = e.stepCount[i];
        this.#runningReturns[i] = 0;
        this.#writeMetrics(i);
        this.#stats.clear(i);
        e.resetEnv(i, e.seeds[i] + n, obs, row);
      } else {
        this.#runningReturns[i] = episodeReturn;
        for (let j = 0; j < d; j++) obs[row + j] = finalObs[row + j];
      }
    }
  }

  // the metrics of env i's episode that ended this step, in DRIVING_METRICS order
  #writeMetrics(i: number): void {
    const steps = this.#episodes.stepCount[i];
    const m = this.episodeMetrics, o = i * DRIVING_METRICS.length;
    const stats = this.#stats;
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
