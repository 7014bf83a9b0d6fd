/**
 * The panels that tell a run's story: the training return (a long run thinned to buckets
 * with a band, so 8000 episodes are not a solid wall), the held-out return and success
 * rate over training, each against the base policy's and the expert's on the same seeds.
 *
 * @module
 */

import { movingAverage } from "./chart.ts";
import type { Panel, Point, Series } from "./chart.ts";
import type { ReportContext } from "./_context.ts";

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

/** Above this many episodes the training return is drawn per bucket, not per episode. */
export const LONG_TRACE = 600;
/** Buckets of a long trace. */
const BUCKETS = 200;

/**
 * A long per-episode series as buckets of `width` episodes: each bucket's mean at its
 * middle episode, and a band from its 25th to its 75th percentile (missing values left
 * out; a bucket without values is skipped).
 *
 * @example
 * ```ts
 * bucketed([1, 2, 3, 4], 2).points; // [[1.5, 1.5], [3.5, 3.5]]
 * ```
 */
export function bucketed(values: ArrayLike<number | null>, width: number): {
  points: Point[];
  band: [number, number, number][];
} {
  const points: Point[] = [], band: [number, number, number][] = [];
  for (let start = 0; start < values.length; start += width) {
    const end = Math.min(values.length, start + width), bucket: number[] = [];
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (typeof v === "number" && Number.isFinite(v)) bucket.push(v);
    }
    if (bucket.length === 0) continue;
    bucket.sort((a, b) => a - b);
    const at = (q: number) => bucket[Math.min(bucket.length - 1, Math.floor(q * bucket.length))];
    const x = (start + 1 + end) / 2;
    points.push([x, bucket.reduce((s, v) => s + v, 0) / bucket.length]);
    band.push([x, at(0.25), at(0.75)]);
  }
  return { points, band };
}

// Flat dashed reference lines across the panel: the base policy's and the expert's.
function references(
  ctx: ReportContext,
  o: { base: number | null; expert: number | null; scale?: number; note: string; metric: string },
): Series[] {
  const out: Series[] = [];
  const k = o.scale ?? 1;
  if (o.base !== null) {
    out.push({
      metric: `sft_${o.metric}`,
      label: `${ctx.wording.base}${o.note}`,
      points: ctx.sftLine(k * o.base),
      color: COLORS.grey,
      dashed: true,
    });
  }
  if (o.expert !== null) {
    out.push({
      metric: `expert_${o.metric}`,
      label: `expert${o.note}`,
      points: ctx.sftLine(k * o.expert),
      color: COLORS.green,
      dashed: true,
    });
  }
  return out;
}

/** 1. Training episode return: per episode with a moving average, or per bucket. */
export function returnPanel(ctx: ReportContext): Panel {
  const rewards = ctx.train.rewards;
  const n = rewards.length;
  const window = Math.max(5, Math.round(n / 20));
  const width = Math.ceil(n / BUCKETS);
  const long = bucketed(rewards, width);
  const perEpisode: Series[] = n > LONG_TRACE
    ? [{
      metric: "reward_mean",
      label: `mean per ${width} episodes, band: 25th-75th percentile`,
      ...long,
      color: COLORS.blue,
      width: 2,
      markers: false,
    }]
    : [
      {
        metric: "reward",
        label: "episode return",
        points: Array.from(rewards, (r, i) => [i + 1, r ?? NaN] as const),
        color: COLORS.lightBlue,
        width: 1,
        markers: false,
      },
      {
        metric: "reward_ma",
        label: `moving average (${window} episodes)`,
        points: Array.from(movingAverage(rewards, window), (r, i) => [i + 1, r] as const),
        color: COLORS.blue,
        width: 2.5,
        markers: false,
      },
    ];
  const returnSeries: Series[] = n > 0 ? perEpisode : [{
    // Older or interrupted runs: the per-interval mean from metrics.json.
    metric: "mean_reward",
    label: "mean return per eval interval",
    points: ctx.series((e) => e.mean_reward),
    color: COLORS.blue,
    width: 2.5,
  }];
  const final = ctx.expert.final?.return_mean ?? null;
  const base = ctx.train.heldout.sft?.return_mean ?? ctx.train.sft_eval.return_mean ?? null;
  return {
    ...ctx.base,
    title: "Episode return (training)",
    yLabel: "return",
    series: [
      ...returnSeries,
      ...references(ctx, { base, expert: final, note: " (held-out mean)", metric: "heldout_mean" }),
    ],
    emptyNote: ctx.missing("rewards", "train_metrics.json"),
  };
}

/** 2. Held-out return over training against the base policy and the expert. */
export function heldoutReturnPanel(ctx: ReportContext): Panel {
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
  const expert = (evalReturn.length > 0 ? ctx.expert.interval : ctx.expert.final)?.return_mean;
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
      ...references(ctx, { base: null, expert: expert ?? null, note: "", metric: "return" }),
    ],
    emptyNote: ctx.missing("heldout.return_mean / sft_heldout.return_mean"),
  };
}

/** 3. Held-out success rate over training, in percent, against the base policy and the expert. */
export function successPanel(ctx: ReportContext): Panel {
  const rate = ctx.series((e) => e.heldout.success_rate ?? null).map(([x, y]) =>
    [x, 100 * y] as const
  );
  const base = ctx.train.sft_eval.success_rate ?? null;
  const expert = ctx.expert.interval?.success_rate ?? null;
  return {
    ...ctx.base,
    title: "Held-out success rate",
    yLabel: "success rate (%)",
    yDomain: [0, 100],
    series: [
      {
        metric: "eval_success_rate",
        label: `${ctx.wording.refined} (eval)`,
        points: rate,
        color: COLORS.red,
      },
      ...references(ctx, { base, expert, scale: 100, note: "", metric: "success_rate" }),
    ],
    emptyNote: ctx.missing("heldout.success_rate"),
  };
}
