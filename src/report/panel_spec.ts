/**
 * A chart as data: its lines (points, an optional band, style, which y axis), its
 * title and labels, and the box it is drawn in (`chart.ts` draws it).
 *
 * @module
 */

import type { Point } from "./axes.ts";

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
  /**
   * The left axis spans exactly this range whatever the data (a percentage: [0, 100]);
   * the caller keeps its values inside it.
   */
  yDomain?: readonly [lo: number, hi: number];
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
