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
  const errors = new Float64Array(2);
  for (let r = 0; r < rows; r++) {
    rowPlanErrors(plan, expert, { planAt: r * a, expertAt: r * a, horizon, out: errors });
    adeOut[r] = errors[0];
    fdeOut[r] = errors[1];
  }
}

/**
 * {@linkcode planErrors} of one plan: the H waypoints of `plan` from `planAt` against
 * those of `expert` from `expertAt` (the two may be rows of arrays of different widths,
 * such as the driving observation, whose route targets are the expert plan); writes
 * `out[0]` = ADE, `out[1]` = FDE (meters). No allocation: it runs once per env step.
 *
 * @example
 * ```ts
 * const out = new Float64Array(2);
 * const obs = new Float64Array([3, 4, 0, 8, 0]); // [speed, targets...]
 * rowPlanErrors(new Float64Array([4, 0, 11, 4]), obs, { planAt: 0, expertAt: 1, horizon: 2, out });
 * // out = [2.5, 5]
 * ```
 */
export function rowPlanErrors(
  plan: Float64Array,
  expert: Float64Array,
  opts: { planAt: number; expertAt: number; horizon: number; out: Float64Array },
): void {
  const { planAt, expertAt, horizon, out } = opts;
  let sum = 0, d = 0;
  for (let j = 0; j < 2 * horizon; j += 2) {
    const dx = plan[planAt + j] - expert[expertAt + j];
    const dy = plan[planAt + j + 1] - expert[expertAt + j + 1];
    d = Math.sqrt(dx * dx + dy * dy);
    sum += d;
  }
  out[0] = sum / horizon;
  out[1] = d;
}
