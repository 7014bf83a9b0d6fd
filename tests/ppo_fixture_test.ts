// PyTorch parity: one PPO minibatch from tests/fixtures/ppo/ppo_step.json (torch 1.13,
// float64): head outputs, log-probs, losses, every gradient, the gradient norms, and the
// parameters after clipping plus one Adam step.

import assert from "node:assert/strict";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic, Adam, type ParamSet } from "../src/nn/mod.ts";
import { PpoLearner } from "../src/ppo/loss.ts";
import { readFixtureJson, worstRelError } from "./_helpers.ts";

interface Tensor {
  shape: number[];
  dtype: string;
  data: number[];
}
type StateDict = Record<string, Tensor>;
interface Heads {
  delta_head: StateDict;
  value_head: StateDict;
}
interface PpoFixture {
  config: {
    horizon_steps: number;
    in_dim: number;
    hidden_dim: number;
    batch: number;
    clip_ratio: number;
    vf_coef: number;
    ent_coef: number;
    max_grad_norm: number;
    lr: number;
    weight_decay: number;
    betas: [number, number];
    eps: number;
  };
  params: Heads;
  batch: {
    obs: number[];
    actions: number[];
    logp_old: number[];
    advantages: number[];
    returns: number[];
  };
  expected: {
    mean: number[];
    values: number[];
    logp: number[];
    entropy_per_sample: number[];
    ratio: number[];
    policy_loss: number;
    value_loss: number;
    entropy: number;
    loss: number;
    approx_kl: number;
    clip_fraction: number;
    grads: Heads;
    grad_norm_delta_head: number;
    grad_norm_value_head: number;
    params_after: Heads;
  };
}

function loadFixture(): PpoFixture {
  return readFixtureJson<PpoFixture>("ppo/ppo_step.json");
}

/**
 * Asserts |actual − expected| ≤ rel · max(|expected|, floor) element-wise and reports the
 * worst element. `floor` keeps entries that are (nearly) zero in torch from demanding an
 * exact zero.
 */
function assertAllClose(
  key: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  opts: { rel: number; floor?: number },
): void {
  assert.equal(
    actual.length,
    expected.length,
    `${key}: length ${actual.length} != ${expected.length}`,
  );
  const { worst, at: worstAt } = worstRelError(actual, expected, opts.floor ?? 1e-12);
  if (!(worst <= opts.rel)) {
    assert.fail(
      `${key}: worst relative error ${worst.toExponential(2)} > ${opts.rel} at [${worstAt}]: ` +
        `got ${actual[worstAt]}, expected ${expected[worstAt]}`,
    );
  }
}

function assertScalarClose(key: string, actual: number, expected: number, rel: number): void {
  assertAllClose(key, [actual], [expected], { rel });
}

function loadParams(set: ParamSet, dict: StateDict, head: string): void {
  assert.deepEqual(
    set.specs.map((s) => s.name),
    Object.keys(dict),
    `${head}: parameter names/order differ from the fixture`,
  );
  for (const spec of set.specs) {
    assert.deepEqual(spec.shape, dict[spec.name].shape, `${head}.${spec.name}: shape`);
    set.view(spec.name).set(dict[spec.name].data);
  }
}

function assertParamsClose(
  set: ParamSet,
  dict: StateDict,
  head: string,
  rel: number,
  grad: boolean,
) {
  for (const spec of set.specs) {
    const actual = grad ? set.gradView(spec.name) : set.view(spec.name);
    assertAllClose(`${head}.${spec.name}${grad ? " (grad)" : ""}`, actual, dict[spec.name].data, {
      rel,
    });
  }
}

function setup(fx: PpoFixture, float32: boolean) {
  const c = fx.config;
  const model = new ActorCritic({
    inDim: c.in_dim,
    hidden: c.hidden_dim,
    horizon: c.horizon_steps,
    rng: new Rng(0),
    maxBatch: c.batch,
  });
  loadParams(model.delta, fx.params.delta_head, "delta_head");
  loadParams(model.value, fx.params.value_head, "value_head");
  const adam = new Adam([model.delta, model.value], {
    lr: c.lr,
    betas: c.betas,
    eps: c.eps,
    weightDecay: c.weight_decay,
    float32,
  });
  const learner = new PpoLearner(model, adam, {
    clipRatio: c.clip_ratio,
    vfCoef: c.vf_coef,
    entCoef: c.ent_coef,
    maxGradNorm: c.max_grad_norm,
  }, c.batch);
  const b = fx.batch;
  const batch = {
    obs: Float64Array.from(b.obs),
    actions: Float64Array.from(b.actions),
    logpOld: Float64Array.from(b.logp_old),
    advantages: Float64Array.from(b.advantages),
    returns: Float64Array.from(b.returns),
  };
  return { model, adam, learner, batch, n: c.batch };
}

const REL = 1e-9;

Deno.test("ppo fixture: outputs, losses, gradients and norms match PyTorch", () => {
  const fx = loadFixture();
  const { model, learner, batch, n } = setup(fx, false);
  const e = fx.expected;
  const stats = learner.lossAndGrad(batch, n);

  assertAllClose("mean", learner.cache.mean.subarray(0, n * model.actionDim), e.mean, { rel: REL });
  assertAllClose("values", learner.cache.value.subarray(0, n), e.values, { rel: REL });
  assertAllClose("logp", learner.logp.subarray(0, n), e.logp, { rel: REL });
  assertAllClose(
    "entropy_per_sample",
    new Float64Array(n).fill(stats.entropy),
    e.entropy_per_sample,
    {
      rel: REL,
    },
  );
  assertAllClose("ratio", learner.ratio.subarray(0, n), e.ratio, { rel: REL });
  assertScalarClose("policy_loss", stats.policy_loss, e.policy_loss, REL);
  assertScalarClose("value_loss", stats.value_loss, e.value_loss, REL);
  assertScalarClose("entropy", stats.entropy, e.entropy, REL);
  assertScalarClose("loss", stats.loss, e.loss, REL);
  assertScalarClose("approx_kl", stats.kl, e.approx_kl, REL);
  assert.equal(stats.clip_fraction, e.clip_fraction, "clip_fraction");
  assertParamsClose(model.delta, e.grads.delta_head, "delta_head", REL, true);
  assertParamsClose(model.value, e.grads.value_head, "value_head", REL, true);
  assertScalarClose("grad_norm_delta_head", stats.grad_norm_delta, e.grad_norm_delta_head, REL);
  assertScalarClose("grad_norm_value_head", stats.grad_norm_value, e.grad_norm_value_head, REL);
});

Deno.test("ppo fixture: clip + one Adam step (float64) matches params_after", () => {
  const fx = loadFixture();
  const { model, adam, learner, batch, n } = setup(fx, false);
  const stats = learner.update(batch, n);
  assert.equal(adam.stepCount, 1);
  assertScalarClose(
    "grad_norm_delta_head",
    stats.grad_norm_delta,
    fx.expected.grad_norm_delta_head,
    REL,
  );
  assertParamsClose(model.delta, fx.expected.params_after.delta_head, "delta_head", REL, false);
  assertParamsClose(model.value, fx.expected.params_after.value_head, "value_head", REL, false);
});

Deno.test("ppo fixture: clip + one Adam step with float32 state matches params_after to 1e-5", () => {
  const fx = loadFixture();
  const { model, adam, learner, batch, n } = setup(fx, true);
  learner.update(batch, n);
  assertParamsClose(model.delta, fx.expected.params_after.delta_head, "delta_head", 1e-5, false);
  assertParamsClose(model.value, fx.expected.params_after.value_head, "value_head", 1e-5, false);
  for (const arrays of [[model.delta.data, model.value.data], adam.expAvg, adam.expAvgSq]) {
    for (const a of arrays) {
      assert.ok(a.every((x) => Math.fround(x) === x), "float32 mode leaves float32 values");
    }
  }
});
