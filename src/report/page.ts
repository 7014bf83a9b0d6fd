/**
 * The report's standalone HTML page: the SVG inlined, and tables of the final metrics
 * entry, the held-out evaluation and the training summary. No external resources.
 *
 * @module
 */

import { formatNumber } from "./axes.ts";
import { escapeXml, FONT } from "./chart.ts";
import type { RunReportData } from "./panels.ts";
import { readTrainMetrics, valueAt } from "./run_metrics.ts";

/**
 * A standalone HTML page (no external resources): the run name as title, `svg`
 * inlined, and tables of the final metrics entry, the held-out evaluation and the
 * final summary when `train_metrics.json` has them.
 *
 * @example
 * ```ts
 * const data = { name: "run_001", metrics: [], trainMetrics: null };
 * const html = renderReportHtml(data, "<svg></svg>");
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
  const heldout = heldoutTable(data);
  if (heldout) sections.push(`<section>\n<h2>Held-out evaluation</h2>\n${heldout}\n</section>`);
  const summary = [
    ...flatten(valueAt(data.trainMetrics, "final_metrics"), "final_metrics"),
    ...flatten(valueAt(data.trainMetrics, "sft_eval"), "sft_eval"),
    ...flatten(valueAt(data.trainMetrics, "base_eval"), "base_eval"),
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
  return renderHtmlPage({ title: `${name}: delta-waypoint report`, svg, sections });
}

/** What {@linkcode renderHtmlPage} lays out. */
export interface HtmlPageOptions {
  /** The page title, already escaped for HTML. */
  title: string;
  /** The chart, inlined. */
  svg: string;
  /** HTML sections shown under the chart, side by side where they fit. */
  sections: string[];
}

/**
 * A standalone HTML page (no external resources, one style): the chart inlined, then
 * the sections. Used by the run's report and the multi-seed report.
 *
 * @example
 * ```ts
 * const html = renderHtmlPage({ title: "run_001", svg: "<svg></svg>", sections: [] });
 * ```
 */
export function renderHtmlPage(opts: HtmlPageOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${opts.title}</title>
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
${opts.svg}
</div>
<div class="tables">
${opts.sections.join("\n")}
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

function heldoutTable(data: RunReportData): string | null {
  const { heldout, heldout_seeds: seeds } = readTrainMetrics(data.trainMetrics);
  const names = data.env ?? { base: "base policy", refined: "base + delta" };
  const rows = [[heldout.sft, names.base], [heldout.refined, names.refined]] as const;
  const shown = rows.filter(([row]) => row !== null);
  if (shown.length === 0) return null;
  const cell = (v: number | null, field: string) =>
    `<td class="num">${v === null ? "–" : escapeXml(showNumber(field, v))}</td>`;
  const body = shown.map(([row, label]) =>
    `<tr><th>${escapeXml(label)}</th>${cell(row!.return_mean, "return_mean")}${
      cell(row!.success_rate, "success_rate")
    }${cell(row!.steps_mean, "steps_mean")}</tr>`
  );
  const note = seeds
    ? `<p>${seeds[1]} episodes, seeds ${seeds[0]}..${seeds[0] + seeds[1] - 1}</p>\n`
    : "";
  return `${note}<table>
<tr><th>policy</th><th>mean return</th><th>success rate</th><th>mean length</th></tr>
${body.join("\n")}
</table>`;
}
