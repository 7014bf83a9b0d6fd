/**
 * One episode rolled out and recorded through its env's top-down view: the background
 * (route, goal), every body's pose at every kept frame, the base action and the final
 * action drawn at chosen frames, and how it ended. The rollout is the held-out
 * evaluation's (the delta's mean, or the base policy alone), on one env.
 *
 * @module
 */

import type { ActorCritic } from "../nn/mod.ts";
import { EpisodeStatistics } from "../env/mod.ts";
import type { SceneLine, ScenePoint, TopDownView, VecEnv } from "../env/mod.ts";
import { clipDelta } from "../sft/mod.ts";
import type { BasePlanner } from "../sft/mod.ts";

/** Most numbers the poses of one recorded episode hold; past that, frames are skipped. */
const MAX_POSE_NUMBERS = 60_000;
/** Most numbers the drawn actions of one recorded episode hold. */
const MAX_ACTION_NUMBERS = 40_000;
/** Most points of a background polyline (a longer one keeps every k-th and its last). */
const MAX_LINE_POINTS = 20_000;
/** Most bodies recorded (the agent first). */
const MAX_BODIES = 1000;

/** One body's recorded poses. */
export interface BodyTrack {
  /** Box length (world units). */
  length: number;
  /** Box width (world units). */
  width: number;
  /** x, y, yaw at each of the episode's `frames`, flat. */
  poses: number[];
}

/** Actions drawn at some frames: one polyline (flat x, y) per frame. */
export interface ActionTrack {
  /** Frames (steps taken before it) at which the action was drawn, increasing. */
  frames: number[];
  /** The polyline of each of those frames. */
  paths: number[][];
}

/** A recorded episode. */
export interface EpisodeScene {
  /** Its return. */
  return: number;
  /** Its length in steps. */
  steps: number;
  /** How it ended: the env's words ("off route", "collision"), or "time limit". */
  ended: string;
  /** The frames the poses were kept at (0 = after reset, `steps` = the end), increasing. */
  frames: number[];
  /** The agent first, then the other bodies. */
  bodies: BodyTrack[];
  /** The base policy's action, where drawn (every frame's, or a few). */
  base: ActionTrack;
  /** The final action (base + clipped delta); absent for the base policy alone. */
  final?: ActionTrack;
  /** The end marker where the env gives one. */
  marker: ScenePoint | null;
}

/** What {@linkcode recordEpisode} rolls out. */
export interface RecordOptions {
  /** One copy of the env, with its `view` (reset here to the episode's seed). */
  env: VecEnv;
  /** The base planner. */
  planner: BasePlanner;
  /** The delta head (its mean action), or null for the base policy alone. */
  model: ActorCritic | null;
  /** Bound on each delta component. */
  deltaClip: number;
  /** The episode's seed. */
  seed: number;
  /** Draw the actions at every kept frame (an animation), else at four moments. */
  everyFrame: boolean;
}

/**
 * Rolls out episode `opts.seed` and records it; the background comes with it.
 *
 * @example
 * ```ts ignore
 * const { scene, background } = await recordEpisode({ env, planner, model, deltaClip: 2, seed, everyFrame: true });
 * ```
 */
export async function recordEpisode(
  opts: RecordOptions,
): Promise<{ scene: EpisodeScene; background: { lines: SceneLine[]; points: ScenePoint[] } }> {
  const vec = new EpisodeStatistics(opts.env);
  const view = vec.env.view;
  if (!view) throw new Error("recordEpisode: the env has no top-down view");
  const a = vec.actionDim;
  const base = new Float64Array(a), mean = new Float64Array(a), final = new Float64Array(a);
  await vec.reset([opts.seed]);
  const background = view.background(0);
  const sizes = view.bodies(0).slice(0, MAX_BODIES).map((b) => ({
    length: b.length,
    width: b.width,
  }));
  const poses: number[][] = [flatPoses(view, null)];
  const basePaths: (number[] | null)[] = [], finalPaths: (number[] | null)[] = [];
  for (;;) {
    opts.planner.plan(vec.obs, 1, base);
    final.set(base);
    if (opts.model) {
      opts.model.actMean(vec.obs, 1, mean);
      for (let j = 0; j < a; j++) final[j] += clipDelta(mean[j], opts.deltaClip);
    }
    basePaths.push(view.actionPath(0, base));
    if (opts.model) finalPaths.push(view.actionPath(0, final));
    await vec.step(final);
    poses.push(flatPoses(view, poses[poses.length - 1]));
    if (vec.done[0]) break;
  }
  const steps = vec.episodeLengths[0];
  const marker = view.ending(0);
  const ended = marker?.label ?? (vec.truncated[0] ? "time limit" : "ended");
  const frames = keptFrames(steps, poses[0].length);
  const round = rounder(view.resolution);
  const bodies = sizes.map((b, k): BodyTrack => ({
    ...b,
    poses: frames.flatMap((f) => {
      const p = poses[f];
      return [round(p[3 * k]), round(p[3 * k + 1]), Math.round(p[3 * k + 2] * 1000) / 1000];
    }),
  }));
  const actionFrames = drawnFrames(frames, steps, { everyFrame: opts.everyFrame, base: basePaths });
  const track = (paths: (number[] | null)[]): ActionTrack => {
    const kept = actionFrames.filter((f) => paths[f] !== null);
    return { frames: kept, paths: kept.map((f) => paths[f]!.map(round)) };
  };
  const scene: EpisodeScene = {
    return: vec.episodeReturns[0],
    steps,
    ended,
    frames,
    bodies,
    base: track(basePaths),
    ...(opts.model ? { final: track(finalPaths) } : {}),
    marker: marker && { ...marker, x: round(marker.x), y: round(marker.y) },
  };
  const lines = background.lines.map((l) => ({ ...l, points: thinLine(l.points).map(round) }));
  const points = background.points.map((p) => ({ ...p, x: round(p.x), y: round(p.y) }));
  return { scene, background: { lines, points } };
}

// x, y, yaw of every body now (at most MAX_BODIES), flat; the bodies of the first frame
// only, each where it was last seen if the view lost it.
function flatPoses(view: TopDownView, before: number[] | null): number[] {
  const now = view.bodies(0).slice(0, MAX_BODIES).flatMap((b) => [b.x, b.y, b.yaw]);
  return before === null || now.length === before.length ? now : before.map((v, k) => now[k] ?? v);
}

// Frames 0..steps, every `stride`-th (and the last) so the poses stay within budget.
function keptFrames(steps: number, perFrame: number): number[] {
  const stride = Math.max(1, Math.ceil(((steps + 1) * perFrame) / MAX_POSE_NUMBERS));
  const frames: number[] = [];
  for (let f = 0; f < steps; f += stride) frames.push(f);
  frames.push(steps);
  return frames;
}

// The frames whose actions are drawn: every kept frame before the end (within budget),
// or four moments: the start, a third and two thirds in, and the last action taken.
function drawnFrames(
  frames: number[],
  steps: number,
  o: { everyFrame: boolean; base: (number[] | null)[] },
): number[] {
  if (!o.everyFrame) {
    const moments = [0, Math.floor(steps / 3), Math.floor((2 * steps) / 3), steps - 1];
    return [...new Set(moments)].filter((f) => f >= 0 && f < steps).sort((x, y) => x - y);
  }
  const candidates = frames.filter((f) => f < steps);
  const perPath = 2 * Math.max(1, o.base[0]?.length ?? 1);
  const stride = Math.max(1, Math.ceil((candidates.length * perPath) / MAX_ACTION_NUMBERS));
  return candidates.filter((_, k) => k % stride === 0);
}

// A polyline (flat x, y) of at most MAX_LINE_POINTS points: every k-th, and the last.
function thinLine(points: readonly number[]): number[] {
  const n = points.length >> 1, stride = Math.ceil(n / MAX_LINE_POINTS);
  if (stride <= 1) return [...points];
  const out: number[] = [];
  for (let k = 0; k < n; k += stride) out.push(points[2 * k], points[2 * k + 1]);
  if ((n - 1) % stride !== 0) out.push(points[2 * n - 2], points[2 * n - 1]);
  return out;
}

// Rounds a coordinate to the view's resolution, without binary fractions' tails.
function rounder(resolution: number): (v: number) => number {
  const decimals = Math.min(10, Math.max(0, Math.ceil(-Math.log10(resolution) - 1e-9)));
  return (v) => Number((Math.round(v / resolution) * resolution).toFixed(decimals));
}
