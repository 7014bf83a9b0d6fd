/**
 * Checkpoints taken at one moment and written at another: `best.pt`, taken at each new
 * best and written with the next periodic checkpoint, and the state of an episode whose
 * (pipelined) evaluation ends after training went on.
 *
 * @module
 */

import { writePt } from "../io/mod.ts";
import type { PtDict } from "../io/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import { putRunLog, trainerCheckpoint } from "./checkpoint.ts";
import type { CheckpointOptions } from "./checkpoint.ts";
import type { RunLog } from "./run_log.ts";

/**
 * A checkpoint taken at one episode and completed later with the run's log, cut back to
 * that episode ({@linkcode captureCheckpoint}).
 */
export type CapturedCheckpoint = (log: RunLog) => PtDict;

/**
 * The checkpoint {@linkcode trainerCheckpoint} gives now, completed later: the trainer's
 * part is copied now, the log's when the returned function is called, cut back to the
 * episode of now (the histories, and the metrics entries up to it). For `best.pt` when
 * an evaluation ends after training went on.
 *
 * @example
 * ```ts ignore
 * const later = captureCheckpoint(trainer, { extra });
 * // ... training goes on, the evaluation of that episode ends, log.best is set ...
 * await writePt("best.pt", later(log));
 * ```
 */
export function captureCheckpoint(
  trainer: Trainer,
  opts: { extra?: Record<string, unknown> } = {},
): CapturedCheckpoint {
  const episode = trainer.episode;
  const root = trainerCheckpoint(trainer, { extra: opts.extra });
  return (log) => {
    const s = log.state();
    putRunLog(root, {
      rewards: s.rewards.slice(0, episode),
      lengths: s.lengths.slice(0, episode),
      successes: s.successes.slice(0, episode),
      metrics: s.metrics.filter((m) => m.episode <= episode),
      best: s.best,
      base: s.base,
    });
    return root;
  };
}

/**
 * A checkpoint taken now (a copy of the state) and written to `path` later: `best.pt`,
 * taken at each new best of a run and written with the next periodic checkpoint, at a
 * stop and at the end, rather than at each of the default run's 30-odd new bests.
 *
 * @example
 * ```ts ignore
 * const best = new DeferredCheckpoint("out/run/best.pt");
 * await best.take(trainer, { log });
 * await best.flush(); // writes it, if one was taken since the last flush
 * ```
 */
export class DeferredCheckpoint {
  #pending: PtDict | null = null;

  /** Where {@linkcode DeferredCheckpoint.flush} writes. */
  constructor(readonly path: string) {}

  /** Takes the checkpoint of `trainer` now (replacing one not yet written). */
  take(trainer: Trainer, opts: CheckpointOptions = {}): Promise<void> {
    this.#pending = trainerCheckpoint(trainer, opts);
    return Promise.resolve();
  }

  /** Takes `checkpoint` (built already) instead (replacing one not yet written). */
  put(checkpoint: PtDict): void {
    this.#pending = checkpoint;
  }

  /** Writes the checkpoint taken last, atomically, if it is not written yet. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) await writePt(this.path, pending);
  }
}
