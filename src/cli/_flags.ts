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
 * naming the command and the flag: "missing value" for a flag followed by nothing or by
 * another flag, and for an unknown flag the nearest known one ("did you mean").
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
    throw new UserError(`${command}: ${flagProblem(e, options)} (see --help)`);
  }
}

// What parseArgs refused, in one line: a missing value said so, an unknown flag with the
// nearest known one.
function flagProblem(e: unknown, options: OptionTable): string {
  const msg = e instanceof Error ? e.message.split("\n")[0] : String(e);
  const code = (e as { code?: unknown }).code;
  const flag = /'(--?[^' ]+)/.exec(msg)?.[1];
  if (flag && /argument missing|argument is ambiguous/.test(msg)) return `${flag}: missing value`;
  if (flag && code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag.startsWith("--")) {
    const near = nearestFlag(flag.slice(2), Object.keys(options));
    return `unknown option '${flag}'${near ? `; did you mean --${near}?` : ""}`;
  }
  return msg.replace(/\. To specify a positional.*$/, "").replace(
    /^Unknown option/,
    "unknown option",
  );
}

/**
 * The known flag nearest to `name` (without dashes), or undefined when none is near: the
 * only one `name` is the start of, else the closest by edit distance (insertions,
 * deletions, substitutions and swaps of neighbours), at most 1 for names of up to 4
 * letters, else 2.
 *
 * @example
 * ```ts
 * nearestFlag("epsiodes", ["episodes", "lr"]); // "episodes"
 * ```
 */
export function nearestFlag(name: string, known: readonly string[]): string | undefined {
  const starts = known.filter((k) => k.startsWith(name));
  if (name.length >= 3 && starts.length === 1) return starts[0];
  let best: string | undefined, bestDistance = name.length <= 4 ? 2 : 3;
  for (const k of known) {
    const d = editDistance(name, k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

// Optimal string alignment distance (Damerau-Levenshtein without repeated edits).
function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
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

/**
 * Parses a numeric flag value, checking its kind and range; errors name the flag.
 *
 * @example
 * ```ts
 * parseNumber("500", { flag: "--episodes", kind: "int", lo: 1, hi: 1e9 }); // 500
 * ```
 */
export function parseNumber(raw: string, spec: NumberSpec): number {
  const { flag, kind, lo, hi } = spec;
  const text = raw.trim();
  const v = text === "" ? NaN : Number(text);
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
 * --help lines of the flags of a config table, each with its value's placeholder (N for
 * an integer, X for a number, the flag's last word in capitals for text) and its
 * default (`defaults` overrides the table's, e.g. an env's PPO defaults).
 *
 * @example
 * ```ts
 * import { SFT_CONFIG_TABLE } from "../sft/config.ts";
 * flagHelp(SFT_CONFIG_TABLE)[0];
 * // "  --episodes N             demonstration episodes (default 200)"
 * ```
 */
export function flagHelp<T>(
  table: ConfigTable<T>,
  defaults: Readonly<Record<string, unknown>> = {},
): string[] {
  return flagRows(table).flatMap(([f, key, row]) => {
    const value = Object.hasOwn(defaults, key) ? defaults[key] : row.default;
    return helpLines(`--${f} ${placeholder(f, row)}`, `${row.help} (default ${value})`);
  });
}

const HELP_COLUMN = 27, HELP_WIDTH = 100;

/**
 * A flag's `--help` lines: the flag (with its placeholder) from column 2, its help from
 * column 27, wrapped at 100 columns (a flag too long for its column has the help below).
 *
 * @example
 * ```ts
 * helpLines("--lr X", "Adam learning rate"); // ["  --lr X                   Adam learning rate"]
 * ```
 */
export function helpLines(flag: string, help: string): string[] {
  const indent = " ".repeat(HELP_COLUMN);
  const lines: string[] = [];
  let line = `  ${flag}`;
  if (line.length >= HELP_COLUMN) {
    lines.push(line);
    line = indent;
  } else line = line.padEnd(HELP_COLUMN);
  for (const word of help.split(" ")) {
    if (line.length > HELP_COLUMN && line.length + 1 + word.length > HELP_WIDTH) {
      lines.push(line);
      line = indent;
    }
    line += line.length > HELP_COLUMN ? ` ${word}` : word;
  }
  lines.push(line);
  return lines;
}

// The placeholder of a flag's value in --help.
function placeholder(flag: string, row: AnyRow): string {
  if (row.type === "int") return "N";
  if (row.type === "float") return "X";
  if (row.type === "bool") return "true|false";
  return flag.split("-").at(-1)!.toUpperCase();
}

/**
 * Sets `target[key]` for every flag of the table that was given, checked against the
 * key's row (errors name the flag): a number in its range, `true` or `false` for a bool
 * key, one of its `choices` for a text key.
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
    (target as Record<string, unknown>)[key] = flagValue(raw, `--${f}`, row);
  }
}

// The value of flag `flag` given as `raw`, checked against its row.
function flagValue(raw: string, flag: string, row: AnyRow): number | boolean | string {
  if (row.type === "bool") {
    if (raw !== "true" && raw !== "false") {
      throw new UserError(`${flag}: expected true or false, got '${raw}'`);
    }
    return raw === "true";
  }
  if (row.type === "string") {
    if (!row.choices) throw new Error(`flag ${flag}: a text key needs its choices`);
    if (!row.choices.includes(raw)) {
      throw new UserError(`${flag}: expected one of ${row.choices.join(", ")}, got '${raw}'`);
    }
    return raw;
  }
  return parseNumber(raw, {
    flag,
    kind: row.type,
    lo: row.range[0],
    hi: row.range[1],
    exclusiveLow: row.exclusiveMin,
  });
}

// [flag, key, row] of every row that has a flag, in table order.
function flagRows<T>(table: ConfigTable<T>): Array<[string, string, AnyRow]> {
  return tableRows(table).flatMap(([key, row]) =>
    row.flag === undefined ? [] : [[row.flag, key, row] as [string, string, AnyRow]]
  );
}
