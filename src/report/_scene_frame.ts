/**
 * What the episode pictures and their animation share: the world-to-pixel viewport of a
 * drawn seed (one scale for both policies, y up), the colours, the background (route
 * band, centre line, points), boxes, polylines, end markers, the scale bar and the legend.
 * Everything is drawn from the checked `episodes.json` primitives; no env is known here.
 *
 * @module
 */

import { formatNumber, niceTicks, r1, textWidth } from "./axes.ts";
import { escapeXml, FONT } from "./chart.ts";
import type { EpisodeData, LineData, PointData, SeedData, ViewData } from "./episodes_data.ts";

/** Colours of the pictures. */
export const SCENE_COLORS = {
  band: "#e6e6e6",
  centre: "#b5b5b5",
  goal: "#2ca02c",
  agent: "#1f4e9c",
  other: "#7f7f7f",
  base: "#ff7f0e",
  final: "#1f77b4",
  bad: "#d62728",
  good: "#2ca02c",
};

/** How a seed's panels are named: the base policy and base + delta. */
export interface SceneNames {
  /** E.g. "SFT planner". */
  base: string;
  /** E.g. "SFT + delta". */
  refined: string;
}

/** Sizes of a seed's picture (px). */
export const SCENE_LAYOUT = { panel: 460, plotHeight: 380, gap: 24, header: 34, titles: 40 };

/** World (x, y up) to pixels in a plot area. */
export interface Viewport {
  /** Pixels per world unit. */
  scale: number;
  /** The pixel point of world (x, y). */
  px(x: number, y: number): [number, number];
  /** Plot width and height (px). */
  width: number;
  height: number;
}

// The pose of body `b` at the latest kept frame at or before `frame`.
export function poseAt(e: EpisodeData, b: number, frame: number): [number, number, number] {
  let k = 0;
  while (k + 1 < e.frames.length && e.frames[k + 1] <= frame) k++;
  const p = e.bodies[b].poses;
  return [p[3 * k], p[3 * k + 1], p[3 * k + 2]];
}

/**
 * The viewport of a seed in a `width` x `height` plot: the background, the agent's
 * poses, the end markers and the drawn actions of both episodes, padded, at one scale.
 */
export function viewportOf(seed: SeedData, box: { width: number; height: number }): Viewport {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  const add = (x: number, y: number, pad = 0) => {
    x0 = Math.min(x0, x - pad), x1 = Math.max(x1, x + pad);
    y0 = Math.min(y0, y - pad), y1 = Math.max(y1, y + pad);
  };
  const addFlat = (points: number[], pad = 0) => {
    for (let i = 0; i + 1 < points.length; i += 2) add(points[i], points[i + 1], pad);
  };
  for (const l of seed.lines) addFlat(l.points, (l.width ?? 0) / 2);
  for (const p of seed.points) add(p.x, p.y);
  for (const e of [seed.base, seed.refined]) {
    const agent = e.bodies[0];
    for (let i = 0; i < agent.poses.length; i += 3) {
      add(agent.poses[i], agent.poses[i + 1], agent.length / 2);
    }
    if (e.marker) add(e.marker.x, e.marker.y);
    for (const a of [e.base, e.final]) for (const p of a?.paths ?? []) addFlat(p);
  }
  if (!Number.isFinite(x0)) x0 = y0 = -1, x1 = y1 = 1;
  const pad = 0.04 * Math.max(x1 - x0, y1 - y0, 1e-9);
  x0 -= pad, x1 += pad, y0 -= pad, y1 += pad;
  const scale = Math.min(box.width / Math.max(x1 - x0, 1e-9), box.height / Math.max(y1 - y0, 1e-9));
  const ox = (box.width - scale * (x1 - x0)) / 2, oy = (box.height - scale * (y1 - y0)) / 2;
  return {
    scale,
    width: box.width,
    height: box.height,
    px: (x, y) => [r1(ox + (x - x0) * scale), r1(box.height - oy - (y - y0) * scale)],
  };
}

/** An SVG path through flat world points. */
export function pathD(v: Viewport, points: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i + 1 < points.length; i += 2) {
    const [x, y] = v.px(points[i], points[i + 1]);
    out.push(`${out.length === 0 ? "M" : "L"}${x},${y}`);
  }
  return out.join(" ");
}

/** The corners of an oriented box as an SVG polygon's points. */
export function boxPoints(v: Viewport, pose: [number, number, number], size: {
  length: number;
  width: number;
}): string {
  const [x, y, yaw] = pose, c = Math.cos(yaw), s = Math.sin(yaw);
  const hl = size.length / 2, hw = size.width / 2;
  return [[hl, hw], [hl, -hw], [-hl, -hw], [-hl, hw]].map(([a, b]) =>
    v.px(x + c * a - s * b, y + s * a + c * b).join(",")
  ).join(" ");
}

/** The background: each line's band (its width) and centre line, then the points. */
export function background(v: Viewport, lines: LineData[], points: PointData[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const d = pathD(v, l.points);
    if (l.width !== undefined && l.width > 0) {
      out.push(
        `<path class="scene-band" d="${d}" fill="none" stroke="${SCENE_COLORS.band}" stroke-width="${
          r1(Math.max(1, l.width * v.scale))
        }" stroke-linejoin="round" stroke-linecap="round"/>`,
      );
    }
    out.push(
      `<path class="scene-line" d="${d}" fill="none" stroke="${SCENE_COLORS.centre}" stroke-width="1" stroke-dasharray="6 4"/>`,
    );
  }
  for (const p of points) {
    const [x, y] = v.px(p.x, p.y);
    out.push(
      `<g class="scene-point"><circle cx="${x}" cy="${y}" r="7" fill="none" stroke="${SCENE_COLORS.goal}" stroke-width="2.5"/><circle cx="${x}" cy="${y}" r="2.5" fill="${SCENE_COLORS.goal}"/><title>${
        escapeXml(p.label)
      }</title></g>`,
    );
  }
  return out;
}

/** The end marker: a cross (bad) or a ring (good, or unmarked) with its label. */
export function endMarker(v: Viewport, m: PointData): string {
  const [x, y] = v.px(m.x, m.y);
  const color = m.kind === "good" ? SCENE_COLORS.good : SCENE_COLORS.bad;
  const shape = m.kind === "good"
    ? `<circle cx="${x}" cy="${y}" r="9" fill="none" stroke="${color}" stroke-width="3"/>`
    : `<path d="M${r1(x - 8)},${r1(y - 8)} L${r1(x + 8)},${r1(y + 8)} M${r1(x - 8)},${r1(y + 8)} L${
      r1(x + 8)
    },${r1(y - 8)}" stroke="${color}" stroke-width="3.5" stroke-linecap="round"/>`;
  // by the plot's right edge, the label goes to the marker's left
  const left = x + 12 + textWidth(m.label, 12) > v.width - 4;
  const label = `<text x="${r1(left ? x - 12 : x + 12)}" y="${r1(y - 10)}"${
    left ? ` text-anchor="end"` : ""
  } font-size="12" font-weight="bold" fill="${color}" stroke="#fff" stroke-width="3" paint-order="stroke">${
    escapeXml(m.label)
  }</text>`;
  return `<g class="scene-end" data-kind="${m.kind ?? "none"}" data-label="${
    escapeXml(m.label)
  }">${shape}${label}</g>`;
}

/** A scale bar of a round length at the plot's bottom left. */
export function scaleBar(v: Viewport, unit: string): string {
  const target = v.width / (5 * v.scale);
  const ticks = niceTicks(0, target, 1);
  const length = ticks.length > 1 ? ticks[1] : target;
  const w = r1(length * v.scale), y = v.height - 10;
  return `<g class="scale-bar"><path d="M10,${y - 4} V${y} H${r1(10 + w)} V${
    y - 4
  }" fill="none" stroke="#444" stroke-width="1.5"/><text x="${r1(10 + w + 6)}" y="${
    y + 1
  }" font-size="11" fill="#444">${escapeXml(`${formatNumber(length)} ${unit}`)}</text></g>`;
}

/** The title lines of a panel: the policy, then how its episode ended. */
export function panelTitles(name: string, e: EpisodeData, seconds: number): string[] {
  const time = formatNumber(e.steps * seconds);
  return [
    `<text x="0" y="14" font-size="14" font-weight="bold" fill="#222">${escapeXml(name)}</text>`,
    `<text x="0" y="32" font-size="12" fill="#444">${
      escapeXml(
        `${e.ended} after ${e.steps} steps (${time} s) · return ${formatNumber(e.return, 4)}`,
      )
    }</text>`,
  ];
}

/** The legend of a seed's picture, for what it draws, in rows 18 px apart within `width`. */
export function sceneLegend(view: ViewData, o: {
  names: SceneNames;
  seed: SeedData;
  width: number;
}): string {
  const { legend } = view, { seed } = o;
  const hasOthers = [seed.base, seed.refined].some((e) => e.bodies.length > 1);
  const markers = [seed.base.marker, seed.refined.marker].filter((m) => m !== null);
  const items: [string, string][] = [
    [`<rect x="0" y="-6" width="22" height="10" fill="${SCENE_COLORS.band}"/>`, legend.lines],
    [
      `<circle cx="11" cy="-1" r="5" fill="none" stroke="${SCENE_COLORS.goal}" stroke-width="2"/>`,
      legend.points,
    ],
    [
      `<rect x="4" y="-5" width="14" height="8" fill="${SCENE_COLORS.agent}"/>`,
      `${legend.agent} and its path`,
    ],
    ...(hasOthers
      ? [
        [
          `<rect x="4" y="-5" width="14" height="8" fill="${SCENE_COLORS.other}"/>`,
          legend.others ?? "others",
        ] as [string, string],
      ]
      : []),
    [
      `<path d="M0,-1 H22" stroke="${SCENE_COLORS.base}" stroke-width="2" stroke-dasharray="5 3"/>`,
      `${o.names.base}'s ${legend.action}`,
    ],
    [
      `<path d="M0,-1 H22" stroke="${SCENE_COLORS.final}" stroke-width="2"/>`,
      `${o.names.refined} ${legend.action}`,
    ],
    ...[...new Set(markers.map((m) => `${m!.kind ?? "none"}\u0000${m!.label}`))].map((key) => {
      const [kind, label] = key.split("\u0000");
      const color = kind === "good" ? SCENE_COLORS.good : SCENE_COLORS.bad;
      return [`<circle cx="11" cy="-1" r="4" fill="${color}"/>`, label] as [string, string];
    }),
  ];
  let x = 0, y = 0;
  const out: string[] = [];
  for (const [swatch, label] of items) {
    const w = 28 + textWidth(label, 11) + 16;
    if (x + w > o.width && x > 0) (x = 0), (y += 18);
    out.push(
      `<g transform="translate(${
        r1(x)
      },${y})">${swatch}<text x="28" y="3" font-size="11" fill="#333">${
        escapeXml(label)
      }</text></g>`,
    );
    x += w;
  }
  return `<g class="legend">${out.join("")}</g>`;
}

/**
 * The two panels of a seed's scene side by side, the base policy alone and the refined
 * policy, each with its titles, the background, its episode as `draw` draws it (clipped to
 * the panel) and a scale bar.
 */
export function scenePanels(
  view: ViewData,
  seed: SeedData,
  o: { names: SceneNames; id: string; draw: (v: Viewport, e: EpisodeData) => string[] },
): string[] {
  const { panel, plotHeight, gap, header, titles } = SCENE_LAYOUT;
  const v = viewportOf(seed, { width: panel, height: plotHeight });
  return [
    { e: seed.base, name: `${o.names.base} alone` },
    { e: seed.refined, name: o.names.refined },
  ].map(({ e, name }, k) => {
    const clip = `${o.id}-clip-${k}`;
    return [
      `<g class="scene-panel" data-policy="${k === 0 ? "base" : "refined"}" transform="translate(${
        k * (panel + gap)
      },${header})">`,
      ...panelTitles(name, e, view.secondsPerStep),
      `<g transform="translate(0,${titles})">`,
      `<clipPath id="${clip}"><rect width="${panel}" height="${plotHeight}"/></clipPath>`,
      `<rect width="${panel}" height="${plotHeight}" fill="#fcfcfc" stroke="#ccc"/>`,
      `<g clip-path="url(#${clip})">`,
      ...background(v, seed.lines, seed.points),
      ...o.draw(v, e),
      "</g>",
      scaleBar(v, view.unit),
      "</g>",
      "</g>",
    ].join("\n");
  });
}

/** A scene's SVG document: white, `title` on top, then `body`. */
export function sceneSvg(
  o: { cls: string; seed: number; width: number; height: number; title: string },
  body: string[],
): string {
  const { width, height } = o;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="${o.cls}" data-seed="${o.seed}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="0" y="18" font-size="15" font-weight="bold" fill="#111">${escapeXml(o.title)}</text>`,
    ...body,
    "</svg>",
  ].join("\n");
}
