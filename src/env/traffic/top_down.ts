/**
 * The top-down view of the traffic episodes: the driving view (route corridor, goal, the
 * ego's box, its plans) with the other vehicles' boxes, and a collision marked where the
 * ego hit one.
 *
 * @module
 */

import type { Episodes } from "../driving/_episodes.ts";
import { routeView } from "../driving/top_down.ts";
import type { SceneBody, ScenePoint, TopDownView } from "../top_down.ts";
import type { TrafficWorld } from "./_world.ts";

/**
 * The view of traffic episodes: `episodes` (route and ego), the other vehicles of
 * `world`, the ego's box (`ego`, m) and the step's collisions (`collided`, per env).
 *
 * @example
 * ```ts
 * import { TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * import { Traffic } from "./traffic_env.ts";
 * const env = new Traffic(TRAFFIC_ENV_DEFAULTS, 1);
 * env.reset([3]);
 * env.view.bodies(0).length > 1; // the ego, then the other vehicles
 * ```
 */
export function trafficView(o: {
  episodes: Episodes;
  world: TrafficWorld;
  collided: Uint8Array;
  ego: { length: number; width: number };
}): TopDownView {
  const { world, collided } = o;
  const route = routeView(o.episodes, o.ego);
  return {
    ...route,
    legend: { ...route.legend, agent: "ego", others: "other vehicles" },
    bodies(i): SceneBody[] {
      const out = route.bodies(i), base = i * world.cap;
      const actors = world.actors[i];
      for (let j = 0; j < world.count[i]; j++) {
        const k = base + j;
        out.push({
          x: world.x[k],
          y: world.y[k],
          yaw: world.yaw[k],
          length: actors[j].length,
          width: actors[j].width,
        });
      }
      return out;
    },
    ending(i): ScenePoint | null {
      if (collided[i] !== 1) return route.ending(i);
      const ego = route.bodies(i)[0];
      return { x: ego.x, y: ego.y, label: "collision", kind: "bad" };
    },
  };
}
