/**
 * What the sample efficiency of the default run rests on: the heads see a scaled
 * observation and output a scaled value, yet checkpoints hold heads on the raw
 * observation (the PyTorch contract) and resume exactly; and the first PPO update of
 * a default run stays small (approx KL below 0.05) for both planners.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic, Adam } from "../src/nn/mod.ts";
import { DEFAULT_ENV_CONFIG, observationScale } from "../src/env/mod.ts";
import { DEFAULT_PPO_CONFIG } from "../src/ppo/mod.ts";
import { adamStateDict, loadAdamState, loadStateDict, stateDict } from "../src/nn/mod.ts";
import { Tensor } from "../src/io/torch_pt.ts";
import { readJson, runCli, withTempDir } from "./_helpers.ts";

const IN = 41, HIDDEN = 16, H = 20;

/** A scaled model whose parameters and Adam moments are all non-trivial float32 values. */
function trainedScaledModel(seed: number) {
  const rng = new Rng(seed);
  const model = new ActorCritic({
    inDim: IN,
    hidden: HIDDEN,
    horizon: H,
    rng,
    inputScale: observationScale(DEFAULT_ENV_CONFIG),
    valueScale: DEFAULT_PPO_CONFIG.value_scale,
  });
  const adam = new Adam([model.delta, model.value], { lr: 1e-2, weightDecay: 1e-4, float32: true });
  for (let step = 0; step < 3; step++) {
    for (const set of [model.delta, model.value]) {
      for (let i = 0; i < set.size; i++) set.grad[i] = rng.normal();
    }
    adam.step();
  }
  return { model, adam };
}

/** Raw observations on the scale of the real ones (speed, targets up to 80 m ahead). */
function rawObs(rng: Rng, n: number): Float64Array {
  const obs = new Float64Array(n * IN);
  for (let r = 0; r < n; r++) {
    obs[r * IN] = rng.range(0, 15);
    for (let k = 1; k <= H; k++) {
      obs[r * IN + 2 * k - 1] = 4 * k + rng.normal();
      obs[r * IN + 2 * k] = 1.5 * k * rng.normal();
    }
  }
  return obs;
}

Deno.test("scaled heads are stored for the raw observation and the value itself, and load back bit for bit", () => {
  const { model, adam } = trainedScaledModel(7);
  const delta = stateDict(model.delta, model);
  const value = stateDict(model.value, model);
  const optimizer = adamStateDict(adam, [model.delta, model.value], model);

  // The stored net.0 is net.0 of the model divided by the input scale; the stored value
  // layer is the model's times the value scale.
  const scale = observationScale(DEFAULT_ENV_CONFIG);
  const stored = (sd: typeof delta, key: string) => (sd.get(key) as Tensor).data;
  const w0 = model.delta.view("net.0.weight");
  assert.equal(stored(delta, "net.0.weight")[IN + 5], w0[IN + 5] / scale[5]);
  assert.notEqual(scale[5], 1);
  assert.equal(stored(value, "net.2.bias")[0], 32 * model.value.view("net.2.bias")[0]);
  assert.deepEqual(stored(delta, "log_std"), Float32Array.from(model.delta.view("log_std")));

  // A plain model (raw input, no value scale) with the stored tensors computes the same
  // means and values, bit for bit.
  const plain = new ActorCritic({ inDim: IN, hidden: HIDDEN, horizon: H, rng: new Rng(0) });
  loadStateDict(plain.delta, delta, { where: "delta_head" });
  loadStateDict(plain.value, value, { where: "value_head" });
  const n = 12;
  const obs = rawObs(new Rng(3), n);
  const out = (m: ActorCritic) => {
    const mean = new Float64Array(n * 2 * H), v = new Float64Array(n);
    m.act(obs, n, mean, v);
    return { mean, v };
  };
  const a = out(model), b = out(plain);
  assert.deepEqual(b.mean, a.mean);
  assert.deepEqual(b.v, a.v);
  assert.ok(a.v.some((x) => Math.abs(x) > 1), "values on the scale of returns");

  // Loaded into a scaled model, parameters and Adam moments are the saved ones exactly.
  const back = trainedScaledModel(99);
  loadStateDict(back.model.delta, delta, { where: "delta_head", model: back.model });
  loadStateDict(back.model.value, value, { where: "value_head", model: back.model });
  loadAdamState(back.adam, optimizer, {
    sets: [back.model.delta, back.model.value],
    source: "test",
    model: back.model,
  });
  assert.deepEqual(back.model.delta.data, model.delta.data);
  assert.deepEqual(back.model.value.data, model.value.data);
  for (const s of [0, 1]) {
    assert.deepEqual(back.adam.expAvg[s], adam.expAvg[s]);
    assert.deepEqual(back.adam.expAvgSq[s], adam.expAvgSq[s]);
  }
});

Deno.test("the first PPO update of a default run is small (approx KL < 0.05) for the built-in and a cloned planner", () =>
  withTempDir(async (dir) => {
    const short = [
      "--episodes",
      "10",
      "--eval-episodes",
      "2",
      "--heldout-episodes",
      "2",
      "--quiet",
    ];
    const sft = await runCli([
      "sft",
      "--out-dir",
      join(dir, "sft"),
      "--episodes",
      "20",
      "--epochs",
      "5",
      "--heldout-episodes",
      "2",
    ]);
    assert.equal(sft.code, 0, sft.stderr);
    for (const planner of [[], ["--sft-model", join(dir, "sft", "model.pt")]]) {
      const out = join(dir, `run${planner.length}`);
      const r = await runCli(["train", "--out-dir", out, ...short, ...planner]);
      assert.equal(r.code, 0, r.stderr);
      const [first] = readJson(join(out, "metrics.json")) as {
        episode: number;
        update: { kl: number; epochs: number };
      }[];
      assert.equal(first.episode, 10, "one rollout of 10 episodes, then the first update");
      assert.ok(first.update.kl > 0 && first.update.kl < 0.05, `${planner}: kl ${first.update.kl}`);
    }
  }));
