/**
 * N driving environments stepped in one call over flat typed arrays, with same-step
 * auto-reset, for rollouts without per-step allocation.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import type { EpisodeMetric } from "../contract.ts";
import { RouteEnv } from "./_route_env.ts";
import { observationScale } from "./obs_scale.ts";
import { rowPlanErrors } from "./plan_metrics.ts";

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
    unit: "m",
    better: "lower",
    mean: "ade_mean",
    std: "ade_std",
    headline: { baseline: true },
  },
  {
    name: "fde",
    description: "mean over steps of the plan's FDE (last waypoint) against the expert plan (m)",
    unit: "m",
    better: "lower",
    mean: "fde_mean",
    std: "fde_std",
    headline: {},
  },
  {
    name: "route_completion",
    description: "fraction of the route's targets reached or passed, 0..1",
    better: "higher",
    mean: "route_completion_mean",
  },
  { name: "collisions", description: "collisions: always 0, no other road users" },
  {
    name: "offroad",
    description: "1 if the episode ended by leaving the corridor or the world, else 0",
    better: "lower",
    mean: "offroad_rate",
    heldout: true,
  },
  { name: "red_light", description: "red lights run: always 0, no traffic lights" },
  {
    name: "final_dist",
    description: "distance (m) from the car to the goal when the episode ended",
    unit: "m",
    better: "lower",
    mean: "final_dist_mean",
  },
  {
    name: "comfort.max_accel",
    description: "peak |longitudinal acceleration| (m/s^2)",
    unit: "m/s^2",
  },
  {
    name: "comfort.max_jerk",
    description: "peak |change of acceleration| / dt (m/s^3)",
    unit: "m/s^3",
  },
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
