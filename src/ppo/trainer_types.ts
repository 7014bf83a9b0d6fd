/**
 * The shapes around the PPO `Trainer` (`trainer.ts`): its options, what one iteration produced, and the
 * progress a checkpoint holds besides weights and Adam state.
 *
 * @module
 */

import type { MeanStdState } from "../math/mod.ts";
import type { VecEnv } from "../env/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import type { EpisodeOutcomes } from "./rollout.ts";
import type { UpdateStats } from "./update.ts";
import type { PpoConfig } from "./config.ts";

/** What one rollout + update produced. */
export interface IterationResult extends EpisodeOutcomes {
  /** First episode index of the rollout. */
  firstEpisode: number;
  /** Whole episodes in the rollout. */
  episodes: number;
  /** Env steps of those episodes. */
  envSteps: number;
  /** Rows of the rollout buffer the update learned from (every one of those steps). */
  rows: number;
  /** The PPO update on the rollout. */
  update: UpdateStats;
  /** The learning rate of that update (`lr_schedule`). */
  learningRate: number;
  /** Norms of the clipped mean delta over every step of the rollout (m). */
  deltaNorm: { mean: number; max: number; std: number };
}

/** Everything a checkpoint must hold of the trainer besides weights and Adam state. */
export interface TrainerProgress {
  /** Training episodes done. */
  episode: number;
  /** State (four uint32 words) of the policy-sampling and the minibatch-shuffling RNG. */
  rng: { policy: number[]; shuffle: number[] };
  /** Env steps of the run so far (all its processes). */
  envSteps: number;
  /** The observation normaliser's statistics (`norm_obs`), else null. */
  obsRms: MeanStdState | null;
  /** The return statistics of the reward scaling (`norm_reward`), else null. */
  retRms: MeanStdState | null;
}

/** Options of the `Trainer`. */
export interface TrainerOptions {
  /** The env's main config section (what checkpoints record as `env_cfg`). */
  env: object;
  /** PPO hyperparameters; `encoder_out_dim` must equal the env's `obsDim`. */
  ppo: PpoConfig;
  /** The frozen base planner whose actions the delta corrects (SFT, or zero for plain PPO). */
  planner: BasePlanner | WaypointPlanner;
  /**
   * Builds the vector env; the trainer takes observation and action sizes, action shape,
   * episode cap and observation scale from it.
   */
  makeEnv: (numEnvs: number) => VecEnv;
  /**
   * Builds the vector env the training episodes run in when it is not `makeEnv`'s (a
   * scenario set), with the same sizes; evaluation always uses `makeEnv`.
   */
  makeTrainEnv?: (numEnvs: number) => VecEnv;
}
