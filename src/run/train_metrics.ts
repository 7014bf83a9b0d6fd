/**
 * `train_metrics.json`, the summary a training run writes when it ends (or is
 * interrupted), and the progress line printed while it runs.
 *
 * @module
 */

import { finiteMean } from "../math/mod.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { EvalSummary } from "./episode_records.ts";
import type { Heldout } from "./heldout.ts";
import { loggedMetrics } from "./metric_rules.ts";
import type { ResumePoint } from "./resume.ts";
import type { RunConfig } from "./run_config.ts";
import type { Trainer } from "../ppo/mod.ts";
import type { BestRecord, MetricsEntry, RunLog } from "./run_log.ts";
import type { WarmStartRound } from "./warm_start.ts";

/** The schema of `train_metrics.json`, keys in the order they are written. */
export interface TrainMetrics {
  /** ISO 8601 start of this process's training. */
  start_time: string;
  /** ISO 8601 time the summary was made. */
  end_time: string;
  /** The run's configuration (`config.json`). */
  config: RunConfig;
  /** Means over the last 100 training episodes. */
  final_metrics: {
    mean_reward_100ep: number;
    mean_length_100ep: number;
    total_episodes: number;
    success_rate_100ep: number;
  };
  /** Return of every training episode. */
  rewards: number[];
  /** Length (steps) of every training episode. */
  lengths: number[];
  /** 1 when a training episode reached the goal, else 0. */
  successes: number[];
  /**
   * The closing held-out evaluation (its base policy's block `sft`, or `base` for an env
   * without an SFT planner); absent when the run was interrupted before it.
   */
  heldout?: Record<string, unknown>;
  /**
   * The base policy on the per-interval evaluation seeds: return, success, and the means
   * of the env's metrics that `metrics.json` logs (driving: `ade_mean`, `fde_mean`); null
   * when stopped before it. Written as `sft_eval`, or `base_eval` for an env without an
   * SFT planner.
   */
  sft_eval?: BaseEval | null;
  /** `sft_eval` of an env without an SFT planner. */
  base_eval?: BaseEval | null;
  /** Which evaluation `best.pt` holds, or null. */
  best: BestRecord | null;
  /** The warm start's rounds, when this process ran one (`ppo.warm_start_rounds`). */
  warm_start?: WarmStartRound[];
  /** The checkpoint this process resumed from (absent: a fresh run). */
  resumed_from?: string;
  /** Its episode. */
  resumed_at_episode?: number;
  /** Stopped by a signal before the end. */
  interrupted: boolean;
  /** Seconds of this process's training. */
  wall_time_s: number;
  /** Environment steps of the whole run (a resumed run counts those before the resume). */
  env_steps: number;
  /** Env steps this process stepped / `wall_time_s`. */
  env_steps_per_second: number;
}

/** The base policy on the per-interval evaluation seeds. */
export interface BaseEval {
  seeds: [number, number];
  return_mean: number;
  success_rate: number;
  [metricMean: string]: number | [number, number];
}

/** What {@linkcode trainMetrics} summarises besides the run's configuration. */
export interface TrainMetricsOptions {
  /** The trainer now (episodes done, env steps of this process, the env's metrics). */
  trainer: Trainer;
  /** The run's log: histories and best record. */
  log: RunLog;
  /** When this process started training. */
  startTime: Date;
  /** Seconds of this process's training. */
  wallSeconds: number;
  /** The checkpoint this process resumed from, or null. */
  point: ResumePoint | null;
  /** The SFT baseline; null when stopped before it was done. */
  sft: EvalSummary | null;
  /** The closing held-out evaluation; null when stopped before it. */
  heldout: Heldout | null;
  /** Stopped by a signal before the end. */
  interrupted: boolean;
  /** The warm start's rounds, when this process ran one. */
  warmStart?: WarmStartRound[];
}

/**
 * The `train_metrics.json` document of a run.
 *
 * @example
 * ```ts ignore
 * await writeJson(paths.trainMetrics, trainMetrics(run, { trainer, log, startTime,
 *   wallSeconds, point: null, sft, heldout, interrupted: false }));
 * ```
 */
export function trainMetrics(run: RunConfig, opts: TrainMetricsOptions): TrainMetrics {
  const { trainer, log } = opts;
  const last100 = (xs: number[]) => finiteMean(xs.slice(-100));
  const base = log.base;
  const h = opts.heldout;
  return {
    start_time: opts.startTime.toISOString(),
    end_time: new Date().toISOString(),
    config: run,
    final_metrics: {
      mean_reward_100ep: last100(log.rewards),
      mean_length_100ep: last100(log.lengths),
      total_episodes: trainer.episode,
      success_rate_100ep: last100(log.successes),
    },
    rewards: log.rewards,
    lengths: log.lengths,
    successes: log.successes,
    ...(h ? { heldout: heldoutBlock(h, base) } : {}),
    [`${base}_eval`]: opts.sft && {
      seeds: [HELDOUT_SEED_BASE, run.ppo.eval_episodes],
      return_mean: opts.sft.return_mean,
      success_rate: opts.sft.success_rate,
      ...Object.fromEntries(
        loggedMetrics(trainer.episodeMetrics).map((m) => [
          m.mean!,
          opts.sft![m.mean!],
        ]),
      ),
    },
    best: log.best,
    ...(opts.warmStart ? { warm_start: opts.warmStart } : {}),
    ...(opts.point
      ? { resumed_from: opts.point.path, resumed_at_episode: opts.point.episode }
      : {}),
    interrupted: opts.interrupted,
    wall_time_s: opts.wallSeconds,
    env_steps: trainer.envSteps,
    env_steps_per_second: trainer.envStepsThisProcess / Math.max(opts.wallSeconds, 1e-9),
  };
}

/**
 * The progress line: episode, mean reward and success of the latest episodes, the
 * latest held-out return (when `entry` has one), KL, speed and time left.
 *
 * @example
 * ```ts ignore
 * progressLine(trainer, { log, meanReward, successRate, t0, startEpisode });
 * // "episode 120/500  reward 4.21  success 30%  kl 0.0103  13570 steps/s  eta 7 s"
 * ```
 */
export function progressLine(trainer: Trainer, opts: {
  /** The run's log (the latest entry's KL). */
  log: RunLog;
  /** Mean return of the episodes the line reports. */
  meanReward: number;
  /** Their success rate; null for an env without a goal (left out of the line). */
  successRate: number | null;
  /** `performance.now()` when this process started training. */
  t0: number;
  /** The trainer's episode then. */
  startEpisode: number;
  /** The metrics entry just made, if any. */
  entry?: MetricsEntry;
}): string {
  const { entry } = opts;
  const elapsed = (performance.now() - opts.t0) / 1000;
  const sps = trainer.envStepsThisProcess / Math.max(elapsed, 1e-9);
  const byStep = trainer.ppo.total_steps > 0;
  const total = byStep ? trainer.ppo.total_steps : trainer.ppo.episodes;
  const done = byStep ? trainer.envSteps : trainer.episode;
  const perUnit = elapsed /
    Math.max(1, byStep ? trainer.envStepsThisProcess : trainer.episode - opts.startEpisode);
  const eta = Math.max(0, (total - done) * perUnit);
  const kl = entry?.update.kl ?? opts.log.metrics.at(-1)?.update.kl ?? 0;
  const evalPart = entry ? `  eval ${entry.heldout.return_mean.toFixed(2)}` : "";
  // an entry's own episode: a pipelined evaluation's entry is made after training went on
  const where = byStep
    ? `step ${done}/${total}  episode ${entry?.episode ?? trainer.episode}`
    : `episode ${entry?.episode ?? trainer.episode}/${total}`;
  const success = opts.successRate === null
    ? ""
    : `  success ${(100 * opts.successRate).toFixed(0)}%`;
  return `${where}  reward ${opts.meanReward.toFixed(2)}${success}${evalPart}  kl ${
    kl.toFixed(4)
  }  ${Math.round(sps)} steps/s  eta ${eta.toFixed(0)} s`;
}

// The held-out block: the base policy's numbers under `base`, with the groups' where the
// env groups its episodes.
function heldoutBlock(h: Heldout, base: string): Record<string, unknown> {
  const groups = h.groups && { [base]: h.groups.sft, refined: h.groups.refined };
  return { seeds: h.seeds, [base]: h.sft, refined: h.refined, ...(groups ? { groups } : {}) };
}
