/**
 * A checkpoint's keys for the run's budget and its normalisers: `env_steps` (every
 * checkpoint), `obs_rms` (the running observation normaliser, `ppo.norm_obs`) and
 * `ret_rms` (the return statistics of the reward scaling, `ppo.norm_reward`), written
 * and read back checked.
 *
 * ```
 * obs_rms = {"mean": float64 [obs_dim], "var": float64 [obs_dim], "count": float, "epsilon": float, "clip": float}
 * ret_rms = {"mean": float, "var": float, "count": float}
 * ```
 *
 * `obs_rms` means that both heads see clamp((z − mean) / sqrt(var + epsilon), ±clip)
 * instead of z (the base planner still sees z); the Python loader and `export --onnx`
 * apply it.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { MeanStdState } from "../math/mod.ts";
import type { ObsRms } from "../nn/mod.ts";
import { PtDict, Tensor } from "../io/mod.ts";
import type { TrainerProgress } from "../ppo/mod.ts";

/** What these readers take of a loaded checkpoint (a `LoadedCheckpoint` will do). */
export interface CheckpointKeys {
  /** Path the checkpoint came from (for messages). */
  source: string;
  /** Its top-level keys besides the heads, optimizer and configs, as plain JSON. */
  extra: Record<string, unknown>;
}

/**
 * Sets `env_steps`, and `obs_rms` and `ret_rms` where the trainer has them, in `root`:
 * `progress` is the trainer's, `obsNorm` its model's normaliser (its epsilon and clip).
 *
 * @example
 * ```ts ignore
 * putNormalizers(root, { progress: trainer.progress(), obsNorm: trainer.model.obsNorm });
 * ```
 */
export function putNormalizers(root: PtDict, opts: {
  progress: TrainerProgress;
  obsNorm: { epsilon: number; clip: number } | null;
}): void {
  const { progress, obsNorm } = opts;
  root.set("env_steps", progress.envSteps);
  if (progress.obsRms && obsNorm) {
    const { mean, var: variance, count } = progress.obsRms;
    root.set(
      "obs_rms",
      new PtDict([
        ["mean", new Tensor("float64", [mean.length], Float64Array.from(mean))],
        ["var", new Tensor("float64", [variance.length], Float64Array.from(variance))],
        ["count", count],
        ["epsilon", obsNorm.epsilon],
        ["clip", obsNorm.clip],
      ]),
    );
  }
  if (progress.retRms) {
    const { mean, var: variance, count } = progress.retRms;
    root.set("ret_rms", new PtDict([["mean", mean[0]], ["var", variance[0]], ["count", count]]));
  }
}

/**
 * The `obs_rms` of `ckpt`, checked (finite, var ≥ 0, var + epsilon > 0, clip > 0, mean
 * and var of `obsDim` entries, or of one size when `obsDim` is null); null when the
 * checkpoint has none. A malformed one is refused with a {@linkcode UserError} naming
 * the file and the key.
 *
 * @example
 * ```ts ignore
 * const rms = checkpointObsRms(parseTrainerCheckpoint(await readPt(p), p), 41);
 * ```
 */
export function checkpointObsRms(ckpt: CheckpointKeys, obsDim: number | null): ObsRms | null {
  const raw = ckpt.extra.obs_rms;
  if (raw === undefined || raw === null) return null;
  const where = `${ckpt.source}: obs_rms`;
  if (typeof raw !== "object" || Array.isArray(raw) || isTensorJson(raw)) {
    throw new UserError(`${where}: expected a dict {mean, var, count, epsilon, clip}`);
  }
  const rms = raw as Record<string, unknown>;
  const vector = (key: string, size: number | null): Float64Array => {
    const t = rms[key];
    if (!isTensorJson(t) || t.dtype === "int64") {
      throw new UserError(
        `${where}.${key}: expected a float tensor of shape [${size ?? "obs_dim"}]`,
      );
    }
    if (t.shape.length !== 1 || (size !== null && t.shape[0] !== size)) {
      throw new UserError(
        `${where}.${key}: has shape [${t.shape.join(", ")}], expected [${size ?? "obs_dim"}] (${
          obsDim === null ? "the size of obs_rms.mean" : "the observation's size"
        })`,
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
  const number = (key: string, ok: (v: number) => boolean, want: string): number =>
    checkedNumber(rms[key], { where: `${where}.${key}`, ok, want });
  const mean = vector("mean", obsDim);
  const variance = vector("var", mean.length);
  const epsilon = number("epsilon", (v) => v >= 0, "a number ≥ 0");
  const clip = number("clip", (v) => v > 0, "a number > 0");
  const count = rms.count === undefined ? 0 : number("count", (v) => v >= 0, "a number ≥ 0");
  const zero = variance.findIndex((v) => v + epsilon <= 0);
  if (zero >= 0) {
    throw new UserError(`${where}: var + epsilon is 0 at index ${zero} (a division by zero)`);
  }
  return { mean, var: variance, count, epsilon, clip };
}

/**
 * The `ret_rms` of `ckpt` (finite numbers, var ≥ 0, count ≥ 0), or null when it has none;
 * a malformed one is refused with a {@linkcode UserError} naming the file and the key.
 *
 * @example
 * ```ts ignore
 * const ret = checkpointRetRms(ckpt); // {mean: [m], var: [v], count}
 * ```
 */
export function checkpointRetRms(ckpt: CheckpointKeys): MeanStdState | null {
  const raw = ckpt.extra.ret_rms;
  if (raw === undefined || raw === null) return null;
  const where = `${ckpt.source}: ret_rms`;
  if (typeof raw !== "object" || Array.isArray(raw) || isTensorJson(raw)) {
    throw new UserError(`${where}: expected a dict {mean, var, count}`);
  }
  const r = raw as Record<string, unknown>;
  const number = (key: string, ok: (v: number) => boolean, want: string): number =>
    checkedNumber(r[key], { where: `${where}.${key}`, ok, want });
  const mean = number("mean", () => true, "a finite number");
  const variance = number("var", (v) => v >= 0, "a number ≥ 0");
  const count = number("count", (v) => v >= 0, "a number ≥ 0");
  return { mean: new Float64Array([mean]), var: new Float64Array([variance]), count };
}

/**
 * The env steps of the run when `ckpt` was written: its `env_steps`, or for a checkpoint
 * written before that key the sum of the known episode lengths (`lengths`).
 *
 * @example
 * ```ts ignore
 * const steps = checkpointEnvSteps(ckpt, [200, 200]); // ckpt.extra.env_steps, else 400
 * ```
 */
export function checkpointEnvSteps(ckpt: CheckpointKeys, lengths: readonly number[]): number {
  const v = ckpt.extra.env_steps;
  if (v === undefined || v === null) {
    return lengths.reduce((sum, l) => (Number.isFinite(l) ? sum + l : sum), 0);
  }
  return checkedNumber(v, {
    where: `${ckpt.source}: env_steps`,
    ok: (x) => Number.isInteger(x) && x >= 0 && x <= 1e15,
    want: "an integer in [0, 1e15]",
  });
}

function checkedNumber(
  v: unknown,
  opts: { where: string; ok: (v: number) => boolean; want: string },
): number {
  if (typeof v !== "number" || !Number.isFinite(v) || !opts.ok(v)) {
    const got = typeof v === "number" ? String(v) : JSON.stringify(v) ?? "nothing";
    throw new UserError(`${opts.where}: expected ${opts.want}, got ${got}`);
  }
  return v;
}

// A tensor as ptToJson shows one.
function isTensorJson(v: unknown): v is { dtype: string; shape: number[]; data: number[] } {
  if (typeof v !== "object" || v === null) return false;
  const t = v as Record<string, unknown>;
  return typeof t.dtype === "string" && Array.isArray(t.shape) && Array.isArray(t.data) &&
    Object.keys(t).length === 3;
}
