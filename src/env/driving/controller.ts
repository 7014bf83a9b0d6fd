/**
 * The tracking controller that turns a waypoint plan into one step of steering and
 * throttle: pure pursuit on the plan polyline for steering, a proportional speed loop
 * for throttle. It is the only way a plan (and so the delta) moves the car.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";

/**
 * Computes `out[0]` = steering angle (rad, left positive) and `out[1]` = acceleration
 * command (m/s^2) for following the plan `plan[offset .. offset + 2 * horizon)`
 * = [x1, y1, ..., xH, yH] (car frame: x forward, y left, meters) at `speed` (m/s).
 *
 * - Steering: pure pursuit towards the point at arc length
 *   `lookahead_base + lookahead_gain * speed` along the polyline
 *   (car, p1, ..., pH), or towards pH when the plan is shorter.
 * - Target speed: `cruise_speed`, lowered so that `speed^2 * curvature` stays under
 *   `max_lateral_accel` for the curvature needed to reach the plan points within a
 *   braking-distance preview, and lowered to `sqrt(max_decel * reach)` where `reach`
 *   is how far forward the plan goes (a plan at or behind the car stops it).
 * - Throttle: `speed_gain * (target speed - speed)`, full brake when the target speed
 *   is 0; the vehicle clips it.
 *
 * Returns false (leaving `out` untouched) when the plan holds a non-finite number.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const plan = new Float64Array([4, 0, 8, 0.5, 12, 1.5]); // H = 3, curving left
 * const cmd = new Float64Array(2);
 * trackPlan(plan, 0, 3, 6, DEFAULT_ENV_CONFIG, cmd); // cmd[0] > 0: steer left
 * ```
 */
export function trackPlan(
  plan: Float64Array,
  offset: number,
  horizon: number,
  speed: number,
  cfg: EnvConfig,
  out: Float64Array,
): boolean {
  const lookahead = cfg.lookahead_base + cfg.lookahead_gain * speed;
  const lookahead2 = lookahead * lookahead;
  const preview = 2 * lookahead + speed * speed / (2 * cfg.max_decel);
  let prevX = 0, prevY = 0;
  let arc = 0;
  let found = false;
  let aimX = 0, aimY = 0;
  let reach = 0;
  let maxCurvature = 0;
  for (let j = 0; j < horizon; j++) {
    const qx = plan[offset + 2 * j];
    const qy = plan[offset + 2 * j + 1];
    if (!(Math.abs(qx) < Infinity && Math.abs(qy) < Infinity)) return false;
    if (qx > reach) reach = qx;
    const ex = qx - prevX, ey = qy - prevY;
    const seg = Math.sqrt(ex * ex + ey * ey);
    if (!found && arc + seg >= lookahead) {
      const t = (lookahead - arc) / seg;
      aimX = prevX + t * ex;
      aimY = prevY + t * ey;
      found = true;
    }
    arc += seg;
    const d2 = qx * qx + qy * qy;
    if (arc <= preview && d2 >= lookahead2) {
      // Curvature of the arc from the car (tangent to its heading) through this point.
      const k = 2 * Math.abs(qy) / d2;
      if (k > maxCurvature) maxCurvature = k;
    }
    prevX = qx;
    prevY = qy;
  }
  if (!found) {
    aimX = prevX;
    aimY = prevY;
  }
  const aim2 = aimX * aimX + aimY * aimY;
  const curvature = aim2 > 1e-12 ? 2 * aimY / aim2 : 0;
  const absCurvature = Math.abs(curvature);
  if (absCurvature > maxCurvature) maxCurvature = absCurvature;
  let targetSpeed = cfg.cruise_speed;
  const curveSpeed = Math.sqrt(cfg.max_lateral_accel / Math.max(maxCurvature, 1e-9));
  if (curveSpeed < targetSpeed) targetSpeed = curveSpeed;
  const stopSpeed = Math.sqrt(cfg.max_decel * reach);
  if (stopSpeed < targetSpeed) targetSpeed = stopSpeed;
  out[0] = Math.atan(cfg.wheelbase * curvature);
  // A plan that ends at the car means stop: brake fully rather than creep forever.
  out[1] = targetSpeed > 0 ? cfg.speed_gain * (targetSpeed - speed) : -cfg.max_decel;
  return true;
}
