/**
 * The trainer's rollout buffers: one row per env step (row = env · maxSteps + t), GAE
 * per episode and advantage normalisation over the rollout, minibatch gathering, the
 * rollout's summary numbers, and the PPO epochs over it. Every array is allocated once.
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import { UserError } from "../errors.ts";
import { computeGae } from "./gae.ts";
import type { MinibatchStats, PpoBatch, PpoLearner } from "./ppo_update.ts";
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

/** Sizes of a {@linkcode RolloutBatch}. */
export interface RolloutSizes {
  /** Envs stepped in lockstep (N). */
  numEnvs: number;
  /** Longest episode (T). */
  maxSteps: number;
  /** Observation size. */
  obsDim: number;
  /** Action size. */
  actDim: number;
  /** Rows of a minibatch. */
  batchSize: number;
}

/**
 * Rollout buffers (N · T rows) and one minibatch's gather buffers.
 *
 * @example
 * ```ts
 * const batch = new RolloutBatch({ numEnvs: 4, maxSteps: 80, obsDim: 41, actDim: 40, batchSize: 64 });
 * ```
 */
export class RolloutBatch {
  /** Observations (N · T, obsDim). */
  readonly obs: Float64Array;
  /** Sampled (unclipped) deltas (N · T, actDim). */
  readonly act: Float64Array;
  /** Their joint log-probs. */
  readonly logp: Float64Array;
  /** Values predicted in the rollout. */
  readonly val: Float64Array;
  /** Rewards. */
  readonly rew: Float64Array;
  /** 1 where the episode terminated at that step. */
  readonly term: Uint8Array;
  /** 1 where it was truncated at that step. */
  readonly trunc: Uint8Array;
  /** Value of the next observation (the final one's at an episode's last step). */
  readonly nextVal: Float64Array;
  /** GAE advantages (normalised by `finish` when asked). */
  readonly adv: Float64Array;
  /** GAE returns (value targets). */
  readonly ret: Float64Array;
  /** Norm of the clipped mean delta at each step (m). */
  readonly deltaNorm: Float64Array;
  /** The valid rows after `finish`, in episode order. */
  readonly rows: Int32Array;
  /** Steps each env's episode has so far. */
  readonly segLen: Int32Array;
  /** The minibatch `gather` fills. */
  readonly minibatch: PpoBatch;
  readonly #sizes: RolloutSizes;

  /** Allocates every buffer for `sizes`. */
  constructor(sizes: RolloutSizes) {
    this.#sizes = sizes;
    const { numEnvs: n, maxSteps: t, obsDim, actDim: a, batchSize: b } = sizes;
    const cap = n * t;
    this.obs = new Float64Array(cap * obsDim);
    this.act = new Float64Array(cap * a);
    this.logp = new Float64Array(cap);
    this.val = new Float64Array(cap);
    this.rew = new Float64Array(cap);
    this.term = new Uint8Array(cap);
    this.trunc = new Uint8Array(cap);
    this.nextVal = new Float64Array(cap);
    this.adv = new Float64Array(cap);
    this.ret = new Float64Array(cap);
    this.deltaNorm = new Float64Array(cap);
    this.rows = new Int32Array(cap);
    this.segLen = new Int32Array(n);
    this.minibatch = {
      obs: new Float64Array(b * obsDim),
      actions: new Float64Array(b * a),
      logpOld: new Float64Array(b),
      advantages: new Float64Array(b),
      returns: new Float64Array(b),
    };
  }

  /**
   * GAE per episode of the first `count` envs, then the list of valid rows and (with
   * `normAdv`) normalised advantages; returns the number of rows.
   */
  finish(count: number, opts: { gamma: number; lam: number; normAdv: boolean }): number {
    const t = this.#sizes.maxSteps;
    const { gamma, lam } = opts;
    let rows = 0;
    for (let i = 0; i < count; i++) {
      const start = i * t, len = this.segLen[i];
      // next value of step k is the value of step k + 1 within the episode
      for (let k = start; k < start + len - 1; k++) this.nextVal[k] = this.val[k + 1];
      computeGae({
        rewards: this.rew.subarray(start, start + len),
        values: this.val.subarray(start, start + len),
        nextValues: this.nextVal.subarray(start, start + len),
        terminated: this.term.subarray(start, start + len),
        truncated: this.trunc.subarray(start, start + len),
        gamma,
        lam,
        n: len,
        advantagesOut: this.adv.subarray(start, start + len),
        returnsOut: this.ret.subarray(start, start + len),
      });
      for (let k = 0; k < len; k++) this.rows[rows++] = start + k;
    }
    if (opts.normAdv && rows > 1) {
      let sum = 0;
      for (let k = 0; k < rows; k++) sum += this.adv[this.rows[k]];
      const mean = sum / rows;
      let ss = 0;
      for (let k = 0; k < rows; k++) {
        const d = this.adv[this.rows[k]] - mean;
        ss += d * d;
      }
      // unbiased std, as torch.Tensor.std
      const std = Math.sqrt(ss / (rows - 1));
      for (let k = 0; k < rows; k++) {
        const r = this.rows[k];
        this.adv[r] = (this.adv[r] - mean) / (std + 1e-8);
      }
    }
    return rows;
  }

  /** Copies rows `idx[start .. start + m)` into `minibatch` (contiguous). */
  gather(idx: Int32Array, opts: { start: number; m: number }): PpoBatch {
    const { obsDim: od, actDim: a } = this.#sizes;
    const mb = this.minibatch;
    for (let k = 0; k < opts.m; k++) {
      const r = idx[opts.start + k];
      mb.obs.set(this.obs.subarray(r * od, (r + 1) * od), k * od);
      mb.actions.set(this.act.subarray(r * a, (r + 1) * a), k * a);
      mb.logpOld[k] = this.logp[r];
      mb.advantages[k] = this.adv[r];
      mb.returns[k] = this.ret[r];
    }
    return mb;
  }

  /** 1 − Var(returns − values) / Var(returns) over the first `rows` rows (0 when Var = 0). */
  explainedVariance(rows: number): number {
    let sr = 0, sd = 0;
    for (let k = 0; k < rows; k++) {
      const r = this.rows[k];
      sr += this.ret[r];
      sd += this.ret[r] - this.val[r];
    }
    const mr = sr / rows, md = sd / rows;
    let vr = 0, vd = 0;
    for (let k = 0; k < rows; k++) {
      const r = this.rows[k];
      const a = this.ret[r] - mr, d = this.ret[r] - this.val[r] - md;
      vr += a * a;
      vd += d * d;
    }
    return vr === 0 ? 0 : 1 - vd / vr;
  }

  /** Mean, max and std of the delta norms over the first `rows` rows. */
  deltaNormStats(rows: number): { mean: number; max: number; std: number } {
    let sum = 0, sumSq = 0, max = 0;
    for (let k = 0; k < rows; k++) {
      const d = this.deltaNorm[this.rows[k]];
      sum += d;
      sumSq += d * d;
      if (d > max) max = d;
    }
    const mean = sum / rows;
    const std = Math.sqrt(Math.max(0, sumSq / rows - mean * mean));
    return { mean, max, std };
  }
}

/**
 * The PPO update on a finished rollout: `update_epochs` passes over the rows shuffled
 * into minibatches of `batch_size`, stopping early when an epoch's mean KL exceeds
 * 1.5 · `target_kl`; pauses (yield) after every minibatch. Throws a `UserError` (exit
 * code 3) on a non-finite loss or gradient.
 *
 * @example
 * ```ts ignore
 * const stats = runToEnd(ppoEpochs(batch, { rows, learner, shuffleRng, ppo, episode }));
 * ```
 */
export function* ppoEpochs(batch: RolloutBatch, opts: {
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
  const idx = batch.rows.subarray(0, rows);
  const sums = {
    policyLoss: 0,
    valueLoss: 0,
    entropy: 0,
    approxKl: 0,
    clipFraction: 0,
    gradNormDelta: 0,
    gradNormValue: 0,
  };
  let minibatches = 0, epochs = 0;
  for (let epoch = 0; epoch < update_epochs; epoch++) {
    shuffleRng.shuffle(idx);
    let epochKl = 0, epochBatches = 0;
    for (let startRow = 0; startRow < rows; startRow += batch_size) {
      const m = Math.min(batch_size, rows - startRow);
      const mb = batch.gather(idx, { start: startRow, m });
      const s: MinibatchStats = learner.update(mb, m);
      if (!Number.isFinite(s.loss) || !Number.isFinite(s.gradNormDelta + s.gradNormValue)) {
        throw new UserError(
          `training diverged: non-finite loss or gradient in the update after episode ${opts.episode} (epoch ${
            epoch + 1
          })`,
          { exitCode: 3 },
        );
      }
      sums.policyLoss += s.policyLoss;
      sums.valueLoss += s.valueLoss;
      sums.entropy += s.entropy;
      sums.approxKl += s.approxKl;
      sums.clipFraction += s.clipFraction;
      sums.gradNormDelta += s.gradNormDelta;
      sums.gradNormValue += s.gradNormValue;
      epochKl += s.approxKl;
      epochBatches++;
      minibatches++;
      yield;
    }
    epochs++;
    if (epochKl / epochBatches > 1.5 * target_kl) break;
  }
  return {
    policy_loss: sums.policyLoss / minibatches,
    value_loss: sums.valueLoss / minibatches,
    entropy: sums.entropy / minibatches,
    kl: sums.approxKl / minibatches,
    clip_fraction: sums.clipFraction / minibatches,
    explained_variance: batch.explainedVariance(rows),
    grad_norm_delta: sums.gradNormDelta / minibatches,
    grad_norm_value: sums.gradNormValue / minibatches,
    epochs,
    minibatches,
  };
}
