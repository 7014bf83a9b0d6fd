/**
 * The residual path as the trainer and `eval` drive it: sft + clip(delta head mean).
 * A zero delta drives exactly like the SFT planner; a non-zero delta changes the drive,
 * and the clip bounds it.
 */

import assert from "node:assert/strict";
import { Rng } from "../src/math/rng.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { BuiltinSftPlanner, evaluatePolicy } from "../src/sft/mod.ts";

const env = { ...DEFAULT_ENV_CONFIG };
const planner = new BuiltinSftPlanner(env);
const common = { env, planner, firstSeed: 500, count: 12, deltaClip: 2 };

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
