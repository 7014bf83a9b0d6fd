/**
 * `progress.csv`, as Stable-Baselines3's `CSVOutputFormat` writes it: a header of the
 * keys, then one row per logging point, an empty cell where a row has no value for a
 * key. A key that first appears in a later row widens the file: it is rewritten whole
 * with the wider header (earlier rows get empty cells), atomically (temporary file +
 * rename), so a reader never sees half of it. Other rows are appended.
 *
 * Cells: numbers with the fewest digits that read back to the same double (`nan`,
 * `inf`, `-inf` as Python writes them); text quoted per RFC 4180 when it holds a comma,
 * a double quote or a line break (quotes doubled). Lines end with "\n", as SB3's do.
 *
 * Resume: {@linkcode ProgressCsvWriter.create} with `resume` keeps the rows whose step
 * column is at or before the checkpoint's step and drops the later ones (the resumed
 * run writes them again), and a torn last row of a killed run.
 *
 * @module
 */

import { FileReadError, readBoundedFile } from "./limits.ts";
import { writeFileAtomic } from "./atomic.ts";

/** Largest `progress.csv` read back (bytes): 256 MiB, a few million rows. */
export const MAX_PROGRESS_CSV_BYTES = 256 * 1024 * 1024;
/** Most columns of a `progress.csv` read back. */
export const MAX_PROGRESS_CSV_COLUMNS = 10_000;

/** A cell's value: a number, text, or nothing (an empty cell). */
export type CsvValue = number | string | null | undefined;

/**
 * The text of a number that reads back (Python's `float`, pandas) to the same double:
 * JavaScript's shortest round-trip digits, and `nan`, `inf`, `-inf`, `-0` for the
 * values Python spells so.
 *
 * @example
 * ```ts
 * formatCsvNumber(0.1); // "0.1"
 * formatCsvNumber(-Infinity); // "-inf"
 * ```
 */
export function formatCsvNumber(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (Object.is(x, -0)) return "-0";
  return String(x);
}

const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field: quoted (quotes doubled) when it holds a comma, quote or line break.
 *
 * @example
 * ```ts
 * csvField('say "hi", twice'); // "\"say \"\"hi\"\", twice\""
 * ```
 */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function cell(key: string, value: CsvValue): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatCsvNumber(value);
  if (typeof value === "string") return csvField(value);
  throw new TypeError(`progress.csv: '${key}' must be a number, a string or null`);
}

function line(cells: readonly string[]): string {
  return cells.join(",") + "\n";
}

/** Budgets of {@linkcode parseCsv}. */
export interface CsvBudget {
  /** Most fields in one row. */
  maxColumns: number;
}

/** What {@linkcode parseCsv} found. */
export interface CsvTable {
  /** Each complete row's fields, unquoted. */
  rows: string[][];
  /** True when the text ended inside a row (no final line break): that row is left out. */
  torn: boolean;
}

/**
 * Parses RFC 4180 CSV (quoted fields with doubled quotes and line breaks; "\n" or
 * "\r\n" line ends). A row not ended by a line break (a write cut short) is left out.
 * A row wider than `budget.maxColumns`, or a quote inside an unquoted field, is a
 * `SyntaxError` naming the row.
 *
 * @example
 * ```ts
 * parseCsv('a,b\n1,"x,y"\n', { maxColumns: 10 }).rows; // [["a", "b"], ["1", "x,y"]]
 * ```
 */
export function parseCsv(text: string, budget: CsvBudget): CsvTable {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let field: string;
    if (text[i] === '"') {
      let value = "";
      let j = i + 1;
      for (;;) {
        const q = text.indexOf('"', j);
        if (q === -1) return { rows, torn: true };
        value += text.slice(j, q);
        if (text[q + 1] === '"') {
          value += '"';
          j = q + 2;
        } else {
          i = q + 1;
          break;
        }
      }
      field = value;
    } else {
      let j = i;
      while (j < n && text[j] !== "," && text[j] !== "\n" && text[j] !== "\r") {
        if (text[j] === '"') {
          throw new SyntaxError(`row ${rows.length + 1}: a quote inside a field`);
        }
        j++;
      }
      field = text.slice(i, j);
      i = j;
    }
    row.push(field);
    if (row.length > budget.maxColumns) {
      throw new SyntaxError(`row ${rows.length + 1}: more than ${budget.maxColumns} fields`);
    }
    if (i >= n) return { rows, torn: true };
    const c = text[i];
    if (c === ",") {
      i++;
      if (i === n) return { rows, torn: true };
    } else if (c === "\n" || (c === "\r" && text[i + 1] === "\n")) {
      i += c === "\n" ? 1 : 2;
      rows.push(row);
      row = [];
    } else {
      throw new SyntaxError(`row ${rows.length + 1}: ${JSON.stringify(c)} after a field`);
    }
  }
  return { rows, torn: false };
}

/** Reads and parses the `progress.csv` at `path` (bounded); a missing file is null. */
async function readTable(path: string): Promise<CsvTable | null> {
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedFile(path, {
      maxBytes: MAX_PROGRESS_CSV_BYTES,
      what: "a progress.csv file",
    });
  } catch (e) {
    if (e instanceof FileReadError && e.cause instanceof Deno.errors.NotFound) return null;
    throw e;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FileReadError(path, "not UTF-8 text");
  }
  try {
    return parseCsv(text, { maxColumns: MAX_PROGRESS_CSV_COLUMNS });
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    throw new FileReadError(path, `not CSV: ${e.message}`);
  }
}

function serialize(keys: readonly string[], rows: readonly string[][]): string {
  let out = line(keys.map(csvField));
  for (const row of rows) {
    const cells = keys.map((_, k) => csvField(row[k] ?? ""));
    out += line(cells);
  }
  return out;
}

/** Options of {@linkcode ProgressCsvWriter.create}. */
export interface ProgressCsvOptions {
  /**
   * Resume an existing file: keep its rows whose `stepKey` cell is a number at or
   * before `resumeStep`; drop the others (later, empty, or a torn last row). Without
   * it, an existing file is replaced.
   */
  resume?: { stepKey: string; resumeStep: number };
}

/**
 * Writes `progress.csv`: {@linkcode add} takes one row (key → value), {@linkcode flush}
 * writes the rows added since the last flush (appended; or the whole file rewritten
 * atomically when a row brings a new key).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * const csv = await ProgressCsvWriter.create(`${dir}/progress.csv`);
 * csv.add({ "time/episodes": 10, "rollout/ep_rew_mean": -3.5 });
 * csv.add({ "time/episodes": 20, "rollout/ep_rew_mean": -2.5, "eval/mean_reward": 1 });
 * await csv.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class ProgressCsvWriter {
  /** The file written. */
  readonly path: string;
  #keys: string[];
  #file: Deno.FsFile;
  #pending: Readonly<Record<string, CsvValue>>[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  /** The largest step among the rows a resume kept (undefined: none kept, or no resume). */
  readonly lastStep: number | undefined;

  private constructor(
    path: string,
    file: Deno.FsFile,
    kept: { keys: string[]; lastStep?: number },
  ) {
    this.path = path;
    this.#keys = kept.keys;
    this.#file = file;
    this.lastStep = kept.lastStep;
  }

  /**
   * Opens `path` for writing: a new empty file, or with `opts.resume` the existing
   * file cut to the rows up to the resume step (rewritten atomically; a missing file
   * starts empty). An existing file that is not CSV, over the limits, or without the
   * step column is a {@linkcode FileReadError}.
   */
  static async create(path: string, opts: ProgressCsvOptions = {}): Promise<ProgressCsvWriter> {
    const resume = opts.resume;
    const kept = resume === undefined ? null : await ProgressCsvWriter.kept(path, resume);
    await writeFileAtomic(path, kept === null ? "" : serialize(kept.keys, kept.rows));
    const file = await Deno.open(path, { append: true });
    return new ProgressCsvWriter(path, file, kept ?? { keys: [] });
  }

  /**
   * What a resume of the file at `path` keeps (read and checked; nothing is written):
   * its header, the rows up to the resume step and the largest step among them; null
   * when the file is missing or empty. A file that is not CSV, over the limits, or
   * without the step column is a {@linkcode FileReadError}.
   */
  static async kept(
    path: string,
    resume: { stepKey: string; resumeStep: number },
  ): Promise<{ keys: string[]; rows: string[][]; lastStep?: number } | null> {
    const table = await readTable(path);
    if (table === null || table.rows.length === 0) return null;
    const [keys, ...rows] = table.rows;
    const column = keys.indexOf(resume.stepKey);
    if (column === -1) {
      throw new FileReadError(path, `no column '${resume.stepKey}' to resume from`);
    }
    const kept = rows.filter((row) => {
      const text = row[column] ?? "";
      return text.trim() !== "" && Number(text) <= resume.resumeStep;
    });
    let lastStep: number | undefined;
    for (const row of kept) lastStep = Math.max(lastStep ?? -Infinity, Number(row[column]));
    return { keys, rows: kept, lastStep };
  }

  /** The columns so far, in file order. */
  get keys(): readonly string[] {
    return this.#keys;
  }

  /**
   * Adds a row, written at the next {@linkcode flush}. A value that is not a number,
   * a string or null/undefined is a TypeError (and nothing is added).
   */
  add(row: Readonly<Record<string, CsvValue>>): void {
    if (this.#closed) throw new Error(`${this.path}: add after close`);
    for (const [key, value] of Object.entries(row)) cell(key, value);
    this.#pending.push({ ...row });
  }

  /** Writes the rows added since the last flush. */
  flush(): Promise<void> {
    const rows = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(() => this.#write(rows));
    return this.#flushing;
  }

  async #write(rows: Readonly<Record<string, CsvValue>>[]): Promise<void> {
    if (rows.length === 0) return;
    const known = new Set(this.#keys);
    const added: string[] = [];
    for (const row of rows) {
      for (const key of Object.keys(row)) {
        if (!known.has(key)) {
          known.add(key);
          added.push(key);
        }
      }
    }
    const widened = [...this.#keys, ...added];
    let text = "";
    for (const row of rows) text += line(widened.map((key) => cell(key, row[key])));
    if (this.#keys.length > 0 && added.length > 0) {
      // SB3 rewrites the file with the wider header; here atomically
      const table = await readTable(this.path);
      const earlier = table === null ? [] : table.rows.slice(1);
      await writeFileAtomic(this.path, serialize(widened, earlier) + text);
      // the old handle holds the replaced file
      const old = this.#file;
      this.#file = await Deno.open(this.path, { append: true });
      old.close();
    } else {
      if (this.#keys.length === 0) text = line(widened.map(csvField)) + text;
      await writeAll(this.#file, new TextEncoder().encode(text));
    }
    this.#keys = widened;
  }

  /** Flushes, then closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      this.#file.close();
    }
  }
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length;) done += await file.write(bytes.subarray(done));
}
