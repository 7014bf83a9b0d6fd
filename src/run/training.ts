/**
 * One training run, from its checked configuration to the finished run folder: the env,
 * the base planner and the trainer (restored when resuming), the run folder taken and
 * prepared, then the SFT baseline, the schedule with its metrics, best and periodic
 * checkpoints, a clean stop on a signal, `final.pt` and the held-out evaluation. `train`
 * and each seed of `train --seeds` run through {@linkcode runTraining}.
 *
 * @module
 */

import { resolve } from "node:path";
import { EXIT, firstLine, isOsError, UserError } from "../errors.ts";
import { vecEnvFactory } from "../env/mod.ts";
import type { EnvName, EpisodeMetric } from "../env/mod.ts";
import {
  lockRunDir,
  prepareResumeDir,
  recoverStagedRun,
  runPaths,
  stageRunDir,
  writeJson,
} from "../io/mod.ts";
import type { StagedRun } from "../io/mod.ts";
import { Trainer } from "../ppo/mod.ts";
import { runBasePlanner } from "./base_planner.ts";
import { captureCheckpoint } from "./deferred_checkpoint.ts";
import { heldoutEvaluation } from "./heldout.ts";
import type { Heldout } from "./heldout.ts";
import { PipelinedEvaluation, sftBaselineUntil } from "./interval_eval.ts";
import { ParallelEvaluator } from "./parallel_eval.ts";
import { restoreTrainer } from "./resume.ts";
import type { ResumePoint } from "./resume.ts";
import { runEnvParts } from "./run_config.ts";
import type { RunConfig } from "./run_config.ts";
import { RunLog } from "./run_log.ts";
import { RunWriter } from "./_run_writer.ts";
import { trainScenarios } from "./scenario_runs.ts";
import { trainMetrics } from "./train_metrics.ts";
import type { TrainMetricsOptions } from "./train_metrics.ts";
import type { LoopOutcome } from "./schedule.ts";
import { trainLoop } from "./schedule.ts";
import { listenForStop } from "./stop_signals.ts";
import { checkRunFits } from "./work_limits.ts";
import type { StopRequest } from "./stop_signals.ts";

/** A training run to make: its checked configuration and how the command line asked for it. */
export interface TrainingRequest {
  /** The whole configuration, checked; written to `config.json`. */
  run: RunConfig;
  /** The checkpoint the run resumes from, or null for a fresh run. */
  point: ResumePoint | null;
  /** `--scenarios DIR`: the scenario set training plays, or null. */
  scenarios: string | null;
  /** `--overwrite`: replace the run already in the folder. */
  overwrite: boolean;
  /** `--quiet`: no progress output. */
  quiet: boolean;
  /** `--eval-worker`: split the evaluations with a Worker ({@linkcode ParallelEvaluator}). */
  evalWorker: boolean;
  /** `--keep-checkpoints N`: keep only the newest N periodic checkpoints (default: all). */
  keepCheckpoints?: number | null;
  /** True once the run should stop as for SIGTERM (a lane whose parent is gone). */
  orphaned?: () => boolean;
  /**
   * The user named the run folder (`--out-dir`); else messages about a resumed run's own
   * folder call it "run folder".
   */
  outDirNamed: boolean;
  /** Shows the closing held-out evaluation (the CLI prints its table on stdout). */
  printHeldout(heldout: Heldout, metrics: readonly EpisodeMetric[]): void;
}

/**
 * Trains the run `request` asks for into its folder; returns the exit code (0, or
 * 130 / 143 when stopped by a signal, having saved a checkpoint). Everything is read and
 * checked before anything is written; a folder that cannot be written is bad input
 * (exit 2), a file-system fault once training runs is exit code 4.
 *
 * @example
 * ```ts ignore
 * const code = await runTraining({ run, point: null, scenarios: null, overwrite: false,
 *   quiet: true, evalWorker: false, outDirNamed: true, printHeldout: () => {} });
 * ```
 */
export async function runTraining(request: TrainingRequest): Promise<number> {
  const { run, point } = request;
  const log = request.quiet ? () => {} : (line: string) => console.error(line);
  const { trainer, runLog, extra } = await buildTrainer(request);
  // resuming in place, the user named no folder: the messages say which one
  const flag = request.outDirNamed || !point ? "--out-dir" : "run folder";
  const lock = await unusablePathIsBadInput(
    `${flag} ${run.out_dir}`,
    () => lockRunDir(run.out_dir, { flag, warn: (line) => console.error(line) }),
  );
  const stop = listenForStop({ onAbort: () => lock.release(), log, orphaned: request.orphaned });
  try {
    const folder = await unusablePathIsBadInput(
      `${flag} ${run.out_dir}`,
      () => prepareFolder(request),
    );
    let code: number;
    try {
      code = await trainInFolder({ request, trainer, runLog, folder, stop, log, extra });
    } catch (e) {
      folder.discard(); // a replaced run stays as it was
      throw e;
    }
    folder.commit();
    return code;
  } finally {
    stop.dispose();
    lock.release();
  }
}

// The run folder made ready (locked already): resuming in place, later results removed
// (with --overwrite); a new run, or a resumed one in another folder, written beside an
// old run (--overwrite) that it replaces only once complete. Then config.json.
async function prepareFolder(request: TrainingRequest): Promise<StagedRun> {
  const { run, point } = request;
  const recovered = recoverStagedRun(run.out_dir);
  if (recovered !== null) console.error(`warning: ${run.out_dir}: ${recovered}`);
  const folder: StagedRun = point && resolve(run.out_dir) === resolve(point.runDir)
    ? {
      paths: prepareResumeDir(run.out_dir, {
        episode: point.episode,
        overwrite: request.overwrite,
        sameRun: true,
        keep: resolve(point.path),
        finishes: point.episode >= run.ppo.episodes,
      }),
      staged: false,
      commit: () => {},
      discard: () => {},
    }
    : stageRunDir(run.out_dir, { overwrite: request.overwrite });
  try {
    await writeJson(folder.paths.config, run);
  } catch (e) {
    folder.discard();
    throw e;
  }
  return folder;
}

// The env factory, the base planner and the trainer of the run (restored from the
// checkpoint it resumes from), its log, and the keys its checkpoints add. On driving the
// SFT planner and the default env; on traffic the SFT planner on its z; on any other
// env plain PPO; a scenario set: training plays its files, evaluation stays on held-out
// seeds.
async function buildTrainer(
  request: TrainingRequest,
): Promise<{ trainer: Trainer; runLog: RunLog; extra: Record<string, unknown> }> {
  const { run, point } = request;
  const envOptions = runEnvParts(run).options;
  const makeEnv = run.env_name ? vecEnvFactory(run.env_name, run.env, envOptions) : undefined;
  const planner = await runBasePlanner(run, makeEnv);
  // a waypoint planner's action is its plan: 2 numbers per waypoint
  const actionDim = "actionDim" in planner ? planner.actionDim : 2 * planner.horizon;
  checkRunFits(run, { obsDim: planner.obsDim, actionDim });
  const { makeTrainEnv, extra } = await trainScenarios(request.scenarios, { run, point });
  const trainer = new Trainer({ env: run.env, ppo: run.ppo, planner, makeEnv, makeTrainEnv });
  const runLog = new RunLog();
  if (point) restoreTrainer(trainer, point, { log: runLog, warn: (line) => console.error(line) });
  return { trainer, runLog, extra };
}

// What the training in a prepared run folder works with.
interface InFolder {
  request: TrainingRequest;
  trainer: Trainer;
  runLog: RunLog;
  /** Where the run writes (a staging folder when it replaces a run). */
  folder: StagedRun;
  stop: StopRequest;
  log: (line: string) => void;
  /** Checkpoint keys besides the run's own (`train_scenarios`). */
  extra: Record<string, unknown>;
}

// The training itself, in a run folder already taken and prepared. A file-system fault
// from here on (disk full, say) ends the run with exit code 4; every file written before
// it is complete (atomic writes), so the last checkpoint stands.
async function trainInFolder(f: InFolder): Promise<number> {
  const { request: { run, point }, trainer, runLog, stop, log } = f;
  const paths = f.folder.paths;
  const startTime = new Date();
  const live = !f.request.quiet && Deno.stderr.isTerminal();
  const extra = { sft_model: run.sft_model, ...runEnvParts(run).extra, ...f.extra };
  const writer = new RunWriter({
    runLog,
    paths,
    extra,
    resumedFrom: point?.path ?? null,
    log,
    live,
    keepCheckpoints: f.request.keepCheckpoints ?? null,
  });
  let evaluator: ParallelEvaluator | null = null;
  try {
    const t0 = performance.now();
    const hooks = writer.hooks(trainer, t0);
    log(
      `train: episodes ${trainer.episode}..${run.ppo.episodes}, ${run.ppo.num_envs} envs, seed ${run.ppo.seed} -> ${run.out_dir}`,
    );
    const shouldStop = () => stop.code !== null;
    evaluator = f.request.evalWorker ? startEvaluator(run, trainer) : null;
    const evaluate = evaluator ? evaluator.evaluate.bind(evaluator) : undefined;
    const sft = await sftBaselineUntil(trainer, { shouldStop, evaluate });
    const evaluation = evaluator
      ? new PipelinedEvaluation({
        start: evaluator.start.bind(evaluator),
        capture: (t) => captureCheckpoint(t, { extra }),
      })
      : undefined;
    const outcome: LoopOutcome = sft === null
      ? { stopped: true, dropped: false }
      : await trainLoop(trainer, runLog, { ...hooks, sft, shouldStop, evaluation });
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    await writer.best.flush();
    const wallSeconds = (performance.now() - t0) / 1000;
    const summary = { trainer, log: runLog, startTime, wallSeconds, point, sft };
    return await closeRun(f, { writer, outcome, summary, evaluate, evaluator });
  } catch (e) {
    if (!isOsError(e)) throw e;
    const kept = f.folder.staged
      ? `the run already in ${run.out_dir} is unchanged`
      : `the last complete checkpoint is ${writer.lastCheckpoint ?? "none"}`;
    throw new UserError(
      `I/O error while writing the run in ${run.out_dir}: ${firstLine(e)}; ${kept}`,
      { exitCode: EXIT.ioFault },
    );
  } finally {
    if (evaluator?.failure) {
      console.error(
        `train: --eval-worker: ${evaluator.failure}; the evaluations ran on the training thread`,
      );
    }
    evaluator?.close();
  }
}

// The end of a run once the schedule returned: stopped, a checkpoint of where it is;
// else final.pt, the held-out evaluation and train_metrics.json.
async function closeRun(f: InFolder, opts: {
  writer: RunWriter;
  outcome: LoopOutcome;
  summary: Omit<TrainMetricsOptions, "heldout" | "interrupted">;
  evaluate: ParallelEvaluator["evaluate"] | undefined;
  evaluator: ParallelEvaluator | null;
}): Promise<number> {
  const { request: { run }, trainer, stop, log } = f;
  const paths = f.folder.paths;
  // where the files will be once a replacing run is in place, for messages
  const shown = runPaths(run.out_dir);
  const { writer, outcome, summary, evaluator } = opts;
  const interrupted = { ...summary, heldout: null, interrupted: true };
  if (outcome.stopped) {
    const path = paths.checkpoint(trainer.episode);
    await writer.checkpoint(trainer, path);
    await writer.writeMetrics();
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    const note = outcome.dropped ? " (the iteration in progress was dropped)" : "";
    console.error(
      `train: interrupted at episode ${trainer.episode}${note}; saved ${
        shown.checkpoint(trainer.episode)
      }`,
    );
    return stop.code ?? EXIT.sigint;
  }
  await writer.save(trainer, paths.final);
  await writer.writeMetrics();
  const shouldStop = () => stop.code !== null;
  const heldout = await heldoutEvaluation(trainer, { shouldStop, evaluate: opts.evaluate });
  if (heldout === null) {
    // final.pt and metrics.json are complete; only the closing evaluation is missing
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    console.error(
      `train: interrupted during the held-out evaluation; ${shown.final} is complete`,
    );
    return stop.code ?? EXIT.sigint;
  }
  await writeJson(
    paths.trainMetrics,
    trainMetrics(run, { ...summary, heldout, interrupted: false }),
  );
  f.request.printHeldout(heldout, trainer.episodeMetrics);
  if (evaluator) log(`train: the eval Worker rolled out ${evaluator.workerEpisodes} episodes`);
  log(`train: done in ${summary.wallSeconds.toFixed(1)} s; wrote ${shown.dir}`);
  return 0;
}

// The Worker that takes half of each held-out evaluation: the env the run evaluates on
// (never a training scenario set) and its base planner.
function startEvaluator(run: RunConfig, trainer: Trainer): ParallelEvaluator {
  const name: EnvName = run.env_name ?? "driving";
  const env = { name, config: run.env, traffic: run.traffic };
  return new ParallelEvaluator({ env, makeEnv: trainer.makeEnv, planner: trainer.planner });
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
