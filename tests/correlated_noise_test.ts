/**
 * `ppo.noise_correlation`: the AR(1) exploration noise draws what `sampleGaussian` draws
 * at an episode's first step, keeps each step's law N(μ, σ²) with its log-prob, and
 * correlates consecutive steps by ρ; a restarted slot starts afresh.
 */

import assert from "node:assert/strict";
import { Rng } from "../src/math/mod.ts";
import { gaussianLogProb, sampleGaussian } from "../src/nn/mod.ts";
import { CorrelatedNoise } from "../src/ppo/mod.ts";

Deno.test("CorrelatedNoise: first step = sampleGaussian; N(μ, σ²) each step; lag-1 correlation ρ; restart", () => {
  const n = 2, dim = 3, rho = 0.8;
  const mean = new Float64Array([1, -2, 0.5, 0, 3, -1]);
  const logStd = new Float64Array([0.2, -0.5, 1]);
  const noise = new CorrelatedNoise(rho, { numEnvs: n, dim });
  const actions = new Float64Array(n * dim), logp = new Float64Array(n);
  const rng = new Rng(11), twin = new Rng(11);
  noise.sample({ mean, logStd, n, rng }, { actions, logp });
  const plainA = new Float64Array(n * dim), plainP = new Float64Array(n);
  sampleGaussian(mean, logStd, n, twin, plainA, plainP);
  assert.deepEqual([...actions], [...plainA]);
  for (let r = 0; r < n; r++) assert.ok(Math.abs(logp[r] - plainP[r]) < 1e-12);

  // many steps of slot 0: standardised noise has mean 0, variance 1, lag-1 correlation ρ
  const steps = 20000, eps: number[][] = [];
  const check = new Float64Array(n);
  for (let t = 0; t < steps; t++) {
    noise.sample({ mean, logStd, n, rng }, { actions, logp });
    gaussianLogProb(actions, mean, logStd, n, check);
    assert.deepEqual([...logp], [...check]);
    eps.push([0, 1, 2].map((j) => (actions[j] - mean[j]) / Math.exp(logStd[j])));
  }
  for (let j = 0; j < dim; j++) {
    const xs = eps.map((e) => e[j]);
    const m = xs.reduce((a, x) => a + x, 0) / steps;
    const v = xs.reduce((a, x) => a + (x - m) ** 2, 0) / steps;
    let c = 0;
    for (let t = 1; t < steps; t++) c += (xs[t] - m) * (xs[t - 1] - m);
    assert.ok(Math.abs(m) < 0.1, `mean ${m}`);
    assert.ok(Math.abs(v - 1) < 0.08, `variance ${v}`);
    assert.ok(Math.abs(c / (steps - 1) / v - rho) < 0.03, `correlation ${c / (steps - 1) / v}`);
  }

  // a restarted slot draws afresh (ε = ξ), the other keeps its process
  const a = new Rng(5), b = new Rng(5);
  const restarted = new CorrelatedNoise(rho, { numEnvs: n, dim });
  restarted.sample({ mean, logStd, n, rng: a }, { actions, logp });
  restarted.restart(1);
  restarted.sample({ mean, logStd, n, rng: a }, { actions, logp });
  const xi = new Float64Array(2 * n * dim);
  b.normals(xi, { count: 2 * n * dim });
  for (let j = 0; j < dim; j++) {
    const sd = Math.exp(logStd[j]);
    assert.ok(Math.abs(actions[dim + j] - (mean[dim + j] + sd * xi[n * dim + dim + j])) < 1e-12);
    const kept = rho * xi[j] + Math.sqrt(1 - rho * rho) * xi[n * dim + j];
    assert.ok(Math.abs(actions[j] - (mean[j] + sd * kept)) < 1e-12);
  }
  assert.throws(() => new CorrelatedNoise(1, { numEnvs: 1, dim: 1 }), RangeError);
});
