/**
 * The part of the env contract shared by the two envs built on {@linkcode Episodes}
 * (plain driving and traffic): their sizes, the observation and outcome buffers, the plan
 * statistics behind their metrics, and `reset` / `step` over masks. An env adds its own
 * part of a step through a few hooks: which plan it scores the driven plan against, what
 * happens after the car moved, how an episode starts, and its metrics. Returns, lengths,
 * the time limit and auto-reset are the shared layer's (`EpisodeStatistics`).
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { Episodes } from "./_episodes.ts";
import { PlanStats } from "./_plan_stats.ts";
import type { EpisodeMetric, VecEnv } from "../contract.ts";
import type { TopDownView } from "../top_down.ts";
import { routeView } from "./top_down.ts";

/**
 * N episodes of a driving task; see `Driving` and `Traffic`.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * import { Driving } from "./vec_env.ts";
 * const env: RouteEnv = new Driving(DEFAULT_ENV_CONFIG, 2);
 * env.reset([100, 101]);
 * env.step(new Float64Array(2 * env.actionDim));
 * env.routeCompletion; // (N) after this step
 * ```
 */
export abstract class RouteEnv implements VecEnv {
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
  /** The per-episode metrics the env reports, in the order `writeEpisodeMetrics` writes them. */
  readonly metrics: readonly EpisodeMetric[];
  /** (N, obsDim) each env's latest observation. */
  readonly obs: Float64Array;
  /** (N) rewards of the latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the latest step reached the goal or left the corridor or the world (or collided). */
  readonly terminated: Uint8Array;
  /** (N) 1 when the latest step reached the goal. */
  readonly success: Uint8Array;
  /** (N) fraction of targets reached or passed after the latest step. */
  readonly routeCompletion: Float64Array;
  /** (N) distance from the car to the goal (m) after the latest step. */
  readonly distanceToGoal: Float64Array;
  /** (N) longitudinal acceleration applied at the latest step (m/s^2). */
  readonly accel: Float64Array;
  /** (N) 1 when the car left the corridor or the world at the latest step. */
  readonly offRoute: Uint8Array;
  /** (N) targets reached so far. */
  readonly targetsReached: Int32Array;
  /** (N) car speed after the latest step (m/s). */
  readonly speed: Float64Array;
  /** (N) seed of each env's current episode. */
  readonly seeds: Float64Array;

  /** The routes, cars and step outputs of the N episodes. */
  protected readonly episodes: Episodes;
  /** Per-env plan-error sums and comfort peaks of the running episode. */
  protected readonly stats: PlanStats;
  /** [ADE, FDE] of this step's plan. */
  readonly #errors = new Float64Array(2);
  /** The class name in "call reset() first". */
  readonly #name: string;
  #started = false;
  #view: TopDownView | null = null;

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
    this.obs = new Float64Array(numEnvs * this.obsDim);
    this.rewards = e.rewards;
    this.terminated = e.terminated;
    this.success = e.success;
    this.offRoute = e.offRoute;
    this.routeCompletion = e.routeCompletion;
    this.distanceToGoal = e.distanceToGoal;
    this.accel = e.accel;
    this.targetsReached = e.targetsReached;
    this.speed = e.speed;
    this.seeds = e.seeds;
    this.stats = new PlanStats(numEnvs);
  }

  /** The top-down view of its episodes (the report's pictures), made when first asked for. */
  get view(): TopDownView {
    return this.#view ??= this.makeView();
  }

  /** The (validated, frozen) driving configuration. */
  get config(): Readonly<EnvConfig> {
    return this.episodes.cfg;
  }

  /** Starts env i on `seeds[i]` wherever `mask` is absent or 1. */
  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset: expected ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && mask[i] === 0) continue;
      this.startEpisode(i, seeds[i]);
      this.clearOutputs(i);
      this.stats.clear(i);
    }
    this.#started = true;
  }

  /** Steps env i along its row of `plans` (N, actionDim) wherever `mask` is absent or 1. */
  step(plans: Float64Array, mask?: Uint8Array): void {
    if (!this.#started) throw new Error(`${this.#name}.step: call reset() first`);
    const n = this.numEnvs, d = this.obsDim, a = this.actionDim;
    if (plans.length !== n * a) {
      throw new RangeError(
        `step: plans must be (${n}, ${a}) = ${n * a} numbers, got ${plans.length}`,
      );
    }
    const e = this.episodes, stats = this.stats, errors = this.#errors, dt = e.cfg.dt;
    this.prepareStep();
    for (let i = 0; i < n; i++) {
      if (mask && mask[i] === 0) continue;
      this.planErrors(i, plans, errors);
      const firstStep = e.stepCount[i] === 0;
      e.stepEnv(i, plans, i * a, this.obs, i * d);
      this.finishStep(i);
      stats.add(i, { ade: errors[0], fde: errors[1], accel: e.accel[i], firstStep, dt });
    }
  }

  /** Writes the metrics of env i's episode (ended at its latest step), in `metrics` order. */
  abstract writeEpisodeMetrics(i: number, out: Float64Array, offset: number): void;

  /** Starts env i's episode `seed`, its first observation written to its row of `obs`. */
  protected abstract startEpisode(i: number, seed: number): void;

  /** Sets env i's step outputs to those of a fresh episode (at `reset`). */
  protected clearOutputs(i: number): void {
    this.episodes.clearOutputs(i);
  }

  /** The env's top-down view (default: the route, the goal and the car). */
  protected makeView(): TopDownView {
    return routeView(this.episodes);
  }

  /** Runs once per step before any env moves (default nothing). */
  protected prepareStep(): void {}

  /** Writes [ADE, FDE] of env i's row of `plans` against the env's expert plan to `out`. */
  protected abstract planErrors(i: number, plans: Float64Array, out: Float64Array): void;

  /**
   * Env i's own part of its step, after the car moved: may change the step's reward and
   * flags and write the rest of its row of `obs` (default nothing).
   */
  protected finishStep(_i: number): void {}
}
