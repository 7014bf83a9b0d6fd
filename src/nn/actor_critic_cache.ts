/**
 * The activations and gradients `ActorCritic.forward` and
 * `ActorCritic.backward` keep, for up to a batch of rows.
 *
 * @module
 */

/**
 * Activations kept by a forward pass for the backward pass, and their gradients,
 * for up to `maxBatch` rows. Allocated once; rows beyond the current n are stale.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * import { ActorCritic } from "./heads.ts";
 * const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(0) });
 * const cache = new ActorCriticCache(model, 64);
 * model.forward(new Float64Array(64 * 41), 64, cache); // cache.mean (64, 40), cache.value (64)
 * ```
 */
export class ActorCriticCache {
  /** most rows one pass may hold */
  readonly maxBatch: number;
  /** hidden width of both heads */
  readonly hidden: number;
  /** 2H */
  readonly actionDim: number;
  /** (n, hidden) delta head net.0 output, before ReLU */
  readonly deltaPre1: Float64Array;
  /** (n, hidden) after ReLU */
  readonly deltaHidden1: Float64Array;
  /** (n, hidden) delta head net.2 output, before ReLU */
  readonly deltaPre2: Float64Array;
  /** (n, hidden) after ReLU */
  readonly deltaHidden2: Float64Array;
  /** (n, 2H) policy mean, the net.4 output */
  readonly mean: Float64Array;
  /** (n, hidden) value head net.0 output, before ReLU */
  readonly valuePre1: Float64Array;
  /** (n, hidden) after ReLU */
  readonly valueHidden1: Float64Array;
  /** (n) state values */
  readonly value: Float64Array;
  /** (n, hidden) ∂loss/∂deltaPre1 */
  readonly dDeltaPre1: Float64Array;
  /** (n, hidden) ∂loss/∂deltaHidden1 */
  readonly dDeltaHidden1: Float64Array;
  /** (n, hidden) ∂loss/∂deltaPre2 */
  readonly dDeltaPre2: Float64Array;
  /** (n, hidden) ∂loss/∂deltaHidden2 */
  readonly dDeltaHidden2: Float64Array;
  /** (n, 2H) ∂loss/∂mean, written by the loss */
  readonly dMean: Float64Array;
  /** (n, hidden) ∂loss/∂valuePre1 */
  readonly dValuePre1: Float64Array;
  /** (n, hidden) ∂loss/∂valueHidden1 */
  readonly dValueHidden1: Float64Array;
  /** (n) ∂loss/∂value, written by the loss */
  readonly dValue: Float64Array;
  /** (n, in) the scaled observation net.0 saw, when the model has an input scale */
  readonly input: Float64Array;
  /** (n) ∂loss/∂(value net.2 output) = valueScale · dValue */
  readonly dValueOut: Float64Array;

  /**
   * Allocates every buffer for `maxBatch` rows.
   *
   * @param dims the model's sizes (an `ActorCritic` will do)
   * @param maxBatch most rows one pass may hold
   */
  constructor(dims: { inDim: number; hidden: number; actionDim: number }, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    const { inDim, hidden, actionDim } = dims;
    const rows = (width: number) => new Float64Array(maxBatch * width);
    this.maxBatch = maxBatch;
    this.hidden = hidden;
    this.actionDim = actionDim;
    this.deltaPre1 = rows(hidden);
    this.deltaHidden1 = rows(hidden);
    this.deltaPre2 = rows(hidden);
    this.deltaHidden2 = rows(hidden);
    this.mean = rows(actionDim);
    this.valuePre1 = rows(hidden);
    this.valueHidden1 = rows(hidden);
    this.value = rows(1);
    this.dDeltaPre1 = rows(hidden);
    this.dDeltaHidden1 = rows(hidden);
    this.dDeltaPre2 = rows(hidden);
    this.dDeltaHidden2 = rows(hidden);
    this.dMean = rows(actionDim);
    this.dValuePre1 = rows(hidden);
    this.dValueHidden1 = rows(hidden);
    this.dValue = rows(1);
    this.input = rows(inDim);
    this.dValueOut = rows(1);
  }

  /** Zeroes the activation gradients of the first n rows (they accumulate). */
  zeroGrad(n: number): void {
    const h = this.hidden;
    const a = this.actionDim;
    this.dDeltaPre1.fill(0, 0, n * h);
    this.dDeltaHidden1.fill(0, 0, n * h);
    this.dDeltaPre2.fill(0, 0, n * h);
    this.dDeltaHidden2.fill(0, 0, n * h);
    this.dMean.fill(0, 0, n * a);
    this.dValuePre1.fill(0, 0, n * h);
    this.dValueHidden1.fill(0, 0, n * h);
    this.dValue.fill(0, 0, n);
  }
}
