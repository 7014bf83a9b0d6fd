/**
 * Axes of the report's charts: round tick values and their labels, compact number
 * format, y and x scales over finite values, and per-pixel thinning of long series.
 *
 * @module
 */

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
  // Far from zero, lo and hi may be a few doubles apart (2^62 and the next one): a step
  // below their spacing, or tick indices past 2^53, cannot be counted one by one.
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last) || last - first > 4 * count + 4) {
    return lo === hi ? [lo] : [lo, hi];
  }
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

/**
 * Tick labels: compact when that keeps them distinct, else with the digits they need.
 *
 * @example
 * ```ts
 * tickLabels([0, 0.5, 1]); // ["0", "0.5", "1"]
 * ```
 */
export function tickLabels(ticks: number[]): string[] {
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

/** A point (x, y); points with a non-finite coordinate are skipped. */
export type Point = readonly [x: number, y: number];

/**
 * Approximate advance width of sans-serif text, for layout without a font engine.
 *
 * @example
 * ```ts
 * textWidth("abc", 10); // 18
 * ```
 */
export function textWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.6;
}

/**
 * Finite and not so large that a range of them overflows to Infinity.
 *
 * @example
 * ```ts
 * plottable(1e301); // false
 * ```
 */
export function plottable(v: number): boolean {
  return Number.isFinite(v) && Math.abs(v) <= 1e300;
}

/**
 * The rows whose every value is {@linkcode plottable}, sorted by their first value.
 *
 * @example
 * ```ts
 * sortedPlottable([[2, 1], [1, NaN], [0, 3]]); // [[0, 3], [2, 1]]
 * ```
 */
export function sortedPlottable<T extends readonly number[]>(rows: ReadonlyArray<T>): T[] {
  return rows.filter((row) => row.every(plottable)).sort((a, b) => a[0] - b[0]);
}

/** A scale of one axis: its data range and tick values. */
export interface Scale {
  /** Data value at the axis' start. */
  lo: number;
  /** Data value at the axis' end. */
  hi: number;
  /** Tick values, inside [lo, hi]. */
  ticks: number[];
}

/**
 * Smallest and largest of `values` (Math.min(...values) would overflow the stack on a
 * long run's rewards).
 *
 * @example
 * ```ts
 * extent([3, 1, 2]); // [1, 3]
 * ```
 */
export function extent(values: number[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/**
 * A y scale from the nice ticks around `values`, a little beyond the outer ticks.
 *
 * @example
 * ```ts
 * yScale([0.3, 9.2]).ticks; // [0, 2, 4, 6, 8, 10]
 * ```
 */
export function yScale(values: number[]): Scale {
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

/**
 * An x scale spanning `values` with about `count` ticks inside it (whole numbers when
 * `integer`).
 *
 * @example
 * ```ts
 * xScale([1, 6], true, 5).ticks; // [1, 2, 3, 4, 5, 6]
 * ```
 */
export function xScale(values: number[], integer: boolean, count: number): Scale {
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

/**
 * Keeps the first, min, max and last point of each pixel column, so a long series
 * stays the same shape with at most ~4 points per column.
 *
 * @example
 * ```ts
 * decimate([[0, 1], [1, 2]], 0, { columns: 100, toPx: (x) => x }).length; // 2
 * ```
 */
export function decimate(
  points: Point[],
  x0: number,
  options: { columns: number; toPx: (x: number) => number },
): Point[] {
  const { columns, toPx } = options;
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

/**
 * Rounds an SVG coordinate to 0.1.
 *
 * @example
 * ```ts
 * r1(3.14159); // 3.1
 * ```
 */
export const r1 = (v: number): number => Math.round(v * 10) / 10;
