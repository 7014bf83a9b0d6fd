/**
 * The top-down view an env may offer of its episodes (the report's episode pictures): its
 * state as generic drawing primitives in world coordinates (polylines, oriented boxes,
 * points, end markers) with legend labels in the env's words. The run records them at
 * the end of training into `episodes.json`; the report draws them without knowing any
 * env. An env without a view gets a return distribution instead.
 *
 * @module
 */

/** A polyline of the scene's background (a route), as flat `[x0, y0, x1, y1, ...]`. */
export interface SceneLine {
  /** Flat x, y pairs (world units). */
  readonly points: readonly number[];
  /** Width of the band drawn under it (world units, e.g. a corridor); absent: a line. */
  readonly width?: number;
}

/** A point of the scene (a goal), or an end marker (a collision) with its label. */
export interface ScenePoint {
  /** x (world units). */
  readonly x: number;
  /** y (world units). */
  readonly y: number;
  /** What it marks, in the env's words ("collision", "off route"). */
  readonly label: string;
  /** "good" (a goal reached) or "bad" (a failure); the background's points are neither. */
  readonly kind?: "good" | "bad";
}

/** An oriented box: a vehicle now. */
export interface SceneBody {
  /** Centre x (world units). */
  x: number;
  /** Centre y (world units). */
  y: number;
  /** Heading (rad, from +x, counter-clockwise). */
  yaw: number;
  /** Length along the heading (world units). */
  length: number;
  /** Width across it (world units). */
  width: number;
}

/**
 * What an env draws of copy i of its episodes. The agent is body 0; the other bodies keep
 * their order through an episode, so their poses over the frames are their paths.
 *
 * @example
 * ```ts ignore
 * const view = env.view!;
 * env.reset([7]);
 * const { lines, points } = view.background(0);
 * const car = view.bodies(0)[0];
 * ```
 */
export interface TopDownView {
  /** Unit of the coordinates ("m"). */
  readonly unit: string;
  /** Seconds between two steps (the animation's clock). */
  readonly secondsPerStep: number;
  /** Coordinates are recorded rounded to this (world units). */
  readonly resolution: number;
  /**
   * Legend labels: `lines` (the background's polylines), `points` (its points), `agent`,
   * `others` (absent: the env has no other bodies), `action` (what an action row is drawn
   * as, e.g. "plan").
   */
  readonly legend: {
    readonly lines: string;
    readonly points: string;
    readonly agent: string;
    readonly others?: string;
    readonly action: string;
  };
  /** The fixed part of copy i's current episode (after `reset`). */
  background(i: number): { lines: SceneLine[]; points: ScenePoint[] };
  /** The bodies of copy i now, the agent first. */
  bodies(i: number): SceneBody[];
  /**
   * Row `i` of `actions` (N, actionDim) drawn in the world from copy i's state now (before
   * the step that takes it), as flat x, y pairs; null when an action is not a path.
   */
  actionPath(i: number, actions: Float64Array): number[] | null;
  /** How copy i's episode ended at its latest step, where the env says so, else null. */
  ending(i: number): ScenePoint | null;
}
