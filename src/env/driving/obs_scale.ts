/**
 * The fixed input scale of the PPO heads, derived from the environment configuration
 * alone: the observation is raw metres (speed, then H targets up to H·spacing ahead), so
 * net.0 of both heads sees each feature divided by a power of two near its typical size.
 *
 * @module
 */

import type { EnvConfig } from "./config.ts";

/**
 * Per-feature divisors of the observation [speed, x1, y1, ..., xH, yH]: the power of two
 * nearest `max_speed` for the speed; for target k (1-based) the power of two nearest its
 * distance along the route, k · `waypoint_spacing`, for x, and nearest a quarter of it
 * for y (lateral offsets run at about a third of the distance ahead: std 1.5·k m against
 * 4·k m with the defaults; a quarter closed more of the return gap than a half or an
 * eighth). Powers of two make the scale foldable into net.0 bit for bit (see
 * `scaleByFactors`).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../mod.ts";
 * const scale = observationScale(DEFAULT_ENV_CONFIG); // [16, 4, 1, 8, 2, 16, 4, ...]
 * ```
 */
export function observationScale(env: EnvConfig): Float64Array {
  const h = env.horizon_steps;
  const scale = new Float64Array(1 + 2 * h);
  scale[0] = nearestPowerOfTwo(env.max_speed);
  for (let k = 1; k <= h; k++) {
    scale[2 * k - 1] = nearestPowerOfTwo(k * env.waypoint_spacing);
    scale[2 * k] = nearestPowerOfTwo(k * env.waypoint_spacing / 4);
  }
  return scale;
}

function nearestPowerOfTwo(x: number): number {
  return 2 ** Math.min(1000, Math.max(-1000, Math.round(Math.log2(x))));
}
