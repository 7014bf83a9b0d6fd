/**
 * The environment's hot loops: one vectorised step of 16 envs, and one whole
 * single-env episode driven by the built-in SFT planner.
 *
 * @module
 */

import { DEFAULT_ENV_CONFIG, DrivingEnv, DrivingVecEnv } from "../src/env/mod.ts";
import { BuiltinSftPlanner, ExpertPlanner } from "../src/sft/mod.ts";

const cfg = DEFAULT_ENV_CONFIG;
const numEnvs = 16;

{
  const venv = new DrivingVecEnv(cfg, numEnvs);
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
