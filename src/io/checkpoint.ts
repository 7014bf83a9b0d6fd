/**
 * The training checkpoint as a PyTorch object tree: the Python trainer's layout
 * (`delta_head`, `value_head`, `optimizer`, `cfg`) plus the progress a resume needs.
 *
 * @module
 */

import type { ParamSet } from "../nn/mod.ts";
import type { Adam } from "../nn/mod.ts";
import type { Trainer } from "../rl/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { PtDict, PtTuple, Tensor } from "./torch_pt.ts";
import type { PtValue } from "./torch_pt.ts";
import { writePt } from "./torch_pt.ts";

/** Format tag stored in our checkpoints (absent in the Python trainer's). */
export const CHECKPOINT_FORMAT = "delta-waypoint/1";

/**
 * A ParamSet as a torch state_dict: an OrderedDict of float32 tensors in spec order.
 *
 * @example
 * ```ts ignore
 * const sd = stateDict(model.delta); // OrderedDict{log_std, net.0.weight, ...}
 * ```
 */
export function stateDict(set: ParamSet): PtDict {
  const sd = new PtDict([], true);
  for (const spec of set.specs) {
    sd.set(spec.name, float32Tensor(set.view(spec.name), spec.shape));
  }
  return sd;
}

/**
 * Adam state in torch.optim.Adam's state_dict layout: parameters numbered across the
 * sets in order, each with a 0-d float32 `step` and the two moments.
 */
export function adamStateDict(adam: Adam, sets: ParamSet[]): PtDict {
  const state = new PtDict();
  let index = 0;
  sets.forEach((set, s) => {
    for (const spec of set.specs) {
      const range = [spec.offset, spec.offset + spec.size] as const;
      const entry = new PtDict();
      entry.set("step", new Tensor("float32", [], new Float32Array([adam.stepCount])));
      entry.set("exp_avg", float32Tensor(adam.expAvg[s].subarray(...range), spec.shape));
      entry.set("exp_avg_sq", float32Tensor(adam.expAvgSq[s].subarray(...range), spec.shape));
      state.set(index++, entry);
    }
  });
  const group = new PtDict([
    ["lr", adam.lr],
    ["betas", new PtTuple([adam.betas[0], adam.betas[1]])],
    ["eps", adam.eps],
    ["weight_decay", adam.weightDecay],
    ["amsgrad", false],
    ["maximize", false],
    ["foreach", null],
    ["capturable", false],
    ["differentiable", false],
    ["fused", false],
    ["params", Array.from({ length: index }, (_, i) => i)],
  ]);
  return new PtDict([["state", state], ["param_groups", [group]]]);
}

/**
 * Plain JSON-like data (objects, arrays, numbers, strings, booleans, null) as pickle values.
 *
 * @example
 * ```ts
 * const v = jsonToPt({ a: [1, 2.5, "x", null] });
 * ```
 */
export function jsonToPt(value: unknown): PtValue {
  if (value === null || value === undefined) return null;
  if (typeof value === "number" || typeof value === "string" || typeof value === "boolean") {
    return value;
  }
  if (Array.isArray(value)) return value.map(jsonToPt);
  if (typeof value === "object") {
    const d = new PtDict();
    for (const [k, v] of Object.entries(value)) d.set(k, jsonToPt(v));
    return d;
  }
  throw new TypeError(`cannot store a ${typeof value} in a checkpoint`);
}

/**
 * The whole checkpoint of a trainer at its current episode.
 *
 * @example
 * ```ts ignore
 * await writePt("final.pt", trainerCheckpoint(trainer));
 * ```
 */
export function trainerCheckpoint(trainer: Trainer, extra: Record<string, unknown> = {}): PtDict {
  const { model, optimizer } = trainer;
  const progress = trainer.progress();
  const root = new PtDict();
  root.set("delta_head", stateDict(model.delta));
  root.set("value_head", stateDict(model.value));
  root.set("optimizer", adamStateDict(optimizer, [model.delta, model.value]));
  root.set("cfg", jsonToPt(trainer.ppo));
  root.set("env_cfg", jsonToPt(trainer.env as EnvConfig));
  root.set("format", CHECKPOINT_FORMAT);
  root.set("episode", progress.episode);
  root.set("rng", jsonToPt(progress.rng));
  root.set("rewards", progress.rewards);
  root.set("lengths", progress.lengths);
  root.set("successes", progress.successes);
  root.set("metrics", jsonToPt(progress.metrics));
  for (const [k, v] of Object.entries(extra)) root.set(k, jsonToPt(v));
  return root;
}

/** Writes {@linkcode trainerCheckpoint} atomically to `path`. */
export async function saveTrainerCheckpoint(
  path: string,
  trainer: Trainer,
  extra: Record<string, unknown> = {},
): Promise<void> {
  await writePt(path, trainerCheckpoint(trainer, extra));
}

function float32Tensor(values: Float64Array, shape: number[]): Tensor {
  return new Tensor("float32", [...shape], Float32Array.from(values));
}
