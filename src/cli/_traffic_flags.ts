/**
 * The traffic env's flags (`--neighbors`, `--vehicle-mode`), and the check that a
 * resumed traffic run keeps the number of vehicles it observes. (Its base planner:
 * `run/base_planner.ts`.)
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { DEFAULT_TRAFFIC_CONFIG, TRAFFIC_CONFIG_TABLE, validateTrafficConfig } from "../env/mod.ts";
import type { TrafficConfig } from "../env/mod.ts";
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
