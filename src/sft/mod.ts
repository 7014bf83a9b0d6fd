/**
 * SFT planners: the interface every waypoint planner implements, the expert (exact
 * route targets), the built-in imperfect SFT planner, the behaviour-cloned MLP planner,
 * ADE/FDE against the expert, behaviour cloning itself, the planner file schema, and the
 * one composition of a plan with the delta head (`sft + clip(delta)`).
 *
 * @module
 */

export * from "./planner.ts";
export * from "./mlp_planner.ts";
export { planErrors } from "../env/mod.ts";
export * from "./compose_plan.ts";
export * from "./planner_file.ts";
export * from "./config.ts";
export * from "./behaviour_cloning.ts";
export * from "./planner_spec.ts";
export * from "./policy_onnx.ts";
