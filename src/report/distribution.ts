/**
 * The distribution of the held-out returns, episode by episode, of the base policy alone
 * and of base + delta: two histograms on shared bins (steps with a shaded area), each
 * policy's mean as a dashed vertical line, and the expert's mean where it is known.
 *
 * @module
 */

import { extent } from "./axes.ts";
import type { Panel, Point, Series } from "./chart.ts";

/** What the histogram compares. */
export interface ReturnDistribution {
  /** The base policy alone, one return per held-out episode. */
  base: readonly number[];
  /** Base + delta on the same seeds. */
  refined: readonly number[];
  /** Legend names of the two. */
  names: { base: string; refined: string };
  /** The expert's mean return on the same seeds, where known. */
  expert?: number;
}

/**
 * Shared bins over all values: about sqrt(n) of them, 10 to 40; one bin when every value
 * is the same.
 *
 * @example
 * ```ts
 * histogramEdges([0, 10], 2); // [0, 5, 10]
 * ```
 */
export function histogramEdges(values: readonly number[], bins: number): number[] {
  let [lo, hi] = extent([...values]);
  if (!(hi > lo)) (lo -= 0.5), (hi += 0.5);
  return Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
}

// Counts of `values` per bin of `edges` (the last bin includes its upper edge).
function counts(values: readonly number[], edges: number[]): number[] {
  const bins = edges.length - 1, lo = edges[0], width = (edges[bins] - lo) / bins;
  const out = new Array<number>(bins).fill(0);
  for (const v of values) out[Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))]++;
  return out;
}

// A histogram as a step outline (and the band under it).
function steps(values: readonly number[], edges: number[]) {
  const c = counts(values, edges);
  const points: Point[] = [[edges[0], 0]];
  const band: [number, number, number][] = [];
  c.forEach((n, i) => {
    points.push([edges[i], n], [edges[i + 1], n]);
    band.push([edges[i], 0, n], [edges[i + 1], 0, n]);
  });
  points.push([edges[edges.length - 1], 0]);
  return { points, band, top: Math.max(...c) };
}

/**
 * The panel of the held-out return distribution.
 *
 * @example
 * ```ts
 * const panel = returnDistributionPanel({ base: [1, 2], refined: [3, 4], names: { base: "SFT", refined: "SFT + delta" } });
 * panel.series.length; // 4
 * ```
 */
export function returnDistributionPanel(d: ReturnDistribution): Panel {
  const all = [...d.base, ...d.refined];
  const n = Math.max(d.base.length, d.refined.length);
  const edges = histogramEdges(all, Math.min(40, Math.max(10, Math.ceil(Math.sqrt(n)))));
  const { top: baseTop, ...base } = steps(d.base, edges);
  const { top: refinedTop, ...refined } = steps(d.refined, edges);
  const top = Math.max(baseTop, refinedTop, 1);
  const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / Math.max(1, v.length);
  const vertical = (x: number): Point[] => [[x, 0], [x, top]];
  const series: Series[] = [
    { metric: "base_returns", label: d.names.base, color: "#ff7f0e", ...base },
    { metric: "refined_returns", label: d.names.refined, color: "#1f77b4", ...refined },
    { metric: "base_mean", label: "", points: vertical(mean(d.base)), color: "#ff7f0e" },
    { metric: "refined_mean", label: "", points: vertical(mean(d.refined)), color: "#1f77b4" },
    ...(d.expert === undefined
      ? []
      : [{ metric: "expert_mean", label: "expert", points: vertical(d.expert), color: "#2ca02c" }]),
  ].map((s, i) => ({ ...s, width: i < 2 ? 1.5 : 1.75, markers: false, dashed: i >= 2 }));
  return {
    title: `Held-out return per episode (${n} episodes each; dashed: means)`,
    xLabel: "episode return",
    yLabel: "episodes",
    series,
  };
}
