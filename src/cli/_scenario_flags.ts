/**
 * `--scenarios DIR` of `train` and `eval`: its option, help lines, and the checks of
 * `eval`'s flags around it (the sets themselves: `run/scenario_runs.ts`).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { heldoutScenarios, scenarioSupport } from "../run/mod.ts";
import type { ScenarioSet } from "../run/mod.ts";
import { helpLines } from "./_flags.ts";

/** The parseArgs option of `--scenarios`. */
export const SCENARIOS_OPTION = { scenarios: { type: "string" } } as const;

/** `train --scenarios`'s help lines. */
export const TRAIN_SCENARIOS_HELP = helpLines(
  "--scenarios DIR",
  "train on the env's scenario files in DIR, cycling through them (evaluation stays on held-out seeds)",
);

/** `eval --scenarios`'s help lines. */
export const EVAL_SCENARIOS_HELP = helpLines(
  "--scenarios DIR",
  "evaluate each of the env's scenario files in DIR once (scenario_id = its id)",
);

/**
 * `--scenarios`' value in `values` (parsed flags), or null without the flag.
 *
 * @example
 * ```ts
 * scenariosFlag({ scenarios: "out/set" }); // "out/set"
 * ```
 */
export function scenariosFlag(values: Record<string, unknown>): string | null {
  return typeof values.scenarios === "string" ? values.scenarios : null;
}

/**
 * The set `eval --scenarios DIR` evaluates on (null without the flag). Only for an env
 * that plays scenario files; refused when it holds a scenario one of the evaluated
 * checkpoints (`checkpoints`: policy name to the checkpoint's extra keys) was trained on.
 *
 * @example
 * ```ts ignore
 * const set = await evalScenarios(values, { def, checkpoints: new Map([[name, ckpt.extra]]) });
 * ```
 */
export async function evalScenarios(
  values: Record<string, unknown>,
  opts: { def: EnvDefinition; checkpoints: Map<string, Record<string, unknown>> },
): Promise<ScenarioSet | null> {
  const dir = scenariosFlag(values);
  if (dir === null) return null;
  if (dir.trim() === "") throw new UserError("--scenarios: must not be empty");
  const support = scenarioSupport(opts.def, "--scenarios");
  for (const flag of ["episodes", "seed"]) {
    if (values[flag] !== undefined) {
      throw new UserError(`--scenarios: evaluates each file once; --${flag} does not apply`);
    }
  }
  return await heldoutScenarios(dir, { support, checkpoints: opts.checkpoints });
}
