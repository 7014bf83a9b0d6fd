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
import type { VecEnv } from "../env/mod.ts";
import { episodeRecord, summarize } from "./episode_records.ts";
import type { EpisodeRecord, EvalResult } from "./episode_records.ts";
import { EpisodeStatistics } from "../env/mod.ts";
import { runToEnd } from "../event_loop.ts";
import type { Steps } from "../event_loop.ts";
import { clipDelta, clippedDeltaNorm, composePlan } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";

/** Options of {@linkcode evaluatePolicy}. */
export interface EvaluateOptions {
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
   * Builds the vector env of `numEnvs` envs. The envs it builds for an evaluation may be
   * reused by a later one with the same `makeEnv` (after `reset`), so it should build the
   * same env every time.
   */
  makeEnv: (numEnvs: number) => VecEnv;
}

/**
 * Rolls out `count` seeded episodes and measures each one.
 *
 * @example
 * ```ts ignore
 * const { summary } = evaluatePolicy({ makeEnv, planner, model: null, deltaClip: 2, firstSeed: 2 ** 30, count: 100 });
 * console.log(summary.success_rate, summary.ade_mean);
 * ```
 */
export function evaluatePolicy(opts: EvaluateOptions): EvalResult {
  return runToEnd(evaluatePolicySteps(opts));
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
export function* evaluatePolicySteps(opts: EvaluateOptions): Steps<EvalResult> {
  const { count } = opts;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`evaluation needs at least one episode, got ${count}`);
  }
  return opts.sampleRng ? yield* sampledSteps(opts) : yield* meanSteps(opts);
}

// Vector envs no evaluation is using, by the `makeEnv` that built them: the trainer
// evaluates every 10 episodes, and building the envs each time churned memory (the
// default run's peak RSS 4 to 8 MB higher). `reset` starts an env afresh, so a reused env
// runs the same episodes as a new one.
const idleEnvs = new WeakMap<object, EpisodeStatistics[]>();

function takeEnv(opts: EvaluateOptions, n: number): EpisodeStatistics {
  const idle = idleEnvs.get(opts.makeEnv);
  const at = idle ? idle.findIndex((e) => e.numEnvs === n) : -1;
  if (idle && at >= 0) return idle.splice(at, 1)[0];
  return new EpisodeStatistics(opts.makeEnv(n));
}

function putBack(opts: EvaluateOptions, vec: EpisodeStatistics): void {
  const idle = idleEnvs.get(opts.makeEnv) ?? [];
  idle.push(vec);
  idleEnvs.set(opts.makeEnv, idle);
}

// The delta's mean (or no delta): each of up to n slots runs one episode at a time and
// takes the next seed as soon as its episode ends; only the running slots step, and the
// planner and the model see only their rows, packed. A row's plan depends on its
// observation alone, so every episode is the one a lockstep batch would give.
function* meanSteps(opts: EvaluateOptions): Steps<EvalResult> {
  const { planner, model, deltaClip, firstSeed, count } = opts;
  const n = Math.min(count, opts.numEnvs ?? 16);
  // slot i gets the env slot i had last time, which holds the route of seed i already
  const vec = takeEnv(opts, n);
  const { obsDim: d, actionDim: a, metrics } = vec;
  const obs = new Float64Array(n * d);
  const mean = new Float64Array(n * a);
  const plan = new Float64Array(n * a);
  const actions = new Float64Array(n * a);
  const running = new Uint8Array(n);
  const restart = new Uint8Array(n);
  const seeds = new Float64Array(n);
  const slotSeed = new Float64Array(n); // seed index (from firstSeed) each slot runs
  const sumDelta = new Float64Array(n);
  const active: number[] = []; // running slots, in the order of their rows
  const records: EpisodeRecord[] = new Array(count);
  for (let i = 0; i < n; i++) {
    seeds[i] = firstSeed + i;
    slotSeed[i] = i;
    running[i] = 1;
    active.push(i);
  }
  const resetting = vec.reset(seeds);
  if (resetting) yield resetting;
  let next = n;
  while (active.length > 0) {
    const k = active.length;
    for (let r = 0; r < k; r++) {
      obs.set(vec.obs.subarray(active[r] * d, (active[r] + 1) * d), r * d);
    }
    planner.plan(obs, k, plan);
    if (model) {
      model.actMean(obs, k, mean);
      // composePlan's sum on the k packed rows, and each row's clippedDeltaNorm (the
      // same sum of squares, in the same order)
      for (let r = 0; r < k; r++) {
        let sq = 0;
        for (let j = r * a; j < (r + 1) * a; j++) {
          const x = clipDelta(mean[j], deltaClip);
          plan[j] += x;
          sq += x * x;
        }
        sumDelta[active[r]] += Math.sqrt(sq);
      }
    }
    for (let r = 0; r < k; r++) {
      actions.set(plan.subarray(r * a, (r + 1) * a), active[r] * a);
    }
    const stepping = vec.step(actions, running);
    if (stepping) yield stepping;
    let kept = 0, restarts = 0;
    for (let r = 0; r < k; r++) {
      const slot = active[r];
      if (!vec.done[slot]) {
        active[kept++] = slot;
        continue;
      }
      const seed = firstSeed + slotSeed[slot];
      records[slotSeed[slot]] = episodeRecord(vec, {
        row: slot,
        seed,
        meanDeltaNorm: sumDelta[slot] / vec.episodeLengths[slot],
      });
      sumDelta[slot] = 0;
      running[slot] = 0;
      if (next < count) {
        seeds[slot] = firstSeed + next;
        slotSeed[slot] = next++;
        restart[slot] = running[slot] = 1;
        restarts++;
        active[kept++] = slot;
      }
    }
    active.length = kept;
    if (restarts > 0) {
      const restarting = vec.reset(seeds, restart);
      if (restarting) yield restarting;
      restart.fill(0);
    }
    yield;
  }
  putBack(opts, vec);
  return { scenarios: records, summary: summarize(records, metrics), metrics };
}

// Sampled deltas: lockstep batches of n envs until each batch's last episode ends, every
// row drawing from the RNG at every step (what fixes the draws each episode gets); only
// the running episodes step.
function* sampledSteps(opts: EvaluateOptions): Steps<EvalResult> {
  const { planner, model, deltaClip, firstSeed, count, sampleRng } = opts;
  const n = Math.min(count, opts.numEnvs ?? 16);
  const vec = takeEnv(opts, n);
  const { actionDim: a, metrics } = vec;
  const mean = new Float64Array(n * a);
  const value = new Float64Array(n);
  const sampled = new Float64Array(n * a);
  const logp = new Float64Array(n);
  const plan = new Float64Array(n * a);
  const sumDelta = new Float64Array(n);
  const running = new Uint8Array(n);
  const seeds = new Float64Array(n);
  const scenarios: EpisodeRecord[] = [];

  for (let first = 0; first < count; first += n) {
    const batch = Math.min(n, count - first);
    for (let i = 0; i < n; i++) {
      seeds[i] = firstSeed + first + i;
      running[i] = i < batch ? 1 : 0;
    }
    const resetting = vec.reset(seeds, running);
    if (resetting) yield resetting;
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
      const stepping = vec.step(plan, running);
      if (stepping) yield stepping;
      for (let i = 0; i < n; i++) {
        if (!running[i] || !vec.done[i]) continue;
        running[i] = 0;
        remaining--;
        const meanDeltaNorm = sumDelta[i] / vec.episodeLengths[i];
        records[i] = episodeRecord(vec, { row: i, seed: seeds[i], meanDeltaNorm });
      }
      yield;
    }
    for (const record of records) scenarios.push(record);
  }
  putBack(opts, vec);
  return { scenarios, summary: summarize(scenarios, metrics), metrics };
}
