/**
 * The route path as an observation row shows it: the polyline from the car (the origin of
 * the car frame) through the H route targets, its first and last segments extended past
 * their ends. A point's arc length along it and signed lateral offset from it are what
 * the traffic expert plans with and what the path block of the observation holds.
 *
 * @module
 */

/**
 * Numbers per neighbour slot of the traffic observation's path block: the vehicle's arc
 * length along the path and its signed offset from it (m).
 */
export const PATH_FEATURES = 2;

/**
 * Writes the arc length of the car (0) and of each of the H targets of the observation
 * row at `row` (targets at `obs[row + 1 ..]`, [x1, y1, ..., xH, yH]) to `arc` (H + 1).
 *
 * @example
 * ```ts
 * const arc = new Float64Array(3);
 * pathArcs(new Float64Array([8, 3, 4, 6, 8]), { row: 0, horizon: 2, arc }); // [0, 5, 10]
 * ```
 */
export function pathArcs(
  obs: Float64Array,
  o: { row: number; horizon: number; arc: Float64Array },
): void {
  const { row, horizon, arc } = o;
  arc[0] = 0;
  let px = 0, py = 0;
  for (let j = 0; j < horizon; j++) {
    const x = obs[row + 1 + 2 * j], y = obs[row + 2 + 2 * j];
    arc[j + 1] = arc[j] + Math.sqrt((x - px) * (x - px) + (y - py) * (y - py));
    px = x;
    py = y;
  }
}

/**
 * Projects the car-frame point (x, y) on the path of the row at `row` (its arcs from
 * {@linkcode pathArcs}): `out` = [arc length, lateral offset (left +), unit tangent x,
 * unit tangent y] of the nearest point of the path. Targets all at the car: the car's
 * own axes.
 *
 * @example
 * ```ts
 * const obs = new Float64Array([8, 5, 0, 10, 0]), arc = new Float64Array(3);
 * pathArcs(obs, { row: 0, horizon: 2, arc });
 * const out = new Float64Array(4);
 * projectOnPath(obs, { row: 0, horizon: 2, arc, x: 20, y: -2, out }); // [20, -2, 1, 0]
 * ```
 */
export function projectOnPath(
  obs: Float64Array,
  o: { row: number; horizon: number; arc: Float64Array; x: number; y: number; out: Float64Array },
): void {
  const { row, horizon: h, arc, out } = o;
  // the first and last segments of non-zero length are extended past their ends
  let first = -1, last = -1, px = 0, py = 0;
  for (let j = 0; j < h; j++) {
    const qx = obs[row + 1 + 2 * j], qy = obs[row + 2 + 2 * j];
    if ((qx - px) * (qx - px) + (qy - py) * (qy - py) > 1e-12) {
      if (first < 0) first = j;
      last = j;
    }
    px = qx;
    py = qy;
  }
  if (first < 0) {
    out[0] = o.x;
    out[1] = o.y;
    out[2] = 1;
    out[3] = 0;
    return;
  }
  let best = Infinity;
  px = first === 0 ? 0 : obs[row + 2 * first - 1];
  py = first === 0 ? 0 : obs[row + 2 * first];
  for (let j = first; j <= last; j++) {
    const qx = obs[row + 1 + 2 * j], qy = obs[row + 2 + 2 * j];
    const ex = qx - px, ey = qy - py, len2 = ex * ex + ey * ey;
    if (len2 > 1e-12) {
      let t = ((o.x - px) * ex + (o.y - py) * ey) / len2;
      if (t < 0 && j > first) t = 0;
      if (t > 1 && j < last) t = 1;
      const dx = o.x - px - t * ex, dy = o.y - py - t * ey;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) {
        best = d2;
        const side = ex * (o.y - py) - ey * (o.x - px), len = Math.sqrt(len2);
        out[0] = arc[j] + t * len;
        out[1] = side >= 0 ? Math.sqrt(d2) : -Math.sqrt(d2);
        out[2] = ex / len;
        out[3] = ey / len;
      }
    }
    px = qx;
    py = qy;
  }
}
