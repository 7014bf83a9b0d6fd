/**
 * `sft`: behaviour cloning of an MLP waypoint planner from (noisy) expert rollouts.
 * Writes `<out-dir>/model.pt` (the SFT checkpoint `train --sft-model` loads),
 * `config.json` and `train_metrics.json`, and reports the planner's closed-loop quality
 * on held-out seeds.
 *
 * Also runnable on its own: `deno run --allow-read --allow-write src/cli/sft.ts --help`.
 *
 * @module
 */

import { join } from "node:path";
import { EXIT, firstLine, isOsError, reportError, UserError } from "../errors.ts";
import { Rng } from "../math/mod.ts";
import {
  DEFAULT_ENV_CONFIG,
  HELDOUT_SEED_BASE,
  TRAFFIC_ENV_DEFAULTS,
  validateEnvConfig,
} from "../env/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import {
  BuiltinSftPlanner,
  collectDemonstrations,
  DEFAULT_SFT_CONFIG,
  MlpPlanner,
  SFT_CONFIG_TABLE,
  trainBehaviourCloning,
  validateSftConfig,
} from "../sft/mod.ts";
import { evaluatePolicy } from "../run/mod.ts";
import type {
  BehaviourCloningResult,
  Demonstrations,
  SftConfig,
  WaypointPlanner,
} from "../sft/mod.ts";
import type { EvalSummary } from "../run/mod.ts";
import { lockRunDir, recoverStagedRun, stageRunDir, writeJson } from "../io/mod.ts";
import type { RunLock } from "../io/mod.ts";
import { saveSftPlanner, SFT_CHECKPOINT_FORMAT } from "../sft/mod.ts";
import { applyFlags, flagHelp, flagOptions, parseFlags, RUN_OPTIONS } from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { ENV_CHOICE_OPTION, envChoice } from "./_env_choice.ts";

/** Where `sft` writes by default. */
export const DEFAULT_SFT_OUT_DIR = "out/sft_waypoint_bc";

/** Files whose presence means a folder already holds an SFT run. */
export const SFT_RUN_FILES = ["model.pt", "config.json", "train_metrics.json"];

/** The whole configuration of an `sft` run, as written to `config.json`. */
export interface SftRunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** Environment the demonstrations are collected and evaluated in. */
  env: EnvConfig;
  /** Demonstration and behaviour-cloning settings. */
  sft: SftConfig;
}

const OPTIONS = {
  ...RUN_OPTIONS,
  ...flagOptions(SFT_CONFIG_TABLE),
  ...ENV_FLAG_OPTIONS,
  ...ENV_CHOICE_OPTION,
} as const;

/**
 * `sft --help`.
 *
 * @example
 * ```ts
 * console.log(sftHelp());
 * ```
 */
export function sftHelp(): string {
  const lines = [
    "Usage: delta-waypoint sft [flags]",
    "",
    "Behaviour-clone an MLP waypoint planner (Linear -> ReLU -> Linear) from expert rollouts",
    "with noise on the driven plan. Writes model.pt (load it with train --sft-model),",
    "config.json and train_metrics.json to --out-dir, and prints the planner's held-out",
    "closed-loop success, return and ADE/FDE against the expert.",
    "",
    "Flags:",
    `  --out-dir DIR            output folder (default ${DEFAULT_SFT_OUT_DIR})`,
    "  --overwrite              replace the SFT run already in --out-dir",
    "  --quiet                  no progress output",
    "  -h, --help               this help",
  ];
  lines.push(...flagHelp(SFT_CONFIG_TABLE), ...ENV_FLAG_HELP);
  lines.push(
    "  --env driving|traffic    the env's defaults (traffic: its plan of 4 targets 2.5 m apart; the",
    "                           demonstrations follow the route, as logs where conflicts are rare)",
  );
  return lines.join("\n");
}

/** Parsed command line of `sft`. */
interface SftArgs {
  run: SftRunConfig;
  overwrite: boolean;
  quiet: boolean;
  help: boolean;
}

function parseSftArgs(args: string[]): SftArgs {
  const { values } = parseFlags("sft", args, OPTIONS);
  const envName = values.help ? "driving" : envChoice(values, "driving");
  if (envName === "mountain_car") {
    throw new UserError("--env mountain_car: sft clones waypoint planners");
  }
  const run: SftRunConfig = {
    out_dir: DEFAULT_SFT_OUT_DIR,
    env: { ...(envName === "traffic" ? TRAFFIC_ENV_DEFAULTS : DEFAULT_ENV_CONFIG) },
    sft: { ...DEFAULT_SFT_CONFIG },
  };
  if (values.help) return { run, overwrite: false, quiet: false, help: true };
  applyFlags(run.sft, { values, table: SFT_CONFIG_TABLE });
  applyEnvFlags(run.env, values);
  if (typeof values["out-dir"] === "string") {
    if (values["out-dir"].trim() === "") throw new UserError("--out-dir: must not be empty");
    run.out_dir = values["out-dir"];
  }
  try {
    validateEnvConfig(run.env);
    validateSftConfig(run.sft);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  return {
    run,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    help: false,
  };
}

/** The numbers of `eval`'s summary that `train_metrics.json` keeps, under the same names. */
function heldoutFields(s: EvalSummary) {
  return {
    ade_mean: s.ade_mean,
    fde_mean: s.fde_mean,
    success_rate: s.success_rate,
    return_mean: s.return_mean,
    steps_mean: s.steps_mean,
    offroad_rate: s.offroad_rate,
  };
}

/**
 * Runs `sft` with command-line `args`; returns the process exit code. Bad input throws
 * a one-line {@linkcode UserError} before any file is written.
 *
 * @example
 * ```ts ignore
 * const code = await runSft(["--episodes", "50", "--out-dir", "out/bc_try"]);
 * ```
 */
export async function runSft(args: string[]): Promise<number> {
  const parsed = parseSftArgs(args);
  if (parsed.help) {
    console.log(sftHelp());
    return 0;
  }
  const { run, quiet } = parsed;
  const log = quiet ? () => {} : (line: string) => console.error(line);
  // One writer per folder, as for `train`; an unusable folder is bad input.
  let lock: RunLock;
  try {
    lock = lockRunDir(run.out_dir, { warn: (line) => console.error(line) });
  } catch (e) {
    if (!isOsError(e)) throw e;
    throw new UserError(`--out-dir ${run.out_dir}: cannot write there: ${firstLine(e)}`);
  }
  try {
    recoverStagedRun(run.out_dir);
    // an old run (--overwrite) is replaced only once the new one is complete
    const staged = stageRunDir(run.out_dir, { overwrite: parsed.overwrite, files: SFT_RUN_FILES });
    try {
      const code = await sftRun(run, { log, t0: performance.now(), dir: staged.paths.dir });
      staged.commit();
      return code;
    } catch (e) {
      staged.discard();
      if (!isOsError(e)) throw e;
      const kept = staged.staged ? `the run already in ${run.out_dir} is unchanged` : "";
      throw new UserError(
        `I/O error while writing the run in ${run.out_dir}: ${firstLine(e)}${
          kept ? `; ${kept}` : ""
        }`,
        { exitCode: EXIT.ioFault },
      );
    }
  } finally {
    lock.release();
  }
}

async function sftRun(
  run: SftRunConfig,
  opts: { log: (line: string) => void; t0: number; dir: string },
): Promise<number> {
  const { env, sft } = run;
  const { log, t0 } = opts;
  const modelPath = join(opts.dir, "model.pt");

  const startTime = new Date();
  log(
    `sft: ${sft.episodes} demonstration episodes, hidden ${sft.hidden_dim}, ${sft.epochs} epochs, seed ${sft.seed} -> ${run.out_dir}`,
  );
  const { demos, planner, fit } = cloneNoisyExpert(run, opts);
  const trainSeconds = (performance.now() - t0) / 1000;
  const evaluate = (p: WaypointPlanner) =>
    evaluatePolicy({
      env,
      planner: p,
      model: null,
      deltaClip: 0,
      firstSeed: HELDOUT_SEED_BASE,
      count: sft.heldout_episodes,
    }).summary;
  const heldout = evaluate(planner);
  const builtin = evaluate(new BuiltinSftPlanner(env));
  const lossMean = fit.lossHistory[fit.lossHistory.length - 1];
  const summary = {
    loss_mean: lossMean,
    num_steps: fit.numSteps,
    horizon_steps: env.horizon_steps,
    n_examples: demos.count,
    ...heldoutFields(heldout),
    heldout_episodes: sft.heldout_episodes,
    heldout_first_seed: HELDOUT_SEED_BASE,
  };
  // All three files at the end, each atomically: an interrupted or failed run leaves
  // none behind to block the next one.
  await writeJson(join(opts.dir, "config.json"), run);
  await saveSftPlanner(modelPath, planner, {
    env,
    extra: { sft_cfg: sft, metrics: summary },
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  await writeJson(join(opts.dir, "train_metrics.json"), {
    start_time: startTime.toISOString(),
    end_time: new Date().toISOString(),
    config: run,
    format: SFT_CHECKPOINT_FORMAT,
    ...summary,
    loss_history: fit.lossHistory,
    demonstrations: {
      episodes: demos.episodes,
      first_seed: demos.firstSeed,
      examples: demos.count,
      noisy_expert_success_rate: demos.successRate,
    },
    builtin_sft: heldoutFields(builtin),
    train_time_s: trainSeconds,
    wall_time_s: wallSeconds,
  });
  console.log(
    `held-out (${sft.heldout_episodes} episodes, seeds from 2^30): success ${
      (100 * heldout.success_rate).toFixed(1)
    }%  return ${heldout.return_mean.toFixed(2)}  ADE ${heldout.ade_mean.toFixed(3)} m  FDE ${
      heldout.fde_mean.toFixed(3)
    } m  (built-in SFT: ${(100 * builtin.success_rate).toFixed(1)}%, ADE ${
      builtin.ade_mean.toFixed(3)
    } m)`,
  );
  log(
    `sft: done in ${wallSeconds.toFixed(1)} s; final loss ${
      lossMean.toFixed(4)
    }; wrote ${modelPath}`,
  );
  return 0;
}

// The demonstrations of the noisy expert, and the MLP planner fitted to them.
function cloneNoisyExpert(
  run: SftRunConfig,
  opts: { log: (line: string) => void; t0: number },
): { demos: Demonstrations; planner: MlpPlanner; fit: BehaviourCloningResult } {
  const { env, sft } = run;
  const { log, t0 } = opts;
  const demos = collectDemonstrations(env, {
    episodes: sft.episodes,
    seed: sft.seed,
    noiseStd: sft.noise_std,
  });
  log(
    `demonstrations: ${demos.count} examples from ${demos.episodes} episodes (seeds ${demos.firstSeed}..${
      demos.firstSeed + demos.episodes - 1
    }; noisy expert reached the goal in ${(100 * demos.successRate).toFixed(0)}%)`,
  );
  const planner = new MlpPlanner({
    inDim: demos.obsDim,
    hidden: sft.hidden_dim,
    horizon: env.horizon_steps,
    rng: new Rng(sft.seed),
  });
  const width = String(sft.epochs).length;
  const fit = trainBehaviourCloning(planner, demos, {
    epochs: sft.epochs,
    lr: sft.lr,
    batchSize: sft.batch_size,
    weightDecay: sft.weight_decay,
    seed: sft.seed,
    onEpoch: (epoch, loss) =>
      log(
        `epoch ${String(epoch).padStart(width)}/${sft.epochs}  loss ${loss.toFixed(4)} m^2  ${
          ((performance.now() - t0) / 1000).toFixed(1)
        } s`,
      ),
  });
  return { demos, planner, fit };
}

/**
 * {@linkcode runSft} with every error turned into one line `error: ...` on stderr and
 * its exit code by `reportError`, as `main.ts` does; for running this file on its own.
 *
 * @example
 * ```ts ignore
 * Deno.exit(await runSftMain(["--epochs", "ten"])); // prints "error: --epochs: ..." and exits 2
 * ```
 */
export async function runSftMain(args: string[]): Promise<number> {
  try {
    return await runSft(args);
  } catch (e) {
    return reportError(e);
  }
}

if (import.meta.main) {
  Deno.exit(await runSftMain(Deno.args));
}
