/**
 * A checkpoint's running observation normaliser, `obs_rms`:
 *
 * ```
 * {"mean": float64 [obs_dim], "var": float64 [obs_dim], "count": float, "epsilon": float, "clip": float}
 * ```
 *
 * meaning that both heads see `clamp((z - mean) / sqrt(var + epsilon), -clip, clip)`
 * instead of z (the SFT planner still sees z). Read and checked here for `export`;
 * checkpoints without the key have no normaliser.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { LoadedCheckpoint } from "../run/mod.ts";

/** The normaliser's statistics. */
export interface ObsRms {
  /** (obs_dim) running mean of the observation. */
  mean: Float64Array;
  /** (obs_dim) running variance, ≥ 0. */
  var: Float64Array;
  /** Observations the statistics were taken over. */
  count: number;
  /** Added to the variance before the square root, ≥ 0. */
  epsilon: number;
  /** The normalised value is clamped to ±clip, > 0. */
  clip: number;
}

/**
 * The `obs_rms` of `ckpt`, checked against the heads' input size `obsDim`; null when the
 * checkpoint has none. A malformed one is refused with a {@linkcode UserError} naming the
 * file and the key.
 *
 * @example
 * ```ts ignore
 * const rms = checkpointObsRms(parseTrainerCheckpoint(await readPt(p), p), 41);
 * ```
 */
export function checkpointObsRms(ckpt: LoadedCheckpoint, obsDim: number): ObsRms | null {
  const raw = ckpt.extra.obs_rms;
  if (raw === undefined || raw === null) return null;
  const where = `${ckpt.source}: obs_rms`;
  if (typeof raw !== "object" || Array.isArray(raw) || isTensorJson(raw)) {
    throw new UserError(`${where}: expected a dict {mean, var, count, epsilon, clip}`);
  }
  const rms = raw as Record<string, unknown>;
  const vector = (key: string): Float64Array => {
    const t = rms[key];
    if (!isTensorJson(t) || t.dtype === "int64") {
      throw new UserError(`${where}.${key}: expected a float tensor of shape [${obsDim}]`);
    }
    if (t.shape.length !== 1 || t.shape[0] !== obsDim) {
      throw new UserError(
        `${where}.${key}: has shape [${
          t.shape.join(", ")
        }], expected [${obsDim}] (the observation's size)`,
      );
    }
    const values = Float64Array.from(t.data);
    const bad = values.findIndex((v) => !Number.isFinite(v) || (key === "var" && v < 0));
    if (bad >= 0) {
      throw new UserError(
        `${where}.${key}: holds ${values[bad]} at index ${bad} (expected a finite number${
          key === "var" ? " ≥ 0" : ""
        })`,
      );
    }
    return values;
  };
  const number = (key: string, ok: (v: number) => boolean, want: string): number => {
    const v = rms[key];
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
      throw new UserError(
        `${where}.${key}: expected ${want}, got ${JSON.stringify(v) ?? "nothing"}`,
      );
    }
    return v;
  };
  const mean = vector("mean");
  const variance = vector("var");
  const epsilon = number("epsilon", (v) => v >= 0, "a number ≥ 0");
  const clip = number("clip", (v) => v > 0, "a number > 0");
  const count = rms.count === undefined ? 0 : number("count", (v) => v >= 0, "a number ≥ 0");
  const zero = variance.findIndex((v) => v + epsilon <= 0);
  if (zero >= 0) {
    throw new UserError(`${where}: var + epsilon is 0 at index ${zero} (a division by zero)`);
  }
  return { mean, var: variance, count, epsilon, clip };
}

// A tensor as ptToJson shows one.
function isTensorJson(v: unknown): v is { dtype: string; shape: number[]; data: number[] } {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Record<string, unknown>;
  return typeof t.dtype === "string" && Array.isArray(t.shape) && Array.isArray(t.data) &&
    Object.keys(t).length === 3;
}
