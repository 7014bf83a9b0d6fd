/**
 * The value model of a `.pt` checkpoint: what the pickle inside holds, in JS terms.
 * Public through `torch_pt.ts`; kept here so the pickle reader and writer can share it
 * without importing the public module.
 *
 * @module
 */

import { UserError } from "../errors.ts";

/** Element type of a tensor: torch.float32, torch.float64 or torch.int64. */
export type PtDtype = "float32" | "float64" | "int64";

/** A Python dict key: str, or int (a non-integer number is a Python float key). */
export type PtKey = string | number;

/**
 * Any value a checkpoint can hold: None, bool, int (number or bigint), float (number),
 * str, list, tuple, dict / OrderedDict, tensor.
 */
export type PtValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PtValue[]
  | PtTuple
  | PtDict
  | Tensor;

/** Typed array that holds a tensor's elements. */
export type TensorData = Float32Array | Float64Array | BigInt64Array;

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<PtDtype, number>> = {
  float32: 4,
  float64: 8,
  int64: 8,
};

/**
 * Number of elements of a tensor of `shape` (1 for a 0-d tensor).
 *
 * @example
 * ```ts
 * shapeNumel([64, 41]); // 2624
 * shapeNumel([]); // 1
 * ```
 */
export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function arrayMatchesDtype(dtype: PtDtype, data: TensorData): boolean {
  switch (dtype) {
    case "float32":
      return data instanceof Float32Array;
    case "float64":
      return data instanceof Float64Array;
    case "int64":
      return data instanceof BigInt64Array;
  }
}

/**
 * A dense CPU tensor: contiguous row-major elements (`numel` = product of `shape`; a
 * 0-d tensor has shape `[]` and one element).
 *
 * @example
 * ```ts
 * const w = new Tensor("float32", [2, 3], new Float32Array([1, 2, 3, 4, 5, 6]));
 * w.data[1 * 3 + 2]; // row 1, column 2: 6
 * ```
 */
export class Tensor {
  /** Element type. */
  readonly dtype: PtDtype;
  /** Size of each dimension, outermost first. */
  readonly shape: number[];
  /** The elements in row-major order; its type matches `dtype`. */
  readonly data: TensorData;

  /**
   * Checks that `data` is the typed array of `dtype` and holds exactly the product of
   * `shape` elements (a `TypeError` or `RangeError` otherwise); keeps `shape` and
   * `data` without copying.
   */
  constructor(dtype: PtDtype, shape: number[], data: TensorData) {
    if (!(dtype in DTYPE_SIZE)) throw new TypeError(`Tensor: unknown dtype '${dtype}'`);
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new RangeError(`Tensor: bad shape [${shape.join(", ")}]`);
      }
    }
    if (!arrayMatchesDtype(dtype, data)) {
      throw new TypeError(`Tensor: ${dtype} data must not be a ${data.constructor.name}`);
    }
    const numel = shapeNumel(shape);
    if (data.length !== numel) {
      throw new RangeError(
        `Tensor: shape [${shape.join(", ")}] needs ${numel} elements, data has ${data.length}`,
      );
    }
    this.dtype = dtype;
    this.shape = shape;
    this.data = data;
  }

  /** Number of elements (product of `shape`). */
  get numel(): number {
    return this.data.length;
  }
}

/**
 * A Python tuple (the optimizer's `betas`, for instance). Written as a tuple so that
 * torch sees the same type it saved.
 *
 * @example
 * ```ts
 * const betas = new PtTuple([0.9, 0.999]);
 * ```
 */
export class PtTuple {
  /** The tuple's elements, in order. */
  readonly items: PtValue[];

  /** Wraps `items` (kept, not copied). */
  constructor(items: PtValue[]) {
    this.items = items;
  }

  /** Number of elements. */
  get length(): number {
    return this.items.length;
  }
}

/**
 * An insertion-ordered Python dict with str or int keys. `ordered: true` is written as
 * `collections.OrderedDict` (what torch `state_dict()`s are), `false` as a plain dict.
 * The string key `"0"` and the int key `0` are different keys, as in Python.
 *
 * @example
 * ```ts
 * const sd = new PtDict([["net.0.bias", new Tensor("float32", [1], new Float32Array(1))]], true);
 * const state = new PtDict([[0, new PtDict([["step", 3]])]]); // int key 0
 * sd.get("net.0.bias");
 * ```
 */
export class PtDict {
  /** Written as `collections.OrderedDict` when true, as a plain dict when false. */
  ordered: boolean;
  #map: Map<PtKey, PtValue>;

  /** `entries` in insertion order; `ordered`: write as `collections.OrderedDict`. */
  constructor(entries?: Iterable<readonly [PtKey, PtValue]>, ordered = false) {
    this.#map = new Map(entries);
    this.ordered = ordered;
  }

  /** The value under `key`, or `undefined` when absent. */
  get(key: PtKey): PtValue | undefined {
    return this.#map.get(key);
  }

  /** Sets `key` (a new key goes last; an existing one keeps its place). */
  set(key: PtKey, value: PtValue): this {
    this.#map.set(key, value);
    return this;
  }

  /** Whether `key` is present. */
  has(key: PtKey): boolean {
    return this.#map.has(key);
  }

  /** Removes `key`; true when it was present. */
  delete(key: PtKey): boolean {
    return this.#map.delete(key);
  }

  /** Keys in insertion order. */
  keys(): IterableIterator<PtKey> {
    return this.#map.keys();
  }

  /** Values in insertion order. */
  values(): IterableIterator<PtValue> {
    return this.#map.values();
  }

  /** `[key, value]` pairs in insertion order. */
  entries(): IterableIterator<[PtKey, PtValue]> {
    return this.#map.entries();
  }

  /** Number of entries. */
  get size(): number {
    return this.#map.size;
  }

  /** `[key, value]` pairs in insertion order, as {@linkcode PtDict.entries}. */
  [Symbol.iterator](): IterableIterator<[PtKey, PtValue]> {
    return this.#map.entries();
  }
}

/**
 * A `.pt` file (or bytes) that cannot be read: its one-line message names the file and
 * what is wrong with it.
 *
 * @example
 * ```ts
 * import { decodePt } from "./torch_pt.ts";
 *
 * try {
 *   decodePt(new Uint8Array(), { source: "best.pt" });
 * } catch (e) {
 *   if (e instanceof PtFormatError) console.error(e.message); // "best.pt: file is empty"
 * }
 * ```
 */
export class PtFormatError extends UserError {
  /** The file (or other source name) at fault. */
  readonly source: string;
  /** What is wrong, without the file name. */
  readonly problem: string;

  /**
   * The message is `"<source>: <problem>"` (a line break in a file name stays in it;
   * `reportError` prints it escaped, on one line).
   */
  constructor(source: string, problem: string, options?: { cause?: unknown }) {
    super(`${source}: ${problem}`, options);
    this.name = "PtFormatError";
    this.source = source;
    this.problem = problem;
  }
}

/**
 * Quotes a name read from a file for an error message: one line, control characters
 * escaped, at most 80 characters.
 *
 * @example
 * ```ts
 * quoteName("data\n.pkl"); // "'data\\x0a.pkl'"
 * ```
 */
export function quoteName(name: string): string {
  const short = name.length > 80 ? name.slice(0, 77) + "..." : name;
  let out = "";
  for (const ch of short) {
    const c = ch.codePointAt(0)!;
    out += c < 0x20 || c === 0x7f || ch === "\\" || ch === "'"
      ? "\\x" + c.toString(16).padStart(2, "0")
      : ch;
  }
  return `'${out}'`;
}
