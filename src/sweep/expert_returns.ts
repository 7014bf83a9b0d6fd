/**
 * The expert planner's return on a job's held-out seeds: what the share of the
 * SFT-to-expert gap a seed closes is measured against. Not in the run files, so it is
 * evaluated (once per env and seeds, cached), for the envs that have an expert planner.
 *
 * @module
 */

import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
import type { EnvConfig, EnvName } from "../env/mod.ts";
import { ExpertPlanner } from "../env/mod.ts";
import type { WaypointPlanner } from "../sft/mod.ts";
import { evaluatePolicy } from "../run/mod.ts";

/** The planner the SFT-to-expert gap is measured against, for the envs that have one. */
export const EXPERT_PLANNERS: Partial<Record<EnvName, (env: EnvConfig) => WaypointPlanner>> = {
  driving: (env) => new ExpertPlanner(env),
};

/** Expert returns on held-out seeds, by env and seeds (the cache `aggregateSeeds` takes). */
export type ExpertReturns = Map<string, number>;

/**
 * The expert planner's mean return on the held-out seeds `heldout` of `env`, from
 * `cache` or evaluated into it; undefined for an env without an expert planner. The
 * env is read as the aggregate reads a seed's `config.json` (over the defaults), so a
 * run's own configuration finds the entry its seeds' files will look for.
 *
 * @example
 * ```ts ignore
 * const experts: ExpertReturns = new Map();
 * expertReturn(experts, { envName: "driving", env: run.env, heldout: { first_seed: 2 ** 30, count: 200 } });
 * await writeSummary(dir, { experts }); // not evaluated again
 * ```
 */
export function expertReturn(
  cache: ExpertReturns,
  opts: { envName: EnvName; env: EnvConfig; heldout: { first_seed: number; count: number } },
): number | undefined {
  const expertOf = EXPERT_PLANNERS[opts.envName];
  if (!expertOf) return undefined;
  const env: EnvConfig = Object.assign({ ...DEFAULT_ENV_CONFIG }, opts.env);
  const { first_seed, count } = opts.heldout;
  const key = JSON.stringify([env, { first_seed, count }]);
  let value = cache.get(key);
  if (value === undefined) {
    value = evaluatePolicy({
      env,
      planner: expertOf(env),
      model: null,
      deltaClip: 0,
      firstSeed: first_seed,
      count,
    }).summary.return_mean;
    cache.set(key, value);
  }
  return value;
}
