/**
 * The run folder: refusing to clobber an earlier run, and atomic JSON artifacts.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UserError } from "../math/errors.ts";
import { writeFileAtomic } from "./atomic.ts";

/** Files whose presence means a folder already holds a run. */
export const RUN_FILES = [
  "config.json",
  "metrics.json",
  "train_metrics.json",
  "final.pt",
  "best.pt",
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
 * The run artifacts already in `dir` (empty when the folder is new or holds none).
 *
 * @example
 * ```ts
 * if (existingRunFiles("out/run").length > 0) console.error("taken");
 * ```
 */
export function existingRunFiles(dir: string): string[] {
  return [...existingFiles(dir, RUN_FILES), ...listCheckpoints(runPaths(dir).checkpoints)];
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
  const existing = opts.files ? existingFiles(dir, opts.files) : existingRunFiles(dir);
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
    ahead.unshift(paths.final);
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
