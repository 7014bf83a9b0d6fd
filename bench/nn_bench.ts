// Hot loops of the nn core. Each bench name carries its work per iteration, so
// GFLOP/s = MFLOP / (time per iteration in ms).
// Run: deno bench bench/nn_bench.ts

import { Rng } from "../src/math/mod.ts";
import {
  ActorCritic,
  ActorCriticCache,
  linearBackward,
  linearForward,
  linearLayer,
  ParamSet,
} from "../src/nn/mod.ts";
import { computeGae } from "../src/ppo/gae.ts";

const rng = new Rng(1);
function normals(len: number): Float64Array {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.normal();
  return a;
}
const mflop = (flops: number) => `${(flops / 1e6).toFixed(2)} MFLOP`;

// Linear layers of the actor-critic at a batch of 256.
const BATCH = 256;
for (const [inDim, outDim] of [[41, 64], [64, 64], [64, 40]]) {
  const set = new ParamSet([
    { name: "l.weight", shape: [outDim, inDim] },
    { name: "l.bias", shape: [outDim] },
  ]);
  set.data.set(normals(set.size));
  const layer = linearLayer(set, "l");
  const inp = normals(BATCH * inDim);
  const out = new Float64Array(BATCH * outDim);
  const dout = normals(BATCH * outDim);
  const dinp = new Float64Array(BATCH * inDim);
  const shape = `${BATCH}x${inDim}x${outDim}`;
  const macs = BATCH * inDim * outDim;
  Deno.bench({
    name: `linear fwd ${shape} (${mflop(2 * macs)})`,
    group: "linear",
    fn: () => linearForward(out, inp, layer, BATCH),
  });
  // weight, bias and input gradients: two products of the forward's size
  Deno.bench({
    name: `linear bwd ${shape} (${mflop(4 * macs)})`,
    group: "linear",
    fn: () => {
      set.zeroGrad();
      dinp.fill(0);
      linearBackward(dinp, dout, inp, layer, BATCH);
    },
  });
}

// Full actor-critic (in 41, hidden 64, H 20) forward + backward.
const IN = 41, HIDDEN = 64, H = 20, A = 2 * H;
/** Multiply-adds ×2 of one row: forward of both heads, weight grads, and input grads past the first layers. */
function actorCriticFlopsPerRow(): number {
  const forward = IN * HIDDEN + HIDDEN * HIDDEN + HIDDEN * A + IN * HIDDEN + HIDDEN;
  const inputGrads = HIDDEN * HIDDEN + HIDDEN * A + HIDDEN;
  return 2 * (2 * forward + inputGrads);
}
for (const n of [1, 256]) {
  const model = new ActorCritic({ inDim: IN, hidden: HIDDEN, horizon: H, rng, maxBatch: n });
  const cache = new ActorCriticCache(model, n);
  const obs = normals(n * IN);
  const dMean = normals(n * A);
  const dValue = normals(n);
  Deno.bench({
    name: `actor-critic fwd+bwd batch ${n} (${mflop(n * actorCriticFlopsPerRow())})`,
    group: "mlp",
    fn: () => {
      model.zeroGrad();
      cache.zeroGrad(n);
      model.forward(obs, n, cache);
      cache.dMean.set(dMean);
      cache.dValue.set(dValue);
      model.backward(obs, n, cache);
    },
  });
}
{
  const n = 16;
  const model = new ActorCritic({ inDim: IN, hidden: HIDDEN, horizon: H, rng });
  const obs = normals(n * IN);
  const mean = new Float64Array(n * A);
  const value = new Float64Array(n);
  Deno.bench({
    name: `actor-critic act (inference) batch ${n}`,
    group: "mlp",
    fn: () => model.act(obs, n, mean, value),
  });
}

// GAE over a 2048-step segment with a few episode ends.
{
  const n = 2048;
  const rewards = normals(n), values = normals(n), nextValues = normals(n);
  const terminated = new Uint8Array(n), truncated = new Uint8Array(n);
  for (let t = 99; t < n; t += 100) (t % 200 === 99 ? terminated : truncated)[t] = 1;
  const advantagesOut = new Float64Array(n), returnsOut = new Float64Array(n);
  const opts = {
    rewards,
    values,
    nextValues,
    terminated,
    truncated,
    gamma: 0.99,
    lam: 0.95,
    n,
    advantagesOut,
    returnsOut,
  };
  Deno.bench({ name: `gae ${n} steps`, group: "gae", fn: () => computeGae(opts) });
}
