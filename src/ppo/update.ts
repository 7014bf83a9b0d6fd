/**
 * The PPO update on a finished rollout, as CleanRL's inner loop: `update_epochs`
 * passes over the rollout's rows shuffled into minibatches, the loss and optimiser step
 * of each (`loss.ts`), and a KL early stop. Its statistics have the names
 * `metrics.json`'s `update` entry has.
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import { UserError } from "../errors.ts";
import type { MinibatchStats, PpoLearner } from "./loss.ts";
import type { RolloutBuffer } from "./rollout_buffer.ts";
import type { PpoConfig } from "./config.ts";

/** Averages of one PPO update (all minibatches it ran). */
export interface UpdateStats {
  /** Clipped surrogate loss, −mean(min(r·A, clip(r)·A)). */
  policy_loss: number;
  /** mean((V − R)²) against the GAE returns. */
  value_loss: number;
  /** Joint entropy of the Gaussian over the action's delta components (nats). */
  entropy: number;
  /** Approximate KL(old ‖ new), mean((r − 1) − log r). */
  kl: number;
  /** Fraction of rows whose ratio r left [1 − clip_ratio, 1 + clip_ratio]. */
  clip_fraction: number;
  /** 1 − Var(R − V) / Var(R) over the rollout, V as predicted in it (0 when Var(R) = 0). */
  explained_variance: number;
  /** L2 norm of the delta head's gradient (log_std included), before clipping. */
  grad_norm_delta: number;
  /** L2 norm of the value head's gradient, before clipping. */
  grad_norm_value: number;
  /** Epochs run: fewer than `update_epochs` after a KL early stop. */
  epochs: number;
  /** Minibatch steps over all epochs. */
  minibatches: number;
}

// The minibatch statistics an update averages, in the order it sums them.
const AVERAGED = [
  "policy_loss",
  "value_loss",
  "entropy",
  "kl",
  "clip_fraction",
  "grad_norm_delta",
  "grad_norm_value",
] as const;

/**
 * The PPO update on a finished rollout: `update_epochs` passes over the rows shuffled
 * into minibatches of `batch_size`, stopping early when an epoch's mean KL exceeds
 * 1.5 · `target_kl`; pauses (yield) after every minibatch. Throws a `UserError` (exit
 * code 3) on a non-finite loss or gradient.
 *
 * @example
 * ```ts ignore
 * const stats = yield* ppoUpdate(buffer, { rows, learner, shuffleRng, ppo, episode });
 * ```
 */
export function* ppoUpdate(buffer: RolloutBuffer, opts: {
  /** Valid rows (what `finish` returned). */
  rows: number;
  /** Loss, backward and Adam step of one minibatch. */
  learner: PpoLearner;
  /** Shuffles the rows every epoch. */
  shuffleRng: Rng;
  /** `update_epochs`, `batch_size` and `target_kl`. */
  ppo: PpoConfig;
  /** Episodes done (for the divergence message). */
  episode: number;
}): Generator<void, UpdateStats, void> {
  const { rows, learner, shuffleRng } = opts;
  const { update_epochs, batch_size, target_kl } = opts.ppo;
  const idx = buffer.rows.subarray(0, rows);
  const sums = Object.fromEntries(AVERAGED.map((k) => [k, 0])) as Record<
    typeof AVERAGED[number],
    number
  >;
  let minibatches = 0, epochs = 0;
  for (let epoch = 0; epoch < update_epochs; epoch++) {
    shuffleRng.shuffle(idx);
    let epochKl = 0, epochBatches = 0;
    for (let startRow = 0; startRow < rows; startRow += batch_size) {
      const m = Math.min(batch_size, rows - startRow);
      const mb = buffer.gather(idx, { start: startRow, m });
      const s: MinibatchStats = learner.update(mb, m);
      if (!Number.isFinite(s.loss) || !Number.isFinite(s.grad_norm_delta + s.grad_norm_value)) {
        throw new UserError(
          `training diverged: non-finite loss or gradient in the update after episode ${opts.episode} (epoch ${
            epoch + 1
          })`,
          { exitCode: 3 },
        );
      }
      for (const k of AVERAGED) sums[k] += s[k];
      epochKl += s.kl;
      epochBatches++;
      minibatches++;
      yield;
    }
    epochs++;
    if (epochKl / epochBatches > 1.5 * target_kl) break;
  }
  return {
    policy_loss: sums.policy_loss / minibatches,
    value_loss: sums.value_loss / minibatches,
    entropy: sums.entropy / minibatches,
    kl: sums.kl / minibatches,
    clip_fraction: sums.clip_fraction / minibatches,
    explained_variance: buffer.explainedVariance(rows),
    grad_norm_delta: sums.grad_norm_delta / minibatches,
    grad_norm_value: sums.grad_norm_value / minibatches,
    epochs,
    minibatches,
  };
}
