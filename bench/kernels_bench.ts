// The three matrix products of a linear layer at 256 x 64 x 64 (batch x in x out), under
// each implementation: the JavaScript kernel and the WebAssembly SIMD builds (plain
// mul + add, and relaxed fused multiply-add where the runtime has it). They are called
// as the trainer calls them, on 256-row activation buffers, so the copies into and out
// of WebAssembly memory are included. Each name carries its work:
// GFLOP/s = MFLOP / (time per iteration in µs) × 1000.
// Run: deno bench bench/kernels_bench.ts   (DELTA_WAYPOINT_NO_SIMD=1 changes only the "exported" group)

import { jsMatmul, matmulBackend, type MatmulProducts, Rng } from "../src/math/mod.ts";
import {
  matmulBackwardInput,
  matmulBackwardInputRelu,
  matmulBackwardWeight,
  matmulForward,
  matmulForwardRelu,
} from "../src/math/kernels.ts";
import { createWasmMatmul } from "../src/math/_wasm_gemm.ts";

const rng = new Rng(3);
function normals(len: number): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.normal();
  return a;
}

const exported: MatmulProducts = {
  name: `exported (${matmulBackend})`,
  forward: matmulForward,
  forwardRelu: matmulForwardRelu,
  backwardInput: matmulBackwardInput,
  backwardInputRelu: matmulBackwardInputRelu,
  backwardWeight: matmulBackwardWeight,
};
const builds = [
  jsMatmul,
  createWasmMatmul({ relaxed: false }),
  createWasmMatmul({ relaxed: true }),
  exported,
].filter((b): b is MatmulProducts => b !== null);

for (const [n, inDim, outDim] of [[256, 64, 64], [10, 64, 64]]) {
  const inp = normals(256 * inDim), weight = normals(outDim * inDim), bias = normals(outDim);
  const out = new Float64Array(256 * outDim), dout = normals(256 * outDim);
  const dinp = new Float64Array(256 * inDim), dweight = new Float64Array(outDim * inDim);
  const shape = `${n}x${inDim}x${outDim}`;
  const mflop = `${(2 * n * inDim * outDim / 1e6).toFixed(3)} MFLOP`;
  for (const b of builds) {
    const group = `${shape} ${b.name}`;
    Deno.bench({
      name: `forward ${shape} ${b.name} (${mflop})`,
      group,
      baseline: true,
      fn: () => b.forward(out, inp, weight, bias, n, inDim, outDim),
    });
    Deno.bench({
      name: `input grad ${shape} ${b.name} (${mflop})`,
      group,
      fn: () => b.backwardInput(dinp, dout, weight, n, inDim, outDim),
    });
    Deno.bench({
      name: `weight grad ${shape} ${b.name} (${mflop})`,
      group,
      fn: () => b.backwardWeight(dweight, dout, inp, n, inDim, outDim),
    });
  }
}
