/**
 * The fixed input scale of the PPO heads, derived from the environment configuration
 * alone: the observation is raw metres (speed, then H targets up to H·spacing ahead), so
 * net.0 of both heads sees each feature divided by a power of two near its typical size.
 *
 * @module
 */

import type { EnvConfig } from "../env/mod.ts";

/**
 * Per-feature divisors of the observation [speed, x1, y1, ..., xH, yH]: the power of two
 * nearest `max_speed` for the speed, and for target k (1-based) the power of two nearest
 * its distance along the route, k · `waypoint_spacing`, for both coordinates. Powers of
 * two make the scale foldable into net.0 bit for bit (see `foldInputScale`).
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "../env/mod.ts";
 * const scale = observationScale(DEFAULT_ENV_CONFIG); // [16, 4, 4, 8, 8, 16, 16, ...]
 * ```
 */
export function observationScale(env: EnvConfig): Float64Array {
  const h = env.horizon_steps;
  const scale = new Float64Array(1 + 2 * h);
  scale[0] = nearestPowerOfTwo(env.max_speed);
  for (let k = 1; k <= h; k++) {
    const s = nearestPowerOfTwo(k * env.waypoint_spacing);
    scale[2 * k - 1] = s;
    scale[2 * k] = s;
  }
  return scale;
}

function nearestPowerOfTwo(x: number): number {
  return 2 ** Math.min(1000, Math.max(-1000, Math.round(Math.log2(x))));
}
