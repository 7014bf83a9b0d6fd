/**
 * What a training run writes while the schedule runs, as its hooks: `metrics.json` and
 * the TensorBoard / `progress.csv` scalars at each entry, `best.pt` (taken at each new
 * best, written with the next checkpoint), `checkpoints/checkpoint_N.pt` every
 * `save_interval`, and the progress display (a live line on a terminal, else a line per
 * entry on stderr; the success rate for an env with a goal).
 *
 * @module
 */

import { finiteMean } from "../math/mod.ts";
import { writeJson } from "../io/mod.ts";
import type { RunPaths } from "../io/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import { DeferredCheckpoint } from "./deferred_checkpoint.ts";
import { saveTrainerCheckpoint } from "./checkpoint.ts";
import type { CheckpointOptions } from "./checkpoint.ts";
import type { RunLog } from "./run_log.ts";
import type { LoopHooks } from "./schedule.ts";
import { progressLine } from "./train_metrics.ts";
import type { RunScalars } from "./scalars.ts";

/** Options of {@linkcode RunWriter}. */
export interface RunWriterOptions {
  /** The run's log, written to `metrics.json` and into each checkpoint. */
  runLog: RunLog;
  /** The run folder's files. */
  paths: RunPaths;
  /** Checkpoint keys besides the trainer's (`sft_model`, `env_name`, ...). */
  extra: Record<string, unknown>;
  /** The checkpoint the run resumed from, or null. */
  resumedFrom: string | null;
  /** A progress line on stderr (nothing with `--quiet`). */
  log: (line: string) => void;
  /** The progress line is rewritten in place (a terminal, not `--quiet`). */
  live: boolean;
  /** The env has a goal: progress lines show the success rate. */
  hasSuccess: boolean;
  /** The run's TensorBoard and `progress.csv` scalars, written at each entry. */
  scalars: RunScalars;
}

/** The files of a run being trained, and the last complete checkpoint among them. */
export class RunWriter {
  /** The newest complete checkpoint of the run (the one resumed from before any). */
  lastCheckpoint: string | null;
  /** `best.pt`, taken at each new best and written later. */
  readonly best: DeferredCheckpoint;
  /** What every checkpoint is saved with: the run's log and `extra`. */
  readonly saved: CheckpointOptions;
  readonly #opts: RunWriterOptions;

  /** Nothing is written yet. */
  constructor(opts: RunWriterOptions) {
    this.#opts = opts;
    this.lastCheckpoint = opts.resumedFrom;
    this.best = new DeferredCheckpoint(opts.paths.best);
    this.saved = { log: opts.runLog, extra: opts.extra };
  }

  /** Writes `metrics.json`: every entry so far. */
  writeMetrics(): Promise<void> {
    return writeJson(this.#opts.paths.metrics, this.#opts.runLog.metricsJson());
  }

  /** Saves `trainer` to `path` (`final.pt`). */
  save(trainer: Trainer, path: string): Promise<void> {
    return saveTrainerCheckpoint(path, trainer, this.saved);
  }

  /** Saves `trainer` to `path` as the run's newest complete checkpoint. */
  async checkpoint(trainer: Trainer, path: string): Promise<void> {
    await this.save(trainer, path);
    this.lastCheckpoint = path;
  }

  /**
   * The schedule's hooks that write the run's files and show its progress (`t0`: the
   * `performance.now()` the speed is measured from).
   */
  hooks(trainer: Trainer, t0: number): Omit<LoopHooks, "sft" | "shouldStop" | "evaluation"> {
    const { runLog, paths, live, log, hasSuccess, scalars } = this.#opts;
    const startEpisode = trainer.episode;
    return {
      onMetrics: async (t, entry, at) => {
        await this.writeMetrics();
        const fps = t.envStepsThisProcess / Math.max((performance.now() - t0) / 1000, 1e-9);
        await scalars.add(entry, { at, fps });
        if (live) return;
        const { mean_reward: meanReward } = entry;
        const successRate = hasSuccess ? entry.success_rate : null;
        log(progressLine(t, { log: runLog, meanReward, successRate, t0, startEpisode, entry }));
      },
      onBest: (t, _, captured) => {
        if (captured === undefined) return this.best.take(t, this.saved);
        this.best.put(captured(runLog));
        return Promise.resolve();
      },
      onCheckpoint: async (t, episode) => {
        await this.best.flush();
        await this.checkpoint(t, paths.checkpoint(episode));
      },
      onIteration: (t) => {
        if (!live) return;
        const n = t.ppo.eval_interval;
        const line = progressLine(t, {
          log: runLog,
          meanReward: finiteMean(runLog.rewards.slice(-n)),
          successRate: hasSuccess ? finiteMean(runLog.successes.slice(-n)) : null,
          t0,
          startEpisode,
        });
        Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}\x1b[K`));
      },
    };
  }
}
