/**
 * The run's panels: which metrics a training report charts, with what labels and units,
 * from what the caller says of the env (its declared metrics, its base policy's name):
 * the generic panels (return, held-out return against the base policy, KL and clip
 * fraction, entropy, delta norm), then one panel per unit of the env's logged metrics.
 * Panels without data are left out, unless no panel has any.
 *
 * @module
 */

import { extent, thinSeries } from "./axes.ts";
import { movingAverage } from "./chart.ts";
import type { Panel, Point, Series } from "./chart.ts";
import { renderChartGrid } from "./grid.ts";
import { envMetric, readEntry, readTrainMetrics } from "./run_metrics.ts";
import type { EntryNumbers, TrainNumbers } from "./run_metrics.ts";

/** What the report says about the env a run trained on. */
export interface ReportEnv {
  /** The env's id (`config.json`'s `env_name`, or the default env's). */
  name: string;
  /** The base policy the delta refines, e.g. "SFT planner", "zero base policy". */
  base: string;
  /** The refined policy (base + delta), e.g. "SFT + delta", "PPO policy". */
  refined: string;
  /** Y label of the delta norm panel, with its unit if it has one. */
  deltaLabel: string;
  /**
   * The metrics its `metrics.json` entries log (`mean`: the summary key in `heldout`, and
   * in the base policy's block when `base`), charted as `key` (the metric's name) and
   * `sft_<key>`, one panel per `unit`.
   */
  metrics: ReadonlyArray<
    { key: string; mean: string; label: string; unit?: string; base?: boolean }
  >;
}

/** A run folder's parsed artifacts; any shape is accepted, missing keys are skipped. */
export interface RunReportData {
  /** Name shown in titles (the run folder's name). */
  name: string;
  /** Parsed `metrics.json`: one entry per eval interval. */
  metrics: ReadonlyArray<unknown>;
  /** Parsed `train_metrics.json`, or null when the run has none. */
  trainMetrics: unknown;
  /** The env the run trained on; absent: unknown (the generic panels only). */
  env?: ReportEnv;
}

// The wording when the env is unknown.
const UNKNOWN = { base: "base policy", refined: "base + delta", deltaLabel: "|delta|" };

/** Palette of the report's lines. */
export const COLORS = {
  blue: "#1f77b4",
  lightBlue: "#8fb8dc",
  orange: "#ff7f0e",
  green: "#2ca02c",
  red: "#d62728",
  purple: "#9467bd",
  grey: "#555",
};

/**
 * The panels of a run's report: episode return, held-out eval return against the base
 * policy, approx KL and clip fraction, entropy, delta norm, and the env's metrics, one
 * panel per unit (each against the base policy's). Panels without data are left out,
 * unless none has any (then all say "no data").
 *
 * @example
 * ```ts
 * const panels = reportPanels({ name: "run", metrics: [], trainMetrics: { rewards: [1, 2, 3] } });
 * panels.length; // 1
 * ```
 */
export function reportPanels(data: RunReportData): Panel[] {
  const ctx = reportContext(data);
  const panels = [
    returnPanel(ctx),
    heldoutReturnPanel(ctx),
    klPanel(ctx),
    entropyPanel(ctx),
    deltaNormPanel(ctx),
  ];
  const metrics = data.env?.metrics ?? [];
  const units = [...new Set(metrics.map((m) => m.unit ?? ""))];
  for (const unit of units) {
    const group = metrics.filter((m) => (m.unit ?? "") === unit);
    panels.push(envMetricsPanel({ metrics: group, unit, base: ctx.wording.base }, ctx));
  }
  const withData = panels.filter((p) => p.series.some((s) => s.points.length > 0));
  return withData.length > 0 ? withData : panels;
}

// What the panels of a run's report are made from: its entries and train metrics, the
// env's wording, and reference lines across the entries' episodes.
interface ReportContext {
  entries: EntryNumbers[];
  train: TrainNumbers;
  wording: { base: string; refined: string; deltaLabel: string };
  /** x of each entry: its episode (or its position) */
  episodes: number[];
  /** (episode, value) of every entry that has the value */
  series: (value: (e: EntryNumbers) => number | null) => Point[];
  /** what every panel has */
  base: { xLabel: string; integerX: boolean };
  /** the note of an empty panel */
  missing: (keys: string, file?: string) => string;
  /** the episodes reference lines span: the entries' (the episode count when there are none) */
  span: number[];
  /** a flat reference line across `span` */
  sftLine: (value: number) => Point[];
}

function reportContext(data: RunReportData): ReportContext {
  const entries = data.metrics.map(readEntry);
  const train = readTrainMetrics(data.trainMetrics);
  const episodes = entries.map((e, i) => e.episode ?? i + 1);
  const series = (value: (e: EntryNumbers) => number | null): Point[] =>
    entries.flatMap((e, i) => {
      const v = value(e);
      return v === null ? [] : [[episodes[i], v] as const];
    });
  const span = episodes.length > 0
    ? extent(episodes)
    : train.rewards.length > 0
    ? [1, train.rewards.length]
    : [];
  const sftLine = (value: number): Point[] =>
    span.length === 0
      ? []
      : span[0] === span[1]
      ? [[span[0], value]]
      : span.map((x) => [x, value] as const);
  return {
    ...{ entries, train, wording: data.env ?? UNKNOWN, episodes, series },
    base: { xLabel: "episode", integerX: true },
    missing: (keys, file = "metrics.json") => `no ${keys} in ${file}`,
    ...{ span, sftLine },
  };
}

// 1. Episode return, thin, with a moving average on top.
function returnPanel(ctx: ReportContext): Panel {
  const rewards = ctx.train.rewards;
  const window = Math.max(5, Math.round(rewards.length / 20));
  const returnSeries: Series[] = rewards.length > 0
    ? [
      {
        metric: "reward",
        label: "episode return",
        points: thinSeries(rewards),
        color: COLORS.lightBlue,
        width: 1,
        markers: false,
      },
      {
        metric: "reward_ma",
        label: `moving average (${window} episodes)`,
        points: thinSeries(movingAverage(rewards, window)),
        color: COLORS.blue,
        width: 2.5,
        markers: false,
      },
    ]
    : [{
      // Older or interrupted runs: the per-interval mean from metrics.json.
      metric: "mean_reward",
      label: "mean return per eval interval",
      points: ctx.series((e) => e.mean_reward),
      color: COLORS.blue,
      width: 2.5,
    }];
  return {
    ...ctx.base,
    title: "Episode return (training)",
    yLabel: "return",
    series: returnSeries,
    emptyNote: ctx.missing("rewards", "train_metrics.json"),
  };
}

// 2. Held-out return against the frozen base policy.
function heldoutReturnPanel(ctx: ReportContext): Panel {
  const { train, wording, span, sftLine } = ctx;
  const sftPerEntry = ctx.series((e) => e.sft_heldout.return_mean ?? null);
  const sftConstant = train.sft_eval.return_mean ?? null;
  let sftPoints: Point[] = [];
  if (sftPerEntry.length > 0) {
    const same = sftPerEntry.every((p) => p[1] === sftPerEntry[0][1]);
    sftPoints = same ? sftLine(sftPerEntry[0][1]) : sftPerEntry;
  } else if (sftConstant !== null) {
    sftPoints = sftLine(sftConstant);
  }
  const evalReturn = ctx.series((e) => e.heldout.return_mean ?? null);
  // Runs without per-entry evals still have the final held-out evaluation: one point.
  const heldoutReturn = train.heldout.refined?.return_mean ?? null;
  const finalPoint: Series[] = evalReturn.length === 0 && heldoutReturn !== null && span.length > 0
    ? [{
      metric: "heldout_return",
      label: `${wording.refined} (final held-out)`,
      points: [[span[1], heldoutReturn]],
      color: COLORS.red,
      width: 9,
      markers: false,
    }]
    : [];
  return {
    ...ctx.base,
    title: `Held-out eval return vs ${wording.base}`,
    yLabel: "mean return",
    series: [
      {
        metric: "eval_return",
        label: `${wording.refined} (eval)`,
        points: evalReturn,
        color: COLORS.red,
      },
      ...finalPoint,
      {
        metric: "sft_return",
        label: wording.base,
        points: sftPoints,
        color: COLORS.grey,
        dashed: true,
      },
    ],
    emptyNote: ctx.missing("heldout.return_mean / sft_heldout.return_mean"),
  };
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
function envMetricsPanel(
  group: { metrics: ReportEnv["metrics"]; unit: string; base: string },
  ctx: ReportContext,
): Panel {
  const palette = [COLORS.blue, COLORS.red, COLORS.green, COLORS.purple, COLORS.orange];
  const lines: Series[] = group.metrics.flatMap((m, i) => {
    const color = palette[i % palette.length];
    const own = ctx.series((e) => envMetric(e, m.mean));
    const perEntry = m.base ? ctx.series((e) => envMetric(e, m.mean, { sft: true })) : [];
    const start = ctx.train.sft_eval[m.mean];
    const base = perEntry.length > 0
      ? perEntry
      : start !== undefined && own.length > 0
      ? ctx.sftLine(start)
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
    yLabel: group.unit ? `mean (${group.unit})` : "mean",
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
