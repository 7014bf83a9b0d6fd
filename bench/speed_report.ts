// The README's speed figures in one run: the three matrix products at 256 x 64 x 64 as
// the trainer calls them (exported products, 256-row buffers, copies included), one PPO
// minibatch update (batch 64, H 20, hidden 64), and the rollout loop (10 envs in
// lockstep: actor-critic forward, Gaussian sample, SFT plan, env step). Times are the
// process's CPU time (user + system), best of 5 rounds after a warm-up, so other
// processes on a shared machine disturb them less than wall time.
// Only public APIs that predate the SIMD kernels, so the same file measures older trees.
// Run: deno run --allow-env bench/speed_report.ts   (DELTA_WAYPOINT_NO_SIMD=1 for the fallback)

import process from "node:process";
import * as math from "../src/math/mod.ts";
import { ActorCritic, Adam, sampleGaussian } from "../src/nn/mod.ts";
import { PpoLearner } from "../src/ppo/loss.ts";
import { DEFAULT_ENV_CONFIG, Driving, EpisodeStatistics } from "../src/env/mod.ts";
import { BuiltinSftPlanner } from "../src/env/mod.ts";

const { matmulBackwardInput, matmulBackwardWeight, matmulForward, Rng } = math;

/** Best CPU seconds per call of `fn` over 5 rounds of `reps` calls, after one round of warm-up. */
function cpuSecondsPerCall(fn: () => void, reps: number): number {
  for (let i = 0; i < reps; i++) fn();
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.cpuUsage();
    for (let i = 0; i < reps; i++) fn();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1e6 / reps);
  }
  return best;
}

const rng = new Rng(11);
const normals = (len: number) => {
  const a = new Float64Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.normal();
  return a;
};

// Kernels
const [N, IN, OUT] = [256, 64, 64];
const inp = normals(N * IN), weight = normals(OUT * IN), bias = normals(OUT);
const out = new Float64Array(N * OUT), dout = normals(N * OUT);
const dinp = new Float64Array(N * IN), dweight = new Float64Array(OUT * IN);
const flop = 2 * N * IN * OUT;
const gflops = (fn: () => void) => flop / cpuSecondsPerCall(fn, 400) / 1e9;
const kernels = {
  forward: gflops(() => matmulForward(out, inp, weight, bias, N, IN, OUT)),
  input_grad: gflops(() => matmulBackwardInput(dinp, dout, weight, N, IN, OUT)),
  weight_grad: gflops(() => matmulBackwardWeight(dweight, dout, inp, N, IN, OUT)),
};

// One PPO minibatch update, as bench/ppo_bench.ts
const B = 64, H = 20, OBS = 1 + 2 * H, ACT = 2 * H, HIDDEN = 64;
const model = new ActorCritic({ inDim: OBS, hidden: HIDDEN, horizon: H, rng });
const adam = new Adam([model.delta, model.value], { lr: 3e-4, weightDecay: 1e-4 });
const cfg = { clipRatio: 0.2, vfCoef: 0.5, entCoef: 0.01, maxGradNorm: 0.5 };
const learner = new PpoLearner(model, adam, cfg, B);
const obs = normals(B * OBS);
const mean = new Float64Array(B * ACT), value = new Float64Array(B);
model.act(obs, B, mean, value);
const actions = new Float64Array(B * ACT), logpOld = new Float64Array(B);
sampleGaussian(mean, model.delta.view("log_std"), B, rng, actions, logpOld);
const batch = { obs, actions, logpOld, advantages: normals(B), returns: normals(B) };
const updateMs = 1e3 * cpuSecondsPerCall(() => learner.update(batch, B), 200);

// The rollout loop of 10 envs (the trainer's #rollout without its bookkeeping)
const ENVS = 10;
const venv = new EpisodeStatistics(new Driving(DEFAULT_ENV_CONFIG, ENVS), { autoReset: true });
const sft = new BuiltinSftPlanner(DEFAULT_ENV_CONFIG);
venv.reset(Array.from({ length: ENVS }, (_, i) => i));
const rMean = new Float64Array(ENVS * ACT), rValue = new Float64Array(ENVS);
const rAction = new Float64Array(ENVS * ACT), rLogp = new Float64Array(ENVS);
const rPlan = new Float64Array(ENVS * ACT), sftPlan = new Float64Array(ENVS * ACT);
const logStd = model.delta.view("log_std");
const rolloutStepsPerSecond = ENVS / cpuSecondsPerCall(() => {
  model.act(venv.obs, ENVS, rMean, rValue);
  sampleGaussian(rMean, logStd, ENVS, rng, rAction, rLogp);
  sft.plan(venv.obs, ENVS, sftPlan);
  for (let j = 0; j < ENVS * ACT; j++) {
    rPlan[j] = sftPlan[j] + Math.max(-2, Math.min(2, rAction[j]));
  }
  venv.step(rPlan);
}, 2000);

const backend = (math as Record<string, unknown>).matmulBackend ?? "js (before the SIMD kernels)";
console.log(`matrix kernels: ${backend}`);
console.log(
  `GFLOP/s at ${N}x${IN}x${OUT}: forward ${kernels.forward.toFixed(1)}, input grad ${
    kernels.input_grad.toFixed(1)
  }, weight grad ${kernels.weight_grad.toFixed(1)}`,
);
console.log(
  `PPO minibatch update (batch ${B}, H ${H}, hidden ${HIDDEN}): ${updateMs.toFixed(3)} ms`,
);
console.log(`rollout (${ENVS} envs): ${rolloutStepsPerSecond.toFixed(0)} env steps/s`);
