/**
 * `train`'s run itself, once the run folder is taken and prepared: the SFT baseline, the
 * episode loop with its metrics, best and periodic checkpoints, a clean stop, then
 * `final.pt` and the held-out evaluation.
 *
 * @module
 */

import { EXIT, firstLine, isOsError, UserError } from "../errors.ts";
import { finiteMean } from "../math/mod.ts";
import type { EnvName, EpisodeMetric } from "../env/mod.ts";
import {
  captureCheckpoint,
  DeferredCheckpoint,
  heldoutEvaluation,
  ParallelEvaluator,
  progressLine,
  RunLog,
  saveTrainerCheckpoint,
  sftBaselineUntil,
  trainLoop,
  trainMetrics,
} from "../run/mod.ts";
import { Trainer } from "../ppo/mod.ts";
import type { Heldout, HeldoutSummary, ResumePoint, RunConfig } from "../run/mod.ts";
import { writeJson } from "../io/mod.ts";
import type { PtDict, RunPaths } from "../io/mod.ts";
import type { EvaluateOptions } from "../run/mod.ts";
import type { StopRequest } from "./_stop_signals.ts";
import * as traffic from "./_traffic_flags.ts";

// The training itself, in a run folder already taken and prepared. A file-system fault
// from here on (disk full, say) ends the run with exit code 4; every file written before
// it is complete (atomic writes), so the last checkpoint stands.
export async function trainRun(opts: {
  run: RunConfig;
  trainer: Trainer;
  runLog: RunLog;
  point: ResumePoint | null;
  paths: RunPaths;
  stop: StopRequest;
  log: (line: string) => void;
  quiet: boolean;
  /** Split the held-out evaluations with a Worker ({@linkcode ParallelEvaluator}). */
  evalWorker: boolean;
  /** Checkpoint keys besides the run's own (`train_scenarios`). */
  extra: Record<string, unknown>;
}): Promise<number> {
  const { run, trainer, runLog, point, paths, stop, log, quiet } = opts;
  const startTime = new Date();
  const live = !quiet && Deno.stderr.isTerminal();
  let lastCheckpoint: string | null = point ? point.path : null;
  let evaluator: ParallelEvaluator | null = null;
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
    evaluator = opts.evalWorker ? startEvaluator(run, trainer) : null;
    const evaluate = evaluator ? evaluator.evaluate.bind(evaluator) : undefined;
    const sft = await sftBaselineUntil(trainer, { shouldStop, evaluate });
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
        onBest: (t, _, captured) => {
          if (captured === undefined) return best.take(t, saved);
          best.put((captured as (log: RunLog) => PtDict)(runLog));
          return Promise.resolve();
        },
        ...(evaluator
          ? {
            startEvaluation: (o: EvaluateOptions) => evaluator!.start(o),
            capture: (t: Trainer) => captureCheckpoint(t, { extra }),
          }
          : {}),
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
    const heldout = await heldoutEvaluation(trainer, { shouldStop, evaluate });
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
    if (evaluator) log(`train: the eval Worker rolled out ${evaluator.workerEpisodes} episodes`);
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
// (never a training scenario set) and its base planner.
function startEvaluator(run: RunConfig, trainer: Trainer): ParallelEvaluator {
  const name: EnvName = run.env_name ?? "driving";
  const env = { name, config: run.env, traffic: run.traffic };
  return new ParallelEvaluator({ env, makeEnv: trainer.makeEnv, planner: trainer.planner });
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
