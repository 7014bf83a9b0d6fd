/**
 * `eval --help`: the policies an env offers, the flags, and the env's own flags under its
 * heading.
 *
 * @module
 */

import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { helpLines } from "./_flags.ts";
import { envFlagHelp } from "./_env_flags.ts";
import { envChoiceHelp } from "./_env_choice.ts";
import { EVAL_SCENARIOS_HELP } from "./_scenario_flags.ts";

/**
 * `eval --help` for env `def`.
 *
 * @example
 * ```ts ignore
 * console.log(evalHelp(DRIVING_ENV));
 * ```
 */
export function evalHelp(def: EnvDefinition): string {
  const planners = Object.entries(def.planners ?? {}).filter(([name]) => name !== "sft");
  const base = `${def.planners?.sft?.description ?? "the zero action (plain PPO)"}${
    def.plannerFile ? ", or --sft-model" : ""
  }`;
  return [
    "Usage: delta-waypoint eval --policy P [--policy P ...] [flags]",
    "",
    "Roll out policies on the same seeded episodes (seeds S..S+N-1) and report them side by side:",
    "success (envs with a goal), return, steps, the env's metrics, and the delta's norm.",
    "",
    `Policies (--env ${def.id}):`,
    ...helpLines("sft, base", `the env's base policy alone: ${base}`),
    ...planners.flatMap(([name, p]) => helpLines(name, p.description)),
    ...helpLines(
      "PATH.pt",
      "the base policy + the delta head of a training checkpoint (its mean action)",
    ),
    ...helpLines("RUN_DIR", "a run folder (train --out-dir): its final.pt, or best.pt with --best"),
    ...helpLines(
      "DIR",
      "a multi-seed folder (train --seeds): each seed's final.pt, and their mean",
    ),
    "",
    "Flags:",
    ...helpLines("--policy P", "repeatable; default: sft"),
    ...helpLines("--best", "a run folder's best.pt instead of its final.pt"),
    ...helpLines("--episodes N", "episodes per policy (default 100)"),
    ...helpLines(
      "--seed S",
      `first seed (default ${HELDOUT_SEED_BASE}: training never uses seeds from there on)`,
    ),
    ...helpLines(
      "--sft-model PATH",
      "SFT planner file (default: the one a .pt policy was trained on, else the env's)",
    ),
    ...helpLines("--stochastic", "sample the delta from the policy instead of taking its mean"),
    ...helpLines("--json", "print the JSON document(s) instead of a table"),
    ...helpLines(
      "--output FILE",
      "also write them to FILE (one document, or a list when comparing)",
    ),
    ...helpLines("--overwrite", "replace an existing --output file"),
    ...helpLines(
      "--config FILE",
      'JSON or YAML (.yaml, .yml) {"env": {...}} for the environment',
    ),
    ...envChoiceHelp(),
    ...helpLines("-h, --help", "this help"),
    ...envFlagHelp(def, { extra: def.scenarios ? EVAL_SCENARIOS_HELP : [] }),
  ].join("\n");
}
