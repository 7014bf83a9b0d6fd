/**
 * Reinforcement learning: PPO configuration, GAE, the minibatch update, the
 * training loop and deterministic evaluation; the trainer checkpoint schema and
 * resuming from it; the run's `config.json`; the closing held-out evaluation and
 * `train_metrics.json`; statistics across seeds.
 *
 * @module
 */

export * from "../ppo/mod.ts";
export * from "./run_log.ts";
export * from "./loop.ts";
export * from "./checkpoint.ts";
export { observationScale } from "../env/mod.ts";
export * from "./run_config.ts";
export * from "./resume.ts";
export * from "./aggregate.ts";
export * from "./heldout.ts";
export * from "./train_metrics.ts";
export * from "./env_defaults.ts";
export * from "./deferred_checkpoint.ts";
export * from "./parallel_eval.ts";
