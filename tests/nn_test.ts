// The nn pieces checked against independent references: finite differences of the
// full PPO loss, ml-matrix for the matmul kernels, a textbook Adam, closed forms for
// the Gaussian and clip_grad_norm_.

import assert from "node:assert/strict";
import { Matrix } from "ml-matrix";
import { matmulBackwardInput, matmulBackwardWeight, matmulForward, Rng } from "../src/math/mod.ts";
import {
  ActorCritic,
  ActorCriticCache,
  Adam,
  clipGradNorm,
  gaussianEntropy,
  gaussianLogProb,
  ParamSet,
  reluBackward,
  sampleGaussian,
} from "../src/nn/mod.ts";
import { type PpoBatch, PpoLearner } from "../src/ppo/loss.ts";
import { centralDifference, PPO_LOSS_DEFAULTS, worstRelError } from "./_helpers.ts";

function normals(rng: Rng, len: number, scale = 1): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = scale * rng.normal();
  return a;
}

function assertAllClose(key: string, a: ArrayLike<number>, b: ArrayLike<number>, rel: number) {
  const { worst, at } = worstRelError(a, b, 1e-300);
  assert.ok(worst <= rel, `${key}: relative error ${worst} at [${at}]: ${a[at]} vs ${b[at]}`);
}

// ---------------------------------------------------------------------------------
// Matmul kernels against ml-matrix

for (
  const [n, inDim, outDim] of [[7, 13, 5], [1, 13, 5], [3, 13, 5], [257, 13, 5], [5, 1, 1], [
    9,
    4,
    3,
  ]]
) {
  Deno.test(`matmul kernels match ml-matrix: (${n}x${inDim}) x (${inDim}x${outDim})`, () => {
    const rng = new Rng(n * 1000 + inDim * 10 + outDim);
    const inp = normals(rng, n * inDim);
    const weight = normals(rng, outDim * inDim);
    const bias = normals(rng, outDim);
    const dout = normals(rng, n * outDim);
    const X = new Matrix(n, inDim).setSubMatrix(toRows(inp, n, inDim), 0, 0);
    const W = new Matrix(toRows(weight, outDim, inDim));
    const dY = new Matrix(toRows(dout, n, outDim));

    // forward: out = X Wᵀ + b (overwrites whatever was there)
    const out = normals(rng, n * outDim);
    matmulForward(out, inp, weight, bias, n, inDim, outDim);
    const Y = X.mmul(W.transpose()).addRowVector(Array.from(bias));
    assertAllClose("forward", out, Y.to1DArray(), 1e-12);
    matmulForward(out, inp, weight, null, n, inDim, outDim);
    assertAllClose("forward without bias", out, X.mmul(W.transpose()).to1DArray(), 1e-12);

    // backward accumulates onto existing values
    const dinp0 = normals(rng, n * inDim);
    const dinp = dinp0.slice();
    matmulBackwardInput(dinp, dout, weight, n, inDim, outDim);
    const dX = dY.mmul(W).add(new Matrix(toRows(dinp0, n, inDim)));
    assertAllClose("backward input", dinp, dX.to1DArray(), 1e-12);

    const dw0 = normals(rng, outDim * inDim);
    const dweight = dw0.slice();
    matmulBackwardWeight(dweight, dout, inp, n, inDim, outDim);
    const dW = dY.transpose().mmul(X).add(new Matrix(toRows(dw0, outDim, inDim)));
    assertAllClose("backward weight", dweight, dW.to1DArray(), 1e-12);
  });
}

function toRows(a: Float64Array, rows: number, cols: number): number[][] {
  return Array.from({ length: rows }, (_, r) => Array.from(a.subarray(r * cols, (r + 1) * cols)));
}

Deno.test("relu backward passes the gradient only where the output is positive", () => {
  const out = new Float64Array([0, 2, 0, 1e-300]);
  const dinp = new Float64Array([1, 1, 1, 1]);
  reluBackward(dinp, new Float64Array([5, 5, 5, 5]), out, 4);
  assert.deepEqual([...dinp], [1, 6, 1, 6]);
});

// ---------------------------------------------------------------------------------
// Finite differences of the full PPO loss

const FD_CFG = PPO_LOSS_DEFAULTS;

/** A small random net with every parameter O(1) (not the near-zero init) and a batch whose ratios straddle the clip range. */
function smallProblem(seed: number) {
  const rng = new Rng(seed);
  const inDim = 5, hidden = 6, horizon = 2, n = 9;
  const model = new ActorCritic({ inDim, hidden, horizon, rng, maxBatch: n });
  for (const set of [model.delta, model.value]) {
    for (let i = 0; i < set.size; i++) set.data[i] = rng.range(-0.6, 0.6);
  }
  const adam = new Adam([model.delta, model.value], { lr: 1e-3, float32: false });
  const learner = new PpoLearner(model, adam, FD_CFG, n);
  const obs = normals(rng, n * inDim);
  const mean = new Float64Array(n * model.actionDim);
  const value = new Float64Array(n);
  model.act(obs, n, mean, value);
  const actions = new Float64Array(n * model.actionDim);
  const logp = new Float64Array(n);
  sampleGaussian(mean, model.delta.view("log_std"), n, rng, actions, logp);
  const batch: PpoBatch = {
    obs,
    actions,
    logpOld: logp.map((x) => x + 0.4 * rng.normal()),
    advantages: normals(rng, n),
    returns: normals(rng, n, 2),
  };
  return { model, learner, batch, n };
}

Deno.test("PPO loss gradient matches central finite differences (both heads, log_std)", () => {
  const { model, learner, batch, n } = smallProblem(3);
  const stats = learner.lossAndGrad(batch, n);

  // The loss has kinks (ReLU at 0, the clip at 1 ± ε); keep every row away from them so
  // a step of h cannot cross one.
  const c = learner.cache;
  const margin = 1e-4;
  for (const pre of [c.deltaPre1, c.deltaPre2, c.valuePre1]) {
    for (let i = 0; i < n * model.hidden; i++) {
      assert.ok(Math.abs(pre[i]) > margin, "pre-activation near 0");
    }
  }
  let clippedRows = 0;
  for (let r = 0; r < n; r++) {
    const rho = learner.ratio[r];
    assert.ok(Math.abs(Math.abs(rho - 1) - FD_CFG.clipRatio) > margin, "ratio near the clip edge");
    if (Math.abs(rho - 1) > FD_CFG.clipRatio) clippedRows++;
  }
  assert.ok(clippedRows > 0 && clippedRows < n, "the batch exercises both sides of the clip");

  // h balances truncation (h²) against the loss's rounding (ulp / h): at 1e-6 the rounding
  // alone reaches 1e-6 relative on the smallest gradients.
  const h = 1e-5;
  for (const [head, set] of [["delta", model.delta], ["value", model.value]] as const) {
    const analytic = set.grad.slice();
    const numeric = new Float64Array(set.size);
    const loss = () => learner.lossAndGrad(batch, n).loss;
    for (let i = 0; i < set.size; i++) numeric[i] = centralDifference(set.data, i, h, loss);
    // Element-wise relative error; the floor only lets exact zeros (dead ReLU units) match.
    const { worst, at } = worstRelError(analytic, numeric, 1e-12);
    const name = set.specs.find((s) => at >= s.offset && at < s.offset + s.size)?.name;
    assert.ok(
      worst < 1e-6,
      `${head} ${name}[${at}]: relative error ${worst}: analytic ${analytic[at]}, numeric ${
        numeric[at]
      }`,
    );
  }
  // The loss itself is unchanged by the probing.
  assert.equal(learner.lossAndGrad(batch, n).loss, stats.loss);
});

// ---------------------------------------------------------------------------------
// Adam and gradient clipping

Deno.test("Adam matches a textbook reference over several steps with weight decay", () => {
  const rng = new Rng(11);
  const sets = [
    new ParamSet([{ name: "a", shape: [3, 4] }, { name: "b", shape: [4] }]),
    new ParamSet([{ name: "c", shape: [5] }]),
  ];
  for (const s of sets) s.data.set(normals(rng, s.size));
  const opts = { lr: 1e-2, betas: [0.8, 0.99] as [number, number], eps: 1e-8, weightDecay: 0.05 };
  const adam = new Adam(sets, { ...opts, float32: false });
  const ref = sets.map((s) => ({
    p: Array.from(s.data),
    m: s.data.map(() => 0),
    v: s.data.map(() => 0),
  }));
  for (let t = 1; t <= 6; t++) {
    for (let k = 0; k < sets.length; k++) {
      const grad = normals(rng, sets[k].size);
      if (t === 3) grad.fill(0); // a step with only weight decay
      sets[k].grad.set(grad);
      const r = ref[k];
      for (let i = 0; i < grad.length; i++) {
        const g = grad[i] + opts.weightDecay * r.p[i];
        r.m[i] = opts.betas[0] * r.m[i] + (1 - opts.betas[0]) * g;
        r.v[i] = opts.betas[1] * r.v[i] + (1 - opts.betas[1]) * g * g;
        const mHat = r.m[i] / (1 - opts.betas[0] ** t);
        const vHat = r.v[i] / (1 - opts.betas[1] ** t);
        r.p[i] -= (opts.lr * mHat) / (Math.sqrt(vHat) + opts.eps);
      }
    }
    adam.step();
    assert.equal(adam.stepCount, t);
    for (let k = 0; k < sets.length; k++) {
      assertAllClose(`step ${t} set ${k} params`, sets[k].data, ref[k].p, 1e-12);
      assertAllClose(`step ${t} set ${k} exp_avg`, adam.expAvg[k], ref[k].m, 1e-12);
      assertAllClose(`step ${t} set ${k} exp_avg_sq`, adam.expAvgSq[k], ref[k].v, 1e-12);
    }
  }
});

Deno.test("Adam float32 mode keeps params and moments float32 and close to float64", () => {
  const rng = new Rng(5);
  const make = () => {
    const s = new ParamSet([{ name: "w", shape: [50] }]);
    s.data.set(normals(new Rng(6), 50).map(Math.fround));
    return s;
  };
  const s32 = make(), s64 = make();
  const a32 = new Adam([s32], { lr: 1e-3, weightDecay: 1e-4 });
  const a64 = new Adam([s64], { lr: 1e-3, weightDecay: 1e-4, float32: false });
  for (let t = 0; t < 5; t++) {
    const g = normals(rng, 50);
    s32.grad.set(g);
    s64.grad.set(g);
    a32.step();
    a64.step();
  }
  for (const a of [s32.data, a32.expAvg[0], a32.expAvgSq[0]]) {
    assert.ok(a.every((x) => Math.fround(x) === x));
  }
  assertAllClose("float32 vs float64 params", s32.data, s64.data, 1e-6);
});

Deno.test("clipGradNorm scales by maxNorm / (norm + 1e-6) only when above maxNorm", () => {
  const set = new ParamSet([{ name: "a", shape: [2] }, { name: "b", shape: [1] }]);
  set.grad.set([3, 4, 12]);
  const norm = clipGradNorm(set, 0.5);
  assert.equal(norm, 13);
  const coef = 0.5 / (13 + 1e-6);
  assert.deepEqual([...set.grad], [3 * coef, 4 * coef, 12 * coef]);
  set.grad.set([0.1, 0.2, 0.2]);
  assert.ok(Math.abs(clipGradNorm(set, 0.5) - 0.3) < 1e-15);
  assert.deepEqual([...set.grad], [0.1, 0.2, 0.2]);
});

// ---------------------------------------------------------------------------------
// Heads: layout, init, inference

Deno.test("ActorCritic parameter layout matches the PyTorch state_dicts", () => {
  const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(1) });
  assert.deepEqual(model.delta.specs.map((s) => [s.name, s.shape]), [
    ["log_std", [20, 2]],
    ["net.0.weight", [64, 41]],
    ["net.0.bias", [64]],
    ["net.2.weight", [64, 64]],
    ["net.2.bias", [64]],
    ["net.4.weight", [40, 64]],
    ["net.4.bias", [40]],
  ]);
  assert.deepEqual(model.value.specs.map((s) => [s.name, s.shape]), [
    ["net.0.weight", [64, 41]],
    ["net.0.bias", [64]],
    ["net.2.weight", [1, 64]],
    ["net.2.bias", [1]],
  ]);
  assert.equal(model.actionDim, 40);
  assert.equal(model.delta.spec("net.2.weight").offset, 40 + 64 * 41 + 64);
  assert.throws(
    () => model.delta.view("net.9.weight"),
    /no parameter "net.9.weight" \(have: log_std/,
  );
});

Deno.test("init: torch ranges, near-zero initial delta, deterministic for a seed", () => {
  const make = (seed: number) =>
    new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(seed), initLogStd: -0.5 });
  const model = make(42);
  const maxAbs = (a: Float64Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(model.delta.view("log_std").every((x) => x === Math.fround(-0.5)));
  assert.ok(maxAbs(model.delta.view("net.0.weight")) <= 1 / Math.sqrt(41));
  assert.ok(maxAbs(model.delta.view("net.0.weight")) > 0.9 / Math.sqrt(41));
  assert.ok(maxAbs(model.delta.view("net.2.bias")) <= 1 / Math.sqrt(64));
  assert.ok(maxAbs(model.value.view("net.2.weight")) <= 1 / Math.sqrt(64));
  const xavier = 0.01 * Math.sqrt(6 / (64 + 40));
  assert.ok(maxAbs(model.delta.view("net.4.weight")) <= xavier);
  assert.ok(model.delta.view("net.4.bias").every((x) => x === 0));
  for (const set of [model.delta, model.value]) {
    assert.ok(set.data.every((x) => Math.fround(x) === x));
  }

  const n = 64;
  const obs = normals(new Rng(9), n * 41, 2);
  const mean = new Float64Array(n * 40);
  const value = new Float64Array(n);
  model.act(obs, n, mean, value);
  assert.ok(maxAbs(mean) < 0.05, `initial delta ${maxAbs(mean)} is not near zero`);
  assert.ok(maxAbs(value) > 0.01, "value head is not near zero");

  assert.deepEqual(make(42).delta.data, model.delta.data);
  assert.deepEqual(make(42).value.data, model.value.data);
  assert.notDeepEqual(make(43).delta.data, model.delta.data);
});

Deno.test("act: rows do not depend on the batch, chunking, or the training forward", () => {
  const inDim = 41, n = 301;
  const model = new ActorCritic({ inDim, hidden: 64, horizon: 20, rng: new Rng(2), maxBatch: 128 });
  const obs = normals(new Rng(3), n * inDim);
  const mean = new Float64Array(n * 40);
  const value = new Float64Array(n);
  model.act(obs, n, mean, value);
  const one = new Float64Array(40);
  const v1 = new Float64Array(1);
  for (const r of [0, 1, 127, 128, 300]) {
    model.act(obs.subarray(r * inDim, (r + 1) * inDim), 1, one, v1);
    assert.deepEqual(one, mean.subarray(r * 40, (r + 1) * 40), `row ${r} mean`);
    assert.equal(v1[0], value[r], `row ${r} value`);
  }
  const valuesOnly = new Float64Array(n);
  model.values(obs, n, valuesOnly);
  assert.deepEqual(valuesOnly, value);
  const meanOnly = new Float64Array(n * 40);
  model.actMean(obs, n, meanOnly);
  assert.deepEqual(meanOnly, mean);
  const cache = new ActorCriticCache(model, 7);
  model.forward(obs, 7, cache);
  assert.deepEqual(cache.mean.subarray(0, 7 * 40), mean.subarray(0, 7 * 40));
  assert.deepEqual(cache.value.subarray(0, 7), value.subarray(0, 7));
  assert.throws(() => model.forward(obs, 8, cache), /8 rows does not fit a cache of 7/);
});

// ---------------------------------------------------------------------------------
// Gaussian policy

Deno.test("sampleGaussian: moments of the draws, and logp consistent with gaussianLogProb", () => {
  const n = 20000;
  const mu = [1, -2, 0.5], std = [0.5, 2, 1];
  const logStd = Float64Array.from(std, Math.log);
  const mean = new Float64Array(n * 3);
  for (let r = 0; r < n; r++) mean.set(mu, r * 3);
  const actions = new Float64Array(n * 3);
  const logp = new Float64Array(n);
  sampleGaussian(mean, logStd, n, new Rng(4), actions, logp);
  for (let j = 0; j < 3; j++) {
    let s = 0, ss = 0;
    for (let r = 0; r < n; r++) s += actions[r * 3 + j];
    const m = s / n;
    for (let r = 0; r < n; r++) ss += (actions[r * 3 + j] - m) ** 2;
    const sd = Math.sqrt(ss / (n - 1));
    assert.ok(Math.abs(m - mu[j]) < 4 * std[j] / Math.sqrt(n), `dim ${j}: mean ${m}`);
    assert.ok(Math.abs(sd / std[j] - 1) < 0.03, `dim ${j}: std ${sd}`);
  }
  const again = new Float64Array(n);
  gaussianLogProb(actions, mean, logStd, n, again);
  assert.deepEqual(again, logp, "the ratio of a fresh sample is exactly 1");
  for (const r of [0, 17, n - 1]) {
    let closed = 0;
    for (let j = 0; j < 3; j++) {
      const z = (actions[r * 3 + j] - mu[j]) / std[j];
      closed += -0.5 * z * z - Math.log(std[j]) - 0.5 * Math.log(2 * Math.PI);
    }
    assert.ok(Math.abs(logp[r] - closed) < 1e-12, `row ${r} logp`);
  }
  const entropy = gaussianEntropy(logStd);
  const closedEntropy = std.reduce((h, s) => h + 0.5 * Math.log(2 * Math.PI * Math.E * s * s), 0);
  assert.ok(Math.abs(entropy - closedEntropy) < 1e-12);
  // Same seed, same draws.
  const actions2 = new Float64Array(n * 3);
  sampleGaussian(mean, logStd, n, new Rng(4), actions2, new Float64Array(n));
  assert.deepEqual(actions2, actions);
});

Deno.test("Rng.normals gives normal()'s draws in order and leaves the same state", () => {
  const one = new Rng(11), bulk = new Rng(11);
  const want = Array.from({ length: 37 }, () => one.normal());
  const got = new Float64Array(40).fill(NaN);
  bulk.normals(got, { at: 2, count: 37 });
  assert.deepEqual(Array.from(got.subarray(2, 39)), want);
  assert.ok(Number.isNaN(got[1]) && Number.isNaN(got[39]), "nothing written outside");
  assert.deepEqual(bulk.getState(), one.getState());
  assert.equal(bulk.normal(), one.normal());
});
