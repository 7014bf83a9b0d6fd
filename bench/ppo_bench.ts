// One PPO minibatch update (forward, loss, backward, two gradient clips, Adam step):
// batch 64, H = 20 (obs 41, action 40), hidden 64.
// Run: deno bench bench/ppo_bench.ts

import { Rng } from "../src/math/mod.ts";
import { ActorCritic, Adam, sampleGaussian } from "../src/nn/mod.ts";
import { PpoLearner } from "../src/ppo/loss.ts";

const n = 64, H = 20, IN = 1 + 2 * H, A = 2 * H, HIDDEN = 64;
const rng = new Rng(7);
const model = new ActorCritic({ inDim: IN, hidden: HIDDEN, horizon: H, rng });
const adam = new Adam([model.delta, model.value], { lr: 3e-4, weightDecay: 1e-4 });
const learner = new PpoLearner(model, adam, {
  clipRatio: 0.2,
  vfCoef: 0.5,
  entCoef: 0.01,
  maxGradNorm: 0.5,
}, n);

const obs = new Float64Array(n * IN).map(() => rng.normal());
const mean = new Float64Array(n * A);
const value = new Float64Array(n);
model.act(obs, n, mean, value);
const actions = new Float64Array(n * A);
const logpOld = new Float64Array(n);
sampleGaussian(mean, model.delta.view("log_std"), n, rng, actions, logpOld);
const batch = {
  obs,
  actions,
  logpOld,
  advantages: new Float64Array(n).map(() => rng.normal()),
  returns: new Float64Array(n).map(() => rng.normal()),
};

Deno.bench({
  name: `ppo minibatch update (batch ${n}, H ${H}, hidden ${HIDDEN})`,
  fn: () => {
    learner.update(batch, n);
  },
});
