/**
 * The driving env's waypoint planners: map observations z = [speed, x1, y1, ..., xH, yH]
 * to plans of H waypoints in the car frame. The expert copies the route targets; the
 * built-in SFT planner is wrong in a systematic, learnable way, which the PPO delta head
 * corrects.
 *
 * @module
 */

import { splitmix32 } from "../../math/mod.ts";
import { type EnvConfig, validateEnvConfig } from "./config.ts";
import type { WaypointPlanner } from "../contract.ts";

/** Options of {@linkcode BuiltinSftPlanner}. */
export interface BuiltinSftOptions {
  /** Constant sideways shift of every waypoint (m, left positive). Default 0.3. */
  lateralOffset?: number;
  /** Factor on the lateral (y) coordinate of each target: < 1 underestimates curvature. Default 0.3. */
  curvatureScale?: number;
  /** Standard deviation of the pseudo-noise on every coordinate (m). Default 0.1. */
  noiseStd?: number;
}

/**
 * Defaults of {@linkcode BuiltinSftPlanner}, tuned with the env defaults (see `bench/env_report.ts`).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const harder = new BuiltinSftPlanner(DEFAULT_ENV_CONFIG, { ...DEFAULT_SFT_OPTIONS, lateralOffset: 0.5 });
 * ```
 */
export const DEFAULT_SFT_OPTIONS: Readonly<Required<BuiltinSftOptions>> = Object.freeze({
  lateralOffset: 0.3,
  curvatureScale: 0.3,
  noiseStd: 0.1,
});

function checkShapes(
  name: string,
  obsDim: number,
  horizon: number,
  obs: Float64Array,
  rows: number,
  out: Float64Array,
): void {
  if (!Number.isInteger(rows) || rows < 0) {
    throw new RangeError(`${name}.plan: rows must be a non-negative integer, got ${rows}`);
  }
  if (obs.length < rows * obsDim) {
    throw new RangeError(
      `${name}.plan: obs holds ${obs.length} numbers, need rows * obsDim = ${rows * obsDim}`,
    );
  }
  if (out.length < rows * 2 * horizon) {
    throw new RangeError(
      `${name}.plan: out holds ${out.length} numbers, need rows * 2H = ${rows * 2 * horizon}`,
    );
  }
}

/**
 * The reference plan: exactly the route targets of the observation (obs[1..]).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const expert = new ExpertPlanner(DEFAULT_ENV_CONFIG); // H = 20
 * const obs = new Float64Array(41); // one row: [speed, x1, y1, ..., x20, y20]
 * const plan = new Float64Array(40);
 * expert.plan(obs, 1, plan); // plan = obs.subarray(1)
 * ```
 */
export class ExpertPlanner implements WaypointPlanner {
  readonly horizon: number;
  /** 2H. */
  get actionDim(): number {
    return 2 * this.horizon;
  }
  readonly obsDim: number;

  /** Takes H from `cfg` (validated). */
  constructor(cfg: EnvConfig) {
    validateEnvConfig(cfg);
    this.horizon = cfg.horizon_steps;
    this.obsDim = 1 + 2 * cfg.horizon_steps;
  }

  plan(obs: Float64Array, rows: number, out: Float64Array): void {
    checkShapes("ExpertPlanner", this.obsDim, this.horizon, obs, rows, out);
    const d = this.obsDim, a = 2 * this.horizon;
    for (let r = 0; r < rows; r++) {
      const o = r * d + 1, p = r * a;
      for (let j = 0; j < a; j++) out[p + j] = obs[o + j];
    }
  }
}

/**
 * The built-in imperfect SFT planner. For target (x, y) it plans
 * `(x + nx, curvatureScale * y + lateralOffset + ny)`: it flattens the route (so the
 * car runs wide on curves) and drives off-center. The noise (nx, ny) is uniform with
 * standard deviation `noiseStd`, drawn from a hash of the bits of the whole
 * observation row, so the planner stays a pure function of obs. The ideal correction
 * `expert - sft = (-nx, (1 - curvatureScale) * y - lateralOffset - ny)` is almost
 * linear in z.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const sft = new BuiltinSftPlanner(DEFAULT_ENV_CONFIG, { curvatureScale: 0.3 }); // H = 20
 * const rows = 2;
 * const obs = new Float64Array(rows * 41); // (rows, 1 + 2H)
 * const plans = new Float64Array(rows * 40);
 * sft.plan(obs, rows, plans);
 * ```
 */
export class BuiltinSftPlanner implements WaypointPlanner {
  readonly horizon: number;
  /** 2H. */
  get actionDim(): number {
    return 2 * this.horizon;
  }
  readonly obsDim: number;
  /** Sideways shift of every waypoint (m, left positive). */
  readonly lateralOffset: number;
  /** Factor on the lateral coordinate of each target. */
  readonly curvatureScale: number;
  /** Standard deviation of the pseudo-noise (m). */
  readonly noiseStd: number;
  /** Scratch to read a double's bits; holds nothing between calls. */
  readonly #bits = new Float64Array(1);
  readonly #words = new Uint32Array(this.#bits.buffer);

  /** Takes H from `cfg` (validated); unset options take {@linkcode DEFAULT_SFT_OPTIONS}. */
  constructor(cfg: EnvConfig, opts: BuiltinSftOptions = {}) {
    validateEnvConfig(cfg);
    this.horizon = cfg.horizon_steps;
    this.obsDim = 1 + 2 * cfg.horizon_steps;
    this.lateralOffset = opts.lateralOffset ?? DEFAULT_SFT_OPTIONS.lateralOffset;
    this.curvatureScale = opts.curvatureScale ?? DEFAULT_SFT_OPTIONS.curvatureScale;
    this.noiseStd = opts.noiseStd ?? DEFAULT_SFT_OPTIONS.noiseStd;
    for (const key of ["lateralOffset", "curvatureScale", "noiseStd"] as const) {
      if (!Number.isFinite(this[key])) {
        throw new RangeError(`BuiltinSftPlanner: ${key} must be a finite number, got ${this[key]}`);
      }
    }
    if (this.noiseStd < 0) {
      throw new RangeError(`BuiltinSftPlanner: noiseStd must be >= 0, got ${this.noiseStd}`);
    }
  }

  plan(obs: Float64Array, rows: number, out: Float64Array): void {
    checkShapes("BuiltinSftPlanner", this.obsDim, this.horizon, obs, rows, out);
    const d = this.obsDim, a = 2 * this.horizon;
    const bits = this.#bits, words = this.#words;
    const scale = this.curvatureScale, offset = this.lateralOffset;
    // Uniform on [-w, w] has standard deviation w / sqrt(3).
    const noiseWidth = 2 * Math.sqrt(3) * this.noiseStd / 4294967296;
    const noiseShift = Math.sqrt(3) * this.noiseStd;
    for (let r = 0; r < rows; r++) {
      const o = r * d, p = r * a;
      let h = 0x5bd1e995;
      for (let j = 0; j < d; j++) {
        bits[0] = obs[o + j];
        h = splitmix32(h ^ words[0]);
        h = splitmix32(h ^ words[1]);
      }
      for (let j = 0; j < a; j += 2) {
        const nx = splitmix32(h + j) * noiseWidth - noiseShift;
        const ny = splitmix32(h + j + 1) * noiseWidth - noiseShift;
        out[p + j] = obs[o + 1 + j] + nx;
        out[p + j + 1] = scale * obs[o + 2 + j] + offset + ny;
      }
    }
  }
}
