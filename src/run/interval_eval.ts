/**
 * The evaluation at each eval point of a run, plugged into the schedule
 * (`schedule.ts`): {@linkcode InlineEvaluation} evaluates on this thread before training
 * goes on; {@linkcode PipelinedEvaluation} starts each evaluation on a copy of the
 * weights (in the Worker of a `ParallelEvaluator`) and enters it in episode order once
 * it is done. Both make the same entries, checkpoints and `best.pt`. Also the SFT
 * baseline those entries compare with, and an evaluation driven with turns of the event
 * loop.
 *
 * @module
 */

import { runUntil } from "../event_loop.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { IterationResult, Trainer } from "../ppo/mod.ts";
import { evaluatePolicy, evaluatePolicySteps } from "./evaluate.ts";
import type { EvaluateOptions } from "./evaluate.ts";
import type { EvalResult, EvalSummary } from "./episode_records.ts";
import type { MetricsEntry, RunLog } from "./run_log.ts";
import type { CapturedCheckpoint } from "./deferred_checkpoint.ts";

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
  return evaluatePolicy(intervalEvalOptions(trainer, null)).summary;
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
  const result = await evaluate(intervalEvalOptions(trainer, null), opts);
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
    planner: trainer.planner,
    model,
    deltaClip: trainer.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count: trainer.ppo.eval_episodes,
    makeEnv: trainer.makeEnv,
  };
}

/** What the schedule lends its {@linkcode IntervalEvaluation}: the run, and its log's entries. */
export interface ScheduledRun {
  /** The trainer; its model is the policy evaluated. */
  readonly trainer: Trainer;
  /** The run's log the entries go to. */
  readonly log: RunLog;
  /** When an evaluation on this thread stops, and how often it asks. */
  readonly until: { shouldStop: () => boolean; yieldMs?: number };
  /**
   * The `metrics.json` entry of the eval point after iteration `last`, its held-out
   * numbers still to come; it covers the episodes since episode `previous` (default: the
   * log's last entry).
   */
  entryAt(last: IterationResult, previous?: number): MetricsEntry;
  /**
   * Enters a finished evaluation: its numbers into `entry`, the entry appended to the log
   * and written, and the best record updated (`best.pt` from `captured`, taken at the
   * entry's episode, when the trainer has gone on since).
   */
  enter(entry: MetricsEntry, summary: EvalSummary, captured?: CapturedCheckpoint): Promise<void>;
}

/**
 * How the schedule evaluates the policy at each eval point (every `eval_interval`
 * episodes).
 */
export interface IntervalEvaluation {
  /** Before each iteration; `endsOnEval`: the iteration ends on an eval point. */
  beforeIteration(run: ScheduledRun, endsOnEval: boolean): void;
  /**
   * At an eval point, after iteration `last`: evaluates the policy (or starts to). False
   * when stopped during it: the trainer and the log are then back to before that
   * iteration.
   */
  evaluate(run: ScheduledRun, last: IterationResult): Promise<boolean>;
  /**
   * Enters the evaluations that are done, in episode order; with `all`, first waits for
   * every one started.
   */
  settle(run: ScheduledRun, all: boolean): Promise<void>;
}

/**
 * The evaluation of each eval point on this thread, before training goes on; a stop
 * during it drops the iteration it followed (the trainer and the log go back to before
 * it), so a checkpoint taken then resumes exactly.
 *
 * @example
 * ```ts ignore
 * await trainLoop(trainer, log, { ...hooks, evaluation: new InlineEvaluation() });
 * ```
 */
export class InlineEvaluation implements IntervalEvaluation {
  // puts the trainer and the log back to before the iteration that ends on an eval point
  #undo: (() => void) | null = null;

  /** Takes the state to go back to before an iteration that ends on an eval point. */
  beforeIteration(run: ScheduledRun, endsOnEval: boolean): void {
    if (!endsOnEval) {
      this.#undo = null;
      return;
    }
    const trainer = run.trainer.snapshot("eval point");
    const log = run.log.snapshot();
    this.#undo = () => {
      trainer();
      log();
    };
  }

  /** Evaluates the policy now and enters the result; false (and undone) when stopped. */
  async evaluate(run: ScheduledRun, last: IterationResult): Promise<boolean> {
    const options = intervalEvalOptions(run.trainer, run.trainer.model);
    let result: EvalResult | null;
    try {
      result = await evaluateHere(options, run.until);
    } catch (e) {
      this.#undo!(); // an env lost in the evaluation: the iteration is dropped, as for a stop
      throw e;
    }
    if (result === null) {
      this.#undo!();
      return false;
    }
    await run.enter(run.entryAt(last), result.summary);
    return true;
  }

  /** Nothing waits: every evaluation was entered when it was made. */
  settle(): Promise<void> {
    return Promise.resolve();
  }
}

/** Options of {@linkcode PipelinedEvaluation}. */
export interface PipelinedEvaluationOptions {
  /**
   * Starts an evaluation on a copy of the weights and returns at once (as
   * `ParallelEvaluator.start`); evaluations must resolve in the order started.
   */
  start(opts: EvaluateOptions): Promise<EvalResult>;
  /** What `best.pt` would hold now, taken at each eval point. */
  capture(trainer: Trainer): CapturedCheckpoint;
}

// Pipelined evaluations started and not yet entered, at most (the newest aside).
const MAX_PENDING = 2;

// A pipelined evaluation: its entry (heldout filled in when done), the checkpoint taken
// for best.pt, and its result.
interface Pending {
  entry: MetricsEntry;
  captured: CapturedCheckpoint;
  result: Promise<EvalResult>;
  done: EvalResult | null;
}

/**
 * Evaluations that run beside training: each starts (on a copy of the weights) at its
 * eval point and training goes on; its entry, and `best` with the checkpoint taken at
 * its episode, are made in episode order once it is done. The schedule settles every
 * started one before a checkpoint, a stop or the end, so the entries, checkpoints and
 * `best` are those of {@linkcode InlineEvaluation} (timestamps aside); a stop never drops
 * an evaluation, it waits for it. One object per run.
 *
 * @example
 * ```ts ignore
 * const evaluation = new PipelinedEvaluation({
 *   start: (o) => evaluator.start(o),
 *   capture: (t) => captureCheckpoint(t, { extra }),
 * });
 * await trainLoop(trainer, log, { ...hooks, evaluation });
 * ```
 */
export class PipelinedEvaluation implements IntervalEvaluation {
  readonly #opts: PipelinedEvaluationOptions;
  // started and not yet entered, oldest first
  readonly #pending: Pending[] = [];

  /** Evaluations started by `opts.start`, with `best.pt` taken by `opts.capture`. */
  constructor(opts: PipelinedEvaluationOptions) {
    this.#opts = opts;
  }

  /** Nothing to keep: a started evaluation is never dropped. */
  beforeIteration(): void {}

  /**
   * Starts the evaluation of the policy now, with its entry and `best.pt` candidate;
   * waits while more than two are behind, so they cannot fall ever further back.
   */
  async evaluate(run: ScheduledRun, last: IterationResult): Promise<boolean> {
    const pending = this.#pending;
    const p: Pending = {
      entry: run.entryAt(last, pending.at(-1)?.entry.episode),
      captured: this.#opts.capture(run.trainer),
      result: this.#opts.start(intervalEvalOptions(run.trainer, run.trainer.model)),
      done: null,
    };
    p.result.then((r) => (p.done = r), () => {});
    pending.push(p);
    while (pending.length > MAX_PENDING) {
      await this.settle(run, false);
      if (pending.length > MAX_PENDING) await pending[0].result;
    }
    return true;
  }

  /** Enters the evaluations done (with `all`, every one started), oldest first. */
  async settle(run: ScheduledRun, all: boolean): Promise<void> {
    const pending = this.#pending;
    while (pending.length > 0 && (all || pending[0].done !== null)) {
      const p = pending.shift()!;
      await run.enter(p.entry, (p.done ?? await p.result).summary, p.captured);
    }
  }
}
