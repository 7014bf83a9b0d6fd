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
import { firstLine, isOsError, reportError, UserError } from "../errors.ts";
import { Rng } from "../math/mod.ts";
import { checkSettings, DEFAULT_ENV_ID, defaultSettings, HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { BasePlanner, CloningSource, EnvDefinition, EnvSettings } from "../env/mod.ts";
import {
  collectDemonstrations,
  DEFAULT_SFT_CONFIG,
  MlpPlanner,
  SFT_CONFIG_TABLE,
  trainBehaviourCloning,
  validateSftConfig,
} from "../sft/mod.ts";
import { evaluatePolicy, heldoutKeys, loggedMetrics, metricLabel } from "../run/mod.ts";
import type { BehaviourCloningResult, Demonstrations, SftConfig } from "../sft/mod.ts";
import type { EvalSummary } from "../run/mod.ts";
import { lockRunDir, prepareRunDir, writeJson } from "../io/mod.ts";
import type { RunLock } from "../io/mod.ts";
import { saveSftPlanner, SFT_CHECKPOINT_FORMAT } from "../sft/mod.ts";
import { applyFlags, flagHelp, flagOptions, RUN_OPTIONS } from "./_flags.ts";
import { applyEnvFlags, envFlagHelp, envFlagOptions, parseEnvCommand } from "./_env_flags.ts";
import { chooseEnv, peekEnvFlags } from "./_env_choice.ts";

/** Where `sft` writes by default. */
export const DEFAULT_SFT_OUT_DIR = "out/sft_waypoint_bc";

/** Files whose presence means a folder already holds an SFT run. */
export const SFT_RUN_FILES = ["model.pt", "config.json", "train_metrics.json"];

/** The whole configuration of an `sft` run, as written to `config.json`. */
export interface SftRunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** The env's main section the demonstrations are collected and evaluated with. */
  env: Record<string, unknown>;
  /** Demonstration and behaviour-cloning settings. */
  sft: SftConfig;
}

// sft takes the env's main section only: the demonstrations follow the route
const MAIN = ["env"];

function sftOptions(def: EnvDefinition) {
  return {
    ...RUN_OPTIONS,
    ...flagOptions(SFT_CONFIG_TABLE),
    ...envFlagOptions(def, MAIN),
    env: { type: "string" },
  } as const;
}

/**
 * `sft --help` for env `def`.
 *
 * @example
 * ```ts ignore
 * console.log(sftHelp(DRIVING_ENV));
 * ```
 */
export function sftHelp(def: EnvDefinition): string {
  const lines = [
    "Usage: delta-waypoint sft [flags]",
    "",
    "Behaviour-clone an MLP waypoint planner (Linear -> ReLU -> Linear) from the env's expert,",
    "with noise on the driven plan. Writes model.pt (load it with train --sft-model),",
    "config.json and train_metrics.json to --out-dir, and prints the planner's held-out",
    "closed-loop success, return and the env's headline metrics.",
    "",
    "Flags:",
    `  --out-dir DIR            output folder (default ${DEFAULT_SFT_OUT_DIR})`,
    "  --overwrite              replace the SFT run already in --out-dir",
    "  --quiet                  no progress output",
    `  --env ID                 an env with an expert to clone (default ${DEFAULT_ENV_ID})`,
    "  -h, --help               this help",
  ];
  lines.push(...flagHelp(SFT_CONFIG_TABLE), ...envFlagHelp(def, { sections: MAIN }));
  return lines.join("\n");
}

/** Parsed command line of `sft`. */
interface SftArgs {
  run: SftRunConfig;
  def: EnvDefinition;
  overwrite: boolean;
  quiet: boolean;
  help: boolean;
}

async function parseSftArgs(args: string[]): Promise<SftArgs> {
  const peeked = peekEnvFlags(args);
  const { definition: def } = await chooseEnv({ env: peeked.env });
  const { values } = parseEnvCommand("sft", args, { options: sftOptions(def), def });
  const settings = defaultSettings(def);
  const run: SftRunConfig = {
    out_dir: DEFAULT_SFT_OUT_DIR,
    env: settings.env,
    sft: { ...DEFAULT_SFT_CONFIG },
  };
  if (values.help) return { run, def, overwrite: false, quiet: false, help: true };
  if (!def.cloning || !def.plannerFile) {
    throw new UserError(
      `--env ${def.id}: sft clones an expert's waypoint plans into a planner file; ${def.id} has no expert to clone`,
    );
  }
  applyFlags(run.sft, { values, table: SFT_CONFIG_TABLE });
  applyEnvFlags(settings, { def, values, sections: MAIN });
  if (typeof values["out-dir"] === "string") {
    if (values["out-dir"].trim() === "") throw new UserError("--out-dir: must not be empty");
    run.out_dir = values["out-dir"];
  }
  try {
    checkSettings(def, settings);
    validateSftConfig(run.sft);
  } catch (e) {
    if (e instanceof RangeError) throw new UserError(`invalid configuration: ${e.message}`);
    throw e;
  }
  return {
    run,
    def,
    overwrite: values.overwrite === true,
    quiet: values.quiet === true,
    help: false,
  };
}

/** The numbers of `eval`'s summary that `train_metrics.json` keeps, under the same names. */
function heldoutFields(s: EvalSummary, keys: string[]) {
  return Object.fromEntries(keys.map((k) => [k, s[k]]));
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
  const parsed = await parseSftArgs(args);
  if (parsed.help) {
    console.log(sftHelp(parsed.def));
    return 0;
  }
  const { run, quiet, def } = parsed;
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
    prepareRunDir(run.out_dir, { overwrite: parsed.overwrite, files: SFT_RUN_FILES });
    return await sftRun(run, { def, log, t0: performance.now() });
  } finally {
    lock.release();
  }
}

async function sftRun(
  run: SftRunConfig,
  opts: { def: EnvDefinition; log: (line: string) => void; t0: number },
): Promise<number> {
  const { sft } = run;
  const { log, t0, def } = opts;
  const settings = { ...defaultSettings(def), env: run.env } as EnvSettings;
  const source = def.cloning!;
  const modelPath = join(run.out_dir, "model.pt");

  const startTime = new Date();
  log(
    `sft: ${sft.episodes} demonstration episodes, hidden ${sft.hidden_dim}, ${sft.epochs} epochs, seed ${sft.seed} -> ${run.out_dir}`,
  );
  const { demos, planner, fit } = cloneNoisyExpert(run, { ...opts, source, settings });
  const trainSeconds = (performance.now() - t0) / 1000;
  const evaluate = (p: BasePlanner) =>
    evaluatePolicy({
      makeEnv: (n) => source.make(settings, n),
      planner: p,
      model: null,
      deltaClip: 0,
      firstSeed: HELDOUT_SEED_BASE,
      count: sft.heldout_episodes,
    });
  const heldout = evaluate(planner);
  const builtin = source.builtin ? evaluate(source.builtin(settings)) : null;
  const keys = heldoutKeys(heldout.metrics);
  const lossMean = fit.lossHistory[fit.lossHistory.length - 1];
  const summary = {
    loss_mean: lossMean,
    num_steps: fit.numSteps,
    horizon_steps: planner.horizon,
    n_examples: demos.count,
    ...heldoutFields(heldout.summary, keys),
    heldout_episodes: sft.heldout_episodes,
    heldout_first_seed: HELDOUT_SEED_BASE,
  };
  // All three files at the end, each atomically: an interrupted or failed run leaves
  // none behind to block the next one.
  await writeJson(join(run.out_dir, "config.json"), run);
  await saveSftPlanner(modelPath, planner, {
    env: run.env,
    extra: { sft_cfg: sft, metrics: summary },
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  await writeJson(join(run.out_dir, "train_metrics.json"), {
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
    ...(builtin ? { builtin_sft: heldoutFields(builtin.summary, keys) } : {}),
    train_time_s: trainSeconds,
    wall_time_s: wallSeconds,
  });
  const shown = loggedMetrics(heldout.metrics);
  const line = (s: EvalSummary, metrics = shown) =>
    metrics.map((m) =>
      `${metricLabel({ name: m.name })} ${s[m.mean!].toFixed(3)}${m.unit ? ` ${m.unit}` : ""}`
    );
  const first = shown.slice(0, 1);
  console.log(
    `held-out (${sft.heldout_episodes} episodes, seeds from 2^30): success ${
      (100 * heldout.summary.success_rate).toFixed(1)
    }%  return ${heldout.summary.return_mean.toFixed(2)}  ${line(heldout.summary).join("  ")}${
      builtin
        ? `  (built-in SFT: ${(100 * builtin.summary.success_rate).toFixed(1)}%${
          line(builtin.summary, first).map((t) => `, ${t}`).join("")
        })`
        : ""
    }`,
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
  opts: {
    log: (line: string) => void;
    t0: number;
    def: EnvDefinition;
    source: CloningSource;
    settings: EnvSettings;
  },
): { demos: Demonstrations; planner: MlpPlanner; fit: BehaviourCloningResult } {
  const { sft } = run;
  const { log, t0, source, settings } = opts;
  const demos = collectDemonstrations({
    makeEnv: (n) => source.make(settings, n),
    expert: source.expert(settings),
  }, {
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
    horizon: opts.def.plannerFile!.horizon(settings),
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
