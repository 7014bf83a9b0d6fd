/**
 * The side-by-side table `eval` prints: one row per evaluated policy.
 *
 * @module
 */

import type { EpisodeMetric } from "../env/mod.ts";
import { isRate, metricLabel } from "../run/mod.ts";
import type { EvalDocument, EvalSummary } from "../run/mod.ts";

/**
 * The side-by-side table `eval` prints: one row per document, in the given order, with
 * a column per summarised metric of the env (`metrics`: mean ± std where the env gives a
 * std, rates in percent) and the delta's norm in the unit of the env's actions; the
 * success rate first, for an env with a goal.
 *
 * @example
 * ```ts ignore
 * console.log(formatTable(docs, { firstSeed: HELDOUT_SEED_BASE, count: 100, metrics }));
 * ```
 */
export function formatTable(
  docs: EvalDocument[],
  opts: {
    firstSeed: number;
    count: number;
    metrics: readonly EpisodeMetric[];
    /** Unit of the env's actions (and of the delta), e.g. "m"; absent: none. */
    actionUnit?: string;
    /** What the episodes play, said instead of their seeds (a scenario set). */
    played?: string;
    /** The env has a goal (default true): else no success column. */
    hasSuccess?: boolean;
  },
): string {
  const { firstSeed, count, metrics } = opts;
  const envCols: [string, (s: EvalSummary) => string][] = metrics.filter((m) => m.mean).map((m) => {
    const mean = m.mean!, std = m.std;
    if (isRate(mean)) return [metricLabel(m), (s) => `${(100 * s[mean]).toFixed(1)}%`];
    if (std === undefined) return [metricLabel(m), (s) => s[mean].toFixed(3)];
    return [metricLabel(m), (s) => `${s[mean].toFixed(3)}±${s[std].toFixed(3)}`];
  });
  const delta = opts.actionUnit ? `|delta| ${opts.actionUnit}` : "|delta|";
  const success: [string, (s: EvalSummary) => string][] = opts.hasSuccess === false
    ? []
    : [["success", (s) => `${(100 * s.success_rate).toFixed(1)}%`]];
  const cols: [string, (s: EvalSummary) => string][] = [
    ...success,
    ["return", (s) => s.return_mean.toFixed(2)],
    ["steps", (s) => s.steps_mean.toFixed(1)],
    ...envCols,
    [delta, (s) => s.delta_norm_mean.toFixed(3)],
  ];
  const rows = docs.map((d) => [d.policy.name, ...cols.map(([, f]) => f(d.summary))]);
  const header = ["policy", ...cols.map(([h]) => h)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [
    `eval: ${count} episodes per policy, ${
      opts.played ?? `seeds ${firstSeed}..${firstSeed + count - 1}`
    }`,
    line(header),
    ...rows.map(line),
  ].join("\n");
}
