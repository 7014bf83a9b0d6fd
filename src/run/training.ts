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

import { EXIT, firstLine, isOsError, UserError } from "../errors.ts";
import { EnvLostError, EnvPool } from "../env/mod.ts";
import { lockRunDir } from "../io/mod.ts";
import { Trainer } from "../ppo/mod.ts";
import { hasSftPlanner, runBasePlanner } from "./base_planner.ts";
import { warmStarter } from "./warm_start.ts";
import { captureCheckpoint } from "./deferred_checkpoint.ts";
import { PipelinedEvaluation, sftBaselineUntil } from "./interval_eval.ts";
import { ParallelEvaluator } from "./parallel_eval.ts";
import { restoreTrainer } from "./resume.ts";
import { runEnvParts, runSettings } from "./run_config.ts";
import type { RunConfig } from "./run_config.ts";
import { RunLog } from "./run_log.ts";
import { RunWriter } from "./_run_writer.ts";
import { prepareRunFolder, unusablePathIsBadInput } from "./_run_folder.ts";
import type { RunScalars } from "./scalars.ts";
import { trainScenarios } from "./scenario_runs.ts";
import type { LoopOutcome } from "./schedule.ts";
import { trainLoop } from "./schedule.ts";
import { listenForStop } from "./stop_signals.ts";
import { checkRunFits } from "./work_limits.ts";
import { closeRun, envLost } from "./close_run.ts";
import type { InFolder, TrainingRequest } from "./training_request.ts";

export type { TrainingRequest } from "./training_request.ts";

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
