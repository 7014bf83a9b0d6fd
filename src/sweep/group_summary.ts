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
 * The metrics compared across seeds per group of held-out episodes (traffic: per
 * scenario kind), where the held-out block has groups: return, success rate and, where
 * it has them, the collision rate and route completion.
 */
export const GROUP_METRICS = [
  "return",
  "success_rate",
  "collision_rate",
  "route_completion",
] as const;

/** One of {@linkcode GROUP_METRICS}. */
export type GroupMetric = typeof GROUP_METRICS[number];

/** One seed's held-out results in one group of episodes. */
export type GroupResult = { num_episodes: number } & Partial<Record<GroupMetric, number>>;

/**
 * Per group (sorted) and metric, the statistics across the seeds that have it; null
 * when no seed has groups.
 *
 * @example
 * ```ts ignore
 * groupStats(summary.per_seed, DEFAULT_INTERVAL_METHOD)?.stopped_in_lane.collision_rate;
 * ```
 */
export function groupStats(
  perSeed: { groups?: Record<string, GroupResult> }[],
  method: IntervalMethod,
): Record<string, Partial<Record<GroupMetric, SeedStats | null>>> | null {
  const names = [...new Set(perSeed.flatMap((r) => Object.keys(r.groups ?? {})))].sort();
  if (names.length === 0) return null;
  return Object.fromEntries(names.map((g) => {
    const metrics = GROUP_METRICS.filter((m) => perSeed.some((r) => r.groups?.[g]?.[m] != null));
    const stats = metrics.map((m) => [
      m,
      describeSeeds(perSeed.map((r) => r.groups?.[g]?.[m] ?? null), method),
    ]);
    return [g, Object.fromEntries(stats)];
  }));
}

/**
 * The per-group results of a held-out block's `groups.refined` (`train_metrics.json`),
 * under the summary's names; undefined when it has none or they are malformed.
 *
 * @example
 * ```ts
 * readGroups({ groups: { refined: { cut_in: { num_episodes: 4, return_mean: 20 } } } });
 * // { cut_in: { num_episodes: 4, return: 20 } }
 * ```
 */
export function readGroups(
  h: Record<string, unknown> | undefined,
): Record<string, GroupResult> | undefined {
  const refined = (h?.groups as Record<string, unknown> | undefined)?.refined;
  if (typeof refined !== "object" || refined === null || Array.isArray(refined)) return undefined;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const out: Record<string, GroupResult> = {};
  for (const [name, g] of Object.entries(refined as Record<string, Record<string, unknown>>)) {
    const n = num(g?.num_episodes);
    if (n === undefined) return undefined;
    const row: GroupResult = { num_episodes: n };
    const ret = num(g.return_mean), success = num(g.success_rate);
    if (ret !== undefined) row.return = ret;
    if (success !== undefined) row.success_rate = success;
    for (const key of ["collision_rate", "route_completion"] as const) {
      const v = num(g[key]);
      if (v !== undefined) row[key] = v;
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
): { across_groups?: Record<string, Partial<Record<GroupMetric, SeedStats | null>>> } {
  const stats = groupStats(perSeed, method);
  return stats ? { across_groups: stats } : {};
}
