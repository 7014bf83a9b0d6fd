/**
 * What a training run is asked for ({@linkcode TrainingRequest}) and what the training in
 * its prepared folder works with ({@linkcode InFolder}).
 *
 * @module
 */

import type { EnvChoice, EpisodeMetric } from "../env/mod.ts";
import type { StagedRun } from "../io/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import type { Heldout } from "./heldout.ts";
import type { ResumePoint } from "./resume.ts";
import type { RunConfig } from "./run_config.ts";
import type { BaseName, RunLog } from "./run_log.ts";
import type { RunScalars } from "./scalars.ts";
import type { StopRequest } from "./stop_signals.ts";
import type { WarmStarter } from "./warm_start.ts";

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

/** What the training in a prepared run folder works with. */
export interface InFolder {
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
