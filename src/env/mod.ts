/**
 * The toy driving environment: configuration, seeded routes, the kinematic car, the
 * tracking controller, the single env (Gymnasium shape) and its vectorised form.
 *
 * @module
 */

export * from "./contract.ts";
export * from "./episode_statistics.ts";
export * from "./definition.ts";
export * from "./env_pool.ts";
export * from "./driving/config.ts";
export * from "./driving/route.ts";
export * from "./driving/vehicle.ts";
export * from "./driving/controller.ts";
export * from "./driving/planners.ts";
export * from "./driving/driving_env.ts";
export * from "./driving/vec_env.ts";
export * from "./driving/plan_metrics.ts";
export * from "./driving/obs_scale.ts";
export * from "./mountain_car/mountain_car.ts";
export * from "./mountain_car/definition.ts";
export * from "./registry.ts";
export * from "./gym/mod.ts";
export * from "./driving/definition.ts";
export * from "./traffic/definition.ts";
export * from "./traffic/mod.ts";
export * from "./traffic/scenario_files.ts";
export * from "./traffic/scenario_write.ts";
export * from "./traffic/from_episode.ts";
export * from "./top_down.ts";
