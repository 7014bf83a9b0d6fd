/**
 * TFRecord files, the container of TensorBoard event files: CRC-32C and its masked
 * form, the framing of one record, and a streaming reader that keeps at most one record
 * in memory. A record is
 *
 * ```
 * uint64 length   uint32 masked_crc32c(length bytes)   data   uint32 masked_crc32c(data)
 * ```
 *
 * all little-endian (`docs/formats/tensorboard_events.md`). A killed writer leaves a
 * torn last record; readers (TensorBoard's and {@linkcode scanTfRecords}) stop before
 * it and keep everything in front of it.
 *
 * @module
 */

import { FileReadError, openRegularFile } from "./limits.ts";
import type { RegularFile } from "./limits.ts";

// CRC-32C (Castagnoli): reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * CRC-32C of `bytes` (unsigned 32-bit).
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xE3069283
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) {
    crc = CRC32C_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The masked CRC TFRecord stores: `((crc >>> 15) | (crc << 17)) + 0xA282EAD8` mod 2^32,
 * so that a CRC of data holding CRCs stays well mixed.
 *
 * @example
 * ```ts
 * maskedCrc32c(new Uint8Array(0)); // 0xA282EAD8: the CRC of nothing is 0
 * ```
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** Bytes a record adds around its data: 8 (length) + 4 (its CRC) + 4 (the data's CRC). */
export const TFRECORD_OVERHEAD = 16;
/** Offset of the data in a framed record. */
export const TFRECORD_HEADER_BYTES = 12;

/**
 * Frames the record whose `dataLength` data bytes are already at
 * `record[12 .. 12 + dataLength]`: writes the length and both CRCs around them.
 * `record` must hold `dataLength + 16` bytes.
 *
 * @example
 * ```ts
 * const data = new TextEncoder().encode("event");
 * const record = new Uint8Array(data.length + TFRECORD_OVERHEAD);
 * record.set(data, TFRECORD_HEADER_BYTES);
 * frameTfRecord(record, data.length);
 * ```
 */
export function frameTfRecord(record: Uint8Array, dataLength: number): void {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  view.setUint32(0, dataLength >>> 0, true);
  view.setUint32(4, Math.floor(dataLength / 2 ** 32), true);
  view.setUint32(8, maskedCrc32c(record.subarray(0, 8)), true);
  const data = record.subarray(TFRECORD_HEADER_BYTES, TFRECORD_HEADER_BYTES + dataLength);
  view.setUint32(TFRECORD_HEADER_BYTES + dataLength, maskedCrc32c(data), true);
}

/** Budgets of {@linkcode scanTfRecords}: what one file may cost to read. */
export interface TfRecordBudget {
  /** Largest file (bytes); a file that is or grows larger is refused. */
  maxBytes: number;
  /** Largest data of one record (bytes): the most the reader ever allocates. */
  maxRecordBytes: number;
  /** Most records read from one file. */
  maxRecords: number;
  /** What the file is, for messages, e.g. "an event file". */
  what: string;
}

/** What {@linkcode scanTfRecords} read. */
export interface TfRecordScan {
  /** Complete records read (and handed to the callback). */
  records: number;
  /** Bytes of those records: the file up to its torn tail, if any. */
  validBytes: number;
  /** True when the file ends inside a record (a writer killed mid-write), which was skipped. */
  torn: boolean;
}

/**
 * Called for each complete record: `data` is its payload, `framed` the whole record
 * (header, data, CRC), both views into a buffer that the next record overwrites.
 */
export type TfRecordVisitor = (
  data: Uint8Array,
  framed: Uint8Array,
  index: number,
) => void | Promise<void>;

const CHUNK_BYTES = 64 * 1024;

// Sequential reads of a file through one fixed chunk; counts what it has read.
class ChunkedFile {
  readonly #file: RegularFile;
  readonly #chunk = new Uint8Array(CHUNK_BYTES);
  #at = 0;
  #end = 0;
  #eof = false;
  /** Bytes read from the file so far. */
  fileBytes = 0;

  constructor(file: RegularFile) {
    this.#file = file;
  }

  /** Fills `out` from the file; returns how many bytes it got (fewer only at the end). */
  async fill(out: Uint8Array): Promise<number> {
    let got = 0;
    while (got < out.length) {
      if (this.#at === this.#end) {
        if (this.#eof) break;
        const n = await this.#file.read(this.#chunk);
        if (n === null) {
          this.#eof = true;
          break;
        }
        this.#at = 0;
        this.#end = n;
        this.fileBytes += n;
      }
      const take = Math.min(out.length - got, this.#end - this.#at);
      out.set(this.#chunk.subarray(this.#at, this.#at + take), got);
      this.#at += take;
      got += take;
    }
    return got;
  }
}

function osFailure(path: string, e: unknown): FileReadError {
  if (e instanceof FileReadError) return e;
  const options = { cause: e, osError: true };
  if (e instanceof Deno.errors.NotFound) return new FileReadError(path, "file not found", options);
  if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) {
    return new FileReadError(path, "permission denied", options);
  }
  const detail = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return new FileReadError(path, `cannot read file (${detail})`, options);
}

/**
 * Reads the TFRecord file at `path` record by record within `budget`, calling `visit`
 * for each complete record, and stops at a torn tail (a file ending inside a record).
 * Both CRCs are checked, the length's before the length is trusted, so memory stays
 * under `budget.maxRecordBytes` plus 64 KiB whatever the file holds. Refused (a
 * {@linkcode FileReadError} naming the file): not a regular file, over a budget, a CRC
 * that does not match. What `visit` throws goes through unchanged.
 *
 * @example
 * ```ts ignore
 * const scan = await scanTfRecords(path, EVENT_FILE_BUDGET, (data) => { count++; });
 * ```
 */
export async function scanTfRecords(
  path: string,
  budget: TfRecordBudget,
  visit: TfRecordVisitor,
): Promise<TfRecordScan> {
  // opened without blocking and checked to be a regular file
  const file = await openRegularFile(path);
  try {
    if (file.size > budget.maxBytes) throw tooBig(path, budget, String(file.size));
    return await scanOpen(path, new ChunkedFile(file), budget, visit);
  } catch (e) {
    if (e instanceof VisitorFailure) throw e.inner;
    throw osFailure(path, e);
  } finally {
    await file.close().catch(() => {});
  }
}

// What the visitor threw, passed through as it is (it is not a fault of reading the file).
class VisitorFailure {
  constructor(readonly inner: unknown) {}
}

function tooBig(path: string, budget: TfRecordBudget, size: string): FileReadError {
  return new FileReadError(
    path,
    `file is ${size} bytes, over the limit of ${budget.maxBytes} bytes for ${budget.what}`,
  );
}

async function scanOpen(
  path: string,
  source: ChunkedFile,
  budget: TfRecordBudget,
  visit: TfRecordVisitor,
): Promise<TfRecordScan> {
  // header, data and footer of the current record, contiguous; grows up to the budget
  let record = new Uint8Array(Math.min(4096, budget.maxRecordBytes) + TFRECORD_OVERHEAD);
  let view = new DataView(record.buffer);
  let records = 0;
  let validBytes = 0;
  const torn = (): TfRecordScan => ({ records, validBytes, torn: true });
  for (;;) {
    const got = await source.fill(record.subarray(0, TFRECORD_HEADER_BYTES));
    if (source.fileBytes > budget.maxBytes) {
      throw tooBig(path, budget, `more than ${budget.maxBytes}`);
    }
    if (got === 0) return { records, validBytes, torn: false };
    if (got < TFRECORD_HEADER_BYTES) return torn();
    const at = `record ${records + 1} (byte ${validBytes})`;
    if (maskedCrc32c(record.subarray(0, 8)) !== view.getUint32(8, true)) {
      throw new FileReadError(path, `${at}: the length fails its CRC-32C check`);
    }
    const high = view.getUint32(4, true);
    const length = view.getUint32(0, true) + high * 2 ** 32;
    if (length > budget.maxRecordBytes) {
      throw new FileReadError(
        path,
        `${at}: a record of ${length} bytes, over the limit of ${budget.maxRecordBytes} bytes for ${budget.what}`,
      );
    }
    if (records >= budget.maxRecords) {
      throw new FileReadError(
        path,
        `more than ${budget.maxRecords} records, the limit for ${budget.what}`,
      );
    }
    const framedLength = length + TFRECORD_OVERHEAD;
    if (record.length < framedLength) {
      const bigger = new Uint8Array(
        Math.min(budget.maxRecordBytes, length * 2) + TFRECORD_OVERHEAD,
      );
      bigger.set(record.subarray(0, TFRECORD_HEADER_BYTES));
      record = bigger;
      view = new DataView(record.buffer);
    }
    const rest = record.subarray(TFRECORD_HEADER_BYTES, framedLength);
    if (await source.fill(rest) < rest.length) return torn();
    if (source.fileBytes > budget.maxBytes) {
      throw tooBig(path, budget, `more than ${budget.maxBytes}`);
    }
    const data = record.subarray(TFRECORD_HEADER_BYTES, TFRECORD_HEADER_BYTES + length);
    if (maskedCrc32c(data) !== view.getUint32(TFRECORD_HEADER_BYTES + length, true)) {
      throw new FileReadError(path, `${at}: the data fails its CRC-32C check`);
    }
    try {
      await visit(data, record.subarray(0, framedLength), records);
    } catch (e) {
      throw new VisitorFailure(e);
    }
    records++;
    validBytes += framedLength;
  }
}
