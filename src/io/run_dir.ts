/**
 * The run folder: refusing to clobber an earlier run, and atomic JSON artifacts.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { removeStaleTempFiles, writeFileAtomic } from "./atomic.ts";
import { isEventFileName } from "./tfevents_read.ts";

/** Files whose presence means a folder already holds a run. */
export const RUN_FILES = [
  "config.json",
  "env.json",
  "metrics.json",
  "train_metrics.json",
  "episodes.json",
  "final.pt",
  "best.pt",
  "progress.csv",
];

/** Paths of a run folder's artifacts. */
export interface RunPaths {
  /** The run folder itself. */
  dir: string;
  /** `config.json`: the whole run configuration. */
  config: string;
  /** `metrics.json`: one entry per evaluation during training. */
  metrics: string;
  /** `train_metrics.json`: the run's summary, written at the end or on interrupt. */
  trainMetrics: string;
  /** `final.pt`: the checkpoint after the last episode. */
  final: string;
  /** `best.pt`: the checkpoint of the best held-out evaluation. */
  best: string;
  /** `checkpoints/`: the folder of periodic checkpoints. */
  checkpoints: string;
  /** `checkpoints/checkpoint_<episode>.pt`: the checkpoint after `episode` episodes. */
  checkpoint(episode: number): string;
}

/**
 * The artifact paths of the run folder `dir`.
 *
 * @example
 * ```ts
 * const p = runPaths("out/run");
 * p.checkpoint(50); // "out/run/checkpoints/checkpoint_50.pt"
 * ```
 */
export function runPaths(dir: string): RunPaths {
  const checkpoints = join(dir, "checkpoints");
  return {
    dir,
    config: join(dir, "config.json"),
    metrics: join(dir, "metrics.json"),
    trainMetrics: join(dir, "train_metrics.json"),
    final: join(dir, "final.pt"),
    best: join(dir, "best.pt"),
    checkpoints,
    checkpoint: (episode) => join(checkpoints, `checkpoint_${episode}.pt`),
  };
}

// The checkpoint_{N}.pt files of a checkpoints/ folder (none when it does not exist).
function listCheckpoints(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && /^checkpoint_\d+\.pt$/.test(e.name))
      .map((e) => join(dir, e.name));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/**
 * The run artifacts already in `dir` (empty when the folder is new or holds none): those
 * of `files` when given (the runs of other commands), else a training run's files, event
 * files and checkpoints.
 *
 * @example
 * ```ts
 * if (existingRunFiles("out/run").length > 0) console.error("taken");
 * ```
 */
export function existingRunFiles(dir: string, files?: string[]): string[] {
  if (files) return existingFiles(dir, files);
  return [
    ...existingFiles(dir, RUN_FILES),
    ...listEventFiles(dir),
    ...listCheckpoints(runPaths(dir).checkpoints),
  ];
}

// The TensorBoard event files of a run folder (a new run there would be merged with them).
function listEventFiles(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => e.isFile && isEventFileName(e.name))
      .map((e) => join(dir, e.name));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
    throw e;
  }
}

function existingFiles(dir: string, names: string[]): string[] {
  return names.map((name) => join(dir, name)).filter((path) => {
    try {
      Deno.statSync(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  });
}

/**
 * Makes `dir` ready for a new run. A folder that already holds a run is refused
 * unless `overwrite`, in which case its old artifacts are removed first so that no
 * stale checkpoint is mistaken for the new run's. `files` replaces the list of run
 * files (for runs of other commands, which have no checkpoints/ folder).
 *
 * @example
 * ```ts ignore
 * const paths = prepareRunDir("out/run", { overwrite: false });
 * ```
 */
export function prepareRunDir(
  dir: string,
  opts: { overwrite: boolean; flag?: string; files?: string[] },
): RunPaths {
  const flag = opts.flag ?? "--out-dir";
  try {
    const st = Deno.statSync(dir);
    if (!st.isDirectory) throw new UserError(`${flag} ${dir}: exists and is not a folder`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const existing = existingRunFiles(dir, opts.files);
  if (existing.length > 0) {
    if (!opts.overwrite) {
      throw new UserError(
        `${flag} ${dir} already holds a run (${
          existing[0]
        }); pass --overwrite to replace it, or choose another folder`,
      );
    }
    for (const f of existing) Deno.removeSync(f);
  }
  const paths = runPaths(dir);
  Deno.mkdirSync(opts.files ? dir : paths.checkpoints, { recursive: true });
  return paths;
}

/**
 * Writes `value` as pretty JSON (2 spaces, trailing newline), atomically.
 *
 * @example
 * ```ts ignore
 * await writeJson("out/run/metrics.json", []);
 * ```
 */
export async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/** Options of {@linkcode prepareResumeDir}. */
export interface ResumeDirOptions {
  /** Episode the run resumes at. */
  episode: number;
  /**
   * Remove the run's later results instead of refusing; in another folder, replace the
   * run it holds.
   */
  overwrite: boolean;
  /** The folder is the run the checkpoint came from. */
  sameRun: boolean;
  /** Absolute path of the checkpoint being resumed (never removed). */
  keep: string;
  /**
   * The checkpoint is at the run's last episode: only the closing evaluation is left,
   * so `final.pt` (the same state) is not a later result.
   */
  finishes?: boolean;
}

/**
 * Makes `dir` ready for a resumed run. In the checkpoint's own run folder, files from
 * later in that run (`final.pt`, checkpoints past `episode`) would be replaced, so they
 * are refused unless `overwrite`; a different folder must not hold a run at all,
 * as for a new run.
 *
 * @example
 * ```ts ignore
 * const paths = prepareResumeDir("out/run", { episode: 50, overwrite: false, sameRun: true, keep });
 * ```
 */
export function prepareResumeDir(dir: string, opts: ResumeDirOptions): RunPaths {
  if (!opts.sameRun) return prepareRunDir(dir, { overwrite: opts.overwrite });
  const paths = runPaths(dir);
  const ahead = listCheckpoints(paths.checkpoints).filter((p) => {
    const n = Number(/checkpoint_(\d+)\.pt$/.exec(p)![1]);
    return n > opts.episode;
  });
  try {
    Deno.statSync(paths.final);
    if (!opts.finishes) ahead.unshift(paths.final);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const removable = ahead.filter((p) => resolve(p) !== opts.keep);
  if (removable.length > 0) {
    if (!opts.overwrite) {
      throw new UserError(
        `--resume: ${dir} already holds later results of this run (${
          removable[0]
        }); pass --overwrite to replace them, or give a new --out-dir`,
      );
    }
    for (const f of removable) Deno.removeSync(f);
  }
  Deno.mkdirSync(paths.checkpoints, { recursive: true });
  return paths;
}

/** Name of the lock file that marks a run folder as owned by one process. */
export const LOCK_FILE = ".lock";

/** What a lock file holds (JSON). */
export interface LockOwner {
  /** Process id of the owner. */
  pid: number;
  /** ISO 8601 time the lock was taken. */
  started: string;
}

/** A run folder owned by this process; {@linkcode RunLock.release} gives it up. */
export interface RunLock {
  /** The run folder. */
  dir: string;
  /** Its lock file. */
  path: string;
  /** Removes the lock file and unlocks it; idempotent, synchronous, never throws. */
  release(): void;
}

function parseOwner(text: string | null): LockOwner | null {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as LockOwner;
    if (typeof v !== "object" || v === null || !Number.isInteger(v.pid) || v.pid <= 0) return null;
    return { pid: v.pid, started: typeof v.started === "string" ? v.started : "" };
  } catch {
    return null;
  }
}

// The start of a lock file (a lock this program wrote is far shorter than 4 KiB).
function readText(path: string): string | null {
  try {
    using file = Deno.openSync(path, { read: true });
    const buf = new Uint8Array(4096);
    let n = 0;
    for (;;) {
      const got = file.readSync(buf.subarray(n));
      if (got === null || got === 0) break;
      n += got;
      if (n === buf.length) break;
    }
    return new TextDecoder().decode(buf.subarray(0, n));
  } catch {
    return null;
  }
}

// The owner of a busy lock, waiting a moment for one that has just taken it to write its pid.
function busyOwner(path: string): LockOwner | null {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let i = 0; i < 20; i++) {
    const owner = parseOwner(readText(path));
    if (owner !== null) return owner;
    Atomics.wait(pause, 0, 0, 5);
  }
  return null;
}

/**
 * Takes the run folder `dir` for this process: creates it if needed, then opens
 * `<dir>/.lock` and holds an exclusive OS lock on it (`flock`) until
 * {@linkcode RunLock.release} or the process ends, however it ends; the file records the
 * owner's pid. A folder locked by a live process is refused with a
 * {@linkcode UserError} naming the folder and the owner's pid. A lock file left by a
 * process that is gone (killed: its OS lock went with it) is taken over, with `warn`
 * told so. Once the folder is ours, leftover temporary files of interrupted atomic
 * writes are removed.
 *
 * @example
 * ```ts ignore
 * const lock = lockRunDir("out/run", { warn: console.error });
 * try { ... } finally { lock.release(); }
 * ```
 */
export function lockRunDir(
  dir: string,
  opts: { flag?: string; warn?: (line: string) => void } = {},
): RunLock {
  const flag = opts.flag ?? "--out-dir";
  try {
    const st = Deno.statSync(dir);
    if (!st.isDirectory) throw new UserError(`${flag} ${dir}: exists and is not a folder`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  Deno.mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  try {
    // never open (and truncate) what a symlink or a special file named .lock points to
    if (!Deno.lstatSync(path).isFile) {
      throw new UserError(`${flag} ${dir}: ${path} is not a regular file; remove it`);
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (let attempt = 0; attempt < 10; attempt++) {
    const file = Deno.openSync(path, { read: true, write: true, create: true });
    let kept = false;
    try {
      if (!file.tryLockSync(true)) {
        const owner = busyOwner(path);
        const who = owner ? `pid ${owner.pid}, since ${owner.started}; ` : "";
        throw new UserError(`${flag} ${dir}: in use by another process (${who}lock ${path})`);
      }
      // The owner before us may have removed the file between our open and our lock:
      // the lock only counts on the file that is at `path` now.
      let current: Deno.FileInfo | null = null;
      try {
        current = Deno.statSync(path);
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      const held = file.statSync();
      if (current === null || current.ino !== held.ino || current.dev !== held.dev) continue;
      const previous = readText(path);
      if (previous !== null && previous.trim() !== "") {
        const owner = parseOwner(previous);
        opts.warn?.(
          owner
            ? `warning: ${dir}: took over the lock of pid ${owner.pid}, which is no longer running`
            : `warning: ${dir}: took over the unreadable lock file ${path}, which no process holds`,
        );
      }
      const me: LockOwner = { pid: Deno.pid, started: new Date().toISOString() };
      file.truncateSync(0);
      const bytes = new TextEncoder().encode(JSON.stringify(me) + "\n");
      for (let done = 0; done < bytes.length;) done += file.writeSync(bytes.subarray(done));
      kept = true;
    } finally {
      if (!kept) file.close();
    }
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      try {
        Deno.removeSync(path); // while still locked, so no one takes the old file
      } catch {
        // already gone
      }
      try {
        file.close();
      } catch {
        // already closed
      }
    };
    try {
      removeStaleTempFiles(dir);
      removeStaleTempFiles(join(dir, "checkpoints"));
    } catch (e) {
      release();
      throw e;
    }
    return { dir, path, release };
  }
  throw new UserError(`${flag} ${dir}: could not take the lock ${path} (it keeps changing)`);
}
