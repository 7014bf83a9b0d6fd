/**
 * The driving env's registry entry: its config section (`ENV_CONFIG_TABLE`), the
 * built-in SFT planner a run refines and the expert, the planner file it accepts (`sft`'s
 * MLP planner on z), and the demonstrations `sft` clones.
 *
 * @module
 */

import type { EnvDefinition, EnvSettings } from "../definition.ts";
import { ENV_CONFIG_TABLE, type EnvConfig, validateEnvConfig } from "./config.ts";
import { BuiltinSftPlanner, ExpertPlanner } from "./planners.ts";
import { Driving, DRIVING_METRICS } from "./vec_env.ts";

/** The `env` section of checked settings, as the driving env's config. */
export function drivingConfig(settings: EnvSettings): EnvConfig {
  return settings.env as unknown as EnvConfig;
}

/**
 * What the driving observation holds, for a doc string.
 *
 * @example
 * ```ts
 * zDoc(20); // "speed (m/s), then the 20 target waypoints ..."
 * ```
 */
export function zDoc(horizon: number): string {
  return `speed (m/s), then the ${horizon} target waypoints x1, y1, ..., x${horizon}, y${horizon} in the car frame (m, x forward, y left)`;
}

/** `--env driving` (the default): the toy driving env over the built-in SFT planner. */
export const DRIVING_ENV: EnvDefinition = Object.freeze({
  id: "driving",
  description: "a kinematic car on seeded routes, refining a waypoint planner (the default)",
  sections: [{ key: "env", title: "Driving env", table: ENV_CONFIG_TABLE }],
  validate: (settings: EnvSettings) => validateEnvConfig(drivingConfig(settings)),
  make: (settings: EnvSettings, numEnvs: number) => new Driving(drivingConfig(settings), numEnvs),
  ppoFromSettings: (settings: EnvSettings) => ({
    horizon_steps: drivingConfig(settings).horizon_steps,
  }),
  outDir: "out/rl_delta_waypoint_v0/run_001",
  planners: {
    sft: {
      description: "the built-in SFT planner (curves flattened, 0.3 m off-centre, noise)",
      make: (settings: EnvSettings) => new BuiltinSftPlanner(drivingConfig(settings)),
    },
    expert: {
      description: "the expert planner (the exact route)",
      make: (settings: EnvSettings) => new ExpertPlanner(drivingConfig(settings)),
    },
  },
  plannerFile: {
    horizon: (settings: EnvSettings) => drivingConfig(settings).horizon_steps,
    inDim: (settings: EnvSettings) => 1 + 2 * drivingConfig(settings).horizon_steps,
  },
  cloning: {
    make: (settings: EnvSettings, numEnvs: number) => new Driving(drivingConfig(settings), numEnvs),
    expert: (settings: EnvSettings) => new ExpertPlanner(drivingConfig(settings)),
    builtin: (settings: EnvSettings) => new BuiltinSftPlanner(drivingConfig(settings)),
  },
  metrics: DRIVING_METRICS,
  actionUnit: "m",
  observationDoc: (settings: EnvSettings, obsDim: number) =>
    `the encoded state z (${obsDim}): ${zDoc(drivingConfig(settings).horizon_steps)}`,
});
