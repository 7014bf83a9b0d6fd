/**
 * One traffic scenario: the route the ego drives, its start, and the other vehicles.
 * Seeded scenarios (`--env traffic`), scenario files (`scenarios`, `--scenarios DIR`)
 * and scenarios converted from logged episodes all become this one shape, which the
 * traffic env plays. World frame, metres, seconds, radians (yaw from +x, left positive).
 *
 * @module
 */

/** The `format` tag every scenario file carries. */
export const SCENARIO_FORMAT = "delta-waypoint/scenario";

/** The scenario format version this build reads and writes. */
export const SCENARIO_VERSION = 1;

/** A polyline in the world frame (m): `x[i], y[i]` is point i; at least two points. */
export interface Polyline {
  /** x of each point (m). */
  x: number[];
  /** y of each point (m). */
  y: number[];
}

/** A pose with speed in the world frame. */
export interface ScenarioPose {
  /** x (m). */
  x: number;
  /** y (m). */
  y: number;
  /** Heading (rad, from +x, left positive). */
  yaw: number;
  /** Speed (m/s, >= 0). */
  speed: number;
}

/** One sample of a trajectory: a pose at time `t` (s since the scenario's start). */
export interface TrajectoryPoint extends ScenarioPose {
  /** Time since the scenario's start (s); strictly increasing along a trajectory. */
  t: number;
}

/** Intelligent Driver Model parameters of a reactive vehicle. */
export interface IdmParams {
  /** Desired speed v0 (m/s). */
  desired_speed: number;
  /** Safe time headway T (s). */
  time_headway: number;
  /** Minimum bumper-to-bumper gap s0 (m). */
  min_gap: number;
  /** Maximum acceleration a (m/s^2). */
  max_accel: number;
  /** Comfortable deceleration b (m/s^2, positive). */
  comfort_decel: number;
  /** Acceleration exponent delta (usually 4). */
  exponent: number;
}

/** What every other vehicle has: an id and its box. */
interface VehicleBase {
  /** Unique within the scenario. */
  id: string;
  /** Box length along its heading (m). */
  length: number;
  /** Box width (m). */
  width: number;
}

/** A non-reactive vehicle that replays its trajectory (log replay); it holds its last pose after the end. */
export interface ReplayVehicle extends VehicleBase {
  /** "replay". */
  mode: "replay";
  /** Samples in time order, at least one. */
  trajectory: TrajectoryPoint[];
}

/** A reactive vehicle that drives along `path` with IDM, yielding to what is ahead of it on its path (the ego included). */
export interface IdmVehicle extends VehicleBase {
  /** "idm". */
  mode: "idm";
  /** Its path (world frame). */
  path: Polyline;
  /** Arc length along `path` where it starts (m). */
  start_s: number;
  /** Speed at the start (m/s). */
  speed: number;
  /** Its IDM parameters. */
  idm: IdmParams;
}

/** Another road user of a scenario. */
export type ScenarioVehicle = ReplayVehicle | IdmVehicle;

/**
 * A whole scenario, as the traffic env plays it and as a scenario file holds it.
 *
 * @example
 * ```ts
 * const s: Scenario = {
 *   format: SCENARIO_FORMAT,
 *   version: SCENARIO_VERSION,
 *   id: "straight_lead",
 *   route: { x: [0, 100], y: [0, 0] },
 *   ego: { x: 0, y: 0, yaw: 0, speed: 8 },
 *   vehicles: [{ id: "lead", length: 4.5, width: 1.9, mode: "replay",
 *     trajectory: [{ t: 0, x: 30, y: 0, yaw: 0, speed: 0 }] }],
 * };
 * ```
 */
export interface Scenario {
  /** {@linkcode SCENARIO_FORMAT}. */
  format: typeof SCENARIO_FORMAT;
  /** {@linkcode SCENARIO_VERSION}. */
  version: number;
  /** Name of the scenario (a file's `scenario_id` in `eval --output`). */
  id: string;
  /** What generated it: "lead_brake", "slow_lead", "stopped_in_lane", "cut_in", "log", ... */
  kind?: string;
  /** The route the ego follows; its last point is the goal. */
  route: Polyline;
  /** The ego's start. */
  ego: ScenarioPose;
  /** The other vehicles (possibly none). */
  vehicles: ScenarioVehicle[];
  /**
   * The ego's logged path (from logs): the reference of ADE/FDE instead of the expert
   * planner's plan. Absent: the expert's plan is the reference.
   */
  reference?: TrajectoryPoint[];
  /** Free-form provenance (dataset, scene id, generator seed, ...), kept as is. */
  metadata?: Record<string, string | number | boolean>;
}

/**
 * The numbers a scenario holds, as the env keeps them (a set's total is bounded): 2 per
 * polyline point, 5 per trajectory or reference sample.
 *
 * @example
 * ```ts
 * scenarioNumbers({
 *   format: SCENARIO_FORMAT,
 *   version: SCENARIO_VERSION,
 *   id: "empty",
 *   route: { x: [0, 100], y: [0, 0] },
 *   ego: { x: 0, y: 0, yaw: 0, speed: 8 },
 *   vehicles: [],
 * }); // 4
 * ```
 */
export function scenarioNumbers(s: Scenario): number {
  let n = 2 * s.route.x.length + 5 * (s.reference?.length ?? 0);
  for (const v of s.vehicles) {
    n += v.mode === "replay" ? 5 * v.trajectory.length : 2 * v.path.x.length;
  }
  return n;
}
