/**
 * The core equation: the plan driven is the base planner's plan plus the delta head's
 * output clipped to ±deltaClip, `final = sft + clip(delta, ±deltaClip)`, and the size
 * of that correction (the L2 norm of one row's clipped delta). Training rollouts and
 * evaluation both use these, so their plans agree to the last bit.
 *
 * @module
 */

/**
 * `x` clipped to [-deltaClip, deltaClip].
 *
 * @example
 * ```ts
 * clipDelta(3, 2); // 2
 * ```
 */
export function clipDelta(x: number, deltaClip: number): number {
  return x > deltaClip ? deltaClip : x < -deltaClip ? -deltaClip : x;
}

/**
 * `plan[j] = sft[j] + clip(delta[j], ±deltaClip)` for every entry of `plan`; `plan`
 * may be `sft` itself (updated in place).
 *
 * @example
 * ```ts
 * const plan = new Float64Array(2);
 * composePlan(plan, { sft: new Float64Array([1, 1]), delta: new Float64Array([5, -0.5]), deltaClip: 2 });
 * // plan = [3, 0.5]
 * ```
 */
export function composePlan(
  plan: Float64Array,
  opts: { sft: Float64Array; delta: Float64Array; deltaClip: number },
): void {
  const { sft, delta, deltaClip } = opts;
  for (let j = 0; j < plan.length; j++) plan[j] = sft[j] + clipDelta(delta[j], deltaClip);
}

/**
 * L2 norm of row `row` of `delta` (rows of `actDim` entries), each entry clipped to
 * ±deltaClip first: the size of the correction the plan of that row receives (m).
 *
 * @example
 * ```ts
 * clippedDeltaNorm(new Float64Array([3, 4, 6, 8]), { row: 1, actDim: 2, deltaClip: 100 }); // 10
 * ```
 */
export function clippedDeltaNorm(
  delta: Float64Array,
  opts: { row: number; actDim: number; deltaClip: number },
): number {
  const { row, actDim, deltaClip } = opts;
  let sq = 0;
  for (let j = row * actDim; j < (row + 1) * actDim; j++) {
    const d = clipDelta(delta[j], deltaClip);
    sq += d * d;
  }
  return Math.sqrt(sq);
}
