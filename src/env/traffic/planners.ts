/**
 * Planners on the traffic observation: the expert (route targets, pulled in by an IDM
 * speed plan behind whatever is in the way, shifted sideways around stopped vehicles)
 * and a wrapper that runs a driving planner on the observation's `z` part alone, so
 * it ignores the other vehicles (the traffic env's SFT planner).
 *
 * @module
 */

import { type EnvConfig, validateEnvConfig } from "../driving/config.ts";
import type { BuiltinSftOptions } from "../driving/planners.ts";
import type { CorrectingPlanner, WaypointPlanner } from "../contract.ts";
import type { TrafficConfig } from "./config.ts";
import { NEIGHBOR_FEATURES } from "./_world.ts";
import { PATH_FEATURES, projectOnPath } from "./_path_frame.ts";

/**
 * Runs a driving planner on the first 1 + 2H numbers of each traffic observation row:
 * it follows the route and ignores the other vehicles.
 *
 * @example
 * ```ts
 * import { BuiltinSftPlanner } from "../driving/planners.ts";
 * import { TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * import { Traffic } from "./traffic_env.ts";
 * const env = TRAFFIC_ENV_DEFAULTS;
 * const traffic = new Traffic(env, 1);
 * const sft = new ZPrefixPlanner(new BuiltinSftPlanner(env), { obsDim: traffic.obsDim });
 * ```
 */
export class ZPrefixPlanner implements WaypointPlanner {
  readonly horizon: number;
  /** 2H. */
  get actionDim(): number {
    return 2 * this.horizon;
  }
  readonly obsDim: number;
  /** The wrapped planner. */
  readonly inner: WaypointPlanner;
  #scratch = new Float64Array(0);

  /** Wraps `inner` for observation rows of `opts.obsDim` numbers. */
  constructor(inner: WaypointPlanner, opts: { obsDim: number }) {
    if (opts.obsDim < inner.obsDim) {
      throw new RangeError(`ZPrefixPlanner: obsDim ${opts.obsDim} < the planner's ${inner.obsDim}`);
    }
    this.inner = inner;
    this.horizon = inner.horizon;
    this.obsDim = opts.obsDim;
  }

  plan(obs: Float64Array, rows: number, out: Float64Array): void {
    const z = this.inner.obsDim, d = this.obsDim;
    if (this.#scratch.length < rows * z) this.#scratch = new Float64Array(rows * z);
    const s = this.#scratch;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < z; j++) s[r * z + j] = obs[r * d + j];
    }
    this.inner.plan(s, rows, out);
  }
}

/**
 * The built-in planner's error on the traffic env: the same lateral offset and noise,
 * but a milder flattening of curves (so most of its failures there are collisions, which
 * it does not see coming, rather than leaving the corridor).
 *
 * @example
 * ```ts
 * import { BuiltinSftPlanner } from "../driving/planners.ts";
 * import { TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * const sft = new BuiltinSftPlanner(TRAFFIC_ENV_DEFAULTS, TRAFFIC_SFT_OPTIONS);
 * ```
 */
export const TRAFFIC_SFT_OPTIONS: Readonly<Required<BuiltinSftOptions>> = Object.freeze({
  lateralOffset: 0.3,
  curvatureScale: 0.7,
  noiseStd: 0.1,
});

/** Lateral clearance the expert keeps to vehicles beside its path (m). */
const MARGIN = 0.3;
/** Extra clearance when it nudges around a stopped vehicle (m). */
const NUDGE_MARGIN = 0.5;
/**
 * The same when it corrects a base plan (m): more, as the car follows a base plan less
 * closely than the route (the SFT planner's noise and flattened curves).
 */
const BASE_NUDGE_MARGIN = 0.7;
/** A vehicle slower than this (m/s) counts as stopped: the expert nudges around it. */
const STOPPED = 0.5;
/** Vehicles farther than this (m) are ignored. */
const RANGE = 60;
/** Seconds ahead the expert extrapolates a vehicle's motion to see it cut in. */
const PREDICT = 1.5;

/**
 * The traffic expert, a pure function of the observation. It takes the route targets
 * (the driving expert's plan), finds the vehicles whose box is on its path now or in
 * 1.5 s at constant velocity, shifts the plan sideways around a stopped one when the
 * shift fits inside the corridor, and behind the nearest other one picks the IDM
 * acceleration (desired speed `cruise_speed`, headway `expert_headway` (0.4 s), gap
 * `expert_min_gap` (1 m)) and pulls the plan in to the reach `v*^2 / max_decel` at
 * which the speed loop aims for `v* = v + a_idm / speed_gain`.
 *
 * `correct` does the same to a given base plan instead of the route targets: the smallest
 * change of it the expert would make (a warm start's labels, {@linkcode CorrectingPlanner}),
 * with two margins for a follower less exact than the expert: 0.7 m instead of 0.5 m beside
 * a stopped vehicle, and a stop commanded by a plan `expert_stop_behind` (2 m) behind the
 * car instead of at it. The speed loop aims for `sqrt(max_decel * reach)`, so a learned
 * delta that pulls a 10 m plan in 90% of the way to the car leaves 1 m of reach and creeps
 * on at 2.4 m/s into the vehicle it stopped for; 90% of the way to 2 m behind still stops.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAFFIC_CONFIG, TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * const expert = new TrafficExpertPlanner(TRAFFIC_ENV_DEFAULTS, DEFAULT_TRAFFIC_CONFIG);
 * ```
 */
export class TrafficExpertPlanner implements WaypointPlanner, CorrectingPlanner {
  readonly horizon: number;
  /** 2H. */
  get actionDim(): number {
    return 2 * this.horizon;
  }
  readonly obsDim: number;
  readonly #cfg: EnvConfig;
  readonly #k: number;
  readonly #egoHalfLength: number;
  readonly #egoHalfWidth: number;
  readonly #headway: number;
  readonly #minGap: number;
  readonly #stopBehind: number;
  readonly #arc: Float64Array;
  readonly #proj = new Float64Array(4);
  readonly #planArc: Float64Array;
  readonly #baseLat: Float64Array;
  readonly #baseAlong: Float64Array;

  /** For the env `cfg` and the traffic knobs `traffic` (K, ego size). */
  constructor(cfg: EnvConfig, traffic: TrafficConfig) {
    validateEnvConfig(cfg);
    this.#cfg = cfg;
    this.horizon = cfg.horizon_steps;
    this.#k = traffic.neighbors;
    const path = traffic.path_features ? PATH_FEATURES : 0;
    this.obsDim = 1 + 2 * cfg.horizon_steps + this.#k * (NEIGHBOR_FEATURES + path);
    this.#egoHalfLength = 0.5 * traffic.ego_length;
    this.#egoHalfWidth = 0.5 * traffic.ego_width;
    this.#headway = traffic.expert_headway;
    this.#minGap = traffic.expert_min_gap;
    this.#stopBehind = traffic.expert_stop_behind;
    this.#arc = new Float64Array(cfg.horizon_steps + 1);
    this.#planArc = new Float64Array(cfg.horizon_steps + 1);
    this.#baseLat = new Float64Array(cfg.horizon_steps + 1);
    this.#baseAlong = new Float64Array(cfg.horizon_steps + 1);
  }

  plan(obs: Float64Array, rows: number, out: Float64Array): void {
    this.#plan(obs, rows, out, null);
  }

  /**
   * The smallest correction of `base` (rows, 2H) the expert would make: the base plan
   * shifted sideways clear of a stopped vehicle in its way (by `BASE_NUDGE_MARGIN`) and
   * pulled in behind the nearest other one (all of it `expert_stop_behind` behind the car
   * where the expert stops), and left as it is where nothing is in its way.
   * Clearances are taken from the base plan, not from the route.
   */
  correct(obs: Float64Array, base: Float64Array, rows: number, out: Float64Array): void {
    this.#plan(obs, rows, out, base);
  }

  #plan(obs: Float64Array, rows: number, out: Float64Array, base: Float64Array | null): void {
    const h = this.horizon, d = this.obsDim, a = 2 * h, cfg = this.#cfg, proj = this.#proj;
    const arc = this.#arc, ehl = this.#egoHalfLength, ehw = this.#egoHalfWidth;
    const planArc = this.#planArc, lat = this.#baseLat, along0 = this.#baseAlong;
    const nudgeMargin = base ? BASE_NUDGE_MARGIN : NUDGE_MARGIN;
    for (let r = 0; r < rows; r++) {
      const o = r * d, p = r * a;
      const v = obs[o];
      arc[0] = 0;
      let px = 0, py = 0;
      for (let j = 0; j < h; j++) {
        const x = obs[o + 1 + 2 * j], y = obs[o + 2 + 2 * j];
        out[p + 2 * j] = x;
        out[p + 2 * j + 1] = y;
        arc[j + 1] = arc[j] + Math.sqrt((x - px) * (x - px) + (y - py) * (y - py));
        px = x;
        py = y;
      }
      if (base) this.#takeBase(obs, { base, row: o, at: p, out });
      let gap = Infinity, leadSpeed = 0;
      let nudgeAt = Infinity, nudge = 0;
      for (let q = 0; q < this.#k; q++) {
        const s = o + 1 + a + q * NEIGHBOR_FEATURES;
        if (obs[s + 7] === 0) continue;
        const rx = obs[s], ry = obs[s + 1], vx = obs[s + 2] + v, vy = obs[s + 3];
        const len = obs[s + 5], wid = obs[s + 6];
        // out of reach: well behind, or beyond the range any leader matters at
        if (rx < -(len + 2 * ehl) || rx * rx + ry * ry > RANGE * RANGE) continue;
        projectOnPath(obs, { row: o, horizon: h, arc, x: rx, y: ry, out: proj });
        const along = proj[0];
        const offset = base ? offsetAt(along0, lat, h, along) : 0;
        const lateral = proj[1] - offset;
        const rel = obs[s + 4] - Math.atan2(proj[3], proj[2]);
        const sr = Math.abs(Math.sin(rel)), cr = Math.abs(Math.cos(rel));
        const hw = 0.5 * (len * sr + wid * cr), hl = 0.5 * (len * cr + wid * sr);
        if (along < -(hl + ehl)) continue; // passed
        const speed = Math.sqrt(vx * vx + vy * vy);
        let later = lateral;
        if (speed > 1e-6) {
          const tx = proj[2], ty = proj[3];
          const x = rx + vx * PREDICT, y = ry + vy * PREDICT;
          projectOnPath(obs, { row: o, horizon: h, arc, x, y, out: proj });
          later = proj[1] - offset;
          proj[2] = tx;
          proj[3] = ty;
        }
        const near = Math.min(Math.abs(lateral), Math.abs(later));
        // beside the path (a corrected base plan keeps its nudge's clearance from a stopped one)
        const margin = base && speed < STOPPED ? nudgeMargin : MARGIN;
        if (lateral * later > 0 && near >= hw + ehw + margin) continue;
        if (speed < STOPPED) {
          const side = lateral >= 0 ? 1 : -1;
          const shift = lateral - side * (hw + ehw + nudgeMargin);
          if (Math.abs(shift + offset) <= cfg.corridor_half_width - 0.8) {
            if (along < nudgeAt) {
              nudgeAt = along;
              nudge = shift;
            }
            continue;
          }
        }
        if (along <= 0) continue;
        const g = along - hl - ehl;
        if (g < gap) {
          gap = g;
          leadSpeed = vx * proj[2] + vy * proj[3];
        }
      }
      if (nudge !== 0) this.#shift(out, { at: p, by: nudge });
      if (gap < Infinity) {
        const reach = this.#reach(v, gap, leadSpeed);
        if (base && reach === 0 && this.#stopBehind > 0) this.#stopAt(out, p);
        else this.#pullIn(out, { at: p, reach, arc: base ? planArc : arc });
      }
    }
  }

  // copies the base plan at `at` into `out`, with its arc lengths, and the arc length along
  // the route and offset from it of the car and of each of its points
  #takeBase(
    obs: Float64Array,
    o: { base: Float64Array; row: number; at: number; out: Float64Array },
  ) {
    const h = this.horizon, arc = this.#arc, proj = this.#proj, { base, row, at, out } = o;
    const planArc = this.#planArc, lat = this.#baseLat, along = this.#baseAlong;
    projectOnPath(obs, { row, horizon: h, arc, x: 0, y: 0, out: proj });
    along[0] = proj[0];
    lat[0] = proj[1];
    planArc[0] = 0;
    let px = 0, py = 0;
    for (let j = 0; j < h; j++) {
      const x = base[at + 2 * j], y = base[at + 2 * j + 1];
      out[at + 2 * j] = x;
      out[at + 2 * j + 1] = y;
      planArc[j + 1] = planArc[j] + Math.sqrt((x - px) * (x - px) + (y - py) * (y - py));
      px = x;
      py = y;
      projectOnPath(obs, { row, horizon: h, arc, x, y, out: proj });
      along[j + 1] = proj[0];
      lat[j + 1] = proj[1];
    }
  }

  // reach (m) of a plan at which the speed loop aims for the IDM speed behind the leader
  #reach(v: number, gap: number, leadSpeed: number): number {
    const cfg = this.#cfg;
    const a = cfg.max_accel, b = 3, headway = this.#headway, minGap = this.#minGap;
    const dyn = v * headway + v * (v - leadSpeed) / (2 * Math.sqrt(a * b));
    const want = minGap + (dyn > 0 ? dyn : 0);
    const g = gap > 0.1 ? gap : 0.1;
    const acc = a * (1 - Math.pow(v / cfg.cruise_speed, 4) - (want / g) * (want / g));
    let target = v + acc / cfg.speed_gain;
    if (target > cfg.cruise_speed) target = cfg.cruise_speed;
    if (target <= 0) return 0;
    return target * target / cfg.max_decel;
  }

  // moves every waypoint of the plan at `at` (arc lengths `arc`) farther along than `reach`
  // back to it
  #pullIn(out: Float64Array, o: { at: number; reach: number; arc: Float64Array }): void {
    const h = this.horizon, { at, reach, arc } = o;
    if (reach >= arc[h]) return;
    let j = 0;
    while (arc[j + 1] <= reach) j++;
    const t = (reach - arc[j]) / (arc[j + 1] - arc[j]);
    const x0 = j === 0 ? 0 : out[at + 2 * j - 2], y0 = j === 0 ? 0 : out[at + 2 * j - 1];
    const x = x0 + t * (out[at + 2 * j] - x0), y = y0 + t * (out[at + 2 * j + 1] - y0);
    for (let k = j; k < h; k++) {
      out[at + 2 * k] = x;
      out[at + 2 * k + 1] = y;
    }
  }

  // puts every waypoint of the plan at `at` `expert_stop_behind` straight behind the car
  #stopAt(out: Float64Array, at: number): void {
    for (let j = 0; j < this.horizon; j++) {
      out[at + 2 * j] = -this.#stopBehind;
      out[at + 2 * j + 1] = 0;
    }
  }

  // shifts every waypoint `by` metres to the left of the path
  #shift(out: Float64Array, o: { at: number; by: number }): void {
    let px = 0, py = 0;
    for (let j = 0; j < this.horizon; j++) {
      const x = out[o.at + 2 * j], y = out[o.at + 2 * j + 1];
      const len = Math.sqrt((x - px) * (x - px) + (y - py) * (y - py));
      const nx = len > 0 ? -(y - py) / len : 0, ny = len > 0 ? (x - px) / len : 1;
      out[o.at + 2 * j] = x + o.by * nx;
      out[o.at + 2 * j + 1] = y + o.by * ny;
      px = x;
      py = y;
    }
  }
}

// the base plan's offset from the route at arc length `along`: linear between its points
// (the car's and its H waypoints', `at`/`lat`), held beyond the first and the last
function offsetAt(at: Float64Array, lat: Float64Array, h: number, along: number): number {
  if (along <= at[0]) return lat[0];
  for (let j = 0; j < h; j++) {
    if (along <= at[j + 1]) {
      const span = at[j + 1] - at[j];
      return span > 1e-9 ? lat[j] + (along - at[j]) / span * (lat[j + 1] - lat[j]) : lat[j + 1];
    }
  }
  return lat[h];
}
