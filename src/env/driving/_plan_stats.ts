/**
 * The per-episode accumulators both driving envs (plain and traffic) keep for their
 * metrics: sums over steps of the plan's ADE and FDE, peak |acceleration| and |jerk|.
 *
 * @module
 */

/**
 * N episodes' running plan-error sums and comfort peaks, one slot per env.
 *
 * @example
 * ```ts
 * const stats = new PlanStats(2);
 * stats.add(0, { ade: 1, fde: 2, accel: 0.5, firstStep: true, dt: 0.1 });
 * stats.ade(0, 1); // 1
 * ```
 */
export class PlanStats {
  /** (N) sum over the episode's steps of the plan's ADE (m). */
  readonly sumAde: Float64Array;
  /** (N) sum over the episode's steps of the plan's FDE (m). */
  readonly sumFde: Float64Array;
  /** (N) peak |longitudinal acceleration| (m/s^2). */
  readonly maxAccel: Float64Array;
  /** (N) peak |change of acceleration| / dt (m/s^3). */
  readonly maxJerk: Float64Array;
  /** (N) the previous step's acceleration (m/s^2). */
  readonly prevAccel: Float64Array;

  /** Zeroed slots for `numEnvs` episodes. */
  constructor(numEnvs: number) {
    this.sumAde = new Float64Array(numEnvs);
    this.sumFde = new Float64Array(numEnvs);
    this.maxAccel = new Float64Array(numEnvs);
    this.maxJerk = new Float64Array(numEnvs);
    this.prevAccel = new Float64Array(numEnvs);
  }

  /** Adds one step of env i: its plan's ADE and FDE and the acceleration applied. */
  add(
    i: number,
    step: { ade: number; fde: number; accel: number; firstStep: boolean; dt: number },
  ): void {
    this.sumAde[i] += step.ade;
    this.sumFde[i] += step.fde;
    const acc = step.accel;
    if (Math.abs(acc) > this.maxAccel[i]) this.maxAccel[i] = Math.abs(acc);
    if (!step.firstStep) {
      const jerk = Math.abs(acc - this.prevAccel[i]) / step.dt;
      if (jerk > this.maxJerk[i]) this.maxJerk[i] = jerk;
    }
    this.prevAccel[i] = acc;
  }

  /** Mean ADE of env i's episode over its `steps` steps. */
  ade(i: number, steps: number): number {
    return this.sumAde[i] / steps;
  }

  /** Mean FDE of env i's episode over its `steps` steps. */
  fde(i: number, steps: number): number {
    return this.sumFde[i] / steps;
  }

  /** Starts env i's slot afresh. */
  clear(i: number): void {
    this.sumAde[i] = this.sumFde[i] = 0;
    this.maxAccel[i] = this.maxJerk[i] = this.prevAccel[i] = 0;
  }
}
