/**
 * `eval --policy RUN_DIR`: a run folder stands for its `final.pt` (`best.pt` with
 * `--best`); a multi-seed folder (already expanded by `sweep/`) for each seed's
 * `final.pt`.
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../errors.ts";
import { stoppedRun } from "../run/mod.ts";
import type { SeedGroup } from "../sweep/mod.ts";

/**
 * The policies with each run folder replaced by its `final.pt`, or with `best` its
 * `best.pt`. A folder without that file is refused in one line (a stopped run's names
 * its last checkpoint); `best` with a multi-seed folder is refused too.
 *
 * @example
 * ```ts ignore
 * runFolderPolicies({ names: ["sft", "out/run_001"], groups: [] }, false).names;
 * // ["sft", "out/run_001/final.pt"]
 * ```
 */
export function runFolderPolicies(
  policies: { names: string[]; groups: SeedGroup[] },
  best: boolean,
): { names: string[]; groups: SeedGroup[] } {
  if (best && policies.groups.length > 0) {
    throw new UserError(
      `--best: takes run folders; the multi-seed folder ${
        policies.groups[0].dir
      } is evaluated on each seed's final.pt`,
    );
  }
  const file = best ? "best.pt" : "final.pt";
  return {
    names: policies.names.map((name) => runFolderPolicy(name, file)),
    groups: policies.groups,
  };
}

function runFolderPolicy(name: string, file: string): string {
  if (!isFolder(name)) return name;
  const path = join(name, file);
  if (mayExist(path)) return path;
  const stopped = stoppedRun(name);
  throw new UserError(
    `--policy ${name}: the folder holds no ${file}${
      stopped
        ? ` (its run stopped at episode ${stopped.episode}: --policy ${stopped.checkpoint})`
        : " (a run folder holds final.pt and best.pt)"
    }`,
  );
}

function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

// False only when the file is not there (another fault is the checkpoint reader's to say).
function mayExist(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}
