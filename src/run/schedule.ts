/**
 * The schedule of a training run around {@linkcode Trainer}: rollouts sized to end on
 * eval and save points, an evaluation and a `metrics.json` entry every `eval_interval`
 * episodes (how it evaluates is a plug-in: `interval_eval.ts`), the best policy so far,
 * periodic checkpoints, and a clean stop on request. Files are the caller's business
 * (hooks), so this module does no I/O.
 *
 * @module
 */

import { yieldToEventLoop } from "../event_loop.ts";
import type { IterationResult, Trainer } from "../ppo/mod.ts";
import { EnvLostError } from "../env/mod.ts";
import type { BestRecord, HeldoutMeans, MetricsEntry, RunLog } from "./run_log.ts";
import type { EvalSummary } from "./episode_records.ts";
import type { CapturedCheckpoint } from "./deferred_checkpoint.ts";
import { InlineEvaluation } from "./interval_eval.ts";
import { baselineMetrics, loggedMetrics, tieBreakMetric } from "./metric_rules.ts";
import type { IntervalEvaluation, ScheduledRun } from "./interval_eval.ts";

/** What the loop tells its caller, and the SFT baseline its metrics entries compare with. */
export interface LoopHooks {
  /** The SFT planner alone on the evaluation seeds (`sftBaseline`). */
  sft: EvalSummary;
  /**
   * A new `metrics.json` entry was appended to the run log's `metrics`; `at` is where the
   * run was when the entry's iteration ended (a pipelined evaluation enters it later).
   */
  onMetrics(trainer: Trainer, entry: MetricsEntry, at: EntryPoint): Promise<void>;
  /**
   * The policy now is the best so far (write `best.pt`); with pipelined evaluations the
   * policy of `best.episode`, whose checkpoint was taken then as `captured`.
   */
  onBest(trainer: Trainer, best: BestRecord, captured?: CapturedCheckpoint): Promise<void>;
  /** `episode` is a multiple of `save_interval` (write `checkpoint_{episode}.pt`). */
  onCheckpoint(trainer: Trainer, episode: number): Promise<void>;
  /** After every rollout + update (progress display). */
  onIteration?(trainer: Trainer, result: IterationResult): void;
  /**
   * Polled after every iteration and about every 0.2 s inside a rollout; true stops
   * the loop at an episode boundary (a rollout in progress is dropped).
   */
  shouldStop(): boolean;
  /** Milliseconds of rollout or evaluation work between two polls of `shouldStop` (200). */
  yieldMs?: number;
  /**
   * How each eval point is evaluated (default: a new `InlineEvaluation`, on this thread;
   * a `PipelinedEvaluation` evaluates beside training, with the same entries).
   */
  evaluation?: IntervalEvaluation;
}

/** Where the run was at the end of the iteration a `metrics.json` entry follows. */
export interface EntryPoint {
  /** The run's env steps then (all its processes; a checkpoint's `env_steps`). */
  envSteps: number;
  /** The learning rate of that iteration's update. */
  learningRate: number;
}

/** How {@linkcode trainLoop} ended. */
export interface LoopOutcome {
  /** Stopped (`shouldStop`, or an env lost) before the run's budget was spent. */
  stopped: boolean;
  /** An iteration in progress (its rollout, or its evaluation) was dropped for the stop. */
  dropped: boolean;
  /** The env that could no longer step, when that stopped the loop. */
  lost?: EnvLostError;
}

/**
 * Trains until the run's budget is spent (`ppo.total_steps` env steps when set, else
 * `ppo.episodes`; {@linkcode Trainer.finished}) or until `hooks.shouldStop()`, keeping the run's diary in
 * `log`; returns whether it stopped early, and whether an iteration in progress (its
 * rollout, or the evaluation after its update) was dropped for it, the trainer and the
 * log put back to the state before it. Every evaluation started is entered before a
 * checkpoint, a stop or the end.
 *
 * @example
 * ```ts ignore
 * const log = new RunLog();
 * const { stopped } = await trainLoop(trainer, log, { ...hooks, sft: sftBaseline(trainer) });
 * ```
 */
export async function trainLoop(
  trainer: Trainer,
  log: RunLog,
  hooks: LoopHooks,
): Promise<LoopOutcome> {
  const evaluation = hooks.evaluation ?? new InlineEvaluation();
  const run = scheduledRun(trainer, log, hooks);
  const settled = async (outcome: LoopOutcome): Promise<LoopOutcome> => {
    await evaluation.settle(run, true);
    return outcome;
  };
  const { eval_interval, save_interval } = trainer.ppo;
  // an env lost in an iteration (its rollout or its evaluation): the trainer and the log
  // are back to before it, as for a stop
  const lost = (e: unknown) => {
    if (!(e instanceof EnvLostError)) throw e;
    return settled({ stopped: true, dropped: true, lost: e });
  };
  while (!trainer.finished()) {
    if (hooks.shouldStop()) return await settled({ stopped: true, dropped: false });
    const size = trainer.nextRolloutSize();
    evaluation.beforeIteration(run, (trainer.episode + size) % eval_interval === 0);
    let last: IterationResult | null;
    try {
      last = await trainer.iterateUntil(size, hooks);
    } catch (e) {
      return await lost(e);
    }
    if (last === null) return await settled({ stopped: true, dropped: true });
    log.record(last);
    const episode = trainer.episode;
    let evaluated = true;
    try {
      if (episode % eval_interval === 0) evaluated = await evaluation.evaluate(run, last);
    } catch (e) {
      return await lost(e);
    }
    if (!evaluated) return await settled({ stopped: true, dropped: true });
    await evaluation.settle(run, false);
    if (episode % save_interval === 0) {
      await evaluation.settle(run, true);
      await hooks.onCheckpoint(trainer, episode);
    }
    hooks.onIteration?.(trainer, last);
    // Give signal listeners (Ctrl-C) a turn.
    await yieldToEventLoop();
    if (hooks.shouldStop()) {
      return await settled({ stopped: !trainer.finished(), dropped: false });
    }
  }
  return await settled({ stopped: false, dropped: false });
}

// The run as the evaluation sees it: entries compared with the SFT baseline, and
// entering one appends it, writes it and updates the best record (best.pt).
function scheduledRun(trainer: Trainer, log: RunLog, hooks: LoopHooks): ScheduledRun {
  const { sft } = hooks;
  const logged = loggedMetrics(trainer.episodeMetrics);
  const tie = tieBreakMetric(trainer.episodeMetrics);
  const sftHeldout: HeldoutMeans = {
    return_mean: sft.return_mean,
    ...Object.fromEntries(
      baselineMetrics(trainer.episodeMetrics).map((m) => [m.mean!, sft[m.mean!]]),
    ),
  };
  // each entry's point, taken when it is made (right after its iteration)
  const points = new WeakMap<MetricsEntry, EntryPoint>();
  const isBest = (ev: EvalSummary, best: BestRecord | null) =>
    best === null || ev.return_mean > best.return_mean ||
    (tie !== undefined && ev.return_mean === best.return_mean &&
      ev[tie.mean!] < best[tie.mean!]);
  return {
    trainer,
    log,
    until: hooks,
    entryAt: (last, previous) => {
      const entry = log.entry(
        last,
        { heldout: { return_mean: NaN }, sft_heldout: sftHeldout },
        previous,
      );
      points.set(entry, { envSteps: trainer.envSteps, learningRate: last.learningRate });
      return entry;
    },
    async enter(entry, ev, captured) {
      entry.heldout = {
        return_mean: ev.return_mean,
        success_rate: ev.success_rate,
        ...Object.fromEntries(logged.map((m) => [m.mean!, ev[m.mean!]])),
      };
      log.metrics.push(entry);
      await hooks.onMetrics(trainer, entry, points.get(entry)!);
      if (!isBest(ev, log.best)) return;
      log.best = {
        episode: entry.episode,
        return_mean: ev.return_mean,
        ...(tie ? { [tie.mean!]: ev[tie.mean!] } : {}),
      };
      await hooks.onBest(trainer, log.best, captured);
    },
  };
}
