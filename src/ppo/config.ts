/**
 * PPO configuration: one typed object, defaults in one place, written whole to
 * `config.json` under `ppo`. The first block of keys is the Python trainer's
 * (names and defaults unchanged); the rest are ours.
 *
 * @module
 */

import { type ConfigTable, tableDefaults, validateTable } from "../config_table.ts";

/** Every PPO hyperparameter of a run (snake_case: these are the `config.json` keys). */
export interface PpoConfig {
  /** Size of the encoded state z fed to both heads (1 + 2H). */
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
  /**
   * Upper bound on every log_std entry, projected after each optimiser step (20, the
   * default, is never reached: no bound).
   */
  max_log_std: number;
  /**
   * The log_std bound at the last episode: below `max_log_std`, the bound falls linearly
   * from `max_log_std` (episode 0) to it over the run (a noise schedule); at or above it
   * (the default, 20), the bound stays `max_log_std`.
   */
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
}

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
    help: "size of the encoded state z (1 + 2H, follows the env)",
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
  max_log_std: {
    type: "float",
    range: [-20, 20],
    // 20 (std 5e8) is never reached: off. The traffic env bounds it (a clipped delta
    // makes a wider spread free, and the entropy bonus grows it without limit; README)
    default: 20,
    help: "upper bound on log_std, projected after each optimiser step (20: none)",
    flag: "max-log-std",
  },
  max_log_std_end: {
    type: "float",
    range: [-20, 20],
    default: 20,
    help: "log_std bound at the last episode, reached linearly from max_log_std (20: constant)",
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
    range: [1, 1e6],
    default: 200,
    help: "held-out episodes evaluated at the end",
    flag: "heldout-episodes",
  },
  eval_episodes: {
    type: "int",
    range: [1, 1e6],
    default: 20,
    help: "held-out episodes evaluated every eval interval",
    flag: "eval-episodes",
  },
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
  if (cfg.encoder_out_dim !== 1 + 2 * cfg.horizon_steps) {
    throw new RangeError(
      `ppo.encoder_out_dim: must be 1 + 2 * horizon_steps = ${
        1 + 2 * cfg.horizon_steps
      }, got ${cfg.encoder_out_dim}`,
    );
  }
}

/**
 * The log_std bound after `episode` of the run's episodes: `max_log_std`, falling
 * linearly to `max_log_std_end` at the last episode when that is lower.
 *
 * @example
 * ```ts
 * const ppo = { ...DEFAULT_PPO_CONFIG, episodes: 100, max_log_std: 2, max_log_std_end: 0 };
 * logStdBoundAt(ppo, 50); // 1
 * logStdBoundAt(DEFAULT_PPO_CONFIG, 50); // 20: no schedule
 * ```
 */
export function logStdBoundAt(ppo: PpoConfig, episode: number): number {
  const start = ppo.max_log_std, end = ppo.max_log_std_end;
  if (end >= start) return start;
  const t = Math.min(1, Math.max(0, episode / ppo.episodes));
  return start + (end - start) * t;
}
