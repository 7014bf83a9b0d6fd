/**
 * Neural-network pieces of the delta-waypoint trainer: flat parameter sets, linear and
 * ReLU forward/backward kernels, the actor-critic heads, the Gaussian policy, Adam and
 * gradient clipping.
 *
 * @example
 * ```ts
 * import { Rng } from "../math/mod.ts";
 * import { ActorCritic, Adam } from "./mod.ts";
 * const model = new ActorCritic({ inDim: 41, hidden: 64, horizon: 20, rng: new Rng(42) });
 * const adam = new Adam([model.delta, model.value], { lr: 3e-4, weightDecay: 1e-4 });
 * ```
 *
 * @module
 */

export * from "./params.ts";
export * from "./init.ts";
export * from "./layers.ts";
export * from "./gaussian.ts";
export * from "./heads.ts";
export * from "./adam.ts";
export * from "./state_dict.ts";
export * from "./obs_normalizer.ts";
