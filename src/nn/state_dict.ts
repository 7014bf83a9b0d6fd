/**
 * ParamSets and Adam state to and from torch state_dicts: the one place where weights
 * become float32 tensors in spec order, and where a stored state_dict is loaded back
 * strictly (every key present with its shape, no other key, finite values), like
 * `load_state_dict(strict=True)`. The trainer checkpoint (`run/`) and the SFT planner
 * file (`sft/`) are both written and read through it.
 *
 * A fault of a loaded state_dict is reported as a typed {@linkcode StateDictFault};
 * by default it becomes a one-line {@linkcode UserError} naming `where`, the key and
 * the shapes, and a file format may word it its own way (`fault`).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { PtDict, PtTuple, Tensor } from "../io/mod.ts";
import type { Adam } from "./adam.ts";
import type { ActorCritic } from "./heads.ts";
import { scaleByFactors } from "./heads.ts";
import type { ParamSet, ParamSpec } from "./params.ts";

/**
 * The model a ParamSet belongs to, when it holds some parameters in another form than
 * the one stored ({@linkcode ActorCritic.storedFactors}); null: stored as held.
 */
export type StoredFormModel = Pick<ActorCritic, "storedFactors"> | null;

/** What is wrong with one key of a loaded state_dict. */
export type StateDictFault =
  /** an expected key is absent */
  | { kind: "missing"; key: string; shape: readonly number[] }
  /** an expected key holds something other than a tensor */
  | { kind: "not_tensor"; key: string; shape: readonly number[] }
  /** an integer tensor where floats belong */
  | { kind: "dtype"; key: string; shape: readonly number[]; found: Tensor }
  /** a tensor of another shape than expected */
  | { kind: "shape"; key: string; shape: readonly number[]; found: Tensor }
  /** a NaN or an infinity */
  | { kind: "non_finite"; key: string; index: number; value: number }
  /** a key the set does not have */
  | { kind: "unexpected"; key: string };

/** How a strict load names what it checks and reports what is wrong. */
export interface StrictLoadOptions {
  /** Prefix of the default messages, e.g. `"final.pt: delta_head"`. */
  where: string;
  /** The error to throw for a fault; default: a {@linkcode UserError} after `where`. */
  fault?: (fault: StateDictFault) => Error;
}

/**
 * A ParamSet as a torch state_dict: an OrderedDict of float32 tensors in spec order.
 * Given the `model` the set belongs to, parameters are stored in the PyTorch contract's
 * form (raw observation in, value out: {@linkcode ActorCritic.storedFactors}).
 *
 * @example
 * ```ts ignore
 * const sd = stateDict(model.delta, model); // OrderedDict{log_std, net.0.weight, ...}
 * ```
 */
export function stateDict(set: ParamSet, model: StoredFormModel = null): PtDict {
  const sd = new PtDict([], true);
  for (const spec of set.specs) {
    const values = storedForm(set.view(spec.name), { model, set, name: spec.name, power: 1 });
    sd.set(spec.name, float32Tensor(values, spec.shape));
  }
  return sd;
}

interface StoredFormOptions {
  model: StoredFormModel;
  set: ParamSet;
  name: string;
  /** 1 for a parameter, -1 for its exp_avg, -2 for its exp_avg_sq */
  power: 1 | -1 | -2;
}

// `values` as stored (a converted copy), when the model holds the parameter otherwise.
function storedForm(values: Float64Array, opts: StoredFormOptions): Float64Array {
  const factors = opts.model?.storedFactors(opts.set, opts.name) ?? null;
  if (factors === null) return values;
  const out = values.slice();
  scaleByFactors(out, factors, opts.power);
  return out;
}

// In place, from the stored form back to the model's: the exact inverse of storedForm.
function heldForm(values: Float64Array, opts: StoredFormOptions): void {
  const factors = opts.model?.storedFactors(opts.set, opts.name) ?? null;
  if (factors !== null) scaleByFactors(values, factors, -opts.power);
}

function float32Tensor(values: Float64Array, shape: readonly number[]): Tensor {
  return new Tensor("float32", [...shape], Float32Array.from(values));
}

/**
 * Adam state in torch.optim.Adam's state_dict layout: parameters numbered across the
 * sets in order, each with a 0-d float32 `step` and the two moments (stored as the
 * gradients of the stored parameters would make them, given the sets' `model`).
 *
 * @example
 * ```ts ignore
 * const sd = adamStateDict(trainer.optimizer, [trainer.model.delta, trainer.model.value]);
 * ```
 */
export function adamStateDict(
  adam: Adam,
  sets: ParamSet[],
  model: StoredFormModel = null,
): PtDict {
  const state = new PtDict();
  let index = 0;
  sets.forEach((set, s) => {
    for (const spec of set.specs) {
      const range = [spec.offset, spec.offset + spec.size] as const;
      const entry = new PtDict();
      entry.set("step", new Tensor("float32", [], new Float32Array([adam.stepCount])));
      const moment = (values: Float64Array, power: -1 | -2) =>
        float32Tensor(storedForm(values, { model, set, name: spec.name, power }), spec.shape);
      entry.set("exp_avg", moment(adam.expAvg[s].subarray(...range), -1));
      entry.set("exp_avg_sq", moment(adam.expAvgSq[s].subarray(...range), -2));
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
 * Checks a state_dict against `specs` strictly, in this order: every spec's key holds
 * a float tensor of its shape (in spec order), no other key is present, every value is
 * finite. The first fault found is thrown (see {@linkcode StrictLoadOptions.fault}).
 *
 * @example
 * ```ts
 * import { PtDict, Tensor } from "../io/torch_pt.ts";
 * const sd = new PtDict([["0.bias", new Tensor("float32", [16], new Float32Array(16))]]);
 * checkStateDict(sd, [{ name: "0.bias", shape: [16] }], { where: "model.pt: head" });
 * ```
 */
export function checkStateDict(
  sd: PtDict,
  specs: ReadonlyArray<Readonly<ParamSpec>>,
  opts: StrictLoadOptions,
): void {
  const fail = opts.fault ?? ((f: StateDictFault) => defaultFault(f, opts.where));
  for (const { name, shape } of specs) {
    const t = sd.get(name);
    if (t === undefined) throw fail({ kind: "missing", key: name, shape });
    if (!(t instanceof Tensor)) throw fail({ kind: "not_tensor", key: name, shape });
    if (t.dtype === "int64") throw fail({ kind: "dtype", key: name, shape, found: t });
    if (!sameShape(t.shape, shape)) throw fail({ kind: "shape", key: name, shape, found: t });
  }
  for (const k of sd.keys()) {
    if (!specs.some((s) => s.name === k)) throw fail({ kind: "unexpected", key: String(k) });
  }
  for (const { name } of specs) {
    const data = (sd.get(name) as Tensor).data;
    for (let i = 0; i < data.length; i++) {
      const v = Number(data[i]);
      if (!Number.isFinite(v)) throw fail({ kind: "non_finite", key: name, index: i, value: v });
    }
  }
}

// The trainer checkpoint's wording of a fault.
function defaultFault(f: StateDictFault, where: string): UserError {
  const at = `${where}.${f.key}`;
  switch (f.kind) {
    case "missing":
    case "not_tensor":
      return new UserError(`${at}: missing from the checkpoint`);
    case "dtype":
    case "shape":
      return new UserError(
        `${at}: has shape [${f.found.shape.join(", ")}] (${f.found.dtype}), expected [${
          f.shape.join(", ")
        }] (float32)`,
      );
    case "unexpected":
      return new UserError(`${at}: unexpected key`);
    case "non_finite":
      return new UserError(`${at}: holds a non-finite value (${f.value}) at index ${f.index}`);
  }
}

/**
 * Copies a state_dict into a ParamSet after {@linkcode checkStateDict}; the message of
 * a mismatch names the key, the expected shape and the found one. Given the `model`
 * the set belongs to, stored parameters are converted to the model's form (the exact
 * inverse of {@linkcode stateDict}).
 *
 * @example
 * ```ts ignore
 * loadStateDict(trainer.model.delta, ckpt.deltaHead, { where: `${path}: delta_head` });
 * ```
 */
export function loadStateDict(
  set: ParamSet,
  sd: PtDict,
  opts: StrictLoadOptions & { model?: StoredFormModel },
): void {
  checkStateDict(sd, set.specs, opts);
  for (const spec of set.specs) {
    const view = set.view(spec.name);
    view.set((sd.get(spec.name) as Tensor).data as Float32Array | Float64Array);
    heldForm(view, { model: opts.model ?? null, set, name: spec.name, power: 1 });
  }
}

/**
 * Loads torch Adam state (parameters numbered across `sets` in order) into `adam`.
 * Returns the step count it found. Messages name each parameter as `names[set].key`
 * (default: the actor-critic's `delta_head` and `value_head`).
 *
 * @example
 * ```ts ignore
 * const steps = loadAdamState(trainer.optimizer, ckpt.optimizer!, {
 *   sets: [trainer.model.delta, trainer.model.value],
 *   source: path,
 * });
 * ```
 */
export function loadAdamState(
  adam: Adam,
  sd: PtDict,
  opts: { sets: ParamSet[]; source: string; model?: StoredFormModel; names?: string[] },
): number {
  const { sets, source } = opts;
  const model = opts.model ?? null;
  const names = opts.names ?? ["delta_head", "value_head"];
  const state = sd.get("state");
  if (!(state instanceof PtDict)) throw new UserError(`${source}: optimizer has no 'state' dict`);
  let index = 0;
  let step: number | null = null;
  sets.forEach((set, s) => {
    for (const spec of set.specs) {
      const entry = state.get(index);
      const where = `${source}: optimizer.state.${index} (${names[s]}.${spec.name})`;
      const range = [spec.offset, spec.offset + spec.size] as const;
      if (entry === undefined) {
        // torch keeps no state for a parameter that never had a gradient step
        adam.expAvg[s].subarray(...range).fill(0);
        adam.expAvgSq[s].subarray(...range).fill(0);
        index++;
        continue;
      }
      if (!(entry instanceof PtDict)) throw new UserError(`${where}: not a dict`);
      for (const key of ["exp_avg", "exp_avg_sq"] as const) {
        const t = entry.get(key);
        if (!(t instanceof Tensor) || !sameShape(t.shape, spec.shape)) {
          const found = t instanceof Tensor ? `[${t.shape.join(", ")}]` : "nothing";
          throw new UserError(
            `${where}.${key}: has shape ${found}, expected [${spec.shape.join(", ")}]`,
          );
        }
        requireFinite(t, `${where}.${key}`, key === "exp_avg_sq" ? 0 : -Infinity);
        const target = (key === "exp_avg" ? adam.expAvg : adam.expAvgSq)[s].subarray(...range);
        target.set(t.data as Float32Array | Float64Array);
        heldForm(target, { model, set, name: spec.name, power: key === "exp_avg" ? -1 : -2 });
      }
      const st = entry.get("step");
      const stepValue = st instanceof Tensor
        ? Number(st.data[0])
        : typeof st === "number"
        ? st
        : NaN;
      if (!Number.isInteger(stepValue) || stepValue < 0) {
        throw new UserError(`${where}.step: not a step count`);
      }
      step = Math.max(step ?? 0, stepValue);
      index++;
    }
  });
  if (state.size > index) {
    throw new UserError(
      `${source}: optimizer state has ${state.size} parameters, the model has ${index}`,
    );
  }
  adam.stepCount = step ?? 0;
  return adam.stepCount;
}

// Refuses a tensor holding NaN, an infinity, or a value below `min`.
function requireFinite(t: Tensor, where: string, min: number): void {
  const data = t.data;
  for (let i = 0; i < data.length; i++) {
    const v = Number(data[i]);
    if (!Number.isFinite(v) || v < min) {
      const what = Number.isFinite(v) ? `a negative value (${v})` : `a non-finite value (${v})`;
      throw new UserError(`${where}: holds ${what} at index ${i}`);
    }
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
