/**
 * The training report of a run folder as pure functions: parsed `metrics.json` and
 * `train_metrics.json` in, an SVG grid of line charts and a standalone HTML page out.
 * The chart renderer is this file's own (no libraries); values that are missing,
 * `null`, `NaN` or infinite are skipped point by point, never fatal.
 *
 * @module
 */

// ---------------------------------------------------------------------------------
// Text and numbers

/**
 * Escapes text for XML and HTML content and attribute values.
 *
 * @example
 * ```ts
 * escapeXml(`a < b & "c"`); // "a &lt; b &amp; &quot;c&quot;"
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ENTITIES[c]);
}

const XML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Formats a number compactly with `digits` significant digits: plain decimals for
 * magnitudes in [1e-3, 1e4), k/M/G suffixes above, exponent form below.
 *
 * @example
 * ```ts
 * formatNumber(0.012345); // "0.0123"
 * formatNumber(25000); // "25k"
 * formatNumber(3e-5); // "3e-5"
 * ```
 */
export function formatNumber(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return "0";
  const a = Math.abs(value);
  if (a >= 1e4 && a < 1e12) {
    const [scale, suffix] = a >= 1e9 ? [1e9, "G"] : a >= 1e6 ? [1e6, "M"] : [1e3, "k"];
    return `${Number((value / scale).toPrecision(digits))}${suffix}`;
  }
  if (a >= 1e-3 && a < 1e4) return String(Number(value.toPrecision(digits)));
  const [mantissa, exponent] = value.toExponential(digits - 1).split("e");
  return `${Number(mantissa)}e${Number(exponent)}`;
}

/**
 * Round tick values covering [lo, hi] with about `count` steps of 1, 2, 2.5 or 5
 * times a power of ten; `integer` keeps the step a whole number.
 *
 * @example
 * ```ts
 * niceTicks(0.3, 9.2, 5); // [0, 2, 4, 6, 8, 10]
 * ```
 */
export function niceTicks(
  lo: number,
  hi: number,
  count: number,
  options: { integer?: boolean; inside?: boolean } = {},
): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep((hi - lo) / Math.max(1, count), options.integer ?? false);
  const first = options.inside ? Math.ceil(lo / step - 1e-9) : Math.floor(lo / step + 1e-9);
  const last = options.inside ? Math.floor(hi / step + 1e-9) : Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  // Multiplying an integer by the step (not summing steps) keeps the float error to one rounding.
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

function niceStep(raw: number, integer: boolean): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  const step = (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * power;
  return integer ? Math.max(1, Math.round(step)) : step;
}

/** Tick labels: compact when that keeps them distinct, else with the digits they need. */
function tickLabels(ticks: number[]): string[] {
  const compact = ticks.map((t) => formatNumber(t));
  if (new Set(compact).size === compact.length) return compact;
  // Ticks close together far from zero (episode 1000100, 1000200): all their digits.
  if (ticks.length > 1 && ticks.every((t) => Math.abs(t) < 1e15)) {
    const step = Math.abs(ticks[1] - ticks[0]);
    let decimals = 0;
    while (
      decimals < 20 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-6
    ) {
      decimals++;
    }
    const fixed = ticks.map((t) => t.toFixed(decimals));
    if (new Set(fixed).size === fixed.length) return fixed;
  }
  for (let digits = 4; digits < 10; digits++) {
    const labels = ticks.map((t) => formatNumber(t, digits));
    if (new Set(labels).size === labels.length) return labels;
  }
  return ticks.map((t) => String(t));
}

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

/** A point (x, y); points with a non-finite coordinate are skipped. */
export type Point = readonly [x: number, y: number];

/** One line of a chart: drawn as one `<path class="series" data-metric=...>`. */
export interface Series {
  /** Machine name, written as `data-metric`. */
  metric: string;
  /** Legend text. */
  label: string;
  /** Data points in any order (drawn sorted by x). */
  points: ReadonlyArray<Point>;
  /** Stroke color, any SVG color, e.g. "#1f77b4". */
  color: string;
  /** Stroke width in px (default 1.75). */
  width?: number;
  /** Dashed stroke, for reference lines; a dashed series gets no markers. */
  dashed?: boolean;
  /** Stroke opacity, 0..1 (default opaque). */
  opacity?: number;
  /** Which y axis (default left); a panel with right series gets a second scale. */
  axis?: "left" | "right";
  /** A shaded band (x, low, high) drawn under the line, e.g. mean ± std. */
  band?: ReadonlyArray<readonly [x: number, low: number, high: number]>;
  /** Dots at the points (default: only when there are few). */
  markers?: boolean;
}

/** One chart of the grid. */
export interface Panel {
  /** Heading at the panel's top left. */
  title: string;
  /** Label of the x axis. */
  xLabel: string;
  /** Label of the left y axis. */
  yLabel: string;
  /** Label of the right y axis, for series with `axis: "right"`. */
  y2Label?: string;
  /** Lines to draw, in order; those without a plottable point are left out. */
  series: Series[];
  /** Shown under "no data" when no series has a point. */
  emptyNote?: string;
  /** Data x values are whole numbers (episodes): no fractional ticks. */
  integerX?: boolean;
}

/** Where a panel goes, in SVG user units. */
export interface PanelBox {
  /** Left edge. */
  x: number;
  /** Top edge (y grows downwards). */
  y: number;
  /** Width, axes and labels included. */
  width: number;
  /** Height, title and labels included. */
  height: number;
}

const FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif";
const TICK_FONT = 11;
const MARKER_MAX_POINTS = 40;

// Approximate advance width of sans-serif text, for layout without a font engine.
function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

// Finite and not so large that a range of them overflows to Infinity.
function plottable(v: number): boolean {
  return Number.isFinite(v) && Math.abs(v) <= 1e300;
}

function sortedPlottable<T extends readonly number[]>(rows: ReadonlyArray<T>): T[] {
  return rows.filter((row) => row.every(plottable)).sort((a, b) => a[0] - b[0]);
}

interface Scale {
  lo: number;
  hi: number;
  ticks: number[];
}

// Math.min(...values) would overflow the stack on a long run's rewards.
function extent(values: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

function yScale(values: number[]): Scale {
  let [lo, hi] = extent(values);
  if (hi - lo <= 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const ticks = niceTicks(lo, hi, 5);
  // A little room beyond the outer ticks keeps points and markers off the frame.
  const pad = 0.03 * (ticks[ticks.length - 1] - ticks[0]);
  return { lo: ticks[0] - pad, hi: ticks[ticks.length - 1] + pad, ticks };
}

function xScale(values: number[], integer: boolean, count: number): Scale {
  let [lo, hi] = extent(values);
  if (hi === lo) {
    const pad = integer ? 1 : Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const ticks = niceTicks(lo, hi, count, { integer, inside: true });
  const pad = 0.015 * (hi - lo);
  return { lo: lo - pad, hi: hi + pad, ticks };
}

// Keeps the min and max of each pixel column, so a long series stays the same shape
// with at most ~4 points per column.
function decimate(
  points: Point[],
  x0: number,
  columns: number,
  toPx: (x: number) => number,
): Point[] {
  if (points.length <= 4 * columns) return points;
  const out: Point[] = [];
  let column = -1;
  let first: Point = points[0], min: Point = first, max: Point = first, last: Point = first;
  const flush = () => {
    const keep = [first, min, max, last].sort((a, b) => a[0] - b[0]);
    for (const p of keep) if (out[out.length - 1] !== p) out.push(p);
  };
  for (const p of points) {
    const c = Math.floor(toPx(p[0]) - x0);
    if (c !== column) {
      if (column >= 0) flush();
      column = c;
      first =
        min =
        max =
        last =
          p;
    } else {
      if (p[1] < min[1]) min = p;
      if (p[1] > max[1]) max = p;
      last = p;
    }
  }
  flush();
  return out;
}

const r1 = (v: number) => Math.round(v * 10) / 10;

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

  const out: string[] = [`<g class="panel" transform="translate(${box.x},${box.y})">`];
  out.push(
    `<text x="12" y="20" font-size="14" font-weight="bold" fill="#222">${
      escapeXml(panel.title)
    }</text>`,
  );
  const onLeft = (s: Series) => rightOnly || s.axis !== "right";
  const yValues = (side: boolean) =>
    series.filter((s) => onLeft(s) === side).flatMap((s) => [
      ...s.points.map((p) => p[1]),
      ...(s.band ?? []).flatMap(([, lo, hi]) => [lo, hi]),
    ]);
  const ys = series.length > 0 ? yScale(yValues(true)) : null;
  const ys2 = hasRight ? yScale(yValues(false)) : null;
  const yLabels = ys ? tickLabels(ys.ticks) : [];
  const y2Labels = ys2 ? tickLabels(ys2.ticks) : [];

  // Margins make room for the widest tick label, then the rotated axis label.
  const room = (labels: string[]) =>
    Math.ceil(Math.max(0, ...labels.map((l) => textWidth(l, TICK_FONT))));
  const top = legend ? 52 : 36, bottom = 46;
  const left = Math.max(64, room(yLabels) + 30);
  const right = ys2 ? Math.max(64, room(y2Labels) + 30) : 22;
  const plotW = box.width - left - right, plotH = box.height - top - bottom;
  const px0 = left, py0 = top, px1 = left + plotW, py1 = top + plotH;
  out.push(
    `<rect x="${px0}" y="${py0}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#ccc"/>`,
  );

  if (ys === null) {
    const cx = px0 + plotW / 2, cy = py0 + plotH / 2;
    out.push(
      `<text class="no-data" x="${cx}" y="${cy}" text-anchor="middle" font-size="15" fill="#888">no data</text>`,
    );
    if (panel.emptyNote) {
      out.push(
        `<text x="${cx}" y="${cy + 20}" text-anchor="middle" font-size="11" fill="#999">${
          escapeXml(panel.emptyNote)
        }</text>`,
      );
    }
    out.push("</g>");
    return out.join("\n");
  }

  const xs = xScale(
    series.flatMap((s) => s.points.map((p) => p[0])),
    panel.integerX ?? false,
    Math.max(2, Math.floor(plotW / 90)),
  );
  const toX = (x: number) => px0 + ((x - xs.lo) / (xs.hi - xs.lo)) * plotW;
  const toY = (y: number, s: Scale) => py1 - ((y - s.lo) / (s.hi - s.lo)) * plotH;

  // Grid and ticks.
  ys.ticks.forEach((t, i) => {
    const y = r1(toY(t, ys));
    out.push(`<line x1="${px0}" y1="${y}" x2="${px1}" y2="${y}" stroke="#e4e4e4"/>`);
    out.push(
      `<text x="${px0 - 6}" y="${y + 4}" text-anchor="end" font-size="${TICK_FONT}" fill="#444">${
        escapeXml(yLabels[i])
      }</text>`,
    );
  });
  if (ys2) {
    const labels = y2Labels;
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

  // Axis labels.
  out.push(
    `<text class="axis-label" x="${px0 + plotW / 2}" y="${
      py1 + 36
    }" text-anchor="middle" font-size="12" fill="#222">${escapeXml(panel.xLabel)}</text>`,
  );
  const yLabel = rightOnly ? (panel.y2Label ?? panel.yLabel) : panel.yLabel;
  const yMid = py0 + plotH / 2;
  out.push(
    `<text class="axis-label" transform="translate(${
      px0 - room(yLabels) - 14
    },${yMid}) rotate(-90)" text-anchor="middle" font-size="12" fill="#222">${
      escapeXml(yLabel)
    }</text>`,
  );
  if (ys2) {
    out.push(
      `<text class="axis-label" transform="translate(${
        px1 + room(y2Labels) + 16
      },${yMid}) rotate(90)" text-anchor="middle" font-size="12" fill="#222">${
        escapeXml(panel.y2Label ?? "")
      }</text>`,
    );
  }

  // Bands, then lines, then markers on top.
  const columns = Math.max(1, Math.round(plotW));
  for (const s of series) {
    if (!s.band) continue;
    const scale = onLeft(s) ? ys : ys2!;
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
  for (const s of series) {
    const scale = onLeft(s) ? ys : ys2!;
    const pts = decimate(s.points, px0, columns, toX);
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
    out.push(`<path ${attrs.join(" ")}><title>${escapeXml(s.label)}</title></path>`);
  }
  for (const s of series) {
    const few = s.points.length <= MARKER_MAX_POINTS && !s.dashed;
    // A lone point is invisible as a line, whatever the series asks.
    if (!(s.points.length === 1 || (s.markers ?? few))) continue;
    const scale = onLeft(s) ? ys : ys2!;
    const dots = s.points.map(([x, y]) =>
      `<circle cx="${r1(toX(x))}" cy="${r1(toY(y, scale))}" r="3"/>`
    );
    out.push(
      `<g class="marker" fill="${s.color}" stroke="#fff" stroke-width="0.75">${dots.join("")}</g>`,
    );
  }

  if (legend) out.push(renderLegend(series, 12, 38, hasRight));
  out.push("</g>");
  return out.join("\n");
}

function bandOfOne(x: number, yHigh: number, yLow: number): string {
  return `M${r1(x - 3)},${r1(yHigh)} H${r1(x + 3)} V${r1(yLow)} H${r1(x - 3)} Z`;
}

function renderLegend(series: Series[], x0: number, y: number, twoScales: boolean): string {
  const items: string[] = [];
  let x = x0;
  for (const s of series) {
    if (s.label === "") continue; // e.g. the second and later of a group of like lines
    const label = twoScales ? `${s.label} (${s.axis === "right" ? "right" : "left"})` : s.label;
    const dash = s.dashed ? ` stroke-dasharray="7 5"` : "";
    const width = Math.min(3, Math.max(2, s.width ?? 1.75));
    items.push(
      `<line x1="${x}" y1="${y - 4}" x2="${x + 22}" y2="${
        y - 4
      }" stroke="${s.color}" stroke-width="${width}"${dash}/>`,
      `<text x="${x + 28}" y="${y}" font-size="11" fill="#333">${escapeXml(label)}</text>`,
    );
    x += 28 + textWidth(label, 11) + 18;
  }
  return `<g class="legend">${items.join("")}</g>`;
}

/** Options of {@linkcode renderChartGrid}. */
export interface GridOptions {
  /** Panels per row (default 2). */
  columns?: number;
  /** Width of one panel in SVG units (default 640). */
  panelWidth?: number;
  /** Height of one panel in SVG units (default 360). */
  panelHeight?: number;
  /** Space between columns, keeping one panel's right axis off the next one's left (default 28). */
  gap?: number;
  /** Heading above the grid. */
  title?: string;
  /** Smaller line under the heading. */
  subtitle?: string;
}

/**
 * Renders `panels` as a standalone SVG document, laid out in a grid.
 *
 * @example
 * ```ts
 * const svg = renderChartGrid([{ title: "kl", xLabel: "episode", yLabel: "kl", series: [] }], {
 *   title: "run_001",
 * });
 * svg.startsWith("<svg"); // true
 * ```
 */
export function renderChartGrid(panels: Panel[], options: GridOptions = {}): string {
  const columns = Math.max(1, options.columns ?? 2);
  const pw = options.panelWidth ?? 640, ph = options.panelHeight ?? 360, gap = options.gap ?? 28;
  const header = options.title ? (options.subtitle ? 58 : 40) : 0;
  const rows = Math.ceil(panels.length / columns);
  const width = columns * pw + (columns - 1) * gap, height = header + rows * ph + 8;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${FONT}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
  ];
  if (options.title) {
    out.push(
      `<text x="12" y="28" font-size="18" font-weight="bold" fill="#111">${
        escapeXml(options.title)
      }</text>`,
    );
  }
  if (options.title && options.subtitle) {
    out.push(
      `<text x="12" y="48" font-size="12" fill="#555">${escapeXml(options.subtitle)}</text>`,
    );
  }
  panels.forEach((panel, i) => {
    const box = {
      x: (i % columns) * (pw + gap),
      y: header + Math.floor(i / columns) * ph,
      width: pw,
      height: ph,
    };
    out.push(renderPanel(panel, box));
  });
  out.push("</svg>");
  return out.join("\n");
}

// ---------------------------------------------------------------------------------
// The report of a run

/** A run folder's parsed artifacts; any shape is accepted, missing keys are skipped. */
export interface RunReportData {
  /** Name shown in titles (the run folder's name). */
  name: string;
  /** Parsed `metrics.json`: one entry per eval interval. */
  metrics: ReadonlyArray<unknown>;
  /** Parsed `train_metrics.json`, or null when the run has none. */
  trainMetrics: unknown;
  /**
   * For an env other than driving: the metrics its `metrics.json` entries log (`key`,
   * with the base planner's as `sft_<key>` when `sft`), charted in the last panel in
   * place of ADE/FDE.
   */
  envMetrics?: ReadonlyArray<{ key: string; label: string; sft?: boolean }>;
}

/**
 * The number at a dotted `path` inside parsed JSON, or null when any step is missing
 * or the value is not a finite number.
 *
 * @example
 * ```ts
 * numberAt({ update: { kl: 0.01 } }, "update.kl"); // 0.01
 * numberAt({ update: null }, "update.kl"); // null
 * ```
 */
export function numberAt(value: unknown, path: string): number | null {
  const v = valueAt(value, path);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function valueAt(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function numberList(value: unknown): (number | null)[] {
  if (!Array.isArray(value)) return [];
  return value.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null));
}

const COLORS = {
  blue: "#1f77b4",
  lightBlue: "#8fb8dc",
  orange: "#ff7f0e",
  green: "#2ca02c",
  red: "#d62728",
  purple: "#9467bd",
  grey: "#555",
};

/**
 * The six panels of a run's report: episode return, held-out eval return against the
 * SFT planner, approx KL and clip fraction, entropy, delta norm, and ADE/FDE.
 *
 * @example
 * ```ts
 * const panels = reportPanels({ name: "run", metrics: [], trainMetrics: { rewards: [1, 2, 3] } });
 * panels.length; // 6
 * ```
 */
export function reportPanels(data: RunReportData): Panel[] {
  const entries = data.metrics;
  const episodes = entries.map((e, i) => numberAt(e, "episode") ?? i + 1);
  const series = (path: string): Point[] =>
    entries.flatMap((e, i) => {
      const v = numberAt(e, path);
      return v === null ? [] : [[episodes[i], v] as const];
    });
  const base = { xLabel: "episode", integerX: true };
  const missing = (keys: string, file = "metrics.json") => `no ${keys} in ${file}`;

  // 1. Episode return, thin, with a moving average on top.
  const rewards = numberList(valueAt(data.trainMetrics, "rewards"));
  const window = Math.max(5, Math.round(rewards.length / 20));
  const returnSeries: Series[] = rewards.length > 0
    ? [
      {
        metric: "reward",
        label: "episode return",
        points: rewards.map((r, i) => [i + 1, r ?? NaN] as const),
        color: COLORS.lightBlue,
        width: 1,
        markers: false,
      },
      {
        metric: "reward_ma",
        label: `moving average (${window} episodes)`,
        points: movingAverage(rewards, window).map((r, i) => [i + 1, r] as const),
        color: COLORS.blue,
        width: 2.5,
        markers: false,
      },
    ]
    : [{
      // Older or interrupted runs: the per-interval mean from metrics.json.
      metric: "mean_reward",
      label: "mean return per eval interval",
      points: series("mean_reward"),
      color: COLORS.blue,
      width: 2.5,
    }];

  // 2. Held-out return against the frozen SFT planner.
  // Reference lines span the entries' episodes (the episode count when there are none).
  const span = episodes.length > 0
    ? extent(episodes)
    : rewards.length > 0
    ? [1, rewards.length]
    : [];
  const sftPerEntry = series("sft_eval_return");
  // eval's names first; the older spellings for run folders written before them
  const sftConstant = numberAt(data.trainMetrics, "sft_eval.return_mean") ??
    numberAt(data.trainMetrics, "sft_eval.return") ??
    numberAt(data.trainMetrics, "heldout.sft.return_mean") ??
    numberAt(data.trainMetrics, "heldout.sft.mean_return");
  const sftLine = (value: number): Point[] =>
    span.length === 0
      ? []
      : span[0] === span[1]
      ? [[span[0], value]]
      : span.map((x) => [x, value] as const);
  let sftPoints: Point[] = [];
  if (sftPerEntry.length > 0) {
    const same = sftPerEntry.every((p) => p[1] === sftPerEntry[0][1]);
    sftPoints = same ? sftLine(sftPerEntry[0][1]) : sftPerEntry;
  } else if (sftConstant !== null) {
    sftPoints = sftLine(sftConstant);
  }
  const evalReturn = series("eval_return");
  // Runs without per-entry evals still have the final held-out evaluation: one point.
  const heldoutReturn = numberAt(data.trainMetrics, "heldout.refined.return_mean") ??
    numberAt(data.trainMetrics, "heldout.refined.mean_return");
  const finalPoint: Series[] = evalReturn.length === 0 && heldoutReturn !== null && span.length > 0
    ? [{
      metric: "heldout_return",
      label: "SFT + delta (final held-out)",
      points: [[span[1], heldoutReturn]],
      color: COLORS.red,
      width: 9,
      markers: false,
    }]
    : [];

  // 6. ADE / FDE, with the SFT planner's as dashed references when known.
  const sftAde = numberAt(data.trainMetrics, "sft_eval.ade_mean") ??
    numberAt(data.trainMetrics, "sft_eval.ade");
  const sftFde = numberAt(data.trainMetrics, "sft_eval.fde_mean") ??
    numberAt(data.trainMetrics, "sft_eval.fde");
  const ade = series("ade"), fde = series("fde");

  const deltaStd = new Map(series("eval.std_delta_norm").map(([x, s]) => [x, s]));
  const deltaMean = series("eval.mean_delta_norm");

  return [
    {
      ...base,
      title: "Episode return (training)",
      yLabel: "return",
      series: returnSeries,
      emptyNote: missing("rewards", "train_metrics.json"),
    },
    {
      ...base,
      title: "Held-out eval return vs SFT planner",
      yLabel: "mean return",
      series: [
        {
          metric: "eval_return",
          label: "SFT + delta (eval)",
          points: evalReturn,
          color: COLORS.red,
        },
        ...finalPoint,
        {
          metric: "sft_return",
          label: "SFT planner",
          points: sftPoints,
          color: COLORS.grey,
          dashed: true,
        },
      ],
      emptyNote: missing("eval_return / sft_eval_return"),
    },
    {
      ...base,
      title: "Approx KL and clip fraction",
      yLabel: "approx KL",
      y2Label: "clip fraction",
      series: [
        { metric: "kl", label: "approx KL", points: series("update.kl"), color: COLORS.blue },
        {
          metric: "clip_fraction",
          label: "clip fraction",
          points: series("update.clip_fraction"),
          color: COLORS.orange,
          axis: "right",
        },
      ],
      emptyNote: missing("update.kl / update.clip_fraction"),
    },
    {
      ...base,
      title: "Policy entropy",
      yLabel: "entropy (nats)",
      series: [{
        metric: "entropy",
        label: "entropy",
        points: series("update.entropy"),
        color: COLORS.green,
      }],
      emptyNote: missing("update.entropy"),
    },
    {
      ...base,
      title: "Delta norm (mean ± std)",
      yLabel: "|delta| (m)",
      series: [{
        metric: "delta_norm",
        label: "mean delta norm",
        points: deltaMean,
        color: COLORS.purple,
        band: deltaMean.flatMap(([x, m]) => {
          const s = deltaStd.get(x);
          return s === undefined ? [] : [[x, Math.max(0, m - s), m + s] as const];
        }),
      }],
      emptyNote: missing("eval.mean_delta_norm"),
    },
    data.envMetrics ? envMetricsPanel(data.envMetrics, { series, base }) : {
      ...base,
      title: "Waypoint error: ADE / FDE",
      yLabel: "error (m)",
      series: [
        { metric: "ade", label: "ADE", points: ade, color: COLORS.blue },
        { metric: "fde", label: "FDE", points: fde, color: COLORS.red },
        ...(sftAde !== null && ade.length > 0
          ? [{
            metric: "sft_ade",
            label: "SFT ADE",
            points: sftLine(sftAde),
            color: COLORS.blue,
            dashed: true,
          }]
          : []),
        ...(sftFde !== null && fde.length > 0
          ? [{
            metric: "sft_fde",
            label: "SFT FDE",
            points: sftLine(sftFde),
            color: COLORS.red,
            dashed: true,
          }]
          : []),
      ],
      emptyNote: missing("ade / fde"),
    },
  ];
}

// The last panel for an env other than driving: its logged metrics, the base planner's dashed.
function envMetricsPanel(
  metrics: NonNullable<RunReportData["envMetrics"]>,
  ctx: {
    series: (path: string) => Point[];
    base: { xLabel: string; integerX: boolean };
  },
): Panel {
  const palette = [COLORS.blue, COLORS.red, COLORS.green, COLORS.purple, COLORS.orange];
  const lines: Series[] = metrics.flatMap((m, i) => {
    const color = palette[i % palette.length];
    const own = ctx.series(m.key);
    const sft = m.sft ? ctx.series(`sft_${m.key}`) : [];
    return [
      { metric: m.key, label: m.label, points: own, color },
      ...(sft.length > 0
        ? [{ metric: `sft_${m.key}`, label: `base ${m.label}`, points: sft, color, dashed: true }]
        : []),
    ];
  });
  return {
    ...ctx.base,
    title: `Held-out metrics: ${metrics.map((m) => m.label).join(" / ")}`,
    yLabel: "mean",
    series: lines,
    emptyNote: `no ${metrics.map((m) => m.key).join(" / ")} in metrics.json`,
  };
}

/**
 * The report's SVG: the {@linkcode reportPanels} in a two-column grid.
 *
 * @example
 * ```ts
 * const svg = renderReportSvg({ name: "run_001", metrics: [], trainMetrics: null });
 * svg.includes("no data"); // true
 * ```
 */
export function renderReportSvg(data: RunReportData): string {
  const count = data.metrics.length;
  const last = data.metrics[count - 1];
  const parts = [`${count} metrics ${count === 1 ? "entry" : "entries"}`];
  const episode = numberAt(last, "episode");
  if (episode !== null) parts.push(`last at episode ${episode}`);
  const when = valueAt(last, "timestamp");
  if (typeof when === "string") parts.push(when);
  return renderChartGrid(reportPanels(data), {
    title: `delta-waypoint training report: ${data.name}`,
    subtitle: parts.join(" · "),
  });
}

/**
 * A standalone HTML page (no external resources): the run name as title, `svg`
 * inlined, and tables of the final metrics entry, the held-out evaluation and the
 * final summary when `train_metrics.json` has them.
 *
 * @example
 * ```ts
 * const data = { name: "run_001", metrics: [], trainMetrics: null };
 * const html = renderReportHtml(data, renderReportSvg(data));
 * ```
 */
export function renderReportHtml(data: RunReportData, svg: string): string {
  const name = escapeXml(data.name);
  const sections: string[] = [];
  const last = data.metrics[data.metrics.length - 1];
  const lastRows = flatten(last);
  if (lastRows.length > 0) {
    sections.push(
      `<section>\n<h2>Final metrics entry</h2>\n${keyValueTable(lastRows)}\n</section>`,
    );
  }
  const heldout = heldoutTable(data.trainMetrics);
  if (heldout) sections.push(`<section>\n<h2>Held-out evaluation</h2>\n${heldout}\n</section>`);
  const summary = [
    ...flatten(valueAt(data.trainMetrics, "final_metrics"), "final_metrics"),
    ...flatten(valueAt(data.trainMetrics, "sft_eval"), "sft_eval"),
    ...["wall_time_s", "env_steps", "env_steps_per_second", "start_time", "end_time"].flatMap((k) =>
      flatten({ [k]: valueAt(data.trainMetrics, k) })
    ),
  ];
  if (summary.length > 0) {
    sections.push(`<section>\n<h2>Training summary</h2>\n${keyValueTable(summary)}\n</section>`);
  }
  const config = valueAt(data.trainMetrics, "config");
  if (typeof config === "object" && config !== null) {
    sections.push(
      `<details><summary>Configuration</summary><pre>${
        escapeXml(JSON.stringify(config, null, 2))
      }</pre></details>`,
    );
  }
  if (data.metrics.length === 0 && data.trainMetrics === null) {
    sections.push("<p>No metrics yet.</p>");
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${name}: delta-waypoint report</title>
<style>
body { font-family: ${FONT}; margin: 16px 24px; color: #222; }
h2 { font-size: 16px; margin: 20px 0 8px; }
p { font-size: 13px; margin: 0 0 6px; }
.tables { display: flex; flex-wrap: wrap; gap: 0 40px; align-items: flex-start; }
.tables details { flex-basis: 100%; }
.chart svg { max-width: 100%; height: auto; border: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 10px; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
pre { font-size: 12px; background: #f7f7f7; padding: 8px; }
</style>
</head>
<body>
<div class="chart">
${svg}
</div>
<div class="tables">
${sections.join("\n")}
</div>
</body>
</html>
`;
}

// Leaves of a JSON object as (dotted key, shown value), numbers and strings only.
function flatten(value: unknown, prefix = ""): [string, string, boolean][] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const rows: [string, string, boolean][] = [];
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (typeof v === "number") rows.push([name, showNumber(key, v), true]);
    else if (typeof v === "string" || typeof v === "boolean") rows.push([name, String(v), false]);
    else if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      rows.push(...flatten(v, name));
    }
  }
  return rows;
}

function showNumber(key: string, v: number): string {
  if (key.includes("success") && v >= 0 && v <= 1) return `${formatNumber(100 * v, 3)}%`;
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  return formatNumber(v, 4);
}

function keyValueTable(rows: [string, string, boolean][]): string {
  const body = rows.map(([k, v, num]) =>
    `<tr><th>${escapeXml(k)}</th><td${num ? ` class="num"` : ""}>${escapeXml(v)}</td></tr>`
  );
  return `<table>\n${body.join("\n")}\n</table>`;
}

function heldoutTable(trainMetrics: unknown): string | null {
  const rows = [["sft", "SFT planner"], ["refined", "SFT + delta"]].filter(([key]) =>
    typeof valueAt(trainMetrics, `heldout.${key}`) === "object"
  );
  if (rows.length === 0) return null;
  // eval's names, or the older spelling of a run folder written before them
  const cell = (key: string, field: string, older: string) => {
    const v = numberAt(trainMetrics, `heldout.${key}.${field}`) ??
      numberAt(trainMetrics, `heldout.${key}.${older}`);
    return `<td class="num">${v === null ? "–" : escapeXml(showNumber(field, v))}</td>`;
  };
  const body = rows.map(([key, label]) =>
    `<tr><th>${label}</th>${cell(key, "return_mean", "mean_return")}${
      cell(key, "success_rate", "success_rate")
    }${cell(key, "steps_mean", "mean_length")}</tr>`
  );
  const seeds = valueAt(trainMetrics, "heldout.seeds");
  const note =
    Array.isArray(seeds) && seeds.length === 2 && seeds.every((s) => typeof s === "number")
      ? `<p>${seeds[1]} episodes, seeds ${seeds[0]}..${seeds[0] + seeds[1] - 1}</p>\n`
      : "";
  return `${note}<table>
<tr><th>policy</th><th>mean return</th><th>success rate</th><th>mean length</th></tr>
${body.join("\n")}
</table>`;
}
