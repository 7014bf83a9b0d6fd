/**
 * PPO configuration: one typed object, defaults in one place, written whole to
 * `config.json` under `ppo`. The first block of keys is the Python trainer's
 * (names and defaults unchanged); the rest are ours.
 *
 * @module
 */

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

/** The defaults: the Python trainer's values, plus ours. */
export const DEFAULT_PPO_CONFIG: Readonly<PpoConfig> = Object.freeze({
  encoder_out_dim: 41,
  horizon_steps: 20,
  hidden_dim: 64,
  episodes: 500,
  lr: 3e-4,
  weight_decay: 1e-4,
  gamma: 0.99,
  lam: 0.95,
  clip_ratio: 0.2,
  target_kl: 0.01,
  update_epochs: 5,
  batch_size: 64,
  eval_interval: 10,
  save_interval: 50,
  resume: null,
  device: "cpu",
  seed: 42,
  num_envs: 10,
  vf_coef: 0.5,
  ent_coef: 0.01,
  max_grad_norm: 0.5,
  delta_clip: 2.0,
  init_log_std: -1.0,
  norm_adv: true,
  obs_norm: true,
  value_scale: 32,
  heldout_episodes: 200,
  eval_episodes: 20,
});

type Check = [keyof PpoConfig, "int" | "float", number, number];

const CHECKS: Check[] = [
  ["encoder_out_dim", "int", 1, 1e6],
  ["horizon_steps", "int", 1, 1000],
  ["hidden_dim", "int", 1, 4096],
  ["episodes", "int", 1, 1e9],
  ["lr", "float", 0, 1],
  ["weight_decay", "float", 0, 1],
  ["gamma", "float", 0, 1],
  ["lam", "float", 0, 1],
  ["clip_ratio", "float", 0, 1],
  ["target_kl", "float", 0, 1e9],
  ["update_epochs", "int", 1, 1000],
  ["batch_size", "int", 1, 1e6],
  ["eval_interval", "int", 1, 1e9],
  ["save_interval", "int", 1, 1e9],
  ["seed", "int", 0, 2 ** 32 - 1],
  ["num_envs", "int", 1, 4096],
  ["vf_coef", "float", 0, 1e6],
  ["ent_coef", "float", 0, 1e6],
  ["max_grad_norm", "float", 0, 1e9],
  ["delta_clip", "float", 0, 1e6],
  ["init_log_std", "float", -20, 5],
  ["heldout_episodes", "int", 1, 1e6],
  ["eval_episodes", "int", 1, 1e6],
  ["value_scale", "float", 2 ** -20, 2 ** 20],
];

/**
 * Throws a RangeError naming the first key whose value is out of range.
 *
 * @example
 * ```ts
 * validatePpoConfig({ ...DEFAULT_PPO_CONFIG, lr: 3e-4 });
 * ```
 */
export function validatePpoConfig(cfg: PpoConfig): void {
  for (const [key, kind, lo, hi] of CHECKS) {
    const v = cfg[key];
    const ok = typeof v === "number" && Number.isFinite(v) && v >= lo && v <= hi &&
      (kind === "float" || Number.isInteger(v));
    if (!ok) {
      const what = kind === "int" ? "an integer" : "a number";
      throw new RangeError(
        `ppo.${key}: expected ${what} in [${lo}, ${hi}], got ${
          typeof v === "number" ? v : JSON.stringify(v)
        }`,
      );
    }
  }
  if (2 ** Math.round(Math.log2(cfg.value_scale)) !== cfg.value_scale) {
    throw new RangeError(`ppo.value_scale: must be a power of two, got ${cfg.value_scale}`);
  }
  if (cfg.lr <= 0) throw new RangeError(`ppo.lr: must be > 0, got ${cfg.lr}`);
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
  for (const key of ["norm_adv", "obs_norm"] as const) {
    if (typeof cfg[key] !== "boolean") {
      throw new RangeError(`ppo.${key}: expected true or false, got ${JSON.stringify(cfg[key])}`);
    }
  }
}
