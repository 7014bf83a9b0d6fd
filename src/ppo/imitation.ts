/**
 * An imitation term kept in the PPO loss: `coef` · the squared error of the delta head's
 * mean against a label, summed over the action and averaged over rows, on rows of a fixed
 * set (the warm start's steps: an observation and the expert's correction of the base
 * plan there). Each minibatch takes as many rows as it has, chosen by a hash of (seed, the
 * optimiser's step count, row): a resumed run draws the same rows with no RNG to restore.
 *
 * @module
 */

import { hashSeeds } from "../math/mod.ts";
import type { ActorCritic, ActorCriticCache } from "../nn/mod.ts";

/** Observation and label rows, float32 (rows of `obsDim` and `actionDim` numbers). */
export interface ImitationRows {
  obs: Float32Array;
  label: Float32Array;
  rows: number;
  obsDim: number;
  actionDim: number;
}

/**
 * The term on a set of rows, with its weight and the seed of its row choice.
 *
 * @example
 * ```ts ignore
 * learner.imitation = new ImitationTerm(rows, { coef: 1, seed: 42, maxBatch: 64 });
 * ```
 */
export class ImitationTerm {
  readonly coef: number;
  readonly #rows: ImitationRows;
  readonly #seed: number;
  readonly #raw: Float64Array;
  readonly #x: Float64Array;

  /** For minibatches of up to `maxBatch` rows. */
  constructor(rows: ImitationRows, opts: { coef: number; seed: number; maxBatch: number }) {
    if (rows.rows < 1) throw new RangeError("ImitationTerm: no rows");
    this.#rows = rows;
    this.coef = opts.coef;
    this.#seed = opts.seed;
    this.#raw = new Float64Array(opts.maxBatch * rows.obsDim);
    this.#x = new Float64Array(opts.maxBatch * rows.obsDim);
  }

  /**
   * Adds the term's gradient on n rows (chosen for optimiser step `step`) to
   * `model.delta.grad`, through `cache` (its activations are overwritten); returns the
   * term's value.
   */
  addGradient(model: ActorCritic, cache: ActorCriticCache, n: number, step: number): number {
    const { obs, label, rows, obsDim: d, actionDim: a } = this.#rows;
    const raw = this.#raw, picked = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      const k = hashSeeds(this.#seed, step, r) % rows;
      picked[r] = k;
      for (let j = 0; j < d; j++) raw[r * d + j] = obs[k * d + j];
    }
    const x = model.normalizeObs(raw, n, this.#x);
    cache.zeroGrad(n);
    model.forward(x, n, cache);
    let sq = 0;
    const scale = (2 * this.coef) / n;
    for (let r = 0; r < n; r++) {
      for (let j = 0; j < a; j++) {
        const err = cache.mean[r * a + j] - label[picked[r] * a + j];
        sq += err * err;
        cache.dMean[r * a + j] = scale * err;
      }
    }
    model.backward(x, n, cache);
    return (this.coef * sq) / n;
  }
}
