/**
 * The policy leaves the tool: a trained checkpoint (with its base planner and its
 * running observation normaliser) as an ONNX graph, from the observation to the plan
 * the car drives. The Python loader of the same files is `python/delta_waypoint_policy.py`.
 *
 * @module
 */

export * from "./obs_rms.ts";
export * from "./policy_graph.ts";
