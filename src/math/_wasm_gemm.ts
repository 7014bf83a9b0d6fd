/**
 * The WebAssembly SIMD (f64x2) build of the three linear-layer products, emitted as
 * bytes when the module loads by a small assembler (`_wasm_asm.ts`) from the kernels of
 * `_wasm_kernels.ts`: the source of the WebAssembly is those files, there is no binary
 * in the repository.
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

import { gemmModuleBytes } from "./_wasm_kernels.ts";

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
  /** {@linkcode MatmulProducts.forward} into `pre`, and `out = max(pre, 0)` (ReLU) */
  forwardRelu(
    pre: Float64Array,
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
  /**
   * {@linkcode MatmulProducts.backwardInput} into `dinp`, then ReLU's backward through
   * the activation `act` (n, inDim) that was the layer's input:
   * `dpre[i] += dinp[i]` where `act[i] > 0` (torch's mask)
   */
  backwardInputRelu(
    dpre: Float64Array,
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    act: Float64Array,
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
// The products, copying through a scratch area of WebAssembly memory.

interface GemmExports {
  memory: WebAssembly.Memory;
  gemm_rows(...args: number[]): void;
  gemm_cols(...args: number[]): void;
  transpose(dst: number, src: number, rows: number, cols: number): void;
  relu(at: number, count: number): void;
  relu_back(d: number, g: number, act: number, count: number): void;
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
  return new WasmMatmul(wasm, opts.relaxed ? "wasm-relaxed-simd" : "wasm-simd");
}

// The products on one instance of the module. Scratch regions are taken from the start
// of memory afresh by each product: 16-byte aligned, with 16 bytes of slack (a lone last
// column loads a whole f64x2).
class WasmMatmul implements MatmulProducts {
  readonly name: string;
  readonly #wasm: GemmExports;
  #f64: Float64Array;
  #top = 0;

  constructor(wasm: GemmExports, name: string) {
    this.name = name;
    this.#wasm = wasm;
    this.#f64 = new Float64Array(wasm.memory.buffer);
  }

  forward(
    out: Float64Array,
    inp: Float64Array,
    weight: Float64Array,
    bias: Float64Array | null,
    n: number,
    inDim: number,
    outDim: number,
  ): void {
    if (n === 0) return;
    this.#copyOut(out, this.#affine(inp, weight, bias, n, inDim, outDim), n * outDim);
  }

  forwardRelu(
    pre: Float64Array,
    out: Float64Array,
    inp: Float64Array,
    weight: Float64Array,
    bias: Float64Array | null,
    n: number,
    inDim: number,
    outDim: number,
  ): void {
    if (n === 0) return;
    const c = this.#affine(inp, weight, bias, n, inDim, outDim);
    this.#copyOut(pre, c, n * outDim);
    this.#wasm.relu(c, n * outDim);
    this.#copyOut(out, c, n * outDim);
  }

  backwardInput(
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): void {
    if (n === 0) return;
    this.#copyOut(dinp, this.#inputGradient(dinp, dout, weight, n, inDim, outDim), n * inDim);
  }

  backwardInputRelu(
    dpre: Float64Array,
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    act: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): void {
    if (n === 0) return;
    const c = this.#inputGradient(dinp, dout, weight, n, inDim, outDim);
    const len = n * inDim;
    this.#copyOut(dinp, c, len);
    const a = this.#take(len), d = this.#take(len);
    this.#reserve();
    this.#copyIn(a, act, len);
    this.#copyIn(d, dpre, len);
    this.#wasm.relu_back(d, c, a, len);
    this.#copyOut(dpre, d, len);
  }

  backwardWeight(
    dweight: Float64Array,
    dout: Float64Array,
    inp: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): void {
    this.#top = 0;
    const d = this.#take(n * outDim), x = this.#take(n * inDim), c = this.#take(outDim * inDim);
    this.#reserve();
    this.#copyIn(d, dout, n * outDim);
    this.#copyIn(x, inp, n * inDim);
    this.#copyIn(c, dweight, outDim * inDim);
    this.#wasm.gemm_cols(c, d, x, outDim, inDim, n, 8 * inDim, 8 * outDim, 8 * inDim);
    this.#copyOut(dweight, c, outDim * inDim);
  }

  /** `inp · weightᵀ + bias` (n, outDim), row-major at the byte offset returned */
  #affine(
    inp: Float64Array,
    weight: Float64Array,
    bias: Float64Array | null,
    n: number,
    inDim: number,
    outDim: number,
  ): number {
    const { gemm_rows, transpose } = this.#wasm;
    this.#top = 0;
    if (n * (inDim + outDim) < inDim * outDim) {
      // few rows: outᵀ (outDim, n) = bias + W · inpᵀ
      const x = this.#take(n * inDim), xt = this.#take(n * inDim);
      const w = this.#take(outDim * inDim);
      const ct = this.#take(outDim * n), c = this.#take(n * outDim);
      this.#reserve();
      this.#copyIn(x, inp, n * inDim);
      transpose(xt, x, n, inDim);
      this.#copyIn(w, weight, outDim * inDim);
      const f64 = this.#f64;
      for (let o = 0, at = ct >> 3; o < outDim; o++) {
        const value = bias === null ? 0 : bias[o];
        for (let r = 0; r < n; r++) f64[at++] = value;
      }
      gemm_rows(ct, w, xt, outDim, n, inDim, 8 * n, 8 * inDim, 8 * n);
      transpose(c, ct, outDim, n);
      return c;
    }
    // out (n, outDim) = bias + inp · Wᵀ
    const x = this.#take(n * inDim), w = this.#take(outDim * inDim);
    const wt = this.#take(inDim * outDim), c = this.#take(n * outDim);
    this.#reserve();
    this.#copyIn(x, inp, n * inDim);
    this.#copyIn(w, weight, outDim * inDim);
    transpose(wt, w, outDim, inDim);
    this.#fillRows(c, bias, n, outDim);
    gemm_rows(c, x, wt, n, outDim, inDim, 8 * outDim, 8 * inDim, 8 * outDim);
    return c;
  }

  /** `dinp + dout · weight` (n, inDim) at the byte offset returned (more may be taken after) */
  #inputGradient(
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): number {
    this.#top = 0;
    const d = this.#take(n * outDim), w = this.#take(outDim * inDim), c = this.#take(n * inDim);
    this.#reserve();
    this.#copyIn(d, dout, n * outDim);
    this.#copyIn(w, weight, outDim * inDim);
    this.#copyIn(c, dinp, n * inDim);
    this.#wasm.gemm_rows(c, d, w, n, inDim, outDim, 8 * inDim, 8 * outDim, 8 * inDim);
    return c;
  }

  /** A scratch region of `len` f64s after the last one taken; its byte offset. */
  #take(len: number): number {
    const at = this.#top;
    this.#top += (len * 8 + 31) & ~15;
    return at;
  }

  /** Grows memory to hold everything taken since `top = 0`; refreshes the view. */
  #reserve(): void {
    const memory = this.#wasm.memory;
    if (this.#top > memory.buffer.byteLength) {
      memory.grow(Math.ceil((this.#top - memory.buffer.byteLength) / 65536));
    }
    if (this.#f64.buffer !== memory.buffer) this.#f64 = new Float64Array(memory.buffer);
  }

  // Very short copies go element by element; the rest as one memcpy.
  #copyIn(byteOffset: number, src: Float64Array, len: number): void {
    const f64 = this.#f64, at = byteOffset >> 3;
    if (len <= 16) {
      for (let i = 0; i < len; i++) f64[at + i] = src[i];
    } else {
      f64.set(src.length === len ? src : src.subarray(0, len), at);
    }
  }

  #copyOut(dst: Float64Array, byteOffset: number, len: number): void {
    const f64 = this.#f64, at = byteOffset >> 3;
    if (len <= 16) {
      for (let i = 0; i < len; i++) dst[i] = f64[at + i];
    } else {
      dst.set(f64.subarray(at, at + len));
    }
  }

  /** rows (count, width) at `byteOffset` = bias (or 0) */
  #fillRows(byteOffset: number, bias: Float64Array | null, count: number, width: number): void {
    const f64 = this.#f64, start = byteOffset >> 3;
    if (bias === null) {
      f64.fill(0, start, start + count * width);
      return;
    }
    this.#copyIn(byteOffset, bias, width);
    for (let filled = 1; filled < count; filled *= 2) {
      const rows = Math.min(filled, count - filled);
      f64.copyWithin(start + filled * width, start, start + rows * width);
    }
  }
}
