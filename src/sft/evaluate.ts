/**
 * Evaluation on seeded episodes: roll out a planner, optionally corrected by a delta
 * head (mean action, or sampled), and measure each episode: return, success, route
 * completion, off-route, distance to the goal, ADE/FDE of the driven plan against the
 * expert plan, delta norm, and comfort (peak |acceleration| and |jerk|).
 *
 * @module
 */

import type { Rng } from "../math/rng.ts";
import { type ActorCritic, sampleGaussian } from "../nn/mod.ts";
import type { EnvConfig, VecEnv } from "../env/mod.ts";
import { DrivingVecEnv } from "../env/mod.ts";
import { ExpertPlanner } from "./planner.ts";
import type { WaypointPlanner } from "./planner.ts";
import { planErrors } from "./plan_metrics.ts";
import { clippedDeltaNorm, composePlan } from "./compose_plan.ts";

/**
 * One evaluated episode: an entry of `scenarios` in `eval --output`, named as the
 * research repo's evaluation schema names them (`eval_metrics.schema.json` beside this
 * file); our extras are under `raw`.
 */
export interface EpisodeRecord {
  /** "seed:N" */
  scenario_id: string;
  /** Reached the goal. */
  success: boolean;
  /** Mean over steps of the plan's ADE against the expert plan, meters. */
  ade: number;
  /** Mean over steps of the plan's FDE (last waypoint), meters. */
  fde: number;
  /** Fraction of the route's targets reached or passed, 0..1. */
  route_completion: number;
  /** Collisions: always 0, the toy env has no other road users. */
  collisions: number;
  /** 1 if the episode ended by leaving the corridor or the world, else 0. */
  offroad: number;
  /** Red lights run: always 0, the toy env has no traffic lights. */
  red_light: number;
  /** Sum of the episode's rewards. */
  return: number;
  /** Steps the episode lasted. */
  steps: number;
  /** Meters from the car to the goal (the route's end) when the episode ended. */
  final_dist: number;
  /** Peak |longitudinal acceleration| (m/s^2) and peak |change of acceleration| / dt (m/s^3). */
  comfort: { max_accel: number; max_jerk: number };
  /** Ours, beyond the schema. */
  raw: {
    /** Seed of the episode's route. */
    seed: number;
    /** Cut at max_episode_steps. */
    truncated: boolean;
    /** Mean over steps of |clipped delta| (0 without a delta head). */
    mean_delta_norm: number;
  };
}

/** Averages over the evaluated episodes. */
export interface EvalSummary {
  /** Episodes averaged. */
  num_episodes: number;
  /** Mean episode return. */
  return_mean: number;
  /** Fraction of episodes that reached the goal. */
  success_rate: number;
  /** Mean episode length (steps). */
  steps_mean: number;
  /** Fraction of episodes that left the corridor or the world. */
  offroad_rate: number;
  /** Fraction of episodes cut at `max_episode_steps`. */
  truncated_rate: number;
  /** Mean over episodes of the episode's ADE (m). */
  ade_mean: number;
  /** Population standard deviation over episodes of the episode's ADE (m). */
  ade_std: number;
  /** Mean over episodes of the episode's FDE (m). */
  fde_mean: number;
  /** Population standard deviation over episodes of the episode's FDE (m). */
  fde_std: number;
  /** Mean fraction of the route's targets reached or passed, 0..1. */
  route_completion_mean: number;
  /** Mean over episodes of `final_dist` (m). */
  final_dist_mean: number;
  /** Mean over episodes of `mean_delta_norm` (m; 0 without a delta head). */
  delta_norm_mean: number;
}

/** Episode records and their summary. */
export interface EvalResult {
  /** One record per episode, in seed order. */
  scenarios: EpisodeRecord[];
  /** Averages over `scenarios`. */
  summary: EvalSummary;
}

/** Options of {@linkcode evaluatePolicy}. */
export interface EvaluateOptions {
  /** Environment configuration of the episodes. */
  env: EnvConfig;
  /** The planner whose plans are driven (SFT, or the expert). */
  planner: WaypointPlanner;
  /** Delta head added to the planner's plan, clipped to ±deltaClip; null: the planner alone. */
  model: ActorCritic | null;
  /** Bound on each delta component (m); ignored without `model`. */
  deltaClip: number;
  /** Seeds firstSeed .. firstSeed + count - 1. */
  firstSeed: number;
  /** Episodes to run (at least 1). */
  count: number;
  /** Sample the delta from the policy with this RNG instead of taking its mean. */
  sampleRng?: Rng;
  /** Envs stepped together (results do not depend on it unless sampling). */
  numEnvs?: number;
  /** Builds the vector env of `numEnvs` envs (default: the toy driving env). */
  makeEnv?: (numEnvs: number) => VecEnv;
}

/**
 * Rolls out `count` seeded episodes and measures each one.
 *
 * @example
 * ```ts ignore
 * const { summary } = evaluatePolicy({ env, planner, model: null, deltaClip: 2, firstSeed: 2 ** 30, count: 100 });
 * console.log(summary.success_rate, summary.ade_mean);
 * ```
 */
export function evaluatePolicy(opts: EvaluateOptions): EvalResult {
  const steps = evaluatePolicySteps(opts);
  let r = steps.next();
  while (!r.done) r = steps.next();
  return r.value;
}

/**
 * {@linkcode evaluatePolicy} as a generator that pauses after every lockstep env step,
 * so a caller can give the event loop a turn (and stop) during a long evaluation;
 * its result is the same.
 *
 * @example
 * ```ts ignore
 * const steps = evaluatePolicySteps(opts);
 * let r = steps.next();
 * while (!r.done) r = steps.next();
 * ```
 */
export function* evaluatePolicySteps(opts: EvaluateOptions): Generator<void, EvalResult, void> {
  const { env, planner, model, deltaClip, firstSeed, count } = opts;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`evaluation needs at least one episode, got ${count}`);
  }
  const n = Math.min(count, opts.numEnvs ?? 16);
  const vec = opts.makeEnv ? opts.makeEnv(n) : new DrivingVecEnv(env, n);
  const h = env.horizon_steps;
  const a = vec.actionDim;
  const expert = new ExpertPlanner(env);
  const mean = new Float64Array(n * a);
  const value = new Float64Array(n);
  const sampled = new Float64Array(n * a);
  const logp = new Float64Array(n);
  const plan = new Float64Array(n * a);
  const expertPlan = new Float64Array(n * a);
  const ade = new Float64Array(n);
  const fde = new Float64Array(n);
  // per-env accumulators of the running episode
  const sumAde = new Float64Array(n), sumFde = new Float64Array(n), sumDelta = new Float64Array(n);
  const maxAccel = new Float64Array(n),
    maxJerk = new Float64Array(n),
    prevAccel = new Float64Array(n);
  const done = new Uint8Array(n);
  const seeds = new Array<number>(n);
  const scenarios: EpisodeRecord[] = [];

  for (let first = 0; first < count; first += n) {
    const batch = Math.min(n, count - first);
    for (let i = 0; i < n; i++) seeds[i] = firstSeed + first + i;
    vec.reset(seeds);
    done.fill(0);
    for (let i = batch; i < n; i++) done[i] = 1;
    for (const acc of [sumAde, sumFde, sumDelta, maxAccel, maxJerk, prevAccel]) acc.fill(0);
    const records: EpisodeRecord[] = new Array(batch);
    let remaining = batch;
    let step = 0;
    while (remaining > 0) {
      const obs = vec.obs;
      planner.plan(obs, n, plan);
      expert.plan(obs, n, expertPlan);
      if (model) {
        model.act(obs, n, mean, value);
        let delta = mean;
        if (opts.sampleRng) {
          sampleGaussian(mean, model.delta.view("log_std"), n, opts.sampleRng, sampled, logp);
          delta = sampled;
        }
        composePlan(plan, { sft: plan, delta, deltaClip });
        for (let i = 0; i < n; i++) {
          sumDelta[i] += clippedDeltaNorm(delta, { row: i, actDim: a, deltaClip });
        }
      }
      planErrors(plan, expertPlan, n, h, ade, fde);
      vec.step(plan);
      const dt = env.dt;
      for (let i = 0; i < n; i++) {
        if (done[i]) continue;
        sumAde[i] += ade[i];
        sumFde[i] += fde[i];
        const acc = vec.accel[i];
        if (Math.abs(acc) > maxAccel[i]) maxAccel[i] = Math.abs(acc);
        if (step > 0) {
          const jerk = Math.abs(acc - prevAccel[i]) / dt;
          if (jerk > maxJerk[i]) maxJerk[i] = jerk;
        }
        prevAccel[i] = acc;
        if (!(vec.terminated[i] || vec.truncated[i])) continue;
        done[i] = 1;
        remaining--;
        const steps = vec.episodeLengths[i];
        const success = vec.success[i] === 1;
        records[i] = {
          scenario_id: `seed:${seeds[i]}`,
          success,
          ade: sumAde[i] / steps,
          fde: sumFde[i] / steps,
          route_completion: vec.routeCompletion[i],
          collisions: 0,
          offroad: vec.offRoute[i],
          red_light: 0,
          return: vec.episodeReturns[i],
          steps,
          final_dist: vec.distanceToGoal[i],
          comfort: { max_accel: maxAccel[i], max_jerk: maxJerk[i] },
          raw: {
            seed: seeds[i],
            truncated: vec.truncated[i] === 1,
            mean_delta_norm: sumDelta[i] / steps,
          },
        };
      }
      step++;
      yield;
    }
    for (const record of records) scenarios.push(record);
  }
  return { scenarios, summary: summarize(scenarios) };
}

/**
 * Averages episode records into a summary.
 *
 * @example
 * ```ts ignore
 * const summary = summarize(result.scenarios);
 * ```
 */
export function summarize(records: EpisodeRecord[]): EvalSummary {
  const k = records.length;
  const avg = (f: (r: EpisodeRecord) => number) => records.reduce((s, r) => s + f(r), 0) / k;
  const std = (f: (r: EpisodeRecord) => number) => {
    const m = avg(f);
    return Math.sqrt(records.reduce((s, r) => s + (f(r) - m) ** 2, 0) / k);
  };
  return {
    num_episodes: k,
    return_mean: avg((r) => r.return),
    success_rate: avg((r) => Number(r.success)),
    steps_mean: avg((r) => r.steps),
    offroad_rate: avg((r) => r.offroad),
    truncated_rate: avg((r) => Number(r.raw.truncated)),
    ade_mean: avg((r) => r.ade),
    ade_std: std((r) => r.ade),
    fde_mean: avg((r) => r.fde),
    fde_std: std((r) => r.fde),
    route_completion_mean: avg((r) => r.route_completion),
    final_dist_mean: avg((r) => r.final_dist),
    delta_norm_mean: avg((r) => r.raw.mean_delta_norm),
  };
}
