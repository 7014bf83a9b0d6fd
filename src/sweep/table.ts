/**
 * The multi-seed summary as the table `train --seeds`, `aggregate` and the multi-seed
 * report print: one row per finished seed, the statistics across seeds per metric the
 * env has, then the missing seeds.
 *
 * @module
 */

import { seedValue } from "./summary.ts";
import type { SeedsSummary } from "./summary.ts";

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
    const sft = first.sft_return, base = first.base_return ?? sft ?? NaN;
    lines.push(
      first.expert_return == null
        ? `${sft === undefined ? "base policy" : "SFT"} alone: return ${base.toFixed(2)}`
        : `${sft === undefined ? "base policy" : "SFT"} alone: return ${
          base.toFixed(2)
        }; expert: return ${first.expert_return.toFixed(2)} (evaluated on the same seeds)`,
    );
  }
  // The metrics compared, in table order; rates and the gap closed in percent.
  const metrics = Object.keys(s.across_seeds);
  const percent = (m: string) => m.endsWith("_rate") || m === "gap_closed";
  const fmt = (m: string, v: number) =>
    m === "return" ? v.toFixed(2) : percent(m) ? `${(100 * v).toFixed(1)}%` : v.toFixed(3);
  const show = (m: string, v: number | null | undefined) => (v == null ? "-" : fmt(m, v));
  const heads: Record<string, string> = {
    return: "return",
    success_rate: "success",
    gap_closed: "gap closed",
    ...(s.labels ?? {}),
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
        ["seed", ...metrics.map((m) => (heads[m] ?? m))],
        ...s.per_seed.map((r) => [String(r.seed), ...metrics.map((m) => show(m, seedValue(r, m)))]),
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
          if (st == null) return [heads[m] ?? m, "-", "-", "-", "-"];
          return [
            heads[m] ?? m,
            show(m, st.mean),
            show(m, st.std),
            show(m, st.iqm),
            `[${show(m, st.mean_ci[0])}, ${show(m, st.mean_ci[1])}]`,
          ];
        }),
      ]),
    );
  }
  if (s.across_groups) lines.push("", ...groupTable(s, { table, show }));
  for (const m of s.missing) lines.push(`missing: seed ${m.seed}: ${m.reason}`);
  return lines.join("\n");
}

// Per group of held-out episodes (traffic: scenario kind), one row per seed and the mean
// across seeds: each metric the env compares (else the success rate), one cell per group.
function groupTable(
  s: SeedsSummary,
  o: { table: (rows: string[][]) => string[]; show: (m: string, v?: number | null) => string },
): string[] {
  const across = s.across_groups!, table = o.table;
  const names = Object.keys(across);
  const compared = Object.keys(s.labels ?? {});
  const shown = compared.length > 0 ? compared : ["success_rate"];
  const cell = (at: Partial<Record<string, number | null>> | undefined) =>
    shown.map((m) => o.show(m, at?.[m])).join(" ");
  return [
    `per group of held-out episodes: ${shown.map((m) => s.labels?.[m] ?? m).join(", ")}`,
    ...table([
      ["seed", ...names],
      ...s.per_seed.map((r) => [String(r.seed), ...names.map((g) => cell(r.groups?.[g]))]),
      [
        "mean",
        ...names.map((g) =>
          cell(Object.fromEntries(shown.map((m) => [m, across[g][m]?.mean ?? null])))
        ),
      ],
    ]),
  ];
}
