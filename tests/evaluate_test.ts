/**
 * The residual path as the trainer and `eval` drive it: sft + clip(delta head mean).
 * A zero delta drives exactly like the SFT planner; a non-zero delta changes the drive,
 * and the clip bounds it.
 */

import assert from "node:assert/strict";
import { Rng } from "../src/math/rng.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { Driving, EpisodeStatistics } from "../src/env/mod.ts";
import { composePlan } from "../src/sft/mod.ts";
import { BuiltinSftPlanner } from "../src/env/mod.ts";
import { evaluatePolicy } from "../src/run/mod.ts";

const env = { ...DEFAULT_ENV_CONFIG };
const planner = new BuiltinSftPlanner(env);
const common = {
  makeEnv: (k: number) => new Driving(env, k),
  planner,
  firstSeed: 500,
  count: 12,
  deltaClip: 2,
};

function headWithConstantDelta(dx: number, dy: number): ActorCritic {
  const model = new ActorCritic({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(5) });
  model.delta.view("net.4.weight").fill(0);
  const bias = model.delta.view("net.4.bias");
  for (let j = 0; j < bias.length; j += 2) {
    bias[j] = dx;
    bias[j + 1] = dy;
  }
  return model;
}

Deno.test("a zero delta head drives exactly like the SFT planner alone", () => {
  const alone = evaluatePolicy({ ...common, model: null });
  const zero = evaluatePolicy({ ...common, model: headWithConstantDelta(0, 0) });
  const strip = (r: typeof alone) =>
    r.scenarios.map(({ raw: { mean_delta_norm: _d, ...raw }, ...rest }) => ({ ...rest, raw }));
  assert.deepEqual(strip(zero), strip(alone));
  assert.ok(zero.scenarios.every((s) => s.raw.mean_delta_norm === 0));
});

Deno.test("a non-zero delta changes where the car goes, bounded by delta_clip", () => {
  const alone = evaluatePolicy({ ...common, model: null });
  const shifted = evaluatePolicy({ ...common, model: headWithConstantDelta(0, 1.5) });
  assert.notDeepEqual(shifted.scenarios.map((s) => s.return), alone.scenarios.map((s) => s.return));
  // |delta| per step = sqrt(20 * 1.5^2)
  assert.ok(Math.abs(shifted.summary.delta_norm_mean - Math.sqrt(20 * 2.25)) < 1e-9);
  // A delta of 5 m is clipped to 2 m per coordinate.
  const huge = evaluatePolicy({ ...common, model: headWithConstantDelta(0, 5) });
  const clipped = evaluatePolicy({ ...common, model: headWithConstantDelta(0, 2) });
  assert.deepEqual(huge.scenarios, clipped.scenarios);
});

Deno.test("each episode is the one it would be alone, whatever the envs stepped together", () => {
  const model = new ActorCritic({ inDim: 41, hidden: 16, horizon: 20, rng: new Rng(8) });
  for (let i = 0; i < model.delta.size; i++) model.delta.data[i] *= 20; // a delta that steers
  const opts = { ...common, count: 23, model };
  const batched = evaluatePolicy(opts).scenarios;
  assert.deepEqual(evaluatePolicy({ ...opts, numEnvs: 5 }).scenarios, batched);
  assert.deepEqual(evaluatePolicy({ ...opts, numEnvs: 1 }).scenarios, batched);
  // envs a makeEnv built are reused by the next evaluation with it, after a reset
  const makeEnv = (k: number) => new Driving(env, k);
  assert.deepEqual(evaluatePolicy({ ...opts, makeEnv, count: 7 }).scenarios, batched.slice(0, 7));
  assert.deepEqual(evaluatePolicy({ ...opts, makeEnv }).scenarios, batched);
  // one episode at a time, through act (both heads) and composePlan
  const vec = new EpisodeStatistics(new Driving(env, 1), { autoReset: true });
  const plan = new Float64Array(40), mean = new Float64Array(40), value = new Float64Array(1);
  for (let s = 0; s < opts.count; s++) {
    vec.reset([common.firstSeed + s]);
    do {
      planner.plan(vec.obs, 1, plan);
      model.act(vec.obs, 1, mean, value);
      composePlan(plan, { sft: plan, delta: mean, deltaClip: common.deltaClip });
      vec.step(plan);
    } while (!(vec.terminated[0] || vec.truncated[0]));
    const record = batched[s];
    assert.equal(record.scenario_id, `seed:${common.firstSeed + s}`);
    assert.equal(record.return, vec.episodeReturns[0], `seed ${s} return`);
    assert.equal(record.steps, vec.episodeLengths[0], `seed ${s} steps`);
    assert.equal(record.ade, vec.episodeMetrics[0], `seed ${s} ADE`);
  }
  assert.ok(new Set(batched.map((r) => r.steps)).size > 3, "episodes of many lengths");
});
