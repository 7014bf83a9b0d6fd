/**
 * A run folder holding a run that stopped before its end (Ctrl-C, SIGTERM, a fault, a
 * kill): no `final.pt`, and a periodic checkpoint to continue from. A new run refuses
 * such a folder saying where the run stopped and how to continue it.
 *
 * @module
 */

import { join } from "node:path";
import { runPaths } from "../io/mod.ts";

/** Where a stopped run can go on from. */
export interface StoppedRun {
  /** Episodes done at its last checkpoint. */
  episode: number;
  /** That checkpoint (`<dir>/checkpoints/checkpoint_{episode}.pt`). */
  checkpoint: string;
}

/**
 * The stopped run in `dir`, or null: a folder without `final.pt` whose `checkpoints/`
 * holds a `checkpoint_{N}.pt` (the one of the largest N).
 *
 * @example
 * ```ts ignore
 * stoppedRun("out/run"); // { episode: 560, checkpoint: "out/run/checkpoints/checkpoint_560.pt" }
 * ```
 */
export function stoppedRun(dir: string): StoppedRun | null {
  const paths = runPaths(dir);
  let latest = -1;
  try {
    Deno.statSync(paths.final);
    return null; // the run trained to its end
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return null;
  }
  try {
    for (const entry of Deno.readDirSync(paths.checkpoints)) {
      const m = /^checkpoint_(\d+)\.pt$/.exec(entry.name);
      if (m && entry.isFile) latest = Math.max(latest, Number(m[1]));
    }
  } catch {
    return null; // no checkpoints/ folder (or not readable): the ordinary refusal says so
  }
  return latest < 0
    ? null
    : { episode: latest, checkpoint: join(paths.checkpoints, `checkpoint_${latest}.pt`) };
}
