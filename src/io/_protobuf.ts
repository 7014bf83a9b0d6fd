/**
 * The protobuf wire format, writing only: the few field kinds an ONNX model needs
 * (varint integers, 32-bit floats, length-delimited bytes, strings and nested messages).
 * A message is built as a list of chunks with its length known, so nesting copies no
 * tensor data; {@linkcode ProtoWriter.finish} copies everything once.
 *
 * @module
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

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
    this.#tag(field, WIRE_VARINT);
    this.#varint(value);
    return this;
  }

  /** A `float` field (fixed 32 bits, little-endian). */
  float32(field: number, value: number): this {
    this.#tag(field, WIRE_FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#push(bytes);
    return this;
  }

  /** A `bytes` field; `data` is kept, not copied, until {@linkcode ProtoWriter.finish}. */
  bytes(field: number, data: Uint8Array): this {
    this.#tag(field, WIRE_LENGTH_DELIMITED);
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
    this.#tag(field, WIRE_LENGTH_DELIMITED);
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
        const out: number[] = [];
        let v = value;
        while (v >= 128) {
          out.push((v % 128) | 128);
          v = Math.floor(v / 128);
        }
        out.push(v);
        this.#push(Uint8Array.from(out));
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
