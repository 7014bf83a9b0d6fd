/**
 * `inspect PATH [--json]`: what a `.pt` checkpoint holds, ours or PyTorch's: top-level
 * keys, every tensor's key, shape, dtype and min/mean/max, and the other values
 * (config, episode, lists).
 *
 * @module
 */

import { UserError } from "../math/errors.ts";
import { PtDict, PtTuple, readPt, Tensor } from "../io/torch_pt.ts";
import type { PtValue } from "../io/torch_pt.ts";
import { ptToJson } from "../io/checkpoint.ts";
import { parseFlags } from "./_flags.ts";

/** One tensor of the file. */
export interface TensorInfo {
  /**
   * Path from the root: dict keys joined by ".", list and tuple items as "[i]", e.g.
   * "delta_head.net.0.weight".
   */
  key: string;
  /** "float32", "float64" or "int64". */
  dtype: string;
  /** Size of each dimension, outermost first (`[]` for a 0-d tensor). */
  shape: number[];
  /** Number of elements. */
  numel: number;
  /** Smallest element; null for an empty tensor. */
  min: number | null;
  /** Mean of the elements; null for an empty tensor. */
  mean: number | null;
  /** Largest element; null for an empty tensor. */
  max: number | null;
}

/** What `inspect --json` prints. */
export interface CheckpointInfo {
  /** The file as given on the command line. */
  path: string;
  /** Top-level keys in file order (empty when the root is not a dict). */
  keys: string[];
  /** Every tensor in the file, depth first in file order. */
  tensors: TensorInfo[];
  /** Top-level entries that hold no tensor, as JSON. */
  values: Record<string, unknown>;
}

/**
 * `inspect --help`.
 *
 * @example
 * ```ts
 * console.log(inspectHelp());
 * ```
 */
export function inspectHelp(): string {
  return [
    "Usage: delta-waypoint inspect PATH [--json]",
    "",
    "Print what a .pt checkpoint holds (ours or one written by torch.save): top-level keys,",
    "each tensor's key, shape, dtype and min/mean/max, and the config, episode and other values.",
    "",
    "Flags:",
    "  --json       print one JSON document on stdout instead of text",
    "  -h, --help   this help",
  ].join("\n");
}

/**
 * Describes a decoded checkpoint.
 *
 * @example
 * ```ts ignore
 * const info = describeCheckpoint(await readPt("final.pt"), "final.pt");
 * ```
 */
export function describeCheckpoint(root: PtValue, path: string): CheckpointInfo {
  const tensors: TensorInfo[] = [];
  const walk = (v: PtValue, key: string) => {
    if (v instanceof Tensor) tensors.push(tensorInfo(v, key));
    else if (v instanceof PtDict) {
      for (const [k, x] of v.entries()) walk(x, key ? `${key}.${k}` : String(k));
    } else if (v instanceof PtTuple || Array.isArray(v)) {
      (v instanceof PtTuple ? v.items : v).forEach((x, i) => walk(x, `${key}[${i}]`));
    }
  };
  walk(root, "");
  const keys: string[] = [];
  const values: Record<string, unknown> = {};
  if (root instanceof PtDict) {
    for (const [k, v] of root.entries()) {
      keys.push(String(k));
      if (!holdsTensor(v)) values[String(k)] = ptToJson(v);
    }
  } else if (!holdsTensor(root)) {
    values[""] = ptToJson(root);
  }
  return { path, keys, tensors, values };
}

function holdsTensor(v: PtValue): boolean {
  if (v instanceof Tensor) return true;
  if (v instanceof PtDict) return [...v.values()].some(holdsTensor);
  if (v instanceof PtTuple) return v.items.some(holdsTensor);
  if (Array.isArray(v)) return v.some(holdsTensor);
  return false;
}

function tensorInfo(t: Tensor, key: string): TensorInfo {
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < t.data.length; i++) {
    const x = Number(t.data[i]);
    if (x < min) min = x;
    if (x > max) max = x;
    sum += x;
  }
  const n = t.data.length;
  return {
    key,
    dtype: t.dtype,
    shape: [...t.shape],
    numel: n,
    min: n ? min : null,
    mean: n ? sum / n : null,
    max: n ? max : null,
  };
}

/**
 * The text form of {@linkcode CheckpointInfo}: a table of the tensors, then the other
 * values (long lists shortened to their length and ends).
 *
 * @example
 * ```ts ignore
 * console.log(formatCheckpointInfo(describeCheckpoint(await readPt("final.pt"), "final.pt")));
 * ```
 */
export function formatCheckpointInfo(info: CheckpointInfo): string {
  const lines = [`${info.path}`, `top-level keys: ${info.keys.join(", ") || "(not a dict)"}`, ""];
  const keyWidth = Math.max(3, ...info.tensors.map((t) => t.key.length));
  lines.push(
    `${"key".padEnd(keyWidth)}  ${"dtype".padEnd(7)}  ${"shape".padEnd(10)}  ${
      "min".padStart(11)
    }  ${"mean".padStart(11)}  ${"max".padStart(11)}`,
  );
  const num = (
    x: number | null,
  ) => (x === null ? "-" : Number.isInteger(x) ? String(x) : x.toPrecision(5));
  for (const t of info.tensors) {
    lines.push(
      `${t.key.padEnd(keyWidth)}  ${t.dtype.padEnd(7)}  ${`[${t.shape.join(", ")}]`.padEnd(10)}  ${
        num(t.min).padStart(11)
      }  ${num(t.mean).padStart(11)}  ${num(t.max).padStart(11)}`,
    );
  }
  lines.push(
    `${info.tensors.length} tensors, ${info.tensors.reduce((s, t) => s + t.numel, 0)} values`,
  );
  for (const [k, v] of Object.entries(info.values)) {
    lines.push("", `${k}: ${summarizeValue(v)}`);
  }
  return lines.join("\n");
}

// Long lists (per-episode rewards, metrics history) shown by length and ends.
function summarizeValue(v: unknown): string {
  if (Array.isArray(v) && v.length > 8) {
    const head = v.slice(0, 3).map((x) => JSON.stringify(x)).join(", ");
    const tail = JSON.stringify(v[v.length - 1]);
    const text = `list of ${v.length}: [${head}, ..., ${tail}]`;
    return text.length > 300 ? `list of ${v.length}` : text;
  }
  return JSON.stringify(v, null, 2);
}

/**
 * Runs `inspect`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * await runInspect(["out/rl_delta_waypoint_v0/run_001/final.pt", "--json"]);
 * ```
 */
export async function runInspect(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags("inspect", args, {
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  }, true);
  if (values.help) {
    console.log(inspectHelp());
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UserError(
      `inspect: expected one checkpoint path, got ${positionals.length} (see --help)`,
    );
  }
  const path = positionals[0];
  const info = describeCheckpoint(await readPt(path), path);
  console.log(values.json ? JSON.stringify(info, null, 2) : formatCheckpointInfo(info));
  return 0;
}
