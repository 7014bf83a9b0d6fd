/**
 * The `ppo` keys of the warm start before PPO (`src/run/warm_start.ts`): DAgger rounds
 * fitting the delta head to the env's expert planner.
 *
 * @module
 */

import type { ConfigTable } from "../config_table.ts";

/** The warm start's keys of the PPO configuration. */
export interface WarmStartConfig {
  /** DAgger rounds fitting the delta to the env's expert planner before PPO (0: none). */
  warm_start_rounds: number;
  /** Episodes each warm-start round drives. */
  warm_start_episodes: number;
  /** Passes over the gathered steps after each warm-start round. */
  warm_start_epochs: number;
  /**
   * PPO episodes after a warm start in which only the value head learns (the delta head
   * is held while the value head learns the warm-started policy's values).
   */
  warm_start_value_episodes: number;
  /**
   * Weight of the imitation term kept in the PPO loss after a warm start: the squared
   * error of the mean against the expert's correction on the warm start's steps (0: none).
   */
  warm_start_bc_coef: number;
}

/** One row per key of {@linkcode WarmStartConfig}, part of the PPO table. */
export const WARM_START_CONFIG_TABLE: ConfigTable<WarmStartConfig> = {
  warm_start_rounds: {
    type: "int",
    range: [0, 1000],
    default: 0,
    help: "DAgger rounds fitting the delta to the env's expert planner before PPO (0: none)",
    flag: "warm-start-rounds",
  },
  warm_start_episodes: {
    type: "int",
    range: [1, 1_000_000],
    default: 400,
    help: "episodes each warm-start round drives",
    flag: "warm-start-episodes",
  },
  warm_start_epochs: {
    type: "int",
    range: [1, 1000],
    default: 2,
    help: "passes over the gathered steps after each warm-start round",
    flag: "warm-start-epochs",
  },
  warm_start_value_episodes: {
    type: "int",
    range: [0, 1e9],
    default: 0,
    help: "PPO episodes after a warm start in which only the value head learns",
    flag: "warm-start-value-episodes",
  },
  warm_start_bc_coef: {
    type: "float",
    range: [0, 1e6],
    default: 0,
    help: "weight of the imitation term on the warm start's steps in the PPO loss (0: none)",
    flag: "warm-start-bc-coef",
  },
};
