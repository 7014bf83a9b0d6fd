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

/** log2 of {@linkcode ROWS_PER_CHUNK}. */
const CHUNK_SHIFT = 12;

/** Rows per chunk of {@linkcode ImitationRows}: 4096. */
export const ROWS_PER_CHUNK = 1 << CHUNK_SHIFT;

/**
 * Observation and label rows, float32 (rows of `obsDim` and `actionDim` numbers), in chunks
 * of {@linkcode ROWS_PER_CHUNK} rows: row k is row k mod ROWS_PER_CHUNK of chunk
 * floor(k / ROWS_PER_CHUNK). A growing set adds chunks and copies nothing.
 */
export interface ImitationRows {
  obs: Float32Array[];
  label: Float32Array[];
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
  readonly #picked: Int32Array;

  /** For minibatches of up to `maxBatch` rows. */
  constructor(rows: ImitationRows, opts: { coef: number; seed: number; maxBatch: number }) {
    if (rows.rows < 1) throw new RangeError("ImitationTerm: no rows");
    this.#rows = rows;
    this.coef = opts.coef;
    this.#seed = opts.seed;
    this.#raw = new Float64Array(opts.maxBatch * rows.obsDim);
    this.#x = new Float64Array(opts.maxBatch * rows.obsDim);
    this.#picked = new Int32Array(opts.maxBatch);
  }

  /**
   * Adds the term's gradient on n rows (chosen for optimiser step `step`) to
   * `model.delta.grad`, through `cache` (its activations are overwritten); returns the
   * term's value.
   */
  addGradient(model: ActorCritic, cache: ActorCriticCache, n: number, step: number): number {
    const picked = this.#picked.subarray(0, n);
    for (let r = 0; r < n; r++) picked[r] = hashSeeds(this.#seed, step, r) % this.#rows.rows;
    const scale = (2 * this.coef) / n;
    const rows = this.#rows, raw = this.#raw, x = this.#x;
    const sq = addSquaredErrorGradient(model, cache, { rows, picked, scale, raw, x });
    return (this.coef * sq) / n;
  }
}

/**
 * The delta head's mean on rows `picked` of `rows` (their observations through the model's
 * normaliser, via `raw` and `x`, each room for the picked rows), and `scale` times the
 * gradient of its squared error against their labels added to `model.delta.grad`
 * (the delta head alone, through `cache`, whose delta-head activations are overwritten; the
 * value head and its gradient are not touched). Returns the sum of the squared errors.
 *
 * @example
 * ```ts ignore
 * const sq = addSquaredErrorGradient(model, cache, { rows, picked, scale: 2 / n, raw, x });
 * ```
 */
export function addSquaredErrorGradient(
  model: ActorCritic,
  cache: ActorCriticCache,
  o: { rows: ImitationRows; picked: Int32Array; scale: number; raw: Float64Array; x: Float64Array },
): number {
  const { obs, label, obsDim: d, actionDim: a } = o.rows;
  const { picked, scale, raw } = o, n = picked.length;
  const mask = ROWS_PER_CHUNK - 1;
  for (let r = 0; r < n; r++) {
    const k = picked[r], chunk = obs[k >>> CHUNK_SHIFT], at = (k & mask) * d;
    for (let j = 0; j < d; j++) raw[r * d + j] = chunk[at + j];
  }
  const x = model.normalizeObs(raw, n, o.x);
  cache.zeroGrad(n);
  model.forwardDelta(x, n, cache);
  let sq = 0;
  for (let r = 0; r < n; r++) {
    const labels = label[picked[r] >>> CHUNK_SHIFT];
    for (let j = 0; j < a; j++) {
      const err = cache.mean[r * a + j] - labels[(picked[r] & mask) * a + j];
      sq += err * err;
      cache.dMean[r * a + j] = scale * err;
    }
  }
  model.backwardDelta(x, n, cache);
  return sq;
}
