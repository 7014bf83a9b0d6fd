/**
 * `train`'s flags: the option table (the PPO table's flags, the env's own flags and the
 * run's), `--help` with the env's own defaults, and the run configuration built from
 * defaults, `--config FILE` and the flags.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { applyConfigFile } from "../io/mod.ts";
import { PPO_CONFIG_TABLE } from "../ppo/mod.ts";
import {
  checkCommandLineOnly,
  fitRunToEnv,
  runConfigDefaults,
  runEnvParts,
  runSettings,
} from "../run/mod.ts";
import type { RunConfig } from "../run/mod.ts";
import { applyFlags, flagHelp, flagOptions, helpLines, RUN_OPTIONS } from "./_flags.ts";
import { applyEnvFlags, envFlagHelp, envFlagOptions, parseEnvCommand } from "./_env_flags.ts";
import { ENV_CHOICE_OPTIONS, envChoiceHelp } from "./_env_choice.ts";
import { SCENARIOS_OPTION, TRAIN_SCENARIOS_HELP } from "./_scenario_flags.ts";
import { SEEDS_HELP } from "./_seed_flags.ts";

/** The options of `train` on env `def`. */
function trainOptions(def: EnvDefinition) {
  return {
    ...RUN_OPTIONS,
    "sft-model": { type: "string" },
    resume: { type: "string" },
    device: { type: "string" },
    config: { type: "string" },
    "eval-worker": { type: "boolean" },
    ...flagOptions(PPO_CONFIG_TABLE),
    ...envFlagOptions(def),
    ...ENV_CHOICE_OPTIONS,
    ...SCENARIOS_OPTION,
  } as const;
}

/**
 * `train --help` for env `def`: its PPO defaults and its own flags under its heading.
 *
 * @example
 * ```ts ignore
 * console.log(trainHelp(TRAFFIC_ENV));
 * ```
 */
export function trainHelp(def: EnvDefinition): string {
  const defaults = runConfigDefaults(def);
  const lines = [
    "Usage: delta-waypoint train [flags]",
    "",
    "Refine the env's frozen base planner (SFT) with a PPO-trained residual delta head; an env",
    "without one trains plain PPO. Writes config.json, metrics.json, train_metrics.json,",
    "final.pt and checkpoints/ to --out-dir.",
    "",
    `Flags (defaults of --env ${def.id}):`,
    `  --out-dir DIR            run folder (default ${defaults.out_dir})`,
    "  --sft-model PATH         SFT planner file to refine (default: the env's own planner)",
    "  --resume PATH            continue from a checkpoint",
    "  --device cpu             only cpu",
    ...helpLines(
      "--config FILE",
      'JSON, or YAML (.yaml, .yml): {"env": {...}, "ppo": {...}} applied before the flags',
    ),
    "  --overwrite              replace the run already in --out-dir",
    "  --quiet                  no progress output",
    "  --eval-worker            held-out evaluations on both cores (a Worker; same numbers, +20 MB)",
    "  -h, --help               this help",
    ...flagHelp(PPO_CONFIG_TABLE, defaults.ppo as unknown as Record<string, unknown>),
    ...envChoiceHelp(),
    ...SEEDS_HELP,
    ...envFlagHelp(def, { extra: def.scenarios ? TRAIN_SCENARIOS_HELP : [] }),
  ];
  return lines.join("\n");
}

/** `train`'s command line, parsed but not yet turned into a configuration. */
export interface TrainArgs {
  /** Every flag given, by name without the dashes, as parseArgs returns it. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** `--overwrite`: replace the run already in the out dir. */
  overwrite: boolean;
  /** `--quiet`: no progress output. */
  quiet: boolean;
  /** `--eval-worker`: split the held-out evaluations with a Worker. */
  evalWorker: boolean;
  /** `--resume` checkpoint path, or null. */
  resume: string | null;
  /** `-h` / `--help`. */
  help: boolean;
}

/**
 * Parses `train`'s flags on env `def` (unknown flags are errors).
 *
 * @example
 * ```ts ignore
 * const args = parseTrainArgs(["--episodes", "10", "--quiet"], DRIVING_ENV);
 * args.quiet; // true
 * ```
 */
export function parseTrainArgs(args: string[], def: EnvDefinition): TrainArgs {
  const { values } = parseEnvCommand("train", args, { options: trainOptions(def), def });
  const resume = typeof values.resume === "string" ? values.resume : null;
  if (resume !== null && resume.trim() === "") throw new UserError("--resume: must not be empty");
  return {
    values,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    evalWorker: values["eval-worker"] === true,
    resume,
    help: values.help === true,
  };
}

/**
 * The run configuration on env `def`: `base` (its defaults, or a resumed checkpoint's),
 * then `--config FILE`, then the flags; checked, with what follows the env filled in.
 *
 * @example
 * ```ts ignore
 * const run = buildRunConfig(parseTrainArgs(["--episodes", "10"], DRIVING_ENV).values, DRIVING_ENV);
 * ```
 */
export function buildRunConfig(
  values: TrainArgs["values"],
  def: EnvDefinition,
  base: RunConfig = runConfigDefaults(def),
): RunConfig {
  const run = structuredClone(base);
  if (typeof values.config === "string") applyRunConfigFile(values.config, { run, def });
  applyFlags(run.ppo, { values, table: PPO_CONFIG_TABLE });
  applyEnvFlags(runSettings(run, def) as Record<string, Record<string, unknown>>, { def, values });
  if (typeof values.device === "string") {
    if (values.device !== "cpu") {
      throw new UserError(`--device: only 'cpu' is supported, got '${values.device}'`);
    }
    run.ppo.device = "cpu";
  }
  if (typeof values["out-dir"] === "string") {
    if (values["out-dir"].trim() === "") throw new UserError("--out-dir: must not be empty");
    run.out_dir = values["out-dir"];
  }
  if (typeof values["sft-model"] === "string") {
    if (values["sft-model"].trim() === "") throw new UserError("--sft-model: must not be empty");
    run.sft_model = values["sft-model"];
  }
  fitRunToEnv(run, def);
  return run;
}

// A --config file over `run` (a run's config.json works too; its resume path is not
// carried over). A file that records another env, or other values of what only the
// command line sets, is refused.
function applyRunConfigFile(path: string, opts: { run: RunConfig; def: EnvDefinition }): void {
  const { run, def } = opts;
  const { sections, ignore } = runEnvParts(run, def);
  applyConfigFile(path, sections, {
    ignore,
    skipKeys: ["resume"],
    expect: { env_name: def.id },
  });
  checkCommandLineOnly(def, { recorded: run.env, where: `--config ${path}: env` });
}
