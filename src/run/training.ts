/**
 * One training run, from its checked configuration to the finished run folder: the env,
 * the base planner and the trainer (restored when resuming), the run folder taken and
 * prepared, then the SFT baseline, the schedule with its metrics (and their TensorBoard
 * and `progress.csv` scalars), best and periodic checkpoints, a clean stop on a signal
 * (saying how to continue), `final.pt` and the held-out evaluation. `train` and each
 * seed of `train --seeds` run through {@linkcode runTraining}.
 *
 * @module
 */

import { join } from "node:path";
import { EXIT, firstLine, isOsError, UserError } from "../errors.ts";
import { EnvLostError, EnvPool } from "../env/mod.ts";
import type { EnvChoice, EpisodeMetric } from "../env/mod.ts";
import { lockRunDir, runPaths, writeJson } from "../io/mod.ts";
import type { StagedRun } from "../io/mod.ts";
import { Trainer } from "../ppo/mod.ts";
import { hasSftPlanner, runBasePlanner } from "./base_planner.ts";
import { type WarmStarter, warmStarter } from "./warm_start.ts";
import { captureCheckpoint } from "./deferred_checkpoint.ts";
import { heldoutEvaluation } from "./heldout.ts";
import { EPISODES_FILE, recordEpisodes } from "./episodes_file.ts";
import type { EvalResult } from "./episode_records.ts";
import type { Heldout } from "./heldout.ts";
import { PipelinedEvaluation, sftBaselineUntil } from "./interval_eval.ts";
import { ParallelEvaluator } from "./parallel_eval.ts";
import { restoreTrainer } from "./resume.ts";
import type { ResumePoint } from "./resume.ts";
import { runEnvParts, runSettings } from "./run_config.ts";
import type { RunConfig } from "./run_config.ts";
import { RunLog } from "./run_log.ts";
import type { BaseName } from "./run_log.ts";
import { RunWriter } from "./_run_writer.ts";
import { prepareRunFolder, resumeCommand, unusablePathIsBadInput } from "./_run_folder.ts";
import type { RunScalars } from "./scalars.ts";
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
  /** The env trained on, as the command line named it. */
  env: EnvChoice;
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
  /** Warnings said on stderr once the run folder is taken (before training starts). */
  warnings?: readonly string[];
  /**
   * Shows the closing held-out evaluation (the CLI prints its table on stdout): the env's
   * `metrics`, whether its base policy is an SFT planner or not (`base`), and whether it
   * has a goal (`hasSuccess`: else no success column).
   */
  printHeldout(
    heldout: Heldout,
    opts: { metrics: readonly EpisodeMetric[]; base: BaseName; hasSuccess: boolean },
  ): void;
  /**
   * The command that continues the run from `checkpoint`, said at a stop and when the
   * folder already holds a stopped run (default `train --resume <checkpoint>`).
   */
  resumeCommand?(checkpoint: string): string;
}

/**
 * Trains the run `request` asks for into its folder; returns the exit code (0, or
 * 130 / 143 when stopped by a signal, having saved a checkpoint). Everything is read and
 * checked before anything is written; a folder that cannot be written is bad input
 * (exit 2), a file-system fault once training runs is exit code 4.
 *
 * @example
 * ```ts ignore
 * const code = await runTraining({ run, env, point: null, scenarios: null, overwrite: false,
 *   quiet: true, evalWorker: false, outDirNamed: true, printHeldout: () => {} });
 * ```
 */
export async function runTraining(request: TrainingRequest): Promise<number> {
  const { run } = request;
  const pool = new EnvPool(request.env.definition, runSettings(run, request.env.definition));
  try {
    return await trainWith(request, pool);
  } finally {
    await pool.close();
  }
}

// The run with its envs made by `pool`: the trainer, the folder taken, then the training.
async function trainWith(request: TrainingRequest, pool: EnvPool): Promise<number> {
  const { run, point } = request;
  const log = request.quiet ? () => {} : (line: string) => console.error(line);
  const { trainer, runLog, extra, warm } = await buildTrainer(request, pool);
  // resuming in place, the user named no folder: the messages say which one
  const flag = request.outDirNamed || !point ? "--out-dir" : "run folder";
  const lock = await unusablePathIsBadInput(
    `${flag} ${run.out_dir}`,
    () => lockRunDir(run.out_dir, { flag, warn: (line) => console.error(line) }),
  );
  const stop = listenForStop({ onAbort: () => lock.release(), log, orphaned: request.orphaned });
  let scalars: RunScalars | null = null;
  try {
    const probe = pool.make(1);
    const prepared = await unusablePathIsBadInput(
      `${flag} ${run.out_dir}`,
      () => prepareRunFolder(request, { flag, trainer, probe }),
    );
    const { folder } = prepared;
    scalars = prepared.scalars;
    for (const line of request.warnings ?? []) console.error(`warning: ${line}`);
    const hasSuccess = probe.success !== undefined;
    let code: number;
    try {
      code = await trainInFolder({
        ...{ request, trainer, runLog, folder, stop, log, extra, warm },
        ...{ scalars, hasSuccess },
      });
    } catch (e) {
      await scalars.close();
      scalars = null;
      // an env lost mid-run left a complete checkpoint (exit 4): it replaces the old run
      if (e instanceof EnvLostError) folder.commit();
      else folder.discard(); // a replaced run stays as it was
      throw e;
    }
    await scalars.close();
    scalars = null;
    folder.commit();
    return code;
  } finally {
    await scalars?.close();
    stop.dispose();
    lock.release();
  }
}

// The base planner and the trainer of the run (restored from the checkpoint it resumes
// from), its envs made by `pool` (and one of them, `probe`), its log, and the keys its
// checkpoints add. The base planner is the planner file, else the env's SFT planner,
// else zero (plain PPO); a scenario set: training plays its files, evaluation stays on
// held-out seeds. A configuration whose heads, rollouts or envs would not fit is refused.
async function buildTrainer(
  request: TrainingRequest,
  pool: EnvPool,
): Promise<Pick<InFolder, "trainer" | "runLog" | "extra" | "warm">> {
  const { run, point } = request;
  const { definition, settings, make: makeEnv } = pool;
  const env = { definition, settings };
  const probe = makeEnv(1);
  const planner = await runBasePlanner(env, { sftModel: run.sft_model, probe });
  const { obsDim, maxEpisodeSteps } = probe;
  checkRunFits(run, { env, dims: { obsDim, actionDim: planner.actionDim, maxEpisodeSteps } });
  const { makeTrainEnv, extra } = await trainScenarios(request.scenarios, { ...env, point });
  const trainer = new Trainer({ env: run.env, ppo: run.ppo, planner, makeEnv, makeTrainEnv });
  const runLog = new RunLog({ base: hasSftPlanner(definition) ? "sft" : "base" });
  const warmEnv = makeTrainEnv ?? makeEnv;
  const warm = await warmStarter(trainer, { env, makeEnv: warmEnv, resumed: point !== null });
  if (point) restoreTrainer(trainer, point, { log: runLog, warn: (line) => console.error(line) });
  return { trainer, runLog, extra, warm };
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
  /** The warm start to run first, or null. */
  warm: WarmStarter | null;
  /** The run's TensorBoard and `progress.csv` scalars, open. */
  scalars: RunScalars;
  /** The env has a goal (reports success). */
  hasSuccess: boolean;
}

// The training itself, in a run folder already taken and prepared. A file-system fault
// from here on (disk full, say) ends the run with exit code 4; every file written before
// it is complete (atomic writes), so the last checkpoint stands.
async function trainInFolder(f: InFolder): Promise<number> {
  const { request: { run, point }, trainer, runLog, stop, log } = f;
  const paths = f.folder.paths;
  const startTime = new Date();
  const live = !f.request.quiet && Deno.stderr.isTerminal();
  const parts = runEnvParts(run, f.request.env.definition);
  const extra = { sft_model: run.sft_model, ...parts.extra, ...f.extra };
  const { scalars, hasSuccess } = f;
  const writer = new RunWriter({
    ...{ runLog, paths, extra, resumedFrom: point?.path ?? null, log, live },
    ...{ hasSuccess, scalars, keepCheckpoints: f.request.keepCheckpoints ?? null },
  });
  let evaluator: ParallelEvaluator | null = null;
  try {
    await scalars.backfill(runLog, { episode: trainer.episode, envStepsNow: trainer.envSteps });
    const t0 = performance.now();
    const hooks = writer.hooks(trainer, t0);
    const budget = run.ppo.total_steps > 0
      ? `env steps ${trainer.envSteps}..${run.ppo.total_steps}`
      : `episodes ${trainer.episode}..${run.ppo.episodes}`;
    log(`train: ${budget}, ${run.ppo.num_envs} envs, seed ${run.ppo.seed} -> ${run.out_dir}`);
    const shouldStop = () => stop.code !== null;
    evaluator = f.request.evalWorker ? startEvaluator(f.request, trainer) : null;
    if (evaluator?.failure && f.request.env.kind === "gym") {
      // its evaluations run where its worker answers: not pipelined on a copy
      console.error(
        `train: --eval-worker: ${evaluator.failure}; the evaluations ran on the training thread`,
      );
      evaluator.close();
      evaluator = null;
    }
    const evaluate = evaluator ? evaluator.evaluate.bind(evaluator) : undefined;
    const warmStart = f.warm ? await f.warm(log) : undefined;
    const sft = await sftBaselineUntil(trainer, { shouldStop, evaluate }).catch(envLost);
    const evaluation = evaluator
      ? new PipelinedEvaluation({
        start: evaluator.start.bind(evaluator),
        capture: (t) => captureCheckpoint(t, { extra }),
      })
      : undefined;
    const outcome: LoopOutcome = sft instanceof EnvLostError
      ? { stopped: true, dropped: false, lost: sft }
      : sft === null
      ? { stopped: true, dropped: false }
      : await trainLoop(trainer, runLog, { ...hooks, sft, shouldStop, evaluation });
    if (live) Deno.stderr.writeSync(new TextEncoder().encode("\n"));
    await writer.best.flush();
    const wallSeconds = (performance.now() - t0) / 1000;
    const summary = {
      ...{ trainer, log: runLog, startTime, wallSeconds, point, warmStart },
      sft: sft instanceof EnvLostError ? null : sft,
    };
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
    console.error(
      `train: continue with \`${resumeCommand(f.request, shown.checkpoint(trainer.episode))}\``,
    );
    if (outcome.lost) throw outcome.lost; // exit 4, with the worker's last stderr line
    return stop.code ?? EXIT.sigint;
  }
  await writer.save(trainer, paths.final);
  await writer.writeMetrics();
  const shouldStop = () => stop.code !== null;
  const kept: { results?: { sft: EvalResult; refined: EvalResult } } = {};
  const onResults = (results: typeof kept.results) => (kept.results = results);
  const heldout = await heldoutEvaluation(trainer, {
    shouldStop,
    evaluate: opts.evaluate,
    onResults,
  })
    .catch(envLost);
  if (heldout instanceof EnvLostError) {
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    console.error(`train: the env was lost in the held-out evaluation; ${shown.final} is complete`);
    throw heldout;
  }
  if (heldout === null) {
    // final.pt and metrics.json are complete; only the closing evaluation is missing
    await writeJson(paths.trainMetrics, trainMetrics(run, interrupted));
    console.error(
      `train: interrupted during the held-out evaluation; ${shown.final} is complete`,
    );
    console.error(`train: continue with \`${resumeCommand(f.request, shown.final)}\``);
    return stop.code ?? EXIT.sigint;
  }
  await writeJson(
    paths.trainMetrics,
    trainMetrics(run, { ...summary, heldout, interrupted: false }),
  );
  // a few held-out episodes drawn again (not for the Gymnasium bridge's: a worker each)
  await recordEpisodes(trainer, {
    results: kept.results!,
    firstSeed: heldout.seeds[0],
    env: f.request.env.kind === "gym" ? null : trainer.makeEnv(1),
    path: join(paths.dir, EPISODES_FILE),
  });
  f.request.printHeldout(heldout, {
    metrics: trainer.episodeMetrics,
    base: f.runLog.base,
    hasSuccess: f.hasSuccess,
  });
  if (evaluator) log(`train: the eval Worker rolled out ${evaluator.workerEpisodes} episodes`);
  log(`train: done in ${summary.wallSeconds.toFixed(1)} s; wrote ${shown.dir}`);
  return 0;
}

// The Worker that takes half of each held-out evaluation: the env the run evaluates on
// (never a training scenario set) and its base planner. The Gymnasium bridge's envs run
// in a Python worker of this process: their evaluations stay on the training thread.
function startEvaluator(request: TrainingRequest, trainer: Trainer): ParallelEvaluator {
  const { kind, spec, definition } = request.env;
  const env = {
    id: definition.id,
    module: kind === "module" ? spec : null,
    settings: runSettings(request.run, definition),
  };
  return new ParallelEvaluator({
    env,
    makeEnv: trainer.makeEnv,
    planner: trainer.planner,
    ...(kind === "gym" ? { unavailable: "the Gymnasium bridge's envs run in this process" } : {}),
  });
}

/**
 * Why the run's updates hold fewer episodes than `--num-envs` says, or null: a rollout of
 * one episode per env never crosses an eval or save point (nor the last episode), so
 * each holds at most the smallest of those intervals.
 *
 * @example
 * ```ts ignore
 * rolloutCap(run); // "--num-envs 20 > --eval-interval 10: ..."
 * ```
 */
export function rolloutCap(run: RunConfig): string | null {
  const { num_envs: n, eval_interval: evalEvery, save_interval: saveEvery } = run.ppo;
  // rollouts of a number of steps take episodes as their slots free up: not num_envs'
  if (run.ppo.steps_per_update > 0) return null;
  const [flag, cap] = evalEvery <= saveEvery
    ? ["--eval-interval", evalEvery]
    : ["--save-interval", saveEvery];
  if (n <= cap || (run.ppo.total_steps === 0 && cap >= run.ppo.episodes)) return null;
  return `--num-envs ${n} > ${flag} ${cap}: a rollout ends at every eval and save point, so each update holds at most ${cap} episodes`;
}

// An env that can no longer step, as a value (a stop of its own); any other error is thrown.
function envLost(e: unknown): EnvLostError {
  if (e instanceof EnvLostError) return e;
  throw e;
}
