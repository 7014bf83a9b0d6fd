/**
 * Oriented boxes: overlap by the separating axis theorem, and the gap between two
 * boxes. A box is five numbers `[cx, cy, yaw, length, width]` (centre, heading,
 * size along and across the heading; metres, radians).
 *
 * @module
 */

/** Numbers per box: cx, cy, yaw, length, width. */
export const BOX_SIZE = 5;

/**
 * Whether boxes `a` and `b` (`[cx, cy, yaw, length, width]`) overlap: no separating axis
 * among the four edge normals. Boxes that only touch do not overlap.
 *
 * @example
 * ```ts
 * boxesOverlap([0, 0, 0, 4, 2], [3.9, 0, 0, 4, 2]); // true
 * boxesOverlap([0, 0, 0, 4, 2], [4.1, 0, 0, 4, 2]); // false
 * ```
 */
export function boxesOverlap(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const ca = Math.cos(a[2]), sa = Math.sin(a[2]);
  const cb = Math.cos(b[2]), sb = Math.sin(b[2]);
  const ahl = 0.5 * a[3], ahw = 0.5 * a[4], bhl = 0.5 * b[3], bhw = 0.5 * b[4];
  // |cos| and |sin| of the angle between the boxes' axes
  const c = Math.abs(ca * cb + sa * sb), s = Math.abs(sa * cb - ca * sb);
  // axes of a: (ca, sa) and (-sa, ca)
  if (Math.abs(dx * ca + dy * sa) >= ahl + bhl * c + bhw * s) return false;
  if (Math.abs(-dx * sa + dy * ca) >= ahw + bhl * s + bhw * c) return false;
  // axes of b
  if (Math.abs(dx * cb + dy * sb) >= bhl + ahl * c + ahw * s) return false;
  if (Math.abs(-dx * sb + dy * cb) >= bhw + ahl * s + ahw * c) return false;
  return true;
}

/**
 * Writes the four corners of box `box` to `out` as [x0, y0, ..., x3, y3], in order
 * around the box.
 *
 * @example
 * ```ts
 * const corners = new Float64Array(8);
 * boxCorners([0, 0, 0, 4, 2], corners); // [2, 1, -2, 1, -2, -1, 2, -1]
 * ```
 */
export function boxCorners(box: ArrayLike<number>, out: Float64Array): void {
  const c = Math.cos(box[2]), s = Math.sin(box[2]);
  const hl = 0.5 * box[3], hw = 0.5 * box[4];
  const signs = [1, 1, -1, 1, -1, -1, 1, -1];
  for (let k = 0; k < 4; k++) {
    const u = signs[2 * k] * hl, v = signs[2 * k + 1] * hw;
    out[2 * k] = box[0] + c * u - s * v;
    out[2 * k + 1] = box[1] + s * u + c * v;
  }
}

const cornersA = new Float64Array(8);
const cornersB = new Float64Array(8);

/**
 * The gap between boxes `a` and `b`: the shortest distance between them (m), 0 when
 * they overlap. For two disjoint convex polygons the shortest distance is between a
 * corner of one and an edge of the other.
 *
 * @example
 * ```ts
 * boxGap([0, 0, 0, 4, 2], [10, 0, 0, 4, 2]); // 6
 * ```
 */
export function boxGap(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (boxesOverlap(a, b)) return 0;
  boxCorners(a, cornersA);
  boxCorners(b, cornersB);
  return Math.sqrt(
    Math.min(cornerEdgeDist2(cornersA, cornersB), cornerEdgeDist2(cornersB, cornersA)),
  );
}

// smallest squared distance from a corner of p to an edge of q
function cornerEdgeDist2(p: Float64Array, q: Float64Array): number {
  let best = Infinity;
  for (let e = 0; e < 4; e++) {
    const ax = q[2 * e], ay = q[2 * e + 1];
    const f = (e + 1) & 3;
    const ex = q[2 * f] - ax, ey = q[2 * f + 1] - ay;
    const len2 = ex * ex + ey * ey;
    for (let k = 0; k < 4; k++) {
      const px = p[2 * k] - ax, py = p[2 * k + 1] - ay;
      let t = len2 > 0 ? (px * ex + py * ey) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = px - t * ex, dy = py - t * ey;
      const d2 = dx * dx + dy * dy;
      if (d2 < best) best = d2;
    }
  }
  return best;
}
