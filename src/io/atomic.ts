/**
 * Atomic file writes: a reader (or a crash) sees the old file or the new one, never a
 * half-written one. The data goes to a temporary file in the same folder, which is then
 * renamed over the target (rename is atomic within one file system).
 *
 * @module
 */

function tempPath(path: string): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `${path}.tmp-${Deno.pid}-${random[0].toString(36)}${random[1].toString(36)}`;
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
    throw e;
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
    throw e;
  }
}
