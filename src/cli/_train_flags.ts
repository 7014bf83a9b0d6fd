/**
 * `train`'s flags: the option table (the PPO and env config tables' flags and the
 * run's own), `--help`, and the run configuration built from defaults, `--config FILE`
 * and the flags.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { validateEnvConfig } from "../env/mod.ts";
import { applyConfigFile } from "../io/mod.ts";
import { PPO_CONFIG_TABLE, validatePpoConfig } from "../ppo/mod.ts";
import { fitRunToEnv, runConfigDefaults, runEnvParts } from "../run/mod.ts";
import type { RunConfig } from "../run/mod.ts";
import {
  applyFlags,
  flagHelp,
  flagOptions,
  parseFlags,
  parseNumber,
  RUN_OPTIONS,
} from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { checkEnvChoice, ENV_CHOICE_HELP, ENV_CHOICE_OPTION, envChoice } from "./_env_choice.ts";
import * as traffic from "./_traffic_flags.ts";
import { SCENARIOS_OPTION, TRAIN_SCENARIOS_HELP } from "./_scenario_flags.ts";
import { SEEDS_HELP } from "./_seed_flags.ts";

/** Where the Python trainer wrote by default. */
export const DEFAULT_OUT_DIR = "out/rl_delta_waypoint_v0/run_001";

const OPTIONS = {
  ...RUN_OPTIONS,
  "sft-model": { type: "string" },
  resume: { type: "string" },
  device: { type: "string" },
  config: { type: "string" },
  "eval-worker": { type: "boolean" },
  "keep-checkpoints": { type: "string" },
  ...flagOptions(PPO_CONFIG_TABLE),
  ...ENV_FLAG_OPTIONS,
  ...ENV_CHOICE_OPTION,
  ...traffic.TRAFFIC_FLAG_OPTIONS,
  ...SCENARIOS_OPTION,
} as const;

/**
 * `train --help`.
 *
 * @example
 * ```ts
 * console.log(trainHelp());
 * ```
 */
export function trainHelp(): string {
  const lines = [
    "Usage: delta-waypoint train [flags]",
    "",
    "Refine the frozen SFT waypoint planner with a PPO-trained residual delta head.",
    "Writes config.json, metrics.json, train_metrics.json, final.pt and checkpoints/ to --out-dir.",
    "",
    "Flags:",
    `  --out-dir DIR            run folder (default ${DEFAULT_OUT_DIR})`,
    "  --sft-model PATH         SFT planner checkpoint (default: the built-in planner)",
    "  --resume PATH            continue from a checkpoint",
    "  --device cpu             only cpu",
    '  --config FILE            JSON {"env": {...}, "ppo": {...}} applied before the flags',
    "  --overwrite              replace the run already in --out-dir",
    "  --quiet                  no progress output",
    "  --eval-worker            held-out evaluations on both cores (a Worker; same numbers, +20 MB)",
    "  --keep-checkpoints N     keep only the newest N checkpoints/checkpoint_{N}.pt (default: all)",
    "  -h, --help               this help",
  ];
  lines.push(...flagHelp(PPO_CONFIG_TABLE), ...ENV_FLAG_HELP, ENV_CHOICE_HELP, ...SEEDS_HELP);
  lines.push(...traffic.TRAFFIC_FLAG_HELP, TRAIN_SCENARIOS_HELP);
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
  /** `--keep-checkpoints N`, or null (all). */
  keepCheckpoints: number | null;
  /** `--resume` checkpoint path, or null. */
  resume: string | null;
  /** `-h` / `--help`. */
  help: boolean;
}

/**
 * Parses `train`'s flags (unknown flags are errors).
 *
 * @example
 * ```ts
 * const args = parseTrainArgs(["--episodes", "10", "--quiet"]);
 * args.quiet; // true
 * ```
 */
export function parseTrainArgs(args: string[]): TrainArgs {
  const { values } = parseFlags("train", args, OPTIONS);
  const resume = typeof values.resume === "string" ? values.resume : null;
  if (resume !== null && resume.trim() === "") throw new UserError("--resume: must not be empty");
  return {
    values,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    evalWorker: values["eval-worker"] === true,
    keepCheckpoints: typeof values["keep-checkpoints"] === "string"
      ? parseNumber(values["keep-checkpoints"], {
        flag: "--keep-checkpoints",
        kind: "int",
        lo: 1,
        hi: 1e9,
      })
      : null,
    resume,
    help: values.help === true,
  };
}

/**
 * The run configuration: `base` (defaults, or a resumed checkpoint's), then
 * `--config FILE`, then the flags; checked.
 *
 * @example
 * ```ts
 * const run = buildRunConfig(parseTrainArgs(["--episodes", "10"]).values);
 * ```
 */
export function buildRunConfig(
  values: TrainArgs["values"],
  base: RunConfig = runConfigDefaults(envChoice(values, "driving"), DEFAULT_OUT_DIR),
): RunConfig {
  checkEnvChoice(values, base.env_name ?? "driving");
  const run: RunConfig = { ...base, env: { ...base.env }, ppo: { ...base.ppo } };
  if (base.traffic) run.traffic = { ...base.traffic };
  if (typeof values.config === "string") {
    // a run's config.json works too; its resume path is not carried over
    const { sections, ignore } = runEnvParts(run);
    applyConfigFile(values.config, sections, { ignore, skipKeys: ["resume"] });
  }
  applyFlags(run.ppo, { values, table: PPO_CONFIG_TABLE });
  applyEnvFlags(run.env, values);
  traffic.applyTrafficFlags(run.traffic, values);
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
  run.ppo.encoder_out_dim = 1 + 2 * run.env.horizon_steps;
  run.ppo.horizon_steps = run.env.horizon_steps;
  checkConfig(run);
  fitRunToEnv(run);
  return run;
}

function checkConfig(run: RunConfig): void {
  try {
    validateEnvConfig(run.env);
    validatePpoConfig(run.ppo);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
}
