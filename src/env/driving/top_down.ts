/**
 * The top-down view of the driving episodes: the route's corridor and centreline, the
 * goal, the car as a box, a plan (car frame) drawn in the world from the car's pose, and
 * how the episode ended (goal reached, off route). The traffic env adds its vehicles.
 *
 * @module
 */

import type { SceneBody, ScenePoint, TopDownView } from "../top_down.ts";
import type { Episodes } from "./_episodes.ts";
import { VEHICLE_STATE_SIZE } from "./vehicle.ts";

/** The car's box as drawn (m): the driving env itself has no size for it. */
const CAR_LENGTH = 4.5;
const CAR_WIDTH = 1.9;

/**
 * The view of `episodes` (the car drawn `car.length` by `car.width` m).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * import { Driving } from "./vec_env.ts";
 * const env = new Driving(DEFAULT_ENV_CONFIG, 1);
 * env.reset([7]);
 * env.view.background(0).points[0].label; // "goal"
 * ```
 */
export function routeView(
  episodes: Episodes,
  car: { length: number; width: number } = { length: CAR_LENGTH, width: CAR_WIDTH },
): TopDownView {
  const cfg = episodes.cfg, h = episodes.horizon;
  const pose = (i: number) => episodes.vehicle.subarray(i * VEHICLE_STATE_SIZE);
  return {
    unit: "m",
    secondsPerStep: cfg.dt,
    resolution: 0.01,
    legend: { lines: "route corridor", points: "goal", agent: "car", action: "plan" },
    background(i) {
      const route = episodes.routes[i], n = route.numPoints;
      const points: number[] = [];
      for (let k = 0; k < n; k++) points.push(route.xs[k], route.ys[k]);
      const goal = route.numTargets - 1;
      return {
        lines: [{ points, width: 2 * cfg.corridor_half_width }],
        points: [{ x: route.targetX(goal), y: route.targetY(goal), label: "goal" }],
      };
    },
    bodies(i): SceneBody[] {
      const [x, y, yaw] = pose(i);
      return [{ x, y, yaw, length: car.length, width: car.width }];
    },
    actionPath(i, actions) {
      const [x, y, yaw] = pose(i);
      const c = Math.cos(yaw), s = Math.sin(yaw), at = i * 2 * h;
      const path = [x, y];
      for (let j = 0; j < h; j++) {
        const px = actions[at + 2 * j], py = actions[at + 2 * j + 1];
        path.push(x + c * px - s * py, y + s * px + c * py);
      }
      return path;
    },
    ending(i): ScenePoint | null {
      const [x, y] = pose(i);
      if (episodes.success[i] === 1) return { x, y, label: "goal reached", kind: "good" };
      if (episodes.offRoute[i] === 1) return { x, y, label: "off route", kind: "bad" };
      return null;
    },
  };
}
