/**
 * The running normalisers against direct computations: the observation statistics are
 * those of every observation the policy acted on (each once, terminal ones not), the
 * heads see the normalised observation in rollouts, in updates and in evaluation (with a
 * finite-difference check of the gradient through it), and the reward scaling is SB3's
 * while the reported returns stay unscaled.
 */

import assert from "node:assert/strict";
import { Rng } from "../src/math/rng.ts";
import { RunningMeanStd } from "../src/math/mod.ts";
import { ActorCritic, ActorCriticCache, Adam, ObsNormalizer } from "../src/nn/mod.ts";
import { PpoLearner, RewardScaler, Trainer } from "../src/ppo/mod.ts";
import { ZeroPlanner } from "../src/sft/mod.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { RecordingEnv, WALK_PPO } from "./_walk_env.ts";
import { centralDifference, PPO_LOSS_DEFAULTS } from "./_helpers.ts";

// Mean and population variance of rows (n, d) with the prior (mean 0, var 1, count c0).
function direct(rows: number[][], c0 = 1e-4): { mean: number[]; var: number[]; count: number } {
  const d = rows[0].length, count = c0 + rows.length;
  const mean = Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + r[j], 0) / count);
  const variance = mean.map((m, j) =>
    (c0 * (1 + m * m) + rows.reduce((s, r) => s + (r[j] - m) ** 2, 0)) / count
  );
  return { mean, var: variance, count };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) {
    assert.ok(
      Math.abs(a[i] - b[i]) <= tol * Math.max(1, Math.abs(b[i])),
      `${what}[${i}]: ${a[i]} vs ${b[i]}`,
    );
  }
}

Deno.test("RunningMeanStd: masked batches merge to the statistics of all their rows", () => {
  const rng = new Rng(3);
  const rms = new RunningMeanStd(3);
  const seen: number[][] = [];
  for (let batch = 0; batch < 7; batch++) {
    const rows = 1 + batch % 4;
    const x = new Float64Array(rows * 3).map((_, i) => 5 * rng.uniform() - 1 + (i % 3) * 10);
    const mask = new Uint8Array(rows).map((_, r) => (r + batch) % 3 === 0 ? 0 : 1);
    rms.update(x, rows, mask);
    for (let r = 0; r < rows; r++) if (mask[r]) seen.push([...x.subarray(r * 3, r * 3 + 3)]);
  }
  const want = direct(seen);
  close(rms.mean, want.mean, 1e-12, "mean");
  close(rms.var, want.var, 1e-12, "var");
  assert.ok(Math.abs(rms.count - want.count) < 1e-12);
  const before = rms.state();
  rms.update(new Float64Array(3), 1, new Uint8Array([0])); // no rows: nothing changes
  assert.deepEqual(rms.state(), before);
});

Deno.test("ObsNormalizer: clamp((z - mean) / sqrt(var + eps), ±clip), and from() copies", () => {
  const norm = ObsNormalizer.from({
    mean: new Float64Array([1, -2]),
    var: new Float64Array([4, 0]),
    count: 10,
    epsilon: 1e-8,
    clip: 3,
  });
  const out = new Float64Array(4);
  norm.normalize(new Float64Array([3, -2, 100, -2 + 1e-5]), 2, out);
  const last = (-2 + 1e-5 - -2) / Math.sqrt(0 + 1e-8); // about 0.1: var 0 is no division by 0
  assert.deepEqual([...out], [2 / Math.sqrt(4 + 1e-8), 0, 3, last]);
});

Deno.test("norm_obs: the statistics are those of every observation the policy acted on, terminal ones excluded", () => {
  const ppo = { ...WALK_PPO, norm_obs: true, steps_per_update: 40 };
  let env: RecordingEnv | null = null;
  const makeEnv = (n: number) => (env = new RecordingEnv(n));
  const trainer = new Trainer({
    env: DEFAULT_ENV_CONFIG,
    ppo,
    planner: new ZeroPlanner({ obsDim: 2, actionDim: 1 }),
    makeEnv,
  });
  for (let k = 0; k < 3; k++) trainer.iterate(trainer.nextRolloutSize());
  const acted = env!.actedOn;
  assert.ok(acted.length > 100, `${acted.length} observations`);
  const want = direct(acted);
  const norm = trainer.model.obsNorm!;
  close(norm.mean, want.mean, 1e-10, "mean");
  close(norm.var, want.var, 1e-10, "var");
  assert.ok(Math.abs(norm.count - want.count) < 1e-9, `${norm.count} vs ${want.count}`);
  assert.equal(env!.simulated, trainer.envSteps, "every simulated step is in a rollout");
});

Deno.test("norm_obs: act on the raw observation = the heads on the normalised one (also in training)", () => {
  const rng = new Rng(5);
  const norm = ObsNormalizer.from({
    mean: new Float64Array([0.5, -1, 2]),
    var: new Float64Array([2, 0.25, 9]),
    count: 100,
    epsilon: 1e-8,
    clip: 10,
  });
  const model = new ActorCritic({ inDim: 3, hidden: 8, actionShape: [2], rng, obsNorm: norm });
  const plain = new ActorCritic({ inDim: 3, hidden: 8, actionShape: [2], rng: new Rng(0) });
  plain.delta.data.set(model.delta.data);
  plain.value.data.set(model.value.data);
  const n = 5;
  const obs = new Float64Array(n * 3).map(() => 6 * rng.uniform() - 3);
  const x = model.normalizeObs(obs, n, new Float64Array(n * 3));
  const [m1, v1, m2, v2] = [
    new Float64Array(2 * n),
    new Float64Array(n),
    new Float64Array(2 * n),
    new Float64Array(n),
  ];
  model.act(obs, n, m1, v1);
  plain.act(x, n, m2, v2);
  assert.deepEqual([m1, v1], [m2, v2]);
  const cache = new ActorCriticCache(model, n);
  model.forward(x, n, cache);
  assert.deepEqual(cache.mean.subarray(0, 2 * n), m1);
  assert.deepEqual(cache.value.subarray(0, n), v1);
});

Deno.test("norm_obs: the PPO gradient through the normalised input matches finite differences", () => {
  const rng = new Rng(11);
  const norm = ObsNormalizer.from({
    mean: new Float64Array([1, -1]),
    var: new Float64Array([3, 0.5]),
    count: 50,
    epsilon: 1e-8,
    clip: 10,
  });
  const model = new ActorCritic({ inDim: 2, hidden: 6, actionShape: [1], rng, obsNorm: norm });
  const adam = new Adam([model.delta, model.value], { lr: 1e-3, float32: false });
  const learner = new PpoLearner(model, adam, PPO_LOSS_DEFAULTS, 8);
  const n = 8;
  const raw = new Float64Array(n * 2).map(() => 8 * rng.uniform() - 4);
  const batch = {
    obs: model.normalizeObs(raw, n, new Float64Array(n * 2)),
    actions: new Float64Array(n).map(() => rng.uniform() - 0.5),
    logpOld: new Float64Array(n).map(() => -1 - 0.1 * rng.uniform()),
    advantages: new Float64Array(n).map(() => rng.uniform() - 0.5),
    returns: new Float64Array(n).map(() => 2 * rng.uniform()),
  };
  learner.lossAndGrad(batch, n);
  for (const set of [model.delta, model.value]) {
    const grad = set.gradView("net.0.weight").slice();
    const w = set.view("net.0.weight");
    for (const j of [0, 3, 7]) {
      const fd = centralDifference(w, j, 1e-6, () => learner.lossAndGrad(batch, n).loss);
      assert.ok(Math.abs(fd - grad[j]) < 1e-6 * Math.max(1, Math.abs(fd)), `${fd} vs ${grad[j]}`);
    }
  }
});

Deno.test("RewardScaler: SB3's running return variance, reset at episode ends, clipped", () => {
  const gamma = 0.9, eps = 1e-8, clip = 2;
  const scaler = new RewardScaler(2, { gamma, epsilon: eps, clip });
  const rewards = [[1, -2], [0.5, 3], [4, -1], [-30, 2]];
  const done = [[0, 0], [1, 0], [0, 0], [0, 1]];
  const active = [[1, 1], [1, 1], [1, 0], [1, 1]];
  const ret = [0, 0];
  const seen: number[][] = [];
  const out = new Float64Array(2);
  for (let t = 0; t < rewards.length; t++) {
    scaler.scale(new Float64Array(rewards[t]), {
      active: new Uint8Array(active[t]),
      done: new Uint8Array(done[t]),
      out,
    });
    for (let i = 0; i < 2; i++) {
      if (!active[t][i]) continue;
      ret[i] = ret[i] * gamma + rewards[t][i];
      seen.push([ret[i]]);
    }
    const std = Math.sqrt(direct(seen).var[0] + eps);
    for (let i = 0; i < 2; i++) {
      if (!active[t][i]) continue;
      const want = Math.max(-clip, Math.min(clip, rewards[t][i] / std));
      assert.ok(Math.abs(out[i] - want) < 1e-12, `step ${t} env ${i}: ${out[i]} vs ${want}`);
      if (done[t][i]) ret[i] = 0;
    }
  }
  assert.deepEqual([...scaler.returns], [ret[0], 0]);
});

Deno.test("norm_reward: the returns a rollout reports stay the env's own", () => {
  const returns = (normReward: boolean) => {
    const trainer = new Trainer({
      env: DEFAULT_ENV_CONFIG,
      ppo: { ...WALK_PPO, norm_reward: normReward },
      planner: new ZeroPlanner({ obsDim: 2, actionDim: 1 }),
      makeEnv: (n) => new RecordingEnv(n),
    });
    return trainer.iterate(trainer.nextRolloutSize()).returns;
  };
  // the first rollout runs the same episodes (the update comes after it)
  const [plain, scaled] = [returns(false), returns(true)];
  assert.deepEqual(scaled, plain);
  assert.ok(plain.every((r) => r < 0 && r > -40), `${plain}`);
});
