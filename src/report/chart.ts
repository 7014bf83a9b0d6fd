/**
 * One line chart as an SVG fragment: title, axes, ticks, lines, bands, markers and a
 * legend. It knows nothing of RL; values that are missing, `null`, `NaN` or infinite
 * are skipped point by point, never fatal.
 *
 * @module
 */

import { decimate, r1, sortedPlottable, textWidth, tickLabels, xScale, yScale } from "./axes.ts";
import type { Point, Scale } from "./axes.ts";
import type { Panel, PanelBox, Series } from "./panel_spec.ts";
import { legendRows, renderLegend } from "./_legend.ts";
import { escapeXml } from "./_xml.ts";

export { escapeXml };

export type { Panel, PanelBox, Series } from "./panel_spec.ts";
export type { Point };

// ---------------------------------------------------------------------------------
// Smoothing

/**
 * Trailing moving average over `window` values; the first values average what there
 * is so far, and non-finite values are left out of every mean (`NaN` if none is left).
 *
 * @example
 * ```ts
 * movingAverage([1, 2, 3, 4], 2); // [1, 1.5, 2.5, 3.5]
 * ```
 */
export function movingAverage(values: ReadonlyArray<number | null>, window: number): number[] {
  const out = new Array<number>(values.length);
  let sum = 0, n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === "number" && Number.isFinite(v)) (sum += v), n++;
    const old = i >= window ? values[i - window] : null;
    if (typeof old === "number" && Number.isFinite(old)) (sum -= old), n--;
    out[i] = n > 0 ? sum / n : NaN;
  }
  return out;
}

// ---------------------------------------------------------------------------------
// Line charts

/** Font family of every chart and page of the report. */
export const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
const MARKER_MAX_POINTS = 40;

/**
 * Renders one chart (title, legend, axes, ticks, series) as an SVG `<g>` fragment
 * placed in `box`; a chart whose series have no finite point says "no data".
 *
 * @example
 * ```ts
 * const g = renderPanel({
 *   title: "entropy",
 *   xLabel: "episode",
 *   yLabel: "entropy (nats)",
 *   series: [{ metric: "entropy", label: "entropy", color: "#2ca02c", points: [[10, 1.2], [20, 1.1]] }],
 * }, { x: 0, y: 0, width: 600, height: 340 });
 * ```
 */
export function renderPanel(panel: Panel, box: PanelBox): string {
  const plot = plotArea(panel, box);
  const { px0, py0, plotW, plotH } = plot;
  const out: string[] = [`<g class="panel" transform="translate(${box.x},${box.y})">`];
  out.push(
    `<text x="12" y="20" font-size="14" font-weight="bold" fill="#222">${
      escapeXml(panel.title)
    }</text>`,
  );
  out.push(
    `<rect x="${px0}" y="${py0}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  );
  if (plot.ys === null) {
    out.push(...noData(plot, panel), "</g>");
    return out.join("\n");
  }
  const axes = plotAxes({ ...plot, ys: plot.ys }, panel);
  out.push(...gridAndTicks(axes, box), ...axisLabels(axes, panel));
  // Bands, then lines, then markers on top.
  out.push(...bands(axes), ...lines(axes), ...markers(axes));
  if (plot.legend) {
    out.push(renderLegend(plot.series, { x0: 12, y: 38, box, twoScales: plot.hasRight }));
  }
  out.push("</g>");
  return out.join("\n");
}

/** Font size of the tick labels, px. */
const TICK_FONT = 11;

/** A series of a panel with its plottable points (and band rows), sorted by x. */
type PlottedSeries = Omit<Series, "points" | "band"> & {
  points: Point[];
  band?: Array<readonly [x: number, low: number, high: number]>;
};

// A panel's series with points (sorted, plottable), which scale each is on, the y
// scales (null: no data) and their tick labels, and the plot area left inside the
// margins, which make room for the widest tick label, then the rotated axis label.
interface PlotArea {
  series: PlottedSeries[];
  onLeft: (s: Series) => boolean;
  ys: Scale | null;
  ys2: Scale | null;
  yLabels: string[];
  y2Labels: string[];
  hasRight: boolean;
  rightOnly: boolean;
  legend: boolean;
  plotW: number;
  plotH: number;
  px0: number;
  py0: number;
  px1: number;
  py1: number;
}

function plotArea(panel: Panel, box: PanelBox): PlotArea {
  const series = panel.series
    .map((s) => ({
      ...s,
      points: sortedPlottable(s.points),
      band: s.band && sortedPlottable(s.band),
    }))
    .filter((s) => s.points.length > 0);
  // A right scale alone is just a scale: move it to the left.
  const hasLeft = series.some((s) => s.axis !== "right");
  const hasRight = hasLeft && series.some((s) => s.axis === "right");
  const rightOnly = !hasLeft && series.length > 0;
  const legend = series.length > 1;
  const onLeft = (s: Series) => rightOnly || s.axis !== "right";
  const yValues = (side: boolean) =>
    series.filter((s) => onLeft(s) === side).flatMap((s) => [
      ...s.points.map((p) => p[1]),
      ...(s.band ?? []).flatMap(([, lo, hi]) => [lo, hi]),
    ]);
  const ys = series.length === 0
    ? null
    : yScale(panel.yDomain ? [...panel.yDomain] : yValues(true));
  const ys2 = hasRight ? yScale(yValues(false)) : null;
  const yLabels = ys ? tickLabels(ys.ticks) : [];
  const y2Labels = ys2 ? tickLabels(ys2.ticks) : [];
  const rows = legend ? legendRows(series, { width: box.width - 24, twoScales: hasRight }) : 0;
  const top = legend ? 52 + 16 * (rows - 1) : 36, bottom = 46;
  const left = Math.max(64, labelRoom(yLabels) + 30);
  const right = ys2 ? Math.max(64, labelRoom(y2Labels) + 30) : 22;
  const plotW = box.width - left - right, plotH = box.height - top - bottom;
  return {
    ...{ series, onLeft, ys, ys2, yLabels, y2Labels, hasRight, rightOnly, legend },
    ...{ plotW, plotH, px0: left, py0: top, px1: left + plotW, py1: top + plotH },
  };
}

// The width tick labels need, px.
function labelRoom(labels: string[]): number {
  return Math.ceil(Math.max(0, ...labels.map((l) => textWidth(l, TICK_FONT))));
}

// A plot area with data: its x scale, and where a data point goes in the panel.
interface PlotAxes extends PlotArea {
  ys: Scale;
  xs: Scale;
  toX: (x: number) => number;
  toY: (y: number, s: Scale) => number;
}

function plotAxes(plot: PlotArea & { ys: Scale }, panel: Panel): PlotAxes {
  const { series, px0, py1, plotW, plotH } = plot;
  const xs = xScale(
    series.flatMap((s) => s.points.map((p) => p[0])),
    panel.integerX ?? false,
    Math.max(2, Math.floor(plotW / 90)),
  );
  const toX = (x: number) => px0 + ((x - xs.lo) / (xs.hi - xs.lo)) * plotW;
  const toY = (y: number, s: Scale) => py1 - ((y - s.lo) / (s.hi - s.lo)) * plotH;
  return { ...plot, xs, toX, toY };
}

function noData(plot: PlotArea, panel: Panel): string[] {
  const cx = plot.px0 + plot.plotW / 2, cy = plot.py0 + plot.plotH / 2;
  const out = [
    `<text class="no-data" x="${cx}" y="${cy}" text-anchor="middle" font-size="15" fill="#888">no data</text>`,
  ];
  if (panel.emptyNote) {
    out.push(
      `<text x="${cx}" y="${cy + 20}" text-anchor="middle" font-size="11" fill="#999">${
        escapeXml(panel.emptyNote)
      }</text>`,
    );
  }
  return out;
}

// Grid lines and ticks with their labels, then the axes.
function gridAndTicks(a: PlotAxes, box: PanelBox): string[] {
  const { ys, ys2, xs, toX, toY, px0, px1, py0, py1 } = a;
  const out: string[] = [];
  ys.ticks.forEach((t, i) => {
    const y = r1(toY(t, ys));
    out.push(`<line x1="${px0}" y1="${y}" x2="${px1}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(
      `<text x="${px0 - 6}" y="${y + 4}" text-anchor="end" font-size="${TICK_FONT}" fill="#444">${
        escapeXml(a.yLabels[i])
      }</text>`,
    );
  });
  if (ys2) {
    const labels = a.y2Labels;
    ys2.ticks.forEach((t, i) => {
      const y = r1(toY(t, ys2));
      out.push(`<line x1="${px1}" y1="${y}" x2="${px1 + 4}" y2="${y}" stroke="#666"/>`);
      out.push(
        `<text x="${px1 + 7}" y="${y + 4}" font-size="${TICK_FONT}" fill="#444">${
          escapeXml(labels[i])
        }</text>`,
      );
    });
  }
  const xLabels = tickLabels(xs.ticks);
  xs.ticks.forEach((t, i) => {
    const x = r1(toX(t));
    // A label that would stick out past the panel's right edge ends at its tick instead.
    const anchor = x + textWidth(xLabels[i], TICK_FONT) / 2 > box.width - 4 ? "end" : "middle";
    out.push(`<line x1="${x}" y1="${py1}" x2="${x}" y2="${py1 + 4}" stroke="#666"/>`);
    out.push(
      `<text x="${x}" y="${
        py1 + 17
      }" text-anchor="${anchor}" font-size="${TICK_FONT}" fill="#444">${
        escapeXml(xLabels[i])
      }</text>`,
    );
  });
  out.push(
    `<path d="M${px0},${py0} V${py1} H${px1}${ys2 ? ` V${py0}` : ""}" fill="none" stroke="#666"/>`,
  );
  return out;
}

function axisLabels(a: PlotAxes, panel: Panel): string[] {
  const { px0, px1, py0, py1, plotW, plotH } = a;
  const out = [
    `<text class="axis-label" x="${px0 + plotW / 2}" y="${
      py1 + 36
    }" text-anchor="middle" font-size="12" fill="#222">${escapeXml(panel.xLabel)}</text>`,
  ];
  const yLabel = a.rightOnly ? (panel.y2Label ?? panel.yLabel) : panel.yLabel;
  const yMid = py0 + plotH / 2;
  out.push(
    `<text class="axis-label" transform="translate(${
      px0 - labelRoom(a.yLabels) - 14
    },${yMid}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">${
      escapeXml(yLabel)
    }</text>`,
  );
  if (a.ys2) {
    out.push(
      `<text class="axis-label" transform="translate(${
        px1 + labelRoom(a.y2Labels) + 16
      },${yMid}) rotate(90)" text-anchor="middle" font-size="12" fill="#222">${
        escapeXml(panel.y2Label ?? "")
      }</text>`,
    );
  }
  return out;
}

function bands(a: PlotAxes): string[] {
  const { toX, toY } = a;
  const out: string[] = [];
  for (const s of a.series) {
    if (!s.band) continue;
    const scale = a.onLeft(s) ? a.ys : a.ys2!;
    const band = s.band;
    if (band.length === 0) continue;
    const upper = band.map(([x, , hi]) => `${r1(toX(x))},${r1(toY(hi, scale))}`);
    const lower = band.map(([x, lo]) => `${r1(toX(x))},${r1(toY(lo, scale))}`).reverse();
    // A band of one point would be a vertical segment: give it a little width.
    const d = band.length === 1
      ? bandOfOne(toX(band[0][0]), toY(band[0][2], scale), toY(band[0][1], scale))
      : `M${upper.join(" L")} L${lower.join(" L")} Z`;
    out.push(
      `<path class="band" data-metric="${
        escapeXml(s.metric)
      }_band" d="${d}" fill="${s.color}" fill-opacity="0.15" stroke="none"/>`,
    );
  }
  return out;
}

function lines(a: PlotAxes): string[] {
  const { toX, toY } = a;
  const columns = Math.max(1, Math.round(a.plotW));
  return a.series.map((s) => {
    const scale = a.onLeft(s) ? a.ys : a.ys2!;
    const pts = decimate(s.points, a.px0, { columns, toPx: toX });
    const d = pts.map(([x, y], i) => `${i === 0 ? "M" : "L"}${r1(toX(x))},${r1(toY(y, scale))}`)
      .join(" ");
    const attrs = [
      `class="series"`,
      `data-metric="${escapeXml(s.metric)}"`,
      `d="${pts.length === 1 ? `${d} h0` : d}"`,
      `fill="none"`,
      `stroke="${s.color}"`,
      `stroke-width="${s.width ?? 1.75}"`,
      `stroke-linejoin="round"`,
      `stroke-linecap="round"`,
    ];
    if (s.dashed) attrs.push(`stroke-dasharray="7 5"`);
    if (s.opacity !== undefined) attrs.push(`stroke-opacity="${s.opacity}"`);
    return `<path ${attrs.join(" ")}><title>${escapeXml(s.label)}</title></path>`;
  });
}

function markers(a: PlotAxes): string[] {
  const out: string[] = [];
  for (const s of a.series) {
    const few = s.points.length <= MARKER_MAX_POINTS && !s.dashed;
    // A lone point is invisible as a line, whatever the series asks.
    if (!(s.points.length === 1 || (s.markers ?? few))) continue;
    const scale = a.onLeft(s) ? a.ys : a.ys2!;
    const dots = s.points.map(([x, y]) =>
      `<circle cx="${r1(a.toX(x))}" cy="${r1(a.toY(y, scale))}" r="3"/>`
    );
    out.push(
      `<g class="marker" fill="${s.color}" stroke="#fff" stroke-width="0.75">${dots.join("")}</g>`,
    );
  }
  return out;
}

function bandOfOne(x: number, yHigh: number, yLow: number): string {
  return `M${r1(x - 3)},${r1(yHigh)} H${r1(x + 3)} V${r1(yLow)} H${r1(x - 3)} Z`;
}
