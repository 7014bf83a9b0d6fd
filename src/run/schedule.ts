/**
 * The episode loop around {@linkcode Trainer}: rollouts sized to end on eval and save
 * points, a held-out evaluation and a `metrics.json` entry every `eval_interval`
 * episodes, the best policy so far, periodic checkpoints, and a clean stop on request.
 * Files are the caller's business (hooks), so this module does no I/O.
 *
 * @module
 */

import { runUntil, yieldToEventLoop } from "../event_loop.ts";
import type { IterationResult, Trainer } from "../ppo/mod.ts";
import type { BestRecord, MetricsEntry, RunLog } from "./run_log.ts";
import { evaluatePolicy, evaluatePolicySteps } from "./evaluate.ts";
import type { EvalResult, EvalSummary, EvaluateOptions } from "./evaluate.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";

/** What the loop tells its caller, and the SFT baseline its metrics entries compare with. */
export interface LoopHooks {
  /** The SFT planner alone on the evaluation seeds ({@linkcode sftBaseline}). */
  sft: EvalSummary;
  /** A new `metrics.json` entry was appended to the run log's `metrics`. */
  onMetrics(trainer: Trainer, entry: MetricsEntry): Promise<void>;
  /**
   * The policy now is the best so far (write `best.pt`); with pipelined evaluations the
   * policy of `best.episode`, whose state `capture` returned as `captured`.
   */
  onBest(trainer: Trainer, best: BestRecord, captured?: unknown): Promise<void>;
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
   * Pipelines the per-interval evaluations (see {@linkcode trainLoop}): starts one on a
   * copy of the weights and returns at once; they must resolve in the order started.
   */
  startEvaluation?(opts: EvaluateOptions): Promise<EvalResult>;
  /** With `startEvaluation`: what `best.pt` would hold now, taken at each evaluation. */
  capture?(trainer: Trainer): unknown;
}

/**
 * Runs one evaluation to its end, giving the event loop a turn about every
 * `until.yieldMs` (default 200 ms); null as soon as `until.shouldStop()` says so at such
 * a turn. {@linkcode evaluateHere} runs it on this thread; a `ParallelEvaluator` splits
 * it with a Worker, with the same result.
 */
export type EvaluateUntil = (
  opts: EvaluateOptions,
  until: { shouldStop: () => boolean; yieldMs?: number },
) => Promise<EvalResult | null>;

/**
 * {@linkcode EvaluateUntil} on this thread: {@linkcode evaluatePolicySteps} driven by
 * `runUntil`.
 *
 * @example
 * ```ts ignore
 * const result = await evaluateHere(intervalEvalOptions(trainer, null), { shouldStop: () => false });
 * ```
 */
export const evaluateHere: EvaluateUntil = (opts, until) =>
  runUntil(evaluatePolicySteps(opts), until.shouldStop, until.yieldMs);

/**
 * Evaluates the SFT planner alone on the per-interval evaluation seeds: the line the
 * refined policy is measured against.
 *
 * @example
 * ```ts ignore
 * const sft = sftBaseline(trainer);
 * ```
 */
export function sftBaseline(trainer: Trainer): EvalSummary {
  return evaluatePolicy(sftBaselineOptions(trainer)).summary;
}

/**
 * {@linkcode sftBaseline} that gives the event loop a turn about every 0.2 s and
 * returns null as soon as `opts.shouldStop()` says so.
 *
 * @example
 * ```ts ignore
 * const sft = await sftBaselineUntil(trainer, { shouldStop: () => interrupted });
 * ```
 */
export async function sftBaselineUntil(
  trainer: Trainer,
  opts: { shouldStop: () => boolean; evaluate?: EvaluateUntil },
): Promise<EvalSummary | null> {
  const evaluate = opts.evaluate ?? evaluateHere;
  const result = await evaluate(sftBaselineOptions(trainer), opts);
  return result === null ? null : result.summary;
}

/**
 * {@linkcode evaluatePolicy}'s options for the per-interval evaluation of `trainer` on
 * the env it trains on: its planner, corrected by `model` (null: the planner alone).
 *
 * @example
 * ```ts ignore
 * const result = evaluatePolicy(intervalEvalOptions(trainer, trainer.model));
 * ```
 */
export function intervalEvalOptions(
  trainer: Trainer,
  model: Trainer["model"] | null,
): EvaluateOptions {
  return {
    env: trainer.env,
    planner: trainer.planner,
    model,
    deltaClip: trainer.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count: trainer.ppo.eval_episodes,
    makeEnv: trainer.makeEnv,
  };
}

function sftBaselineOptions(trainer: Trainer): EvaluateOptions {
  return intervalEvalOptions(trainer, null);
}

/**
 * Trains until `ppo.episodes` or until `hooks.shouldStop()`, keeping the run's diary in
 * `log`; returns whether it stopped early, and whether an iteration in progress (its
 * rollout, or the evaluation after its update) was dropped for it, the trainer and the
 * log put back to the state before it.
 *
 * With `hooks.startEvaluation` the per-interval evaluations are pipelined: each starts
 * (on a copy of the weights) and training goes on; its entry, and `best` with the state
 * `hooks.capture` took at its episode, are made in episode order once it is done, and
 * every started one is done before a checkpoint, a stop or the end. The entries,
 * checkpoints and `best` are the ones the loop makes without it (timestamps aside); a
 * stop never drops an evaluation, it waits for it.
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
): Promise<{ stopped: boolean; dropped: boolean }> {
  const { sft, startEvaluation } = hooks;
  const logged = trainer.episodeMetrics.filter((m) => m.entry && m.mean);
  const tie = logged.find((m) => m.entry!.tieBreak);
  const sftHeldout = {
    return_mean: sft.return_mean,
    ...Object.fromEntries(
      logged.filter((m) => m.entry!.sft).map((m) => [m.mean!, sft[m.mean!]]),
    ),
  };
  // The entry of an evaluation: appended, written, and the best so far updated.
  const finish = async (entry: MetricsEntry, ev: EvalSummary, captured: unknown) => {
    entry.heldout = {
      return_mean: ev.return_mean,
      success_rate: ev.success_rate,
      ...Object.fromEntries(logged.map((m) => [m.mean!, ev[m.mean!]])),
    };
    log.metrics.push(entry);
    await hooks.onMetrics(trainer, entry);
    const best = log.best;
    if (
      best === null || ev.return_mean > best.return_mean ||
      (tie !== undefined && ev.return_mean === best.return_mean &&
        ev[tie.mean!] < best[tie.mean!])
    ) {
      log.best = {
        episode: entry.episode,
        return_mean: ev.return_mean,
        ...(tie ? { [tie.mean!]: ev[tie.mean!] } : {}),
      };
      await hooks.onBest(trainer, log.best, captured);
    }
  };
  // Pipelined evaluations started and not yet finished, oldest first.
  const pending: Pending[] = [];
  const finishDone = async (all: boolean) => {
    while (pending.length > 0 && (all || pending[0].done !== null)) {
      const p = pending.shift()!;
      await finish(p.entry, (p.done ?? await p.result).summary, p.captured);
    }
  };
  const settled = async <T>(value: T): Promise<T> => {
    await finishDone(true);
    return value;
  };
  const { episodes, eval_interval, save_interval } = trainer.ppo;
  while (trainer.episode < episodes) {
    if (hooks.shouldStop()) return await settled({ stopped: true, dropped: false });
    const size = trainer.nextRolloutSize();
    const evaluates = !startEvaluation && (trainer.episode + size) % eval_interval === 0;
    const restore = evaluates ? trainer.snapshot() : null;
    const restoreLog = evaluates ? log.snapshot() : null;
    const last = await trainer.iterateUntil(size, {
      shouldStop: hooks.shouldStop,
      yieldMs: hooks.yieldMs,
    });
    if (last === null) return await settled({ stopped: true, dropped: true });
    log.record(last);
    const ep = trainer.episode;
    if (ep % eval_interval === 0 && startEvaluation) {
      const from = pending.at(-1)?.entry.episode;
      const entry = log.entry(
        last,
        { heldout: { return_mean: NaN }, sft_heldout: sftHeldout },
        from,
      );
      const p: Pending = {
        entry,
        captured: hooks.capture?.(trainer),
        result: startEvaluation(intervalEvalOptions(trainer, trainer.model)),
        done: null,
      };
      p.result.then((r) => (p.done = r), () => {});
      pending.push(p);
      // at most two behind: the evaluations must not fall ever further back
      while (pending.length > MAX_PENDING) {
        await finishDone(false);
        if (pending.length > MAX_PENDING) await pending[0].result;
      }
    } else if (ep % eval_interval === 0) {
      const result: EvalResult | null = await evaluateHere(
        intervalEvalOptions(trainer, trainer.model),
        hooks,
      );
      if (result === null) {
        // stopped during the evaluation: back to the state before this iteration
        restore!();
        restoreLog!();
        return { stopped: true, dropped: true };
      }
      const entry = log.entry(last, { heldout: { return_mean: NaN }, sft_heldout: sftHeldout });
      await finish(entry, result.summary, undefined);
    }
    await finishDone(false);
    if (ep % save_interval === 0) {
      await finishDone(true);
      await hooks.onCheckpoint(trainer, ep);
    }
    hooks.onIteration?.(trainer, last);
    // Give signal listeners (Ctrl-C) a turn.
    await yieldToEventLoop();
    if (hooks.shouldStop()) {
      return await settled({ stopped: trainer.episode < episodes, dropped: false });
    }
  }
  return await settled({ stopped: false, dropped: false });
}

// Pipelined evaluations started and not yet entered, at most (the newest aside).
const MAX_PENDING = 2;

// A pipelined evaluation: its entry (heldout filled in when done), the state `capture`
// took for best.pt, and its result.
interface Pending {
  entry: MetricsEntry;
  captured: unknown;
  result: Promise<EvalResult>;
  done: EvalResult | null;
}
