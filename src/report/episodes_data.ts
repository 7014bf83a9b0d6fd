/**
 * A run's `episodes.json` (written by `train`) read back as untrusted input: every field
 * checked, every number finite and within bounds, every list within its limit, so the
 * drawing code can trust what it gets. The first problem is one line naming the field.
 *
 * @module
 */

/** Largest |coordinate| or |pose| in a drawn episode. */
export const MAX_COORDINATE = 1e9;
/** Largest |return|. */
export const MAX_RETURN = 1e12;
/** Most returns per policy. */
export const MAX_RETURNS = 100_000;
/** Most drawn seeds. */
export const MAX_SEEDS = 8;
/** Most bodies in one episode. */
export const MAX_BODIES = 1000;
/** Most numbers in one drawn episode (poses, actions) or one background. */
export const MAX_EPISODE_NUMBERS = 200_000;
/** Longest text. */
const MAX_TEXT = 200;

/** A polyline, flat x, y; `width`: a band under it (world units). */
export interface LineData {
  points: number[];
  width?: number;
}

/** A labelled point; `kind` marks an ending. */
export interface PointData {
  x: number;
  y: number;
  label: string;
  kind?: "good" | "bad";
}

/** Actions drawn at some frames. */
export interface ActionData {
  frames: number[];
  paths: number[][];
}

/** One recorded episode. */
export interface EpisodeData {
  return: number;
  steps: number;
  ended: string;
  /** Frames of the poses, 0 .. steps, increasing. */
  frames: number[];
  /** The agent first: box size and x, y, yaw per frame. */
  bodies: { length: number; width: number; poses: number[] }[];
  base: ActionData;
  final?: ActionData;
  marker: PointData | null;
}

/** One drawn seed. */
export interface SeedData {
  seed: number;
  why: string;
  animated: boolean;
  lines: LineData[];
  points: PointData[];
  base: EpisodeData;
  refined: EpisodeData;
}

/** The drawn episodes and their legend. */
export interface ViewData {
  unit: string;
  secondsPerStep: number;
  legend: { lines: string; points: string; agent: string; others?: string; action: string };
  seeds: SeedData[];
}

/** `episodes.json`, checked. */
export interface EpisodesData {
  totalEpisodes: number;
  heldoutSeeds: [number, number];
  returns: { base: number[]; refined: number[] };
  view: ViewData | null;
}

/** A check's failure: the dotted path of the field and what is wrong. */
class Bad extends Error {}

type Obj = Record<string, unknown>;

function obj(v: unknown, at: string): Obj {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new Bad(`${at}: expected an object`);
  }
  return v as Obj;
}

function text(v: unknown, at: string): string {
  if (typeof v !== "string" || v.length > MAX_TEXT) {
    throw new Bad(`${at}: expected text of at most ${MAX_TEXT} characters`);
  }
  return v;
}

function num(v: unknown, at: string, o: { lo: number; hi: number; int?: boolean }): number {
  if (typeof v !== "number" || !(v >= o.lo && v <= o.hi) || (o.int && !Number.isInteger(v))) {
    throw new Bad(`${at}: expected ${o.int ? "an integer" : "a number"} in [${o.lo}, ${o.hi}]`);
  }
  return v;
}

function list(v: unknown, at: string, max: number): unknown[] {
  if (!Array.isArray(v)) throw new Bad(`${at}: expected a list`);
  if (v.length > max) throw new Bad(`${at}: more than ${max} entries`);
  return v;
}

const COORD = { lo: -MAX_COORDINATE, hi: MAX_COORDINATE };

function numbers(v: unknown, at: string, o: { max: number; pairs?: boolean }): number[] {
  const values = list(v, at, o.max).map((x, i) => num(x, `${at}[${i}]`, COORD));
  if (o.pairs && values.length % 2 !== 0) throw new Bad(`${at}: expected x, y pairs`);
  return values;
}

function increasing(v: unknown, at: string, o: { lo: number; hi: number }): number[] {
  const max = Math.min(o.hi - o.lo + 1, MAX_EPISODE_NUMBERS / 3);
  const frames = list(v, at, max).map((f, i) => num(f, `${at}[${i}]`, { ...o, int: true }));
  for (let i = 1; i < frames.length; i++) {
    if (frames[i] <= frames[i - 1]) throw new Bad(`${at}[${i}]: frames must increase`);
  }
  return frames;
}

function point(v: unknown, at: string): PointData {
  const p = obj(v, at);
  const kind = p.kind;
  if (kind !== undefined && kind !== "good" && kind !== "bad") {
    throw new Bad(`${at}.kind: expected good or bad`);
  }
  return {
    x: num(p.x, `${at}.x`, COORD),
    y: num(p.y, `${at}.y`, COORD),
    label: text(p.label, `${at}.label`),
    ...(kind ? { kind } : {}),
  };
}

function actions(v: unknown, at: string, steps: number): ActionData {
  const a = obj(v, at);
  const frames = increasing(a.frames, `${at}.frames`, { lo: 0, hi: Math.max(0, steps - 1) });
  const paths = list(a.paths, `${at}.paths`, frames.length).map((p, i) =>
    numbers(p, `${at}.paths[${i}]`, { max: MAX_EPISODE_NUMBERS, pairs: true })
  );
  if (paths.length !== frames.length) throw new Bad(`${at}.paths: one per frame`);
  return { frames, paths };
}

function episode(v: unknown, at: string): EpisodeData {
  const e = obj(v, at);
  const steps = num(e.steps, `${at}.steps`, { lo: 1, hi: 10_000_000, int: true });
  const frames = increasing(e.frames, `${at}.frames`, { lo: 0, hi: steps });
  if (frames[0] !== 0 || frames[frames.length - 1] !== steps) {
    throw new Bad(`${at}.frames: expected 0 .. steps`);
  }
  const bodies = list(e.bodies, `${at}.bodies`, MAX_BODIES).map((b, i) => {
    const o = obj(b, `${at}.bodies[${i}]`);
    const size = { lo: 0, hi: MAX_COORDINATE };
    const poses = numbers(o.poses, `${at}.bodies[${i}].poses`, { max: MAX_EPISODE_NUMBERS });
    if (poses.length !== 3 * frames.length) {
      throw new Bad(`${at}.bodies[${i}].poses: expected x, y, yaw at each frame`);
    }
    return {
      length: num(o.length, `${at}.bodies[${i}].length`, size),
      width: num(o.width, `${at}.bodies[${i}].width`, size),
      poses,
    };
  });
  if (bodies.length === 0) throw new Bad(`${at}.bodies: expected the agent at least`);
  const base = actions(e.base, `${at}.base`, steps);
  const final = e.final === undefined ? undefined : actions(e.final, `${at}.final`, steps);
  const total = bodies.reduce((s, b) => s + b.poses.length, 0) +
    [base, final].reduce((s, a) => s + (a?.paths.reduce((t, p) => t + p.length, 0) ?? 0), 0);
  if (total > MAX_EPISODE_NUMBERS) {
    throw new Bad(`${at}: more than ${MAX_EPISODE_NUMBERS} numbers`);
  }
  return {
    return: num(e.return, `${at}.return`, { lo: -MAX_RETURN, hi: MAX_RETURN }),
    steps,
    ended: text(e.ended, `${at}.ended`),
    frames,
    bodies,
    base,
    ...(final ? { final } : {}),
    marker: e.marker === null ? null : point(e.marker, `${at}.marker`),
  };
}

function seedData(v: unknown, at: string): SeedData {
  const s = obj(v, at);
  if (typeof s.animated !== "boolean") throw new Bad(`${at}.animated: expected true or false`);
  const lines = list(s.lines, `${at}.lines`, 100).map((l, i) => {
    const o = obj(l, `${at}.lines[${i}]`);
    const points = numbers(o.points, `${at}.lines[${i}].points`, {
      max: MAX_EPISODE_NUMBERS,
      pairs: true,
    });
    return o.width === undefined
      ? { points }
      : { points, width: num(o.width, `${at}.lines[${i}].width`, { lo: 0, hi: MAX_COORDINATE }) };
  });
  return {
    seed: num(s.seed, `${at}.seed`, { lo: 0, hi: Number.MAX_SAFE_INTEGER, int: true }),
    why: text(s.why, `${at}.why`),
    animated: s.animated,
    lines,
    points: list(s.points, `${at}.points`, 100).map((p, i) => point(p, `${at}.points[${i}]`)),
    base: episode(s.base, `${at}.base`),
    refined: episode(s.refined, `${at}.refined`),
  };
}

function viewData(v: unknown): ViewData {
  const o = obj(v, "view");
  const legend = obj(o.legend, "view.legend");
  const label = (k: string) => text(legend[k], `view.legend.${k}`);
  return {
    unit: text(o.unit, "view.unit"),
    secondsPerStep: num(o.seconds_per_step, "view.seconds_per_step", { lo: 1e-6, hi: 3600 }),
    legend: {
      lines: label("lines"),
      points: label("points"),
      agent: label("agent"),
      ...(legend.others === undefined ? {} : { others: label("others") }),
      action: label("action"),
    },
    seeds: list(o.seeds, "view.seeds", MAX_SEEDS).map((s, i) => seedData(s, `view.seeds[${i}]`)),
  };
}

/**
 * Parsed `episodes.json` checked whole, or its first problem (one line, naming the field).
 *
 * @example
 * ```ts
 * const r = parseEpisodes({ format: "x" });
 * "problem" in r; // true
 * ```
 */
export function parseEpisodes(value: unknown): { data: EpisodesData } | { problem: string } {
  try {
    const o = obj(value, "episodes.json");
    if (o.format !== "delta-waypoint episodes" || o.version !== 1) {
      throw new Bad("format: expected 'delta-waypoint episodes', version 1");
    }
    const seeds = list(o.heldout_seeds, "heldout_seeds", 2);
    if (seeds.length !== 2) throw new Bad("heldout_seeds: expected [first seed, count]");
    const r = obj(o.returns, "returns");
    const returns = (k: string) =>
      list(r[k], `returns.${k}`, MAX_RETURNS).map((x, i) =>
        num(x, `returns.${k}[${i}]`, { lo: -MAX_RETURN, hi: MAX_RETURN })
      );
    const safe = { lo: 0, hi: Number.MAX_SAFE_INTEGER, int: true };
    const data: EpisodesData = {
      totalEpisodes: num(o.total_episodes, "total_episodes", safe),
      heldoutSeeds: [
        num(seeds[0], "heldout_seeds[0]", safe),
        num(seeds[1], "heldout_seeds[1]", safe),
      ],
      returns: { base: returns("base"), refined: returns("refined") },
      view: o.view === undefined ? null : viewData(o.view),
    };
    return { data };
  } catch (e) {
    if (e instanceof Bad) return { problem: e.message };
    throw e;
  }
}
