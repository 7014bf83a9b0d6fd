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
 * success rate first, for an env with a goal. With an `sft` row, each refined policy's mean
 * |delta| on the episodes the SFT planner alone succeeds in follows.
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
  const { firstSeed, count } = opts;
  const cols = columns(opts);
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
    ...whereSftSucceeds(docs, opts),
  ].join("\n");
}

// Each refined policy's mean |delta| on the episodes the SFT planner alone succeeds in (the
// same seeds): how far it moves plans that needed no help. Only with an `sft` row, for an
// env with a goal; not for `sft` and `expert`, which have no delta head.
function whereSftSucceeds(
  docs: EvalDocument[],
  opts: { actionUnit?: string; hasSuccess?: boolean },
): string[] {
  const sft = docs.find((d) => d.policy.name === "sft");
  if (!sft || opts.hasSuccess === false) return [];
  const ok = sft.scenarios.map((e) => e.success);
  const n = ok.filter(Boolean).length;
  const refined = docs.filter((d) =>
    d.policy.name !== "sft" && d.policy.name !== "expert" &&
    d.episodes.first_seed === sft.episodes.first_seed && d.scenarios.length === ok.length
  );
  if (n === 0 || refined.length === 0) return [];
  const unit = opts.actionUnit ? ` ${opts.actionUnit}` : "";
  const mean = (d: EvalDocument) =>
    d.scenarios.reduce((sum, e, i) => sum + (ok[i] ? e.raw.mean_delta_norm : 0), 0) / n;
  return [
    "",
    `|delta| where sft alone succeeds (${n} of ${ok.length} episodes):`,
    ...refined.map((d) => `  ${d.policy.name}: ${mean(d).toFixed(3)}${unit}`),
  ];
}

type Column = [string, (s: EvalSummary) => string];

// The columns of a summary: success, return and steps, the env's metrics, |delta|.
function columns(
  opts: { metrics: readonly EpisodeMetric[]; actionUnit?: string; hasSuccess?: boolean },
): Column[] {
  const envCols: Column[] = opts.metrics.filter((m) => m.mean).map((m) => {
    const mean = m.mean!, std = m.std;
    if (isRate(mean)) return [metricLabel(m), (s) => `${(100 * s[mean]).toFixed(1)}%`];
    if (std === undefined) return [metricLabel(m), (s) => s[mean].toFixed(3)];
    return [metricLabel(m), (s) => `${s[mean].toFixed(3)}±${s[std].toFixed(3)}`];
  });
  const delta = opts.actionUnit ? `|delta| ${opts.actionUnit}` : "|delta|";
  const success: Column[] = opts.hasSuccess === false
    ? []
    : [["success", (s) => `${(100 * s.success_rate).toFixed(1)}%`]];
  return [
    ...success,
    ["return", (s) => s.return_mean.toFixed(2)],
    ["steps", (s) => s.steps_mean.toFixed(1)],
    ...envCols,
    [delta, (s) => s.delta_norm_mean.toFixed(3)],
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
