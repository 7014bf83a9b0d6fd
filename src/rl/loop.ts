/**
 * The episode loop around {@linkcode Trainer}: rollouts sized to end on eval and save
 * points, a held-out evaluation and a `metrics.json` entry every `eval_interval`
 * episodes, the best policy so far, periodic checkpoints, and a clean stop on request.
 * Files are the caller's business (hooks), so this module does no I/O.
 *
 * @module
 */

import type { BestRecord, IterationResult, MetricsEntry, Trainer } from "./trainer.ts";
import { evaluatePolicy } from "../sft/mod.ts";
import type { EvalSummary } from "../sft/mod.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";

/** What the loop tells its caller, and the SFT baseline its metrics entries compare with. */
export interface LoopHooks {
  /** The SFT planner alone on the evaluation seeds ({@linkcode sftBaseline}). */
  sft: EvalSummary;
  /** A new `metrics.json` entry was appended to `trainer.metrics`. */
  onMetrics(trainer: Trainer, entry: MetricsEntry): Promise<void>;
  /** The policy now is the best so far (write `best.pt`). */
  onBest(trainer: Trainer, best: BestRecord): Promise<void>;
  /** `episode` is a multiple of `save_interval` (write `checkpoint_{episode}.pt`). */
  onCheckpoint(trainer: Trainer, episode: number): Promise<void>;
  /** After every rollout + update (progress display). */
  onIteration?(trainer: Trainer, result: IterationResult): void;
  /**
   * Polled after every iteration and about every 0.2 s inside a rollout; true stops
   * the loop at an episode boundary (a rollout in progress is dropped).
   */
  shouldStop(): boolean;
}

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
  return evaluatePolicy({
    env: trainer.env,
    planner: trainer.planner,
    model: null,
    deltaClip: trainer.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count: trainer.ppo.eval_episodes,
  }).summary;
}

/**
 * Trains until `ppo.episodes` or until `hooks.shouldStop()`; returns whether it stopped
 * early, and whether a rollout in progress was dropped for it.
 *
 * @example
 * ```ts ignore
 * const { stopped } = await trainLoop(trainer, { ...hooks, sft: sftBaseline(trainer) });
 * ```
 */
export async function trainLoop(
  trainer: Trainer,
  hooks: LoopHooks,
): Promise<{ stopped: boolean; dropped: boolean }> {
  const { sft } = hooks;
  const { episodes, eval_interval, save_interval } = trainer.ppo;
  while (trainer.episode < episodes) {
    if (hooks.shouldStop()) return { stopped: true, dropped: false };
    const last = await trainer.iterateUntil(trainer.nextRolloutSize(), {
      shouldStop: hooks.shouldStop,
    });
    if (last === null) return { stopped: true, dropped: true };
    const ep = trainer.episode;
    if (ep % eval_interval === 0) {
      const since = trainer.metrics.at(-1)?.episode ?? 0;
      const entry = trainer.metricsEntry(last, since);
      const ev = evaluatePolicy({
        env: trainer.env,
        planner: trainer.planner,
        model: trainer.model,
        deltaClip: trainer.ppo.delta_clip,
        firstSeed: HELDOUT_SEED_BASE,
        count: trainer.ppo.eval_episodes,
      }).summary;
      entry.eval_return = ev.return_mean;
      entry.eval_success_rate = ev.success_rate;
      entry.ade = ev.ade_mean;
      entry.fde = ev.fde_mean;
      entry.sft_eval_return = sft.return_mean;
      entry.sft_ade = sft.ade_mean;
      trainer.metrics.push(entry);
      await hooks.onMetrics(trainer, entry);
      const best = trainer.best;
      if (
        best === null || ev.return_mean > best.eval_return ||
        (ev.return_mean === best.eval_return && ev.ade_mean < best.ade)
      ) {
        trainer.best = { episode: ep, eval_return: ev.return_mean, ade: ev.ade_mean };
        await hooks.onBest(trainer, trainer.best);
      }
    }
    if (ep % save_interval === 0) await hooks.onCheckpoint(trainer, ep);
    hooks.onIteration?.(trainer, last);
    // Give signal listeners (Ctrl-C) a turn.
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (hooks.shouldStop()) return { stopped: trainer.episode < episodes, dropped: false };
  }
  return { stopped: false, dropped: false };
}
