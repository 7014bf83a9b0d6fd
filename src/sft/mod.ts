/**
 * SFT planners: the interface every waypoint planner implements, the expert (exact
 * route targets) and the built-in imperfect SFT planner.
 *
 * @module
 */

export * from "./planner.ts";
