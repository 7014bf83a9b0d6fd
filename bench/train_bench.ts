/**
 * Whole training iterations: rollout + GAE + PPO update, at the default config.
 * "one episode" runs one env for one episode and updates on it; "one rollout of
 * 10 episodes" is what `train` does per iteration with the defaults.
 */

import { DEFAULT_ENV_CONFIG } from "../src/env/mod.ts";
import { BuiltinSftPlanner, Driving } from "../src/env/mod.ts";
import { DEFAULT_PPO_CONFIG, Trainer } from "../src/ppo/mod.ts";

function trainer(numEnvs: number): Trainer {
  const env = { ...DEFAULT_ENV_CONFIG };
  const ppo = {
    ...DEFAULT_PPO_CONFIG,
    num_envs: numEnvs,
    episodes: 1e9,
    eval_interval: 1e9,
    save_interval: 1e9,
  };
  return new Trainer({
    env,
    ppo,
    planner: new BuiltinSftPlanner(env),
    makeEnv: (n) => new Driving(env, n),
  });
}

const single = trainer(1);
Deno.bench("train: one episode (1 env, rollout + GAE + 5-epoch PPO update)", () => {
  single.iterate(1);
});

const batched = trainer(DEFAULT_PPO_CONFIG.num_envs);
Deno.bench(
  `train: one rollout of ${DEFAULT_PPO_CONFIG.num_envs} episodes + update (default config)`,
  () => {
    batched.iterate(DEFAULT_PPO_CONFIG.num_envs);
  },
);
