/**
 * Configuration tables: one row per key of a config object (type, range, default, help
 * and the command-line flag that sets it, if any). Each config keeps its table next to
 * its type (`env/config.ts`, `ppo/config.ts`, `sft/config.ts`); its defaults, its
 * validation (of flags, `--config` files and checkpoints alike) and the CLI's flags and
 * `--help` lines are all read from it, so a range is written once.
 *
 * @module
 */

/** What every row has. */
interface RowBase<V> {
  /** The value a run gets when nothing sets the key. */
  default: V;
  /** One line for `--help` (and the reader of the table). */
  help: string;
  /**
   * The command-line flag that sets the key, without its dashes (e.g. "num-envs");
   * absent: the key is set only by a `--config` file or a checkpoint.
   */
  flag?: string;
}

/** A numeric key: an integer or a finite float in `range`. */
export interface NumberRow extends RowBase<number> {
  /** `int` also rejects non-integers. */
  type: "int" | "float";
  /** `[lowest, highest]`, both inclusive unless `exclusiveMin`; highest may be Infinity. */
  range: readonly [number, number];
  /** The lowest value itself is out of range. */
  exclusiveMin?: boolean;
}

/** A true/false key. */
export interface BoolRow extends RowBase<boolean> {
  /** Always "bool". */
  type: "bool";
}

/**
 * A text key (or null); with `choices`, one of them (checked by `validateTable`), else
 * its values are checked by the config's own validator.
 */
export interface StringRow<V> extends RowBase<V> {
  /** Always "string". */
  type: "string";
  /** The values the key takes, when it is one of a few words. */
  choices?: readonly string[];
}

/** The row of a key whose values have type `V`. */
export type ConfigRow<V> = [V] extends [number] ? NumberRow
  : [V] extends [boolean] ? BoolRow
  : StringRow<V>;

/** The table of config type `T`: one row per key, in the order keys are written. */
export type ConfigTable<T> = { readonly [K in keyof T]-?: ConfigRow<T[K]> };

/** Any row, as code that walks a table sees it. */
export type AnyRow = NumberRow | BoolRow | StringRow<unknown>;

/**
 * The rows of `table` as `[key, row]` pairs, in table order.
 *
 * @example
 * ```ts
 * const table: ConfigTable<{ n: number }> = {
 *   n: { type: "int", range: [1, 10], default: 3, help: "a count", flag: "n" },
 * };
 * tableRows(table); // [["n", { type: "int", ... }]]
 * ```
 */
export function tableRows<T>(table: ConfigTable<T>): Array<[string, AnyRow]> {
  return Object.entries(table) as Array<[string, AnyRow]>;
}

/**
 * The config whose every key has its row's default, keys in table order.
 *
 * @example
 * ```ts
 * const table: ConfigTable<{ n: number }> = {
 *   n: { type: "int", range: [1, 10], default: 3, help: "a count" },
 * };
 * tableDefaults(table); // { n: 3 }
 * ```
 */
export function tableDefaults<T>(table: ConfigTable<T>): T {
  return Object.fromEntries(tableRows(table).map(([key, row]) => [key, row.default])) as T;
}

/**
 * Checks every number and bool key of `cfg` against its row, and text keys that have
 * `choices` (other text keys are left to the caller); throws a RangeError `<section>.<key>: expected ... got ...` for the first
 * key out of range, e.g. `ppo.lr: expected a number in (0, 1], got 0`.
 *
 * @example
 * ```ts
 * const table: ConfigTable<{ n: number }> = {
 *   n: { type: "int", range: [1, 10], default: 3, help: "a count" },
 * };
 * validateTable({ n: 3 }, { section: "demo", table }); // ok; { n: 0 } throws "demo.n: ..."
 * ```
 */
export function validateTable<T>(
  cfg: T,
  opts: { section: string; table: ConfigTable<T> },
): void {
  const record = cfg as Record<string, unknown>;
  for (const [key, row] of tableRows(opts.table)) {
    const v = record[key];
    if (row.type === "bool") {
      if (typeof v !== "boolean") {
        throw new RangeError(
          `${opts.section}.${key}: expected true or false, got ${JSON.stringify(v)}`,
        );
      }
    } else if (row.type === "string") {
      if (row.choices && !row.choices.includes(v as string)) {
        throw new RangeError(
          `${opts.section}.${key}: expected one of ${row.choices.join(", ")}, got ${
            JSON.stringify(v)
          }`,
        );
      }
    } else if (!inRange(v, row)) {
      throw new RangeError(
        `${opts.section}.${key}: expected ${describeRange(row)}, got ${
          typeof v === "number" ? v : JSON.stringify(v)
        }`,
      );
    }
  }
}

function inRange(v: unknown, row: NumberRow): boolean {
  if (typeof v !== "number" || !Number.isFinite(v)) return false;
  if (row.type === "int" && !Number.isInteger(v)) return false;
  const [lo, hi] = row.range;
  return (row.exclusiveMin ? v > lo : v >= lo) && v <= hi;
}

/**
 * What a numeric row accepts, in words: "an integer in [1, 1000]", "a number in (0, 1]",
 * or, without an upper bound, "a finite number > 0".
 *
 * @example
 * ```ts
 * describeRange({ type: "float", range: [0, 1], exclusiveMin: true, default: 0.5, help: "" });
 * // "a number in (0, 1]"
 * ```
 */
export function describeRange(row: NumberRow): string {
  const [lo, hi] = row.range;
  if (hi === Infinity) {
    const what = row.type === "int" ? "an integer" : "a finite number";
    return `${what} ${row.exclusiveMin ? ">" : ">="} ${lo}`;
  }
  const what = row.type === "int" ? "an integer" : "a number";
  return `${what} in ${row.exclusiveMin ? "(" : "["}${lo}, ${hi}]`;
}
