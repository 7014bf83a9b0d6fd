/**
 * Evaluation on seeded episodes of any env: roll out a base planner, optionally corrected
 * by a delta head (mean action, or sampled), and record each episode: return, success,
 * length, delta norm, and the per-episode metrics the env declares (driving: ADE/FDE
 * against the expert plan, route completion, off-route, distance to the goal, comfort).
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import { type ActorCritic, sampleGaussian } from "../nn/mod.ts";
import type { EnvConfig, EpisodeMetric, VecEnv } from "../env/mod.ts";
import { DrivingVecEnv } from "../env/mod.ts";
import { clipDelta, clippedDeltaNorm, composePlan } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";

/**
 * One evaluated episode: an entry of `scenarios` in `eval --output`. Besides the fields
 * every env has, it holds the metrics the env declares, under their names (driving: the
 * research repo's evaluation schema's `ade`, `fde`, `route_completion`, `collisions`,
 * `offroad`, `red_light`, `final_dist`, `comfort {max_accel, max_jerk}`); our extras are
 * under `raw`.
 */
export interface EpisodeRecord {
  /** "seed:N" */
  scenario_id: string;
  /** Reached the goal. */
  success: boolean;
  /** Sum of the episode's rewards. */
  return: number;
  /** Steps the episode lasted. */
  steps: number;
  /** Ours, beyond the schema. */
  raw: {
    /** Seed of the episode. */
    seed: number;
    /** Cut at the env's episode cap. */
    truncated: boolean;
    /** Mean over steps of |clipped delta| (0 without a delta head). */
    mean_delta_norm: number;
  };
  /** The env's metrics by name (a dotted name nests an object). */
  [metric: string]: unknown;
}

/**
 * An episode record of the driving env, its metrics typed (`DRIVING_METRICS`): the
 * research repo's evaluation schema's fields.
 */
export interface DrivingEpisodeRecord extends EpisodeRecord {
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
  /** Meters of route left when the episode ended. */
  final_dist: number;
  /** Peak |longitudinal acceleration| (m/s^2) and |change of acceleration| / dt (m/s^3). */
  comfort: { max_accel: number; max_jerk: number };
}

/**
 * Averages over the evaluated episodes: the fields every env has, then each declared
 * metric's mean (and std) under the keys the env names (driving: `ade_mean`, `ade_std`,
 * `fde_mean`, `fde_std`, `route_completion_mean`, `offroad_rate`, `final_dist_mean`).
 */
export interface EvalSummary {
  /** Episodes averaged. */
  num_episodes: number;
  /** Mean episode return. */
  return_mean: number;
  /** Fraction of episodes that reached the goal. */
  success_rate: number;
  /** Mean episode length (steps). */
  steps_mean: number;
  /** Fraction of episodes cut at the env's episode cap. */
  truncated_rate: number;
  /** Mean over episodes of `mean_delta_norm` (0 without a delta head). */
  delta_norm_mean: number;
  /** The env's metric summaries, under the keys its metrics declare. */
  [summaryKey: string]: number;
}

/** Episode records and their summary. */
export interface EvalResult {
  /** One record per episode, in seed order. */
  scenarios: EpisodeRecord[];
  /** Averages over `scenarios`. */
  summary: EvalSummary;
  /** The metrics the env declared (what `summary` and the records hold beyond the basics). */
  metrics: readonly EpisodeMetric[];
}

/** Options of {@linkcode evaluatePolicy}. */
export interface EvaluateOptions {
  /** Driving configuration of the episodes (used by the default `makeEnv`). */
  env: EnvConfig;
  /** The base planner whose actions are taken (SFT, the expert, or zero). */
  planner: BasePlanner | WaypointPlanner;
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
  /**
   * Builds the vector env of `numEnvs` envs (default: the toy driving env of `env`). The
   * envs it builds for an evaluation of the delta's mean may be reused by a later one
   * with the same `makeEnv` (after `reset`), so it should build the same env every time.
   */
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
  const { count } = opts;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`evaluation needs at least one episode, got ${count}`);
  }
  return opts.sampleRng ? yield* sampledSteps(opts) : yield* meanSteps(opts);
}

// One-env VecEnvs no evaluation is using, by the `makeEnv` that built them: the trainer
// evaluates every 10 episodes, and building 16 envs each time churned memory (the
// default run's peak RSS 4 to 8 MB higher). `reset` starts an env afresh, so a reused
// env runs the same episodes as a new one.
const idleEnvs = new WeakMap<object, VecEnv[]>();

// The delta's mean (or no delta): each of up to n slots runs one episode at a time on an
// env of its own and takes the next seed as soon as its episode ends; the planner and the
// model see only the running episodes' rows, packed. A row's plan depends on its
// observation alone, so every episode is the one a lockstep batch would give.
function* meanSteps(opts: EvaluateOptions): Generator<void, EvalResult, void> {
  const { env, planner, model, deltaClip, firstSeed, count } = opts;
  const n = Math.min(count, opts.numEnvs ?? 16);
  const make = opts.makeEnv ?? ((k: number) => new DrivingVecEnv(env, k));
  const idle = (opts.makeEnv && idleEnvs.get(opts.makeEnv)) || [];
  if (opts.makeEnv) idleEnvs.set(opts.makeEnv, idle);
  // in the order they were put back: slot i gets the env slot i had last time, which
  // holds the route of seed i already
  const envs: VecEnv[] = idle.splice(0, n);
  while (envs.length < n) envs.push(make(1));
  const { obsDim: d, actionDim: a } = envs[0];
  const metrics = envs[0].metrics ?? [];
  const obs = new Float64Array(n * d);
  const mean = new Float64Array(n * a);
  const plan = new Float64Array(n * a);
  const planRows = Array.from({ length: n }, (_, r) => plan.subarray(r * a, (r + 1) * a));
  const slotSeed = new Float64Array(n); // seed index (from firstSeed) each slot runs
  const sumDelta = new Float64Array(n);
  const active: number[] = []; // running slots, in the order of their rows
  const records: EpisodeRecord[] = new Array(count);
  for (let i = 0; i < n; i++) {
    envs[i].reset([firstSeed + i]);
    slotSeed[i] = i;
    active.push(i);
  }
  let next = n;
  while (active.length > 0) {
    const k = active.length;
    for (let r = 0; r < k; r++) obs.set(envs[active[r]].obs, r * d);
    planner.plan(obs, k, plan);
    if (model) {
      model.actMean(obs, k, mean);
      // composePlan's sum on the k packed rows, and each row's clippedDeltaNorm (the
      // same sum of squares, in the same order)
      for (let r = 0; r < k; r++) {
        let sq = 0;
        for (let j = r * a; j < (r + 1) * a; j++) {
          const d = clipDelta(mean[j], deltaClip);
          plan[j] += d;
          sq += d * d;
        }
        sumDelta[active[r]] += Math.sqrt(sq);
      }
    }
    let kept = 0;
    for (let r = 0; r < k; r++) {
      const slot = active[r], vec = envs[slot];
      vec.step(planRows[r]);
      if (!(vec.terminated[0] || vec.truncated[0])) {
        active[kept++] = slot;
        continue;
      }
      const seed = firstSeed + slotSeed[slot];
      records[slotSeed[slot]] = episodeRecord(vec, {
        seed,
        meanDeltaNorm: sumDelta[slot] / vec.episodeLengths[0],
        metrics,
      });
      sumDelta[slot] = 0;
      if (next < count) {
        vec.reset([firstSeed + next]);
        slotSeed[slot] = next++;
        active[kept++] = slot;
      }
    }
    active.length = kept;
    yield;
  }
  idle.push(...envs);
  return { scenarios: records, summary: summarize(records, metrics), metrics };
}

// Sampled deltas: lockstep batches of n envs until each batch's last episode ends, every
// row drawing from the RNG at every step (what fixes the draws each episode gets).
function* sampledSteps(opts: EvaluateOptions): Generator<void, EvalResult, void> {
  const { env, planner, model, deltaClip, firstSeed, count, sampleRng } = opts;
  const n = Math.min(count, opts.numEnvs ?? 16);
  const vec = opts.makeEnv ? opts.makeEnv(n) : new DrivingVecEnv(env, n);
  const a = vec.actionDim;
  const metrics = vec.metrics ?? [];
  const mean = new Float64Array(n * a);
  const value = new Float64Array(n);
  const sampled = new Float64Array(n * a);
  const logp = new Float64Array(n);
  const plan = new Float64Array(n * a);
  const sumDelta = new Float64Array(n);
  const done = new Uint8Array(n);
  const seeds = new Array<number>(n);
  const scenarios: EpisodeRecord[] = [];

  for (let first = 0; first < count; first += n) {
    const batch = Math.min(n, count - first);
    for (let i = 0; i < n; i++) seeds[i] = firstSeed + first + i;
    vec.reset(seeds);
    done.fill(0);
    for (let i = batch; i < n; i++) done[i] = 1;
    sumDelta.fill(0);
    const records: EpisodeRecord[] = new Array(batch);
    let remaining = batch;
    while (remaining > 0) {
      const obs = vec.obs;
      planner.plan(obs, n, plan);
      if (model && sampleRng) {
        model.act(obs, n, mean, value);
        sampleGaussian(mean, model.delta.view("log_std"), n, sampleRng, sampled, logp);
        composePlan(plan, { sft: plan, delta: sampled, deltaClip });
        for (let i = 0; i < n; i++) {
          sumDelta[i] += clippedDeltaNorm(sampled, { row: i, actDim: a, deltaClip });
        }
      }
      vec.step(plan);
      for (let i = 0; i < n; i++) {
        if (done[i] || !(vec.terminated[i] || vec.truncated[i])) continue;
        done[i] = 1;
        remaining--;
        const meanDeltaNorm = sumDelta[i] / vec.episodeLengths[i];
        records[i] = episodeRecord(vec, { row: i, seed: seeds[i], meanDeltaNorm, metrics });
      }
      yield;
    }
    for (const record of records) scenarios.push(record);
  }
  return { scenarios, summary: summarize(scenarios, metrics), metrics };
}

// The record of the episode that row `row` (default 0) of `vec` ended this step.
function episodeRecord(
  vec: VecEnv,
  opts: { row?: number; seed: number; meanDeltaNorm: number; metrics: readonly EpisodeMetric[] },
): EpisodeRecord {
  const { seed, metrics } = opts;
  const i = opts.row ?? 0, m = metrics.length;
  const record: EpisodeRecord = {
    scenario_id: `seed:${seed}`,
    success: vec.success[i] === 1,
    return: vec.episodeReturns[i],
    steps: vec.episodeLengths[i],
    raw: {
      seed,
      truncated: vec.truncated[i] === 1,
      mean_delta_norm: opts.meanDeltaNorm,
    },
  };
  for (let k = 0; k < m; k++) setMetric(record, metrics[k].name, vec.episodeMetrics![i * m + k]);
  return record;
}
// record.a.b = x for the name "a.b"
function setMetric(record: Record<string, unknown>, name: string, x: number): void {
  const parts = name.split(".");
  let at = record;
  for (let j = 0; j < parts.length - 1; j++) {
    at = (at[parts[j]] ??= {}) as Record<string, unknown>;
  }
  at[parts[parts.length - 1]] = x;
}

/**
 * A metric's value in an episode record (a dotted name reads a nested object).
 *
 * @example
 * ```ts ignore
 * metricOf(result.scenarios[0], "comfort.max_accel");
 * ```
 */
export function metricOf(record: EpisodeRecord, name: string): number {
  let at: unknown = record;
  for (const part of name.split(".")) at = (at as Record<string, unknown>)[part];
  return at as number;
}

/**
 * Averages episode records into a summary.
 *
 * @example
 * ```ts ignore
 * const summary = summarize(result.scenarios);
 * ```
 */
export function summarize(
  records: EpisodeRecord[],
  metrics: readonly EpisodeMetric[] = [],
): EvalSummary {
  const k = records.length;
  const avg = (f: (r: EpisodeRecord) => number) => records.reduce((s, r) => s + f(r), 0) / k;
  const std = (f: (r: EpisodeRecord) => number) => {
    const m = avg(f);
    return Math.sqrt(records.reduce((s, r) => s + (f(r) - m) ** 2, 0) / k);
  };
  const summary: EvalSummary = {
    num_episodes: k,
    return_mean: avg((r) => r.return),
    success_rate: avg((r) => Number(r.success)),
    steps_mean: avg((r) => r.steps),
    truncated_rate: avg((r) => Number(r.raw.truncated)),
    delta_norm_mean: 0,
  };
  for (const metric of metrics) {
    const f = (r: EpisodeRecord) => metricOf(r, metric.name);
    if (metric.mean) summary[metric.mean] = avg(f);
    if (metric.std) summary[metric.std] = std(f);
  }
  // last, as before the env declared its metrics
  delete (summary as Partial<EvalSummary>).delta_norm_mean;
  summary.delta_norm_mean = avg((r) => r.raw.mean_delta_norm);
  return summary;
}
