/**
 * Where one seed of a multi-seed job stands, read from its folder, so that running a
 * seed's task again just works (Slurm `--requeue`, a re-submitted array index,
 * Kubernetes and Ray retries, the same `train --seeds` command run again): a finished
 * run is left as it is, a stopped or killed one resumes from its newest valid
 * checkpoint, anything else starts. A folder holding a run of another configuration is
 * refused (`--overwrite` replaces it).
 *
 * @module
 */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { UserError } from "../errors.ts";
import type { EnvDefinition } from "../env/mod.ts";
import { runPaths } from "../io/mod.ts";
import { readTrainerCheckpoint, resumePoint, stoppedRun } from "../run/mod.ts";
import type { ResumePoint, RunConfig } from "../run/mod.ts";
import { readJsonFile } from "./seed_dirs.ts";

/** What a seed's task does with its folder. */
export type SeedFolderState =
  | { kind: "finished" }
  | { kind: "resume"; point: ResumePoint }
  | { kind: "restart"; why: string }
  | { kind: "new" };

/**
 * The state of the seed run `run` (its `out_dir` is the seed's folder): finished (a
 * `train_metrics.json` with the closing held-out results, and `final.pt`), resumable
 * from its newest valid checkpoint (`final.pt` of a run stopped in its closing
 * evaluation, else the highest `checkpoint_{N}.pt`; an invalid one is skipped with a
 * warning), files of a run that saved no checkpoint (restart), or nothing. A folder
 * whose `config.json` is another configuration's is refused ({@linkcode checkSeedConfig}).
 * `opts.definition` is the env the run trains on.
 *
 * @example
 * ```ts ignore
 * const state = await seedState(run, { definition, warn: console.error });
 * ```
 */
export async function seedState(
  run: RunConfig,
  opts: {
    definition: EnvDefinition;
    warn: (line: string) => void;
    resumeCommand?: (checkpoint: string) => string;
  },
): Promise<SeedFolderState> {
  const paths = runPaths(run.out_dir);
  checkSeedConfig(run, opts);
  if (!existsSync(paths.config)) {
    return runFilesIn(run.out_dir).length > 0
      ? { kind: "restart", why: "no config.json" }
      : { kind: "new" };
  }
  const tm = readJsonFile(paths.trainMetrics);
  const done = "value" in tm && typeof tm.value === "object" && tm.value !== null &&
    (tm.value as Record<string, unknown>).interrupted !== true &&
    (tm.value as Record<string, unknown>).heldout != null;
  if (done && existsSync(paths.final)) return { kind: "finished" };
  for (const path of checkpointsNewestFirst(run.out_dir)) {
    try {
      const point = resumePoint(await readTrainerCheckpoint(path), opts.definition);
      // within the run's budget (with total_steps, episodes are no budget)
      if (run.ppo.total_steps > 0 || point.episode <= run.ppo.episodes) {
        return { kind: "resume", point };
      }
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      opts.warn(`warning: ${path}: not resumable (${e.message}); trying an older checkpoint`);
    }
  }
  return { kind: "restart", why: "no checkpoint to resume from" };
}

/**
 * Refuses a seed folder (`run.out_dir`) whose `config.json` is another configuration's
 * than `run` (out_dir and a recorded resume path aside); a folder without one passes. A
 * stopped run there is named with the command that continues it on its own
 * (`opts.resumeCommand`, default `train --resume <checkpoint>`).
 *
 * @example
 * ```ts ignore
 * checkSeedConfig(run); // before starting a job whose seeds may have run before
 * ```
 */
export function checkSeedConfig(
  run: RunConfig,
  opts: { resumeCommand?: (checkpoint: string) => string } = {},
): void {
  const config = readJsonFile(runPaths(run.out_dir).config);
  if ("problem" in config) {
    if (config.notFound) return;
    throw new UserError(`${config.problem} (pass --overwrite to replace it)`);
  }
  const differs = configDifference(config.value, run);
  if (differs === null) return;
  const stopped = stoppedRun(run.out_dir);
  const what = stopped === null
    ? "holds a run of another configuration"
    : `holds a run of another configuration stopped at episode ${stopped.episode}`;
  const resume = stopped &&
    (opts.resumeCommand?.(stopped.checkpoint) ?? `train --resume ${stopped.checkpoint}`);
  throw new UserError(
    `${run.out_dir} ${what} (config.json: ${differs}); ${
      resume ? `continue it with \`${resume}\`, or ` : ""
    }pass --overwrite to replace it, or choose another folder`,
  );
}

// The first key where the stored configuration differs from `run` (out_dir and the
// recorded resume path aside), or null.
function configDifference(stored: unknown, run: RunConfig): string | null {
  const norm = (c: unknown) => {
    const o = JSON.parse(JSON.stringify(c ?? null)) as Record<string, unknown> | null;
    if (o === null || typeof o !== "object") return o;
    const ppo = { ...(o.ppo as Record<string, unknown> | undefined), resume: null };
    return { ...o, out_dir: null, ppo };
  };
  return firstDifference(norm(stored), norm(run), "");
}

function firstDifference(a: unknown, b: unknown, at: string): string | null {
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        at === "" ? k : `${at}.${k}`,
      );
      if (d !== null) return d;
    }
    return null;
  }
  return a === b
    ? null
    : `${at || "the file"} is ${JSON.stringify(a)?.slice(0, 40)}, not ${
      JSON.stringify(b)?.slice(0, 40)
    }`;
}

function runFilesIn(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !n.startsWith("."));
  } catch {
    return [];
  }
}

// final.pt (a run stopped or killed in its closing evaluation), then checkpoint_{N}.pt
// from the highest N.
function checkpointsNewestFirst(dir: string): string[] {
  const paths = runPaths(dir);
  const out = existsSync(paths.final) ? [paths.final] : [];
  let names: string[] = [];
  try {
    names = [...Deno.readDirSync(paths.checkpoints)].map((e) => e.name);
  } catch {
    // no checkpoints/ folder
  }
  const numbered = names.flatMap((n) => {
    const m = /^checkpoint_(\d+)\.pt$/.exec(n);
    return m ? [{ n: Number(m[1]), path: join(paths.checkpoints, n) }] : [];
  }).sort((a, b) => b.n - a.n);
  return [...out, ...numbered.map((c) => c.path)];
}
