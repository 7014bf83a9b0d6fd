/**
 * The vector form shared by the two envs built on {@linkcode Episodes} (plain driving
 * and traffic): their sizes, the observation and outcome buffers, the running returns
 * and plan statistics, `reset`, and the bookkeeping of every step (episode return and
 * length, metrics, same-step auto-reset with seed + N). An env adds its own part of a
 * step through a few hooks: which plan it scores the driven plan against, what happens
 * after the car moved, how an episode starts, and its metrics.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { Episodes } from "./_episodes.ts";
import { PlanStats } from "./_plan_stats.ts";
import type { EpisodeMetric, VecEnv } from "./vec_env.ts";

/**
 * N episodes of a driving task stepped in one call; see `DrivingVecEnv` and
 * `TrafficVecEnv`. A finished env i restarts in the same step with seed = its previous
 * seed + N.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * import { DrivingVecEnv } from "./vec_env.ts";
 * const venv: EpisodesVecEnv = new DrivingVecEnv(DEFAULT_ENV_CONFIG, 2);
 * venv.reset([100, 101]);
 * venv.step(new Float64Array(2 * venv.actionDim));
 * venv.routeCompletion; // (N) after this step
 * ```
 */
export abstract class EpisodesVecEnv implements VecEnv {
  /** N: environments stepped together. */
  readonly numEnvs: number;
  /** 1 + 2H, plus what the env appends to the observation. */
  readonly obsDim: number;
  /** 2H. */
  readonly actionDim: number;
  /** [H, 2]: (dx, dy) per waypoint. */
  readonly actionShape: readonly number[];
  /** `max_episode_steps` of the configuration. */
  readonly maxEpisodeSteps: number;
  /** (obsDim) powers of two the policy divides the observation by (`ppo.obs_norm`). */
  abstract readonly obsScale: Float64Array;
  /** The per-episode metrics the env reports, in the order of `episodeMetrics`' rows. */
  readonly metrics: readonly EpisodeMetric[];
  /** (N, metrics.length) metrics of the episode that ended this step. */
  readonly episodeMetrics: Float64Array;
  /** (N, obsDim) current observations; after an auto-reset, the new episode's first. */
  readonly obs: Float64Array;
  /** (N, obsDim) the observation each env's step produced before any auto-reset. */
  readonly finalObs: Float64Array;
  /** (N) rewards of the latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the episode ended this step. */
  readonly terminated: Uint8Array;
  /** (N) 1 when `maxEpisodeSteps` was hit this step without terminating. */
  readonly truncated: Uint8Array;
  /** (N) 1 when the episode reached its goal this step. */
  readonly success: Uint8Array;
  /** (N) return of the episode that ended this step. */
  readonly episodeReturns: Float64Array;
  /** (N) length of the episode that ended this step. */
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

  /** The routes, cars and step outputs of the N episodes. */
  protected readonly episodes: Episodes;
  /** Per-env plan-error sums and comfort peaks of the running episode. */
  protected readonly stats: PlanStats;
  /** (N) return so far of each running episode. */
  readonly #runningReturns: Float64Array;
  /** [ADE, FDE] of this step's plan. */
  readonly #errors = new Float64Array(2);
  /** The class name in "call reset() first". */
  readonly #name: string;
  #started = false;

  /**
   * Validates `cfg` and `numEnvs` and allocates every shared buffer once: the
   * observation rows are 1 + 2H numbers plus `opts.extraObs`.
   */
  constructor(
    cfg: EnvConfig,
    numEnvs: number,
    opts: { name: string; metrics: readonly EpisodeMetric[]; extraObs?: number },
  ) {
    const e = new Episodes(cfg, numEnvs);
    this.episodes = e;
    this.#name = opts.name;
    this.numEnvs = numEnvs;
    this.obsDim = e.obsDim + (opts.extraObs ?? 0);
    this.actionDim = e.actionDim;
    this.actionShape = Object.freeze([e.horizon, 2]);
    this.maxEpisodeSteps = e.cfg.max_episode_steps;
    this.metrics = opts.metrics;
    this.episodeMetrics = new Float64Array(numEnvs * opts.metrics.length);
    this.obs = new Float64Array(numEnvs * this.obsDim);
    this.finalObs = new Float64Array(numEnvs * this.obsDim);
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
    this.stats = new PlanStats(numEnvs);
  }

  /** The (validated, frozen) driving configuration. */
  get config(): Readonly<EnvConfig> {
    return this.episodes.cfg;
  }

  /** Starts every env: env i with `seeds[i]`. */
  reset(seeds: ArrayLike<number>): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset: expected ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) {
      this.startEpisode(i, seeds[i]);
      this.clearOutputs(i);
      this.#runningReturns[i] = 0;
      this.episodeReturns[i] = 0;
      this.episodeLengths[i] = 0;
      this.stats.clear(i);
    }
    this.finalObs.set(this.obs);
    this.#started = true;
  }

  /** Steps every env with its row of `plans` (N, actionDim); finished envs restart. */
  step(plans: Float64Array): void {
    if (!this.#started) throw new Error(`${this.#name}.step: call reset() first`);
    const n = this.numEnvs, d = this.obsDim, a = this.actionDim;
    if (plans.length !== n * a) {
      throw new RangeError(
        `step: plans must be (${n}, ${a}) = ${n * a} numbers, got ${plans.length}`,
      );
    }
    const e = this.episodes, stats = this.stats, running = this.#runningReturns;
    const obs = this.obs, finalObs = this.finalObs, errors = this.#errors;
    this.prepareStep();
    for (let i = 0; i < n; i++) {
      const row = i * d;
      this.planErrors(i, plans, errors);
      const firstStep = e.stepCount[i] === 0;
      e.stepEnv(i, plans, i * a, finalObs, row);
      this.finishStep(i);
      stats.add(i, { ade: errors[0], fde: errors[1], accel: e.accel[i], firstStep, dt: e.cfg.dt });
      const episodeReturn = running[i] + e.rewards[i];
      if (e.terminated[i] === 1 || e.truncated[i] === 1) {
        this.episodeReturns[i] = episodeReturn;
        this.episodeLengths[i] = e.stepCount[i];
        running[i] = 0;
        this.writeMetrics(i);
        stats.clear(i);
        this.startEpisode(i, e.seeds[i] + n);
      } else {
        running[i] = episodeReturn;
        for (let j = 0; j < d; j++) obs[row + j] = finalObs[row + j];
      }
    }
  }

  /** Starts env i's episode `seed`, its first observation written to its row of `obs`. */
  protected abstract startEpisode(i: number, seed: number): void;

  /** Sets env i's step outputs to those of a fresh episode (at `reset`). */
  protected clearOutputs(i: number): void {
    this.episodes.clearOutputs(i);
  }

  /** Runs once per step before any env moves (default nothing). */
  protected prepareStep(): void {}

  /** Writes [ADE, FDE] of env i's row of `plans` against the env's expert plan to `out`. */
  protected abstract planErrors(i: number, plans: Float64Array, out: Float64Array): void;

  /**
   * Env i's own part of its step, after the car moved: may change the step's reward and
   * flags and write the rest of its row of `finalObs` (default nothing).
   */
  protected finishStep(_i: number): void {}

  /** Writes the metrics of env i's episode that ended this step, in `metrics` order. */
  protected abstract writeMetrics(i: number): void;
}
