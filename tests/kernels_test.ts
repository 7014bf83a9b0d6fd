// The WebAssembly SIMD products against the JavaScript kernel: the plain build must give
// the same bits, the relaxed (fused multiply-add) build the same numbers to a rounding
// bound; under both, a row's result must not depend on the batch size; and the choice
// of implementation follows DELTA_WAYPOINT_NO_SIMD without ever prompting.

import assert from "node:assert/strict";
import {
  addColumnSums,
  jsMatmul,
  matmulBackend,
  matmulBackwardInput,
  matmulForward,
  type MatmulProducts,
  Rng,
} from "../src/math/mod.ts";
import { createWasmMatmul, hasRelaxedSimd } from "../src/math/_wasm_gemm.ts";

function normals(rng: Rng, len: number): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.normal();
  return a;
}

const plain = createWasmMatmul({ relaxed: false });
const relaxed = hasRelaxedSimd() ? createWasmMatmul({ relaxed: true }) : null;
const simdBuilds = [plain, relaxed].filter((p): p is MatmulProducts => p !== null);

// Batches 1..13 and a few larger ones cover every row tail of the 5- and 6-row tiles;
// odd and tiny sizes cover the column tails (one f64x2 lane) and k not a multiple of 4.
const SHAPES: [number, number, number][] = [];
for (let n = 1; n <= 13; n++) SHAPES.push([n, 41, 64], [n, 64, 40], [n, 7, 3]);
SHAPES.push([64, 64, 64], [64, 41, 1], [257, 13, 5], [3, 1, 1], [2, 5, 2], [31, 64, 17]);
// WebAssembly memory starts at one 64 KiB page and grows on demand: a large product in
// between small ones checks the products keep working across a growth.
SHAPES.push([1500, 41, 64], [4, 41, 64]);

/** Every product of one shape, accumulating onto random values, under `products`. */
function allProducts(products: MatmulProducts, [n, inDim, outDim]: [number, number, number]) {
  const rng = new Rng(n * 10007 + inDim * 101 + outDim);
  const inp = normals(rng, n * inDim), weight = normals(rng, outDim * inDim);
  const bias = normals(rng, outDim), dout = normals(rng, n * outDim);
  const out = normals(rng, n * outDim), outNoBias = normals(rng, n * outDim);
  const dinp = normals(rng, n * inDim), dweight = normals(rng, outDim * inDim);
  // Bounds on each result's size: |c0| + Σ|a·b| per element, for the rounding tolerance.
  const scale = {
    out: new Float64Array(n * outDim),
    dinp: dinp.map(Math.abs),
    dweight: dweight.map(Math.abs),
  };
  for (let r = 0; r < n; r++) {
    for (let o = 0; o < outDim; o++) {
      scale.out[r * outDim + o] = Math.abs(bias[o]);
      for (let i = 0; i < inDim; i++) {
        const t = Math.abs(inp[r * inDim + i] * weight[o * inDim + i]);
        scale.out[r * outDim + o] += t;
        scale.dweight[o * inDim + i] += Math.abs(dout[r * outDim + o] * inp[r * inDim + i]);
      }
      for (let i = 0; i < inDim; i++) {
        scale.dinp[r * inDim + i] += Math.abs(dout[r * outDim + o] * weight[o * inDim + i]);
      }
    }
  }
  products.forward(out, inp, weight, bias, n, inDim, outDim);
  products.forward(outNoBias, inp, weight, null, n, inDim, outDim);
  products.backwardInput(dinp, dout, weight, n, inDim, outDim);
  products.backwardWeight(dweight, dout, inp, n, inDim, outDim);
  return { out, outNoBias, dinp, dweight, scale };
}

Deno.test("WebAssembly SIMD is available in this runtime", () => {
  assert.ok(plain !== null, "the f64x2 module did not compile");
});

Deno.test("plain SIMD products give exactly the JavaScript kernel's bits", () => {
  assert.ok(plain !== null);
  for (const shape of SHAPES) {
    const want = allProducts(jsMatmul, shape);
    const got = allProducts(plain, shape);
    for (const key of ["out", "outNoBias", "dinp", "dweight"] as const) {
      assert.deepEqual(got[key], want[key], `${key} of ${shape.join("x")}`);
    }
  }
});

Deno.test(
  "relaxed SIMD (fused multiply-add) products agree with the JavaScript kernel to rounding",
  {
    ignore: relaxed === null,
  },
  () => {
    let fused = 0;
    for (const shape of SHAPES) {
      const want = allProducts(jsMatmul, shape);
      const got = allProducts(relaxed!, shape);
      const k = Math.max(...shape);
      for (const key of ["out", "outNoBias", "dinp", "dweight"] as const) {
        const scale = key === "outNoBias" ? want.scale.out : want.scale[key];
        for (let i = 0; i < want[key].length; i++) {
          // both sums round at most k + 1 times, each by at most 2^-53 of the running size
          const bound = 2 * (k + 1) * 2 ** -53 * scale[i];
          const err = Math.abs(got[key][i] - want[key][i]);
          assert.ok(err <= bound, `${key}[${i}] of ${shape.join("x")}: ${err} > ${bound}`);
          if (err !== 0) fused++;
        }
      }
    }
    // relaxed_madd may or may not fuse (it depends on the CPU); record which it did
    console.log(
      `relaxed madd rounded ${fused} results unlike mul + add (0: not fused on this CPU)`,
    );
  },
);

Deno.test("forwardRelu gives forward's numbers and their ReLU under every build, zeros and NaN included", () => {
  for (const products of [jsMatmul, ...simdBuilds]) {
    for (const [n, inDim, outDim] of SHAPES) {
      const rng = new Rng(n * 31 + inDim * 7 + outDim);
      const inp = normals(rng, n * inDim), weight = normals(rng, outDim * inDim);
      const bias = normals(rng, outDim);
      // a zero row (pre = bias exactly), a -0 and a NaN through a zero weight row
      inp.fill(0, 0, inDim);
      bias[0] = -0;
      if (outDim > 1) {
        weight.fill(0, outDim * inDim - inDim);
        bias[outDim - 1] = NaN;
      }
      const want = new Float64Array(n * outDim);
      products.forward(want, inp, weight, bias, n, inDim, outDim);
      const pre = normals(rng, n * outDim), out = normals(rng, n * outDim);
      products.forwardRelu(pre, out, inp, weight, bias, n, inDim, outDim);
      const what = `${products.name} ${n}x${inDim}x${outDim}`;
      // Object.is: NaN equals NaN whatever its payload bits, +0 differs from -0
      for (let i = 0; i < n * outDim; i++) {
        assert.ok(Object.is(pre[i], want[i]), `pre[${i}] of ${what}`);
        assert.ok(Object.is(out[i], Math.max(want[i], 0)), `out[${i}] of ${what}`);
      }
      assert.ok(Object.is(out[0], 0), `ReLU(-0) is +0 (${what})`);
    }
  }
});

Deno.test("backwardInputRelu gives backwardInput's numbers and the ReLU's masked sum under every build", () => {
  for (const products of [jsMatmul, ...simdBuilds]) {
    for (const [n, inDim, outDim] of SHAPES) {
      const rng = new Rng(n * 17 + inDim * 5 + outDim);
      const dout = normals(rng, n * outDim), weight = normals(rng, outDim * inDim);
      // the activation a ReLU gave: zeros (masked), positives and a NaN (masked)
      const act = normals(rng, n * inDim).map((x) => Math.max(x, 0));
      act[0] = NaN;
      const dinp0 = normals(rng, n * inDim), dpre0 = normals(rng, n * inDim);
      dpre0[n * inDim - 1] = -0; // stays -0 where masked, as `if (act > 0) d += g` leaves it
      const want = dinp0.slice();
      products.backwardInput(want, dout, weight, n, inDim, outDim);
      const dinp = dinp0.slice(), dpre = dpre0.slice();
      products.backwardInputRelu(dpre, dinp, dout, weight, act, n, inDim, outDim);
      const what = `${products.name} ${n}x${inDim}x${outDim}`;
      for (let i = 0; i < n * inDim; i++) {
        assert.ok(Object.is(dinp[i], want[i]), `dinp[${i}] of ${what}`);
        const expected = act[i] > 0 ? dpre0[i] + want[i] : dpre0[i];
        assert.ok(Object.is(dpre[i], expected), `dpre[${i}] of ${what}`);
      }
    }
  }
});

Deno.test("under every build a row's forward and input gradient do not depend on the batch size", () => {
  const inDim = 41, hidden = 64, rows = 70;
  const rng = new Rng(5);
  const inp = normals(rng, rows * inDim), weight = normals(rng, hidden * inDim);
  const bias = normals(rng, hidden), dout = normals(rng, rows * hidden);
  for (const products of [jsMatmul, ...simdBuilds]) {
    // reference: every row computed alone
    const alone = new Float64Array(rows * hidden), aloneGrad = new Float64Array(rows * inDim);
    for (let r = 0; r < rows; r++) {
      products.forward(
        alone.subarray(r * hidden),
        inp.subarray(r * inDim),
        weight,
        bias,
        1,
        inDim,
        hidden,
      );
      products.backwardInput(
        aloneGrad.subarray(r * inDim),
        dout.subarray(r * hidden),
        weight,
        1,
        inDim,
        hidden,
      );
    }
    for (const batch of [2, 3, 5, 6, 7, 10, 11, 13, 16, 64, 70]) {
      const out = new Float64Array(rows * hidden), grad = new Float64Array(rows * inDim);
      for (let start = 0; start < rows; start += batch) {
        const n = Math.min(batch, rows - start);
        products.forward(
          out.subarray(start * hidden),
          inp.subarray(start * inDim),
          weight,
          bias,
          n,
          inDim,
          hidden,
        );
        products.backwardInput(
          grad.subarray(start * inDim),
          dout.subarray(start * hidden),
          weight,
          n,
          inDim,
          hidden,
        );
      }
      assert.deepEqual(out, alone, `${products.name}: forward in batches of ${batch}`);
      assert.deepEqual(grad, aloneGrad, `${products.name}: input gradient in batches of ${batch}`);
    }
  }
});

Deno.test("the SIMD builds give the same bits on their first calls as once optimised", () => {
  // The runtime compiles WebAssembly twice (a quick baseline, then an optimised build);
  // both must compute relaxed_madd the same way, or results would depend on timing.
  const shape: [number, number, number] = [10, 64, 64];
  for (const relaxedMadd of [false, true]) {
    if (relaxedMadd && relaxed === null) continue;
    const fresh = createWasmMatmul({ relaxed: relaxedMadd })!;
    const first = allProducts(fresh, shape);
    for (let i = 0; i < 3000; i++) allProducts(fresh, [2, 5, 3]);
    const warm = allProducts(fresh, shape);
    for (const key of ["out", "dinp", "dweight"] as const) {
      assert.deepEqual(warm[key], first[key], `${fresh.name}: ${key}`);
    }
  }
});

Deno.test("the exported products run the build that DELTA_WAYPOINT_NO_SIMD selects", () => {
  const forced = (Deno.env.get("DELTA_WAYPOINT_NO_SIMD") ?? "") !== "" &&
    Deno.env.get("DELTA_WAYPOINT_NO_SIMD") !== "0";
  const expected = forced ? jsMatmul : (relaxed ?? plain!);
  assert.equal(matmulBackend, expected.name);
  const shape: [number, number, number] = [7, 41, 64];
  const [n, inDim, outDim] = shape;
  const rng = new Rng(9);
  const inp = normals(rng, n * inDim), weight = normals(rng, outDim * inDim);
  const dout = normals(rng, n * outDim);
  const out = new Float64Array(n * outDim), want = new Float64Array(n * outDim);
  matmulForward(out, inp, weight, null, n, inDim, outDim);
  expected.forward(want, inp, weight, null, n, inDim, outDim);
  assert.deepEqual(out, want);
  const dinp = new Float64Array(n * inDim), wantDinp = new Float64Array(n * inDim);
  matmulBackwardInput(dinp, dout, weight, n, inDim, outDim);
  expected.backwardInput(wantDinp, dout, weight, n, inDim, outDim);
  assert.deepEqual(dinp, wantDinp);
});

/** `matmulBackend` as a fresh `deno run` with `permissions` and `env` sees it. */
async function backendOf(permissions: string[], env: Record<string, string>): Promise<string> {
  const url = new URL("../src/math/kernels.ts", import.meta.url).href;
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(
      script,
      `import { matmulBackend } from "${url}";\nconsole.log(matmulBackend);\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", ...permissions, script],
      env: { ...env, NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    return new TextDecoder().decode(out.stdout).trim();
  } finally {
    await Deno.remove(script);
  }
}

Deno.test("DELTA_WAYPOINT_NO_SIMD=1 forces the JavaScript kernel; without env access it is not read", async () => {
  assert.equal(await backendOf(["--allow-env"], { DELTA_WAYPOINT_NO_SIMD: "1" }), "js");
  const simdName = (relaxed ?? plain!).name;
  assert.equal(await backendOf(["--allow-env"], { DELTA_WAYPOINT_NO_SIMD: "0" }), simdName);
  // `deno task train` grants no env access: the variable is not read, and nothing prompts
  // (--no-prompt turns a prompt into an error).
  assert.equal(await backendOf([], { DELTA_WAYPOINT_NO_SIMD: "1" }), simdName);
});

Deno.test("column sums add each column's rows in order, for any width", () => {
  const rng = new Rng(21);
  for (const [n, dim] of [[1, 1], [3, 5], [64, 64], [10, 41], [7, 1], [13, 6]]) {
    const x = normals(rng, n * dim), start = normals(rng, dim);
    const want = start.slice();
    for (let j = 0; j < dim; j++) {
      for (let r = 0; r < n; r++) want[j] += x[r * dim + j];
    }
    const got = start.slice();
    addColumnSums(got, x, n, dim);
    assert.deepEqual(got, want, `${n} x ${dim}`);
  }
});
