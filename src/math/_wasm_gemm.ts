/**
 * The WebAssembly SIMD (f64x2) build of the three linear-layer products, emitted as
 * bytes by the small assembler below when the module loads: the source of the
 * WebAssembly is this file, there is no binary in the repository.
 *
 * One register-blocked loop nest computes `C (m, n) += A (m, k) · B (k, n)`: B is read
 * two columns at a time from its rows (`B[p, j]` at `b + p*ldb + 8j`), A one element at a
 * time, broadcast to both lanes (`v128.load64_splat`), so each f64x2 lane holds one
 * output column. Output tiles are `rows × 4` (5 × 4 with separate multiply and add, 6 × 4
 * with `f64x2.relaxed_madd`, so the accumulators stay within the 16 vector registers);
 * the last rows and columns use smaller tiles of the same loop. Every output element is
 * computed by the same sequence of operations wherever it falls: `acc = C[i, j]`, then
 * `acc = acc + A[i, p] · B[p, j]` for p = 0, 1, ..., k-1 (one rounding for the product and
 * one for the sum, or one fused rounding with relaxed madd), so a row's result does not
 * depend on the batch size, and the plain build gives exactly the bits of the
 * JavaScript kernel in `kernels.ts`.
 *
 * The JavaScript arrays live outside WebAssembly memory, so each product copies its
 * operands into a scratch area, runs there and copies the result back (the weights too,
 * on every call: a memcpy costs less than keeping a cached copy provably in step with
 * every writer of the weights). The input gradient reads the weight as it is and the
 * weight gradient reads the activations as they are; the forward pass needs the weight
 * transposed, or, cheaper for small batches (the rollout's and evaluation's 10 to 16
 * rows), the activations transposed (`outᵀ = W · inpᵀ`, then outᵀ back). Both orders
 * compute each element identically.
 *
 * @module
 */

/** The three products of a linear layer, with the signatures of `kernels.ts`. */
export interface MatmulProducts {
  /** which implementation: `"wasm-relaxed-simd"`, `"wasm-simd"` or `"js"` */
  readonly name: string;
  /** `out (n, outDim) = inp (n, inDim) · weight (outDim, inDim)ᵀ + bias` (bias may be null) */
  forward(
    out: Float64Array,
    inp: Float64Array,
    weight: Float64Array,
    bias: Float64Array | null,
    n: number,
    inDim: number,
    outDim: number,
  ): void;
  /** `dinp (n, inDim) += dout (n, outDim) · weight (outDim, inDim)` */
  backwardInput(
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): void;
  /** `dweight (outDim, inDim) += dout (n, outDim)ᵀ · inp (n, inDim)` */
  backwardWeight(
    dweight: Float64Array,
    dout: Float64Array,
    inp: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): void;
}

// ---------------------------------------------------------------------------------
// A minimal WebAssembly assembler: just the instructions the kernels use.

const I32 = 0x7f;
const V128 = 0x7b;

/**
 * A growable byte buffer with the LEB128 encodings. Everything is written in place:
 * the assembler allocates almost nothing, so building the module does not grow the heap.
 */
class ByteWriter {
  #buf = new Uint8Array(1024);
  /** bytes written */
  length = 0;

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
  bytes(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.length);
  }
}

const I32_OPS = {
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
class Body {
  readonly code = new ByteWriter();
  readonly #locals: number[] = [];
  readonly #params: number;

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
  get(i: number): this {
    return this.#op(0x20, i);
  }
  set(i: number): this {
    return this.#op(0x21, i);
  }
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
  block(): this {
    return this.#op(0x02, 0x40);
  }
  loop(): this {
    return this.#op(0x03, 0x40);
  }
  if(): this {
    return this.#op(0x04, 0x40);
  }
  end(): this {
    this.code.byte(0x0b);
    return this;
  }
  br(depth: number): this {
    return this.#op(0x0c, depth);
  }
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
  f64Load(offset: number): this {
    return this.#mem(0x2b, offset);
  }
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
  v128Load(offset: number): this {
    return this.#simdMem(0x00, offset);
  }
  v128Store(offset: number): this {
    return this.#simdMem(0x0b, offset);
  }
  load64Splat(offset: number): this {
    return this.#simdMem(0x0a, offset);
  }
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

// ---------------------------------------------------------------------------------
// The kernels.

/** How A is laid out: `"rows"`: A[i, p] at a + i*sa + 8p; `"cols"`: at a + 8i + p*sa. */
type ALayout = "rows" | "cols";

const SIMD_F64X2_ADD = 0xf0;
const SIMD_F64X2_MUL = 0xf2;
const SIMD_F64X2_RELAXED_MADD = 0x107;

/** Parameters of every gemm function, in order. */
const P = { c: 0, a: 1, b: 2, m: 3, n: 4, k: 5, ldc: 6, sa: 7, ldb: 8 } as const;

/**
 * `C (m, n) += A (m, k) · B (k, n)`, all offsets and strides in bytes:
 * C[i, j] at c + i*ldc + 8j, B[p, j] at b + p*ldb + 8j, A per `layout`.
 */
function gemmBody(layout: ALayout, relaxed: boolean): Body {
  const f = new Body(9);
  const maxRows = relaxed ? 6 : 5;
  const i = f.local(I32), j = f.local(I32), p = f.local(I32);
  const cRow = f.local(I32), aRow = f.local(I32), cp = f.local(I32), bp = f.local(I32);
  const aps = Array.from({ length: layout === "rows" ? maxRows : 1 }, () => f.local(I32));
  const acc = Array.from({ length: maxRows * 2 }, () => f.local(V128));
  const bv = [f.local(V128), f.local(V128)];
  const splat = f.local(V128);

  /** One step of p for a tile of `rows` × `vecs` vectors; A offsets `aOff` (bytes) */
  const step = (rows: number, vecs: number, half: boolean, aOff: number) => {
    for (let v = 0; v < vecs; v++) {
      f.get(bp);
      if (half) f.load64Zero(0);
      else f.v128Load(16 * v);
      f.set(bv[v]);
    }
    f.addTo(bp, P.ldb);
    for (let r = 0; r < rows; r++) {
      if (layout === "rows") f.get(aps[r]).load64Splat(aOff);
      else f.get(aps[0]).load64Splat(8 * r);
      f.set(splat);
      for (let v = 0; v < vecs; v++) {
        const a = acc[r * 2 + v];
        if (relaxed) {
          f.get(splat).get(bv[v]).get(a).simd(SIMD_F64X2_RELAXED_MADD).set(a);
        } else {
          f.get(a).get(splat).get(bv[v]).simd(SIMD_F64X2_MUL).simd(SIMD_F64X2_ADD).set(a);
        }
      }
    }
    if (layout === "cols") f.addTo(aps[0], P.sa);
  };

  /** The tile at (i, j): rows × (2 vecs or 1 vec, maybe half) */
  const tile = (rows: number, vecs: number, half: boolean) => {
    // cp = cRow + 8j; bp = b + 8j; A pointers
    f.get(j).const(3).op("shl").set(cp);
    f.get(P.b).get(cp).op("add").set(bp);
    f.addTo(cp, cRow);
    if (layout === "rows") {
      f.get(aRow).set(aps[0]);
      for (let r = 1; r < rows; r++) f.get(aps[r - 1]).get(P.sa).op("add").set(aps[r]);
    } else {
      f.get(aRow).set(aps[0]);
    }
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vecs; v++) {
        f.get(cp);
        if (r > 0) f.get(P.ldc).const(r).op("mul").op("add");
        if (half) f.load64Zero(16 * v);
        else f.v128Load(16 * v);
        f.set(acc[r * 2 + v]);
      }
    }
    f.get(P.k).set(p);
    // Whole tiles: p unrolled by 4 (for "rows", A offsets are immediates and the row
    // pointers move 32 bytes per 4 steps). Then, and for the edge tiles (which would
    // only make the code, and the compiler's memory, several times larger), one step
    // at a time.
    if (rows === maxRows && vecs === 2) {
      f.block().loop();
      f.get(p).const(4).op("lt_s").brIf(1);
      for (let u = 0; u < 4; u++) step(rows, vecs, half, 8 * u);
      if (layout === "rows") { for (let r = 0; r < rows; r++) f.addConst(aps[r], 32); }
      f.addConst(p, -4).br(0).end().end();
    }
    f.block().loop();
    f.get(p).op("eqz").brIf(1);
    step(rows, vecs, half, 0);
    if (layout === "rows") { for (let r = 0; r < rows; r++) f.addConst(aps[r], 8); }
    f.addConst(p, -1).br(0).end().end();
    for (let r = 0; r < rows; r++) {
      for (let v = 0; v < vecs; v++) {
        f.get(cp);
        if (r > 0) f.get(P.ldc).const(r).op("mul").op("add");
        f.get(acc[r * 2 + v]);
        if (half) f.store64Lane0(16 * v);
        else f.v128Store(16 * v);
      }
    }
  };

  /** All columns of the row block starting at i (cRow, aRow set), `rows` tall. */
  const rowBlock = (rows: number) => {
    f.const(0).set(j);
    f.block().loop();
    f.get(j).const(4).op("add").get(P.n).op("gt_s").brIf(1);
    tile(rows, 2, false);
    f.addConst(j, 4).br(0).end().end();
    f.get(j).const(2).op("add").get(P.n).op("gt_s").op("eqz").if();
    tile(rows, 1, false);
    f.addConst(j, 2);
    f.end();
    f.get(j).get(P.n).op("lt_s").if();
    tile(rows, 1, true);
    f.end();
  };

  const setRowPointers = () => {
    f.get(P.c).get(i).get(P.ldc).op("mul").op("add").set(cRow);
    if (layout === "rows") f.get(P.a).get(i).get(P.sa).op("mul").op("add").set(aRow);
    else f.get(P.a).get(i).const(3).op("shl").op("add").set(aRow);
  };

  f.const(0).set(i);
  f.block().loop();
  f.get(i).const(maxRows).op("add").get(P.m).op("gt_s").brIf(1);
  setRowPointers();
  rowBlock(maxRows);
  f.addConst(i, maxRows).br(0).end().end();
  for (let rows = maxRows - 1; rows >= 1; rows--) {
    f.get(P.m).get(i).op("sub").const(rows).op("ge_s").if();
    setRowPointers();
    rowBlock(rows);
    f.addConst(i, rows);
    f.end();
  }
  return f;
}

/**
 * `dst (cols, rows) = src (rows, cols)ᵀ`, f64, offsets in bytes: 2 × 2 blocks through
 * two f64x2 shuffles, then the odd last column and row one element at a time.
 */
function transposeBody(): Body {
  const f = new Body(4); // dst, src, rows, cols
  const [dst, src, rows, cols] = [0, 1, 2, 3];
  const r = f.local(I32), c = f.local(I32), s = f.local(I32), d = f.local(I32);
  const srcStride = f.local(I32), dstStride = f.local(I32);
  const v0 = f.local(V128), v1 = f.local(V128);
  const low = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const high = low.map((lane) => lane + 8);
  f.get(cols).const(3).op("shl").set(srcStride);
  f.get(rows).const(3).op("shl").set(dstStride);
  /** the loop over columns of row r (s, d at column 0), `pair`: rows r and r + 1 */
  const columns = (pair: boolean) => {
    f.const(0).set(c);
    if (pair) {
      f.block().loop();
      f.get(c).const(2).op("add").get(cols).op("gt_s").brIf(1);
      f.get(s).v128Load(0).set(v0);
      f.get(s).get(srcStride).op("add").v128Load(0).set(v1);
      f.get(d).get(v0).get(v1).shuffle(low).v128Store(0);
      f.get(d).get(dstStride).op("add").get(v0).get(v1).shuffle(high).v128Store(0);
      f.addConst(s, 16).addTo(d, dstStride).addTo(d, dstStride).addConst(c, 2);
      f.br(0).end().end();
    }
    f.block().loop();
    f.get(c).get(cols).op("ge_s").brIf(1);
    f.get(d).get(s).f64Load(0).f64Store(0);
    if (pair) f.get(d).get(s).get(srcStride).op("add").f64Load(0).f64Store(8);
    f.addConst(s, 8).addTo(d, dstStride).addConst(c, 1);
    f.br(0).end().end();
  };
  /** s = src + 8 r cols; d = dst + 8 r */
  const rowPointers = () => {
    f.get(src).get(r).get(srcStride).op("mul").op("add").set(s);
    f.get(dst).get(r).const(3).op("shl").op("add").set(d);
  };
  f.const(0).set(r);
  f.block().loop();
  f.get(r).const(2).op("add").get(rows).op("gt_s").brIf(1);
  rowPointers();
  columns(true);
  f.addConst(r, 2).br(0).end().end();
  f.get(r).get(rows).op("lt_s").if();
  rowPointers();
  columns(false);
  f.end();
  return f;
}

/**
 * The module's bytes: memory (exported as `memory`), `gemm_rows`, `gemm_cols` (the
 * two A layouts) and `transpose`. `relaxed` picks `f64x2.relaxed_madd` over mul + add.
 */
export function gemmModuleBytes(relaxed: boolean): Uint8Array<ArrayBuffer> {
  const out = new ByteWriter();
  const section = (id: number, fill: (payload: ByteWriter) => void) => {
    const payload = new ByteWriter();
    fill(payload);
    out.byte(id);
    out.sized(payload.bytes());
  };
  out.append([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]); // magic, version 1
  section(1, (t) => { // types: 0 = (i32 x 9) -> (), 1 = (i32 x 4) -> ()
    t.uleb(2);
    for (const params of [9, 4]) {
      t.byte(0x60);
      t.uleb(params);
      for (let i = 0; i < params; i++) t.byte(I32);
      t.uleb(0);
    }
  });
  section(3, (f) => f.append([3, 0, 0, 1])); // three functions and their types
  section(5, (m) => m.append([1, 0x00, 1])); // one memory: min 1 page, no max
  section(7, (e) => { // exports
    e.uleb(4);
    e.name("memory");
    e.append([0x02, 0]);
    ["gemm_rows", "gemm_cols", "transpose"].forEach((fn, index) => {
      e.name(fn);
      e.append([0x00, index]);
    });
  });
  section(10, (c) => { // code
    const bodies = [gemmBody("rows", relaxed), gemmBody("cols", relaxed), transposeBody()];
    c.uleb(bodies.length);
    for (const body of bodies) body.encodeTo(c);
  });
  return out.bytes();
}

// ---------------------------------------------------------------------------------
// The products, copying through a scratch area of WebAssembly memory.

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm_rows(...args: number[]): void;
  gemm_cols(...args: number[]): void;
  transpose(dst: number, src: number, rows: number, cols: number): void;
}

/** Whether this runtime accepts WebAssembly relaxed SIMD (`f64x2.relaxed_madd`). */
export function hasRelaxedSimd(): boolean {
  return WebAssembly.validate(gemmModuleBytes(true));
}

/** Options of {@linkcode createWasmMatmul}. */
export interface WasmMatmulOptions {
  /** use `f64x2.relaxed_madd` (one fused rounding where the CPU has FMA) instead of mul + add */
  relaxed: boolean;
}

/**
 * The SIMD products, or null when this runtime cannot compile them (no WebAssembly
 * SIMD, or no relaxed SIMD when `relaxed` is asked for).
 *
 * @example
 * ```ts
 * const simd = createWasmMatmul({ relaxed: false });
 * const out = new Float64Array(3);
 * simd?.forward(out, new Float64Array([1, 2]), new Float64Array([1, 0, 0, 1, 1, 1]), null, 1, 2, 3);
 * ```
 */
export function createWasmMatmul(opts: WasmMatmulOptions): MatmulProducts | null {
  const bytes = gemmModuleBytes(opts.relaxed);
  if (!WebAssembly.validate(bytes)) return null;
  const wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes))
    .exports as unknown as GemmExports;
  const { memory, gemm_rows, gemm_cols, transpose } = wasm;
  let f64 = new Float64Array(memory.buffer);

  // Scratch regions are taken from the start of memory afresh by each product:
  // 16-byte aligned, with 16 bytes of slack (a lone last column loads a whole f64x2).
  let top = 0;
  const take = (len: number): number => {
    const at = top;
    top += (len * 8 + 31) & ~15;
    return at;
  };
  /** Grows memory to hold everything taken since `top = 0`; refreshes the view. */
  const reserve = () => {
    if (top > memory.buffer.byteLength) {
      memory.grow(Math.ceil((top - memory.buffer.byteLength) / 65536));
    }
    if (f64.buffer !== memory.buffer) f64 = new Float64Array(memory.buffer);
  };
  // Very short copies go element by element; the rest as one memcpy.
  const copyIn = (byteOffset: number, src: Float64Array, len: number) => {
    const at = byteOffset >> 3;
    if (len <= 16) {
      for (let i = 0; i < len; i++) f64[at + i] = src[i];
    } else {
      f64.set(src.length === len ? src : src.subarray(0, len), at);
    }
  };
  const copyOut = (dst: Float64Array, byteOffset: number, len: number) => {
    const at = byteOffset >> 3;
    if (len <= 16) {
      for (let i = 0; i < len; i++) dst[i] = f64[at + i];
    } else {
      dst.set(f64.subarray(at, at + len));
    }
  };
  /** rows (count, width) at `byteOffset` = bias (or 0) */
  const fillRows = (
    byteOffset: number,
    bias: Float64Array | null,
    count: number,
    width: number,
  ) => {
    const start = byteOffset >> 3;
    if (bias === null) {
      f64.fill(0, start, start + count * width);
      return;
    }
    copyIn(byteOffset, bias, width);
    for (let filled = 1; filled < count; filled *= 2) {
      const rows = Math.min(filled, count - filled);
      f64.copyWithin(start + filled * width, start, start + rows * width);
    }
  };

  return {
    name: opts.relaxed ? "wasm-relaxed-simd" : "wasm-simd",
    forward(out, inp, weight, bias, n, inDim, outDim) {
      if (n === 0) return;
      if (n * (inDim + outDim) < inDim * outDim) {
        // few rows: outᵀ (outDim, n) = bias + W · inpᵀ
        top = 0;
        const x = take(n * inDim), xt = take(n * inDim), w = take(outDim * inDim);
        const ct = take(outDim * n), c = take(n * outDim);
        reserve();
        copyIn(x, inp, n * inDim);
        transpose(xt, x, n, inDim);
        copyIn(w, weight, outDim * inDim);
        const start = ct >> 3;
        for (let o = 0, at = start; o < outDim; o++) {
          const value = bias === null ? 0 : bias[o];
          for (let r = 0; r < n; r++) f64[at++] = value;
        }
        gemm_rows(ct, w, xt, outDim, n, inDim, 8 * n, 8 * inDim, 8 * n);
        transpose(c, ct, outDim, n);
        copyOut(out, c, n * outDim);
      } else {
        // out (n, outDim) = bias + inp · Wᵀ
        top = 0;
        const x = take(n * inDim), w = take(outDim * inDim), wt = take(inDim * outDim);
        const c = take(n * outDim);
        reserve();
        copyIn(x, inp, n * inDim);
        copyIn(w, weight, outDim * inDim);
        transpose(wt, w, outDim, inDim);
        fillRows(c, bias, n, outDim);
        gemm_rows(c, x, wt, n, outDim, inDim, 8 * outDim, 8 * inDim, 8 * outDim);
        copyOut(out, c, n * outDim);
      }
    },
    backwardInput(dinp, dout, weight, n, inDim, outDim) {
      if (n === 0) return;
      top = 0;
      const d = take(n * outDim), w = take(outDim * inDim), c = take(n * inDim);
      reserve();
      copyIn(d, dout, n * outDim);
      copyIn(w, weight, outDim * inDim);
      copyIn(c, dinp, n * inDim);
      gemm_rows(c, d, w, n, inDim, outDim, 8 * inDim, 8 * outDim, 8 * inDim);
      copyOut(dinp, c, n * inDim);
    },
    backwardWeight(dweight, dout, inp, n, inDim, outDim) {
      top = 0;
      const d = take(n * outDim), x = take(n * inDim), c = take(outDim * inDim);
      reserve();
      copyIn(d, dout, n * outDim);
      copyIn(x, inp, n * inDim);
      copyIn(c, dweight, outDim * inDim);
      gemm_cols(c, d, x, outDim, inDim, n, 8 * inDim, 8 * outDim, 8 * inDim);
      copyOut(dweight, c, outDim * inDim);
    },
  };
}
