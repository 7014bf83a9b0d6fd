/**
 * The traffic env: scenarios (seeded or from files), other vehicles that replay or
 * follow IDM, oriented-box collisions, the K-nearest observation, and its planners.
 *
 * @module
 */

export * from "./scenario.ts";
export * from "./config.ts";
export * from "./geometry.ts";
export * from "./actors.ts";
export * from "./generate.ts";
export * from "./planners.ts";
export * from "./traffic_env.ts";
export { NEIGHBOR_FEATURES } from "./_world.ts";
export { PATH_FEATURES } from "./_path_frame.ts";
