/**
 * The whole configuration of a training run, the schema of its `config.json`.
 *
 * @module
 */

import type { EnvConfig } from "../env/mod.ts";
import type { PpoConfig } from "./config.ts";

/** The whole configuration of a run, as written to `config.json`. */
export interface RunConfig {
  /** Run folder (`--out-dir`). */
  out_dir: string;
  /** SFT planner checkpoint (`--sft-model`); null: the built-in planner. */
  sft_model: string | null;
  /** Environment the policy is trained and evaluated in. */
  env: EnvConfig;
  /** PPO hyperparameters; `encoder_out_dim` and `horizon_steps` follow `env`. */
  ppo: PpoConfig;
}
