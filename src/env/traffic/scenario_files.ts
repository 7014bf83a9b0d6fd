/**
 * Scenario files (`docs/scenario_format.md`): the checks a parsed file goes through
 * before the traffic env sees it, and the budgets they enforce. A file is untrusted
 * input: every value is checked (finite, in range, lengths, order, unique ids, known
 * mode and version) and a fault is one {@linkcode UserError} line naming the file and
 * the field, e.g. `a.json: vehicles[2].trajectory[5].t: must increase (0.4 after 0.5)`.
 * Reading the bytes is the caller's (through `io`'s bounded readers).
 *
 * @module
 */

import { At, describe, isObject, list, num, object, safeText, text } from "./_file_checks.ts";
import { SCENARIO_FORMAT, SCENARIO_VERSION } from "./scenario.ts";
import type {
  IdmParams,
  Polyline,
  Scenario,
  ScenarioPose,
  ScenarioVehicle,
  TrajectoryPoint,
} from "./scenario.ts";

/** Largest scenario file read (bytes): 4 MiB. */
export const MAX_SCENARIO_FILE_BYTES = 4 * 1024 * 1024;
/** Deepest nesting of arrays and objects in a scenario file (a valid one nests 5 deep). */
export const MAX_SCENARIO_DEPTH = 8;
/** Longest string in a scenario file (bytes of its JSON text). */
export const MAX_SCENARIO_STRING_BYTES = 4096;
/** Most vehicles in one scenario. */
export const MAX_SCENARIO_VEHICLES = 256;
/** Most points of one polyline or trajectory. */
export const MAX_SCENARIO_POINTS = 10_000;
/**
 * Smallest distance between consecutive points of a polyline (m): closer points add
 * nothing, and a segment much shorter than this (1e-300 m) has no direction the env
 * can compute.
 */
export const MIN_POINT_SPACING = 1e-3;
/** Largest |coordinate| (m). */
export const MAX_SCENARIO_COORD = 1e6;
/** Largest |yaw| (rad). */
export const MAX_SCENARIO_YAW = 100;
/** Largest speed (m/s). */
export const MAX_SCENARIO_SPEED = 100;
/** Largest trajectory time (s). */
export const MAX_SCENARIO_TIME = 3600;
/** Longest route (m): the env resamples it every fraction of a metre. */
export const MAX_ROUTE_LENGTH = 10_000;
/** Largest vehicle length or width (m). */
export const MAX_VEHICLE_SIZE = 50;
/** Largest value of each IDM parameter. */
export const MAX_IDM_PARAM = 100;
/** Longest scenario id, kind, vehicle id or metadata key (characters). */
export const MAX_ID_LENGTH = 128;
/** Most metadata entries. */
export const MAX_METADATA_KEYS = 64;

const COORD = { lo: -MAX_SCENARIO_COORD, hi: MAX_SCENARIO_COORD };
const YAW = { lo: -MAX_SCENARIO_YAW, hi: MAX_SCENARIO_YAW };
const SPEED = { lo: 0, hi: MAX_SCENARIO_SPEED };
const SIZE = { lo: 0, hi: MAX_VEHICLE_SIZE, above: true };
const IDM = { lo: 0, hi: MAX_IDM_PARAM, above: true };

function polyline(v: unknown, at: At): Polyline {
  const o = object(v, at, { required: ["x", "y"] });
  const range = { min: 2, max: MAX_SCENARIO_POINTS };
  const xs = list(o.x, at.key("x"), range), ys = list(o.y, at.key("y"), range);
  if (xs.length !== ys.length) at.key("y").fail(`has ${ys.length} points, x has ${xs.length}`);
  const x = xs.map((e, i) => num(e, at.key("x").index(i), COORD));
  const y = ys.map((e, i) => num(e, at.key("y").index(i), COORD));
  for (let i = 1; i < x.length; i++) {
    if (x[i] === x[i - 1] && y[i] === y[i - 1]) {
      at.fail(`point ${i} repeats point ${i - 1} (consecutive points must differ)`);
    }
    const gap = Math.hypot(x[i] - x[i - 1], y[i] - y[i - 1]);
    if (!(gap >= MIN_POINT_SPACING)) {
      at.fail(
        `point ${i} is ${gap.toPrecision(3)} m from point ${
          i - 1
        }, closer than the minimum of ${MIN_POINT_SPACING} m`,
      );
    }
  }
  return { x, y };
}

const POSE_KEYS = ["x", "y", "yaw", "speed"] as const;

function pose(o: Record<string, unknown>, at: At): ScenarioPose {
  return {
    x: num(o.x, at.key("x"), COORD),
    y: num(o.y, at.key("y"), COORD),
    yaw: num(o.yaw, at.key("yaw"), YAW),
    speed: num(o.speed, at.key("speed"), SPEED),
  };
}

function trajectory(v: unknown, at: At, minPoints: number): TrajectoryPoint[] {
  const points = list(v, at, { min: minPoints, max: MAX_SCENARIO_POINTS });
  let before = -Infinity;
  return points.map((p, i) => {
    const pAt = at.index(i);
    const o = object(p, pAt, { required: ["t", ...POSE_KEYS] });
    const t = num(o.t, pAt.key("t"), { lo: 0, hi: MAX_SCENARIO_TIME });
    if (!(t > before)) pAt.key("t").fail(`must increase (${t} after ${before})`);
    before = t;
    return { t, ...pose(o, pAt) };
  });
}

function pathLength(p: Polyline): number {
  let total = 0;
  for (let i = 1; i < p.x.length; i++) {
    total += Math.hypot(p.x[i] - p.x[i - 1], p.y[i] - p.y[i - 1]);
  }
  return total;
}

const IDM_KEYS = [
  "desired_speed",
  "time_headway",
  "min_gap",
  "max_accel",
  "comfort_decel",
  "exponent",
] as const;

function idmParams(v: unknown, at: At): IdmParams {
  const o = object(v, at, { required: IDM_KEYS });
  const out = {} as IdmParams;
  for (const k of IDM_KEYS) out[k] = num(o[k], at.key(k), IDM);
  return out;
}

const VEHICLE_KEYS = ["id", "length", "width", "mode"];

function vehicle(v: unknown, at: At): ScenarioVehicle {
  const base = object(v, at, {
    required: VEHICLE_KEYS,
    optional: ["trajectory", "path", "start_s", "speed", "idm"],
  });
  const id = text(base.id, at.key("id"), MAX_ID_LENGTH);
  const length = num(base.length, at.key("length"), SIZE);
  const width = num(base.width, at.key("width"), SIZE);
  if (base.mode === "replay") {
    const o = object(v, at, { required: [...VEHICLE_KEYS, "trajectory"] });
    const points = trajectory(o.trajectory, at.key("trajectory"), 1);
    return { id, length, width, mode: "replay", trajectory: points };
  }
  if (base.mode === "idm") {
    const o = object(v, at, { required: [...VEHICLE_KEYS, "path", "start_s", "speed", "idm"] });
    const path = polyline(o.path, at.key("path"));
    return {
      id,
      length,
      width,
      mode: "idm",
      path,
      start_s: num(o.start_s, at.key("start_s"), { lo: 0, hi: pathLength(path) }),
      speed: num(o.speed, at.key("speed"), SPEED),
      idm: idmParams(o.idm, at.key("idm")),
    };
  }
  return at.key("mode").fail(`must be "replay" or "idm", got ${describe(base.mode)}`);
}

function metadata(v: unknown, at: At): Record<string, string | number | boolean> {
  if (!isObject(v)) return at.fail(`must be an object, got ${describe(v)}`);
  const keys = Object.keys(v);
  if (keys.length > MAX_METADATA_KEYS) {
    at.fail(`has ${keys.length} entries, over the limit of ${MAX_METADATA_KEYS}`);
  }
  const out: Record<string, string | number | boolean> = {};
  for (const k of keys.toSorted()) {
    const kAt = at.key(safeText(k));
    text(k, kAt, MAX_ID_LENGTH);
    const value = v[k];
    if (typeof value === "string") {
      out[k] = value === "" ? value : text(value, kAt, MAX_SCENARIO_STRING_BYTES);
    } else if (typeof value === "boolean") out[k] = value;
    else if (typeof value === "number" && Number.isFinite(value)) out[k] = value;
    else kAt.fail(`must be a string, a finite number or a boolean, got ${describe(value)}`);
  }
  return out;
}

/**
 * Checks a parsed scenario file (`file` names it in errors) and returns it as a
 * {@linkcode Scenario} built afresh: fields in the documented order, metadata keys
 * sorted, nothing else. Any fault is a {@linkcode UserError}: `<file>: <field>: <problem>`.
 *
 * @example
 * ```ts
 * import { SCENARIO_FORMAT, SCENARIO_VERSION } from "./scenario.ts";
 * const s = checkScenario({
 *   format: SCENARIO_FORMAT, version: SCENARIO_VERSION, id: "empty",
 *   route: { x: [0, 50], y: [0, 0] }, ego: { x: 0, y: 0, yaw: 0, speed: 5 }, vehicles: [],
 * }, "empty.json");
 * ```
 */
export function checkScenario(value: unknown, file: string): Scenario {
  const at = new At(file, "");
  // another JSON file in a set (a run's config.json, an episode) is named as such
  if (isObject(value) && !("format" in value)) {
    at.key("format").fail("missing: not a scenario file (see docs/scenario_format.md)");
  }
  const o = object(value, at, {
    required: ["format", "version", "id", "route", "ego", "vehicles"],
    optional: ["kind", "reference", "metadata"],
  });
  if (o.format !== SCENARIO_FORMAT) {
    at.key("format").fail(`must be "${SCENARIO_FORMAT}", got ${describe(o.format)}`);
  }
  if (o.version !== SCENARIO_VERSION) {
    at.key("version").fail(
      `this build reads version ${SCENARIO_VERSION}, got ${describe(o.version)}`,
    );
  }
  const id = text(o.id, at.key("id"), MAX_ID_LENGTH);
  const kind = o.kind === undefined ? undefined : text(o.kind, at.key("kind"), MAX_ID_LENGTH);
  const route = polyline(o.route, at.key("route"));
  const routeLength = pathLength(route);
  if (routeLength > MAX_ROUTE_LENGTH) {
    at.key("route").fail(
      `is ${Math.round(routeLength)} m long, over the limit of ${MAX_ROUTE_LENGTH} m`,
    );
  }
  const ego = pose(object(o.ego, at.key("ego"), { required: POSE_KEYS }), at.key("ego"));
  const vAt = at.key("vehicles");
  const vehicles = list(o.vehicles, vAt, { min: 0, max: MAX_SCENARIO_VEHICLES })
    .map((v, i) => vehicle(v, vAt.index(i)));
  const seen = new Map<string, number>();
  vehicles.forEach((v, i) => {
    const first = seen.get(v.id);
    if (first !== undefined) {
      vAt.index(i).key("id").fail(`"${safeText(v.id)}" is also vehicles[${first}]'s id`);
    }
    seen.set(v.id, i);
  });
  const reference = o.reference === undefined
    ? undefined
    : trajectory(o.reference, at.key("reference"), 2);
  const meta = o.metadata === undefined ? undefined : metadata(o.metadata, at.key("metadata"));
  return {
    format: SCENARIO_FORMAT,
    version: SCENARIO_VERSION,
    id,
    ...(kind !== undefined ? { kind } : {}),
    route,
    ego,
    vehicles,
    ...(reference !== undefined ? { reference } : {}),
    ...(meta !== undefined ? { metadata: meta } : {}),
  };
}
