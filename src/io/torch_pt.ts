/**
 * PyTorch-compatible checkpoints: `.pt` files that `torch.load` opens, and a reader for
 * both our own files and those written by `torch.save` (zip format, torch >= 1.6).
 *
 * A `.pt` file is a stored ZIP archive `<name>/data.pkl` (a pickle of the object tree,
 * tensors pointing at storages by key), `<name>/data/<key>` (raw little-endian storage
 * bytes), `<name>/version` ("3\n"). The writer reproduces what torch 1.13 writes byte for
 * byte (checked against a torch-written golden file), except that equal strings share one
 * memo entry where Python shares by object identity. The reader interprets the pickle as
 * data: an allow-list of globals, nothing is ever executed.
 *
 * @example
 * ```ts
 * import { PtDict, readPt, Tensor, writePt } from "./torch_pt.ts";
 *
 * const head = new PtDict([["net.0.bias", new Tensor("float32", [2], new Float32Array([1, 2]))]], true);
 * const dir = await Deno.makeTempDir();
 * await writePt(`${dir}/ckpt.pt`, new PtDict([["value_head", head], ["episode", 3]]));
 * const ckpt = await readPt(`${dir}/ckpt.pt`); // PtDict with the same keys and values
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

import { basename, extname } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { pickleTree } from "./_pickle_write.ts";
import { unpickleTree } from "./_pickle_read.ts";
import {
  DTYPE_SIZE,
  type PtDtype,
  PtFormatError,
  type PtValue,
  quoteName,
  type TensorData,
} from "./_pt_types.ts";
import { writeZip, ZipReader } from "./_zip.ts";
import { FileReadError, materialiseBudget, MAX_PT_FILE_BYTES, readBoundedFile } from "./limits.ts";

export { PtDict, PtFormatError, PtTuple, Tensor } from "./_pt_types.ts";
export type { PtDtype, PtKey, PtValue, TensorData } from "./_pt_types.ts";

/** Options of {@linkcode encodePt}. */
export interface EncodePtOptions {
  /**
   * The archive's inner folder name. Default "archive" (what torch uses for buffers);
   * {@linkcode writePt} uses the file name without its extension, as torch does.
   */
  archiveName?: string;
}

/** Options of {@linkcode decodePt}. */
export interface DecodePtOptions {
  /** Names the file in error messages. Default "<bytes>". */
  source?: string;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Serializes `root` as `torch.save(root, f)` would (torch 1.13, zip format, pickle
 * protocol 2). Integers that are safe JS integers (and bigints) become Python ints, other
 * numbers floats; `PtDict`s with `ordered` become `collections.OrderedDict`. The same
 * tree always gives the same bytes.
 *
 * @example
 * ```ts
 * const ckpt = new PtDict([
 *   ["cfg", new PtDict([["hidden_dim", 64], ["lr", 3e-4], ["resume", null]])],
 *   ["betas", new PtTuple([0.9, 0.999])],
 * ]);
 * const bytes = encodePt(ckpt, { archiveName: "best" }); // Uint8Array of a .pt file
 * ```
 */
export function encodePt(root: PtValue, opts: EncodePtOptions = {}): Uint8Array {
  const name = opts.archiveName ?? "archive";
  if (name === "" || /[/\\]/.test(name)) {
    throw new RangeError(`encodePt: bad archive name '${name}'`);
  }
  const { pickle, storages } = pickleTree(root);
  // torch writes the storages sorted by key as strings: "0", "1", "10", "11", ..., "2".
  const sorted = [...storages].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return writeZip([
    { name: `${name}/data.pkl`, data: pickle },
    ...sorted.map((s) => ({ name: `${name}/data/${s.key}`, data: s.bytes })),
    { name: `${name}/version`, data: new TextEncoder().encode("3\n") },
  ]);
}

/** The archive name torch uses for a file: its base name without the last extension. */
function archiveNameFor(path: string): string {
  const base = basename(path);
  const stem = base.slice(0, base.length - extname(base).length);
  return stem === "" || /[/\\]/.test(stem) ? "archive" : stem;
}

/**
 * Writes `root` to `path` as a torch checkpoint (see {@linkcode encodePt}), atomically:
 * a reader never sees a half-written file. The archive's inner folder is named after the
 * file, as torch names it (`best.pt` -> `best/data.pkl`).
 *
 * @example
 * ```ts
 * const dir = await Deno.makeTempDir();
 * await writePt(`${dir}/best.pt`, new PtDict([["episode", 120]]));
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function writePt(path: string, root: PtValue): Promise<void> {
  await writeFileAtomic(path, encodePt(root, { archiveName: archiveNameFor(path) }));
}

/**
 * The first `numel` elements of a storage record. `aligned` is the record copied once
 * (aligned for any typed array) and shared by every view of it, so a record declared
 * with many sizes is still copied once.
 */
function storageData(
  bytes: Uint8Array,
  aligned: ArrayBuffer,
  opts: { dtype: PtDtype; numel: number },
): TensorData {
  const { dtype, numel } = opts;
  if (LITTLE_ENDIAN_HOST) {
    if (dtype === "float32") return new Float32Array(aligned, 0, numel);
    if (dtype === "float64") return new Float64Array(aligned, 0, numel);
    return new BigInt64Array(aligned, 0, numel);
  }
  const n = numel * DTYPE_SIZE[dtype];
  const view = new DataView(bytes.buffer, bytes.byteOffset, n);
  if (dtype === "float32") {
    return Float32Array.from({ length: numel }, (_, i) => view.getFloat32(i * 4, true));
  }
  if (dtype === "float64") {
    return Float64Array.from({ length: numel }, (_, i) => view.getFloat64(i * 8, true));
  }
  return BigInt64Array.from({ length: numel }, (_, i) => view.getBigInt64(i * 8, true));
}

function decode(bytes: Uint8Array, source: string): PtValue {
  if (bytes.length === 0) throw new PtFormatError(source, "file is empty");
  const zip = new ZipReader(bytes, source);
  const pickleEntry = zip.entries.find((e) => e.name.endsWith("/data.pkl"));
  if (pickleEntry === undefined) {
    throw new PtFormatError(source, "zip archive has no <name>/data.pkl record");
  }
  const prefix = pickleEntry.name.slice(0, -"data.pkl".length);
  // The same (key, dtype, numel) gives the same array: tensors sharing it share storage.
  const records = new Map<
    string,
    { bytes: Uint8Array; aligned: ArrayBuffer; views: Map<string, TensorData> }
  >();
  const loadStorage = (key: string, dtype: PtDtype, numel: number): TensorData => {
    const viewKey = `${dtype}:${numel}`;
    const cached = records.get(key)?.views.get(viewKey);
    if (cached !== undefined) return cached;
    const name = `${prefix}data/${key}`;
    let record = records.get(key);
    if (record === undefined) {
      const entry = zip.entry(name);
      if (entry === undefined) {
        throw new PtFormatError(source, `storage record ${quoteName(name)} is missing`);
      }
      const bytes = zip.read(entry);
      // Rounded up to 8 bytes so that any dtype's whole elements fit.
      const aligned = new ArrayBuffer(Math.ceil(bytes.length / 8) * 8);
      if (LITTLE_ENDIAN_HOST) new Uint8Array(aligned).set(bytes);
      record = { bytes, aligned, views: new Map() };
      records.set(key, record);
    }
    const needed = numel * DTYPE_SIZE[dtype];
    if (record.bytes.length < needed) {
      throw new PtFormatError(
        source,
        `storage record ${quoteName(name)} has ${record.bytes.length} bytes, ` +
          `but the pickle declares ${numel} ${dtype} values (${needed} bytes)`,
      );
    }
    const data = storageData(record.bytes, record.aligned, { dtype, numel });
    record.views.set(viewKey, data);
    return data;
  };
  return unpickleTree(zip.read(pickleEntry), source, {
    loadStorage,
    budget: materialiseBudget(bytes.length),
  });
}

/**
 * Parses a torch checkpoint (the bytes of a `.pt` file, from this module or from
 * `torch.save`). Python ints come back as numbers (bigints beyond 2^53), floats as
 * numbers, tuples as `PtTuple`, dicts and OrderedDicts as `PtDict` (a state_dict's
 * `_metadata` attribute is dropped), tensors as contiguous `Tensor`s: views are copied out
 * of their storage, tensors spanning a whole storage share its array as in torch. Throws
 * {@linkcode PtFormatError}, naming `opts.source`, for anything it cannot read,
 * including any pickle global outside a small allow-list, and any file over the budgets
 * of `limits.ts` (nesting depth, integer and string sizes, tensor elements beyond their
 * storage, values materialised, counting shared values where they appear).
 *
 * @example
 * ```ts
 * const bytes = encodePt(new PtDict([["episode", 120]])); // as read from best.pt
 * const ckpt = decodePt(bytes, { source: "best.pt" });
 * if (ckpt instanceof PtDict) console.log([...ckpt.keys()]);
 * ```
 */
export function decodePt(bytes: Uint8Array, opts: DecodePtOptions = {}): PtValue {
  const source = opts.source ?? "<bytes>";
  try {
    return decode(bytes, source);
  } catch (e) {
    if (e instanceof PtFormatError) throw e;
    // A bug or an input the checks above missed: still one line naming the file.
    const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new PtFormatError(source, `malformed checkpoint (${detail})`, { cause: e });
  }
}

/**
 * Reads the checkpoint at `path` (see {@linkcode decodePt}). Only a regular file of at
 * most `MAX_PT_FILE_BYTES` is read (see `readBoundedFile`); a missing, unreadable,
 * oversized or non-regular file (a folder, FIFO, device) is a {@linkcode PtFormatError}.
 *
 * @example
 * ```ts ignore
 * const ckpt = await readPt("out/run/best.pt");
 * ```
 */
export async function readPt(path: string): Promise<PtValue> {
  let bytes: Uint8Array;
  try {
    bytes = await readBoundedFile(path, { maxBytes: MAX_PT_FILE_BYTES, what: "a .pt file" });
  } catch (e) {
    if (e instanceof FileReadError) throw new PtFormatError(path, e.problem, { cause: e });
    throw e;
  }
  return decodePt(bytes, { source: path });
}
