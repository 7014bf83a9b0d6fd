/**
 * A drawn seed as an animated SVG (SMIL, no script): both policies side by side on one
 * clock, every body's box moving through its recorded poses (`animateTransform`: a
 * translation and a rotation per body), the agent's trail growing, the actions planned at
 * each step (`animate` of the path), the end marker appearing when the episode ends, and a
 * clock bar. It loops, holding the last frame a moment.
 *
 * @module
 */

import { formatNumber, r1 } from "./axes.ts";
import type { EpisodeData, SeedData, ViewData } from "./episodes_data.ts";
import {
  endMarker,
  pathD,
  SCENE_COLORS,
  SCENE_LAYOUT,
  sceneLegend,
  scenePanels,
  sceneSvg,
} from "./_scene_frame.ts";
import type { SceneNames, Viewport } from "./_scene_frame.ts";
import { bodyPath } from "./scene.ts";

/** Longest loop (s): longer episodes play faster. */
const MAX_PLAY_SECONDS = 20;
/** The last frame is held this long (s) before the loop starts again. */
const HOLD_SECONDS = 1.5;

/** The clock of an animation: its loop and where each frame falls in it. */
export interface AnimationClock {
  /** Loop duration (s). */
  seconds: number;
  /** How many times faster than real time it plays. */
  speedup: number;
  /** The fraction of the loop at which frame `f` shows. */
  at(frame: number): number;
}

/**
 * The clock of a seed's animation: real time (each step `secondsPerStep`) unless the
 * longer episode would last over 20 s, then faster; the last frame held 1.5 s.
 *
 * @example
 * ```ts
 * const clock = animationClock(0.2, 50); // 10 s of episode, held 1.5 s
 * clock.seconds; // 11.5
 * ```
 */
export function animationClock(secondsPerStep: number, steps: number): AnimationClock {
  const real = steps * secondsPerStep;
  const speedup = Math.max(1, real / MAX_PLAY_SECONDS);
  const seconds = real / speedup + HOLD_SECONDS;
  return { seconds, speedup, at: (f) => (f * secondsPerStep) / speedup / seconds };
}

const times = (ts: number[]) => ts.map((t) => t.toFixed(4)).join(";");

/**
 * The animated SVG of one drawn seed: both policies' episodes side by side on one clock.
 *
 * @example
 * ```ts ignore
 * const svg = renderSeedAnimation(view, view.seeds[0], { names, id: "anim" });
 * ```
 */
export function renderSeedAnimation(
  view: ViewData,
  seed: SeedData,
  o: { names: SceneNames; id: string },
): string {
  const { panel, plotHeight, gap, header, titles } = SCENE_LAYOUT;
  const width = 2 * panel + gap, clockTop = header + titles + plotHeight + 14;
  const legendTop = clockTop + 34;
  const steps = Math.max(seed.base.steps, seed.refined.steps);
  const clock = animationClock(view.secondsPerStep, steps);
  const dur = `dur="${r1(clock.seconds * 1000) / 1000}s" repeatCount="indefinite"`;
  const draw = (v: Viewport, e: EpisodeData) => episodeMotion(v, e, { clock, dur });
  const pace = clock.speedup > 1 ? `${formatNumber(clock.speedup)}× real time` : "real time";
  return sceneSvg({
    cls: "episode-animation",
    seed: seed.seed,
    width,
    height: legendTop + 40,
    title: `Held-out seed ${seed.seed}, animated (${pace}, looping): ${seed.why}`,
  }, [
    ...scenePanels(view, seed, { ...o, draw }),
    clockBar({ width, top: clockTop, clock, dur, steps }, view),
    `<g transform="translate(0,${legendTop})">${
      sceneLegend(view, { names: o.names, seed, width })
    }</g>`,
  ]);
}

// One episode in motion: the other bodies (faint paths, moving boxes), the agent's trail
// growing and its moving box, the actions of each step, the end marker at the end.
function episodeMotion(
  v: Viewport,
  e: EpisodeData,
  o: { clock: AnimationClock; dur: string },
): string[] {
  const out: string[] = [];
  const keyTimes = [...e.frames.map(o.clock.at), 1];
  for (let b = 1; b < e.bodies.length; b++) {
    out.push(
      `<path class="scene-path" data-body="${b}" d="${
        bodyPath(v, e, b)
      }" fill="none" stroke="${SCENE_COLORS.other}" stroke-width="1" stroke-opacity="0.35"/>`,
    );
  }
  out.push(agentTrail(v, e, { ...o, keyTimes }));
  for (let b = 1; b < e.bodies.length; b++) out.push(movingBox(v, e, { ...o, b, keyTimes }));
  out.push(...movingPlans(v, e, o));
  out.push(movingBox(v, e, { ...o, b: 0, keyTimes }));
  if (e.marker) {
    const end = o.clock.at(e.steps).toFixed(4);
    out.push(
      `<g class="anim-end" opacity="0"><animate attributeName="opacity" calcMode="discrete" values="0;1" keyTimes="0;${end}" ${o.dur}/>${
        endMarker(v, e.marker)
      }</g>`,
    );
  }
  return out;
}

// The agent's path drawn as far as the agent has come: a dash of the path's length whose
// offset shrinks with the length driven.
function agentTrail(v: Viewport, e: EpisodeData, o: { dur: string; keyTimes: number[] }): string {
  const p = e.bodies[0].poses, driven: number[] = [0];
  for (let i = 3; i < p.length; i += 3) {
    const [x0, y0] = v.px(p[i - 3], p[i - 2]), [x1, y1] = v.px(p[i], p[i + 1]);
    driven.push(driven[driven.length - 1] + Math.hypot(x1 - x0, y1 - y0));
  }
  const total = Math.max(1e-3, driven[driven.length - 1]);
  const offsets = [...driven, total].map((d) => r1(total - d + 0)).join(";");
  return `<path class="anim-trail" d="${
    bodyPath(v, e, 0)
  }" fill="none" stroke="${SCENE_COLORS.agent}" stroke-width="2.5" stroke-dasharray="${
    r1(total + 1)
  } ${r1(total + 1)}" stroke-dashoffset="${
    r1(total)
  }"><animate attributeName="stroke-dashoffset" values="${offsets}" keyTimes="${
    times(o.keyTimes)
  }" ${o.dur}/></path>`;
}

// Body `b`'s box moving through its poses: a translation and, inside it, a rotation
// (unwrapped, so a heading crossing ±180° does not spin), held at the last pose.
function movingBox(
  v: Viewport,
  e: EpisodeData,
  o: { b: number; dur: string; keyTimes: number[] },
): string {
  const body = e.bodies[o.b], p = body.poses, moves: string[] = [], turns: number[] = [];
  let previous = 0;
  for (let i = 0; i < p.length; i += 3) {
    moves.push(v.px(p[i], p[i + 1]).join(" "));
    let deg = (-p[i + 2] * 180) / Math.PI;
    if (i > 0) deg += 360 * Math.round((previous - deg) / 360);
    turns.push(r1(deg));
    previous = deg;
  }
  moves.push(moves[moves.length - 1]);
  turns.push(turns[turns.length - 1]);
  const l = r1(body.length * v.scale), w = r1(body.width * v.scale);
  const agent = o.b === 0, color = agent ? SCENE_COLORS.agent : SCENE_COLORS.other;
  const key = `keyTimes="${times(o.keyTimes)}" ${o.dur}`;
  return `<g class="anim-body ${
    agent ? "agent" : "other"
  }" data-body="${o.b}" transform="translate(${
    moves[0].replace(" ", ",")
  })"><animateTransform attributeName="transform" type="translate" values="${
    moves.join(";")
  }" ${key}/><g transform="rotate(${
    turns[0]
  })"><animateTransform attributeName="transform" type="rotate" values="${
    turns.join(";")
  }" ${key}/><rect x="${r1(-l / 2)}" y="${r1(-w / 2)}" width="${Math.max(1, l)}" height="${
    Math.max(1, w)
  }" fill="${color}" stroke="#fff" stroke-width="0.75"/></g></g>`;
}

// The actions of each drawn step, switching at each step and hidden once the episode ended.
function movingPlans(v: Viewport, e: EpisodeData, o: { clock: AnimationClock; dur: string }) {
  const out: string[] = [];
  const tracks = [["base", e.base, SCENE_COLORS.base], [
    "final",
    e.final,
    SCENE_COLORS.final,
  ]] as const;
  const end = o.clock.at(e.steps).toFixed(4);
  for (const [kind, track, color] of tracks) {
    if (!track || track.frames.length === 0) continue;
    const ds = track.paths.map((p) => pathD(v, p));
    const keyTimes = track.frames.map(o.clock.at);
    if (track.frames[0] !== 0) (ds.unshift(ds[0]), keyTimes.unshift(0));
    const dash = kind === "base" ? ` stroke-dasharray="5 3"` : "";
    out.push(
      `<path class="anim-plan" data-policy="${kind}" d="${
        ds[0]
      }" fill="none" stroke="${color}" stroke-width="2"${dash}><animate attributeName="d" calcMode="discrete" values="${
        ds.join(";")
      }" keyTimes="${
        times(keyTimes)
      }" ${o.dur}/><animate attributeName="opacity" calcMode="discrete" values="1;0" keyTimes="0;${end}" ${o.dur}/></path>`,
    );
  }
  return out;
}

// The clock: a bar filling over the longer episode, with its start and end times.
function clockBar(
  o: { width: number; top: number; clock: AnimationClock; dur: string; steps: number },
  view: ViewData,
): string {
  const full = o.clock.at(o.steps).toFixed(4);
  const seconds = formatNumber(o.steps * view.secondsPerStep);
  return [
    `<g class="anim-clock" transform="translate(0,${o.top})">`,
    `<rect width="${o.width}" height="6" fill="#eee"/>`,
    `<rect width="0" height="6" fill="#888"><animate attributeName="width" values="0;${o.width};${o.width}" keyTimes="0;${full};1" ${o.dur}/></rect>`,
    `<text x="0" y="20" font-size="11" fill="#555">0 s</text>`,
    `<text x="${o.width}" y="20" font-size="11" fill="#555" text-anchor="end">${seconds} s</text>`,
    "</g>",
  ].join("");
}
