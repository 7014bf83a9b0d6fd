/**
 * `--env NAME`: which env `train` and `eval` run on (driving by default).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { ENV_NAMES, isEnvName } from "../env/mod.ts";
import type { EnvName } from "../env/mod.ts";

/** The parseArgs option of `--env`. */
export const ENV_CHOICE_OPTION = { env: { type: "string" } } as const;

/** `--env`'s help line. */
export const ENV_CHOICE_HELP = `  --env NAME               env to run on: ${
  ENV_NAMES.join(", ")
} (default driving)`;

/**
 * The env `--env` names, else `fallback`; an unknown name is bad input.
 *
 * @example
 * ```ts
 * envChoice({ env: "mountain_car" }, "driving"); // "mountain_car"
 * ```
 */
export function envChoice(
  values: Record<string, unknown>,
  fallback: EnvName,
): EnvName {
  const v = values.env;
  if (v === undefined) return fallback;
  if (typeof v !== "string" || !isEnvName(v)) {
    throw new UserError(`--env: expected one of ${ENV_NAMES.join(", ")}, got '${String(v)}'`);
  }
  return v;
}

/**
 * Refuses an `--env` other than the one a resumed run was trained on (`trainedOn`).
 *
 * @example
 * ```ts
 * checkEnvChoice({}, "mountain_car"); // fine: no --env
 * ```
 */
export function checkEnvChoice(values: Record<string, unknown>, trainedOn: EnvName): void {
  const name = envChoice(values, trainedOn);
  if (name !== trainedOn) {
    throw new UserError(`--env ${name}: the checkpoint resumed was trained on ${trainedOn}`);
  }
}
