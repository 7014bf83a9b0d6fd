/**
 * Base planners of any env: the waypoint planner interface (re-exported from the env
 * layer), the generic base-planner interface, and the zero planner that makes PPO plain
 * PPO.
 *
 * @module
 */

import type { BasePlanner, WaypointPlanner } from "../env/mod.ts";

export type { BasePlanner, WaypointPlanner } from "../env/mod.ts";

/**
 * The action length of a base planner: its `actionDim`, or 2H for a waypoint planner
 * that declares only its horizon.
 *
 * @example
 * ```ts
 * plannerActionDim(new ZeroPlanner({ obsDim: 2, actionDim: 1 })); // 1
 * ```
 */
export function plannerActionDim(p: BasePlanner | WaypointPlanner): number {
  return "actionDim" in p && typeof p.actionDim === "number"
    ? p.actionDim
    : 2 * (p as WaypointPlanner).horizon;
}

/**
 * The all-zero action: refining it with PPO is plain PPO (the action is the clipped delta).
 *
 * @example
 * ```ts
 * const zero = new ZeroPlanner({ obsDim: 2, actionDim: 1 });
 * const out = new Float64Array(3);
 * zero.plan(new Float64Array(6), 3, out); // out = [0, 0, 0]
 * ```
 */
export class ZeroPlanner implements BasePlanner {
  readonly obsDim: number;
  readonly actionDim: number;

  /** Sizes from the env it plans for. */
  constructor(dims: { obsDim: number; actionDim: number }) {
    this.obsDim = dims.obsDim;
    this.actionDim = dims.actionDim;
  }

  plan(_obs: Float64Array, rows: number, out: Float64Array): void {
    out.fill(0, 0, rows * this.actionDim);
  }
}
