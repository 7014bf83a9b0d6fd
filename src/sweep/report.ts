/**
 * `report DIR` for a multi-seed folder: learning curves across seeds, each drawn as the
 * mean over seeds with a band of ± one sample standard deviation (and each seed as a
 * faint line), and the aggregate's table. Written as `DIR/report.svg` and
 * `DIR/report.html`.
 *
 * @module
 */

import { basename, join, resolve } from "node:path";
import { UserError } from "../errors.ts";
import { writeFileAtomic } from "../io/mod.ts";
import {
  escapeXml,
  finiteOrNaN,
  movingAverage,
  numberAt,
  readEntry,
  renderChartGrid,
  renderHtmlPage,
} from "../report/mod.ts";
import type { Panel, Point, Series } from "../report/mod.ts";
import type { ReportEnv } from "../report/mod.ts";
import { mean, sampleStd } from "./stats.ts";
import { aggregateSeeds, seedValue } from "./summary.ts";
import type { SeedsSummary } from "./summary.ts";
import { formatSummary } from "./table.ts";
import { readJsonFile, seedFolders } from "./seed_dirs.ts";

const MAX_SEED_LINES = 50;

/** One seed's curves: x (episode) -> value, per metric. */
type Curves = Map<string, Map<number, number>>;

/** The metrics charted across seeds, and the base policy's reference of each. */
interface SeedMetrics {
  /**
   * Panels after the episode return: the chart id, the entry's dotted path (as
   * {@linkcode readEntry} names it), title and y label of each.
   */
  panels: { id: string; path: string; title: string; yLabel: string; percent?: boolean }[];
  /** The base policy alone on the same evaluation seeds: by panel id, the id and path of
   * its reference line, drawn in that panel. */
  reference: Record<string, { id: string; path: string }>;
  /** Legend of the reference lines. */
  baseLabel: string;
}

// Return and success rate of every env, then the metrics it logs, each against the
// base policy's where its entries log that.
function envSeedMetrics(env: ReportEnv | undefined): SeedMetrics {
  const metrics = env?.metrics ?? [];
  return {
    panels: [
      {
        id: "eval_return",
        path: "heldout.return_mean",
        title: "Held-out return (mean action)",
        yLabel: "return",
      },
      ...(env?.hasSuccess === false ? [] : [{
        id: "eval_success_rate",
        path: "heldout.success_rate",
        title: "Held-out success rate",
        yLabel: "success rate (%)",
        percent: true,
      }]),
      ...metrics.map((m) => ({
        id: m.key,
        path: `heldout.${m.mean}`,
        title: `Held-out ${m.label}`,
        yLabel: m.rate ? `${m.label} (%)` : m.unit ? `${m.label} (${m.unit})` : m.label,
        percent: m.rate === true,
      })),
    ],
    reference: Object.fromEntries([
      ["eval_return", { id: "sft_eval_return", path: "sft_heldout.return_mean" }],
      ...metrics.filter((m) => m.base).map((m) => [
        m.key,
        { id: `sft_${m.key}`, path: `sft_heldout.${m.mean}` },
      ]),
    ]),
    baseLabel: `${env?.base ?? "base policy"} alone`,
  };
}

function readJson(path: string): unknown {
  const read = readJsonFile(path);
  return "value" in read ? read.value : null;
}

// A seed's curves by chart id from its metrics.json (eval metrics per interval, new
// or old names) and train_metrics.json (a moving average of the episode returns).
function seedCurves(path: string, metrics: SeedMetrics): Curves {
  const curves: Curves = new Map();
  const json = readJson(join(path, "metrics.json"));
  const entries = (Array.isArray(json) ? json : []).map(readEntry);
  const percent = new Set(metrics.panels.filter((p) => p.percent).map((p) => p.id));
  for (const [panel, ref] of Object.entries(metrics.reference)) {
    if (percent.has(panel)) percent.add(ref.id);
  }
  for (const { id, path } of [...metrics.panels, ...Object.values(metrics.reference)]) {
    const points = new Map<number, number>();
    const k = percent.has(id) ? 100 : 1;
    for (const e of entries) {
      const y = numberAt(e, path);
      if (e.episode !== null && y !== null) points.set(e.episode, k * y);
    }
    curves.set(id, points);
  }
  const tm = readJson(join(path, "train_metrics.json")) as { rewards?: unknown } | null;
  const average = movingAverage(finiteOrNaN(tm?.rewards), 20);
  // Every `stride`-th episode: a power of two from the run's length, so seeds of the same
  // length share their x values, and a seed of millions of episodes stays a few thousand.
  const stride = 2 ** Math.max(0, Math.ceil(Math.log2(average.length / MAX_CURVE_POINTS)));
  const ma = new Map<number, number>();
  for (let i = stride - 1; i < average.length; i += stride) {
    if (Number.isFinite(average[i])) ma.set(i + 1, average[i]);
  }
  curves.set("reward_ma", ma);
  return curves;
}

// Most points of a seed's moving-average curve (before the chart's per-pixel thinning).
const MAX_CURVE_POINTS = 4096;

// Mean over seeds at every x where a seed has a value, with a ± one std band.
function meanSeries(
  perSeed: Map<number, number>[],
  opts: { metric: string; label: string; color: string },
): Series {
  const xs = [...new Set(perSeed.flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const points: Point[] = [];
  const band: [number, number, number][] = [];
  for (const x of xs) {
    const ys = perSeed.flatMap((m) => (m.has(x) ? [m.get(x)!] : []));
    const m = mean(ys), s = sampleStd(ys) ?? 0;
    points.push([x, m]);
    band.push([x, m - s, m + s]);
  }
  return { ...opts, points, band, width: 2.5, markers: false };
}

/**
 * Writes `dir/report.svg` and `dir/report.html` for the multi-seed folder `dir`; `env`
 * is the env the seeds trained on (its metrics and base policy are charted); panels no
 * seed has data for are left out.
 *
 * @example
 * ```ts ignore
 * await writeSeedsReport("out/seeds");
 * ```
 */
export async function writeSeedsReport(
  dir: string,
  options: { env?: ReportEnv } = {},
): Promise<{ svg: string; html: string }> {
  const metrics = envSeedMetrics(options.env);
  const seeds = seedFolders(dir).map((f) => ({ seed: f.seed, curves: seedCurves(f.path, metrics) }))
    .filter((s) => [...s.curves.values()].some((c) => c.size > 0));
  if (seeds.length === 0) {
    throw new UserError(`report: ${dir}: no seed_N/ folder has metrics yet`);
  }
  const summary = aggregateSeeds(dir, { warn: () => {} });
  const expert = summary.per_seed.find((r) => r.expert_return !== undefined)?.expert_return;
  const panels = seedPanels(seeds, { metrics, expert });
  const name = basename(resolve(dir));
  const svg = renderChartGrid(panels, {
    title: `delta-waypoint across seeds: ${name}`,
    subtitle: `seeds ${
      seeds.map((s) => s.seed).join(", ")
    }; lines: mean over seeds, band: ± 1 sample std`,
  });
  const html = renderHtmlPage({
    title: `${escapeXml(name)}: delta-waypoint across seeds`,
    svg,
    sections: [
      `<section>\n<h2>Held-out results across seeds</h2>\n${summaryHtml(summary)}\n</section>`,
    ],
  });
  const paths = { svg: join(dir, "report.svg"), html: join(dir, "report.html") };
  await writeFileAtomic(paths.svg, svg);
  await writeFileAtomic(paths.html, html);
  return paths;
}

// The panels across seeds: each seed faint, their mean with a ± 1 std band, the base
// policy's mean dashed and the expert's return on the same seeds; percentages on 0-100.
function seedPanels(
  seeds: { seed: number; curves: Curves }[],
  o: { metrics: SeedMetrics; expert: number | undefined },
): Panel[] {
  const { metrics } = o;
  const panel = (
    key: string,
    spec: { title: string; yLabel: string; percent?: boolean },
  ): Panel => {
    const perSeed = seeds.map((s) => s.curves.get(key)!);
    const mean = meanSeries(perSeed, {
      metric: `${key}_mean`,
      label: `mean of ${seeds.length} seeds ± 1 std`,
      color: "#1f77b4",
    });
    const xs = mean.points.map((p) => p[0]);
    const span = xs.length > 1 ? [xs[0], xs[xs.length - 1]] : xs;
    return {
      title: spec.title,
      xLabel: "episode",
      yLabel: spec.yLabel,
      integerX: true,
      ...(spec.percent ? { yDomain: [0, 100] as const } : {}),
      series: [
        // Each seed as a faint line, while that stays readable.
        ...seeds.slice(0, seeds.length <= MAX_SEED_LINES ? seeds.length : 0).map((s, i) => ({
          metric: `${key}_seed_${s.seed}`,
          label: i === 0 ? "each seed" : "",
          points: [...perSeed[i]].sort((a, b) => a[0] - b[0]),
          color: "#8fb8dc",
          width: 1,
          opacity: 0.6,
          markers: false,
        })),
        spec.percent
          ? {
            ...mean,
            band: mean.band?.map(([x, lo, hi]) => [x, Math.max(0, lo), Math.min(100, hi)] as const),
          }
          : mean,
        ...(key in metrics.reference ? [sftLine(metrics.reference[key].id)] : []),
        ...(key === "eval_return" && o.expert !== undefined
          ? [{
            metric: "expert_return",
            label: "expert (closing held-out seeds)",
            points: span.map((x) => [x, o.expert!] as const),
            color: "#2ca02c",
            dashed: true,
            width: 1.5,
          }]
          : []),
      ],
    };
  };
  const sftLine = (key: string): Series => {
    const ref = meanSeries(seeds.map((s) => s.curves.get(key)!), {
      metric: key,
      label: metrics.baseLabel,
      color: "#555",
    });
    return { ...ref, band: undefined, dashed: true, width: 1.5 };
  };
  return [
    panel("reward_ma", { title: "Episode return (moving average, 20 episodes)", yLabel: "return" }),
    ...metrics.panels.map((m) => panel(m.id, m)),
  ].filter((p) => p.series.some((s) => s.points.length > 0));
}

// The summary as HTML: the base policy's and the expert's returns, one row per finished
// seed, the statistics across seeds per metric, the missing seeds.
function summaryHtml(s: SeedsSummary): string {
  // the lines above the text table: the seeds and held-out episodes, the reference returns
  const notes = formatSummary(s).split("\n").slice(0, s.per_seed.length > 0 ? 2 : 1);
  const metrics = Object.keys(s.across_seeds);
  const percent = (m: string) => m.endsWith("_rate") || m === "gap_closed";
  const show = (m: string, v: number | null | undefined) =>
    v == null
      ? "–"
      : m === "return"
      ? v.toFixed(2)
      : percent(m)
      ? `${(100 * v).toFixed(1)}%`
      : v.toFixed(3);
  const heads: Record<string, string> = {
    return: "return",
    success_rate: "success",
    gap_closed: "gap closed",
    ...(s.labels ?? {}),
  };
  const table = (head: string[], rows: string[][]) =>
    `<table>\n<tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>\n${
      rows.map((r) =>
        `<tr><th>${escapeXml(r[0])}</th>${
          r.slice(1).map((c) => `<td class="num">${escapeXml(c)}</td>`).join("")
        }</tr>`
      ).join("\n")
    }\n</table>`;
  const out = notes.map((line) => `<p>${escapeXml(line)}</p>`);
  if (s.per_seed.length > 0) {
    out.push(table(
      ["seed", ...metrics.map((m) => heads[m] ?? m)],
      s.per_seed.map((r) => [String(r.seed), ...metrics.map((m) => show(m, seedValue(r, m)))]),
    ));
    const level = `${100 * s.method.level}% CI of mean`;
    out.push(
      `<p>across ${s.per_seed.length} seeds (CI: percentile bootstrap, ${s.method.bootstrap_samples} resamples)</p>`,
      table(
        ["metric", "mean", "std", "IQM", level],
        metrics.map((m) => {
          const st = s.across_seeds[m];
          return st == null ? [heads[m] ?? m, "–", "–", "–", "–"] : [
            heads[m] ?? m,
            show(m, st.mean),
            show(m, st.std),
            show(m, st.iqm),
            `[${show(m, st.mean_ci[0])}, ${show(m, st.mean_ci[1])}]`,
          ];
        }),
      ),
    );
  }
  for (const m of s.missing) {
    out.push(`<p>${escapeXml(`missing: seed ${m.seed}: ${m.reason}`)}</p>`);
  }
  return out.join("\n");
}
