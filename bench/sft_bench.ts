// Hot loops of the SFT stage: the MLP planner's inference (once per env step, inside
// PPO rollouts), a training step, demonstration collection and one BC epoch.
// Run: deno bench bench/sft_bench.ts

import { Rng } from "../src/math/mod.ts";
import { DEFAULT_ENV_CONFIG, Driving, ExpertPlanner } from "../src/env/mod.ts";
import {
  collectDemonstrations,
  DEFAULT_SFT_CONFIG,
  MlpPlanner,
  MlpPlannerCache,
  trainBehaviourCloning,
} from "../src/sft/mod.ts";

const env = DEFAULT_ENV_CONFIG;
const hidden = DEFAULT_SFT_CONFIG.hidden_dim;
const planner = new MlpPlanner({ inDim: 41, hidden, horizon: 20, rng: new Rng(1) });
const source = { makeEnv: (n: number) => new Driving(env, n), expert: new ExpertPlanner(env) };
const demos = collectDemonstrations(source, { episodes: 40, seed: 1 });

for (const rows of [10, 256]) {
  const obs = demos.obs.subarray(0, rows * 41);
  const out = new Float64Array(rows * 40);
  Deno.bench({
    name: `MlpPlanner.plan ${rows} rows (hidden ${hidden})`,
    group: "plan",
    fn: () => planner.plan(obs, rows, out),
  });
}

const batch = DEFAULT_SFT_CONFIG.batch_size;
const cache = new MlpPlannerCache(planner, batch);
const batchObs = demos.obs.subarray(0, batch * 41);
cache.dOut.fill(0.01);
Deno.bench({
  name: `MlpPlanner forward + backward, batch ${batch}`,
  fn: () => {
    planner.forward(batchObs, batch, cache);
    planner.params.zeroGrad();
    planner.backward(batchObs, batch, cache);
  },
});

Deno.bench({
  name: "collectDemonstrations, 20 episodes",
  fn: () => {
    collectDemonstrations(source, { episodes: 20, seed: 2 });
  },
});

Deno.bench({
  name: `trainBehaviourCloning, 1 epoch of ${demos.count} examples`,
  fn: () => {
    const fresh = new MlpPlanner({ inDim: 41, hidden, horizon: 20, rng: new Rng(3) });
    trainBehaviourCloning(fresh, demos, { epochs: 1, lr: 3e-3, batchSize: batch, seed: 3 });
  },
});
