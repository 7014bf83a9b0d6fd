/**
 * The byte level of the pickle writer (`_pickle_write.ts`): the protocol 2 opcodes it
 * uses, a growable output buffer with their argument encodings, and Python's encodings
 * of strings (UTF-8 with lone surrogates) and of long integers.
 *
 * @module
 */

/** Pickle opcodes (protocol 2) used by the writer. */
export const OP = {
  PROTO: 0x80,
  STOP: 0x2e, // .
  MARK: 0x28, // (
  NONE: 0x4e, // N
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINFLOAT: 0x47, // G
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  APPENDS: 0x65, // e
  EMPTY_DICT: 0x7d, // }
  SETITEM: 0x73, // s
  SETITEMS: 0x75, // u
  EMPTY_TUPLE: 0x29, // )
  TUPLE: 0x74, // t
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  GLOBAL: 0x63, // c
  REDUCE: 0x52, // R
  BINPERSID: 0x51, // Q
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
} as const;

/** Python's pickle batches APPENDS / SETITEMS in groups of this many. */
export const BATCH_SIZE = 1000;

/** Growable output buffer with the pickle writer's opcode-and-argument forms. */
export class ByteSink {
  #buf = new Uint8Array(4096);
  #view = new DataView(this.#buf.buffer);
  /** bytes written */
  length = 0;

  #reserve(n: number): number {
    const at = this.length;
    if (at + n > this.#buf.length) {
      const bigger = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      bigger.set(this.#buf.subarray(0, at));
      this.#buf = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    this.length = at + n;
    return at;
  }

  /** one byte */
  byte(b: number): void {
    const at = this.#reserve(1);
    this.#buf[at] = b;
  }

  /** `op` with a 1-byte argument */
  op1(op: number, arg: number): void {
    const at = this.#reserve(2);
    this.#buf[at] = op;
    this.#buf[at + 1] = arg;
  }

  /** `op` with a 2-byte little-endian unsigned argument */
  op2(op: number, arg: number): void {
    const at = this.#reserve(3);
    this.#buf[at] = op;
    this.#view.setUint16(at + 1, arg, true);
  }

  /** `op` with a 4-byte little-endian signed argument */
  op4(op: number, arg: number): void {
    const at = this.#reserve(5);
    this.#buf[at] = op;
    this.#view.setInt32(at + 1, arg, true);
  }

  /** `BINFLOAT x` (big-endian f64) */
  float(x: number): void {
    const at = this.#reserve(9);
    this.#buf[at] = OP.BINFLOAT;
    this.#view.setFloat64(at + 1, x, false); // BINFLOAT is big-endian
  }

  /** raw bytes */
  bytes(b: Uint8Array | readonly number[]): void {
    const at = this.#reserve(b.length);
    this.#buf.set(b, at);
  }

  /** a copy of the bytes written */
  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/**
 * UTF-8 like Python's `str.encode("utf-8", "surrogatepass")`: lone surrogates kept.
 *
 * @example
 * ```ts
 * encodeUtf8("\ud800"); // Uint8Array [0xed, 0xa0, 0x80]
 * ```
 */
export function encodeUtf8(s: string): Uint8Array {
  if (s.isWellFormed()) return new TextEncoder().encode(s);
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else {
      out.push(
        0xf0 | (c >> 18),
        0x80 | ((c >> 12) & 63),
        0x80 | ((c >> 6) & 63),
        0x80 | (c & 63),
      );
    }
  }
  return new Uint8Array(out);
}

/**
 * Minimal little-endian two's complement bytes of `x`, as Python's `encode_long`.
 *
 * @example
 * ```ts
 * encodeLong(255n); // [0xff, 0x00]
 * ```
 */
export function encodeLong(x: bigint): number[] {
  const bytes: number[] = [];
  let v = x;
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.push(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) return bytes;
  }
}
