/**
 * The warm start from the env's expert planner (`ppo.warm_start_*`): the DAgger rounds
 * bring the refined plan nearer the expert's and its return up, and are recorded
 * in `train_metrics.json`; the run is reproducible and, with the imitation term and the
 * value-only episodes, resumes exactly from a middle checkpoint; an env without an expert
 * and a warm start over the memory limit are refused in one line before anything is
 * written. The imitation term's gradient matches finite differences, and a held delta head
 * does not move.
 */

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic, ActorCriticCache, Adam } from "../src/nn/mod.ts";
import {
  addSquaredErrorGradient,
  ImitationTerm,
  PpoLearner,
  ROWS_PER_CHUNK,
} from "../src/ppo/mod.ts";
import {
  centralDifference,
  PPO_LOSS_DEFAULTS,
  ptLeaves,
  readJson,
  resumeComparable,
  runCli,
  withTempDir,
} from "./_helpers.ts";

const FLAGS = [
  "train",
  "--env",
  "traffic",
  "--warm-start-rounds",
  "2",
  "--warm-start-episodes",
  "60",
  "--warm-start-epochs",
  "3",
  "--warm-start-value-episodes",
  "40",
  "--warm-start-bc-coef",
  "1",
  "--episodes",
  "120",
  "--eval-interval",
  "40",
  "--save-interval",
  "40",
  "--eval-episodes",
  "4",
  "--heldout-episodes",
  "40",
  "--quiet",
];

interface Group {
  ade_mean: number;
  return_mean: number;
}

Deno.test("warm start: the rounds bring the plan nearer the expert's and raise the return, are recorded, and a resumed run equals the whole one", () =>
  withTempDir(async (dir) => {
    const full = join(dir, "full");
    const r = await runCli([...FLAGS, "--out-dir", full]);
    assert.equal(r.code, 0, r.stderr);
    const tm = readJson(join(full, "train_metrics.json")) as {
      warm_start: { round: number; episodes: number; steps: number; rows: number; mse: number }[];
      heldout: { refined: Group; sft: Group };
      config: { ppo: Record<string, number> };
    };
    assert.deepEqual(tm.warm_start.map((w) => [w.round, w.episodes]), [[1, 60], [2, 60]]);
    assert.equal(tm.warm_start[1].rows, tm.warm_start[0].steps + tm.warm_start[1].steps);
    assert.ok(tm.warm_start.every((w) => Number.isFinite(w.mse) && w.mse > 0));
    assert.equal(tm.config.ppo.warm_start_rounds, 2);
    const { refined, sft } = tm.heldout;
    // the traffic expert's corrections of the SFT plan: nearer the expert's plan, and better
    // (ADE 1.65 m, return -26.3; without the warm start 1.75 m and -34.0, the SFT planner's
    // 1.77 m and -32.0)
    assert.ok(
      refined.ade_mean < 0.95 * sft.ade_mean,
      `ADE ${refined.ade_mean} after the warm start, the SFT planner's ${sft.ade_mean}`,
    );
    assert.ok(
      refined.return_mean > sft.return_mean + 5,
      `return ${refined.return_mean} after the warm start, the SFT planner's ${sft.return_mean}`,
    );

    // the same command: the same weights
    const again = join(dir, "again");
    assert.equal((await runCli([...FLAGS, "--out-dir", again])).code, 0);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(again, "final.pt"))),
      resumeComparable(await ptLeaves(join(full, "final.pt"))),
    );

    // resumed at 80 (after the value-only episodes, with the imitation term): as whole
    const resumed = join(dir, "resumed");
    const middle = join(full, "checkpoints", "checkpoint_80.pt");
    const r2 = await runCli(["train", "--resume", middle, "--out-dir", resumed, "--quiet"]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(
      resumeComparable(await ptLeaves(join(resumed, "final.pt"))),
      resumeComparable(await ptLeaves(join(full, "final.pt"))),
    );
    const tr = readJson(join(resumed, "train_metrics.json")) as Record<string, unknown>;
    assert.deepEqual(tr.heldout, tm.heldout);
    assert.equal(tr.warm_start, undefined, "a resumed run did not warm-start again");
  }));

Deno.test("warm start: an env without an expert, and steps over the memory limit, are refused before anything is written", () =>
  withTempDir(async (dir) => {
    const out = join(dir, "run");
    const none = await runCli([
      ...["train", "--env", "mountain_car", "--warm-start-rounds", "1", "--out-dir", out],
    ]);
    assert.equal(none.code, 2);
    assert.match(
      none.stderr.trim(),
      /^error: --warm-start-rounds 1: --env mountain_car has no expert planner/,
    );
    assert.equal(none.stderr.trim().split("\n").length, 1, none.stderr);
    const big = await runCli([
      ...["train", "--env", "traffic", "--warm-start-rounds", "1000"],
      ...["--warm-start-episodes", "100000", "--out-dir", out],
    ]);
    assert.equal(big.code, 2);
    assert.match(
      big.stderr,
      /--warm-start-rounds 1000 x --warm-start-episodes 100000 x .* over the limit of 1024 MiB/,
    );
    assert.equal(big.stderr.trim().split("\n").length, 1, big.stderr);
    assert.equal(existsSync(out), false);
  }));

Deno.test("ImitationTerm: its gradient matches finite differences of its value", () => {
  const model = new ActorCritic({ inDim: 3, hidden: 5, actionShape: [2], rng: new Rng(3) });
  const rng = new Rng(4);
  const rows = 7;
  const obs = Float32Array.from({ length: rows * 3 }, () => rng.normal());
  const label = Float32Array.from({ length: rows * 2 }, () => rng.normal());
  const term = new ImitationTerm(
    { obs: [obs], label: [label], rows, obsDim: 3, actionDim: 2 },
    { coef: 0.7, seed: 9, maxBatch: 4 },
  );
  const cache = new ActorCriticCache(model, 4);
  model.zeroGrad();
  term.addGradient(model, cache, 4, 11);
  const grad = Float64Array.from(model.delta.grad);
  const data = model.delta.data;
  const value = () => {
    model.zeroGrad();
    return term.addGradient(model, cache, 4, 11);
  };
  let checked = 0;
  for (let i = 0; i < data.length; i += 3) {
    const numeric = centralDifference(data, i, 1e-6, value);
    assert.ok(Math.abs(numeric - grad[i]) <= 1e-6 + 1e-5 * Math.abs(numeric), `${i}`);
    if (grad[i] !== 0) checked++;
  }
  assert.ok(checked > 5, `${checked} non-zero entries compared`);
  assert.equal(model.value.grad.every((g) => g === 0), true, "no gradient reaches the value head");
});

Deno.test("PpoLearner.deltaFrozen: the delta head and its moments stay, the value head learns", () => {
  const model = new ActorCritic({ inDim: 3, hidden: 4, actionShape: [2], rng: new Rng(5) });
  const adam = new Adam([model.delta, model.value], { lr: 1e-2, weightDecay: 1e-4 });
  const learner = new PpoLearner(model, adam, PPO_LOSS_DEFAULTS, 8);
  const rng = new Rng(6);
  const batch = {
    obs: Float64Array.from({ length: 24 }, () => rng.normal()),
    actions: Float64Array.from({ length: 16 }, () => rng.normal()),
    logpOld: new Float64Array(8).fill(-3),
    advantages: Float64Array.from({ length: 8 }, () => rng.normal()),
    returns: Float64Array.from({ length: 8 }, () => rng.normal()),
  };
  const delta = Float64Array.from(model.delta.data), value = Float64Array.from(model.value.data);
  learner.deltaFrozen = true;
  learner.update(batch, 8);
  assert.deepEqual(model.delta.data, delta);
  assert.equal(adam.expAvg[0].every((m) => m === 0), true);
  assert.notDeepEqual(model.value.data, value);
  learner.deltaFrozen = false;
  learner.update(batch, 8);
  assert.notDeepEqual(model.delta.data, delta);
});

Deno.test("imitation rows in chunks: a row past the first chunk is read from its own chunk", () => {
  const model = new ActorCritic({ inDim: 3, hidden: 5, actionShape: [2], rng: new Rng(3) });
  const rng = new Rng(5);
  const chunk = (dim: number) =>
    Float32Array.from({ length: ROWS_PER_CHUNK * dim }, () => rng.normal());
  const rows = {
    obs: [chunk(3), chunk(3)],
    label: [chunk(2), chunk(2)],
    rows: ROWS_PER_CHUNK + 5,
    obsDim: 3,
    actionDim: 2,
  };
  const cache = new ActorCriticCache(model, 2);
  const buffers = { raw: new Float64Array(6), x: new Float64Array(6) };
  const picked = Int32Array.from([ROWS_PER_CHUNK + 3, 3]);
  const sq = addSquaredErrorGradient(model, cache, { rows, picked, scale: 1, ...buffers });
  // by hand: row ROWS_PER_CHUNK + 3 is row 3 of chunk 1
  const x = new Float64Array([...rows.obs[1].subarray(9, 12), ...rows.obs[0].subarray(9, 12)]);
  const mean = new Float64Array(4);
  model.actMean(x, 2, mean);
  const want = [...rows.label[1].subarray(6, 8), ...rows.label[0].subarray(6, 8)];
  const expected = mean.reduce((s, m, j) => s + (m - want[j]) ** 2, 0);
  assert.ok(Math.abs(sq - expected) < 1e-9 * Math.max(1, expected), `${sq} vs ${expected}`);
});
