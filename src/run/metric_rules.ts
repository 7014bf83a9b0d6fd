/**
 * What the run, its tables and its report make of an env's per-episode metrics, derived
 * from the facts each metric states (`unit`, `better`, `headline`, `mean`) rather than
 * set by the env: which means a `metrics.json` entry logs, which the base policy's
 * entry logs too, which one breaks ties for `best.pt`, and the column label of each.
 *
 * @module
 */

import type { EpisodeMetric } from "../env/mod.ts";

/**
 * The metrics every `metrics.json` entry logs (by summary key) and `train` prints: the
 * headline metrics that have a summary mean, in the env's order.
 *
 * @example
 * ```ts
 * loggedMetrics([{ name: "ade", description: "", mean: "ade_mean", headline: {} }]).length; // 1
 * ```
 */
export function loggedMetrics(metrics: readonly EpisodeMetric[]): EpisodeMetric[] {
  return metrics.filter((m) => m.headline !== undefined && m.mean !== undefined);
}

/**
 * The logged metrics measured on the base policy too (`headline.baseline`): the entries'
 * base-policy block and the across-seed summary hold them.
 *
 * @example
 * ```ts
 * baselineMetrics([{ name: "ade", description: "", mean: "ade_mean", headline: { baseline: true } }]);
 * ```
 */
export function baselineMetrics(metrics: readonly EpisodeMetric[]): EpisodeMetric[] {
  return loggedMetrics(metrics).filter((m) => m.headline!.baseline === true);
}

/**
 * The metric that breaks a tie between equal held-out returns for `best.pt`: the first
 * logged metric where lower is better (driving: ADE), or undefined.
 *
 * @example
 * ```ts
 * tieBreakMetric([{ name: "ade", description: "", mean: "ade_mean", better: "lower", headline: {} }])?.name; // "ade"
 * ```
 */
export function tieBreakMetric(metrics: readonly EpisodeMetric[]): EpisodeMetric | undefined {
  return loggedMetrics(metrics).find((m) => m.better === "lower");
}

/**
 * A column label from a metric's name and unit: words of the name (an acronym of three
 * letters or fewer in capitals), then the unit.
 *
 * @example
 * ```ts
 * metricLabel({ name: "ade", unit: "m" }); // "ADE m"
 * metricLabel({ name: "route_completion" }); // "route completion"
 * ```
 */
export function metricLabel(m: Pick<EpisodeMetric, "name" | "unit">): string {
  const words = m.name.length <= 3 ? m.name.toUpperCase() : m.name.replace(/[._]+/g, " ");
  return m.unit ? `${words} ${m.unit}` : words;
}

/**
 * Whether a summary key holds a rate (a share of episodes, shown in percent): its key
 * ends in `_rate`.
 *
 * @example
 * ```ts
 * isRate("collision_rate"); // true
 * ```
 */
export function isRate(summaryKey: string): boolean {
  return summaryKey.endsWith("_rate");
}
