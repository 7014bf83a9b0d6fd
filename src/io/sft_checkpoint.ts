/**
 * The SFT planner checkpoint that `sft` writes and `train --sft-model` reads: a torch
 * `.pt` file holding
 *
 * ```
 * {"head": OrderedDict{"0.weight": [hidden, in], "0.bias": [hidden],
 *                      "2.weight": [2H, hidden], "2.bias": [2H]} (float32),
 *  "in_dim": int, "horizon_steps": int, "hidden_dim": int, "env_cfg": dict,
 *  "format": "delta-waypoint-sft/1", ...}
 * ```
 *
 * so that in Python `nn.Sequential(nn.Linear(in, hidden), nn.ReLU(), nn.Linear(hidden,
 * 2 * H)).load_state_dict(ckpt["head"])` works unchanged.
 *
 * @module
 */

import { Rng } from "../math/mod.ts";
import type { EnvConfig } from "../env/mod.ts";
import { MlpPlanner } from "../sft/mod.ts";
import { PtDict, PtFormatError, readPt, Tensor, writePt } from "./torch_pt.ts";
import type { PtValue } from "./torch_pt.ts";
import { jsonToPt } from "./checkpoint.ts";

/** Value of the `format` key of an SFT planner checkpoint. */
export const SFT_CHECKPOINT_FORMAT = "delta-waypoint-sft/1";

/** What an SFT checkpoint stores besides the weights. */
export interface SftCheckpointMeta {
  /** The environment the planner was trained on (stored as `env_cfg`). */
  env: EnvConfig;
  /** More top-level keys (plain JSON data), e.g. the training config and metrics. */
  extra?: Record<string, unknown>;
}

/** The dims a loaded planner must have to drive the current environment. */
export interface SftPlannerExpectation {
  /** H of the environment. */
  horizon: number;
  /** Observation length of the environment (1 + 2H). */
  obsDim: number;
}

/**
 * The checkpoint tree of `planner` (see the module doc for the layout).
 *
 * @example
 * ```ts ignore
 * const root = sftCheckpoint(planner, { env: DEFAULT_ENV_CONFIG, extra: { seed: 42 } });
 * (root.get("head") as PtDict).get("0.weight"); // Tensor float32 [hidden, 41]
 * ```
 */
export function sftCheckpoint(planner: MlpPlanner, meta: SftCheckpointMeta): PtDict {
  const head = new PtDict([], true);
  for (const spec of planner.params.specs) {
    const values = Float32Array.from(planner.params.view(spec.name));
    head.set(spec.name, new Tensor("float32", [...spec.shape], values));
  }
  const root = new PtDict();
  root.set("head", head);
  root.set("in_dim", planner.obsDim);
  root.set("horizon_steps", planner.horizon);
  root.set("hidden_dim", planner.hidden);
  root.set("env_cfg", jsonToPt(meta.env));
  root.set("format", SFT_CHECKPOINT_FORMAT);
  for (const [key, value] of Object.entries(meta.extra ?? {})) {
    if (root.has(key)) throw new RangeError(`sftCheckpoint: extra key '${key}' is reserved`);
    root.set(key, jsonToPt(value));
  }
  return root;
}

/**
 * Writes {@linkcode sftCheckpoint} to `path`, atomically.
 *
 * @example
 * ```ts ignore
 * await saveSftPlanner("out/sft_waypoint_bc/model.pt", planner, { env: cfg });
 * ```
 */
export async function saveSftPlanner(
  path: string,
  planner: MlpPlanner,
  meta: SftCheckpointMeta,
): Promise<void> {
  await writePt(path, sftCheckpoint(planner, meta));
}

/**
 * Reads the SFT planner at `path` and checks it fits the environment (`expect`). A file
 * that is missing, not a checkpoint, or whose weights do not fit is refused with a
 * one-line {@linkcode PtFormatError} naming the file, the key and the shapes.
 *
 * @example
 * ```ts ignore
 * const planner = await loadSftPlanner("out/sft_waypoint_bc/model.pt", { horizon: 20, obsDim: 41 });
 * ```
 */
export async function loadSftPlanner(
  path: string,
  expect: SftPlannerExpectation,
): Promise<MlpPlanner> {
  return sftPlannerFromPt(await readPt(path), path, expect);
}

/**
 * The planner held by an already-read checkpoint tree `root`; `source` names the file
 * in error messages. Like `load_state_dict(strict=True)`: every key of `head` must be
 * present with the expected shape, and no other key may be. float32 and float64 weights
 * are accepted; the values must be finite.
 *
 * @example
 * ```ts ignore
 * const planner = sftPlannerFromPt(await readPt("model.pt"), "model.pt", { horizon: 20, obsDim: 41 });
 * // a planner for H = 5 is refused:
 * // model.pt: head.0.weight has shape [8, 11], expected [8, 41] (in_dim = 1 + 2 * horizon_steps of the environment)
 * ```
 */
export function sftPlannerFromPt(
  root: PtValue,
  source: string,
  expect: SftPlannerExpectation,
): MlpPlanner {
  const head = root instanceof PtDict ? root.get("head") : undefined;
  if (!(head instanceof PtDict)) {
    throw new PtFormatError(source, "not an SFT planner checkpoint (no 'head' state_dict)");
  }
  const { horizon, obsDim } = expect;
  const a = 2 * horizon;
  const fileHidden = (root as PtDict).get("hidden_dim");
  let hidden: number;
  let hiddenWhy: string;
  if (typeof fileHidden === "number" && Number.isInteger(fileHidden) && fileHidden > 0) {
    hidden = fileHidden;
    hiddenWhy = `hidden_dim = ${hidden} in the file`;
  } else {
    const w0 = head.get("0.weight");
    hidden = w0 instanceof Tensor && w0.shape.length === 2 && w0.shape[0] > 0 ? w0.shape[0] : -1;
    hiddenWhy = "hidden_dim, the rows of head.0.weight";
  }
  const inWhy = "in_dim = 1 + 2 * horizon_steps of the environment";
  const outWhy = "2 * horizon_steps of the environment";
  const expected: Array<{ key: string; shape: number[]; why: string[] }> = [
    { key: "0.weight", shape: [hidden, obsDim], why: [hiddenWhy, inWhy] },
    { key: "0.bias", shape: [hidden], why: [hiddenWhy] },
    { key: "2.weight", shape: [a, hidden], why: [outWhy, hiddenWhy] },
    { key: "2.bias", shape: [a], why: [outWhy] },
  ];
  const shapeText = (shape: number[]) =>
    `[${shape.map((d) => (d < 0 ? "hidden_dim" : String(d))).join(", ")}]`;
  const tensors = new Map<string, Tensor>();
  for (const { key, shape, why } of expected) {
    const t = head.get(key);
    if (t === undefined) {
      throw new PtFormatError(
        source,
        `head.${key} is missing (expected a tensor of shape ${shapeText(shape)})`,
      );
    }
    if (!(t instanceof Tensor)) {
      throw new PtFormatError(source, `head.${key} is not a tensor`);
    }
    if (t.dtype === "int64") {
      throw new PtFormatError(source, `head.${key} has dtype int64, expected float32`);
    }
    const fits = t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i]);
    if (!fits) {
      const reasons = t.shape.length === shape.length
        ? why.filter((_, i) => t.shape[i] !== shape[i])
        : why;
      throw new PtFormatError(
        source,
        `head.${key} has shape ${shapeText(t.shape)}, expected ${shapeText(shape)} (${
          reasons.join("; ")
        })`,
      );
    }
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i] as number)) {
        throw new PtFormatError(source, `head.${key} holds a non-finite value at index ${i}`);
      }
    }
    tensors.set(key, t);
  }
  for (const key of head.keys()) {
    if (!tensors.has(String(key))) {
      throw new PtFormatError(
        source,
        `head has an unexpected key '${String(key)}' (expected 0.weight, 0.bias, 2.weight, 2.bias)`,
      );
    }
  }
  const planner = new MlpPlanner({ inDim: obsDim, hidden, horizon, rng: new Rng(0) });
  for (const [key, t] of tensors) planner.params.view(key).set(t.data as Float32Array);
  return planner;
}
