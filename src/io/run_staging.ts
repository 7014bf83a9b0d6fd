/**
 * `--overwrite` without losing the old run: the new run is written into a hidden folder
 * inside the run folder and moves into place only once it is complete, so a run that
 * fails (a full disk, a crash, a kill) leaves the old run as it was.
 *
 * The move is three steps: the staging folder is renamed to the commit folder (atomic;
 * it now also lists the old files to remove), the old files are removed, and the new
 * ones are moved in. A process killed in between leaves the commit folder, which the
 * next owner of the run folder (`lockRunDir`) finishes; a staging folder left by a run
 * that never completed is removed.
 *
 * @module
 */

import { dirname, join, relative } from "node:path";
import { UserError } from "../errors.ts";
import { existingRunFiles, runPaths } from "./run_dir.ts";
import type { RunPaths } from "./run_dir.ts";

/** The folder a replacing run is written into, inside the run folder. */
export const STAGING_DIR = ".overwrite-new";
/** The folder a complete replacing run is moved in from. */
export const COMMIT_DIR = ".overwrite-commit";
// In the commit folder: the old run's files to remove, one relative path a line.
const REMOVE_LIST = ".remove";

/** A run folder made ready for a run, maybe a replacing one ({@linkcode stageRunDir}). */
export interface StagedRun {
  /** Where the run writes: the run folder, or its staging folder when replacing a run. */
  paths: RunPaths;
  /** True when an old run waits to be replaced (`paths` is the staging folder). */
  staged: boolean;
  /** Puts the new run in place of the old one (nothing when not staged). */
  commit(): void;
  /** Drops the new run, keeping the old one (nothing when not staged). */
  discard(): void;
}

/**
 * Makes `dir` ready for a new run. A folder that holds a run is refused unless
 * `overwrite`; then the new run is written into `dir/.overwrite-new/` and replaces the
 * old one at {@linkcode StagedRun.commit}. `files` replaces the list of run files (for
 * runs of other commands, which have no checkpoints/ folder). Call it with the folder
 * locked (`lockRunDir`).
 *
 * @example
 * ```ts ignore
 * const run = stageRunDir("out/run", { overwrite: true });
 * try { await train(run.paths); run.commit(); } catch (e) { run.discard(); throw e; }
 * ```
 */
export function stageRunDir(
  dir: string,
  opts: { overwrite: boolean; flag?: string; files?: string[] },
): StagedRun {
  const flag = opts.flag ?? "--out-dir";
  try {
    if (!Deno.statSync(dir).isDirectory) {
      throw new UserError(`${flag} ${dir}: exists and is not a folder`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const existing = existingRunFiles(dir, opts.files);
  const direct = { staged: false, commit: () => {}, discard: () => {} };
  if (existing.length === 0) {
    const paths = runPaths(dir);
    Deno.mkdirSync(opts.files ? dir : paths.checkpoints, { recursive: true });
    return { paths, ...direct };
  }
  if (!opts.overwrite) {
    throw new UserError(
      `${flag} ${dir} already holds a run (${
        existing[0]
      }); pass --overwrite to replace it, or choose another folder`,
    );
  }
  const staging = join(dir, STAGING_DIR);
  removeIfThere(staging);
  const paths = runPaths(staging);
  Deno.mkdirSync(opts.files ? staging : paths.checkpoints, { recursive: true });
  let done = false;
  return {
    paths,
    staged: true,
    commit: () => {
      if (done) return;
      done = true;
      const commit = join(dir, COMMIT_DIR);
      Deno.writeTextFileSync(
        join(staging, REMOVE_LIST),
        existingRunFiles(dir, opts.files).map((f) => relative(dir, f)).join("\n") + "\n",
      );
      Deno.renameSync(staging, commit);
      finishCommit(dir);
    },
    discard: () => {
      if (done) return;
      done = true;
      Deno.removeSync(staging, { recursive: true });
    },
  };
}

/**
 * Finishes what a replacing run left in `dir`: a commit folder is moved into place (the
 * old files it lists removed first), a staging folder is removed. Returns what it did,
 * for a warning, or null.
 *
 * @example
 * ```ts ignore
 * recoverStagedRun("out/run"); // after taking the folder's lock
 * ```
 */
export function recoverStagedRun(dir: string): string | null {
  let did: string | null = null;
  try {
    Deno.statSync(join(dir, COMMIT_DIR));
    finishCommit(dir);
    did = `finished moving a complete replacing run into place`;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  if (removeIfThere(join(dir, STAGING_DIR))) {
    did ??= "removed an unfinished replacing run; the run there is as it was";
  }
  return did;
}

function removeIfThere(path: string): boolean {
  try {
    Deno.removeSync(path, { recursive: true });
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

// The commit folder's new files in place of the old ones it lists.
function finishCommit(dir: string): void {
  const commit = join(dir, COMMIT_DIR);
  let remove: string[] = [];
  try {
    remove = Deno.readTextFileSync(join(commit, REMOVE_LIST)).split("\n").filter((l) => l);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const rel of remove) {
    if (rel.startsWith("..") || rel.startsWith("/")) continue;
    try {
      Deno.removeSync(join(dir, rel));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  const walk = (from: string) => {
    for (const entry of Deno.readDirSync(from)) {
      const path = join(from, entry.name);
      if (entry.isDirectory) {
        walk(path);
        continue;
      }
      if (from === commit && entry.name === REMOVE_LIST) continue;
      const to = join(dir, relative(commit, path));
      Deno.mkdirSync(dirname(to), { recursive: true });
      Deno.renameSync(path, to);
    }
  };
  walk(commit);
  Deno.removeSync(commit, { recursive: true });
}
