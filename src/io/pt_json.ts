/**
 * Plain JSON-like data to and from pickle values: what a checkpoint stores besides its
 * tensors (configs, histories, metrics), and how `inspect` shows a tree.
 *
 * @module
 */

import { PtDict, PtTuple, Tensor } from "./torch_pt.ts";
import type { PtValue } from "./torch_pt.ts";

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
 * A pickle value as plain JSON-like data: dicts become objects, tuples arrays, tensors
 * `{dtype, shape, data}` with numbers, bigints numbers.
 *
 * @example
 * ```ts
 * import { PtTuple } from "./torch_pt.ts";
 * ptToJson(new PtTuple([1, "x"])); // [1, "x"]
 * ```
 */
export function ptToJson(value: PtValue): unknown {
  if (value instanceof Tensor) {
    return { dtype: value.dtype, shape: value.shape, data: Array.from(value.data, Number) };
  }
  if (value instanceof PtTuple) return value.items.map(ptToJson);
  if (value instanceof PtDict) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.entries()) out[String(k)] = ptToJson(v);
    return out;
  }
  if (Array.isArray(value)) return value.map(ptToJson);
  if (typeof value === "bigint") return Number(value);
  return value;
}
