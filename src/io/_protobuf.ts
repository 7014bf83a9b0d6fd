/**
 * The few protobuf wire-format pieces the event files need, by hand: varints (non-negative,
 * up to 2^53), fixed64 doubles, fixed32 floats, length-delimited fields, and a bounded
 * cursor that reads them back and skips fields it does not know.
 *
 * @module
 */

/** Wire types. */
export const VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

/** Field key byte of field `number` (< 16) with wire type `wire`. */
export function key(number: number, wire: number): number {
  return (number << 3) | wire;
}

/** Bytes of the varint of `n` (a non-negative safe integer). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes the varint of `n` (a non-negative safe integer) at `at`; returns the next offset. */
export function writeVarint(out: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    out[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[at++] = n;
  return at;
}

/** A malformed message: what is wrong, for the caller to name the file and record. */
export class ProtoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtoError";
  }
}

/** Reads fields from `bytes[start, end)`; every read checks it stays inside. */
export class ProtoCursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** True while fields are left. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** A varint; one above 2^53 (or longer than 10 bytes) is a {@linkcode ProtoError}. */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError("a varint runs past the end");
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new ProtoError("a varint above 2^53 (or a negative int64)");
        }
        return value;
      }
      scale *= 128;
    }
    throw new ProtoError("a varint longer than 10 bytes");
  }

  /** A field key: `[field number, wire type]`. */
  key(): [number, number] {
    const k = this.varint();
    return [Math.floor(k / 8), k % 8];
  }

  #need(n: number): number {
    if (this.end - this.pos < n) throw new ProtoError("a field runs past the end");
    const at = this.pos;
    this.pos += n;
    return at;
  }

  /** A little-endian double (fixed64). */
  double(): number {
    return this.view.getFloat64(this.#need(8), true);
  }

  /** A little-endian float (fixed32), as a number. */
  float(): number {
    return this.view.getFloat32(this.#need(4), true);
  }

  /** A length-delimited field: `[start, end)` of its bytes. */
  delimited(): [number, number] {
    const length = this.varint();
    const at = this.#need(length);
    return [at, at + length];
  }

  /** Skips a field of wire type `wire` (groups, types 3 and 4, are refused). */
  skip(wire: number): void {
    if (wire === VARINT) this.varint();
    else if (wire === FIXED64) this.#need(8);
    else if (wire === LEN) this.delimited();
    else if (wire === FIXED32) this.#need(4);
    else throw new ProtoError(`wire type ${wire}, which these files never hold`);
  }
}
