/**
 * The environment's hot loops: one vectorised step of 16 envs, and one whole
 * single-env episode driven by the built-in SFT planner.
 *
 * @module
 */

import {
  DEFAULT_ENV_CONFIG,
  DEFAULT_TRAFFIC_CONFIG,
  Driving,
  DrivingEnv,
  EpisodeStatistics,
  Traffic,
  TRAFFIC_ENV_DEFAULTS,
  ZPrefixPlanner,
} from "../src/env/mod.ts";
import type { VecEnv } from "../src/env/mod.ts";
import { Rng } from "../src/math/mod.ts";
import { ActorCritic } from "../src/nn/mod.ts";
import { composePlan } from "../src/sft/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner, TRAFFIC_SFT_OPTIONS } from "../src/env/mod.ts";

const cfg = DEFAULT_ENV_CONFIG;
const numEnvs = 16;

{
  const venv = new EpisodeStatistics(new Driving(cfg, numEnvs), { autoReset: true });
  const sft = new BuiltinSftPlanner(cfg);
  // The expert planner is a copy of obs, so this measures the env (with its
  // auto-resets, one route generation per ~65 steps) and little else.
  const expert = new ExpertPlanner(cfg);
  venv.reset(Array.from({ length: numEnvs }, (_, i) => i));
  const plans = new Float64Array(numEnvs * venv.actionDim);
  Deno.bench("vec env step (N=16, H=20, expert plans)", { group: "env", baseline: true }, () => {
    expert.plan(venv.obs, numEnvs, plans);
    venv.step(plans);
  });
  Deno.bench("vec env step + SFT planner (N=16, H=20)", { group: "env" }, () => {
    sft.plan(venv.obs, numEnvs, plans);
    venv.step(plans);
  });
}

{
  const env = new DrivingEnv(cfg);
  const sft = new BuiltinSftPlanner(cfg);
  const plan = new Float64Array(env.actionDim);
  let seed = 0;
  Deno.bench("single-env episode with the SFT planner (H=20)", { group: "episode" }, () => {
    let { obs } = env.reset(seed++);
    for (;;) {
      sft.plan(obs, 1, plan);
      const step = env.step(plan);
      if (step.terminated || step.truncated) break;
      obs = step.obs;
    }
  });
}

{
  // A rollout step as the trainer takes it: policy forward (mean action), base planner,
  // final plan, env step; the plain driving env next to the traffic env with K = 8
  // neighbours, both with N = 16 and their own defaults (traffic: H = 4).
  const rollout = (
    name: string,
    venv: VecEnv,
    planner: { plan(obs: Float64Array, rows: number, out: Float64Array): void },
    baseline: boolean,
  ) => {
    const model = new ActorCritic({
      inDim: venv.obsDim,
      hidden: 64,
      actionShape: [venv.actionDim / 2, 2],
      rng: new Rng(1),
      initLogStd: -0.5,
      maxBatch: numEnvs,
      inputScale: venv.obsScale,
    });
    const mean = new Float64Array(numEnvs * venv.actionDim);
    const plans = new Float64Array(numEnvs * venv.actionDim);
    venv.reset(Array.from({ length: numEnvs }, (_, i) => i));
    Deno.bench(name, { group: "rollout", baseline }, () => {
      model.actMean(venv.obs, numEnvs, mean);
      planner.plan(venv.obs, numEnvs, plans);
      composePlan(plans, { sft: plans, delta: mean, deltaClip: 2 });
      venv.step(plans);
    });
  };
  rollout(
    "rollout step, driving (N=16, H=20)",
    new EpisodeStatistics(new Driving(cfg, numEnvs), { autoReset: true }),
    new BuiltinSftPlanner(cfg),
    true,
  );
  const tv = new EpisodeStatistics(
    new Traffic(TRAFFIC_ENV_DEFAULTS, numEnvs, {
      traffic: { ...DEFAULT_TRAFFIC_CONFIG, neighbors: 8 },
    }),
    { autoReset: true },
  );
  const tsft = new ZPrefixPlanner(
    new BuiltinSftPlanner(TRAFFIC_ENV_DEFAULTS, TRAFFIC_SFT_OPTIONS),
    {
      obsDim: tv.obsDim,
    },
  );
  rollout("rollout step, traffic (N=16, H=4, K=8)", tv, tsft, false);
}
