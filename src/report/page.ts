/**
 * The report's standalone HTML page: a headline, the SVG inlined, the recorded held-out
 * episodes (pictures and an animation), and tables of the held-out evaluation, the last
 * metrics entry and the training summary. No external resources.
 *
 * @module
 */

import { escapeXml, FONT } from "./chart.ts";
import type { RunReportData } from "./_context.ts";
import { valueAt } from "./run_metrics.ts";
import { renderSeedPicture } from "./scene.ts";
import { renderSeedAnimation } from "./scene_animation.ts";
import { headline, heldoutTable, lastEntryTable, summaryTable } from "./tables.ts";

/**
 * A standalone HTML page (no external resources): the run name as title, a line of what
 * the delta did on the held-out seeds, `svg` inlined, the recorded held-out episodes
 * (pictures and an animation) when the run has them, and tables of the held-out
 * evaluation, the last metrics entry and the training summary.
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
  const heldout = heldoutTable(data);
  if (heldout) sections.push(`<section>\n<h2>Held-out evaluation</h2>\n${heldout}\n</section>`);
  const last = lastEntryTable(data);
  if (last) sections.push(`<section>\n<h2>Last metrics entry</h2>\n${last}\n</section>`);
  const summary = summaryTable(data);
  if (summary) sections.push(`<section>\n<h2>Training summary</h2>\n${summary}\n</section>`);
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
  const line = headline(data);
  return renderHtmlPage({
    title: `${name}: delta-waypoint report`,
    svg,
    sections,
    ...(line ? { intro: `<p class="headline">${escapeXml(line)}</p>` } : {}),
    wide: episodeSection(data),
  });
}

// The recorded held-out episodes: the animated seed, then each seed's still pictures.
function episodeSection(data: RunReportData): string[] {
  const view = data.episodes?.view;
  if (!view || view.seeds.length === 0) return [];
  const names = {
    base: data.env?.base ?? "base policy",
    refined: data.env?.refined ?? "base + delta",
  };
  const animated = view.seeds.filter((s) => s.animated);
  const parts = [
    '<section class="episodes">',
    "<h2>Held-out episodes</h2>",
    `<p>${
      escapeXml(
        `Recorded at the end of training on ${view.seeds.length} of the held-out seeds: ` +
          `${names.base} alone on the left, ${names.refined} on the right, at one scale. ` +
          `The still pictures show the ${view.legend.agent} at a few moments (its time beside ` +
          `it) with the ${view.legend.action} made there, and where the episode ended.`,
      )
    }</p>`,
    ...animated.map((s) => renderSeedAnimation(view, s, { names, id: `anim-${s.seed}` })),
    ...view.seeds.map((s) => renderSeedPicture(view, s, { names, id: `still-${s.seed}` })),
    "</section>",
  ];
  return [parts.join("\n")];
}

/** What {@linkcode renderHtmlPage} lays out. */
export interface HtmlPageOptions {
  /** The page title, already escaped for HTML. */
  title: string;
  /** The chart, inlined. */
  svg: string;
  /** HTML sections shown under the chart, side by side where they fit. */
  sections: string[];
  /** HTML above the chart (a headline). */
  intro?: string;
  /** HTML sections shown under the chart at full width, before `sections`. */
  wide?: string[];
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
p.headline { font-size: 15px; margin: 0 0 12px; }
th.group { background: #e8eef6; }
.episodes svg { display: block; max-width: 100%; height: auto; margin: 12px 0 20px; }
</style>
</head>
<body>
${opts.intro ?? ""}
<div class="chart">
${opts.svg}
</div>
${(opts.wide ?? []).join("\n")}
<div class="tables">
${opts.sections.join("\n")}
</div>
</body>
</html>
`;
}
