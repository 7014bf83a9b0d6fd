/**
 * Flag parsing shared by the commands: `node:util` parseArgs in strict mode, with its
 * errors turned into one-line {@linkcode UserError}s, and checked numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UserError } from "../errors.ts";
import { type AnyRow, type ConfigTable, tableRows } from "../config_table.ts";

/** The flags of every command that writes a run folder. */
export const RUN_OPTIONS = {
  "out-dir": { type: "string" },
  overwrite: { type: "boolean" },
  quiet: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** A parseArgs option table. */
export type OptionTable = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/**
 * parseArgs in strict mode; an unknown flag or a missing value becomes a UserError
 * naming the command and the flag.
 *
 * @example
 * ```ts
 * const { values } = parseFlags("report", ["--help"], { help: { type: "boolean", short: "h" } });
 * values.help; // true
 * ```
 */
export function parseFlags(
  command: string,
  args: string[],
  options: OptionTable,
  allowPositionals = false,
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new UserError(
      `${command}: ${msg.replace(/\. To specify a positional.*$/, "")} (see --help)`,
    );
  }
}

// parseArgs takes "-1" after "--lr" for an option and refuses it as ambiguous; a
// negative number after a string option is its value, so pass it as "--lr=-1".
function joinNegativeValues(args: string[], options: OptionTable): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith("--") ? args[i].slice(2) : "";
    const next = args[i + 1];
    if (options[name]?.type === "string" && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${args[i]}=${next}`);
      i++;
    } else {
      out.push(args[i]);
    }
  }
  return out;
}

/** Kinds of numeric flag. */
export type NumberKind = "int" | "float";

/** What a numeric flag accepts; `flag` names it in errors. */
export interface NumberSpec {
  /** Name used in error messages, with its dashes, e.g. "--episodes". */
  flag: string;
  /** `int` also rejects non-integers. */
  kind: NumberKind;
  /** Smallest accepted value (inclusive unless `exclusiveLow`). */
  lo: number;
  /** Largest accepted value (inclusive). */
  hi: number;
  /** `lo` itself is out of range. */
  exclusiveLow?: boolean;
}

// A decimal number: optional sign, digits with an optional fraction, optional exponent.
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a numeric flag value (decimal: `0x10` is refused), checking its kind and range;
 * errors name the flag.
 *
 * @example
 * ```ts
 * parseNumber("500", { flag: "--episodes", kind: "int", lo: 1, hi: 1e9 }); // 500
 * ```
 */
export function parseNumber(raw: string, spec: NumberSpec): number {
  const { flag, kind, lo, hi } = spec;
  const text = raw.trim();
  // decimal only: Number() also reads "0x10", "0b1" and "1_0"-free forms a user did not mean
  const v = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(v) || (kind === "int" && !Number.isInteger(v))) {
    const what = kind === "int" ? "an integer" : "a number";
    throw new UserError(`${flag}: expected ${what}, got '${raw}'`);
  }
  const belowLow = spec.exclusiveLow ? v <= lo : v < lo;
  if (belowLow || v > hi) {
    const low = spec.exclusiveLow ? `> ${lo}` : `>= ${lo}`;
    throw new UserError(`${flag}: ${raw} is out of range (must be ${low} and <= ${hi})`);
  }
  return v;
}

/**
 * parseArgs options for the flags of a config table (all take a string value).
 *
 * @example
 * ```ts
 * import { SFT_CONFIG_TABLE } from "../sft/config.ts";
 * flagOptions(SFT_CONFIG_TABLE); // { episodes: { type: "string" }, epochs: ..., ... }
 * ```
 */
export function flagOptions<T>(table: ConfigTable<T>): Record<string, { type: "string" }> {
  return Object.fromEntries(flagRows(table).map(([f]) => [f, { type: "string" as const }]));
}

/**
 * --help lines of the flags of a config table, with each key's default.
 *
 * @example
 * ```ts
 * import { SFT_CONFIG_TABLE } from "../sft/config.ts";
 * flagHelp(SFT_CONFIG_TABLE)[0];
 * // "  --episodes               demonstration episodes (default 200)"
 * ```
 */
export function flagHelp<T>(table: ConfigTable<T>): string[] {
  return flagRows(table).map(([f, , row]) =>
    `  --${f.padEnd(22)} ${row.help} (default ${row.default})`
  );
}

/**
 * Sets `target[key]` for every flag of the table that was given, checked against the
 * key's range (errors name the flag).
 *
 * @example
 * ```ts
 * import { DEFAULT_SFT_CONFIG, SFT_CONFIG_TABLE } from "../sft/config.ts";
 * const sft = { ...DEFAULT_SFT_CONFIG };
 * applyFlags(sft, { values: { episodes: "10" }, table: SFT_CONFIG_TABLE });
 * ```
 */
export function applyFlags<T>(
  target: T,
  opts: { values: Record<string, unknown>; table: ConfigTable<T> },
): void {
  for (const [f, key, row] of flagRows(opts.table)) {
    const raw = opts.values[f];
    if (typeof raw !== "string") continue;
    if (row.type !== "int" && row.type !== "float") {
      throw new Error(`flag --${f}: only numeric keys are flags here (${key} is ${row.type})`);
    }
    (target as Record<string, unknown>)[key] = parseNumber(raw, {
      flag: `--${f}`,
      kind: row.type,
      lo: row.range[0],
      hi: row.range[1],
      exclusiveLow: row.exclusiveMin,
    });
  }
}

// [flag, key, row] of every row that has a flag, in table order.
function flagRows<T>(table: ConfigTable<T>): Array<[string, string, AnyRow]> {
  return tableRows(table).flatMap(([key, row]) =>
    row.flag === undefined ? [] : [[row.flag, key, row] as [string, string, AnyRow]]
  );
}
