/**
 * The rollout buffer: one row per env step, in the order the steps arrive, each episode's
 * rows linked in time order; then `finish` (GAE per episode, advantage normalisation over
 * the rollout), minibatch gathering for the update, and the rollout's summary numbers
 * (explained variance, delta norms). A rollout holds whole episodes only, any number of
 * them per env slot. Every array is allocated once.
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
  /** Most rows (env steps) one rollout holds (default N · T: one episode per env). */
  capacity?: number;
}

/**
 * Rollout buffers (`capacity` rows) and one minibatch's gather buffers.
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
  /** The heads' input at each step: the observation, after the running normaliser if any (rows, obsDim). */
  readonly obs: Float64Array;
  /** Sampled (unclipped) deltas (rows, actDim). */
  readonly act: Float64Array;
  /** Their joint log-probs. */
  readonly logp: Float64Array;
  /** Values predicted in the rollout. */
  readonly val: Float64Array;
  /** Rewards (scaled, when the trainer scales them). */
  readonly rew: Float64Array;
  /** 1 where the episode terminated at that step. */
  readonly term: Uint8Array;
  /** 1 where it was truncated at that step. */
  readonly trunc: Uint8Array;
  /** Value of the next observation (set by the trainer at an episode's last step). */
  readonly nextVal: Float64Array;
  /** GAE advantages (normalised by `finish` when asked). */
  readonly adv: Float64Array;
  /** GAE returns (value targets). */
  readonly ret: Float64Array;
  /** Norm of the clipped mean delta at each step (m). */
  readonly deltaNorm: Float64Array;
  /** The valid rows after `finish`: episode by episode, each in time order. */
  readonly rows: Int32Array;
  /** The minibatch `gather` fills. */
  readonly minibatch: PpoBatch;
  /** Most rows a rollout holds. */
  readonly capacity: number;
  readonly #sizes: RolloutSizes;
  // (capacity) the next row of the same episode, -1 after its last
  readonly #next: Int32Array;
  // (capacity) per episode of the rollout, in the order they began: first row, length
  readonly #first: Int32Array;
  readonly #length: Int32Array;
  // (N) the episode each env slot runs, and its latest row (-1: none yet)
  readonly #slotEpisode: Int32Array;
  readonly #slotLast: Int32Array;
  // (T) one episode's steps, contiguous, for GAE
  readonly #scratch: {
    rew: Float64Array;
    val: Float64Array;
    nextVal: Float64Array;
    term: Uint8Array;
    trunc: Uint8Array;
    adv: Float64Array;
    ret: Float64Array;
  };
  #size = 0;
  #episodes = 0;

  /** Allocates every buffer for `sizes`. */
  constructor(sizes: RolloutSizes) {
    this.#sizes = sizes;
    const { numEnvs: n, maxSteps: t, obsDim, actDim: a, batchSize: b } = sizes;
    const cap = sizes.capacity ?? n * t;
    this.capacity = cap;
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
    this.#next = new Int32Array(cap);
    this.#first = new Int32Array(cap);
    this.#length = new Int32Array(cap);
    this.#slotEpisode = new Int32Array(n);
    this.#slotLast = new Int32Array(n);
    this.#scratch = {
      rew: new Float64Array(t),
      val: new Float64Array(t),
      nextVal: new Float64Array(t),
      term: new Uint8Array(t),
      trunc: new Uint8Array(t),
      adv: new Float64Array(t),
      ret: new Float64Array(t),
    };
    this.minibatch = {
      obs: new Float64Array(b * obsDim),
      actions: new Float64Array(b * a),
      logpOld: new Float64Array(b),
      advantages: new Float64Array(b),
      returns: new Float64Array(b),
    };
  }

  /** Empties the buffer for a new rollout. */
  clear(): void {
    this.#size = 0;
    this.#episodes = 0;
  }

  /** Episodes begun since `clear`. */
  get episodes(): number {
    return this.#episodes;
  }

  /**
   * Env slot `slot` starts a new episode; returns its index in the rollout (episodes are
   * numbered in the order they begin).
   */
  beginEpisode(slot: number): number {
    const e = this.#episodes++;
    this.#first[e] = -1;
    this.#length[e] = 0;
    this.#slotEpisode[slot] = e;
    this.#slotLast[slot] = -1;
    return e;
  }

  /** The next row of the episode slot `slot` runs; returns the row to fill. */
  appendRow(slot: number): number {
    if (this.#size >= this.capacity) {
      throw new Error(`rollout buffer full (${this.capacity} rows)`);
    }
    const row = this.#size++;
    const e = this.#slotEpisode[slot], last = this.#slotLast[slot];
    if (last < 0) this.#first[e] = row;
    else this.#next[last] = row;
    this.#next[row] = -1;
    this.#slotLast[slot] = row;
    this.#length[e]++;
    return row;
  }

  /** Steps so far of the episode slot `slot` runs. */
  episodeLength(slot: number): number {
    return this.#length[this.#slotEpisode[slot]];
  }

  /**
   * GAE per episode (every episode begun since `clear`, each finished), then the list of
   * valid rows and (with `normAdv`) normalised advantages; returns the number of rows.
   */
  finish(opts: { gamma: number; lam: number; normAdv: boolean }): number {
    const { gamma, lam } = opts;
    const s = this.#scratch;
    let rows = 0;
    for (let e = 0; e < this.#episodes; e++) {
      const len = this.#length[e];
      // the episode's steps, contiguous; next value of step k is the value of step k + 1
      // within the episode, the stored bootstrap value at its last
      let r = this.#first[e];
      for (let k = 0; k < len; k++, r = this.#next[r]) {
        this.rows[rows + k] = r;
        s.rew[k] = this.rew[r];
        s.val[k] = this.val[r];
        s.term[k] = this.term[r];
        s.trunc[k] = this.trunc[r];
        if (k > 0) s.nextVal[k - 1] = s.val[k];
        s.nextVal[k] = this.nextVal[r];
      }
      computeGae({
        rewards: s.rew,
        values: s.val,
        nextValues: s.nextVal,
        terminated: s.term,
        truncated: s.trunc,
        gamma,
        lam,
        n: len,
        advantagesOut: s.adv,
        returnsOut: s.ret,
      });
      for (let k = 0; k < len; k++) {
        const row = this.rows[rows + k];
        this.adv[row] = s.adv[k];
        this.ret[row] = s.ret[k];
      }
      rows += len;
    }
    if (opts.normAdv && rows > 1) this.#normalizeAdvantages(rows);
    return rows;
  }

  #normalizeAdvantages(rows: number): void {
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
