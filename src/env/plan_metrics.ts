/**
 * How far a plan is from the expert's: average and final displacement errors (ADE,
 * FDE), the standard yardsticks of trajectory prediction.
 *
 * @module
 */

/**
 * Per-row displacement errors of `plan` against `expert`, both (rows, 2H) as
 * [x1, y1, ..., xH, yH]. With d_i = |plan_i - expert_i| the Euclidean distance of
 * waypoint i, row r gets `adeOut[r] = (1/H) Σ_i d_i` and `fdeOut[r] = d_H` (meters).
 * Positional arguments, like the nn kernels: it runs once per env step.
 *
 * @example Hand-computed: H = 2, the last waypoint off by (3, 4)
 * ```ts
 * const expert = new Float64Array([4, 0, 8, 0]);
 * const plan = new Float64Array([4, 0, 11, 4]); // d_1 = 0, d_2 = √(3² + 4²) = 5
 * const ade = new Float64Array(1), fde = new Float64Array(1);
 * planErrors(plan, expert, 1, 2, ade, fde);
 * // ade[0] === 2.5 (= (0 + 5) / 2), fde[0] === 5
 * ```
 */
export function planErrors(
  plan: Float64Array,
  expert: Float64Array,
  rows: number,
  horizon: number,
  adeOut: Float64Array,
  fdeOut: Float64Array,
): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(horizon) || horizon < 1) {
    throw new RangeError(`planErrors: bad rows ${rows} or horizon ${horizon}`);
  }
  const a = 2 * horizon;
  if (plan.length < rows * a || expert.length < rows * a) {
    throw new RangeError(
      `planErrors: plan and expert must hold rows * 2H = ${
        rows * a
      } numbers, got ${plan.length} and ${expert.length}`,
    );
  }
  if (adeOut.length < rows || fdeOut.length < rows) {
    throw new RangeError(`planErrors: adeOut and fdeOut must hold ${rows} numbers`);
  }
  for (let r = 0; r < rows; r++) {
    const p = r * a;
    let sum = 0, d = 0;
    for (let j = 0; j < a; j += 2) {
      const dx = plan[p + j] - expert[p + j];
      const dy = plan[p + j + 1] - expert[p + j + 1];
      d = Math.sqrt(dx * dx + dy * dy);
      sum += d;
    }
    adeOut[r] = sum / horizon;
    fdeOut[r] = d;
  }
}
