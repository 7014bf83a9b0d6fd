/**
 * The rollout buffer: one row per env step (row = env · maxSteps + t), filled by the
 * trainer's rollout; then `finish` (GAE per episode, advantage normalisation over the
 * rollout), minibatch gathering for the update, and the rollout's summary numbers
 * (explained variance, delta norms). Every array is allocated once.
 *
 * @module
 */

import { computeGae } from "./gae.ts";
import type { PpoBatch } from "./loss.ts";

/** Sizes of a {@linkcode RolloutBuffer}. */
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
 * const buffer = new RolloutBuffer({
 *   numEnvs: 4,
 *   maxSteps: 80,
 *   obsDim: 41,
 *   actDim: 40,
 *   batchSize: 64,
 * });
 * ```
 */
export class RolloutBuffer {
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
