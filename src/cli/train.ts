/**
 * `train`: PPO refinement of a frozen SFT planner, with the Python trainer's flags
 * and output layout.
 *
 * @module
 */

import { resolve } from "node:path";
import { EXIT, firstLine, isOsError, UserError } from "../errors.ts";
import { finiteMean } from "../math/mod.ts";
import { validateEnvConfig, vecEnvFactory } from "../env/mod.ts";
import type { EpisodeMetric } from "../env/mod.ts";
import {
  DeferredCheckpoint,
  fitRunToEnv,
  heldoutEvaluation,
  loadResumePoint,
  PPO_CONFIG_TABLE,
  progressLine,
  restoreTrainer,
  resumedBaseConfig,
  runConfigDefaults,
  RunLog,
  saveTrainerCheckpoint,
  sftBaselineUntil,
  Trainer,
  trainLoop,
  trainMetrics,
  validatePpoConfig,
} from "../rl/mod.ts";
import type { Heldout, HeldoutSummary, ResumePoint, RunConfig } from "../rl/mod.ts";
import { lockRunDir, prepareResumeDir, prepareRunDir, writeJson } from "../io/mod.ts";
import type { RunPaths } from "../io/mod.ts";
import { listenForStop } from "./_stop_signals.ts";
import type { StopRequest } from "./_stop_signals.ts";
import {
  applyConfigFile,
  applyFlags,
  flagHelp,
  flagOptions,
  parseFlags,
  RUN_OPTIONS,
} from "./_flags.ts";
import { applyEnvFlags, ENV_FLAG_HELP, ENV_FLAG_OPTIONS } from "./_env_flags.ts";
import { hasSeedsFlag, runSeeds, SEEDS_HELP } from "./_seeds.ts";
import { checkEnvChoice, ENV_CHOICE_HELP, ENV_CHOICE_OPTION, envChoice } from "./_env_choice.ts";
import * as traffic from "./_traffic_flags.ts";
import * as scenarioSet from "./_scenario_runs.ts";

export type { RunConfig } from "../rl/mod.ts";

/** Where the Python trainer wrote by default. */
export const DEFAULT_OUT_DIR = "out/rl_delta_waypoint_v0/run_001";

const OPTIONS = {
  ...RUN_OPTIONS,
  "sft-model": { type: "string" },
  resume: { type: "string" },
  device: { type: "string" },
  config: { type: "string" },
  ...flagOptions(PPO_CONFIG_TABLE),
  ...ENV_FLAG_OPTIONS,
  ...ENV_CHOICE_OPTION,
  ...traffic.TRAFFIC_FLAG_OPTIONS,
  ...scenarioSet.SCENARIOS_OPTION,
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
    "  -h, --help               this help",
  ];
  lines.push(...flagHelp(PPO_CONFIG_TABLE), ...ENV_FLAG_HELP, ENV_CHOICE_HELP, ...SEEDS_HELP);
  lines.push(...traffic.TRAFFIC_FLAG_HELP, scenarioSet.TRAIN_SCENARIOS_HELP);
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
    const { sections, ignore } = traffic.runEnvParts(run);
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

/**
 * Runs `train` with command-line `args`; returns the process exit code.
 *
 * @example
 * ```ts ignore
 * const code = await runTrain(["--episodes", "10", "--out-dir", "out/try"]);
 * ```
 */
export async function runTrain(args: string[]): Promise<number> {
  if (hasSeedsFlag(args)) return await runSeeds(args);
  const parsed = parseTrainArgs(args);
  if (parsed.help) {
    console.log(trainHelp());
    return 0;
  }
  const { quiet } = parsed;
  const log = quiet ? () => {} : (line: string) => console.error(line);
  // Everything is read and checked before anything is written.
  const point = parsed.resume === null ? null : await loadResumePoint(parsed.resume);
  const run = buildRunConfig(parsed.values, point ? resumedBaseConfig(point) : undefined);
  if (point) traffic.checkResumedNeighbors(point, { run, values: parsed.values });
  if (point) {
    run.ppo.resume = point.path;
    if (point.episode >= run.ppo.episodes) {
      throw new UserError(
        `--resume ${point.path}: the checkpoint is at episode ${point.episode} and --episodes is ${run.ppo.episodes}; raise --episodes to train on`,
      );
    }
  }
  // driving: the SFT planner and the default env; traffic: the SFT planner on its z;
  // any other env: plain PPO on it
  const envOptions = traffic.runEnvParts(run).options;
  const makeEnv = run.env_name ? vecEnvFactory(run.env_name, run.env, envOptions) : undefined;
  const planner = await traffic.runBasePlanner(run, makeEnv);
  // a scenario set: training plays its files, evaluation stays on held-out seeds
  const { makeTrainEnv, extra } = await scenarioSet.trainScenarios(parsed.values, { run, point });
  const trainer = new Trainer({ env: run.env, ppo: run.ppo, planner, makeEnv, makeTrainEnv });
  const runLog = new RunLog();
  if (point) restoreTrainer(trainer, point, { log: runLog, warn: (line) => console.error(line) });

  // resuming in place, the user named no folder: the messages say which one
  const flag = typeof parsed.values["out-dir"] === "string" || !point ? "--out-dir" : "run folder";
  const lock = await unusablePathIsBadInput(
    `${flag} ${run.out_dir}`,
    () => lockRunDir(run.out_dir, { flag, warn: (line) => console.error(line) }),
  );
  const stop = listenForStop({ onAbort: () => lock.release(), log });
  try {
    const paths = await unusablePathIsBadInput(`${flag} ${run.out_dir}`, async () => {
      const p = point
        ? prepareResumeDir(run.out_dir, {
          episode: point.episode,
          overwrite: parsed.overwrite,
          sameRun: resolve(run.out_dir) === resolve(point.runDir),
          keep: resolve(point.path),
        })
        : prepareRunDir(run.out_dir, { overwrite: parsed.overwrite });
      await writeJson(p.config, run);
      return p;
    });
    return await trainRun({ run, trainer, runLog, point, paths, stop, log, quiet, extra });
  } finally {
    stop.dispose();
    lock.release();
  }
}

// Before training, a folder that cannot be written (below a file, read-only, /proc,
// no permission, disk full) is bad input: one line with the OS's reason, exit 2.
async function unusablePathIsBadInput<T>(what: string, f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!isOsError(e)) throw e;
    throw new UserError(`${what}: cannot write the run there: ${firstLine(e)}`);
  }
}

// The training itself, in a run folder already taken and prepared. A file-system fault
// from here on (disk full, say) ends the run with exit code 4; every file written before
// it is complete (atomic writes), so the last checkpoint stands.
async function trainRun(opts: {
  run: RunConfig;
  trainer: Trainer;
  runLog: RunLog;
  point: ResumePoint | null;
  paths: RunPaths;
  stop: StopRequest;
  log: (line: string) => void;
  quiet: boolean;
  /** Checkpoint keys besides the run's own (`train_scenarios`). */
  extra: Record<string, unknown>;
}): Promise<number> {
  const { run, trainer, runLog, point, paths, stop, log, quiet } = opts;
  const startTime = new Date();
  const live = !quiet && Deno.stderr.isTerminal();
  let lastCheckpoint: string | null = point ? point.path : null;
  try {
    const t0 = performance.now();
    const startEpisode = trainer.episode;
    const extra = { sft_model: run.sft_model, ...traffic.runEnvParts(run).extra, ...opts.extra };
    const saved = { log: runLog, extra };
    const writeMetrics = () => writeJson(paths.metrics, runLog.metricsJson());
    const best = new DeferredCheckpoint(paths.best);
    log(
      `train: episodes ${trainer.episode}..${run.ppo.episodes}, ${run.ppo.num_envs} envs, seed ${run.ppo.seed} -> ${run.out_dir}`,
    );
    const shouldStop = () => stop.code !== null;
    const sft = await sftBaselineUntil(trainer, { shouldStop });
    const { stopped, dropped } = sft === null
      ? { stopped: true, dropped: false }
      : await trainLoop(trainer, runLog, {
        sft,
        onMetrics: async (t, entry) => {
          await writeMetrics();
          if (!live) {
            log(progressLine(t, {
              log: runLog,
              meanReward: entry.mean_reward,
              successRate: entry.success_rate,
              t0,
              startEpisode,
              entry,
            }));
          }
        },
        onBest: (t) => best.take(t, saved),
        onCheckpoint: async (t, ep) => {
          await best.flush();
          await saveTrainerCheckpoint(paths.checkpoint(ep), t, saved);
          lastCheckpoint = paths.checkpoint(ep);
        },
        onIteration: (t) => {
          if (!live) return;
          const n = run.ppo.eval_interval;
          const line = progressLine(t, {
            log: runLog,
            meanReward: finiteMean(runLog.rewards.slice(-n)),
            successRate: finiteMean(runLog.successes.slice(-n)),
            t0,
            startEpisode,
          });
          Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}\x1b[K`));
        },
        shouldStop,
      });
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    await best.flush();
    const wallSeconds = (performance.now() - t0) / 1000;
    const summaryBase = { trainer, log: runLog, startTime, wallSeconds, point, sft };
    const interrupted = { ...summaryBase, heldout: null, interrupted: true };
    if (stopped) {
      const path = paths.checkpoint(trainer.episode);
      await saveTrainerCheckpoint(path, trainer, saved);
      lastCheckpoint = path;
      await writeMetrics();
      await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
      const note = dropped ? " (the iteration in progress was dropped)" : "";
      console.error(`train: interrupted at episode ${trainer.episode}${note}; saved ${path}`);
      return stop.code ?? EXIT.sigint;
    }
    await saveTrainerCheckpoint(paths.final, trainer, saved);
    await writeMetrics();
    const heldout = await heldoutEvaluation(trainer, { shouldStop });
    if (heldout === null) {
      // final.pt and metrics.json are complete; only the closing evaluation is missing
      await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
      console.error(
        `train: interrupted during the held-out evaluation; ${paths.final} is complete`,
      );
      return stop.code ?? EXIT.sigint;
    }
    await writeJson(
      paths.trainMetrics,
      trainMetrics(run, { ...summaryBase, heldout, interrupted: false }),
    );
    printHeldout(heldout, trainer.episodeMetrics);
    log(`train: done in ${wallSeconds.toFixed(1)} s; wrote ${paths.dir}`);
    return 0;
  } catch (e) {
    if (!isOsError(e)) throw e;
    throw new UserError(
      `I/O error while writing the run in ${run.out_dir}: ${
        firstLine(e)
      }; the last complete checkpoint is ${lastCheckpoint ?? "none"}`,
      { exitCode: EXIT.ioFault },
    );
  }
}

function printHeldout(h: Heldout, metrics: readonly EpisodeMetric[]): void {
  const shown = metrics.filter((m) => m.label && m.mean);
  const row = (name: string, s: HeldoutSummary) =>
    `${name.padEnd(12)} ${s.return_mean.toFixed(2).padStart(11)} ${
      (100 * s.success_rate).toFixed(1).padStart(8)
    }% ${s.steps_mean.toFixed(1).padStart(11)}${
      shown.map((m) => ` ${s[m.mean!].toFixed(3).padStart(8)}`).join("")
    }`;
  console.log(
    `held-out evaluation: ${h.seeds[1]} episodes, seeds ${h.seeds[0]}..${
      h.seeds[0] + h.seeds[1] - 1
    }`,
  );
  console.log(
    `${"policy".padEnd(12)} ${"mean return".padStart(11)} ${"success".padStart(9)} ${
      "mean length".padStart(11)
    }${shown.map((m) => ` ${m.label!.padStart(8)}`).join("")}`,
  );
  console.log(row("sft", h.sft));
  console.log(row("sft + delta", h.refined));
}
