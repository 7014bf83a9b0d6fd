/**
 * Flag parsing shared by the commands: `node:util` parseArgs in strict mode, with its
 * errors turned into one-line {@linkcode UserError}s, and checked numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UserError } from "../math/errors.ts";
import { FileReadError, MAX_CONFIG_FILE_BYTES, readBoundedFileSync } from "../io/mod.ts";

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

/** A numeric flag that sets one key of a config object. */
export interface NumberFlag extends NumberSpec {
  /** Flag name without the dashes, e.g. "max-episode-steps". */
  flag: string;
  /** Config key it sets, e.g. "max_episode_steps". */
  key: string;
  /** One line for --help. */
  help: string;
}

/**
 * parseArgs options for a flag table (all take a string value).
 *
 * @example
 * ```ts
 * const flags: NumberFlag[] = [
 *   { flag: "episodes", key: "episodes", kind: "int", lo: 1, hi: 1e9, help: "training episodes" },
 * ];
 * flagOptions(flags); // { episodes: { type: "string" } }
 * ```
 */
export function flagOptions(flags: NumberFlag[]): Record<string, { type: "string" }> {
  return Object.fromEntries(flags.map((f) => [f.flag, { type: "string" as const }]));
}

/**
 * --help lines of a flag table, with each key's default.
 *
 * @example
 * ```ts
 * const flags: NumberFlag[] = [
 *   { flag: "episodes", key: "episodes", kind: "int", lo: 1, hi: 1e9, help: "training episodes" },
 * ];
 * flagHelp(flags, { episodes: 500 });
 * // ["  --episodes               training episodes (default 500)"]
 * ```
 */
export function flagHelp(flags: NumberFlag[], defaults: object): string[] {
  const d = defaults as Record<string, unknown>;
  return flags.map((f) => `  --${f.flag.padEnd(22)} ${f.help} (default ${d[f.key]})`);
}

/**
 * Sets `target[key]` for every flag of the table that was given, checked.
 *
 * @example
 * ```ts
 * const ppo = { episodes: 500 };
 * applyNumberFlags(ppo, {
 *   values: { episodes: "10" },
 *   flags: [{ flag: "episodes", key: "episodes", kind: "int", lo: 1, hi: 1e9, help: "" }],
 * });
 * ```
 */
export function applyNumberFlags(
  target: object,
  opts: { values: Record<string, unknown>; flags: NumberFlag[] },
): void {
  for (const f of opts.flags) {
    const raw = opts.values[f.flag];
    if (typeof raw !== "string") continue;
    (target as Record<string, unknown>)[f.key] = parseNumber(raw, { ...f, flag: `--${f.flag}` });
  }
}

/**
 * Applies a JSON config file (`{"env": {...}, "ppo": {...}}`, e.g. a run's
 * `config.json`) to the config objects in `targets`, section by section. Unknown
 * sections (other than `ignore`) and unknown keys are errors naming the file and key;
 * a value must have the type of the key's current value.
 *
 * @example
 * ```ts ignore
 * applyConfigFile("run/config.json", { env }, { ignore: ["out_dir", "ppo"] });
 * ```
 */
export function applyConfigFile(
  path: string,
  targets: Record<string, object>,
  opts: { ignore?: string[]; skipKeys?: string[] } = {},
): void {
  let parsed: unknown;
  try {
    const bytes = readBoundedFileSync(path, {
      maxBytes: MAX_CONFIG_FILE_BYTES,
      what: "a config file",
    });
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    const why = e instanceof FileReadError
      ? (e.osError && !e.problem.startsWith("cannot read")
        ? `cannot read (${e.problem})`
        : e.problem)
      : e instanceof SyntaxError
      ? `not valid JSON (${e.message.slice(0, 200)})`
      : e instanceof TypeError
      ? "not UTF-8 text"
      : `cannot read (${(e as Error).name})`;
    throw new UserError(`--config ${path}: ${why}`);
  }
  const sections = Object.keys(targets);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UserError(
      `--config ${path}: expected an object with ${sections.map((s) => `"${s}"`).join(", ")}`,
    );
  }
  for (const [section, body] of Object.entries(parsed)) {
    if (opts.ignore?.includes(section)) continue;
    const target = targets[section] as Record<string, unknown> | undefined;
    if (!target) {
      throw new UserError(
        `--config ${path}: unknown section '${shortKey(section)}' (expected ${
          sections.join(", ")
        })`,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new UserError(`--config ${path}: '${section}' must be an object`);
    }
    for (const [key, value] of Object.entries(body)) {
      if (!(key in target)) {
        throw new UserError(`--config ${path}: unknown key '${section}.${shortKey(key)}'`);
      }
      if (opts.skipKeys?.includes(key)) continue;
      if (typeof value !== typeof target[key] && target[key] !== null) {
        throw new UserError(
          `--config ${path}: '${section}.${key}' must be a ${typeof target[key]}, got ${
            describeJson(value)
          }`,
        );
      }
      target[key] = value;
    }
  }
}

/** A JSON value for a one-line message: short, whatever its size or depth. */
function describeJson(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object" && value !== null) return "an object";
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** A key read from a file, for a one-line message: control characters escaped, short. */
function shortKey(key: string): string {
  let safe = "";
  for (const ch of key.length > 80 ? `${key.slice(0, 77)}...` : key) {
    const c = ch.charCodeAt(0);
    safe += c < 0x20 || c === 0x7f ? `\\x${c.toString(16).padStart(2, "0")}` : ch;
  }
  return safe;
}
