/**
 * Budgets for reading files a user hands us (`.pt` checkpoints, `--config` JSON), and
 * the one bounded reader every such file goes through. A file is untrusted input: the
 * budgets make sure that a small file can never take much time or memory, whatever it
 * holds. Over budget is a {@linkcode UserError} (exit 2) whose one line names the file
 * and the limit. The README's "Limits" section lists the same numbers.
 *
 * @module
 */

import { UserError } from "../errors.ts";

/**
 * Largest `.pt` file read (bytes): 1 GiB, twice the largest checkpoint the flags allow
 * (`--hidden-dim 4096 --horizon-steps 1000`: 41M float32 weights, each with two Adam
 * moments, about 0.5 GB).
 */
export const MAX_PT_FILE_BYTES = 1024 * 1024 * 1024;

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

function kindOf(info: Deno.FileInfo): string {
  if (info.isDirectory) return "a folder";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  if (info.isSocket) return "a socket";
  return "a special file";
}

function notRegular(path: string, info: Deno.FileInfo): FileReadError {
  const kind = kindOf(info);
  return new FileReadError(
    path,
    info.isDirectory ? "is a folder" : `not a regular file (${kind}); only regular files are read`,
  );
}

function osError(path: string, e: unknown): FileReadError {
  if (e instanceof FileReadError) return e;
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

/** Grows `buf` (keeping its first `used` bytes) to at most `cap` bytes. */
function grow(buf: Uint8Array, used: number, cap: number): Uint8Array<ArrayBuffer> {
  const bigger = new Uint8Array(Math.min(cap, Math.max(buf.length * 2, 64 * 1024)));
  bigger.set(buf.subarray(0, used));
  return bigger;
}

/**
 * Reads the regular file at `path`, at most `opts.maxBytes` bytes. Checks the path
 * before opening it (opening a FIFO would block) and the open handle after (the path
 * may have changed in between): folders, FIFOs, devices (also through a symlink, e.g.
 * to /dev/zero) and sockets are refused, and so is a file larger than the limit, also
 * one that grows while being read: never more than `maxBytes + 1` bytes are read.
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
  let file: Deno.FsFile | undefined;
  try {
    const before = await Deno.stat(path);
    if (!before.isFile) throw notRegular(path, before);
    if (before.size > opts.maxBytes) throw tooBig(path, opts, String(before.size));
    file = await Deno.open(path, { read: true });
    const info = await file.stat();
    if (!info.isFile) throw notRegular(path, info);
    const cap = opts.maxBytes + 1;
    let buf = new Uint8Array(Math.min(cap, info.size + 1));
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
    file?.close();
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
  let file: Deno.FsFile | undefined;
  try {
    const before = Deno.statSync(path);
    if (!before.isFile) throw notRegular(path, before);
    if (before.size > opts.maxBytes) throw tooBig(path, opts, String(before.size));
    file = Deno.openSync(path, { read: true });
    const info = file.statSync();
    if (!info.isFile) throw notRegular(path, info);
    const cap = opts.maxBytes + 1;
    let buf = new Uint8Array(Math.min(cap, info.size + 1));
    let used = 0;
    for (;;) {
      if (used === buf.length) {
        if (buf.length === cap) throw tooBig(path, opts, `more than ${opts.maxBytes}`);
        buf = grow(buf, used, cap);
      }
      const n = file.readSync(buf.subarray(used));
      if (n === null) break;
      used += n;
    }
    return buf.subarray(0, used);
  } catch (e) {
    throw osError(path, e);
  } finally {
    file?.close();
  }
}
