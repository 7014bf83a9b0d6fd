/**
 * Reinforcement learning: PPO configuration, GAE, the minibatch update, the
 * training loop and deterministic evaluation.
 *
 * @module
 */

export * from "./config.ts";
export * from "./gae.ts";
export * from "./ppo_update.ts";
export * from "./trainer.ts";
export * from "./loop.ts";
export * from "./obs_scale.ts";
export * from "./aggregate.ts";
