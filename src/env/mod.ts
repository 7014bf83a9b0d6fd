/**
 * The toy driving environment: configuration, seeded routes, the kinematic car, the
 * tracking controller, the single env (Gymnasium shape) and its vectorised form.
 *
 * @module
 */

export * from "./config.ts";
export * from "./route.ts";
export * from "./vehicle.ts";
export * from "./controller.ts";
export * from "./driving_env.ts";
export * from "./vec_env.ts";
export * from "./plan_metrics.ts";
export * from "./obs_scale.ts";
export * from "./mountain_car.ts";
export * from "./registry.ts";
export * from "./traffic/mod.ts";
export * from "./traffic/scenario_files.ts";
export * from "./traffic/scenario_write.ts";
export * from "./traffic/from_episode.ts";
