/**
 * The other vehicles of a scenario while it plays: each replays its trajectory or
 * follows its path with the Intelligent Driver Model (IDM), yielding to whatever box
 * (the ego included) is ahead of it on its heading. Arrays are flat; a scenario is
 * compiled once into typed arrays, then stepped without allocation.
 *
 * @module
 */

import type { IdmParams, Polyline, Scenario } from "./scenario.ts";

/** A path as the actors use it: points and cumulative arc length. */
export interface CompiledPath {
  /** x of each point (m). */
  x: Float64Array;
  /** y of each point (m). */
  y: Float64Array;
  /** Arc length at each point (m). */
  s: Float64Array;
}

/** One vehicle of a compiled scenario. */
export interface CompiledActor {
  /** 0: replay, 1: IDM. */
  mode: 0 | 1;
  /** Box length (m). */
  length: number;
  /** Box width (m). */
  width: number;
  /** Replay: sample times (s), x, y, yaw, speed. */
  t: Float64Array;
  /** Replay: x of each sample. */
  x: Float64Array;
  /** Replay: y of each sample. */
  y: Float64Array;
  /** Replay: yaw of each sample. */
  yaw: Float64Array;
  /** Replay: speed of each sample. */
  speed: Float64Array;
  /** IDM: its path (empty for replay). */
  path: CompiledPath;
  /** IDM: start arc length and speed. */
  startS: number;
  /** IDM: speed at the start. */
  startSpeed: number;
  /** IDM parameters (null for replay). */
  idm: IdmParams | null;
}

const EMPTY = new Float64Array(0);

/**
 * A path's points with their arc lengths; repeated points are dropped.
 *
 * @example
 * ```ts
 * compilePath({ x: [0, 3], y: [0, 4] }).s; // [0, 5]
 * ```
 */
export function compilePath(p: Polyline): CompiledPath {
  const n = Math.min(p.x.length, p.y.length);
  const x = new Float64Array(n), y = new Float64Array(n), s = new Float64Array(n);
  x[0] = p.x[0];
  y[0] = p.y[0];
  let m = 1;
  for (let j = 1; j < n; j++) {
    const dx = p.x[j] - x[m - 1], dy = p.y[j] - y[m - 1];
    const d = Math.sqrt(dx * dx + dy * dy);
    if (d <= 1e-9) continue;
    x[m] = p.x[j];
    y[m] = p.y[j];
    s[m] = s[m - 1] + d;
    m++;
  }
  return m === n ? { x, y, s } : { x: x.slice(0, m), y: y.slice(0, m), s: s.slice(0, m) };
}

/**
 * The scenario's vehicles in the arrays the env steps. `replayAll` turns IDM vehicles
 * into replayed ones by simulating them alone (no ego) for `steps` steps of `dt`.
 */
export function compileActors(
  scenario: Scenario,
  opts: { replayAll: boolean; dt: number; steps: number },
): CompiledActor[] {
  const out: CompiledActor[] = [];
  for (const v of scenario.vehicles) {
    if (v.mode === "replay") {
      const tr = v.trajectory, n = tr.length;
      const t = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n);
      const yaw = new Float64Array(n), speed = new Float64Array(n);
      for (let k = 0; k < n; k++) {
        const p = tr[k];
        t[k] = p.t;
        x[k] = p.x;
        y[k] = p.y;
        yaw[k] = p.yaw;
        speed[k] = p.speed;
      }
      out.push({
        mode: 0,
        length: v.length,
        width: v.width,
        t,
        x,
        y,
        yaw,
        speed,
        path: { x: EMPTY, y: EMPTY, s: EMPTY },
        startS: 0,
        startSpeed: 0,
        idm: null,
      });
      continue;
    }
    const actor: CompiledActor = {
      mode: 1,
      length: v.length,
      width: v.width,
      t: EMPTY,
      x: EMPTY,
      y: EMPTY,
      yaw: EMPTY,
      speed: EMPTY,
      path: compilePath(v.path),
      startS: v.start_s,
      startSpeed: v.speed,
      idm: v.idm,
    };
    out.push(opts.replayAll ? simulateAlone(actor, opts) : actor);
  }
  return out;
}

/** The IDM vehicle `a` driven alone for `steps` steps, as a replayed vehicle. */
function simulateAlone(a: CompiledActor, opts: { dt: number; steps: number }): CompiledActor {
  const n = opts.steps + 1;
  const t = new Float64Array(n), x = new Float64Array(n), y = new Float64Array(n);
  const yaw = new Float64Array(n), speed = new Float64Array(n);
  const pose = new Float64Array(3);
  let s = a.startS, v = a.startSpeed;
  for (let k = 0; k < n; k++) {
    pathPose(a.path, s, pose);
    t[k] = k * opts.dt;
    x[k] = pose[0];
    y[k] = pose[1];
    yaw[k] = pose[2];
    speed[k] = v;
    const next = idmSpeed(a.idm!, { v, gap: Infinity, leadSpeed: 0, dt: opts.dt });
    s += 0.5 * (v + next) * opts.dt;
    v = next;
  }
  return { ...a, mode: 0, t, x, y, yaw, speed, idm: null };
}

/**
 * Writes the pose [x, y, yaw] at arc length `s` of `path` to `out`; beyond either end
 * the path goes on straight along its end segment.
 */
export function pathPose(path: CompiledPath, s: number, out: Float64Array): void {
  const ss = path.s, n = ss.length;
  if (n === 1) {
    out[0] = path.x[0];
    out[1] = path.y[0];
    out[2] = 0;
    return;
  }
  let lo = 0, hi = n - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (ss[mid] <= s) lo = mid;
    else hi = mid - 1;
  }
  const ex = path.x[lo + 1] - path.x[lo], ey = path.y[lo + 1] - path.y[lo];
  const t = (s - ss[lo]) / (ss[lo + 1] - ss[lo]);
  out[0] = path.x[lo] + t * ex;
  out[1] = path.y[lo] + t * ey;
  out[2] = Math.atan2(ey, ex);
}

/**
 * The IDM speed after one step of `dt` from speed `v` behind a leader `gap` metres
 * ahead (bumper to bumper; Infinity: free road) driving at `leadSpeed`; never below 0,
 * deceleration at most 9 m/s^2.
 *
 * @example
 * ```ts
 * import type { IdmParams } from "./scenario.ts";
 * const params: IdmParams = {
 *   desired_speed: 10, time_headway: 1.5, min_gap: 2, max_accel: 1.5, comfort_decel: 2, exponent: 4,
 * };
 * idmSpeed(params, { v: 8, gap: Infinity, leadSpeed: 0, dt: 0.2 });
 * ```
 */
export function idmSpeed(
  p: IdmParams,
  o: { v: number; gap: number; leadSpeed: number; dt: number },
): number {
  const { v, gap } = o;
  const free = p.desired_speed > 0 ? 1 - Math.pow(v / p.desired_speed, p.exponent) : -1;
  let interaction = 0;
  if (gap < Infinity) {
    const dyn = v * p.time_headway +
      v * (v - o.leadSpeed) / (2 * Math.sqrt(p.max_accel * p.comfort_decel));
    const want = p.min_gap + (dyn > 0 ? dyn : 0);
    const g = gap > 0.1 ? gap : 0.1;
    interaction = (want / g) * (want / g);
  }
  let acc = p.max_accel * (free - interaction);
  if (acc < -9) acc = -9;
  const next = v + acc * o.dt;
  return next > 0 ? next : 0;
}

/**
 * The replayed pose at time `t` (linear between samples, yaw along the shorter way;
 * the first sample before it, the last after it) into `out` = [x, y, yaw, speed].
 * `hint` is a sample index at or before `t` (times only grow within an episode);
 * returns the index to pass next time.
 */
export function replayPose(a: CompiledActor, t: number, hint: number, out: Float64Array): number {
  const ts = a.t, n = ts.length;
  let k = hint;
  while (k + 1 < n && ts[k + 1] <= t) k++;
  if (k + 1 >= n || t <= ts[k]) {
    out[0] = a.x[k];
    out[1] = a.y[k];
    out[2] = a.yaw[k];
    out[3] = a.speed[k];
    return k;
  }
  const u = (t - ts[k]) / (ts[k + 1] - ts[k]);
  out[0] = a.x[k] + u * (a.x[k + 1] - a.x[k]);
  out[1] = a.y[k] + u * (a.y[k + 1] - a.y[k]);
  out[2] = a.yaw[k] + u * wrapAngle(a.yaw[k + 1] - a.yaw[k]);
  out[3] = a.speed[k] + u * (a.speed[k + 1] - a.speed[k]);
  return k;
}

/** `a` wrapped to (-pi, pi]. */
export function wrapAngle(a: number): number {
  if (a > Math.PI || a <= -Math.PI) {
    a = a - 2 * Math.PI * Math.floor((a + Math.PI) / (2 * Math.PI));
    if (a <= -Math.PI) a += 2 * Math.PI;
  }
  return a;
}
