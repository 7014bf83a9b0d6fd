/**
 * Generalised advantage estimation over one flat segment of steps that may cross
 * episode boundaries.
 *
 * @module
 */

/** Inputs and outputs of {@linkcode computeGae}; every array holds (at least) n steps. */
export interface GaeOptions {
  /** r_t */
  rewards: Float64Array;
  /** V(s_t) */
  values: Float64Array;
  /**
   * V of the observation that followed step t: on truncation the final observation
   * before any reset; ignored on termination
   */
  nextValues: Float64Array;
  /** non-zero where the episode ended in a terminal state at step t (no bootstrap) */
  terminated: Uint8Array;
  /** non-zero where the episode was cut off at step t (bootstrap from nextValues, then restart) */
  truncated: Uint8Array;
  /** discount */
  gamma: number;
  /** GAE λ */
  lam: number;
  /** number of steps */
  n: number;
  /** out: A_t */
  advantagesOut: Float64Array;
  /** out: A_t + V(s_t) */
  returnsOut: Float64Array;
}

/**
 * Backwards in time:
 * δ_t = r_t + γ(1−term_t)·V'_t − V_t,
 * A_t = δ_t + γλ(1−term_t)(1−trunc_t)·A_{t+1}, with A_n = 0 (the segment end bootstraps
 * through V'_{n−1} only); returns = A + V.
 *
 * @example
 * ```ts
 * const advantages = new Float64Array(2);
 * const returns = new Float64Array(2);
 * computeGae({
 *   rewards: new Float64Array([1, 1]),
 *   values: new Float64Array([0.5, 0.5]),
 *   nextValues: new Float64Array([0.5, 0]),
 *   terminated: new Uint8Array([0, 1]),
 *   truncated: new Uint8Array([0, 0]),
 *   gamma: 0.99,
 *   lam: 0.95,
 *   n: 2,
 *   advantagesOut: advantages,
 *   returnsOut: returns,
 * });
 * ```
 */
export function computeGae(opts: GaeOptions): void {
  const { rewards, values, nextValues, terminated, truncated, gamma, lam, n } = opts;
  const { advantagesOut, returnsOut } = opts;
  for (const [key, a] of Object.entries({ rewards, values, nextValues, terminated, truncated })) {
    if (a.length < n) throw new RangeError(`computeGae: ${key} holds ${a.length} steps, need ${n}`);
  }
  if (advantagesOut.length < n || returnsOut.length < n) {
    throw new RangeError(`computeGae: output arrays must hold ${n} steps`);
  }
  const gammaLam = gamma * lam;
  let nextAdvantage = 0;
  for (let t = n - 1; t >= 0; t--) {
    const notTerminal = terminated[t] !== 0 ? 0 : 1;
    const notTruncated = truncated[t] !== 0 ? 0 : 1;
    const delta = rewards[t] + gamma * notTerminal * nextValues[t] - values[t];
    nextAdvantage = delta + gammaLam * notTerminal * notTruncated * nextAdvantage;
    advantagesOut[t] = nextAdvantage;
    returnsOut[t] = nextAdvantage + values[t];
  }
}
