/**
 * The multi-seed folder: one run folder `seed_N/` per seed under it, `seeds.json`
 * (which seeds the job was asked for, written by `train --seeds` and `--emit`) and
 * `summary.json` (written by the aggregate). Shared by `train --seeds`, `aggregate`,
 * `eval` and `report`.
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../errors.ts";
import { FileReadError, parseBoundedJson, readBoundedFileSync, writeJson } from "../io/mod.ts";
import type { JsonBudget } from "../io/mod.ts";

/** At most this many seeds in one multi-seed job. */
export const MAX_SEEDS = 1000;

/** Largest JSON file the multi-seed readers open (a run's files are far smaller). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;

/**
 * The budgets of a run's JSON files as `report`, `aggregate` and `eval` read them:
 * {@linkcode MAX_JSON_BYTES}, nesting 64 deep, strings of 1 MiB, and at most 1,000,000
 * arrays and objects (a `metrics.json` entry holds 5; 64 MiB of `{},` would be 22 million
 * objects, 2.3 GB parsed).
 */
export const RUN_JSON_BUDGET: Readonly<JsonBudget> = Object.freeze({
  maxBytes: MAX_JSON_BYTES,
  maxDepth: 64,
  maxStringBytes: 1024 * 1024,
  maxContainers: 1_000_000,
  what: "a JSON file",
});

/**
 * Parses the JSON file `path` if it is a regular file within {@linkcode RUN_JSON_BUDGET}
 * (read with the bounded reader of `io/`, so a FIFO or a device is never waited on and
 * a growing file never read past the limit; the text is scanned for nesting, strings and
 * containers before it is parsed); otherwise says what is wrong (`notFound` when it does
 * not exist). Permission errors are thrown (main.ts reports them).
 *
 * @example
 * ```ts ignore
 * const r = readJsonFile("out/seeds/seed_1/train_metrics.json");
 * if ("value" in r) console.log(r.value);
 * ```
 */
export function readJsonFile(
  path: string,
): { value: unknown } | { problem: string; notFound: boolean } {
  try {
    const bytes = readBoundedFileSync(path, RUN_JSON_BUDGET);
    return { value: parseBoundedJson(bytes, { path, budget: RUN_JSON_BUDGET }) };
  } catch (e) {
    const cause = e instanceof FileReadError ? e.cause : e;
    if (cause instanceof Deno.errors.PermissionDenied || cause instanceof Deno.errors.NotCapable) {
      throw cause;
    }
    if (cause instanceof Deno.errors.NotFound || cause instanceof Deno.errors.NotADirectory) {
      return { problem: `${path}: not found`, notFound: true };
    }
    if (e instanceof FileReadError) return { problem: e.message, notFound: false };
    const why = e instanceof SyntaxError ? "not valid JSON" : "cannot read";
    return { problem: `${path}: ${why} (${(e as Error).message.split("\n")[0]})`, notFound: false };
  }
}

/** The run folder of `seed` inside a multi-seed folder. */
export function seedDir(dir: string, seed: number): string {
  return join(dir, `seed_${seed}`);
}

/** A `seed_N/` folder found in a multi-seed folder. */
export interface SeedFolder {
  /** N. */
  seed: number;
  /** `<dir>/seed_N`. */
  path: string;
}

/**
 * The `seed_N/` folders of `dir`, by seed; empty when there are none (or `dir` does
 * not exist).
 *
 * @example
 * ```ts ignore
 * seedFolders("out/seeds"); // [{ seed: 1, path: "out/seeds/seed_1" }, ...]
 * ```
 */
export function seedFolders(dir: string): SeedFolder[] {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
  return entries
    .map((e) => ({ e, m: /^seed_(0|[1-9]\d{0,9})$/.exec(e.name) }))
    .filter(({ e, m }) => e.isDirectory && m !== null && Number(m[1]) < 2 ** 32)
    .map(({ e, m }) => ({ seed: Number(m![1]), path: join(dir, e.name) }))
    .sort((a, b) => a.seed - b.seed);
}

/** `seeds.json`: what a multi-seed job was asked to run. */
export interface SeedsManifest {
  /** The seeds, in task-index order (task i runs `seeds[i]`). */
  seeds: number[];
  /** The `--seeds` list as given. */
  list: string;
  /** The flags every seed's run gets besides `--seed` and `--out-dir`. */
  flags: string[];
}

/** Name of the manifest file in a multi-seed folder. */
export const MANIFEST_FILE = "seeds.json";

/** Name of the aggregate's file in a multi-seed folder. */
export const SUMMARY_FILE = "summary.json";

/**
 * The manifest of `dir`, or null when it has none; a malformed one is a UserError.
 *
 * @example
 * ```ts ignore
 * readManifest("out/seeds")?.seeds; // [1, 2, 3, 4]
 * ```
 */
export function readManifest(dir: string): SeedsManifest | null {
  const path = join(dir, MANIFEST_FILE);
  const read = readJsonFile(path);
  if ("problem" in read) {
    if (read.notFound) return null;
    throw new UserError(read.problem);
  }
  const parsed = read.value;
  const m = parsed as Partial<SeedsManifest> | null;
  const seedsOk = Array.isArray(m?.seeds) &&
    m.seeds.length <= MAX_SEEDS &&
    m.seeds.every((s) => Number.isInteger(s) && s >= 0 && s < 2 ** 32);
  if (
    !seedsOk || typeof m?.list !== "string" || !Array.isArray(m.flags) ||
    !m.flags.every((f) => typeof f === "string")
  ) {
    throw new UserError(
      `${path}: expected {"seeds": [at most ${MAX_SEEDS} integers], "list": "...", "flags": [...]}`,
    );
  }
  return { seeds: m.seeds!, list: m.list, flags: m.flags };
}

/**
 * Writes `dir/seeds.json` atomically.
 *
 * @example
 * ```ts ignore
 * await writeManifest("out/seeds", { seeds: [1, 2], list: "1-2", flags: ["--episodes", "100"] });
 * ```
 */
export async function writeManifest(dir: string, manifest: SeedsManifest): Promise<void> {
  await writeJson(join(dir, MANIFEST_FILE), manifest);
}

/**
 * Whether `dir` is a multi-seed folder (has a manifest or `seed_N/` folders) rather
 * than one run.
 *
 * @example
 * ```ts ignore
 * if (isMultiSeedDir(path)) console.log("one run per seed inside");
 * ```
 */
export function isMultiSeedDir(dir: string): boolean {
  return readManifest(dir) !== null || seedFolders(dir).length > 0;
}
