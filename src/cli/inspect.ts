/**
 * `inspect PATH [--json]`: what a `.pt` checkpoint holds, ours or PyTorch's: top-level
 * keys, every tensor's key, shape, dtype and min/mean/max, and the other values
 * (config, episode, lists).
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { PtDict, PtTuple, readPt, Tensor } from "../io/mod.ts";
import type { PtValue } from "../io/mod.ts";
import { ptToJson } from "../io/mod.ts";
import { MAX_PICKLE_DEPTH } from "../io/mod.ts";
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
  // Recursion is safe on a decoded tree: decodePt refuses nesting deeper than
  // MAX_PICKLE_DEPTH and containers that hold themselves, and bounds the tree's size
  // with shared values counted where they appear; the depth check here is for trees
  // built in code. Returns whether `v` holds a tensor.
  const walk = (v: PtValue, key: string, depth: number): boolean => {
    if (depth > MAX_PICKLE_DEPTH) {
      throw new UserError(`${path}: nested deeper than ${MAX_PICKLE_DEPTH} levels`);
    }
    if (v instanceof Tensor) {
      tensors.push(tensorInfo(v, key));
      return true;
    }
    let holds = false;
    if (v instanceof PtDict) {
      for (const [k, x] of v.entries()) {
        const part = displayKey(String(k));
        holds = walk(x, capKey(key ? `${key}.${part}` : part), depth + 1) || holds;
      }
    } else if (v instanceof PtTuple || Array.isArray(v)) {
      const items = v instanceof PtTuple ? v.items : v;
      for (let i = 0; i < items.length; i++) {
        holds = walk(items[i], capKey(`${key}[${i}]`), depth + 1) || holds;
      }
    }
    return holds;
  };
  const keys: string[] = [];
  const values: Record<string, unknown> = {};
  if (root instanceof PtDict) {
    for (const [k, v] of root.entries()) {
      keys.push(String(k));
      if (!walk(v, displayKey(String(k)), 1)) values[String(k)] = ptToJson(v);
    }
  } else if (!walk(root, "", 0)) {
    values[""] = ptToJson(root);
  }
  return { path, keys, tensors, values };
}

/** A key as shown in a tensor's path: control characters escaped, at most 80 characters. */
function displayKey(key: string): string {
  let out = "";
  for (const ch of key.length > 80 ? `${key.slice(0, 77)}...` : key) {
    const c = ch.charCodeAt(0);
    out += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return out;
}

/** A tensor's path kept to 200 characters (its start and end), whatever the nesting. */
function capKey(key: string): string {
  return key.length > 200 ? `${key.slice(0, 100)}...${key.slice(-97)}` : key;
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
  let keyWidth = 3;
  for (const t of info.tensors) keyWidth = Math.max(keyWidth, t.key.length);
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
