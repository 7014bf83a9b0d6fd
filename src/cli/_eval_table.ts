/**
 * The side-by-side table `eval` prints: one row per evaluated policy.
 *
 * @module
 */

import { DRIVING_METRICS } from "../env/mod.ts";
import type { EpisodeMetric } from "../env/mod.ts";
import type { EvalDocument, EvalSummary } from "../run/mod.ts";

/**
 * The side-by-side table `eval` prints: one row per document, in the given order, with
 * a column per summarised metric of the env (`metrics`; the driving env's as before).
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
    /** What the episodes play, said instead of their seeds (a scenario set). */
    played?: string;
  },
): string {
  const { firstSeed, count, metrics } = opts;
  const cols = columns(metrics);
  const rows = docs.map((d) => [d.policy.name, ...cols.map(([, f]) => f(d.summary))]);
  const header = ["policy", ...cols.map(([h]) => h)];
  const line = tableLine(header, rows);
  return [
    `eval: ${count} episodes per policy, ${
      opts.played ?? `seeds ${firstSeed}..${firstSeed + count - 1}`
    }`,
    line(header),
    ...rows.map(line),
    ...groupLines(docs, cols),
  ].join("\n");
}

type Column = [string, (s: EvalSummary) => string];

// The columns of a summary: success, return and steps, the env's metrics, |delta|.
function columns(metrics: readonly EpisodeMetric[]): Column[] {
  const envCols: Column[] = metrics === DRIVING_METRICS
    ? [
      ["ADE m", (s) => `${s.ade_mean.toFixed(3)}±${s.ade_std.toFixed(3)}`],
      ["FDE m", (s) => `${s.fde_mean.toFixed(3)}±${s.fde_std.toFixed(3)}`],
      ["off-route", (s) => `${(100 * s.offroad_rate).toFixed(1)}%`],
      ["completion", (s) => `${(100 * s.route_completion_mean).toFixed(1)}%`],
    ]
    : metrics.filter((m) => m.mean).map((m) => [m.label ?? m.name, (s) => s[m.mean!].toFixed(3)]);
  return [
    ["success", (s) => `${(100 * s.success_rate).toFixed(1)}%`],
    ["return", (s) => s.return_mean.toFixed(2)],
    ["steps", (s) => s.steps_mean.toFixed(1)],
    ...envCols,
    [metrics === DRIVING_METRICS ? "|delta| m" : "|delta|", (s) => s.delta_norm_mean.toFixed(3)],
  ];
}

// A row formatter: the first column left-aligned, the others right-aligned to the widest.
function tableLine(header: string[], rows: string[][]): (r: string[]) => string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
}

// The same columns per group of episodes (traffic: scenario kind), for the documents
// that have groups: one row per policy and group.
function groupLines(docs: EvalDocument[], cols: Column[]): string[] {
  const grouped = docs.filter((d) => d.groups);
  if (grouped.length === 0) return [];
  const rows = grouped.flatMap((d) =>
    Object.entries(d.groups!).map(([g, s]) => [
      d.policy.name,
      g,
      String(s.num_episodes),
      ...cols.map(([, f]) => f(s)),
    ])
  );
  const header = ["policy", "group", "n", ...cols.map(([h]) => h)];
  const line = tableLine(header, rows);
  return ["", "per group of episodes:", line(header), ...rows.map(line)];
}
