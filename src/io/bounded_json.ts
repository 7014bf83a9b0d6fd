/**
 * JSON files a user hands us (scenario files, logged episodes), read within budgets:
 * the file's size (through {@linkcode readBoundedFile}), how deep arrays and objects
 * nest, and how long one string is. The text is scanned for depth and string length
 * before `JSON.parse` sees it, so a small file can never build a deep or huge value.
 * Every failure is a one-line {@linkcode FileReadError} naming the file.
 *
 * @module
 */

import { FileReadError, readBoundedFile } from "./limits.ts";

/** Budgets of {@linkcode readBoundedJson}. */
export interface JsonBudget {
  /** Largest file (bytes). */
  maxBytes: number;
  /** Deepest nesting of arrays and objects (the top-level value is depth 1). */
  maxDepth: number;
  /** Longest string, key or value (bytes of its JSON text, escapes counted as written). */
  maxStringBytes: number;
  /**
   * Most arrays and objects in the whole file (none when absent): a few bytes of text
   * (`{},`) make a JS object of dozens of bytes, so a file of millions of them would
   * take gigabytes to parse.
   */
  maxContainers?: number;
  /** What the file is, for messages, e.g. "a scenario file". */
  what: string;
}

const QUOTE = 0x22, BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b, CLOSE_ARRAY = 0x5d, OPEN_OBJECT = 0x7b, CLOSE_OBJECT = 0x7d;

/**
 * The first budget `text` breaks (as a problem without the file name), or null. Only
 * the structure is looked at; whether it is valid JSON is `JSON.parse`'s to say.
 *
 * @example
 * ```ts
 * jsonBudgetProblem(new TextEncoder().encode("[[1]]"), { maxBytes: 99, maxDepth: 1, maxStringBytes: 9, what: "x" });
 * // "nests arrays and objects deeper than the limit of 1"
 * ```
 */
export function jsonBudgetProblem(text: Uint8Array, budget: JsonBudget): string | null {
  let depth = 0, containers = 0;
  const maxContainers = budget.maxContainers ?? Infinity;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === QUOTE) {
      const start = i;
      for (i++; i < text.length && text[i] !== QUOTE; i++) {
        if (text[i] === BACKSLASH) i++;
      }
      const length = i - start - 1;
      if (length > budget.maxStringBytes) {
        return `holds a string of ${length} bytes, over the limit of ${budget.maxStringBytes} bytes`;
      }
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > budget.maxDepth) {
        return `nests arrays and objects deeper than the limit of ${budget.maxDepth}`;
      }
      if (++containers > maxContainers) {
        return `holds more than ${maxContainers} arrays and objects, the limit`;
      }
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return null;
}

/**
 * Parses the JSON bytes of `path` (already read) within `budget`'s depth and string
 * limits; not UTF-8, not JSON, or over a budget is a {@linkcode FileReadError}.
 *
 * @example
 * ```ts
 * const budget = { maxBytes: 1024, maxDepth: 8, maxStringBytes: 64, what: "a test file" };
 * parseBoundedJson(new TextEncoder().encode('{"a": [1, 2]}'), { path: "a.json", budget });
 * ```
 */
export function parseBoundedJson(
  bytes: Uint8Array,
  opts: { path: string; budget: JsonBudget },
): unknown {
  const { path, budget } = opts;
  const problem = jsonBudgetProblem(bytes, budget);
  if (problem !== null) throw new FileReadError(path, problem);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FileReadError(path, "not UTF-8 text");
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const detail = (e instanceof Error ? e.message : String(e)).split("\n")[0].slice(0, 200);
    throw new FileReadError(path, `not valid JSON (${detail})`);
  }
}

/**
 * Reads and parses the JSON file at `path` within `budget` (regular files only, see
 * {@linkcode readBoundedFile}).
 *
 * @example
 * ```ts ignore
 * const value = await readBoundedJson("a.json", { maxBytes: 1 << 20, maxDepth: 16, maxStringBytes: 4096, what: "a scenario file" });
 * ```
 */
export async function readBoundedJson(path: string, budget: JsonBudget): Promise<unknown> {
  const bytes = await readBoundedFile(path, { maxBytes: budget.maxBytes, what: budget.what });
  return parseBoundedJson(bytes, { path, budget });
}
