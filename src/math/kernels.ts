/**
 * Dense typed-array kernels: the three matrix products of a linear layer and a few
 * vector reductions. Everything is row-major `Float64Array`.
 *
 * The products run on WebAssembly SIMD (f64x2, `_wasm_gemm.ts`, with `relaxed_madd`
 * where the runtime has relaxed SIMD) and fall back to the JavaScript kernel below when
 * WebAssembly SIMD is missing or the environment variable `DELTA_WAYPOINT_NO_SIMD=1`
 * asks for it ({@linkcode matmulBackend} says which one runs). The choice is made once,
 * when this module loads.
 *
 * The JavaScript products go through one private register-blocked kernel that computes
 * `C += A · Bᵀ` over 4 × 2 output tiles. In both implementations each output element is
 * summed in the same order (its initial value, then k = 0, 1, ...) whichever tile or
 * tail it falls in, so a row's result does not depend on how many rows are in the
 * batch: running one observation or a batch of 257 gives bit-identical rows. (With
 * relaxed SIMD each step is one fused multiply-add, so its bits differ from the
 * JavaScript kernel's in the last place; without it they are the same.)
 *
 * Like llm.c's kernels these take positional arguments (arrays, then sizes): they sit
 * in hot loops and are called with the same few shapes over and over.
 *
 * @module
 */

import { createWasmMatmul, type MatmulProducts } from "./_wasm_gemm.ts";

export type { MatmulProducts } from "./_wasm_gemm.ts";

/**
 * `c (m, n) += A (m, k) · B (n, k)ᵀ`, where `A[i, p] = a[i*aRow + p*aCol]` and
 * `B[j, p] = b[j*bRow + p*bCol]`; `c` is contiguous row-major.
 *
 * 4 × 2 register tiles: per step of p, six loads feed eight multiply-adds, and the
 * eight partial sums stay in registers until the tile is stored.
 */
function gemmAccumulate(
  c: Float64Array,
  a: Float64Array,
  b: Float64Array,
  m: number,
  n: number,
  k: number,
  aRow: number,
  aCol: number,
  bRow: number,
  bCol: number,
): void {
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const a0 = i * aRow, a1 = a0 + aRow, a2 = a1 + aRow, a3 = a2 + aRow;
    const c0 = i * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const b0 = j * bRow, b1 = b0 + bRow;
      let s00 = c[c0 + j], s01 = c[c0 + j + 1];
      let s10 = c[c1 + j], s11 = c[c1 + j + 1];
      let s20 = c[c2 + j], s21 = c[c2 + j + 1];
      let s30 = c[c3 + j], s31 = c[c3 + j + 1];
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += aCol, pb += bCol) {
        const x0 = a[a0 + pa], x1 = a[a1 + pa], x2 = a[a2 + pa], x3 = a[a3 + pa];
        const y0 = b[b0 + pb], y1 = b[b1 + pb];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      c[c0 + j] = s00;
      c[c0 + j + 1] = s01;
      c[c1 + j] = s10;
      c[c1 + j + 1] = s11;
      c[c2 + j] = s20;
      c[c2 + j + 1] = s21;
      c[c3 + j] = s30;
      c[c3 + j + 1] = s31;
    }
    if (j < n) {
      // Odd n: the last column, 4 rows at a time.
      const b0 = j * bRow;
      let s0 = c[c0 + j], s1 = c[c1 + j], s2 = c[c2 + j], s3 = c[c3 + j];
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += aCol, pb += bCol) {
        const y = b[b0 + pb];
        s0 += a[a0 + pa] * y;
        s1 += a[a1 + pa] * y;
        s2 += a[a2 + pa] * y;
        s3 += a[a3 + pa] * y;
      }
      c[c0 + j] = s0;
      c[c1 + j] = s1;
      c[c2 + j] = s2;
      c[c3 + j] = s3;
    }
  }
  // The last m % 4 rows (all of them when m < 4, e.g. one observation): 1 × 2 tiles.
  for (; i < m; i++) {
    const a0 = i * aRow;
    const c0 = i * n;
    let j = 0;
    for (; j + 2 <= n; j += 2) {
      const b0 = j * bRow, b1 = b0 + bRow;
      let s0 = c[c0 + j], s1 = c[c0 + j + 1];
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += aCol, pb += bCol) {
        const x = a[a0 + pa];
        s0 += x * b[b0 + pb];
        s1 += x * b[b1 + pb];
      }
      c[c0 + j] = s0;
      c[c0 + j + 1] = s1;
    }
    if (j < n) {
      const b0 = j * bRow;
      let s = c[c0 + j];
      for (let p = 0, pa = 0, pb = 0; p < k; p++, pa += aCol, pb += bCol) {
        s += a[a0 + pa] * b[b0 + pb];
      }
      c[c0 + j] = s;
    }
  }
}

/** The JavaScript products: the fallback, and the reference the SIMD build is tested against. */
export const jsMatmul: MatmulProducts = {
  name: "js",
  forward(out, inp, weight, bias, n, inDim, outDim) {
    if (bias === null) {
      out.fill(0, 0, n * outDim);
    } else {
      for (let r = 0, ro = 0; r < n; r++, ro += outDim) {
        for (let j = 0; j < outDim; j++) out[ro + j] = bias[j];
      }
    }
    gemmAccumulate(out, inp, weight, n, outDim, inDim, inDim, 1, inDim, 1);
  },
  forwardRelu(pre, out, inp, weight, bias, n, inDim, outDim) {
    jsMatmul.forward(pre, inp, weight, bias, n, inDim, outDim);
    // Math.max: no branch on the sign (about 3x faster than `x > 0 ? x : 0` on random
    // signs); the same +0 for negative and -0 inputs, and NaN stays NaN, as in torch
    for (let i = 0; i < n * outDim; i++) out[i] = Math.max(pre[i], 0);
  },
  backwardInput(dinp, dout, weight, n, inDim, outDim) {
    gemmAccumulate(dinp, dout, weight, n, inDim, outDim, outDim, 1, 1, inDim);
  },
  backwardInputRelu(dpre, dinp, dout, weight, act, n, inDim, outDim) {
    gemmAccumulate(dinp, dout, weight, n, inDim, outDim, outDim, 1, 1, inDim);
    for (let i = 0; i < n * inDim; i++) {
      if (act[i] > 0) dpre[i] += dinp[i];
    }
  },
  backwardWeight(dweight, dout, inp, n, inDim, outDim) {
    gemmAccumulate(dweight, dout, inp, outDim, inDim, n, 1, outDim, 1, inDim);
  },
};

/** The environment variable that, set to anything but "" or "0", forces the JavaScript products. */
export const NO_SIMD_VAR = "DELTA_WAYPOINT_NO_SIMD";

/** Reads {@linkcode NO_SIMD_VAR} only if env access is already granted (never prompts). */
function simdDisabledByEnv(): boolean {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: NO_SIMD_VAR }).state !== "granted") {
      return false;
    }
    const value = Deno.env.get(NO_SIMD_VAR);
    return value !== undefined && value !== "" && value !== "0";
  } catch {
    return false;
  }
}

function selectProducts(): MatmulProducts {
  if (simdDisabledByEnv()) return jsMatmul;
  try {
    return createWasmMatmul({ relaxed: true }) ?? createWasmMatmul({ relaxed: false }) ?? jsMatmul;
  } catch {
    return jsMatmul; // no WebAssembly at all
  }
}

const products = selectProducts();

/**
 * Which implementation runs the products: `"wasm-relaxed-simd"`, `"wasm-simd"` or `"js"`.
 *
 * @example
 * ```ts
 * console.log(`matrix kernels: ${matmulBackend}`);
 * ```
 */
export const matmulBackend: string = products.name;

/**
 * Affine map of a batch, as `torch.nn.Linear`: `out = inp · weightᵀ + bias`.
 * Shapes: inp (n, inDim), weight (outDim, inDim), bias (outDim) or null, out (n, outDim).
 * Overwrites `out`.
 *
 * @example
 * ```ts
 * const inp = new Float64Array([1, 2]); // (1, 2)
 * const weight = new Float64Array([1, 0, 0, 1, 1, 1]); // (3, 2)
 * const out = new Float64Array(3);
 * matmulForward(out, inp, weight, null, 1, 2, 3); // out = [1, 2, 3]
 * ```
 */
export function matmulForward(
  out: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  bias: Float64Array | null,
  n: number,
  inDim: number,
  outDim: number,
): void {
  products.forward(out, inp, weight, bias, n, inDim, outDim);
}

/**
 * {@linkcode matmulForward} into `pre`, then the ReLU of it into `out`:
 * `out = max(pre, 0)` (+0 for -0, NaN stays NaN, as torch's ReLU). On the SIMD build the
 * ReLU runs in WebAssembly before the result is copied out.
 *
 * @example
 * ```ts
 * const pre = new Float64Array(2), out = new Float64Array(2);
 * matmulForwardRelu(pre, out, new Float64Array([2]), new Float64Array([1, -1]), null, 1, 1, 2);
 * // pre = [2, -2], out = [2, 0]
 * ```
 */
export function matmulForwardRelu(
  pre: Float64Array,
  out: Float64Array,
  inp: Float64Array,
  weight: Float64Array,
  bias: Float64Array | null,
  n: number,
  inDim: number,
  outDim: number,
): void {
  products.forwardRelu(pre, out, inp, weight, bias, n, inDim, outDim);
}

/**
 * Gradient of a linear layer's input: `dinp += dout · weight`.
 * Shapes: dout (n, outDim), weight (outDim, inDim), dinp (n, inDim). Accumulates.
 *
 * @example
 * ```ts
 * const dout = new Float64Array([1, 1, 1]); // (1, 3)
 * const weight = new Float64Array([1, 0, 0, 1, 1, 1]); // (3, 2)
 * const dinp = new Float64Array(2);
 * matmulBackwardInput(dinp, dout, weight, 1, 2, 3); // dinp = [2, 2]
 * ```
 */
export function matmulBackwardInput(
  dinp: Float64Array,
  dout: Float64Array,
  weight: Float64Array,
  n: number,
  inDim: number,
  outDim: number,
): void {
  products.backwardInput(dinp, dout, weight, n, inDim, outDim);
}

/**
 * {@linkcode matmulBackwardInput} into `dinp`, then the backward of the ReLU whose output
 * `act` (n, inDim) fed the layer: `dpre[i] += dinp[i]` where `act[i] > 0` (torch's mask,
 * gradient 0 at exactly 0). Accumulates into both. On the SIMD build the ReLU part runs
 * in WebAssembly before the copy-out.
 *
 * @example
 * ```ts
 * const dinp = new Float64Array(2), dpre = new Float64Array(2);
 * const act = new Float64Array([0, 2]); // the ReLU's output, the layer's input (1, 2)
 * matmulBackwardInputRelu(dpre, dinp, new Float64Array([1]), new Float64Array([3, 4]), act, 1, 2, 1);
 * // dinp = [3, 4], dpre = [0, 4]
 * ```
 */
export function matmulBackwardInputRelu(
  dpre: Float64Array,
  dinp: Float64Array,
  dout: Float64Array,
  weight: Float64Array,
  act: Float64Array,
  n: number,
  inDim: number,
  outDim: number,
): void {
  products.backwardInputRelu(dpre, dinp, dout, weight, act, n, inDim, outDim);
}

/**
 * Gradient of a linear layer's weight: `dweight += doutᵀ · inp`.
 * Shapes: dout (n, outDim), inp (n, inDim), dweight (outDim, inDim). Accumulates.
 *
 * @example
 * ```ts
 * const dout = new Float64Array([1, 2]); // (1, 2)
 * const inp = new Float64Array([3, 4, 5]); // (1, 3)
 * const dweight = new Float64Array(6);
 * matmulBackwardWeight(dweight, dout, inp, 1, 3, 2); // dweight = [3, 4, 5, 6, 8, 10]
 * ```
 */
export function matmulBackwardWeight(
  dweight: Float64Array,
  dout: Float64Array,
  inp: Float64Array,
  n: number,
  inDim: number,
  outDim: number,
): void {
  products.backwardWeight(dweight, dout, inp, n, inDim, outDim);
}

/**
 * Column sums of a batch, accumulated: `sums[j] += Σ_r x[r, j]`, x (n, dim).
 * The gradient of a bias that was added to every row.
 *
 * @example
 * ```ts
 * const sums = new Float64Array(2);
 * addColumnSums(sums, new Float64Array([1, 2, 3, 4]), 2, 2); // sums = [4, 6]
 * ```
 */
export function addColumnSums(sums: Float64Array, x: Float64Array, n: number, dim: number): void {
  // Four columns at a time, each sum kept in a register down the rows (same order: r = 0, 1, ...).
  let j = 0;
  for (; j + 4 <= dim; j += 4) {
    let s0 = sums[j], s1 = sums[j + 1], s2 = sums[j + 2], s3 = sums[j + 3];
    for (let r = 0, ro = j; r < n; r++, ro += dim) {
      s0 += x[ro];
      s1 += x[ro + 1];
      s2 += x[ro + 2];
      s3 += x[ro + 3];
    }
    sums[j] = s0;
    sums[j + 1] = s1;
    sums[j + 2] = s2;
    sums[j + 3] = s3;
  }
  for (; j < dim; j++) {
    let s = sums[j];
    for (let r = 0, ro = j; r < n; r++, ro += dim) s += x[ro];
    sums[j] = s;
  }
}

/**
 * Σ x[i]² over the first `len` elements (all of `x` by default).
 *
 * @example
 * ```ts
 * const s = sumOfSquares(new Float64Array([3, 4])); // 25
 * ```
 */
export function sumOfSquares(x: Float64Array, len: number = x.length): number {
  let s0 = 0, s1 = 0;
  let i = 0;
  for (; i + 2 <= len; i += 2) {
    s0 += x[i] * x[i];
    s1 += x[i + 1] * x[i + 1];
  }
  if (i < len) s0 += x[i] * x[i];
  return s0 + s1;
}
