/**
 * The two trainable heads on top of the frozen SFT planner's encoded state z:
 *
 * - delta head (the policy mean): in -> hidden -> ReLU -> hidden -> ReLU -> 2H, plus a
 *   state-independent `log_std` [H, 2];
 * - value head: in -> hidden -> ReLU -> 1.
 *
 * Parameter names and shapes are the PyTorch state_dict's, so checkpoints map 1:1.
 *
 * @module
 */

import { linearDefaultInit, xavierUniformInit } from "./init.ts";
import {
  linearBackward,
  linearBackwardRelu,
  linearForward,
  type LinearLayer,
  linearLayer,
  linearReluForward,
} from "./layers.ts";
import { ParamSet } from "./params.ts";
import { ActorCriticCache } from "./actor_critic_cache.ts";
import { type ActorCriticOptions, checkInputScale } from "./actor_critic_options.ts";
import { isPowerOfTwo } from "./power_of_two.ts";
import type { ObsNormalizer } from "./obs_normalizer.ts";

export { ActorCriticCache } from "./actor_critic_cache.ts";
export { isPowerOfTwo, scaleByFactors } from "./power_of_two.ts";
export type { ActorCriticOptions } from "./actor_critic_options.ts";

/**
 * Delta head (Gaussian policy mean + log_std) and value head, with their parameters in
 * two {@linkcode ParamSet}s named as the PyTorch state_dicts.
 *
 * Init: hidden layers as `torch.nn.Linear`'s default, the last delta layer
 * xavier-uniform with gain 0.01 and zero bias (the initial delta is ≈ 0), log_std =
 * `initLogStd`. All draws come from `rng` in parameter order, delta head first.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(42) });
 * const obs = new Float64Array(3 * 41);
 * const mean = new Float64Array(3 * 40);
 * const value = new Float64Array(3);
 * model.act(obs, 3, mean, value);
 * ```
 */
export class ActorCritic {
  /** observation size */
  readonly inDim: number;
  /** hidden width of both heads */
  readonly hidden: number;
  /** number of waypoints H (the first dim of `actionShape`) */
  readonly horizon: number;
  /** shape of log_std and of one action: [H, 2] for driving */
  readonly actionShape: readonly number[];
  /** product of `actionShape` (2H for driving: (dx, dy) per waypoint) */
  readonly actionDim: number;
  /** rows per inference chunk */
  readonly maxBatch: number;
  /** log_std [H,2], net.0 [hidden,in], net.2 [hidden,hidden], net.4 [2H,hidden] (+ biases) */
  readonly delta: ParamSet;
  /** net.0 [hidden,in], net.2 [1,hidden] (+ biases) */
  readonly value: ParamSet;
  /**
   * (in) divisors s of the observation, or null: both heads' net.0 see z / s. Each s is a
   * power of two, so net.0 with weight W on z / s computes bit for bit what weight W / s
   * computes on raw z ({@linkcode foldInputScale}): the scale changes the init and the
   * optimiser's geometry, not the function a set of weights stands for.
   */
  readonly inputScale: Float64Array | null;
  /**
   * The value head outputs valueScale · net(z), a power of two: the value reaches the
   * size of the returns in few Adam steps. Folds into net.2 likewise.
   */
  readonly valueScale: number;
  /**
   * The running observation normaliser, or null. The inference methods (`act`,
   * `actMean`, `values`) take the raw observation and pass it through it (its statistics
   * as they are: they never change them); `forward` and `backward` take the heads' input,
   * the normalised observation as the rollout buffer stores it
   * ({@linkcode ActorCritic.normalizeObs}). Applied before `inputScale`; checkpoints store
   * it as `obs_rms` beside the heads, which take its output.
   */
  readonly obsNorm: ObsNormalizer | null;

  readonly #delta0: LinearLayer;
  readonly #delta2: LinearLayer;
  readonly #delta4: LinearLayer;
  readonly #value0: LinearLayer;
  readonly #value2: LinearLayer;
  readonly #scratch: ActorCriticCache;

  /** Builds and initialises both heads (see the class doc for the init). */
  constructor(opts: ActorCriticOptions) {
    const { inDim, hidden, rng } = opts;
    const actionShape = opts.actionShape ?? [opts.horizon as number, 2];
    const dims = Object.fromEntries(actionShape.map((d, i) => [`actionShape[${i}]`, d]));
    for (const [key, v] of Object.entries({ inDim, hidden, ...dims })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`ActorCritic: ${key} must be a positive integer, got ${v}`);
      }
    }
    if (actionShape.length === 0) throw new RangeError("ActorCritic: actionShape is empty");
    this.inDim = inDim;
    this.hidden = hidden;
    this.horizon = actionShape[0];
    this.actionShape = Object.freeze([...actionShape]);
    this.actionDim = actionShape.reduce((p, d) => p * d, 1);
    this.maxBatch = opts.maxBatch ?? 256;
    this.inputScale = opts.inputScale ? checkInputScale(opts.inputScale, inDim) : null;
    this.valueScale = opts.valueScale ?? 1;
    this.obsNorm = opts.obsNorm ?? null;
    if (this.obsNorm !== null && this.obsNorm.dim !== inDim) {
      throw new RangeError(
        `ActorCritic: obsNorm has ${this.obsNorm.dim} features, the input has ${inDim}`,
      );
    }
    if (!isPowerOfTwo(this.valueScale)) {
      throw new RangeError(
        `ActorCritic: valueScale must be a power of two, got ${this.valueScale}`,
      );
    }
    const actionDim = this.actionDim;

    this.delta = new ParamSet([
      { name: "log_std", shape: [...actionShape] },
      { name: "net.0.weight", shape: [hidden, inDim] },
      { name: "net.0.bias", shape: [hidden] },
      { name: "net.2.weight", shape: [hidden, hidden] },
      { name: "net.2.bias", shape: [hidden] },
      { name: "net.4.weight", shape: [actionDim, hidden] },
      { name: "net.4.bias", shape: [actionDim] },
    ]);
    this.value = new ParamSet([
      { name: "net.0.weight", shape: [hidden, inDim] },
      { name: "net.0.bias", shape: [hidden] },
      { name: "net.2.weight", shape: [1, hidden] },
      { name: "net.2.bias", shape: [1] },
    ]);
    this.#delta0 = linearLayer(this.delta, "net.0");
    this.#delta2 = linearLayer(this.delta, "net.2");
    this.#delta4 = linearLayer(this.delta, "net.4");
    this.#value0 = linearLayer(this.value, "net.0");
    this.#value2 = linearLayer(this.value, "net.2");
    this.#scratch = new ActorCriticCache(this, this.maxBatch);

    this.delta.view("log_std").fill(Math.fround(opts.initLogStd ?? 0));
    linearDefaultInit(this.#delta0.weight, this.#delta0.bias, { fanIn: inDim, rng });
    linearDefaultInit(this.#delta2.weight, this.#delta2.bias, { fanIn: hidden, rng });
    xavierUniformInit(this.#delta4.weight, { fanIn: hidden, fanOut: actionDim, gain: 0.01, rng });
    this.#delta4.bias.fill(0);
    linearDefaultInit(this.#value0.weight, this.#value0.bias, { fanIn: inDim, rng });
    linearDefaultInit(this.#value2.weight, this.#value2.bias, { fanIn: hidden, rng });
  }

  /**
   * Training forward of both heads on n ≤ cache.maxBatch rows, keeping activations in
   * `cache`: obs (n, in) -> cache.mean (n, 2H), cache.value (n). `obs` is the heads'
   * input: the observation after `obsNorm` (what {@linkcode ActorCritic.normalizeObs}
   * gives), the raw one without it.
   */
  forward(obs: Float64Array, n: number, cache: ActorCriticCache): void {
    this.#checkRows(obs, n, cache);
    const x = this.#scaleInput(obs, n, cache);
    this.#forwardDelta(x, n, cache);
    this.#forwardValue(x, n, cache);
  }

  /**
   * Backward of {@linkcode ActorCritic.forward} from cache.dMean and cache.dValue,
   * accumulating into `delta.grad` and `value.grad` (log_std excepted: the loss owns it).
   * Expects the cache's other gradients zeroed ({@linkcode ActorCriticCache.zeroGrad}).
   */
  backward(obs: Float64Array, n: number, cache: ActorCriticCache): void {
    this.#checkRows(obs, n, cache);
    const c = cache;
    const x = this.#fedInput(obs, c);
    this.#backwardDelta(x, n, c);
    // value head
    const vs = this.valueScale;
    for (let r = 0; r < n; r++) c.dValueOut[r] = vs * c.dValue[r];
    // (n,1) -> (n,h), then through the ReLU
    linearBackwardRelu(c.dValuePre1, c.dValueHidden1, c.dValueOut, c.valueHidden1, this.#value2, n);
    linearBackward(null, c.dValuePre1, x, this.#value0, n); // (n,h) -> params only
  }

  /**
   * The delta head alone of {@linkcode ActorCritic.forward}: `cache.mean` (and the delta
   * head's activations); the value head's part of the cache is left as it was. For a loss
   * on the mean only (the warm start's fit, the imitation term).
   */
  forwardDelta(obs: Float64Array, n: number, cache: ActorCriticCache): void {
    this.#checkRows(obs, n, cache);
    this.#forwardDelta(this.#scaleInput(obs, n, cache), n, cache);
  }

  /**
   * Backward of {@linkcode ActorCritic.forwardDelta} from `cache.dMean`, accumulating into
   * `delta.grad` (log_std excepted); the value head's gradient is left as it was. Expects
   * the cache's delta-head gradients zeroed ({@linkcode ActorCriticCache.zeroGrad}).
   */
  backwardDelta(obs: Float64Array, n: number, cache: ActorCriticCache): void {
    this.#checkRows(obs, n, cache);
    this.#backwardDelta(this.#fedInput(obs, cache), n, cache);
  }

  // what forward fed net.0 of both heads: the scaled input in the cache, or obs itself
  #fedInput(obs: Float64Array, c: ActorCriticCache): Float64Array {
    return this.inputScale ? c.input : obs;
  }

  // the delta head's backward from c.dMean; x is what forward fed net.0
  #backwardDelta(x: Float64Array, n: number, c: ActorCriticCache): void {
    // delta head, last layer first
    // (n,2H) -> (n,h), then through the ReLU
    linearBackwardRelu(c.dDeltaPre2, c.dDeltaHidden2, c.dMean, c.deltaHidden2, this.#delta4, n);
    // (n,h) -> (n,h), then through the ReLU
    linearBackwardRelu(
      c.dDeltaPre1,
      c.dDeltaHidden1,
      c.dDeltaPre2,
      c.deltaHidden1,
      this.#delta2,
      n,
    );
    linearBackward(null, c.dDeltaPre1, x, this.#delta0, n); // (n,h) -> params only
  }

  /** Zeroes the gradients of both heads. */
  zeroGrad(): void {
    this.delta.zeroGrad();
    this.value.zeroGrad();
  }

  /**
   * How parameter `name` of `set` (`this.delta` or `this.value`) is stored: the
   * factors f, one per entry of its last dimension, with stored = f · held, for heads
   * that act on the raw observation and output the value itself (the PyTorch
   * contract); null when stored as held. net.0 weights get 1 / inputScale, the value
   * head's net.2 valueScale. Apply with {@linkcode scaleByFactors}.
   */
  storedFactors(set: ParamSet, name: string): Float64Array | null {
    if (name === "net.0.weight" && this.inputScale !== null) {
      return this.inputScale.map((s) => 1 / s);
    }
    if (set === this.value && name.startsWith("net.2.") && this.valueScale !== 1) {
      return new Float64Array([this.valueScale]);
    }
    return null;
  }

  /**
   * Inference, no gradient state: obs (n, in) -> meanOut (n, 2H), valueOut (n); obs is
   * the raw observation (`obsNorm`, if any, is applied).
   * Any n; rows go through in chunks of `maxBatch`. A row's result does not depend on
   * n or on the other rows.
   */
  act(obs: Float64Array, n: number, meanOut: Float64Array, valueOut: Float64Array): void {
    this.#checkInference(obs, n, { valueOut, meanOut });
    const s = this.#scratch;
    const { inDim, actionDim, maxBatch } = this;
    for (let start = 0; start < n; start += maxBatch) {
      const rows = Math.min(maxBatch, n - start);
      // Whole batch in one chunk (the rollout case) needs no view of obs.
      const raw = n <= maxBatch ? obs : obs.subarray(start * inDim, (start + rows) * inDim);
      const chunk = this.#inferenceInput(raw, rows, s);
      this.#forwardDelta(chunk, rows, s);
      this.#forwardValue(chunk, rows, s);
      const meanStart = start * actionDim;
      for (let i = 0; i < rows * actionDim; i++) meanOut[meanStart + i] = s.mean[i];
      for (let i = 0; i < rows; i++) valueOut[start + i] = s.value[i];
    }
  }

  /**
   * Delta head's mean only (no value head): obs (n, in) -> meanOut (n, 2H), any n, each
   * row bit for bit what {@linkcode ActorCritic.act} gives it.
   */
  actMean(obs: Float64Array, n: number, meanOut: Float64Array): void {
    this.#checkInference(obs, n, { meanOut });
    const s = this.#scratch;
    const { inDim, actionDim, maxBatch } = this;
    for (let start = 0; start < n; start += maxBatch) {
      const rows = Math.min(maxBatch, n - start);
      const raw = n <= maxBatch ? obs : obs.subarray(start * inDim, (start + rows) * inDim);
      this.#forwardDelta(this.#inferenceInput(raw, rows, s), rows, s);
      meanOut.set(s.mean.subarray(0, rows * actionDim), start * actionDim);
    }
  }

  /** Value head only: obs (n, in) -> valueOut (n), any n. */
  values(obs: Float64Array, n: number, valueOut: Float64Array): void {
    this.#checkInference(obs, n, { valueOut });
    const s = this.#scratch;
    const { inDim, maxBatch } = this;
    for (let start = 0; start < n; start += maxBatch) {
      const rows = Math.min(maxBatch, n - start);
      const raw = n <= maxBatch ? obs : obs.subarray(start * inDim, (start + rows) * inDim);
      this.#forwardValue(this.#inferenceInput(raw, rows, s), rows, s);
      for (let i = 0; i < rows; i++) valueOut[start + i] = s.value[i];
    }
  }

  /**
   * The heads' input of observations obs (n, in): `obsNorm` applied into `out`
   * (returned), or `obs` itself when there is no normaliser.
   */
  normalizeObs(obs: Float64Array, n: number, out: Float64Array): Float64Array {
    if (this.obsNorm === null) return obs;
    this.obsNorm.normalize(obs, n, out);
    return out;
  }

  // The raw observation through obsNorm (into c.input) and the input scale.
  #inferenceInput(obs: Float64Array, n: number, c: ActorCriticCache): Float64Array {
    if (this.obsNorm === null) return this.#scaleInput(obs, n, c);
    this.obsNorm.normalize(obs, n, c.input);
    return this.#scaleInput(c.input, n, c);
  }

  // z / inputScale into c.input (returned; obs may be c.input), or obs itself when there
  // is no scale.
  #scaleInput(obs: Float64Array, n: number, c: ActorCriticCache): Float64Array {
    const scale = this.inputScale;
    if (scale === null) return obs;
    const d = this.inDim, out = c.input;
    for (let r = 0; r < n; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) out[o + j] = obs[o + j] / scale[j];
    }
    return out;
  }

  #forwardDelta(obs: Float64Array, n: number, c: ActorCriticCache): void {
    linearReluForward(c.deltaPre1, c.deltaHidden1, obs, this.#delta0, n); // (n,in) -> (n,h)
    linearReluForward(c.deltaPre2, c.deltaHidden2, c.deltaHidden1, this.#delta2, n); // (n,h) -> (n,h)
    linearForward(c.mean, c.deltaHidden2, this.#delta4, n); // (n,h) -> (n,2H), no squashing
  }

  #forwardValue(obs: Float64Array, n: number, c: ActorCriticCache): void {
    linearReluForward(c.valuePre1, c.valueHidden1, obs, this.#value0, n); // (n,in) -> (n,h)
    linearForward(c.value, c.valueHidden1, this.#value2, n); // (n,h) -> (n,1)
    const vs = this.valueScale;
    if (vs !== 1) { for (let r = 0; r < n; r++) c.value[r] *= vs; }
  }

  // n rows of obs, and room for them in whichever outputs the call fills.
  #checkInference(
    obs: Float64Array,
    n: number,
    out: { valueOut?: Float64Array; meanOut?: Float64Array },
  ): void {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`bad row count ${n}`);
    if (obs.length < n * this.inDim) {
      throw new RangeError(`obs holds ${obs.length} numbers, need ${n} x ${this.inDim}`);
    }
    const { valueOut, meanOut } = out;
    if (valueOut && valueOut.length < n) {
      throw new RangeError(`valueOut holds ${valueOut.length}, need ${n}`);
    }
    if (meanOut && meanOut.length < n * this.actionDim) {
      throw new RangeError(
        `meanOut holds ${meanOut.length} numbers, need ${n} x ${this.actionDim}`,
      );
    }
  }

  #checkRows(obs: Float64Array, n: number, cache: ActorCriticCache): void {
    if (!Number.isInteger(n) || n < 0 || n > cache.maxBatch) {
      throw new RangeError(`batch of ${n} rows does not fit a cache of ${cache.maxBatch}`);
    }
    if (obs.length < n * this.inDim) {
      throw new RangeError(`obs holds ${obs.length} numbers, need ${n} x ${this.inDim}`);
    }
  }
}
