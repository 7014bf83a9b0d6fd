/**
 * Logged episodes (the research repo's episode JSON, `docs/formats/episode_json.md`)
 * as scenarios. An episode has no world-frame position: the ego's path is recovered from
 * each frame's ego-frame expert waypoints and yaw (waypoint j of frame k is where the
 * ego is (j + 1) · dt after frame k, seen from frame k), chained frame to frame. The
 * recovered path is the scenario's route and its `reference` (ADE/FDE); other road
 * users, where a frame lists them in `agents` (this project's convention, see
 * `docs/scenario_format.md`), become replayed vehicles. The world frame is the log's
 * heading frame (`yaw_rad` as logged), with the origin where the ego starts.
 *
 * @module
 */

import { At, describe, isObject, list, num, text } from "./_file_checks.ts";
import { checkScenario, MAX_ID_LENGTH, MAX_SCENARIO_VEHICLES } from "./scenario_files.ts";
import { SCENARIO_FORMAT, SCENARIO_VERSION } from "./scenario.ts";
import type { Scenario, ScenarioVehicle, TrajectoryPoint } from "./scenario.ts";

/** Largest episode file read (bytes): 16 MiB. */
export const MAX_EPISODE_FILE_BYTES = 16 * 1024 * 1024;
/** Deepest nesting in an episode file (its free-form observations may nest). */
export const MAX_EPISODE_DEPTH = 32;
/** Longest string in an episode file (bytes). */
export const MAX_EPISODE_STRING_BYTES = 64 * 1024;
/** Most frames of one episode. */
export const MAX_EPISODE_FRAMES = 100_000;
/** Most waypoints per frame (`waypoint_spec.horizon_steps`). */
export const MAX_EPISODE_HORIZON = 1000;
/** Route points closer than this to the previous one are dropped (m): a stopped ego. */
export const ROUTE_MIN_SPACING = 0.1;

const WAYPOINT = { lo: -1e4, hi: 1e4 };
const SIZE = { lo: 0, hi: 50, above: true };

interface Frame {
  t: number;
  yaw: number;
  speed: number;
  /** Ego-frame waypoints (x forward, y left) or null. */
  waypoints: Float64Array | null;
  agents: Agent[];
}

interface Agent {
  id: string;
  x: number;
  y: number;
  yaw: number;
  speed: number | null;
  length: number;
  width: number;
}

function agentId(v: unknown, at: At): string {
  if (typeof v === "number" && Number.isSafeInteger(v)) return String(v);
  return text(v, at, MAX_ID_LENGTH);
}

function readAgents(v: unknown, at: At): Agent[] {
  if (v === undefined) return [];
  const seen = new Set<string>();
  return list(v, at, { min: 0, max: MAX_SCENARIO_VEHICLES }).map((a, i) => {
    const aAt = at.index(i);
    // other keys (type, ...) are free-form and left alone
    const o = isObject(a) ? a : aAt.fail(`must be an object, got ${describe(a)}`);
    for (const k of ["id", "x", "y", "yaw", "length", "width"]) {
      if (!(k in o)) aAt.key(k).fail("missing");
    }
    const id = agentId(o.id, aAt.key("id"));
    if (seen.has(id)) aAt.key("id").fail(`"${id}" is listed twice in this frame`);
    seen.add(id);
    return {
      id,
      x: num(o.x, aAt.key("x"), WAYPOINT),
      y: num(o.y, aAt.key("y"), WAYPOINT),
      yaw: num(o.yaw, aAt.key("yaw"), { lo: -100, hi: 100 }),
      speed: o.speed === undefined ? null : num(o.speed, aAt.key("speed"), { lo: 0, hi: 100 }),
      length: num(o.length, aAt.key("length"), SIZE),
      width: num(o.width, aAt.key("width"), SIZE),
    };
  });
}

function readFrame(v: unknown, at: At, horizon: number): Frame {
  const o = isObject(v) ? v : at.fail(`must be an object, got ${describe(v)}`);
  if (!("t" in o)) at.key("t").fail("missing");
  const t = num(o.t, at.key("t"), { lo: -1e6, hi: 1e6 });
  const obsAt = at.key("observations");
  const obs = isObject(o.observations)
    ? o.observations
    : obsAt.fail(`must be an object, got ${describe(o.observations)}`);
  const stateAt = obsAt.key("state");
  const state = isObject(obs.state)
    ? obs.state
    : stateAt.fail(`must be an object, got ${describe(obs.state)}`);
  const speed = num(state.speed_mps, stateAt.key("speed_mps"), { lo: 0, hi: 100 });
  const yaw = num(state.yaw_rad, stateAt.key("yaw_rad"), { lo: -100, hi: 100 });
  let waypoints: Float64Array | null = null;
  if (o.expert !== undefined && o.expert !== null) {
    const expAt = at.key("expert");
    const expert = isObject(o.expert)
      ? o.expert
      : expAt.fail(`must be an object, got ${describe(o.expert)}`);
    const wAt = expAt.key("waypoints");
    const points = list(expert.waypoints, wAt, { min: 1, max: horizon });
    waypoints = new Float64Array(2 * points.length);
    points.forEach((p, j) => {
      const pAt = wAt.index(j);
      const xy = list(p, pAt, { min: 2, max: 2 });
      waypoints![2 * j] = num(xy[0], pAt.index(0), WAYPOINT);
      waypoints![2 * j + 1] = num(xy[1], pAt.index(1), WAYPOINT);
    });
  }
  return { t, yaw, speed, waypoints, agents: readAgents(o.agents, at.key("agents")) };
}

/** Where the ego is `u` waypoint steps after a frame (u in [0, n], waypoint j at u = j + 1). */
function alongWaypoints(wp: Float64Array, u: number): [number, number] {
  const j = Math.min(Math.floor(u), wp.length / 2 - 1);
  const f = u - j;
  const x0 = j === 0 ? 0 : wp[2 * (j - 1)], y0 = j === 0 ? 0 : wp[2 * j - 1];
  return [x0 + f * (wp[2 * j] - x0), y0 + f * (wp[2 * j + 1] - y0)];
}

/** The world-frame position of every frame: frame 0 at the origin, each later frame from the latest earlier frame with waypoints. */
function egoPath(frames: Frame[], dt: number, at: At): { x: Float64Array; y: Float64Array } {
  const n = frames.length;
  const x = new Float64Array(n), y = new Float64Array(n);
  let from = -1; // the latest frame with waypoints so far
  for (let k = 1; k < n; k++) {
    if (frames[k - 1].waypoints !== null) from = k - 1;
    if (from < 0) at.index(0).key("expert").fail("missing (the ego's path starts from it)");
    const f = frames[from], wp = f.waypoints!;
    const u = (frames[k].t - f.t) / dt;
    if (u > wp.length / 2 + 1e-6) {
      at.index(k).fail(
        `${(frames[k].t - f.t).toFixed(3)} s after frames[${from}], past its last waypoint (${
          wp.length / 2
        } × dt ${dt} s); no earlier frame's waypoints reach it`,
      );
    }
    const [ex, ey] = alongWaypoints(wp, u);
    const c = Math.cos(f.yaw), s = Math.sin(f.yaw);
    x[k] = x[from] + c * ex - s * ey;
    y[k] = y[from] + s * ex + c * ey;
  }
  return { x, y };
}

/** The route through the path's points, a stopped ego's repeats dropped; the last point stays the goal. */
function routeOf(path: { x: Float64Array; y: Float64Array }, at: At): Scenario["route"] {
  const x = [path.x[0]], y = [path.y[0]];
  for (let k = 1; k < path.x.length; k++) {
    const last = x.length - 1;
    if (Math.hypot(path.x[k] - x[last], path.y[k] - y[last]) >= ROUTE_MIN_SPACING) {
      x.push(path.x[k]);
      y.push(path.y[k]);
    } else if (k === path.x.length - 1 && last > 0) {
      x[last] = path.x[k];
      y[last] = path.y[k];
    }
  }
  if (x.length < 2) {
    at.fail(`the ego moves less than ${ROUTE_MIN_SPACING} m in the episode: no route to follow`);
  }
  return { x, y };
}

/** Each agent seen, in order of first appearance, as a replayed vehicle in the world frame. */
function agentVehicles(
  frames: Frame[],
  path: { x: Float64Array; y: Float64Array },
  at: At,
): ScenarioVehicle[] {
  const byId = new Map<string, { length: number; width: number; points: TrajectoryPoint[] }>();
  frames.forEach((f, k) => {
    const c = Math.cos(f.yaw), s = Math.sin(f.yaw);
    for (const a of f.agents) {
      let v = byId.get(a.id);
      if (v === undefined) {
        if (byId.size === MAX_SCENARIO_VEHICLES) {
          at.index(k).key("agents").fail(
            `more than ${MAX_SCENARIO_VEHICLES} different agents in the episode`,
          );
        }
        v = { length: a.length, width: a.width, points: [] };
        byId.set(a.id, v);
      }
      const wx = path.x[k] + c * a.x - s * a.y, wy = path.y[k] + s * a.x + c * a.y;
      const prev = v.points.at(-1);
      const t = f.t - frames[0].t;
      // no logged speed: the distance covered since its previous sample over the time
      const speed = a.speed ??
        (prev ? Math.hypot(wx - prev.x, wy - prev.y) / (t - prev.t) : 0);
      v.points.push({ t, x: wx, y: wy, yaw: f.yaw + a.yaw, speed: Math.min(speed, 100) });
    }
  });
  return [...byId].map(([id, v]) => {
    if (v.points.length > 1 && v.points[0].speed === 0) v.points[0].speed = v.points[1].speed;
    return { id, length: v.length, width: v.width, mode: "replay", trajectory: v.points };
  });
}

/**
 * The scenario of a parsed episode file (`file` names it in errors; every fault is a
 * one-line `UserError`, `<file>: <field>: <problem>`): route and `reference` from the
 * ego's recovered path, ego start at the origin with frame 0's yaw and speed, replayed
 * vehicles from the frames' `agents`, the episode's id as the scenario's, and
 * provenance in `metadata`. The result has passed {@linkcode checkScenario}; what only
 * the converted scenario breaks (a limit of scenario files) is `<file>: the scenario made
 * from it: <field>: <problem>`.
 *
 * @example
 * ```ts ignore
 * const scenario = scenarioFromEpisode(JSON.parse(text), "episodes/e1.json");
 * ```
 */
export function scenarioFromEpisode(value: unknown, file: string): Scenario {
  const at = new At(file, "");
  const o = isObject(value) ? value : at.fail(`must be an object, got ${describe(value)}`);
  for (const k of ["episode_id", "domain", "waypoint_spec", "frames"]) {
    if (!(k in o)) at.key(k).fail("missing");
  }
  const id = text(o.episode_id, at.key("episode_id"), MAX_ID_LENGTH);
  if (o.domain !== "driving") at.key("domain").fail(`must be "driving", got ${describe(o.domain)}`);
  const specAt = at.key("waypoint_spec");
  const spec = isObject(o.waypoint_spec)
    ? o.waypoint_spec
    : specAt.fail(`must be an object, got ${describe(o.waypoint_spec)}`);
  const horizon = num(spec.horizon_steps, specAt.key("horizon_steps"), {
    lo: 1,
    hi: MAX_EPISODE_HORIZON,
  });
  if (!Number.isInteger(horizon)) specAt.key("horizon_steps").fail("must be an integer");
  const dt = num(spec.dt, specAt.key("dt"), { lo: 0, hi: 10, above: true });
  if (spec.frame !== "ego") specAt.key("frame").fail(`must be "ego", got ${describe(spec.frame)}`);
  if (spec.units !== "m") specAt.key("units").fail(`must be "m", got ${describe(spec.units)}`);
  const fAt = at.key("frames");
  const frames = list(o.frames, fAt, { min: 2, max: MAX_EPISODE_FRAMES })
    .map((f, k) => readFrame(f, fAt.index(k), horizon));
  for (let k = 1; k < frames.length; k++) {
    if (!(frames[k].t > frames[k - 1].t)) {
      fAt.index(k).key("t").fail(`must increase (${frames[k].t} after ${frames[k - 1].t})`);
    }
  }
  const path = egoPath(frames, dt, fAt);
  const reference = frames.map((f, k) => ({
    t: f.t - frames[0].t,
    x: path.x[k],
    y: path.y[k],
    yaw: f.yaw,
    speed: f.speed,
  }));
  const metadata: Record<string, string | number> = { source: "episode", episode_id: id, dt };
  if (isObject(o.source)) {
    for (const k of ["dataset", "split", "scene_id"]) {
      const v = o.source[k];
      if (typeof v === "string" && v !== "") metadata[k] = v;
    }
  }
  return checkScenario({
    format: SCENARIO_FORMAT,
    version: SCENARIO_VERSION,
    id,
    kind: "log",
    route: routeOf(path, fAt),
    ego: { x: 0, y: 0, yaw: frames[0].yaw, speed: frames[0].speed },
    vehicles: agentVehicles(frames, path, fAt),
    reference,
    metadata,
  }, `${file}: the scenario made from it`);
}
