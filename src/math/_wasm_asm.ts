/**
 * A minimal WebAssembly assembler: the module's bytes (LEB128 numbers, sections,
 * names) and function bodies (locals and just the instructions the kernels of
 * `_wasm_kernels.ts` use), written in place into growable byte buffers.
 *
 * @module
 */

/** Value type `i32`. */
export const I32 = 0x7f;
/** Value type `v128`. */
export const V128 = 0x7b;

/**
 * A growable byte buffer with the LEB128 encodings. Everything is written in place:
 * the assembler allocates almost nothing, so building the module does not grow the heap.
 */
export class ByteWriter {
  #buf = new Uint8Array(1024);
  /** bytes written */
  length = 0;

  /** appends one byte */
  byte(b: number): void {
    if (this.length === this.#buf.length) {
      const bigger = new Uint8Array(2 * this.#buf.length);
      bigger.set(this.#buf);
      this.#buf = bigger;
    }
    this.#buf[this.length++] = b;
  }
  /** unsigned LEB128 */
  uleb(v: number): void {
    do {
      let byte = v & 0x7f;
      v >>>= 7;
      if (v !== 0) byte |= 0x80;
      this.byte(byte);
    } while (v !== 0);
  }
  /** signed LEB128 of a 32-bit integer */
  sleb(v: number): void {
    for (;;) {
      const byte = v & 0x7f;
      v >>= 7;
      if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
        this.byte(byte);
        return;
      }
      this.byte(byte | 0x80);
    }
  }
  /** appends `bytes` */
  append(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.byte(bytes[i]);
  }
  /** `bytes` preceded by their length (a section or a function body) */
  sized(bytes: ArrayLike<number>): void {
    this.uleb(bytes.length);
    this.append(bytes);
  }
  /** a name: its UTF-8 length, then its bytes */
  name(s: string): void {
    this.sized(new TextEncoder().encode(s));
  }
  /** a copy of the bytes written */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.length);
  }
}

/** The i32 instructions {@linkcode Body.op} knows, by name. */
export const I32_OPS = {
  add: 0x6a,
  sub: 0x6b,
  mul: 0x6c,
  gt_s: 0x4a,
  ge_s: 0x4e,
  lt_s: 0x48,
  eqz: 0x45,
  shl: 0x74,
} as const;

/** A function body under construction: locals plus an instruction byte stream. */
export class Body {
  /** The instruction stream (without the closing `end`, which `encodeTo` adds). */
  readonly code = new ByteWriter();
  readonly #locals: number[] = [];
  readonly #params: number;

  /** A body of a function with `params` i32 parameters (locals 0 .. params - 1). */
  constructor(params: number) {
    this.#params = params;
  }

  /** A new local of `type`; returns its index. */
  local(type: number): number {
    this.#locals.push(type);
    return this.#params + this.#locals.length - 1;
  }

  #op(opcode: number, immediate: number): this {
    this.code.byte(opcode);
    this.code.uleb(immediate);
    return this;
  }
  /** `local.get i` */
  get(i: number): this {
    return this.#op(0x20, i);
  }
  /** `local.set i` */
  set(i: number): this {
    return this.#op(0x21, i);
  }
  /** `i32.const v` */
  const(v: number): this {
    this.code.byte(0x41);
    this.code.sleb(v);
    return this;
  }
  /** i32 binary ops by name */
  op(name: keyof typeof I32_OPS): this {
    this.code.byte(I32_OPS[name]);
    return this;
  }
  /** `local[i] += local[j]` */
  addTo(i: number, j: number): this {
    return this.get(i).get(j).op("add").set(i);
  }
  /** `local[i] += v` */
  addConst(i: number, v: number): this {
    return this.get(i).const(v).op("add").set(i);
  }
  /** `block` (no result) */
  block(): this {
    return this.#op(0x02, 0x40);
  }
  /** `loop` (no result) */
  loop(): this {
    return this.#op(0x03, 0x40);
  }
  /** `if` (no result) */
  if(): this {
    return this.#op(0x04, 0x40);
  }
  /** `end` of a block, loop or if */
  end(): this {
    this.code.byte(0x0b);
    return this;
  }
  /** `br depth` */
  br(depth: number): this {
    return this.#op(0x0c, depth);
  }
  /** `br_if depth` */
  brIf(depth: number): this {
    return this.#op(0x0d, depth);
  }
  /** a load or store opcode with its memarg (align 2^3, `offset`) */
  #mem(opcode: number, offset: number): this {
    this.code.byte(opcode);
    this.code.byte(3);
    this.code.uleb(offset);
    return this;
  }
  /** `f64.load offset` */
  f64Load(offset: number): this {
    return this.#mem(0x2b, offset);
  }
  /** `f64.store offset` */
  f64Store(offset: number): this {
    return this.#mem(0x39, offset);
  }
  /** a SIMD instruction (0xfd prefix), immediates to follow */
  simd(opcode: number): this {
    return this.#op(0xfd, opcode);
  }
  #simdMem(opcode: number, offset: number): this {
    this.simd(opcode);
    this.code.byte(3);
    this.code.uleb(offset);
    return this;
  }
  /** `v128.load offset` */
  v128Load(offset: number): this {
    return this.#simdMem(0x00, offset);
  }
  /** `v128.store offset` */
  v128Store(offset: number): this {
    return this.#simdMem(0x0b, offset);
  }
  /** `v128.load64_splat offset`: one f64 in both lanes */
  load64Splat(offset: number): this {
    return this.#simdMem(0x0a, offset);
  }
  /** `v128.load64_zero offset`: one f64 in lane 0, lane 1 zero */
  load64Zero(offset: number): this {
    return this.#simdMem(0x5d, offset);
  }
  /** stores lane 0 of a v128 as one f64 */
  store64Lane0(offset: number): this {
    this.#simdMem(0x5b, offset);
    this.code.byte(0);
    return this;
  }
  /** i8x16.shuffle with 16 lane indices */
  shuffle(lanes: readonly number[]): this {
    this.simd(0x0d);
    this.code.append(lanes);
    return this;
  }

  /** Writes the body to `out`: its size, local declarations (runs of one type), code, `end`. */
  encodeTo(out: ByteWriter): void {
    const runs: [number, number][] = [];
    for (const type of this.#locals) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[1] === type) last[0]++;
      else runs.push([1, type]);
    }
    const head = new ByteWriter();
    head.uleb(runs.length);
    for (const [count, type] of runs) {
      head.uleb(count);
      head.byte(type);
    }
    const code = this.code.bytes();
    out.uleb(head.length + code.length + 1);
    out.append(head.bytes());
    out.append(code);
    out.byte(0x0b);
  }
}
