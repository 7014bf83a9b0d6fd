/**
 * The environment flags every command that builds an environment accepts.
 *
 * @module
 */

import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { applyNumberFlags, flagHelp, flagOptions } from "./_flags.ts";
import type { NumberFlag } from "./_flags.ts";

/** Flags that set `env` keys. */
export const ENV_FLAGS: NumberFlag[] = [
  {
    flag: "horizon-steps",
    key: "horizon_steps",
    kind: "int",
    lo: 1,
    hi: 1000,
    help: "waypoints per plan (H)",
  },
  {
    flag: "max-episode-steps",
    key: "max_episode_steps",
    kind: "int",
    lo: 1,
    hi: 1e6,
    help: "steps before an episode is truncated",
  },
  {
    flag: "world-size",
    key: "world_size",
    kind: "float",
    lo: 1,
    hi: 1e6,
    help: "side of the square world, m",
  },
  {
    flag: "waypoint-spacing",
    key: "waypoint_spacing",
    kind: "float",
    lo: 0,
    hi: 1e6,
    exclusiveLow: true,
    help: "meters between route waypoints",
  },
];

/** parseArgs options of {@linkcode ENV_FLAGS}. */
export const ENV_FLAG_OPTIONS: Record<string, { type: "string" }> = flagOptions(ENV_FLAGS);

/** --help lines of {@linkcode ENV_FLAGS}. */
export const ENV_FLAG_HELP: string[] = flagHelp(ENV_FLAGS, DEFAULT_ENV_CONFIG);

/**
 * Applies the environment flags that were given to `env`.
 *
 * @example
 * ```ts
 * const env = { ...DEFAULT_ENV_CONFIG };
 * applyEnvFlags(env, { "horizon-steps": "5" });
 * ```
 */
export function applyEnvFlags(env: EnvConfig, values: Record<string, unknown>): void {
  applyNumberFlags(env, { values, flags: ENV_FLAGS });
}
