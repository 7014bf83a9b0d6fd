/**
 * The run's panels: which metrics a training report charts, with what labels and units,
 * from what the caller says of the env (its declared metrics, its base policy's name):
 * first the story (training return, held-out return and success rate against the base
 * policy and the expert, the env's logged metrics one panel per unit, rates in percent,
 * the held-out return per episode of both policies), then the PPO diagnostics (KL and
 * clip fraction, entropy, delta norm). Panels without data are left out, unless no panel
 * has any.
 *
 * @module
 */

import type { Panel, Series } from "./chart.ts";
import { renderChartGrid } from "./grid.ts";
import { envMetric, readEntry } from "./run_metrics.ts";
import { reportContext } from "./_context.ts";
import type { ReportContext, ReportEnv, RunReportData } from "./_context.ts";
import { returnDistributionPanel } from "./distribution.ts";
import { COLORS, heldoutReturnPanel, returnPanel, successPanel } from "./return_panels.ts";

export type { ExpertNumbers, ReportEnv, ReportMetric, RunReportData } from "./_context.ts";
export { COLORS };

/**
 * The panels of a run's report: episode return, held-out return and success rate (for an
 * env with a goal) against the base policy and the expert, the env's metrics one panel per
 * unit (each against the base policy's), the held-out return per episode, then approx KL
 * and clip fraction, entropy and delta norm. Panels without data are left out, unless none
 * has any (then all say "no data").
 *
 * @example
 * ```ts
 * const panels = reportPanels({ name: "run", metrics: [], trainMetrics: { rewards: [1, 2, 3] } });
 * panels.length; // 1
 * ```
 */
export function reportPanels(data: RunReportData): Panel[] {
  const ctx = reportContext(data);
  const panels = [returnPanel(ctx), heldoutReturnPanel(ctx)];
  if (data.env?.hasSuccess !== false) panels.push(successPanel(ctx));
  const metrics = data.env?.metrics ?? [];
  const units = [...new Set(metrics.map((m) => (m.rate ? "%" : m.unit ?? "")))];
  for (const unit of units) {
    const group = metrics.filter((m) => (m.rate ? "%" : m.unit ?? "") === unit);
    panels.push(envMetricsPanel({ metrics: group, unit, base: ctx.wording.base }, ctx));
  }
  const returns = data.episodes?.returns;
  if (returns && returns.base.length + returns.refined.length > 0) {
    const expert = data.expert?.final?.return_mean;
    panels.push(returnDistributionPanel({
      ...returns,
      names: { base: ctx.wording.base, refined: ctx.wording.refined },
      ...(expert === undefined ? {} : { expert }),
    }));
  }
  panels.push(klPanel(ctx), entropyPanel(ctx), deltaNormPanel(ctx));
  const withData = panels.filter((p) => p.series.some((s) => s.points.length > 0));
  return withData.length > 0 ? withData : panels;
}

// 3. The update's approx KL, and its clip fraction on the right.
function klPanel(ctx: ReportContext): Panel {
  return {
    ...ctx.base,
    title: "Approx KL and clip fraction",
    yLabel: "approx KL",
    y2Label: "clip fraction",
    series: [
      {
        metric: "kl",
        label: "approx KL",
        points: ctx.series((e) => e.update.kl),
        color: COLORS.blue,
      },
      {
        metric: "clip_fraction",
        label: "clip fraction",
        points: ctx.series((e) => e.update.clip_fraction),
        color: COLORS.orange,
        axis: "right",
      },
    ],
    emptyNote: ctx.missing("update.kl / update.clip_fraction"),
  };
}

// 4. The policy's entropy.
function entropyPanel(ctx: ReportContext): Panel {
  return {
    ...ctx.base,
    title: "Policy entropy",
    yLabel: "entropy (nats)",
    series: [{
      metric: "entropy",
      label: "entropy",
      points: ctx.series((e) => e.update.entropy),
      color: COLORS.green,
    }],
    emptyNote: ctx.missing("update.entropy"),
  };
}

// 5. The norm of the clipped mean delta, with a band of ± its std.
function deltaNormPanel(ctx: ReportContext): Panel {
  const deltaStd = new Map(ctx.series((e) => e.eval.std_delta_norm).map(([x, s]) => [x, s]));
  const deltaMean = ctx.series((e) => e.eval.mean_delta_norm);
  return {
    ...ctx.base,
    title: "Delta norm (mean ± std)",
    yLabel: ctx.wording.deltaLabel,
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
    emptyNote: ctx.missing("eval.mean_delta_norm"),
  };
}

// The env's logged metrics of one unit, each with the base policy's as a dashed line: its
// value in every entry where the entries log it, else its value at the start of the run.
// Rates are shown in percent, on a 0-100 axis.
function envMetricsPanel(
  group: { metrics: ReportEnv["metrics"]; unit: string; base: string },
  ctx: ReportContext,
): Panel {
  const palette = [COLORS.blue, COLORS.red, COLORS.green, COLORS.purple, COLORS.orange];
  const percent = group.unit === "%";
  const k = percent ? 100 : 1;
  const scaled = (points: ReturnType<ReportContext["series"]>) =>
    points.map(([x, y]) => [x, k * y] as const);
  const lines: Series[] = group.metrics.flatMap((m, i) => {
    const color = palette[i % palette.length];
    const own = scaled(ctx.series((e) => envMetric(e, m.mean)));
    const perEntry = m.base ? scaled(ctx.series((e) => envMetric(e, m.mean, { sft: true }))) : [];
    const start = ctx.train.sft_eval[m.mean];
    const base = perEntry.length > 0
      ? perEntry
      : start !== undefined && own.length > 0
      ? ctx.sftLine(k * start)
      : [];
    return [
      { metric: m.key, label: m.label, points: own, color },
      ...(base.length > 0
        ? [{
          metric: `sft_${m.key}`,
          label: `${group.base}: ${m.label}`,
          points: base,
          color,
          dashed: true,
        }]
        : []),
    ];
  });
  const labels = group.metrics.map((m) => m.label).join(" / ");
  return {
    ...ctx.base,
    title: `Held-out ${labels}`,
    yLabel: percent ? "rate (%)" : group.unit ? `mean (${group.unit})` : "mean",
    ...(percent ? { yDomain: [0, 100] as const } : {}),
    series: lines,
    emptyNote: `no heldout.${group.metrics.map((m) => m.mean).join(" / ")} in metrics.json`,
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
  const last = count > 0 ? readEntry(data.metrics[count - 1]) : null;
  const parts = [`${count} metrics ${count === 1 ? "entry" : "entries"}`];
  if (data.env) parts.push(`env ${data.env.name}`);
  if (last?.episode != null) parts.push(`last at episode ${last.episode}`);
  if (last?.timestamp != null) parts.push(last.timestamp);
  return renderChartGrid(reportPanels(data), {
    title: `delta-waypoint training report: ${data.name}`,
    subtitle: parts.join(" · "),
  });
}
