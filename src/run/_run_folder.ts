/**
 * A training run's folder made ready, once it is locked: what a killed `--overwrite` left
 * finished, a stopped run refused (saying how to continue it), then resuming in place
 * (later results removed with `--overwrite`), or a new run (or one resumed into another
 * folder) written beside an old one that it replaces only once complete (`--overwrite`;
 * `io/run_staging.ts`). Then `config.json`, `env.json` and the opened scalars.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { firstLine, isOsError, UserError } from "../errors.ts";
import type { EnvChoice, VecEnv } from "../env/mod.ts";
import { prepareResumeDir, recoverStagedRun, stageRunDir, writeJson } from "../io/mod.ts";
import type { StagedRun } from "../io/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import { ENV_RECORD_FILE, envRecord } from "./env_record.ts";
import type { ResumePoint } from "./resume.ts";
import type { RunConfig } from "./run_config.ts";
import { RunScalars } from "./scalars.ts";
import { stoppedRun } from "./stopped_run.ts";

/** What of a training request (`TrainingRequest`) its folder depends on. */
export interface FolderRequest {
  /** The whole configuration; written to `config.json`. */
  run: RunConfig;
  /** The env trained on, as the command line named it. */
  env: EnvChoice;
  /** The checkpoint the run resumes from, or null. */
  point: ResumePoint | null;
  /** `--overwrite`: replace the run already in the folder. */
  overwrite: boolean;
  /** The command that continues the run from `checkpoint`. */
  resumeCommand?(checkpoint: string): string;
}

/** A run folder ready for training, and the run's scalars opened in it. */
export interface PreparedFolder {
  /** Where the run writes (a staging folder when it replaces a run). */
  folder: StagedRun;
  /** The run's TensorBoard and `progress.csv` scalars, open. */
  scalars: RunScalars;
}

/**
 * Makes the (locked) run folder of `request` ready and writes `config.json` and
 * `env.json` into it; `flag` names the folder in messages. Anything that fails once a
 * replacing run is staged drops it (the old run stays).
 *
 * @example
 * ```ts ignore
 * const { folder, scalars } = await prepareRunFolder(request, { flag, trainer, probe });
 * ```
 */
export async function prepareRunFolder(
  request: FolderRequest,
  opts: { flag: string; trainer: Trainer; probe: VecEnv },
): Promise<PreparedFolder> {
  const { run, point } = request;
  const { trainer, flag } = opts;
  const recovered = recoverStagedRun(run.out_dir);
  if (recovered !== null) console.error(`warning: ${run.out_dir}: ${recovered}`);
  const sameRun = point !== null && resolve(run.out_dir) === resolve(point.runDir);
  if (!sameRun && !request.overwrite) refuseStoppedRun(request, flag);
  // the scalars a resume keeps are read and checked before anything changes
  if (sameRun) await RunScalars.check(run.out_dir, trainer.envSteps);
  const folder: StagedRun = sameRun
    ? {
      paths: prepareResumeDir(run.out_dir, {
        episode: point.episode,
        overwrite: request.overwrite,
        sameRun: true,
        keep: resolve(point.path),
        // at the end of its budget only the closing evaluation is left: final.pt stays
        finishes: trainer.finished(),
      }),
      staged: false,
      commit: () => {},
      discard: () => {},
    }
    : stageRunDir(run.out_dir, { overwrite: request.overwrite, flag });
  let scalars: RunScalars | null = null;
  try {
    const warn = (line: string) => console.error(`warning: ${line}`);
    const resumeStep = sameRun ? trainer.envSteps : null;
    const hasSuccess = opts.probe.success !== undefined;
    scalars = await RunScalars.open(folder.paths.dir, { resumeStep, hasSuccess, warn });
    await writeJson(folder.paths.config, run);
    await writeJson(join(folder.paths.dir, ENV_RECORD_FILE), envRecord(request.env, opts.probe));
    return { folder, scalars };
  } catch (e) {
    await scalars?.close();
    folder.discard();
    throw e;
  }
}

// A new run (or one resumed into another folder) in a folder that holds a stopped run:
// refused, saying where that run stopped and the command that continues it.
function refuseStoppedRun(request: FolderRequest, flag: string): void {
  const dir = request.run.out_dir;
  const stopped = stoppedRun(dir);
  if (stopped === null) return;
  throw new UserError(
    `${flag} ${dir} holds a run stopped at episode ${stopped.episode}; continue it with \`${
      resumeCommand(request, stopped.checkpoint)
    }\`, or pass --overwrite to replace it, or choose another folder`,
  );
}

/**
 * The command that continues the run of `request` from `checkpoint` (default
 * `train --resume <checkpoint>`).
 *
 * @example
 * ```ts ignore
 * resumeCommand(request, "out/run/checkpoints/checkpoint_50.pt");
 * ```
 */
export function resumeCommand(request: FolderRequest, checkpoint: string): string {
  return request.resumeCommand?.(checkpoint) ?? `train --resume ${checkpoint}`;
}

/**
 * Runs `f`; before training, a folder that cannot be written (below a file, read-only,
 * /proc, no permission, disk full) is bad input: one line with the OS's reason, exit 2.
 *
 * @example
 * ```ts ignore
 * const lock = await unusablePathIsBadInput("--out-dir x", () => lockRunDir("x"));
 * ```
 */
export async function unusablePathIsBadInput<T>(
  what: string,
  f: () => T | Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (!isOsError(e)) throw e;
    throw new UserError(`${what}: cannot write the run there: ${firstLine(e)}`);
  }
}
