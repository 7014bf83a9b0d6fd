/**
 * Top-down pictures of a drawn held-out seed: the base policy alone and base + delta side
 * by side at one scale, each with the background (route band, goal), the agent's path and
 * its box at a few moments with the actions planned there (the base policy's dashed, the
 * final one solid), the other bodies and their paths, and how the episode ended.
 *
 * @module
 */

import { formatNumber, r1 } from "./axes.ts";
import type { EpisodeData, SeedData, ViewData } from "./episodes_data.ts";
import {
  boxPoints,
  endMarker,
  pathD,
  poseAt,
  SCENE_COLORS,
  SCENE_LAYOUT,
  sceneLegend,
  scenePanels,
  sceneSvg,
} from "./_scene_frame.ts";
import type { SceneNames, Viewport } from "./_scene_frame.ts";

/** Moments a still picture shows the actions at. */
const MOMENTS = 4;

/**
 * The frames a still picture draws the actions at: of those the episode recorded, the
 * ones nearest to the start, a third, two thirds and the last step.
 *
 * @example
 * ```ts
 * stillMoments([0, 1, 2, 3, 4, 5, 6, 7, 8], 9); // [0, 3, 6, 8]
 * ```
 */
export function stillMoments(frames: readonly number[], steps: number): number[] {
  if (frames.length <= MOMENTS) return [...frames];
  const wanted = [0, steps / 3, (2 * steps) / 3, steps - 1];
  const picked = wanted.map((w) =>
    frames.reduce((best, f) => (Math.abs(f - w) < Math.abs(best - w) ? f : best), frames[0])
  );
  return [...new Set(picked)].sort((a, b) => a - b);
}

/**
 * The SVG of one drawn seed: both policies' episodes side by side.
 *
 * @example
 * ```ts ignore
 * const svg = renderSeedPicture(view, view.seeds[0], { names: { base: "SFT planner", refined: "SFT + delta" } });
 * ```
 */
export function renderSeedPicture(
  view: ViewData,
  seed: SeedData,
  o: { names: SceneNames; id: string },
): string {
  const { panel, plotHeight, gap, header, titles } = SCENE_LAYOUT;
  const width = 2 * panel + gap, legendTop = header + titles + plotHeight + 22;
  const draw = (v: Viewport, e: EpisodeData) => episodeStill(v, e, view.secondsPerStep);
  return sceneSvg({
    cls: "episode-picture",
    seed: seed.seed,
    width,
    height: legendTop + 40,
    title: `Held-out seed ${seed.seed}: ${seed.why}`,
  }, [
    ...scenePanels(view, seed, { ...o, draw }),
    `<g transform="translate(0,${legendTop})">${
      sceneLegend(view, { names: o.names, seed, width })
    }</g>`,
  ]);
}

// One episode as a still: the other bodies' paths and boxes, the agent's path, its box and
// the actions at the moments, its box at the end, and the end marker.
function episodeStill(v: Viewport, e: EpisodeData, seconds: number): string[] {
  const out: string[] = [];
  const last = e.steps;
  const drawn = e.final ?? e.base;
  const moments = stillMoments(drawn.frames, e.steps);
  for (let b = 1; b < e.bodies.length; b++) {
    out.push(
      `<path class="scene-path" data-body="${b}" d="${
        bodyPath(v, e, b)
      }" fill="none" stroke="${SCENE_COLORS.other}" stroke-width="1" stroke-opacity="0.7"/>`,
    );
    for (const f of moments) out.push(box(v, e, { body: b, frame: f, faint: true }));
    out.push(box(v, e, { body: b, frame: last, faint: false }));
  }
  out.push(
    `<path class="scene-path" data-body="0" d="${
      bodyPath(v, e, 0)
    }" fill="none" stroke="${SCENE_COLORS.agent}" stroke-width="2.5" stroke-linejoin="round"/>`,
  );
  const [sx, sy] = v.px(...(poseAt(e, 0, 0).slice(0, 2) as [number, number]));
  out.push(
    `<circle class="scene-start" cx="${sx}" cy="${sy}" r="4" fill="#fff" stroke="${SCENE_COLORS.agent}" stroke-width="2"/>`,
  );
  for (const f of moments) {
    out.push(box(v, e, { body: 0, frame: f, faint: true }));
    out.push(...plansAt(v, e, f));
    // the last moment is where the end marker and the panel's title say it is
    if (f === e.steps - 1 && e.marker) continue;
    const [x, y] = v.px(...(poseAt(e, 0, f).slice(0, 2) as [number, number]));
    out.push(
      `<text class="scene-time" x="${r1(x + 6)}" y="${
        r1(y + 16)
      }" font-size="10" fill="#333" stroke="#fff" stroke-width="2.5" paint-order="stroke">${
        formatNumber(f * seconds)
      } s</text>`,
    );
  }
  out.push(box(v, e, { body: 0, frame: last, faint: false }));
  if (e.marker) out.push(endMarker(v, e.marker));
  return out;
}

/** The path of body `b` through the episode's kept frames. */
export function bodyPath(v: Viewport, e: EpisodeData, b: number): string {
  const p = e.bodies[b].poses, flat: number[] = [];
  for (let i = 0; i < p.length; i += 3) flat.push(p[i], p[i + 1]);
  return pathD(v, flat);
}

// Body `body`'s box at `frame`: faint (a moment) or solid (the end).
function box(v: Viewport, e: EpisodeData, o: { body: number; frame: number; faint: boolean }) {
  const agent = o.body === 0;
  const color = agent ? SCENE_COLORS.agent : SCENE_COLORS.other;
  const pts = boxPoints(v, poseAt(e, o.body, o.frame), e.bodies[o.body]);
  const fill = o.faint
    ? `fill="${color}" fill-opacity="0.12" stroke-opacity="0.6"`
    : `fill="${color}"`;
  return `<polygon class="scene-body ${
    agent ? "agent" : "other"
  }" data-frame="${o.frame}" points="${pts}" ${fill} stroke="${color}" stroke-width="1"/>`;
}

// The actions drawn at `frame`: the base policy's (dashed) and the final one.
function plansAt(v: Viewport, e: EpisodeData, frame: number): string[] {
  const out: string[] = [];
  const tracks = [["base", e.base, SCENE_COLORS.base], [
    "final",
    e.final,
    SCENE_COLORS.final,
  ]] as const;
  for (const [kind, track, color] of tracks) {
    const k = track ? track.frames.indexOf(frame) : -1;
    if (!track || k < 0) continue;
    const path = track.paths[k];
    const dash = kind === "base" ? ` stroke-dasharray="5 3"` : "";
    const dots: string[] = [];
    for (let i = 0; i + 1 < path.length; i += 2) {
      const [x, y] = v.px(path[i], path[i + 1]);
      dots.push(`<circle cx="${x}" cy="${y}" r="2"/>`);
    }
    out.push(
      `<g class="scene-plan" data-policy="${kind}" data-frame="${frame}"><path d="${
        pathD(v, path)
      }" fill="none" stroke="${color}" stroke-width="1.75"${dash}/><g fill="${color}">${
        dots.join("")
      }</g></g>`,
    );
  }
  return out;
}
