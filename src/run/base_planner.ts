/**
 * The base planner a run refines: on driving the SFT planner (built-in, or an
 * `--sft-model` file), on traffic that planner run on the observation's `z` part, blind
 * to the other vehicles, on any other env the zero action (plain PPO).
 *
 * @module
 */

import { ZPrefixPlanner } from "../env/mod.ts";
import type { EnvConfig, VecEnv } from "../env/mod.ts";
import { loadSftPlanner, ZeroPlanner } from "../sft/mod.ts";
import { BuiltinSftPlanner, TRAFFIC_SFT_OPTIONS } from "../env/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import type { RunConfig } from "./run_config.ts";

/**
 * The traffic env's base planner: the SFT planner (`sftModel` file, else the built-in
 * one with {@linkcode TRAFFIC_SFT_OPTIONS}) on the `z` part of observations of
 * `obsDim` numbers.
 *
 * @example
 * ```ts ignore
 * const planner = await trafficBasePlanner(env, { sftModel: null, obsDim: 73 });
 * ```
 */
export async function trafficBasePlanner(
  env: EnvConfig,
  opts: { sftModel: string | null; obsDim: number },
): Promise<ZPrefixPlanner> {
  const inner: WaypointPlanner = opts.sftModel === null
    ? new BuiltinSftPlanner(env, TRAFFIC_SFT_OPTIONS)
    : await loadSftPlanner(opts.sftModel, {
      horizon: env.horizon_steps,
      obsDim: 1 + 2 * env.horizon_steps,
    });
  return new ZPrefixPlanner(inner, { obsDim: opts.obsDim });
}

/**
 * The base planner a run refines: on driving the SFT planner (`sft_model` or built-in),
 * on traffic that planner on the observation's `z`, on any other env the zero action.
 *
 * @example
 * ```ts ignore
 * const planner = await runBasePlanner(run, makeEnv);
 * ```
 */
export async function runBasePlanner(
  run: RunConfig,
  makeEnv: ((n: number) => VecEnv) | undefined,
): Promise<BasePlanner | WaypointPlanner> {
  if (run.env_name === "traffic") {
    return await trafficBasePlanner(run.env, {
      sftModel: run.sft_model,
      obsDim: makeEnv!(1).obsDim,
    });
  }
  if (makeEnv) return new ZeroPlanner(makeEnv(1));
  if (run.sft_model === null) return new BuiltinSftPlanner(run.env);
  return await loadSftPlanner(run.sft_model, {
    horizon: run.env.horizon_steps,
    obsDim: 1 + 2 * run.env.horizon_steps,
  });
}
