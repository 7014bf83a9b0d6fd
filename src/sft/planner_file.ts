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
import { checkStateDict, loadStateDict, stateDict } from "../nn/mod.ts";
import type { StateDictFault } from "../nn/mod.ts";
import { jsonToPt, PtDict, PtFormatError, readPt, Tensor, writePt } from "../io/mod.ts";
import type { PtValue } from "../io/mod.ts";
import { MlpPlanner } from "./mlp_planner.ts";

/** Value of the `format` key of an SFT planner checkpoint. */
export const SFT_CHECKPOINT_FORMAT = "delta-waypoint-sft/1";

/** What an SFT checkpoint stores besides the weights. */
export interface SftCheckpointMeta {
  /** The env's main section the planner was trained on (stored as `env_cfg`). */
  env: object;
  /** More top-level keys (plain JSON data), e.g. the training config and metrics. */
  extra?: Record<string, unknown>;
}

/** The dims a loaded planner must have to drive the current environment. */
export interface SftPlannerExpectation {
  /** H of the environment. */
  horizon: number;
  /** The planner's input: the first numbers of an observation (1 + 2H: the driving z). */
  obsDim: number;
}

/**
 * The checkpoint tree of `planner` (see the module doc for the layout).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
 * import { PtDict } from "../io/torch_pt.ts";
 * import { Rng } from "../math/mod.ts";
 * import { MlpPlanner } from "./mlp_planner.ts";
 * const planner = new MlpPlanner({ inDim: 41, hidden: 8, horizon: 20, rng: new Rng(42) });
 * const root = sftCheckpoint(planner, { env: DEFAULT_ENV_CONFIG, extra: { seed: 42 } });
 * (root.get("head") as PtDict).get("0.weight"); // Tensor float32 [hidden, 41]
 * ```
 */
export function sftCheckpoint(planner: MlpPlanner, meta: SftCheckpointMeta): PtDict {
  const root = new PtDict();
  root.set("head", stateDict(planner.params));
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
  const expected: ExpectedTensor[] = [
    { name: "0.weight", shape: [hidden, obsDim], why: [hiddenWhy, inWhy] },
    { name: "0.bias", shape: [hidden], why: [hiddenWhy] },
    { name: "2.weight", shape: [a, hidden], why: [outWhy, hiddenWhy] },
    { name: "2.bias", shape: [a], why: [outWhy] },
  ];
  const fault = (f: StateDictFault) => headFault(f, { source, expected });
  // no width known (neither hidden_dim nor a usable head.0.weight): the check fails
  if (hidden < 1) checkStateDict(head, expected, { where: "head", fault });
  const planner = new MlpPlanner({ inDim: obsDim, hidden, horizon, rng: new Rng(0) });
  loadStateDict(planner.params, head, { where: "head", fault });
  return planner;
}

/** A tensor of `head`, its shape (-1: hidden_dim unknown) and why each dim is what it is. */
interface ExpectedTensor {
  name: string;
  shape: number[];
  why: string[];
}

// A fault of `head` in this file's words: the key, the shapes, and which of the
// environment or the file fixes each mismatched dim.
function headFault(
  f: StateDictFault,
  opts: { source: string; expected: ExpectedTensor[] },
): PtFormatError {
  const { source, expected } = opts;
  const shapeText = (shape: readonly number[]) =>
    `[${shape.map((d) => (d < 0 ? "hidden_dim" : String(d))).join(", ")}]`;
  const at = `head.${f.key}`;
  switch (f.kind) {
    case "missing":
      return new PtFormatError(
        source,
        `${at} is missing (expected a tensor of shape ${shapeText(f.shape)})`,
      );
    case "not_tensor":
      return new PtFormatError(source, `${at} is not a tensor`);
    case "dtype":
      return new PtFormatError(source, `${at} has dtype int64, expected float32`);
    case "shape": {
      const found = f.found.shape;
      const why = expected.find((e) => e.name === f.key)!.why;
      const reasons = found.length === f.shape.length
        ? why.filter((_, i) => found[i] !== f.shape[i])
        : why;
      return new PtFormatError(
        source,
        `${at} has shape ${shapeText(found)}, expected ${shapeText(f.shape)} (${
          reasons.join("; ")
        })`,
      );
    }
    case "non_finite":
      return new PtFormatError(source, `${at} holds a non-finite value at index ${f.index}`);
    case "unexpected":
      return new PtFormatError(
        source,
        `head has an unexpected key '${f.key}' (expected 0.weight, 0.bias, 2.weight, 2.bias)`,
      );
  }
}
