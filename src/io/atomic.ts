/**
 * Atomic file writes: a reader (or a crash) sees the old file or the new one, never a
 * half-written one. The data goes to a temporary file in the same folder, which is then
 * renamed over the target (rename is atomic within one file system).
 *
 * @module
 */

import { join } from "node:path";

// Temporary files this process is writing right now (removed by an abrupt exit).
const pending = new Set<string>();

function tempPath(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  const tmp = `${path}.tmp-${Deno.pid}-${random[0].toString(36)}${random[1].toString(36)}`;
  pending.add(tmp);
  return tmp;
}

/** Names of the temporary files {@linkcode writeFileAtomic} writes: `<name>.tmp-<pid>-<random>`. */
export const TEMP_FILE_PATTERN: RegExp = /\.tmp-\d+-[0-9a-z]+$/;

/**
 * Removes the temporary files of writes still in flight in this process, for an exit
 * that cannot wait for them (a second Ctrl-C). Synchronous; never throws.
 *
 * @example
 * ```ts
 * removePendingTempFiles();
 * ```
 */
export function removePendingTempFiles(): void {
  for (const tmp of pending) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // never created, or already renamed
    }
  }
  pending.clear();
}

/**
 * Removes the leftover temporary files of {@linkcode writeFileAtomic} (any process's,
 * e.g. one killed mid-write) directly in `dir`; returns their paths. Only for a folder
 * this process owns (see `lockRunDir`).
 *
 * @example
 * ```ts ignore
 * removeStaleTempFiles("out/run/checkpoints");
 * ```
 */
export function removeStaleTempFiles(dir: string): string[] {
  const removed: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return removed;
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isFile || !TEMP_FILE_PATTERN.test(entry.name)) continue;
    const path = join(dir, entry.name);
    try {
      Deno.removeSync(path);
      removed.push(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return removed;
}

// An OS error whose message does not say which file: the path is added to it.
function namingPath(e: unknown, path: string): unknown {
  if (e instanceof Error && !e.message.includes(path)) e.message += `: writing '${path}'`;
  return e;
}

/**
 * Writes `data` (bytes, or text as UTF-8) to `path` atomically: first to
 * `<path>.tmp-<pid>-<random>`, then renamed over `path`. The temporary file is removed
 * if anything fails.
 *
 * @example
 * ```ts
 * await writeFileAtomic("out/run/metrics.json", JSON.stringify({ episode: 3 }) + "\n");
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPath(path);
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw namingPath(e, path);
  } finally {
    pending.delete(tmp);
  }
}

/**
 * Synchronous {@linkcode writeFileAtomic}.
 *
 * @example
 * ```ts
 * writeFileAtomicSync("out/run/config.json", JSON.stringify({ seed: 42 }) + "\n");
 * ```
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string): void {
  const tmp = tempPath(path);
  try {
    if (typeof data === "string") Deno.writeTextFileSync(tmp, data);
    else Deno.writeFileSync(tmp, data);
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // The temporary file was never created, or is already gone.
    }
    throw namingPath(e, path);
  } finally {
    pending.delete(tmp);
  }
}
