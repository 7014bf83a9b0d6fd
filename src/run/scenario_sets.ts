/**
 * Scenario sets on disk: a folder of scenario files (`*.json`, one scenario each), read
 * within budgets and checked whole before use, and written file by file atomically into
 * a folder that must not already hold a set (unless `--overwrite`).
 *
 * @module
 */

import { basename, join } from "node:path";
import { firstLine, isOsError, UserError } from "../errors.ts";
import type { ScenarioSupport } from "../env/mod.ts";
import { FileReadError, jsonBudgetProblem, readBoundedJson, writeFileAtomic } from "../io/mod.ts";
import type { JsonBudget } from "../io/mod.ts";

/** Most files (`*.json`) a scenario or episode folder may hold. */
export const MAX_SET_FILES = 10_000;
/** Most bytes of all files of a scenario or episode folder together: 128 MiB (a 248 MB set peaked at 1.8 GB RSS in eval). */
export const MAX_SET_BYTES = 128 * 1024 * 1024;

/**
 * The budgets of one scenario file of an env.
 *
 * @example
 * ```ts ignore
 * const budget = scenarioBudget(definition.scenarios!);
 * ```
 */
export function scenarioBudget(support: ScenarioSupport): JsonBudget {
  return { ...support.budget, what: "a scenario file" };
}

/** A scenario set as read: `scenarios[i]` came from `files[i]` (sorted by name). */
export interface ScenarioSet {
  /** The folder. */
  dir: string;
  /** Path of each file read. */
  files: string[];
  /** The checked scenarios. */
  scenarios: unknown[];
  /** The env's scenario files they are. */
  support: ScenarioSupport;
}

// null when missing; any other OS fault (a file on the way, no permission) is one line
// naming `what`
function statOrNull(path: string, what: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    if (isOsError(e)) throw new UserError(`${what}: cannot use it: ${firstLine(e)}`);
    throw e;
  }
}

/**
 * The `*.json` entries directly in folder `dir` (`what` names it in errors, e.g.
 * "--scenarios out/set"), sorted by name; more than {@linkcode MAX_SET_FILES} is refused
 * without listing the rest, and so are files larger than {@linkcode MAX_SET_BYTES}
 * together. Other entries are ignored.
 *
 * @example
 * ```ts ignore
 * const files = listJsonFiles("out/set", "--scenarios out/set");
 * ```
 */
export function listJsonFiles(dir: string, what: string): string[] {
  const info = statOrNull(dir, what);
  if (info === null) throw new UserError(`${what}: folder not found`);
  if (!info.isDirectory) throw new UserError(`${what}: not a folder`);
  const names: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    if (!entry.name.endsWith(".json")) continue;
    if (names.length === MAX_SET_FILES) {
      throw new UserError(`${what}: holds more than ${MAX_SET_FILES} .json files, the limit`);
    }
    names.push(entry.name);
  }
  const files = names.sort().map((name) => join(dir, name));
  let total = 0;
  for (const file of files) total += statOrNull(file, what)?.size ?? 0;
  if (total > MAX_SET_BYTES) {
    throw new UserError(
      `${what}: its .json files hold ${total} bytes, over the limit of ${MAX_SET_BYTES} bytes`,
    );
  }
  return files;
}

/**
 * Reads and checks every scenario file in `dir` as the env's (`opts.support`; `opts.flag`
 * names the flag in errors): at least one, scenario ids unique across the set. Any
 * fault is one line naming the file (and the field).
 *
 * @example
 * ```ts ignore
 * const set = await readScenarioSet("out/heldout", { flag: "--scenarios", support });
 * ```
 */
export async function readScenarioSet(
  dir: string,
  opts: { flag: string; support: ScenarioSupport },
): Promise<ScenarioSet> {
  const { flag, support } = opts;
  const files = listJsonFiles(dir, `${flag} ${dir}`);
  if (files.length === 0) throw new UserError(`${flag} ${dir}: holds no scenario files (*.json)`);
  const scenarios: unknown[] = [];
  const byId = new Map<string, string>();
  for (const file of files) {
    const s = support.check(await readBoundedJson(file, scenarioBudget(support)), file);
    const id = support.id(s);
    const other = byId.get(id);
    if (other !== undefined) throw new UserError(`${file}: id: "${id}" is also ${other}'s id`);
    byId.set(id, file);
    scenarios.push(s);
  }
  return { dir, files, scenarios, support };
}

// Whether `file` is a scenario file (its `format` tag), for --overwrite to remove it.
async function isScenarioFile(file: string, support: ScenarioSupport): Promise<boolean> {
  try {
    const v = await readBoundedJson(file, scenarioBudget(support));
    return typeof v === "object" && v !== null && "format" in v && v.format === support.format;
  } catch (e) {
    if (e instanceof FileReadError) return false;
    throw e;
  }
}

/**
 * Writes `scenarios` into folder `dir`, one file each (named after the scenario's id,
 * the env's `fileName`; `-2`, `-3`, ... added where names would clash); returns the
 * paths. A scenario whose file would break the budgets it is read back with
 * (the env's {@linkcode scenarioBudget}: size, string length) is refused first, named by
 * `sources[i]` (where it came from). A folder that already holds `*.json` files is
 * refused unless `overwrite`, and then only if every one is a scenario file.
 *
 * The new files are written into a hidden staging folder inside `dir` first, and moved
 * into place (renames, which need no space) only once all of them are written: a write
 * that fails (a full disk) leaves the set already there as it was. `write` is the file
 * writer (tests make it fail).
 *
 * @example
 * ```ts ignore
 * await writeScenarioSet("out/set", { support, scenarios, sources, overwrite: false });
 * ```
 */
export async function writeScenarioSet(
  dir: string,
  opts: {
    support: ScenarioSupport;
    scenarios: unknown[];
    sources: string[];
    overwrite: boolean;
    write?: (path: string, bytes: Uint8Array) => Promise<void>;
  },
): Promise<string[]> {
  const encoder = new TextEncoder();
  const { support } = opts;
  const budget = scenarioBudget(support);
  const texts = opts.scenarios.map((s, i) => {
    const bytes = encoder.encode(support.json(s));
    const problem = bytes.length > budget.maxBytes
      ? `is ${bytes.length} bytes, over the limit of ${budget.maxBytes} bytes`
      : jsonBudgetProblem(bytes, budget);
    if (problem !== null) {
      throw new UserError(
        `${
          opts.sources[i]
        }: the scenario file made from it ${problem}, so it could not be read back`,
      );
    }
    return bytes;
  });
  const what = `--out-dir ${dir}`;
  const info = statOrNull(dir, what);
  if (info !== null && !info.isDirectory) {
    throw new UserError(`${what}: exists and is not a folder`);
  }
  const existing = info === null ? [] : listJsonFiles(dir, what);
  if (existing.length > 0) {
    if (!opts.overwrite) {
      throw new UserError(
        `${what} already holds a scenario set (${
          existing[0]
        }); pass --overwrite to replace it, or choose another folder`,
      );
    }
    for (const file of existing) {
      if (!(await isScenarioFile(file, support))) {
        throw new UserError(
          `${what}: ${file} is not a scenario file; --overwrite removes only scenario files, so move it away first`,
        );
      }
    }
  }
  const taken = new Set<string>();
  const names = opts.scenarios.map((s) => {
    const base = support.fileName(support.id(s)).slice(0, -".json".length);
    let name = `${base}.json`;
    for (let k = 2; taken.has(name); k++) name = `${base}-${k}.json`;
    taken.add(name);
    return name;
  });
  let staging: string;
  try {
    Deno.mkdirSync(dir, { recursive: true });
    removeStaleStaging(dir);
    staging = Deno.makeTempDirSync({ dir, prefix: STAGING_PREFIX });
  } catch (e) {
    if (!isOsError(e)) throw e;
    throw new UserError(`${what}: cannot write the scenario set there: ${firstLine(e)}`);
  }
  const write = opts.write ?? writeFileAtomic;
  try {
    for (let i = 0; i < names.length; i++) await write(join(staging, names[i]), texts[i]);
  } catch (e) {
    Deno.removeSync(staging, { recursive: true });
    if (!isOsError(e)) throw e;
    const kept = existing.length > 0 ? "the set already there is unchanged" : "nothing was kept";
    throw new UserError(`${what}: cannot write the scenario set: ${firstLine(e)}; ${kept}`);
  }
  // every new file is written: the old set goes, the new one moves in
  for (const file of existing) {
    if (!taken.has(basename(file))) Deno.removeSync(file);
  }
  const paths = names.map((name) => join(dir, name));
  for (let i = 0; i < names.length; i++) Deno.renameSync(join(staging, names[i]), paths[i]);
  Deno.removeSync(staging, { recursive: true });
  return paths;
}

// The hidden folder a set is written into before it moves into place.
const STAGING_PREFIX = ".scenarios-staging-";

// Staging folders a run that was killed while writing left behind.
function removeStaleStaging(dir: string): void {
  for (const entry of Deno.readDirSync(dir)) {
    if (entry.isDirectory && entry.name.startsWith(STAGING_PREFIX)) {
      Deno.removeSync(join(dir, entry.name), { recursive: true });
    }
  }
}
