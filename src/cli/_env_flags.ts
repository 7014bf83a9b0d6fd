/**
 * The environment flags every command that builds an environment accepts: the rows
 * of `ENV_CONFIG_TABLE` that have a flag.
 *
 * @module
 */

import { ENV_CONFIG_TABLE } from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { applyFlags, flagHelp, flagOptions } from "./_flags.ts";

/** parseArgs options of the environment flags. */
export const ENV_FLAG_OPTIONS: Record<string, { type: "string" }> = flagOptions(ENV_CONFIG_TABLE);

/** --help lines of the environment flags. */
export const ENV_FLAG_HELP: string[] = flagHelp(ENV_CONFIG_TABLE);

/**
 * Applies the environment flags that were given to `env`.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
 * const env = { ...DEFAULT_ENV_CONFIG };
 * applyEnvFlags(env, { "horizon-steps": "5" });
 * ```
 */
export function applyEnvFlags(env: EnvConfig, values: Record<string, unknown>): void {
  applyFlags(env, { values, table: ENV_CONFIG_TABLE });
}
