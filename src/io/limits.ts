/**
 * Budgets for reading files a user hands us (`.pt` checkpoints, `--config` JSON), and
 * the one bounded reader every such file goes through. A file is untrusted input: the
 * budgets make sure that a small file can never take much time or memory, whatever it
 * holds. Over budget is a {@linkcode UserError} (exit 2) whose one line names the file
 * and the limit. The README's "Limits" section lists the same numbers.
 *
 * @module
 */

import { closeSync, constants as fsConstants, fstatSync, openSync, readSync } from "node:fs";
import type { Stats } from "node:fs";
import { open as openHandle } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { UserError } from "../errors.ts";

/**
 * Largest `.pt` file read (bytes): 128 MiB. A run at the parameter limit (6 million,
 * `MAX_PARAMETERS` in `run/`) writes checkpoints of about 37 MB (float32 weights and
 * their two Adam moments); the rest leaves room for a long run's histories. Decoding
 * takes up to about three times the file's size.
 */
export const MAX_PT_FILE_BYTES = 128 * 1024 * 1024;

/** Largest `--config` JSON file read (bytes): 1 MiB. */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/** Most entries a `.pt` zip archive may list (a checkpoint has a few dozen). */
export const MAX_ZIP_ENTRIES = 65_535;

/** Deepest nesting of lists, tuples and dicts in a pickle (a checkpoint nests about 5 deep). */
export const MAX_PICKLE_DEPTH = 100;

/** Longest integer in a pickle (LONG1/LONG4 payload, bytes): 256 bytes, a 2048-bit int. */
export const MAX_INT_BYTES = 256;

/** Longest string in a pickle (UTF-8 bytes): 1 MiB. */
export const MAX_STRING_BYTES = 1024 * 1024;

/**
 * Longest storage key in a pickle (characters). torch's are decimal numbers ("0", "1",
 * ...); a long key would be hashed again at every use.
 */
export const MAX_STORAGE_KEY_LENGTH = 64;

/**
 * Elements a tensor may have beyond those of its storage (a stride-0 view repeats
 * elements): 65,536.
 */
export const MAX_TENSOR_SLACK = 65_536;

/**
 * Values a pickle may materialise besides one per byte of its file: 65,536. The budget
 * of a file of `n` bytes is `n + MATERIALISE_SLACK`, counting every value created,
 * every tensor element copied, every character of a string, and, in the finished tree,
 * every place a shared value appears (a value referenced twice counts twice).
 */
export const MATERIALISE_SLACK = 65_536;

/**
 * What one list, tuple or dict a pickle builds costs against the values budget: 32. It
 * takes one or two bytes of pickle and dozens of bytes of memory, so a file of nothing
 * but empty lists (50 MB of them took 4.3 GB) is refused long before that.
 */
export const CONTAINER_COST = 32;

/**
 * The values budget of a file of `fileBytes` bytes (see {@linkcode MATERIALISE_SLACK}).
 *
 * @example
 * ```ts
 * materialiseBudget(1000); // 66536
 * ```
 */
export function materialiseBudget(fileBytes: number): number {
  return fileBytes + MATERIALISE_SLACK;
}

/** What {@linkcode readBoundedFile} refused: `path` and the one-line `problem`. */
export class FileReadError extends UserError {
  /** The file as given. */
  readonly path: string;
  /** What is wrong, without the file name. */
  readonly problem: string;
  /** True when the system failed the read (missing file, permission), false when we refused. */
  readonly osError: boolean;

  /** The message is `"<path>: <problem>"`. */
  constructor(
    path: string,
    problem: string,
    options?: { cause?: unknown; osError?: boolean },
  ) {
    super(`${path}: ${problem}`, options);
    this.name = "FileReadError";
    this.path = path;
    this.problem = problem;
    this.osError = options?.osError ?? false;
  }
}

/** Options of {@linkcode readBoundedFile}. */
export interface ReadBoundedOptions {
  /** Largest size in bytes; a longer file (or one that grows past it) is refused. */
  maxBytes: number;
  /** What the file is, for the over-budget message, e.g. "a .pt file". */
  what: string;
}

// What a non-regular file is, from fstat.
function kindOf(info: Stats): string {
  if (info.isDirectory()) return "a folder";
  if (info.isFIFO()) return "a FIFO";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isSocket()) return "a socket";
  return "a special file";
}

function notRegular(path: string, info: Stats): FileReadError {
  const kind = kindOf(info);
  return new FileReadError(
    path,
    info.isDirectory()
      ? "is a folder"
      : `not a regular file (${kind}); only regular files are read`,
  );
}

// node:fs reports an OS fault by errno code; the callers know Deno's error classes.
function denoError(e: unknown): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === "ENOENT" || code === "ENOTDIR") return new Deno.errors.NotFound(message);
  if (code === "EACCES" || code === "EPERM") return new Deno.errors.PermissionDenied(message);
  if (code === "EISDIR") return new Deno.errors.IsADirectory(message);
  return e;
}

function osError(path: string, e: unknown): FileReadError {
  if (e instanceof FileReadError) return e;
  e = denoError(e);
  const options = { cause: e, osError: true };
  if (e instanceof Deno.errors.NotFound) return new FileReadError(path, "file not found", options);
  if (e instanceof Deno.errors.IsADirectory) return new FileReadError(path, "is a folder", options);
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return new FileReadError(path, "permission denied", options);
  }
  const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return new FileReadError(path, `cannot read file (${detail})`, options);
}

function tooBig(path: string, opts: ReadBoundedOptions, size: string): FileReadError {
  return new FileReadError(
    path,
    `file is ${size} bytes, over the limit of ${opts.maxBytes} bytes for ${opts.what}`,
  );
}

// Opening never waits: O_NONBLOCK makes open() of a FIFO (or of a path swapped for one
// after any check) return at once instead of blocking until a writer comes; the open
// file is then checked to be a regular file, where the flag changes nothing.
const OPEN_FLAGS = fsConstants.O_RDONLY | fsConstants.O_NONBLOCK;

/** A regular file open for reading (see {@linkcode openRegularFile}). */
export interface RegularFile {
  /** Its size when it was opened (it may grow). */
  readonly size: number;
  /** Reads into `buf`; the bytes read, or null at the end of the file. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Closes it. */
  close(): Promise<void>;
}

/**
 * Opens `path` for reading without ever blocking (a FIFO, even one swapped in for a
 * checked path, is never waited on), then checks that what was opened is a regular
 * file (also behind a symlink): a folder, FIFO, device or socket is refused. Every
 * failure is a one-line {@linkcode FileReadError} naming `path`.
 *
 * @example
 * ```ts ignore
 * const file = await openRegularFile("events.out");
 * try { await file.read(new Uint8Array(4096)); } finally { await file.close(); }
 * ```
 */
export async function openRegularFile(path: string): Promise<RegularFile> {
  let handle: FileHandle | undefined;
  try {
    handle = await openHandle(path, OPEN_FLAGS);
    const info = await handle.stat();
    if (!info.isFile()) throw notRegular(path, info);
    const h = handle;
    return {
      size: info.size,
      read: async (buf) => {
        const { bytesRead } = await h.read(buf, 0, buf.length, null);
        return bytesRead === 0 && buf.length > 0 ? null : bytesRead;
      },
      close: () => h.close(),
    };
  } catch (e) {
    await handle?.close().catch(() => {});
    throw osError(path, e);
  }
}

/** Grows `buf` (keeping its first `used` bytes) to at most `cap` bytes. */
function grow(buf: Uint8Array, used: number, cap: number): Uint8Array<ArrayBuffer> {
  const bigger = new Uint8Array(Math.min(cap, Math.max(buf.length * 2, 64 * 1024)));
  bigger.set(buf.subarray(0, used));
  return bigger;
}

/**
 * Reads the regular file at `path`, at most `opts.maxBytes` bytes. The file is opened
 * without blocking ({@linkcode openRegularFile}: a FIFO is never waited on) and what was
 * opened is checked: folders, FIFOs, devices (also through a symlink, e.g. to
 * /dev/zero) and sockets are refused, and so is a file larger than the limit, also one
 * that grows while being read: the bytes are counted as they are read, never more than
 * `maxBytes + 1`.
 * Every failure is a one-line {@linkcode FileReadError} naming `path`.
 *
 * @example
 * ```ts ignore
 * const bytes = await readBoundedFile("best.pt", { maxBytes: MAX_PT_FILE_BYTES, what: "a .pt file" });
 * ```
 */
export async function readBoundedFile(
  path: string,
  opts: ReadBoundedOptions,
): Promise<Uint8Array> {
  const file = await openRegularFile(path);
  try {
    if (file.size > opts.maxBytes) throw tooBig(path, opts, String(file.size));
    const cap = opts.maxBytes + 1;
    let buf = new Uint8Array(Math.min(cap, file.size + 1));
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        if (buf.length === cap) throw tooBig(path, opts, `more than ${opts.maxBytes}`);
        buf = grow(buf, used, cap);
      }
      const n = await file.read(buf.subarray(used));
      if (n === null) break;
      used += n;
    }
    return buf.subarray(0, used);
  } catch (e) {
    throw osError(path, e);
  } finally {
    await file.close().catch(() => {});
  }
}

/**
 * The synchronous form of {@linkcode readBoundedFile}, same checks and errors.
 *
 * @example
 * ```ts ignore
 * const text = new TextDecoder().decode(
 *   readBoundedFileSync("config.json", { maxBytes: MAX_CONFIG_FILE_BYTES, what: "a config file" }),
 * );
 * ```
 */
export function readBoundedFileSync(path: string, opts: ReadBoundedOptions): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(path, OPEN_FLAGS);
    const info = fstatSync(fd);
    if (!info.isFile()) throw notRegular(path, info);
    if (info.size > opts.maxBytes) throw tooBig(path, opts, String(info.size));
    const cap = opts.maxBytes + 1;
    let buf = new Uint8Array(Math.min(cap, info.size + 1));
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        if (buf.length === cap) throw tooBig(path, opts, `more than ${opts.maxBytes}`);
        buf = grow(buf, used, cap);
      }
      const n = readSync(fd, buf, used, buf.length - used, null);
      if (n === 0) break;
      used += n;
    }
    return buf.subarray(0, used);
  } catch (e) {
    throw osError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
