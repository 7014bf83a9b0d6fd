/**
 * The multi-seed summary per group of held-out episodes, for envs that group them
 * (traffic: by scenario kind): each seed's group results read from its held-out block,
 * and statistics across seeds per group.
 *
 * @module
 */

import { describeSeeds } from "./stats.ts";
import type { IntervalMethod, SeedStats } from "./stats.ts";

/**
 * One seed's held-out results in one group of episodes: its episodes, return, success
 * rate and the env's compared metrics, under the summary's keys (`ade`, ...).
 */
export type GroupResult = { num_episodes: number; [metric: string]: number };

/**
 * Per group (sorted) and metric (in the seeds' order), the statistics across the seeds
 * that have it; null when no seed has groups.
 *
 * @example
 * ```ts ignore
 * groupStats(summary.per_seed, DEFAULT_INTERVAL_METHOD)?.stopped_in_lane.return;
 * ```
 */
export function groupStats(
  perSeed: { groups?: Record<string, GroupResult> }[],
  method: IntervalMethod,
): Record<string, Record<string, SeedStats | null>> | null {
  const names = [...new Set(perSeed.flatMap((r) => Object.keys(r.groups ?? {})))].sort();
  if (names.length === 0) return null;
  return Object.fromEntries(names.map((g) => {
    const rows = perSeed.map((r) => r.groups?.[g]);
    const metrics = [...new Set(rows.flatMap((row) => Object.keys(row ?? {})))]
      .filter((m) => m !== "num_episodes");
    const stats = metrics.map((
      m,
    ) => [m, describeSeeds(rows.map((row) => row?.[m] ?? null), method)]);
    return [g, Object.fromEntries(stats)];
  }));
}

/**
 * The per-group results of a held-out block's `groups.refined` (`train_metrics.json`),
 * under the summary's names: `return_mean` as `return`, `success_rate`, and each of
 * `keys` ([summary key, the summary's name]); undefined when it has none or a group is
 * malformed.
 *
 * @example
 * ```ts
 * readGroups({ groups: { refined: { a: { num_episodes: 4, return_mean: 20, success_rate: 1 } } } }, []);
 * // { a: { num_episodes: 4, return: 20, success_rate: 1 } }
 * ```
 */
export function readGroups(
  h: Record<string, unknown> | undefined,
  keys: readonly [string, string][],
): Record<string, GroupResult> | undefined {
  const refined = (h?.groups as Record<string, unknown> | undefined)?.refined;
  if (typeof refined !== "object" || refined === null || Array.isArray(refined)) return undefined;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const out: Record<string, GroupResult> = {};
  const wanted: [string, string][] = [["return_mean", "return"], ["success_rate", "success_rate"]];
  for (const [name, g] of Object.entries(refined as Record<string, Record<string, unknown>>)) {
    const n = num(g?.num_episodes);
    if (n === undefined) return undefined;
    const row: GroupResult = { num_episodes: n };
    for (const [from, to] of [...wanted, ...keys]) {
      const v = num(g[from]);
      if (v !== undefined) row[to] = v;
    }
    out[name] = row;
  }
  return out;
}

/**
 * `{ across_groups }` of the summary from the seeds' groups ({@linkcode groupStats}), or
 * nothing when no seed has groups.
 *
 * @example
 * ```ts ignore
 * const summary = { per_seed, ...acrossGroups(per_seed, DEFAULT_INTERVAL_METHOD) };
 * ```
 */
export function acrossGroups(
  perSeed: { groups?: Record<string, GroupResult> }[],
  method: IntervalMethod,
): { across_groups?: Record<string, Record<string, SeedStats | null>> } {
  const stats = groupStats(perSeed, method);
  return stats ? { across_groups: stats } : {};
}
