/**
 * PPO configuration: one typed object, defaults in one place, written whole to
 * `config.json` under `ppo`. The first block of keys is the Python trainer's
 * (names and defaults unchanged); the rest are ours.
 *
 * @module
 */

import { type ConfigTable, tableDefaults, validateTable } from "../config_table.ts";
import { WARM_START_CONFIG_TABLE, type WarmStartConfig } from "./warm_start_config.ts";

/** Every PPO hyperparameter of a run (snake_case: these are the `config.json` keys). */
export interface PpoConfig extends WarmStartConfig {
  /** Size of the observation fed to both heads (the env's; 1 + 2H for driving's z). */
  encoder_out_dim: number;
  /** Waypoints per plan (H); the delta head outputs 2H numbers. */
  horizon_steps: number;
  /** Width of the hidden layers of both heads. */
  hidden_dim: number;
  /** Training episodes in total. */
  episodes: number;
  /** Adam learning rate. */
  lr: number;
  /** L2 weight decay added to the gradient (torch Adam, not AdamW). */
  weight_decay: number;
  /** Discount factor. */
  gamma: number;
  /** GAE lambda. */
  lam: number;
  /** PPO ratio clip epsilon. */
  clip_ratio: number;
  /** An update stops its epochs once the epoch's approx KL exceeds 1.5 * target_kl. */
  target_kl: number;
  /** Passes over each rollout's batch. */
  update_epochs: number;
  /** Minibatch size. */
  batch_size: number;
  /** Episodes between `metrics.json` entries. */
  eval_interval: number;
  /** Episodes between `checkpoints/checkpoint_{N}.pt`. */
  save_interval: number;
  /** Checkpoint this run resumed from, or null. */
  resume: string | null;
  /** Only "cpu". */
  device: string;
  /** The one seed that fixes the run. */
  seed: number;
  // --- ours ---
  /** Environments stepped in lockstep; one rollout holds up to this many whole episodes. */
  num_envs: number;
  /** Value-loss coefficient. */
  vf_coef: number;
  /** Entropy bonus coefficient. */
  ent_coef: number;
  /** Gradient norm clip, per head. */
  max_grad_norm: number;
  /** The environment receives sft + clip(delta, -delta_clip, +delta_clip). */
  delta_clip: number;
  /** Initial value of every log_std entry of the policy. */
  init_log_std: number;
  /** Training reward less this per metre of the sampled clipped delta's norm, each step. */
  delta_cost: number;
  /** ρ of the exploration noise between a slot's consecutive steps (0: independent). */
  noise_correlation: number;
  /**
   * Upper bound on every log_std entry, projected after each optimiser step (20, the
   * default, is never reached: no bound).
   */
  max_log_std: number;
  /** The bound at the end of the budget, reached linearly from `max_log_std` when lower. */
  max_log_std_end: number;
  /** Normalise advantages over each rollout's batch. */
  norm_adv: boolean;
  /**
   * Both heads see the observation divided by a fixed, config-derived power-of-two scale
   * (`observationScale`); checkpoints still store net.0 for the raw observation.
   */
  obs_norm: boolean;
  /**
   * The value head outputs this power of two times its last layer (stored folded into
   * net.2), about the largest episode return, so values reach the returns' size early.
   */
  value_scale: number;
  /** Held-out episodes evaluated at the end of training. */
  heldout_episodes: number;
  /** Held-out episodes evaluated at every eval interval (for best.pt and the curves). */
  eval_episodes: number;
  /** Budget in env steps of the whole run (0: `episodes` is the budget, else it is none). */
  total_steps: number;
  /**
   * 0: a rollout is one episode per env. Else SB3's `n_steps * n_envs`: a rollout runs
   * whole episodes, starting new ones while it holds fewer steps than this.
   */
  steps_per_update: number;
  /** "constant", or "linear": from `lr` down to 0 over the run's budget. */
  lr_schedule: LrSchedule;
  /**
   * Both heads see clamp((z − mean) / sqrt(var + 1e-8), ±clip_obs), mean and var running
   * statistics of the training observations (SB3's `norm_obs`); checkpoints carry `obs_rms`.
   */
  norm_obs: boolean;
  /** The bound of the normalised observation. */
  clip_obs: number;
  /**
   * PPO learns from rewards divided by the running std of the discounted return, clipped
   * (SB3's `norm_reward`); reported returns stay unscaled. Checkpoints carry `ret_rms`.
   */
  norm_reward: boolean;
  /** The bound of a scaled reward. */
  clip_reward: number;
}

/** How the learning rate moves over a run. */
export type LrSchedule = "constant" | "linear";

/** The values `lr_schedule` takes. */
export const LR_SCHEDULES: readonly LrSchedule[] = ["constant", "linear"];

/** Added to the variance before the square root by the observation normaliser (SB3's). */
export const OBS_NORM_EPSILON = 1e-8;

/** Added to the return variance before the square root by the reward scaling (SB3's). */
export const REWARD_SCALE_EPSILON = 1e-8;

/**
 * One row per key (type, range, default, help, flag): the defaults, `validatePpoConfig`
 * (flags, `--config` files, checkpoints) and `train`'s flags and `--help` read it.
 * Defaults are the Python trainer's values, plus ours.
 */
export const PPO_CONFIG_TABLE: ConfigTable<PpoConfig> = {
  encoder_out_dim: {
    type: "int",
    range: [1, 1e6],
    default: 41,
    help: "size of the observation both heads take (follows the env)",
  },
  horizon_steps: {
    type: "int",
    range: [1, 1000],
    default: 20,
    help: "waypoints per plan (follows the env)",
  },
  hidden_dim: {
    type: "int",
    range: [1, 4096],
    default: 64,
    help: "hidden width of both heads",
    flag: "hidden-dim",
  },
  episodes: {
    type: "int",
    range: [1, 1e9],
    default: 500,
    help: "training episodes",
    flag: "episodes",
  },
  lr: {
    type: "float",
    range: [0, 1],
    exclusiveMin: true,
    default: 3e-4,
    help: "Adam learning rate",
    flag: "lr",
  },
  weight_decay: {
    type: "float",
    range: [0, 1],
    default: 1e-4,
    help: "Adam L2 weight decay",
    flag: "weight-decay",
  },
  gamma: { type: "float", range: [0, 1], default: 0.99, help: "discount", flag: "gamma" },
  lam: { type: "float", range: [0, 1], default: 0.95, help: "GAE lambda", flag: "lam" },
  clip_ratio: {
    type: "float",
    range: [0, 1],
    default: 0.2,
    help: "PPO clip epsilon",
    flag: "clip-ratio",
  },
  target_kl: {
    type: "float",
    range: [0, 1e9],
    default: 0.01,
    help: "KL early-stop target",
    flag: "target-kl",
  },
  update_epochs: {
    type: "int",
    range: [1, 1000],
    default: 5,
    help: "PPO epochs per update",
    flag: "update-epochs",
  },
  batch_size: {
    type: "int",
    range: [1, 1e6],
    default: 64,
    help: "PPO minibatch size",
    flag: "batch-size",
  },
  eval_interval: {
    type: "int",
    range: [1, 1e9],
    default: 10,
    help: "episodes between metrics.json entries",
    flag: "eval-interval",
  },
  save_interval: {
    type: "int",
    range: [1, 1e9],
    default: 50,
    help: "episodes between checkpoints",
    flag: "save-interval",
  },
  resume: { type: "string", default: null, help: "checkpoint this run resumed from" },
  device: { type: "string", default: "cpu", help: "only cpu" },
  seed: {
    type: "int",
    range: [0, 2 ** 32 - 1],
    default: 42,
    help: "the one seed of the run",
    flag: "seed",
  },
  num_envs: {
    type: "int",
    range: [1, 4096],
    default: 10,
    help: "envs per rollout",
    flag: "num-envs",
  },
  vf_coef: { type: "float", range: [0, 1e6], default: 0.5, help: "value-loss coefficient" },
  ent_coef: { type: "float", range: [0, 1e6], default: 0.01, help: "entropy bonus coefficient" },
  max_grad_norm: {
    type: "float",
    range: [0, 1e9],
    default: 0.5,
    help: "gradient norm clip, per head",
  },
  delta_clip: {
    type: "float",
    range: [0, 1e6],
    default: 2.0,
    help: "bound on |delta|, meters",
    flag: "delta-clip",
  },
  init_log_std: {
    type: "float",
    range: [-20, 5],
    // -0.5 (std 0.61) rather than the earlier -1: the car learns to hold the route line
    // more tightly, which lowers the built-in planner's ADE (README, Sample efficiency)
    default: -0.5,
    help: "initial log_std of the policy (exploration noise)",
  },
  delta_cost: {
    type: "float",
    range: [0, 1e6],
    default: 0,
    help: "reward cost per step per m of the sampled delta's norm, in training (0: none)",
    flag: "delta-cost",
  },
  noise_correlation: {
    type: "float",
    range: [0, 0.999],
    default: 0,
    help: "correlation of the exploration noise between consecutive steps, AR(1) (0: none)",
    flag: "noise-correlation",
  },
  max_log_std: {
    type: "float",
    range: [-20, 20],
    // 20 (std 5e8) is never reached: off. The traffic env bounds it (docs/results.md)
    default: 20,
    help: "upper bound on log_std, projected after each optimiser step (20: none)",
    flag: "max-log-std",
  },
  max_log_std_end: {
    type: "float",
    range: [-20, 20],
    default: 20,
    help: "log_std bound at the end of the budget, linearly from max_log_std (20: constant)",
    flag: "max-log-std-end",
  },
  norm_adv: { type: "bool", default: true, help: "normalise advantages per rollout" },
  obs_norm: { type: "bool", default: true, help: "scale observations by a power of two" },
  value_scale: {
    type: "float",
    range: [2 ** -20, 2 ** 20],
    default: 32,
    help: "power of two the value head's output is scaled by",
  },
  heldout_episodes: {
    type: "int",
    range: [1, 100_000],
    default: 200,
    help: "held-out episodes evaluated at the end",
    flag: "heldout-episodes",
  },
  eval_episodes: {
    type: "int",
    range: [1, 100_000],
    default: 20,
    help: "held-out episodes evaluated every eval interval",
    flag: "eval-episodes",
  },
  total_steps: {
    type: "int",
    range: [0, 1e12],
    default: 0,
    help: "budget in env steps, instead of --episodes (0: --episodes is the budget)",
    flag: "total-steps",
  },
  steps_per_update: {
    type: "int",
    range: [0, 1e7],
    default: 0,
    help: "env steps per rollout, in whole episodes (0: one episode per env)",
    flag: "steps-per-update",
  },
  lr_schedule: {
    type: "string",
    choices: LR_SCHEDULES,
    default: "constant",
    help: "learning rate schedule: constant, or linear to 0 over the budget",
    flag: "lr-schedule",
  },
  norm_obs: {
    type: "bool",
    default: false,
    help: "running mean/std observation normalisation (true/false)",
    flag: "norm-obs",
  },
  clip_obs: {
    type: "float",
    range: [0, 1e6],
    exclusiveMin: true,
    default: 10,
    help: "bound of the normalised observation",
  },
  norm_reward: {
    type: "bool",
    default: false,
    help: "scale rewards by a running std of the discounted return (true/false)",
    flag: "norm-reward",
  },
  clip_reward: {
    type: "float",
    range: [0, 1e6],
    exclusiveMin: true,
    default: 10,
    help: "bound of a scaled reward",
  },
  ...WARM_START_CONFIG_TABLE,
};

/** The defaults of {@linkcode PPO_CONFIG_TABLE}. */
export const DEFAULT_PPO_CONFIG: Readonly<PpoConfig> = Object.freeze(
  tableDefaults(PPO_CONFIG_TABLE),
);

/**
 * Throws a RangeError naming the first key whose value is out of range (the ranges of
 * {@linkcode PPO_CONFIG_TABLE}) or inconsistent with the others.
 *
 * @example
 * ```ts
 * validatePpoConfig({ ...DEFAULT_PPO_CONFIG, lr: 3e-4 });
 * ```
 */
export function validatePpoConfig(cfg: PpoConfig): void {
  validateTable(cfg, { section: "ppo", table: PPO_CONFIG_TABLE });
  if (2 ** Math.round(Math.log2(cfg.value_scale)) !== cfg.value_scale) {
    throw new RangeError(`ppo.value_scale: must be a power of two, got ${cfg.value_scale}`);
  }
  if (cfg.init_log_std > cfg.max_log_std) {
    throw new RangeError(
      `ppo.init_log_std: must not exceed max_log_std (${cfg.max_log_std}), got ${cfg.init_log_std}`,
    );
  }
  if (cfg.device !== "cpu") {
    throw new RangeError(`ppo.device: only "cpu" is supported, got ${JSON.stringify(cfg.device)}`);
  }
}
