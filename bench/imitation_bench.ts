// One minibatch of the warm start's fit and of the imitation term: the delta head's mean
// on 256 picked rows and the gradient of its squared error against their labels, at the
// traffic env's sizes (obs 89, action 8, hidden 64), rows in two chunks.
// Run: deno bench -A bench/imitation_bench.ts

import { Rng } from "../src/math/mod.ts";
import { ActorCritic, ActorCriticCache } from "../src/nn/mod.ts";
import { addSquaredErrorGradient, ROWS_PER_CHUNK } from "../src/ppo/mod.ts";

const n = 256, IN = 89, A = 8, HIDDEN = 64;
const rng = new Rng(7);
const model = new ActorCritic({ inDim: IN, hidden: HIDDEN, actionShape: [A], rng });
const cache = new ActorCriticCache(model, n);
const chunk = (dim: number) =>
  Float32Array.from({ length: ROWS_PER_CHUNK * dim }, () => rng.normal());
const rows = {
  obs: [chunk(IN), chunk(IN)],
  label: [chunk(A), chunk(A)],
  rows: 2 * ROWS_PER_CHUNK,
  obsDim: IN,
  actionDim: A,
};
const picked = Int32Array.from({ length: n }, () => Math.floor(rng.uniform() * rows.rows));
const buffers = { raw: new Float64Array(n * IN), x: new Float64Array(n * IN) };

Deno.bench({
  name:
    `imitation minibatch: delta head mean and squared-error gradient (batch ${n}, obs ${IN}, action ${A}, hidden ${HIDDEN})`,
  fn: () => {
    model.zeroGrad();
    addSquaredErrorGradient(model, cache, { rows, picked, scale: 2 / (n * A), ...buffers });
  },
});
