/**
 * Rolls a fixed planner out on seeded episodes and summarises how it drives: the
 * yardstick for tuning the env and for `eval` of a planner without a delta head.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";
import { DrivingVecEnv } from "./vec_env.ts";

/**
 * Anything that maps observations (rows, 1 + 2H) to final plans (rows, 2H); every
 * `WaypointPlanner` is one.
 *
 * @example
 * ```ts
 * const straightAhead: PlanSource = {
 *   plan(_obs, rows, out) {
 *     for (let j = 0; j < rows * 40; j += 2) out[j] = 4 * (1 + ((j % 40) >> 1));
 *   },
 * };
 * ```
 */
export interface PlanSource {
  /** obs (rows, 1 + 2H) -> `out` (rows, 2H), car frame. */
  plan(obs: Float64Array, rows: number, out: Float64Array): void;
}

/** Options of {@linkcode evaluatePlanner}. */
export interface EvaluateOptions {
  /** Episodes to run, with seeds firstSeed, firstSeed + 1, ... Default 200. */
  episodes?: number;
  /** Seed of the first episode. Default 0. */
  firstSeed?: number;
  /** Envs stepped together. Default min(episodes, 16). */
  numEnvs?: number;
}

/** Averages over the evaluated episodes. */
export interface EvaluateSummary {
  /** Episodes run. */
  episodes: number;
  /** Fraction of episodes that reached the goal. */
  successRate: number;
  /** Fraction that left the corridor or the world. */
  offRouteRate: number;
  /** Fraction cut at max_episode_steps. */
  truncatedRate: number;
  /** Mean undiscounted episode return. */
  meanReturn: number;
  /** Mean episode length (steps). */
  meanLength: number;
  /** Mean fraction of targets reached or passed at the episode's end. */
  meanRouteCompletion: number;
}

/**
 * Runs `planner` on episodes `firstSeed .. firstSeed + episodes - 1` (each seed once,
 * whatever `numEnvs`) and returns success, off-route and truncation rates, mean
 * return, length and route completion.
 *
 * @example
 * ```ts
 * const summary = evaluatePlanner(DEFAULT_ENV_CONFIG, new ExpertPlanner(DEFAULT_ENV_CONFIG));
 * console.log(summary.successRate);
 * ```
 */
export function evaluatePlanner(
  cfg: EnvConfig,
  planner: PlanSource,
  opts: EvaluateOptions = {},
): EvaluateSummary {
  const episodes = opts.episodes ?? 200;
  const firstSeed = opts.firstSeed ?? 0;
  const numEnvs = opts.numEnvs ?? Math.min(episodes, 16);
  if (!Number.isInteger(episodes) || episodes < 1) {
    throw new RangeError(`episodes: expected a positive integer, got ${episodes}`);
  }
  const venv = new DrivingVecEnv(cfg, numEnvs);
  const seeds = new Float64Array(numEnvs);
  for (let i = 0; i < numEnvs; i++) seeds[i] = firstSeed + i;
  venv.reset(seeds);
  const plans = new Float64Array(numEnvs * venv.actionDim);
  const lastSeed = firstSeed + episodes;
  let done = 0, successes = 0, offRoutes = 0, truncations = 0;
  let sumReturn = 0, sumLength = 0, sumCompletion = 0;
  while (done < episodes) {
    for (let i = 0; i < numEnvs; i++) seeds[i] = venv.seeds[i];
    planner.plan(venv.obs, numEnvs, plans);
    venv.step(plans);
    for (let i = 0; i < numEnvs; i++) {
      if ((venv.terminated[i] === 0 && venv.truncated[i] === 0) || seeds[i] >= lastSeed) continue;
      done++;
      successes += venv.success[i];
      offRoutes += venv.offRoute[i];
      truncations += venv.truncated[i];
      sumReturn += venv.episodeReturns[i];
      sumLength += venv.episodeLengths[i];
      sumCompletion += venv.routeCompletion[i];
    }
  }
  return {
    episodes,
    successRate: successes / episodes,
    offRouteRate: offRoutes / episodes,
    truncatedRate: truncations / episodes,
    meanReturn: sumReturn / episodes,
    meanLength: sumLength / episodes,
    meanRouteCompletion: sumCompletion / episodes,
  };
}
