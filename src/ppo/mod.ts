/**
 * PPO and nothing else: its configuration, rollouts of whole episodes (with the running
 * observation normaliser and reward scaling), the rollout buffer (GAE per episode,
 * advantage normalisation), the update's epochs over shuffled minibatches, the loss of
 * one minibatch with its backward and optimiser step, and the trainer that runs an
 * iteration (rollout, finish, update) and owns the model, Adam, the RNG streams and the
 * episode counter.
 *
 * @module
 */

export * from "./config.ts";
export * from "./generic_defaults.ts";
export * from "./gae.ts";
export * from "./loss.ts";
export * from "./imitation.ts";
export * from "./rollout_buffer.ts";
export * from "./reward_scaler.ts";
export * from "./rollout.ts";
export * from "./correlated_noise.ts";
export * from "./update.ts";
export * from "./trainer.ts";
