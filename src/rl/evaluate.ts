/**
 * Deterministic evaluation: roll out a planner, optionally corrected by a delta head's
 * mean action, on a range of seeded episodes.
 *
 * @module
 */

import type { ActorCritic } from "../nn/mod.ts";
import type { EnvConfig, VecEnv } from "../env/mod.ts";
import { DrivingVecEnv } from "../env/mod.ts";
import type { WaypointPlanner } from "../sft/mod.ts";

/** Summary of an evaluation (the keys of `train_metrics.json` `heldout.sft` / `.refined`). */
export interface EvalSummary {
  mean_return: number;
  success_rate: number;
  mean_length: number;
}

/** Options of {@linkcode evaluatePolicy}. */
export interface EvaluateOptions {
  env: EnvConfig;
  planner: WaypointPlanner;
  /** Delta head to add (mean action, clipped); null evaluates the planner alone. */
  model: ActorCritic | null;
  deltaClip: number;
  /** Seeds firstSeed .. firstSeed + count - 1. */
  firstSeed: number;
  count: number;
  /** Envs stepped together (results do not depend on it). */
  numEnvs?: number;
  makeEnv?: (numEnvs: number) => VecEnv;
}

/**
 * Rolls out `count` episodes and averages return, success and length.
 *
 * @example
 * ```ts ignore
 * const sft = evaluatePolicy({ env, planner, model: null, deltaClip: 2, firstSeed: 2 ** 30, count: 100 });
 * ```
 */
export function evaluatePolicy(opts: EvaluateOptions): EvalSummary {
  const { env, planner, model, deltaClip, firstSeed, count } = opts;
  if (count <= 0) return { mean_return: 0, success_rate: 0, mean_length: 0 };
  const n = Math.min(count, opts.numEnvs ?? 16);
  const vec = opts.makeEnv ? opts.makeEnv(n) : new DrivingVecEnv(env, n);
  const a = vec.actionDim;
  const mean = new Float64Array(n * a);
  const value = new Float64Array(n);
  const plan = new Float64Array(n * a);
  const done = new Uint8Array(n);
  const seeds = new Array<number>(n);
  let sumReturn = 0, sumSuccess = 0, sumLength = 0;
  for (let first = 0; first < count; first += n) {
    const batch = Math.min(n, count - first);
    for (let i = 0; i < n; i++) seeds[i] = firstSeed + first + i;
    vec.reset(seeds);
    done.fill(0);
    for (let i = batch; i < n; i++) done[i] = 1;
    let remaining = batch;
    while (remaining > 0) {
      planner.plan(vec.obs, n, plan);
      if (model) {
        model.act(vec.obs, n, mean, value);
        for (let j = 0; j < n * a; j++) {
          const d = mean[j];
          plan[j] += d > deltaClip ? deltaClip : d < -deltaClip ? -deltaClip : d;
        }
      }
      vec.step(plan);
      for (let i = 0; i < n; i++) {
        if (done[i] || !(vec.terminated[i] || vec.truncated[i])) continue;
        done[i] = 1;
        remaining--;
        sumReturn += vec.episodeReturns[i];
        sumSuccess += vec.success[i];
        sumLength += vec.episodeLengths[i];
      }
    }
  }
  return {
    mean_return: sumReturn / count,
    success_rate: sumSuccess / count,
    mean_length: sumLength / count,
  };
}
