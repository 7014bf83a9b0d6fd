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
  const { memory, gemm_rows, gemm_cols, transpose, relu, relu_back } = wasm;
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

  /** `inp · weightᵀ + bias` (n, outDim), row-major at the byte offset returned */
  const affine = (
    inp: Float64Array,
    weight: Float64Array,
    bias: Float64Array | null,
    n: number,
    inDim: number,
    outDim: number,
  ): number => {
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
      return c;
    }
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
    return c;
  };

  /** `dinp + dout · weight` (n, inDim) at the byte offset returned (more may be taken after) */
  const inputGradient = (
    dinp: Float64Array,
    dout: Float64Array,
    weight: Float64Array,
    n: number,
    inDim: number,
    outDim: number,
  ): number => {
    top = 0;
    const d = take(n * outDim), w = take(outDim * inDim), c = take(n * inDim);
    reserve();
    copyIn(d, dout, n * outDim);
    copyIn(w, weight, outDim * inDim);
    copyIn(c, dinp, n * inDim);
    gemm_rows(c, d, w, n, inDim, outDim, 8 * inDim, 8 * outDim, 8 * inDim);
    return c;
  };

  return {
    name: opts.relaxed ? "wasm-relaxed-simd" : "wasm-simd",
    forward(out, inp, weight, bias, n, inDim, outDim) {
      if (n === 0) return;
      copyOut(out, affine(inp, weight, bias, n, inDim, outDim), n * outDim);
    },
    forwardRelu(pre, out, inp, weight, bias, n, inDim, outDim) {
      if (n === 0) return;
      const c = affine(inp, weight, bias, n, inDim, outDim);
      copyOut(pre, c, n * outDim);
      relu(c, n * outDim);
      copyOut(out, c, n * outDim);
    },
    backwardInput(dinp, dout, weight, n, inDim, outDim) {
      if (n === 0) return;
      copyOut(dinp, inputGradient(dinp, dout, weight, n, inDim, outDim), n * inDim);
    },
    backwardInputRelu(dpre, dinp, dout, weight, act, n, inDim, outDim) {
      if (n === 0) return;
      const c = inputGradient(dinp, dout, weight, n, inDim, outDim);
      const len = n * inDim;
      copyOut(dinp, c, len);
      const a = take(len), d = take(len);
      reserve();
      copyIn(a, act, len);
      copyIn(d, dpre, len);
      relu_back(d, c, a, len);
      copyOut(dpre, d, len);
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
