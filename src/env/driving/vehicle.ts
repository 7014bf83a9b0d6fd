/**
 * Kinematic bicycle: the car's state is four numbers (x, y, heading, speed) in a flat
 * array, advanced by one fixed time step with bounded steering and acceleration.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";

/**
 * Values per car in a state array: x (m), y (m), heading (rad, from +x, left positive), speed (m/s).
 *
 * @example
 * ```ts
 * const cars = new Float64Array(16 * VEHICLE_STATE_SIZE); // car i at offset 4 * i
 * ```
 */
export const VEHICLE_STATE_SIZE = 4;

/**
 * Advances the car stored at `state[offset .. offset + 4)` by `cfg.dt` seconds and
 * returns the longitudinal acceleration actually applied (m/s^2; it differs from
 * `accel` when a bound or standstill clips it). Steering and acceleration are
 * clipped to `max_steer`, `[-max_decel, max_accel]`; speed stays in `[0, max_speed]`
 * (the car does not reverse).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const car = new Float64Array([0, 0, 0, 5]); // at the origin, heading +x, 5 m/s
 * stepVehicle(car, 0, 0.1, 1, DEFAULT_ENV_CONFIG);
 * ```
 */
export function stepVehicle(
  state: Float64Array,
  offset: number,
  steer: number,
  accel: number,
  cfg: EnvConfig,
): number {
  const dt = cfg.dt;
  const maxSteer = cfg.max_steer;
  const delta = steer > maxSteer ? maxSteer : steer < -maxSteer ? -maxSteer : steer;
  const a = accel > cfg.max_accel ? cfg.max_accel : accel < -cfg.max_decel ? -cfg.max_decel : accel;
  const speed = state[offset + 3];
  let newSpeed = speed + a * dt;
  newSpeed = newSpeed < 0 ? 0 : newSpeed > cfg.max_speed ? cfg.max_speed : newSpeed;
  // Midpoint rule: mean speed over the step, heading half-way through the turn.
  const meanSpeed = 0.5 * (speed + newSpeed);
  const yawRate = meanSpeed * Math.tan(delta) / cfg.wheelbase;
  const heading = state[offset + 2];
  const midHeading = heading + 0.5 * yawRate * dt;
  state[offset] += meanSpeed * Math.cos(midHeading) * dt;
  state[offset + 1] += meanSpeed * Math.sin(midHeading) * dt;
  let newHeading = heading + yawRate * dt;
  if (newHeading > Math.PI) newHeading -= 2 * Math.PI;
  else if (newHeading < -Math.PI) newHeading += 2 * Math.PI;
  state[offset + 2] = newHeading;
  state[offset + 3] = newSpeed;
  return (newSpeed - speed) / dt;
}
