/**
 * Flag parsing shared by the commands: `node:util` parseArgs in strict mode, with its
 * errors turned into one-line {@linkcode UserError}s, and checked numbers.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { UserError } from "../math/errors.ts";

/** A parseArgs option table. */
export type OptionTable = Record<
  string,
  { type: "string" | "boolean"; short?: string; multiple?: boolean }
>;

/**
 * parseArgs in strict mode; an unknown flag or a missing value becomes a UserError
 * naming the command and the flag.
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

/**
 * Parses a numeric flag value, checking its kind and range; errors name the flag.
 *
 * @example
 * ```ts
 * parseNumber("--episodes", "500", "int", 1, 1e9); // 500
 * ```
 */
export function parseNumber(
  flag: string,
  raw: string,
  kind: NumberKind,
  lo: number,
  hi: number,
  opts: { exclusiveLow?: boolean } = {},
): number {
  const text = raw.trim();
  const v = text === "" ? NaN : Number(text);
  if (!Number.isFinite(v) || (kind === "int" && !Number.isInteger(v))) {
    const what = kind === "int" ? "an integer" : "a number";
    throw new UserError(`${flag}: expected ${what}, got '${raw}'`);
  }
  const belowLow = opts.exclusiveLow ? v <= lo : v < lo;
  if (belowLow || v > hi) {
    const low = opts.exclusiveLow ? `> ${lo}` : `>= ${lo}`;
    throw new UserError(`${flag}: ${raw} is out of range (must be ${low} and <= ${hi})`);
  }
  return v;
}
