/**
 * The whole configuration of a training run, the schema of its `config.json`, and its
 * parts as the env factory, `--config` files and checkpoints take them.
 *
 * @module
 */

import type { EnvConfig, EnvFactoryOptions, EnvName, TrafficConfig } from "../env/mod.ts";
import type { PpoConfig } from "../ppo/mod.ts";

/** The whole configuration of a run, as written to `config.json`. */
export interface RunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** SFT planner checkpoint (`--sft-model`); null: the built-in planner. */
  sft_model: string | null;
  /**
   * The env trained on (`--env`), when not the driving env (absent: driving, so a driving
   * run's config.json is as before).
   */
  env_name?: Exclude<EnvName, "driving">;
  /**
   * Configuration of the driving env the policy is trained and evaluated in; for other
   * envs only `max_episode_steps` applies (the episode cap).
   */
  env: EnvConfig;
  /** The traffic env's own knobs (only with `env_name` "traffic"). */
  traffic?: TrafficConfig;
  /** PPO hyperparameters; `encoder_out_dim` and `horizon_steps` follow `env`. */
  ppo: PpoConfig;
}

/**
 * What a run's env factory takes besides `env` (the traffic section), its `--config`
 * sections and the keys its checkpoints add (`env_name`, `traffic_cfg`).
 *
 * @example
 * ```ts ignore
 * vecEnvFactory(run.env_name, run.env, runEnvParts(run).options);
 * ```
 */
export function runEnvParts(run: RunConfig): {
  options: EnvFactoryOptions;
  sections: Record<string, object>;
  ignore: string[];
  extra: Record<string, unknown>;
} {
  const t = run.traffic;
  return {
    options: t ? { traffic: t } : {},
    sections: { env: run.env, ppo: run.ppo, ...(t ? { traffic: t } : {}) },
    ignore: ["out_dir", "sft_model", "env_name"],
    extra: {
      ...(run.env_name ? { env_name: run.env_name } : {}),
      ...(t ? { traffic_cfg: t } : {}),
    },
  };
}
