/**
 * The whole configuration of a training run, the schema of its `config.json`.
 *
 * @module
 */

import type { EnvConfig, EnvName, TrafficConfig } from "../env/mod.ts";
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
