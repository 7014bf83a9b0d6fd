/**
 * Atomic file writes: a reader (or a crash) sees the old file or the new one, never a
 * half-written one. The data goes to a temporary file in the same folder, which is then
 * renamed over the target (rename is atomic within one file system).
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../errors.ts";

// Temporary files this process is writing right now, with the write in flight (if
// async); an abort waits for those writes, then removes the files.
const pending = new Map<string, Promise<void> | null>();
// Set by abortPendingWrites: no write renames its temporary file any more.
let aborting = false;

function tempPath(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  const tmp = `${path}.tmp-${Deno.pid}-${random[0].toString(36)}${random[1].toString(36)}`;
  pending.set(tmp, null);
  return tmp;
}

/** Names of the temporary files {@linkcode writeFileAtomic} writes: `<name>.tmp-<pid>-<random>`. */
export const TEMP_FILE_PATTERN: RegExp = /\.tmp-\d+-[0-9a-z]+$/;

/**
 * For an exit that must not wait for the run (a second Ctrl-C): from now on no atomic
 * write completes (none renames its temporary file over its target, and the promise of
 * one still in flight never settles), the writes in flight are waited for (at most
 * `maxMs`, default 2000), and their temporary files are removed. Never throws.
 *
 * @example
 * ```ts ignore
 * await abortPendingWrites();
 * Deno.exit(130);
 * ```
 */
export async function abortPendingWrites(maxMs = 2000): Promise<void> {
  aborting = true;
  const writes = [...pending.values()].filter((w) => w !== null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<void>((resolve) => timer = setTimeout(resolve, maxMs));
  await Promise.race([Promise.allSettled(writes), deadline]);
  clearTimeout(timer);
  for (const tmp of pending.keys()) {
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
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/metrics.json`, JSON.stringify({ episode: 3 }) + "\n");
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const tmp = tempPath(path);
  try {
    const write = typeof data === "string"
      ? Deno.writeTextFile(tmp, data)
      : Deno.writeFile(tmp, data);
    pending.set(tmp, write);
    await write;
    if (aborting) {
      // the process is ending without saving: never put this file in place
      await Deno.remove(tmp).catch(() => {});
      return new Promise<void>(() => {});
    }
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
 * const dir = Deno.makeTempDirSync();
 * writeFileAtomicSync(`${dir}/config.json`, JSON.stringify({ seed: 42 }) + "\n");
 * Deno.removeSync(dir, { recursive: true });
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

/**
 * The file an output flag (`--output FILE`) may replace: `path` itself when nothing is
 * there; when something is, only a regular file (through a symlink: the file it points
 * to, so the link stays) and only with `overwrite`. A device, FIFO, socket or folder is
 * refused (`--output /dev/null --overwrite` as root would have replaced /dev/null with a
 * regular file). Returns the path to write atomically (beside its target).
 *
 * @example
 * ```ts ignore
 * const target = outputTarget("eval.json", { flag: "--output", overwrite: false });
 * await writeFileAtomic(target, text);
 * ```
 */
export function outputTarget(path: string, opts: { flag: string; overwrite: boolean }): string {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return path;
    throw e;
  }
  const target = info.isSymlink ? Deno.realPathSync(path) : path;
  const kind = info.isSymlink ? Deno.statSync(target) : info;
  if (!kind.isFile) {
    const what = kind.isDirectory
      ? "a folder"
      : kind.isFifo
      ? "a FIFO"
      : kind.isCharDevice
      ? "a character device"
      : kind.isBlockDevice
      ? "a block device"
      : kind.isSocket
      ? "a socket"
      : "not a regular file";
    throw new UserError(`${opts.flag} ${path}: is ${what}; only a regular file is replaced`);
  }
  if (!opts.overwrite) {
    throw new UserError(`${opts.flag} ${path}: exists; pass --overwrite to replace it`);
  }
  return target;
}
