/**
 * Seeded routes: a centerline of straights, arcs and S-bends sampled every meter or
 * so, placed inside the square world, with targets every `waypoint_spacing` meters.
 *
 * @module
 */

import { Rng } from "../../math/mod.ts";
import type { EnvConfig } from "./config.ts";

/** Longest step between centerline samples (m); the real step divides the spacing evenly. */
const MAX_RESOLUTION = 1;
/** Shapes that fail to fit the world are redrawn this many times before truncating one. */
const SHAPE_ATTEMPTS = 8;
/** Random rotations tried per shape to fit it in the world. */
const ROTATION_ATTEMPTS = 16;

/** Fraction of a spacing a polyline may fall short of a whole target and still have it. */
const POLYLINE_TARGET_SLACK = 0.02;

/**
 * One route: centerline points `xs`, `ys` (world frame, meters) with the cumulative
 * arc length `s`; point 0 is the start, target k (0-based) is point
 * `(k + 1) * pointsPerTarget`, the last target is the goal.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const route = new Route(DEFAULT_ENV_CONFIG);
 * route.generate(7);
 * const [gx, gy] = [route.targetX(route.numTargets - 1), route.targetY(route.numTargets - 1)];
 * ```
 */
export class Route {
  /** Centerline x (m); valid up to `numPoints` (reallocated by a longer `setPolyline`). */
  xs: Float64Array;
  /** Centerline y (m); valid up to `numPoints`. */
  ys: Float64Array;
  /** Arc length at each point (m). */
  s: Float64Array;
  /** Centerline samples per waypoint spacing. */
  readonly pointsPerTarget: number;
  /** Distance between centerline samples (m). */
  readonly resolution: number;
  /** Valid points of the current route. */
  numPoints = 0;
  /** Targets of the current route (the last is the goal). */
  numTargets = 0;
  /** Heading of the route at its start (rad). */
  startHeading = 0;
  /**
   * Whether the route was drawn inside the world ({@linkcode Route.generate}), so that
   * leaving the world ends the episode; false for a polyline given with
   * {@linkcode Route.setPolyline} (a scenario file's route: any coordinates).
   */
  inWorld = true;
  /** Closest segment found by the last {@linkcode Route.project} call. */
  projIndex = 0;
  /** Arc length of the closest point found by the last {@linkcode Route.project} call (m). */
  projS = 0;

  readonly #cfg: EnvConfig;
  readonly #maxTargets: number;
  readonly #rng = new Rng(0);
  // The seed whose route the buffers hold (only generate writes them), or null.
  #drawn: number | null = null;

  /** Allocates the buffers for the longest route `cfg` allows; call {@linkcode Route.generate} next. */
  constructor(cfg: EnvConfig) {
    this.#cfg = cfg;
    this.pointsPerTarget = Math.max(1, Math.ceil(cfg.waypoint_spacing / MAX_RESOLUTION - 1e-9));
    this.resolution = cfg.waypoint_spacing / this.pointsPerTarget;
    this.#maxTargets = Math.max(1, Math.round(cfg.route_length / cfg.waypoint_spacing));
    const capacity = this.#maxTargets * this.pointsPerTarget + 1;
    this.xs = new Float64Array(capacity);
    this.ys = new Float64Array(capacity);
    this.s = new Float64Array(capacity);
  }

  /** Length of the current route (m). */
  get length(): number {
    return this.s[this.numPoints - 1];
  }

  /** World x of target `k` (0-based). */
  targetX(k: number): number {
    return this.xs[(k + 1) * this.pointsPerTarget];
  }

  /** World y of target `k` (0-based). */
  targetY(k: number): number {
    return this.ys[(k + 1) * this.pointsPerTarget];
  }

  /** Arc length of target `k` (0-based). */
  targetS(k: number): number {
    return this.s[(k + 1) * this.pointsPerTarget];
  }

  /**
   * Draws the route of episode `seed`: equal seeds give equal routes. The shape is
   * redrawn, rotated and shifted until it lies at least `corridor_half_width` inside
   * the world; a shape too big for any tried rotation is cut after its last fitting target.
   * The route held already (the evaluations restart the same seeds) is kept as it is.
   */
  generate(seed: number): void {
    if (seed === this.#drawn) return;
    this.#drawn = null; // until the buffers hold `seed`'s route
    this.#generate(seed);
    this.#drawn = seed;
  }

  #generate(seed: number): void {
    const cfg = this.#cfg;
    const rng = this.#rng;
    rng.seed(seed);
    this.inWorld = true;
    const margin = cfg.corridor_half_width;
    const room = cfg.world_size - 2 * margin;
    const n = this.#maxTargets * this.pointsPerTarget + 1;
    this.numPoints = n;
    this.numTargets = this.#maxTargets;
    let bestAngle = 0;
    let bestExtent = Infinity;
    for (let attempt = 0; attempt < SHAPE_ATTEMPTS; attempt++) {
      this.#drawShape(rng, n);
      for (let r = 0; r < ROTATION_ATTEMPTS; r++) {
        const angle = rng.range(-Math.PI, Math.PI);
        const extent = this.#rotatedExtent(angle, n);
        if (extent <= room) {
          this.#place(rng, angle, n);
          return;
        }
        if (extent < bestExtent) {
          bestExtent = extent;
          bestAngle = angle;
        }
      }
      bestExtent = Infinity;
    }
    // The last shape never fit whole: keep its longest prefix that does (at least one
    // target, which always fits since world_size > 2 * margin + waypoint_spacing).
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    const c = Math.cos(bestAngle), sn = Math.sin(bestAngle);
    let fitting = 1;
    for (let i = 0; i < n; i++) {
      const x = c * this.xs[i] - sn * this.ys[i];
      const y = sn * this.xs[i] + c * this.ys[i];
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
      if (maxX - minX > room || maxY - minY > room) break;
      if (i > 0 && i % this.pointsPerTarget === 0) fitting = i / this.pointsPerTarget;
    }
    this.numTargets = fitting;
    this.numPoints = fitting * this.pointsPerTarget + 1;
    this.#place(rng, bestAngle, this.numPoints);
  }

  /**
   * Makes the route the polyline (`x[i]`, `y[i]`) (world frame, at least two points):
   * resampled every `resolution` metres along its length, with targets every
   * `waypoint_spacing` metres; the goal is the last whole spacing (at least one target;
   * a polyline shorter than one spacing is extended straight along its last segment).
   * Repeated points are skipped. A polyline already sampled so (a route `generate` drew,
   * written to a scenario file: a point every `resolution` metres of arc, its chords
   * within 0.1% of that) is taken as it is, so it plays as drawn.
   */
  setPolyline(x: ArrayLike<number>, y: ArrayLike<number>): void {
    const m = Math.min(x.length, y.length);
    if (m < 2) throw new RangeError(`route polyline: expected at least two points, got ${m}`);
    let length = 0;
    for (let j = 1; j < m; j++) {
      length += Math.sqrt((x[j] - x[j - 1]) ** 2 + (y[j] - y[j - 1]) ** 2);
    }
    if (!(length > 0 && length < Infinity)) {
      throw new RangeError(`route polyline: expected a finite length > 0, got ${length}`);
    }
    const spacing = this.#cfg.waypoint_spacing;
    // a route drawn by `generate` and written out (a seeded scenario file) is a chain of
    // chords of its arcs, up to ~0.5% of a spacing shorter than drawn: it keeps its goal
    const targets = Math.max(1, Math.floor(length / spacing + POLYLINE_TARGET_SLACK));
    const n = targets * this.pointsPerTarget + 1;
    if (n > this.xs.length) {
      this.xs = new Float64Array(n);
      this.ys = new Float64Array(n);
      this.s = new Float64Array(n);
    }
    const ds = this.resolution;
    let sampled = m === n;
    for (let j = 1; sampled && j < m; j++) {
      const chord = Math.sqrt((x[j] - x[j - 1]) ** 2 + (y[j] - y[j - 1]) ** 2);
      sampled = chord >= 0.999 * ds && chord <= ds * (1 + 1e-12);
    }
    let seg = 0, segStart = 0;
    let segLen = Math.sqrt((x[1] - x[0]) ** 2 + (y[1] - y[0]) ** 2);
    for (let i = 0; sampled && i < n; i++) {
      this.xs[i] = x[i];
      this.ys[i] = y[i];
      this.s[i] = i * ds;
    }
    for (let i = 0; !sampled && i < n; i++) {
      const at = i * ds;
      while (seg < m - 2 && at > segStart + segLen) {
        segStart += segLen;
        seg++;
        segLen = Math.sqrt((x[seg + 1] - x[seg]) ** 2 + (y[seg + 1] - y[seg]) ** 2);
      }
      const t = segLen > 0 ? (at - segStart) / segLen : 0;
      this.xs[i] = x[seg] + t * (x[seg + 1] - x[seg]);
      this.ys[i] = y[seg] + t * (y[seg + 1] - y[seg]);
      this.s[i] = at;
    }
    this.numPoints = n;
    this.numTargets = targets;
    this.inWorld = false;
    this.startHeading = Math.atan2(this.ys[1] - this.ys[0], this.xs[1] - this.xs[0]);
  }

  /**
   * Distance (m) from (x, y) to the centerline, searching the segments within
   * `window` of segment `hint` (so progress cannot jump to a far part of a winding
   * route). Sets {@linkcode Route.projIndex} and {@linkcode Route.projS}.
   */
  project(x: number, y: number, hint: number, window: number): number {
    const xs = this.xs, ys = this.ys;
    const lastSeg = this.numPoints - 2;
    const lo = Math.max(0, hint - window);
    const hi = Math.min(lastSeg, hint + window);
    let bestD2 = Infinity;
    let bestIndex = lo;
    let bestT = 0;
    for (let i = lo; i <= hi; i++) {
      const ax = xs[i], ay = ys[i];
      const ex = xs[i + 1] - ax, ey = ys[i + 1] - ay;
      const px = x - ax, py = y - ay;
      let t = (px * ex + py * ey) / (ex * ex + ey * ey);
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const dx = px - t * ex, dy = py - t * ey;
      const d2 = dx * dx + dy * dy;
      if (d2 < bestD2) {
        bestD2 = d2;
        bestIndex = i;
        bestT = t;
      }
    }
    this.projIndex = bestIndex;
    this.projS = this.s[bestIndex] + bestT * this.resolution;
    return Math.sqrt(bestD2);
  }

  /** Fills points [0, n) with a shape starting at the origin heading along +x. */
  #drawShape(rng: Rng, n: number): void {
    const cfg = this.#cfg;
    const ds = this.resolution;
    const xs = this.xs, ys = this.ys, s = this.s;
    let x = 0, y = 0, heading = 0;
    let kappa = 0;
    let pieceSteps = 0;
    // An S-bend is two arcs; the second waits here.
    let pendingKappa = 0;
    let pendingSteps = 0;
    xs[0] = 0;
    ys[0] = 0;
    s[0] = 0;
    for (let i = 1; i < n; i++) {
      if (pieceSteps <= 0) {
        if (pendingSteps > 0) {
          kappa = pendingKappa;
          pieceSteps = pendingSteps;
          pendingSteps = 0;
        } else {
          const kind = rng.uniform();
          // Turn back towards the start direction once the route has turned a lot,
          // so routes wander across the world instead of curling up.
          let sign = rng.uniform() < 0.5 ? -1 : 1;
          if (Math.abs(heading) > Math.PI / 2) sign = heading > 0 ? -1 : 1;
          const radius = rng.range(cfg.min_turn_radius, cfg.max_turn_radius);
          if (kind < 0.25) {
            kappa = 0;
            pieceSteps = Math.round(rng.range(5, 20) / ds);
          } else if (kind < 0.6) {
            kappa = sign / radius;
            pieceSteps = Math.round(rng.range(Math.PI / 6, Math.PI / 2) * radius / ds);
          } else {
            kappa = sign / radius;
            pieceSteps = Math.round(rng.range(Math.PI / 8, Math.PI / 3) * radius / ds);
            pendingKappa = -kappa;
            pendingSteps = Math.round(rng.range(Math.PI / 8, Math.PI / 3) * radius / ds);
          }
          pieceSteps = Math.max(1, pieceSteps);
        }
      }
      pieceSteps--;
      // Exact chord of a constant-curvature step.
      const turn = kappa * ds;
      const chord = Math.abs(turn) < 1e-12 ? ds : 2 * Math.sin(0.5 * turn) / kappa;
      x += chord * Math.cos(heading + 0.5 * turn);
      y += chord * Math.sin(heading + 0.5 * turn);
      heading += turn;
      xs[i] = x;
      ys[i] = y;
      s[i] = i * ds;
    }
  }

  /** Larger side of the bounding box of points [0, n) rotated by `angle`. */
  #rotatedExtent(angle: number, n: number): number {
    const c = Math.cos(angle), sn = Math.sin(angle);
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = c * this.xs[i] - sn * this.ys[i];
      const y = sn * this.xs[i] + c * this.ys[i];
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    return Math.max(maxX - minX, maxY - minY);
  }

  /** Rotates points [0, n) by `angle` and shifts them to a random place inside the margin. */
  #place(rng: Rng, angle: number, n: number): void {
    const margin = this.#cfg.corridor_half_width;
    const world = this.#cfg.world_size;
    const c = Math.cos(angle), sn = Math.sin(angle);
    let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    for (let i = 0; i < n; i++) {
      const x = c * this.xs[i] - sn * this.ys[i];
      const y = sn * this.xs[i] + c * this.ys[i];
      this.xs[i] = x;
      this.ys[i] = y;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
    const tx = rng.range(margin - minX, world - margin - maxX);
    const ty = rng.range(margin - minY, world - margin - maxY);
    for (let i = 0; i < n; i++) {
      this.xs[i] += tx;
      this.ys[i] += ty;
    }
    this.startHeading = angle;
  }
}
