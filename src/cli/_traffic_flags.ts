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
import type { EnvConfig, TrafficConfig } from "../env/mod.ts";
import { BuiltinSftPlanner, loadSftPlanner, TRAFFIC_SFT_OPTIONS } from "../sft/mod.ts";
import type { WaypointPlanner } from "../sft/mod.ts";
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
 * section; undefined when the env is not traffic, where the flags are bad input).
 *
 * @example
 * ```ts ignore
 * applyTrafficFlags(run.traffic, values);
 * ```
 */
export function applyTrafficFlags(
  target: TrafficConfig | undefined,
  values: Record<string, unknown>,
): void {
  const given = Object.keys(TRAFFIC_FLAG_OPTIONS).filter((f) => values[f] !== undefined);
  if (given.length === 0) return;
  if (target === undefined) throw new UserError(`--${given[0]}: only for --env traffic`);
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
