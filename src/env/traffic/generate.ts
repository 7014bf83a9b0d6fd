/**
 * Seeded traffic scenarios: the driving env's route of the seed, the ego at its start,
 * one conflict vehicle of one of four kinds, and parked vehicles beside the route.
 *
 * @module
 */

import { hashSeeds, Rng } from "../../math/mod.ts";
import type { EnvConfig } from "../driving/config.ts";
import { Route } from "../driving/route.ts";
import { HELDOUT_SEED_BASE } from "../driving/config.ts";
import { kindWeights, type TrafficConfig } from "./config.ts";
import {
  type IdmParams,
  type Scenario,
  SCENARIO_FORMAT,
  SCENARIO_VERSION,
  type ScenarioVehicle,
  type TrajectoryPoint,
} from "./scenario.ts";

/** The kinds of conflict a seeded scenario holds, drawn with equal odds. */
export const SCENARIO_KINDS = ["lead_brake", "slow_lead", "stopped_in_lane", "cut_in"] as const;

/** Straight extension of the route (m) the other vehicles drive on past the goal. */
const EXTENSION = 80;
/** Lateral offset of the lane beside the route a cut-in starts from (m). */
const SIDE_LANE = 3.6;

/** The configuration a scenario is generated for. */
export interface ScenarioConfig {
  /** The driving part (route, ego start speed, time step, episode cap). */
  env: EnvConfig;
  /** The traffic part (parked vehicles). */
  traffic: TrafficConfig;
  /**
   * A route (built for `env`) to draw the route in, left holding it (default a new one):
   * an env passes its own and skips rebuilding the route from the polyline.
   */
  route?: Route;
}

/**
 * The scenario of episode `seed`: equal seeds give equal scenarios. The route is the
 * driving env's route of the same seed (so a traffic run's routes are the driving
 * env's); the conflict vehicle is one of {@linkcode SCENARIO_KINDS}:
 *
 * - `lead_brake`: a lead on the route 14-22 m ahead at 6-8 m/s brakes at 5-7 m/s^2 to a
 *   stop 1.5-4 s in, waits 1-2.5 s, and drives on (replayed);
 * - `slow_lead`: a lead 15-35 m ahead at 3-5 m/s (IDM);
 * - `stopped_in_lane`: a vehicle stopped 25-60 m ahead with its centre 1.9-2.4 m beside
 *   the route (it blocks a car on the centre line; the free side is wide enough);
 * - `cut_in`: a vehicle 12-25 m ahead in the lane beside the route at 4.5-6 m/s merges
 *   onto the route over 8-14 m (IDM).
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAFFIC_CONFIG, TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * const s = generateScenario(7, { env: TRAFFIC_ENV_DEFAULTS, traffic: DEFAULT_TRAFFIC_CONFIG });
 * s.kind; // one of SCENARIO_KINDS
 * ```
 */
export function generateScenario(seed: number, cfg: ScenarioConfig): Scenario {
  const { env, traffic } = cfg;
  const route = cfg.route ?? new Route(env);
  route.generate(seed);
  const path = new ExtendedRoute(route);
  const rng = new Rng(hashSeeds(seed, 0x7aff1c));
  const kind = SCENARIO_KINDS[drawKind(rng, seed < HELDOUT_SEED_BASE ? traffic : null)];
  const steps = env.max_episode_steps;
  const vehicles: ScenarioVehicle[] = [];
  const size = () => ({ length: rng.range(4, 5), width: rng.range(1.8, 2) });
  if (kind === "lead_brake") {
    const s0 = rng.range(14, 22), v = rng.range(6, 8), brakeAt = rng.range(1.5, 4);
    const decel = rng.range(5, 7), hold = rng.range(1, 2.5);
    const trajectory: TrajectoryPoint[] = [];
    let s = s0, speed = v, stoppedFor = 0;
    for (let k = 0; k <= steps; k++) {
      const t = k * env.dt;
      // a sample every other step (and the last): the replay interpolates between them
      if (k % 2 === 0 || k === steps) {
        const p = path.pose(s, 0);
        trajectory.push({ t, x: p.x, y: p.y, yaw: p.yaw, speed });
      }
      let next = speed;
      if (t >= brakeAt && stoppedFor < hold) {
        next = Math.max(0, speed - decel * env.dt);
        if (next === 0) stoppedFor += env.dt;
      } else if (t >= brakeAt) next = Math.min(v, speed + 2 * env.dt);
      s += 0.5 * (speed + next) * env.dt;
      speed = next;
    }
    vehicles.push({ id: "lead", ...size(), mode: "replay", trajectory });
  } else if (kind === "slow_lead") {
    const s0 = rng.range(15, 35), v = rng.range(3, 5);
    vehicles.push({
      id: "lead",
      ...size(),
      mode: "idm",
      path: path.polyline(0, () => 0),
      start_s: s0,
      speed: v,
      idm: idmParams(v),
    });
  } else if (kind === "stopped_in_lane") {
    const s0 = rng.range(25, Math.max(26, Math.min(60, route.length - 5)));
    const side = rng.uniform() < 0.5 ? -1 : 1;
    const p = path.pose(s0, side * rng.range(1.9, 2.4));
    p.yaw += rng.range(-0.1, 0.1);
    vehicles.push({
      id: "stopped",
      ...size(),
      mode: "replay",
      trajectory: [{ t: 0, ...p, speed: 0 }],
    });
  } else {
    const s0 = rng.range(12, 25), v = rng.range(4.5, 6);
    const side = rng.uniform() < 0.5 ? -1 : 1;
    const mergeAt = s0 + rng.range(3, 10), mergeLength = rng.range(8, 14);
    const lateral = (s: number) => {
      const u = Math.min(1, Math.max(0, (s - mergeAt) / mergeLength));
      return side * SIDE_LANE * (1 - u * u * (3 - 2 * u));
    };
    vehicles.push({
      id: "cut_in",
      ...size(),
      mode: "idm",
      path: path.polyline(s0, lateral),
      start_s: 0,
      speed: v,
      idm: idmParams(v),
    });
  }
  const parked = rng.int(traffic.max_parked + 1);
  for (let j = 0; j < parked; j++) {
    const side = rng.uniform() < 0.5 ? -1 : 1;
    const p = path.pose(rng.range(8, Math.max(9, route.length)), side * rng.range(4.6, 5.6));
    p.yaw += rng.range(-0.1, 0.1);
    vehicles.push({
      id: `parked_${j}`,
      ...size(),
      mode: "replay",
      trajectory: [{ t: 0, ...p, speed: 0 }],
    });
  }
  const n = route.numPoints;
  return {
    format: SCENARIO_FORMAT,
    version: SCENARIO_VERSION,
    id: `traffic_seed_${seed}`,
    kind,
    route: { x: plainArray(route.xs, n), y: plainArray(route.ys, n) },
    ego: { x: route.xs[0], y: route.ys[0], yaw: route.startHeading, speed: env.init_speed },
    vehicles,
    metadata: { generator: "delta-waypoint traffic", seed },
  };
}

/** The first `n` numbers of `a` as a plain array. */
function plainArray(a: Float64Array, n: number): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = a[i];
  return out;
}

/** IDM parameters of a generated vehicle cruising at `v`. */
function idmParams(v: number): IdmParams {
  return {
    desired_speed: v,
    time_headway: 1.5,
    min_gap: 2,
    max_accel: 1.5,
    comfort_decel: 2,
    exponent: 4,
  };
}

/** A route's centreline with a straight extension past the goal, by arc length. */
class ExtendedRoute {
  readonly #route: Route;
  readonly #endYaw: number;

  constructor(route: Route) {
    this.#route = route;
    const n = route.numPoints;
    this.#endYaw = Math.atan2(route.ys[n - 1] - route.ys[n - 2], route.xs[n - 1] - route.xs[n - 2]);
  }

  /** World pose at arc `s`, `lateral` metres to the left of the centreline. */
  pose(s: number, lateral: number): { x: number; y: number; yaw: number } {
    const r = this.#route, n = r.numPoints;
    let x: number, y: number, yaw: number;
    if (s >= r.s[n - 1]) {
      yaw = this.#endYaw;
      const extra = s - r.s[n - 1];
      x = r.xs[n - 1] + extra * Math.cos(yaw);
      y = r.ys[n - 1] + extra * Math.sin(yaw);
    } else {
      const j = Math.min(n - 2, Math.max(0, Math.floor(s / r.resolution)));
      const t = (s - r.s[j]) / r.resolution;
      const ex = r.xs[j + 1] - r.xs[j], ey = r.ys[j + 1] - r.ys[j];
      x = r.xs[j] + t * ex;
      y = r.ys[j] + t * ey;
      yaw = Math.atan2(ey, ex);
    }
    return { x: x - lateral * Math.sin(yaw), y: y + lateral * Math.cos(yaw), yaw };
  }

  /** The polyline from arc `from` to the end of the extension, `lateral(s)` to the left, every 4 m. */
  polyline(from: number, lateral: (s: number) => number): { x: number[]; y: number[] } {
    const x: number[] = [], y: number[] = [];
    const end = this.#route.length + EXTENSION;
    for (let s = from; s <= end; s += 4) {
      const p = this.pose(s, lateral(s));
      x.push(p.x);
      y.push(p.y);
    }
    return { x, y };
  }
}

// The kind index of a scenario: equal odds (held-out seeds, or equal weights), else by the
// training odds; one uniform draw either way.
function drawKind(rng: Rng, traffic: TrafficConfig | null): number {
  const n = SCENARIO_KINDS.length;
  const weights = traffic === null ? null : kindWeights(traffic);
  if (weights === null || weights.every((w) => w === weights[0])) return rng.int(n);
  const total = weights.reduce((a, w) => a + w, 0);
  const u = rng.uniform() * total;
  let cum = 0;
  for (let k = 0; k < n; k++) {
    cum += weights[k];
    if (u < cum) return k;
  }
  return n - 1;
}
