/**
 * The base policy a run refines, for any env: a planner file (`--sft-model`, `sft`'s MLP
 * planner) as the env's entry fits it, else the env's own "sft" planner, else the zero
 * action (plain PPO); and the env's other planners by name (`eval --policy expert`).
 * Every planner made here carries its spec, so the evaluation Worker and the ONNX export
 * can rebuild it.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { BasePlanner, EnvDefinition, EnvSettings } from "../env/mod.ts";
import { loadSftPlanner, mlpSpec, withSpec, ZeroPlanner } from "../sft/mod.ts";

/** An env with checked settings: what planners are made for. */
export interface EnvWithSettings {
  /** The env's registry entry. */
  definition: EnvDefinition;
  /** Its checked settings. */
  settings: EnvSettings;
}

/**
 * Whether the env has a base planner of its own to refine (its "sft" planner, or a
 * planner file it takes): its runs speak of an SFT planner; without, of a base policy.
 *
 * @example
 * ```ts ignore
 * hasSftPlanner(MOUNTAIN_CAR_ENV); // false
 * ```
 */
export function hasSftPlanner(def: EnvDefinition): boolean {
  return def.planners?.sft !== undefined || def.plannerFile !== undefined;
}

/**
 * The planner file at `path` as the env fits it (`plannerFile`: the part of the
 * observation it reads, H, and the env's wrap). Refused in one line for an env that
 * takes none, or a file whose shapes do not fit.
 *
 * @example
 * ```ts ignore
 * const planner = await plannerFromFile("out/sft/model.pt", { definition, settings });
 * ```
 */
export async function plannerFromFile(path: string, env: EnvWithSettings): Promise<BasePlanner> {
  const fit = env.definition.plannerFile;
  if (!fit) throw new UserError(`--sft-model: --env ${env.definition.id} takes no planner file`);
  const inner = await loadSftPlanner(path, {
    horizon: fit.horizon(env.settings),
    obsDim: fit.inDim(env.settings),
  });
  if (!fit.wrap) return inner;
  return withSpec(fit.wrap(inner, env.settings), { kind: "file", inner: mlpSpec(inner) });
}

/**
 * The env's planner `name` (`EnvDefinition.planners`), or undefined when it has none.
 *
 * @example
 * ```ts ignore
 * const expert = namedPlanner("expert", { definition, settings });
 * ```
 */
export function namedPlanner(name: string, env: EnvWithSettings): BasePlanner | undefined {
  const entry = env.definition.planners?.[name];
  return entry && withSpec(entry.make(env.settings), { kind: "entry", name });
}

/**
 * The base planner a run refines: the planner file `sftModel`, else the env's "sft"
 * planner, else the zero action of `probe`'s sizes.
 *
 * @example
 * ```ts ignore
 * const planner = await runBasePlanner({ definition, settings }, { sftModel: null, probe });
 * ```
 */
export async function runBasePlanner(
  env: EnvWithSettings,
  opts: { sftModel: string | null; probe: { obsDim: number; actionDim: number } },
): Promise<BasePlanner> {
  if (opts.sftModel !== null) return await plannerFromFile(opts.sftModel, env);
  return namedPlanner("sft", env) ?? new ZeroPlanner(opts.probe);
}
