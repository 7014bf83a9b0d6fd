/**
 * The PPO loss on one minibatch, its gradient by hand, per-head gradient clipping and
 * the Adam step. The minibatch rows are gathered (contiguous) by the caller.
 *
 * Loss = policy_loss + vfCoef · value_loss − entCoef · entropy with
 * r = exp(logp − logp_old), policy_loss = −mean(min(r·A, clip(r, 1−ε, 1+ε)·A)),
 * value_loss = mean((V − R)²), entropy = mean joint entropy. Advantages are used as
 * given (the rollout buffer's `finish` normalises them).
 *
 * @module
 */

import {
  type ActorCritic,
  ActorCriticCache,
  type Adam,
  clipGradNorm,
  gaussianEntropy,
  gaussianEntropyBackward,
  gaussianLogProb,
  gaussianLogProbBackward,
  gradNorm,
} from "../nn/mod.ts";
import type { ImitationTerm } from "./imitation.ts";

/** Coefficients of the PPO loss. */
export interface PpoLossConfig {
  /** ε of the clipped surrogate (0.2) */
  clipRatio: number;
  /** weight of the value loss (0.5) */
  vfCoef: number;
  /** weight of the entropy bonus (0.01) */
  entCoef: number;
  /** each head's gradient is clipped to this L2 norm (0.5) */
  maxGradNorm: number;
  /**
   * after each optimiser step every log_std entry above this is set to it (a projection;
   * absent: no bound)
   */
  maxLogStd?: number;
}

/** One minibatch, rows contiguous. */
export interface PpoBatch {
  /** (n, in) */
  obs: Float64Array;
  /** (n, 2H) the unclipped sampled deltas */
  actions: Float64Array;
  /** (n) joint log-prob at collection time */
  logpOld: Float64Array;
  /** (n) */
  advantages: Float64Array;
  /** (n) value targets */
  returns: Float64Array;
}

/**
 * What one minibatch update measured (norms are before clipping), named as
 * `metrics.json`'s `update` entry names their averages.
 */
export interface MinibatchStats {
  /** policy_loss + vfCoef · value_loss − entCoef · entropy */
  loss: number;
  /** −mean(min(r·A, clip(r)·A)) */
  policy_loss: number;
  /** mean((V − R)²) */
  value_loss: number;
  /** mean joint entropy */
  entropy: number;
  /** approximate KL(old ‖ new): mean((r − 1) − log r) */
  kl: number;
  /** fraction of rows with |r − 1| > ε */
  clip_fraction: number;
  /** L2 norm of the delta head's gradient (log_std included), before clipping */
  grad_norm_delta: number;
  /** L2 norm of the value head's gradient, before clipping */
  grad_norm_value: number;
}

/**
 * Forward, loss, backward and optimiser step of PPO on minibatches of up to `maxBatch`
 * rows. Every buffer is allocated in the constructor.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * import { ActorCritic, Adam } from "../nn/mod.ts";
 * const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(42) });
 * const adam = new Adam([model.delta, model.value], { lr: 3e-4, weightDecay: 1e-4 });
 * const learner = new PpoLearner(model, adam, {
 *   clipRatio: 0.2,
 *   vfCoef: 0.5,
 *   entCoef: 0.01,
 *   maxGradNorm: 0.5,
 * }, 64);
 * const n = 64;
 * const stats = learner.update({
 *   obs: new Float64Array(n * 41),
 *   actions: new Float64Array(n * 40),
 *   logpOld: new Float64Array(n).fill(-36),
 *   advantages: new Float64Array(n).fill(1),
 *   returns: new Float64Array(n),
 * }, n);
 * ```
 */
export class PpoLearner {
  /** the heads trained */
  readonly model: ActorCritic;
  /** steps both heads' parameters */
  readonly optimizer: Adam;
  /** loss coefficients (a copy of the constructor's) */
  readonly cfg: Readonly<PpoLossConfig>;
  /** most rows per minibatch */
  readonly maxBatch: number;
  /** activations of the last forward: cache.mean (n, 2H), cache.value (n), ... */
  readonly cache: ActorCriticCache;
  /** (n) joint log-probs under the current policy, from the last call */
  readonly logp: Float64Array;
  /** (n) r = exp(logp − logp_old), from the last call */
  readonly ratio: Float64Array;
  /** The bound on log_std now: `cfg.maxLogStd`, moved by a noise schedule (absent: none). */
  logStdBound: number | undefined;
  /** Kept in the loss of every minibatch (the warm start's rows), or null. */
  imitation: ImitationTerm | null = null;
  /** The delta head is held: only the value head learns (the updates after a warm start). */
  deltaFrozen = false;
  /** (n) ∂loss/∂logp */
  readonly #dLogp: Float64Array;
  readonly #logStd: Float64Array;
  readonly #dLogStd: Float64Array;

  /**
   * Allocates the activation cache and per-row buffers for `maxBatch` rows.
   *
   * @param model heads to train
   * @param optimizer Adam over `[model.delta, model.value]`
   * @param cfg loss coefficients and gradient-norm limit
   * @param maxBatch most rows a minibatch may have
   */
  constructor(model: ActorCritic, optimizer: Adam, cfg: PpoLossConfig, maxBatch: number) {
    this.model = model;
    this.optimizer = optimizer;
    this.cfg = { ...cfg };
    this.logStdBound = cfg.maxLogStd;
    this.maxBatch = maxBatch;
    this.cache = new ActorCriticCache(model, maxBatch);
    this.logp = new Float64Array(maxBatch);
    this.ratio = new Float64Array(maxBatch);
    this.#dLogp = new Float64Array(maxBatch);
    this.#logStd = model.delta.view("log_std");
    this.#dLogStd = model.delta.gradView("log_std");
  }

  /**
   * Forward, loss, backward, per-head gradient clipping and one optimiser step, then the
   * log_std bound `logStdBound` if set. Returns the minibatch's statistics (gradient norms
   * before clipping).
   */
  update(batch: PpoBatch, n: number): MinibatchStats {
    const stats = this.lossAndGrad(batch, n);
    const { model, optimizer } = this;
    if (this.imitation && !this.deltaFrozen) {
      this.imitation.addGradient(model, this.cache, n, optimizer.stepCount);
      stats.grad_norm_delta = gradNorm(model.delta);
    }
    const maxNorm = this.cfg.maxGradNorm;
    clipGradNorm(model.delta, maxNorm, { norm: stats.grad_norm_delta });
    clipGradNorm(model.value, maxNorm, { norm: stats.grad_norm_value });
    optimizer.step(this.deltaFrozen ? model.delta : undefined);
    if (this.logStdBound !== undefined) {
      // rounded as the optimiser rounds the parameters (a float32 checkpoint holds it exactly)
      const bound = this.logStdBound;
      const max = this.optimizer.float32 ? Math.fround(bound) : bound;
      const logStd = this.#logStd;
      for (let j = 0; j < logStd.length; j++) if (logStd[j] > max) logStd[j] = max;
    }
    return stats;
  }

  /**
   * Zeroes the gradients, then forward, loss and backward: leaves ∂loss/∂params in
   * `model.delta.grad` and `model.value.grad`, unclipped, and does not step.
   */
  lossAndGrad(batch: PpoBatch, n: number): MinibatchStats {
    this.#checkBatch(batch, n);
    const { model, cache } = this;
    const { clipRatio, vfCoef, entCoef } = this.cfg;
    const { obs, actions, logpOld, advantages, returns } = batch;
    const { logp, ratio } = this;
    const dLogp = this.#dLogp;
    const dValue = cache.dValue;

    model.zeroGrad();
    cache.zeroGrad(n);
    model.forward(obs, n, cache);
    gaussianLogProb(actions, cache.mean, this.#logStd, n, logp);
    const entropy = gaussianEntropy(this.#logStd);

    // Per-row loss terms and their gradients with respect to logp and V.
    const lo = 1 - clipRatio;
    const hi = 1 + clipRatio;
    let surrogateSum = 0, valueSqSum = 0, klSum = 0, clipped = 0;
    for (let r = 0; r < n; r++) {
      const logRatio = logp[r] - logpOld[r];
      const rho = Math.exp(logRatio);
      ratio[r] = rho;
      const adv = advantages[r];
      const unclippedObjective = rho * adv;
      const clippedObjective = (rho < lo ? lo : rho > hi ? hi : rho) * adv;
      if (unclippedObjective <= clippedObjective) {
        // The min picks r·A (on a tie r is inside the clip range and both sides give A).
        surrogateSum += unclippedObjective;
        dLogp[r] = -(adv * rho) / n;
      } else {
        // The clipped side is flat in r.
        surrogateSum += clippedObjective;
        dLogp[r] = 0;
      }
      const valueError = cache.value[r] - returns[r];
      valueSqSum += valueError * valueError;
      dValue[r] += (vfCoef * 2 * valueError) / n;
      klSum += rho - 1 - logRatio;
      if (Math.abs(rho - 1) > clipRatio) clipped++;
    }
    const policyLoss = -surrogateSum / n;
    const valueLoss = valueSqSum / n;

    gaussianLogProbBackward(cache.dMean, this.#dLogStd, dLogp, {
      actions,
      mean: cache.mean,
      logStd: this.#logStd,
      n,
    });
    gaussianEntropyBackward(this.#dLogStd, -entCoef);
    model.backward(obs, n, cache);

    return {
      loss: policyLoss + vfCoef * valueLoss - entCoef * entropy,
      policy_loss: policyLoss,
      value_loss: valueLoss,
      entropy,
      kl: klSum / n,
      clip_fraction: clipped / n,
      grad_norm_delta: gradNorm(model.delta),
      grad_norm_value: gradNorm(model.value),
    };
  }

  #checkBatch(batch: PpoBatch, n: number): void {
    if (!Number.isInteger(n) || n < 1 || n > this.maxBatch) {
      throw new RangeError(`PPO minibatch of ${n} rows; this learner takes 1..${this.maxBatch}`);
    }
    const { inDim, actionDim } = this.model;
    const need: Record<keyof PpoBatch, number> = {
      obs: n * inDim,
      actions: n * actionDim,
      logpOld: n,
      advantages: n,
      returns: n,
    };
    for (const key of Object.keys(need) as (keyof PpoBatch)[]) {
      if (batch[key].length < need[key]) {
        throw new RangeError(
          `PPO batch.${key} holds ${batch[key].length} numbers, need ${need[key]}`,
        );
      }
    }
  }
}
