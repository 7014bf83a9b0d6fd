/**
 * The PPO defaults of an env that registers none (a Gymnasium env through `gym:ID`).
 *
 * @module
 */

import { DEFAULT_PPO_CONFIG } from "./config.ts";
import type { PpoConfig } from "./config.ts";

/**
 * PPO defaults for an env that registers none (a Gymnasium env through `gym:ID`), SB3's
 * `PPO` defaults: a 2x64 policy network, lr 3e-4 constant, 2048 steps per update (n_steps
 * 2048 × n_envs 1), 10 epochs of minibatches of 64, gamma 0.99, lambda 0.95, clip 0.2,
 * ent_coef 0, vf_coef 0.5, max_grad_norm 0.5, no KL early stop (target_kl 1e9: SB3's
 * None), log_std 0, no weight decay; plus observation normalisation and reward scaling
 * (RL Zoo's `normalize: true`, CleanRL's ppo_continuous_action: an unknown env's
 * observations and rewards come at unknown scales), neither of the driving env's fixed
 * scales (`obs_norm`, `value_scale`), no delta bound of its own (`delta_clip` 1e6: the
 * zero base policy's delta is the action, which reaches the env clipped to its Box, as
 * SB3 clips it), 1M env steps (CleanRL's budget), and evaluations every 50 episodes on
 * 10 held-out episodes (cheap beside training).
 *
 * The value head stays in -> hidden -> 1 (one hidden layer, where SB3's critic has two):
 * its layout is the checkpoint format the Python trainer's users load.
 */
export const GENERIC_PPO_DEFAULTS: Readonly<PpoConfig> = Object.freeze({
  ...DEFAULT_PPO_CONFIG, // hidden_dim 64, lr 3e-4, batch_size 64, gamma, lam, clip_ratio, vf_coef, ...
  num_envs: 1,
  steps_per_update: 2048,
  total_steps: 1_000_000,
  update_epochs: 10,
  ent_coef: 0,
  target_kl: 1e9,
  weight_decay: 0,
  init_log_std: 0,
  obs_norm: false,
  value_scale: 1,
  norm_obs: true,
  norm_reward: true,
  delta_clip: 1e6,
  eval_interval: 50,
  save_interval: 500,
  eval_episodes: 10,
  heldout_episodes: 100,
});
