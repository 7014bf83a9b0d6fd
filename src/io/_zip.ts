/**
 * The ZIP container of a torch checkpoint, written the way PyTorchStreamWriter (miniz)
 * writes it and read defensively.
 *
 * Writer layout, per entry: local header with zeroed CRC/sizes (flag bit 3: a data
 * descriptor follows), the name, an "FB" extra field of 'Z' bytes that puts the data
 * at a multiple of 64 bytes, the stored (uncompressed) data, a 16-byte data
 * descriptor. Then the central directory, a ZIP64 end record + locator (miniz in
 * ZIP64 mode always writes them), and the classic end record. All timestamps are 0,
 * so equal entries give equal bytes.
 *
 * @module
 */

import { PtFormatError, quoteName } from "./_pt_types.ts";
import { MAX_ZIP_ENTRIES } from "./limits.ts";

/** One file to store in an archive. */
export interface ZipInput {
  /** Full entry name, e.g. "ckpt/data/0". */
  name: string;
  /** The entry's contents, stored uncompressed. */
  data: Uint8Array;
}

/** An entry listed in an archive's central directory. */
export interface ZipEntry {
  /** Full entry name (UTF-8), e.g. "archive/data.pkl". */
  name: string;
  /** CRC-32 of the uncompressed contents, as the central directory records it. */
  crc32: number;
  /** Bytes of the data as stored. */
  compressedSize: number;
  /** Bytes of the data uncompressed. */
  size: number;
  /** Compression method: 0 is stored, the only one {@linkcode ZipReader.read} accepts. */
  method: number;
  /** Byte offset of the entry's local header from the start of the archive. */
  localHeaderOffset: number;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_END = 0x06054b50;
const SIG_END64 = 0x06064b50;
const SIG_END64_LOCATOR = 0x07064b50;
const LOCAL_HEADER_SIZE = 30;
const CENTRAL_HEADER_SIZE = 46;
const DESCRIPTOR_SIZE = 16;
const END_SIZE = 22;
const END64_SIZE = 56;
const END64_LOCATOR_SIZE = 20;
/** Bit 3: sizes and CRC in a data descriptor; bit 11: UTF-8 names. */
const FLAGS = 0x0808;
/** PyTorchStreamWriter's kFieldAlignment. */
const ALIGNMENT = 64;
const U32_MAX = 0xffffffff;

let crcTable: Uint32Array | undefined;

function makeCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

/**
 * CRC-32 (ISO-HDLC, as in ZIP) of `bytes`, as an unsigned 32-bit number.
 *
 * @example
 * ```ts
 * crc32(new TextEncoder().encode("123456789")); // 0xcbf43926
 * ```
 */
export function crc32(bytes: Uint8Array): number {
  const table = crcTable ??= makeCrcTable();
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Bytes of 'Z' padding after the 4-byte "FB" header so the data starts aligned. */
function paddingFor(headerOffset: number, nameLength: number): number {
  const start = headerOffset + LOCAL_HEADER_SIZE + nameLength + 4;
  const mod = start % ALIGNMENT;
  return mod === 0 ? 0 : ALIGNMENT - mod;
}

/**
 * Builds a stored ZIP archive byte-for-byte like PyTorchStreamWriter does, entries in
 * the given order.
 *
 * @example
 * ```ts
 * const bytes = writeZip([{ name: "archive/version", data: new TextEncoder().encode("3\n") }]);
 * ```
 */
export function writeZip(entries: readonly ZipInput[]): Uint8Array {
  const encoder = new TextEncoder();
  const names = entries.map((e) => encoder.encode(e.name));
  const offsets: number[] = [];
  const crcs: number[] = [];
  let size = 0;
  for (let i = 0; i < entries.length; i++) {
    const n = names[i].length;
    if (n > 0xffff) throw new RangeError(`zip entry name too long: ${entries[i].name}`);
    if (entries[i].data.length >= U32_MAX) {
      throw new RangeError(`zip entry ${entries[i].name} is 4 GiB or more`);
    }
    offsets.push(size);
    crcs.push(crc32(entries[i].data));
    size += LOCAL_HEADER_SIZE + n + 4 + paddingFor(size, n) + entries[i].data.length +
      DESCRIPTOR_SIZE;
  }
  const centralOffset = size;
  let centralSize = 0;
  for (const n of names) centralSize += CENTRAL_HEADER_SIZE + n.length;
  const end64Offset = centralOffset + centralSize;
  if (end64Offset >= U32_MAX || entries.length >= 0xffff) {
    throw new RangeError("zip archive too large (4 GiB or 65535 entries)");
  }
  size = end64Offset + END64_SIZE + END64_LOCATOR_SIZE + END_SIZE;

  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let p = 0;
  for (let i = 0; i < entries.length; i++) {
    const name = names[i];
    const data = entries[i].data;
    const padding = paddingFor(p, name.length);
    view.setUint32(p, SIG_LOCAL, true);
    view.setUint16(p + 4, 0, true); // version needed (miniz writes 0)
    view.setUint16(p + 6, FLAGS, true);
    // method, time, date, CRC and sizes stay 0: they follow in the data descriptor.
    view.setUint16(p + 26, name.length, true);
    view.setUint16(p + 28, 4 + padding, true);
    p += LOCAL_HEADER_SIZE;
    out.set(name, p);
    p += name.length;
    out[p] = 0x46; // 'F'
    out[p + 1] = 0x42; // 'B'
    view.setUint16(p + 2, padding, true);
    out.fill(0x5a, p + 4, p + 4 + padding); // 'Z'
    p += 4 + padding;
    out.set(data, p);
    p += data.length;
    view.setUint32(p, SIG_DESCRIPTOR, true);
    view.setUint32(p + 4, crcs[i], true);
    view.setUint32(p + 8, data.length, true);
    view.setUint32(p + 12, data.length, true);
    p += DESCRIPTOR_SIZE;
  }
  for (let i = 0; i < entries.length; i++) {
    const name = names[i];
    view.setUint32(p, SIG_CENTRAL, true);
    view.setUint16(p + 8, FLAGS, true);
    view.setUint32(p + 16, crcs[i], true);
    view.setUint32(p + 20, entries[i].data.length, true);
    view.setUint32(p + 24, entries[i].data.length, true);
    view.setUint16(p + 28, name.length, true);
    view.setUint32(p + 42, offsets[i], true);
    p += CENTRAL_HEADER_SIZE;
    out.set(name, p);
    p += name.length;
  }
  // ZIP64 end of central directory record.
  view.setUint32(p, SIG_END64, true);
  view.setBigUint64(p + 4, BigInt(END64_SIZE - 12), true);
  view.setUint16(p + 12, 0x031e, true); // made by: Unix, spec 3.0 (as miniz)
  view.setUint16(p + 14, 0x002d, true); // needed: 4.5 (ZIP64)
  view.setBigUint64(p + 24, BigInt(entries.length), true);
  view.setBigUint64(p + 32, BigInt(entries.length), true);
  view.setBigUint64(p + 40, BigInt(centralSize), true);
  view.setBigUint64(p + 48, BigInt(centralOffset), true);
  p += END64_SIZE;
  view.setUint32(p, SIG_END64_LOCATOR, true);
  view.setBigUint64(p + 8, BigInt(end64Offset), true);
  view.setUint32(p + 16, 1, true);
  p += END64_LOCATOR_SIZE;
  view.setUint32(p, SIG_END, true);
  view.setUint16(p + 8, entries.length, true);
  view.setUint16(p + 10, entries.length, true);
  view.setUint32(p + 12, centralSize, true);
  view.setUint32(p + 16, centralOffset, true);
  return out;
}

/**
 * A parsed archive: its entries by name, and their contents on demand. Malformed input
 * throws a {@linkcode PtFormatError} naming `source`.
 *
 * @example
 * ```ts
 * const bytes = writeZip([{ name: "archive/version", data: new TextEncoder().encode("3\n") }]);
 * const zip = new ZipReader(bytes, "best.pt");
 * new TextDecoder().decode(zip.read(zip.entry("archive/version")!)); // "3\n"
 * ```
 */
export class ZipReader {
  /** Entries in central-directory order. */
  readonly entries: ZipEntry[];
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #source: string;
  readonly #byName = new Map<string, ZipEntry>();

  /** Parses the central directory of `bytes`; `source` names the file in errors. */
  constructor(bytes: Uint8Array, source: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#source = source;
    this.entries = this.#readCentralDirectory();
    for (const e of this.entries) {
      if (this.#byName.has(e.name)) this.#fail(`zip lists entry ${quoteName(e.name)} twice`);
      this.#byName.set(e.name, e);
    }
  }

  #fail(problem: string): never {
    throw new PtFormatError(this.#source, problem);
  }

  #findEnd(): number {
    const bytes = this.#bytes;
    const lowest = Math.max(0, bytes.length - END_SIZE - 0xffff);
    for (let p = bytes.length - END_SIZE; p >= lowest; p--) {
      if (
        bytes[p] === 0x50 && bytes[p + 1] === 0x4b && bytes[p + 2] === 5 && bytes[p + 3] === 6 &&
        p + END_SIZE + this.#view.getUint16(p + 20, true) === bytes.length
      ) {
        return p; // the real end record reaches exactly to the end of the file
      }
    }
    const startsLikeZip = bytes.length >= 4 && this.#view.getUint32(0, true) === SIG_LOCAL;
    if (startsLikeZip) this.#fail("truncated zip archive (no end of central directory)");
    // torch.save's pre-1.6 format is a bare pickle stream (starts with PROTO 0x80).
    if (bytes[0] === 0x80) {
      this.#fail("not a zip archive (the legacy non-zip torch format is not supported)");
    }
    return this.#fail("not a zip archive");
  }

  #readCentralDirectory(): ZipEntry[] {
    const view = this.#view;
    const total = this.#bytes.length;
    const end = this.#findEnd();
    let count = view.getUint16(end + 10, true);
    let cdSize = view.getUint32(end + 12, true);
    let cdOffset = view.getUint32(end + 16, true);
    if (count === 0xffff || cdSize === U32_MAX || cdOffset === U32_MAX) {
      // Values saturated: the real ones are in the ZIP64 end record.
      const locator = end - END64_LOCATOR_SIZE;
      if (locator < 0 || view.getUint32(locator, true) !== SIG_END64_LOCATOR) {
        this.#fail("zip end record points to a missing ZIP64 record");
      }
      const end64 = Number(view.getBigUint64(locator + 8, true));
      if (end64 + END64_SIZE > locator || view.getUint32(end64, true) !== SIG_END64) {
        this.#fail("zip ZIP64 end record is missing or out of bounds");
      }
      count = Number(view.getBigUint64(end64 + 32, true));
      cdSize = Number(view.getBigUint64(end64 + 40, true));
      cdOffset = Number(view.getBigUint64(end64 + 48, true));
    }
    if (cdOffset + cdSize > end) {
      this.#fail("truncated zip archive (central directory out of bounds)");
    }
    if (count > MAX_ZIP_ENTRIES) {
      this.#fail(`zip lists ${count} entries, over the limit of ${MAX_ZIP_ENTRIES}`);
    }
    const entries: ZipEntry[] = [];
    const decoder = new TextDecoder();
    let stored = 0;
    let p = cdOffset;
    for (let i = 0; i < count; i++) {
      if (p + CENTRAL_HEADER_SIZE > cdOffset + cdSize || view.getUint32(p, true) !== SIG_CENTRAL) {
        this.#fail(`corrupt zip central directory (entry ${i} of ${count})`);
      }
      const nameLength = view.getUint16(p + 28, true);
      const extraLength = view.getUint16(p + 30, true);
      const commentLength = view.getUint16(p + 32, true);
      const next = p + CENTRAL_HEADER_SIZE + nameLength + extraLength + commentLength;
      if (next > cdOffset + cdSize) {
        this.#fail(`corrupt zip central directory (entry ${i} of ${count})`);
      }
      const name = decoder.decode(
        this.#bytes.subarray(p + CENTRAL_HEADER_SIZE, p + CENTRAL_HEADER_SIZE + nameLength),
      );
      const entry: ZipEntry = {
        name,
        method: view.getUint16(p + 10, true),
        crc32: view.getUint32(p + 16, true),
        compressedSize: view.getUint32(p + 20, true),
        size: view.getUint32(p + 24, true),
        localHeaderOffset: view.getUint32(p + 42, true),
      };
      if (
        entry.compressedSize === U32_MAX || entry.size === U32_MAX ||
        entry.localHeaderOffset === U32_MAX
      ) {
        this.#fail(`zip entry ${quoteName(name)} needs ZIP64, which is not supported`);
      }
      if (entry.localHeaderOffset >= total) {
        this.#fail(`truncated zip archive (entry ${quoteName(name)} out of bounds)`);
      }
      entries.push(entry);
      stored += entry.compressedSize;
      p = next;
    }
    // Stored entries side by side fit in the file; more means entries share bytes (a zip
    // bomb's trick to make each byte count many times).
    if (stored > total) {
      this.#fail(`zip entries hold ${stored} bytes in all, more than the file's ${total}`);
    }
    return entries;
  }

  /** The entry called `name`, if any. */
  entry(name: string): ZipEntry | undefined {
    return this.#byName.get(name);
  }

  /** The contents of `entry` (a view, not a copy), after checking bounds and CRC-32. */
  read(entry: ZipEntry): Uint8Array {
    const view = this.#view;
    const name = quoteName(entry.name);
    const p = entry.localHeaderOffset;
    if (p + LOCAL_HEADER_SIZE > this.#bytes.length) {
      this.#fail(`truncated zip archive (entry ${name} out of bounds)`);
    }
    if (view.getUint32(p, true) !== SIG_LOCAL) this.#fail(`corrupt zip entry ${name}`);
    if (entry.method !== 0) {
      this.#fail(`zip entry ${name} is compressed (method ${entry.method}); only stored works`);
    }
    // The local extra field (torch's "FB" padding) differs from the central one.
    const start = p + LOCAL_HEADER_SIZE + view.getUint16(p + 26, true) +
      view.getUint16(p + 28, true);
    const stop = start + entry.compressedSize;
    if (stop > this.#bytes.length) {
      this.#fail(`truncated zip archive (entry ${name} out of bounds)`);
    }
    const data = this.#bytes.subarray(start, stop);
    const crc = crc32(data);
    if (crc !== entry.crc32) {
      const hex = (x: number) => x.toString(16).padStart(8, "0");
      this.#fail(`bad CRC-32 in zip entry ${name} (${hex(crc)}, expected ${hex(entry.crc32)})`);
    }
    return data;
  }
}
