/**
 * The multi-seed summary as the table `train --seeds`, `aggregate` and the multi-seed
 * report print: one row per finished seed, the statistics across seeds per metric the
 * env has, then the missing seeds.
 *
 * @module
 */

import { SEED_METRICS } from "./summary.ts";
import type { SeedMetric, SeedsSummary } from "./summary.ts";

/**
 * The summary as a table: one row per finished seed, then mean, std, IQM and the
 * bootstrap interval of the mean per metric, then the missing seeds.
 *
 * @example
 * ```ts ignore
 * console.log(formatSummary(aggregateSeeds("out/seeds")));
 * ```
 */
export function formatSummary(s: SeedsSummary): string {
  const lines = [
    `seeds: ${s.finished.length} of ${s.seeds.length} finished in ${s.out_dir}` +
    (s.heldout
      ? `; held out on ${s.heldout.count} episodes, seeds ${s.heldout.first_seed}..${
        s.heldout.first_seed + s.heldout.count - 1
      }`
      : ""),
  ];
  const first = s.per_seed[0];
  if (first) {
    lines.push(
      first.expert_return === undefined
        ? `base policy alone: return ${first.sft_return.toFixed(2)}`
        : `SFT alone: return ${first.sft_return.toFixed(2)}; expert: return ${
          first.expert_return.toFixed(2)
        } (evaluated on the same seeds)`,
    );
  }
  // The metrics the env has, in table order.
  const metrics = SEED_METRICS.filter((m) => m in s.across_seeds);
  const fmt: Record<SeedMetric, (v: number) => string> = {
    return: (v) => v.toFixed(2),
    success_rate: (v) => `${(100 * v).toFixed(1)}%`,
    ade: (v) => v.toFixed(3),
    collision_rate: (v) => `${(100 * v).toFixed(1)}%`,
    route_completion: (v) => v.toFixed(3),
    gap_closed: (v) => `${(100 * v).toFixed(1)}%`,
  };
  const show = (m: SeedMetric, v: number | null | undefined) => (v == null ? "-" : fmt[m](v));
  const heads: Record<SeedMetric, string> = {
    return: "return",
    success_rate: "success",
    ade: "ADE m",
    collision_rate: "collisions",
    route_completion: "route",
    gap_closed: "gap closed",
  };
  const table = (rows: string[][]) => {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows.map((r) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ")
    );
  };
  if (s.per_seed.length > 0) {
    lines.push(
      "",
      ...table([
        ["seed", ...metrics.map((m) => heads[m])],
        ...s.per_seed.map((r) => [String(r.seed), ...metrics.map((m) => show(m, r[m]))]),
      ]),
    );
    const n = s.per_seed.length;
    const level = `${100 * s.method.level}% CI of mean`;
    lines.push(
      "",
      `across ${n} seed${
        n === 1 ? "" : "s"
      } (CI: percentile bootstrap, ${s.method.bootstrap_samples} resamples)`,
      ...table([
        ["metric", "mean", "std", "IQM", level],
        ...metrics.map((m) => {
          const st = s.across_seeds[m];
          if (st == null) return [heads[m], "-", "-", "-", "-"];
          return [
            heads[m],
            show(m, st.mean),
            show(m, st.std),
            show(m, st.iqm),
            `[${show(m, st.mean_ci[0])}, ${show(m, st.mean_ci[1])}]`,
          ];
        }),
      ]),
    );
  }
  if (s.across_groups) lines.push("", ...groupTable(s, table));
  for (const m of s.missing) lines.push(`missing: seed ${m.seed}: ${m.reason}`);
  return lines.join("\n");
}

// Per group of held-out episodes (traffic: scenario kind), one row per seed and the mean
// across seeds: the collision rate and route completion where the groups have them,
// else the success rate.
function groupTable(s: SeedsSummary, table: (rows: string[][]) => string[]): string[] {
  const across = s.across_groups!;
  const names = Object.keys(across);
  const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
  const shown = names.some((g) => across[g].collision_rate)
    ? [["collision_rate", pct], ["route_completion", (v: number) => v.toFixed(3)]] as const
    : [["success_rate", pct]] as const;
  const cell = (at: Partial<Record<string, number | null | undefined>> | undefined) =>
    shown.map(([m, f]) => (at?.[m] == null ? "-" : f(at[m]!))).join(" ");
  return [
    `per group of held-out episodes: ${shown.map(([m]) => m.replace("_", " ")).join(", ")}`,
    ...table([
      ["seed", ...names],
      ...s.per_seed.map((r) => [String(r.seed), ...names.map((g) => cell(r.groups?.[g]))]),
      [
        "mean",
        ...names.map((g) =>
          cell(Object.fromEntries(shown.map(([m]) => [m, across[g][m]?.mean ?? null])))
        ),
      ],
    ]),
  ];
}
