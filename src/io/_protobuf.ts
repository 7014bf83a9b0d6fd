/**
 * The protobuf wire format by hand, for the TensorBoard event files and the ONNX export:
 * varints, fixed64 doubles, fixed32 floats, length-delimited fields, a bounded cursor that
 * reads them back and skips fields it does not know, and {@linkcode ProtoWriter}, which
 * builds nested messages (an ONNX model) without copying tensor data until the end.
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

const utf8 = new TextEncoder();

/**
 * One protobuf message being written, field by field, in the order of the calls.
 *
 * @example
 * ```ts
 * const dim = new ProtoWriter().int64(1, 41); // TensorShapeProto.Dimension{dim_value: 41}
 * const shape = new ProtoWriter().message(1, dim);
 * shape.finish(); // Uint8Array [10, 2, 8, 41]
 * ```
 */
export class ProtoWriter {
  readonly #chunks: Uint8Array[] = [];
  #length = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** An int32/int64/enum/bool field (varint; a negative value takes 10 bytes, as int64). */
  int64(field: number, value: number | bigint): this {
    this.#tag(field, VARINT);
    this.#varint(value);
    return this;
  }

  /** A `float` field (fixed 32 bits, little-endian). */
  float32(field: number, value: number): this {
    this.#tag(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  /** A `bytes` field; `data` is kept, not copied, until {@linkcode ProtoWriter.finish}. */
  bytes(field: number, data: Uint8Array): this {
    this.#tag(field, LEN);
    this.#varint(data.length);
    this.#push(data);
    return this;
  }

  /** A `string` field (UTF-8). */
  string(field: number, text: string): this {
    return this.bytes(field, utf8.encode(text));
  }

  /** A nested message field: `message`'s chunks are appended (do not write to it after). */
  message(field: number, message: ProtoWriter): this {
    this.#tag(field, LEN);
    this.#varint(message.#length);
    for (const chunk of message.#chunks) this.#push(chunk);
    return this;
  }

  /** The whole message as one array. */
  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  #tag(field: number, wire: number): void {
    if (!Number.isInteger(field) || field < 1 || field > 536_870_911) {
      throw new RangeError(`protobuf: bad field number ${field}`);
    }
    this.#varint(field * 8 + wire);
  }

  // Base-128 varint, low group first; negative numbers as their 64-bit two's complement.
  #varint(value: number | bigint): void {
    if (typeof value === "number") {
      if (!Number.isSafeInteger(value)) throw new RangeError(`protobuf: ${value} is no integer`);
      if (value >= 0) {
        const out = new Uint8Array(varintSize(value));
        writeVarint(out, 0, value);
        this.#push(out);
        return;
      }
    }
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 128n) {
      out.push(Number(v & 127n) | 128);
      v >>= 7n;
    }
    out.push(Number(v));
    this.#push(Uint8Array.from(out));
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }
}
