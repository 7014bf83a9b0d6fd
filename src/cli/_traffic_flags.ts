/**
 * The traffic env's flags (`--neighbors`, `--vehicle-mode`) and its base planner: the
 * driving SFT planner (built-in with the traffic error, or an `--sft-model` file) run on
 * the observation's `z` part, blind to the other vehicles.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import {
  DEFAULT_TRAFFIC_CONFIG,
  TRAFFIC_CONFIG_TABLE,
  validateTrafficConfig,
  ZPrefixPlanner,
} from "../env/mod.ts";
import type { EnvConfig, EnvFactoryOptions, TrafficConfig, VecEnv } from "../env/mod.ts";
import { BuiltinSftPlanner, loadSftPlanner, TRAFFIC_SFT_OPTIONS, ZeroPlanner } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import { resumedBaseConfig } from "../run/mod.ts";
import type { ResumePoint, RunConfig } from "../run/mod.ts";
import { applyFlags, flagHelp, flagOptions } from "./_flags.ts";

/** parseArgs options of the traffic flags. */
export const TRAFFIC_FLAG_OPTIONS = {
  ...flagOptions(TRAFFIC_CONFIG_TABLE),
  "vehicle-mode": { type: "string" },
} as const;

/** --help lines of the traffic flags. */
export const TRAFFIC_FLAG_HELP: string[] = [
  ...flagHelp(TRAFFIC_CONFIG_TABLE).map((l) => `${l} [traffic]`),
  `  --vehicle-mode MODE      other vehicles: idm (reactive) or replay (default ${DEFAULT_TRAFFIC_CONFIG.vehicle_mode}) [traffic]`,
];

/**
 * Applies the traffic flags given in `values` to `target` (the run's `traffic`
 * section; undefined when the env is not traffic, where the flags are bad input) and
 * checks the section, flags or not (a `--config` file may have set it).
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAFFIC_CONFIG } from "../env/traffic/config.ts";
 * const traffic = { ...DEFAULT_TRAFFIC_CONFIG };
 * applyTrafficFlags(traffic, { neighbors: "4" }); // traffic.neighbors = 4
 * ```
 */
export function applyTrafficFlags(
  target: TrafficConfig | undefined,
  values: Record<string, unknown>,
): void {
  const given = Object.keys(TRAFFIC_FLAG_OPTIONS).filter((f) => values[f] !== undefined);
  if (target === undefined) {
    if (given.length > 0) throw new UserError(`--${given[0]}: only for --env traffic`);
    return;
  }
  applyFlags(target, { values, table: TRAFFIC_CONFIG_TABLE });
  const mode = values["vehicle-mode"];
  if (typeof mode === "string") target.vehicle_mode = mode;
  try {
    validateTrafficConfig(target);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
}

/**
 * Refuses a traffic run resumed from `point` whose `--neighbors` or `--config` changed
 * how many vehicles it observes: the delta head's input size depends on it.
 *
 * @example
 * ```ts ignore
 * checkResumedNeighbors(point, { run, values });
 * ```
 */
export function checkResumedNeighbors(
  point: ResumePoint,
  opts: { run: RunConfig; values: Record<string, unknown> },
): void {
  const was = resumedBaseConfig(point).traffic?.neighbors, now = opts.run.traffic?.neighbors;
  if (was === undefined || now === undefined || was === now) return;
  const from = opts.values.neighbors !== undefined ? "--neighbors" : "--config traffic.neighbors";
  throw new UserError(
    `${from} ${now}: the resumed run observes ${was} vehicles (its delta head's input size), which a resumed run keeps`,
  );
}

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

/**
 * What a run's env factory takes besides `env` (the traffic section), its `--config`
 * sections and the keys its checkpoints add (`env_name`, `traffic_cfg`).
 *
 * @example
 * ```ts ignore
 * vecEnvFactory(run.env_name, run.env, runEnvParts(run).options);
 * ```
 */
export function runEnvParts(run: RunConfig): {
  options: EnvFactoryOptions;
  sections: Record<string, object>;
  ignore: string[];
  extra: Record<string, unknown>;
} {
  const t = run.traffic;
  return {
    options: t ? { traffic: t } : {},
    sections: { env: run.env, ppo: run.ppo, ...(t ? { traffic: t } : {}) },
    ignore: ["out_dir", "sft_model", "env_name"],
    extra: {
      ...(run.env_name ? { env_name: run.env_name } : {}),
      ...(t ? { traffic_cfg: t } : {}),
    },
  };
}
