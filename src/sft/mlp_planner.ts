/**
 * The learned SFT planner: a two-layer MLP from the encoded state z to H waypoints,
 * `Linear(in, hidden) -> ReLU -> Linear(hidden, 2H)`, with its parameters named as the
 * PyTorch `nn.Sequential` state_dict (`0.weight`, `0.bias`, `2.weight`, `2.bias`).
 *
 * @module
 */

import type { Rng } from "../math/mod.ts";
import {
  linearBackward,
  linearDefaultInit,
  linearForward,
  type LinearLayer,
  linearLayer,
  ParamSet,
  reluBackward,
  reluForward,
} from "../nn/mod.ts";
import type { WaypointPlanner } from "./planner.ts";

/** Options of {@linkcode MlpPlanner}. */
export interface MlpPlannerOptions {
  /** Observation size (1 + 2H for the driving env). */
  inDim: number;
  /** Width of the hidden ReLU layer. */
  hidden: number;
  /** H: waypoints per plan; the output has 2H numbers. */
  horizon: number;
  /** Draws the initial weights (torch's `nn.Linear` default), layer 0 then layer 2. */
  rng: Rng;
}

/**
 * Activations a training forward keeps for the backward pass, and their gradients,
 * for up to `maxBatch` rows. Allocated once; rows beyond the current n are stale.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const planner = new MlpPlanner({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(0) });
 * const cache = new MlpPlannerCache(planner, 64);
 * planner.forward(new Float64Array(64 * 41), 64, cache); // cache.out (64, 40)
 * ```
 */
export class MlpPlannerCache {
  /** Most rows one pass may hold. */
  readonly maxBatch: number;
  /** (n, hidden) layer 0 output after ReLU. */
  readonly hiddenAct: Float64Array;
  /** (n, 2H) the plans, layer 2 output. */
  readonly out: Float64Array;
  /** (n, 2H) ∂loss/∂out, written by the loss. */
  readonly dOut: Float64Array;
  /** (n, hidden) ∂loss/∂hiddenAct (zeroed by the backward pass before it accumulates). */
  readonly dHidden: Float64Array;
  /** (n, hidden) ∂loss/∂(layer 0 output before ReLU). */
  readonly dPre: Float64Array;

  /**
   * Allocates every buffer for `maxBatch` rows.
   *
   * @param dims the planner's sizes (an {@linkcode MlpPlanner} will do)
   * @param maxBatch most rows one pass may hold
   */
  constructor(dims: { hidden: number; horizon: number }, maxBatch: number) {
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${maxBatch}`);
    }
    this.maxBatch = maxBatch;
    this.hiddenAct = new Float64Array(maxBatch * dims.hidden);
    this.out = new Float64Array(maxBatch * 2 * dims.horizon);
    this.dOut = new Float64Array(maxBatch * 2 * dims.horizon);
    this.dHidden = new Float64Array(maxBatch * dims.hidden);
    this.dPre = new Float64Array(maxBatch * dims.hidden);
  }
}

/**
 * A behaviour-cloned waypoint planner: plans (rows, 2H) = W2 · relu(W0 · z + b0) + b2,
 * waypoints in the car frame as [x1, y1, ..., xH, yH]. A pure function of z: a row's
 * plan does not depend on the other rows of the batch (the kernels sum in a fixed order).
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * const planner = new MlpPlanner({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(42) });
 * const plans = new Float64Array(8 * 40);
 * planner.plan(new Float64Array(8 * 41), 8, plans);
 * planner.params.view("0.weight"); // (16, 41), torch layout
 * ```
 */
export class MlpPlanner implements WaypointPlanner {
  readonly horizon: number;
  /** 2H. */
  get actionDim(): number {
    return 2 * this.horizon;
  }
  readonly obsDim: number;
  /** Width of the hidden layer. */
  readonly hidden: number;
  /** `0.weight` [hidden, in], `0.bias` [hidden], `2.weight` [2H, hidden], `2.bias` [2H]. */
  readonly params: ParamSet;
  readonly #layer0: LinearLayer;
  readonly #layer2: LinearLayer;
  /** Scratch of {@linkcode MlpPlanner.plan}; replaced by a larger one when a batch outgrows it. */
  #planCache: MlpPlannerCache;

  /** Builds the layers and draws torch's default `nn.Linear` init from `opts.rng`. */
  constructor(opts: MlpPlannerOptions) {
    const { inDim, hidden, horizon, rng } = opts;
    for (const [key, v] of Object.entries({ inDim, hidden, horizon })) {
      if (!Number.isInteger(v) || v < 1) {
        throw new RangeError(`MlpPlanner: ${key} must be a positive integer, got ${v}`);
      }
    }
    this.horizon = horizon;
    this.obsDim = inDim;
    this.hidden = hidden;
    this.params = new ParamSet([
      { name: "0.weight", shape: [hidden, inDim] },
      { name: "0.bias", shape: [hidden] },
      { name: "2.weight", shape: [2 * horizon, hidden] },
      { name: "2.bias", shape: [2 * horizon] },
    ]);
    this.#layer0 = linearLayer(this.params, "0");
    this.#layer2 = linearLayer(this.params, "2");
    linearDefaultInit(this.#layer0.weight, this.#layer0.bias, { fanIn: inDim, rng });
    linearDefaultInit(this.#layer2.weight, this.#layer2.bias, { fanIn: hidden, rng });
    this.#planCache = new MlpPlannerCache(this, 64);
  }

  /** obs (rows, in) -> `out` (rows, 2H). Grows its scratch when `rows` needs more. */
  plan(obs: Float64Array, rows: number, out: Float64Array): void {
    this.#checkRows(obs, rows);
    if (out.length < rows * 2 * this.horizon) {
      throw new RangeError(
        `MlpPlanner.plan: out holds ${out.length} numbers, need rows * 2H = ${
          rows * 2 * this.horizon
        }`,
      );
    }
    if (rows > this.#planCache.maxBatch) {
      this.#planCache = new MlpPlannerCache(this, Math.max(rows, 2 * this.#planCache.maxBatch));
    }
    const hiddenAct = this.#planCache.hiddenAct;
    linearForward(hiddenAct, obs, this.#layer0, rows); // (rows, in) -> (rows, hidden)
    reluForward(hiddenAct, hiddenAct, rows * this.hidden);
    linearForward(out, hiddenAct, this.#layer2, rows); // (rows, hidden) -> (rows, 2H)
  }

  /** Training forward of n ≤ cache.maxBatch rows: obs (n, in) -> cache.out (n, 2H). */
  forward(obs: Float64Array, n: number, cache: MlpPlannerCache): void {
    this.#checkRows(obs, n);
    checkCache(cache, n);
    linearForward(cache.hiddenAct, obs, this.#layer0, n); // (n, in) -> (n, hidden)
    reluForward(cache.hiddenAct, cache.hiddenAct, n * this.hidden);
    linearForward(cache.out, cache.hiddenAct, this.#layer2, n); // (n, hidden) -> (n, 2H)
  }

  /**
   * Backward of {@linkcode MlpPlanner.forward} from `cache.dOut`, accumulating into
   * `params.grad` (zero it once with `params.zeroGrad()` before).
   */
  backward(obs: Float64Array, n: number, cache: MlpPlannerCache): void {
    this.#checkRows(obs, n);
    checkCache(cache, n);
    const size = n * this.hidden;
    cache.dHidden.fill(0, 0, size);
    cache.dPre.fill(0, 0, size);
    linearBackward(cache.dHidden, cache.dOut, cache.hiddenAct, this.#layer2, n); // (n,2H) -> (n,h)
    reluBackward(cache.dPre, cache.dHidden, cache.hiddenAct, size);
    linearBackward(null, cache.dPre, obs, this.#layer0, n); // (n,h) -> params only
  }

  #checkRows(obs: Float64Array, rows: number): void {
    if (!Number.isInteger(rows) || rows < 0) {
      throw new RangeError(`MlpPlanner: rows must be a non-negative integer, got ${rows}`);
    }
    if (obs.length < rows * this.obsDim) {
      throw new RangeError(
        `MlpPlanner: obs holds ${obs.length} numbers, need rows * obsDim = ${rows * this.obsDim}`,
      );
    }
  }
}

function checkCache(cache: MlpPlannerCache, n: number): void {
  if (n > cache.maxBatch) {
    throw new RangeError(`MlpPlanner: ${n} rows exceed the cache's maxBatch ${cache.maxBatch}`);
  }
}
