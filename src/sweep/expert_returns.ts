/**
 * The expert planner's return on a job's held-out seeds: what the share of the
 * SFT-to-expert gap a seed closes is measured against. Not in the run files, so it is
 * evaluated (once per env, settings and seeds, cached), for envs whose entry has an
 * "expert" planner: by `train --seeds` for the env its command line names, by the
 * aggregate itself only for a built-in env (it never loads a module).
 *
 * @module
 */

import type { EnvDefinition, EnvSettings } from "../env/mod.ts";
import { evaluatePolicy, namedPlanner } from "../run/mod.ts";

/** Expert returns on held-out seeds, by env, settings and seeds (the cache `aggregateSeeds` takes). */
export type ExpertReturns = Map<string, number>;

/**
 * The cache key of an env (its id), its settings and held-out seeds.
 *
 * @example
 * ```ts ignore
 * expertKey("driving", { settings, heldout: { first_seed: 2 ** 30, count: 200 } });
 * ```
 */
export function expertKey(
  id: string,
  opts: { settings: EnvSettings; heldout: { first_seed: number; count: number } },
): string {
  const { settings, heldout } = opts;
  return JSON.stringify([id, settings, heldout.first_seed, heldout.count]);
}

/**
 * The expert planner's mean return on the held-out seeds `heldout` of `definition` with
 * `settings`, from `cache` or evaluated into it; undefined when the env has no expert
 * (or its episodes cannot be rolled out here: an env that answers asynchronously).
 *
 * @example
 * ```ts ignore
 * const experts: ExpertReturns = new Map();
 * expertReturn(experts, { definition, settings, heldout: { first_seed: 2 ** 30, count: 200 } });
 * await writeSummary(dir, { experts }); // not evaluated again
 * ```
 */
export function expertReturn(
  cache: ExpertReturns,
  opts: {
    definition: EnvDefinition;
    settings: EnvSettings;
    heldout: { first_seed: number; count: number };
  },
): number | undefined {
  const { definition, settings, heldout } = opts;
  const key = expertKey(definition.id, { settings, heldout });
  const known = cache.get(key);
  if (known !== undefined) return known;
  const planner = namedPlanner("expert", { definition, settings });
  if (!planner) return undefined;
  let value: number;
  try {
    value = evaluatePolicy({
      makeEnv: (n) => definition.make(settings, n),
      planner,
      model: null,
      deltaClip: 0,
      firstSeed: heldout.first_seed,
      count: heldout.count,
    }).summary.return_mean;
  } catch {
    return undefined;
  }
  cache.set(key, value);
  return value;
}
