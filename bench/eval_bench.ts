/**
 * The held-out evaluation as the trainer runs it: the built-in SFT planner plus the mean
 * of a delta head of the default size (hidden 64, H 20), on the held-out seeds; 20
 * episodes (every 10 training episodes) and 200 (twice at the end of a run).
 */

import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { DEFAULT_ENV_CONFIG, Driving } from "../src/env/mod.ts";
import { BuiltinSftPlanner } from "../src/env/mod.ts";
import { evaluatePolicy } from "../src/run/mod.ts";

const env = { ...DEFAULT_ENV_CONFIG };
const planner = new BuiltinSftPlanner(env);
const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(3) });
// a delta that steers (the initial one is near zero), so episodes differ in length
for (let i = 0; i < model.delta.size; i++) model.delta.data[i] *= 5;
const makeEnv = (n: number) => new Driving(env, n);
const common = { env, planner, model, deltaClip: 2, firstSeed: 2 ** 30, makeEnv };

for (const count of [20, 200]) {
  Deno.bench(`evaluate: ${count} held-out episodes, SFT + delta mean`, () => {
    evaluatePolicy({ ...common, count });
  });
}
