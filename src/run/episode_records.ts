/**
 * What an evaluation records: one record per episode (return, success, length, the env's
 * metrics by name, our extras under `raw`) and their summary (means and the env's metric
 * means and standard deviations).
 *
 * @module
 */

import type { EpisodeMetric, EpisodeStatistics } from "../env/mod.ts";

/**
 * One evaluated episode: an entry of `scenarios` in `eval --output`. Besides the fields
 * every env has, it holds the metrics the env declares, under their names (driving: the
 * research repo's evaluation schema's `ade`, `fde`, `route_completion`, `collisions`,
 * `offroad`, `red_light`, `final_dist`, `comfort {max_accel, max_jerk}`); our extras are
 * under `raw`.
 */
export interface EpisodeRecord {
  /** "seed:N" */
  scenario_id: string;
  /** Reached the goal. */
  success: boolean;
  /** Sum of the episode's rewards. */
  return: number;
  /** Steps the episode lasted. */
  steps: number;
  /** Ours, beyond the schema. */
  raw: {
    /** Seed of the episode. */
    seed: number;
    /** Cut at the env's episode cap. */
    truncated: boolean;
    /** Mean over steps of |clipped delta| (0 without a delta head). */
    mean_delta_norm: number;
    /** The episode's group, for envs that group episodes (traffic: the scenario's kind). */
    group?: string;
  };
  /** The env's metrics by name (a dotted name nests an object). */
  [metric: string]: unknown;
}

/**
 * Averages over the evaluated episodes: the fields every env has, then each declared
 * metric's mean (and std) under the keys the env names (driving: `ade_mean`, `ade_std`,
 * `fde_mean`, `fde_std`, `route_completion_mean`, `offroad_rate`, `final_dist_mean`).
 */
export interface EvalSummary {
  /** Episodes averaged. */
  num_episodes: number;
  /** Mean episode return. */
  return_mean: number;
  /** Fraction of episodes that reached the goal. */
  success_rate: number;
  /** Mean episode length (steps). */
  steps_mean: number;
  /** Fraction of episodes cut at the env's episode cap. */
  truncated_rate: number;
  /** Mean over episodes of `mean_delta_norm` (0 without a delta head). */
  delta_norm_mean: number;
  /** The env's metric summaries, under the keys its metrics declare. */
  [summaryKey: string]: number;
}

/** Episode records and their summary. */
export interface EvalResult {
  /** One record per episode, in seed order. */
  scenarios: EpisodeRecord[];
  /** Averages over `scenarios`. */
  summary: EvalSummary;
  /** The metrics the env declared (what `summary` and the records hold beyond the basics). */
  metrics: readonly EpisodeMetric[];
}

/**
 * The record of the episode that row `opts.row` of `vec` ended at its latest step.
 *
 * @example
 * ```ts ignore
 * if (vec.done[i]) records.push(episodeRecord(vec, { row: i, seed, meanDeltaNorm: 0 }));
 * ```
 */
export function episodeRecord(
  vec: EpisodeStatistics,
  opts: { row: number; seed: number; meanDeltaNorm: number },
): EpisodeRecord {
  const { seed, row: i } = opts;
  const metrics = vec.metrics, m = metrics.length;
  const record: EpisodeRecord = {
    scenario_id: `seed:${seed}`,
    success: vec.success[i] === 1,
    return: vec.episodeReturns[i],
    steps: vec.episodeLengths[i],
    raw: {
      seed,
      truncated: vec.truncated[i] === 1,
      mean_delta_norm: opts.meanDeltaNorm,
    },
  };
  const group = vec.episodeGroups[i];
  if (group !== undefined) record.raw.group = group;
  for (let k = 0; k < m; k++) setMetric(record, metrics[k].name, vec.episodeMetrics[i * m + k]);
  return record;
}
// record.a.b = x for the name "a.b"
function setMetric(record: Record<string, unknown>, name: string, x: number): void {
  const parts = name.split(".");
  let at = record;
  for (let j = 0; j < parts.length - 1; j++) {
    at = (at[parts[j]] ??= {}) as Record<string, unknown>;
  }
  at[parts[parts.length - 1]] = x;
}

/**
 * A metric's value in an episode record (a dotted name reads a nested object).
 *
 * @example
 * ```ts ignore
 * metricOf(result.scenarios[0], "comfort.max_accel");
 * ```
 */
export function metricOf(record: EpisodeRecord, name: string): number {
  let at: unknown = record;
  for (const part of name.split(".")) at = (at as Record<string, unknown>)[part];
  return at as number;
}

/**
 * Averages episode records into a summary.
 *
 * @example
 * ```ts ignore
 * const summary = summarize(result.scenarios);
 * ```
 */
export function summarize(
  records: EpisodeRecord[],
  metrics: readonly EpisodeMetric[] = [],
): EvalSummary {
  const k = records.length;
  const avg = (f: (r: EpisodeRecord) => number) => records.reduce((s, r) => s + f(r), 0) / k;
  const std = (f: (r: EpisodeRecord) => number) => {
    const m = avg(f);
    return Math.sqrt(records.reduce((s, r) => s + (f(r) - m) ** 2, 0) / k);
  };
  const summary: EvalSummary = {
    num_episodes: k,
    return_mean: avg((r) => r.return),
    success_rate: avg((r) => Number(r.success)),
    steps_mean: avg((r) => r.steps),
    truncated_rate: avg((r) => Number(r.raw.truncated)),
    delta_norm_mean: 0,
  };
  for (const metric of metrics) {
    const f = (r: EpisodeRecord) => metricOf(r, metric.name);
    if (metric.mean) summary[metric.mean] = avg(f);
    if (metric.std) summary[metric.std] = std(f);
  }
  // last, as before the env declared its metrics
  delete (summary as Partial<EvalSummary>).delta_norm_mean;
  summary.delta_norm_mean = avg((r) => r.raw.mean_delta_norm);
  return summary;
}

/**
 * The summary of each group of episode records (`raw.group`: traffic's scenario kinds),
 * by group name in sorted order; null when no record has a group.
 *
 * @example
 * ```ts ignore
 * summarizeGroups(result.scenarios, result.metrics)?.stopped_in_lane.collision_rate;
 * ```
 */
export function summarizeGroups(
  records: EpisodeRecord[],
  metrics: readonly EpisodeMetric[] = [],
): Record<string, EvalSummary> | null {
  const byGroup = new Map<string, EpisodeRecord[]>();
  for (const r of records) {
    if (r.raw.group === undefined) continue;
    const list = byGroup.get(r.raw.group);
    if (list) list.push(r);
    else byGroup.set(r.raw.group, [r]);
  }
  if (byGroup.size === 0) return null;
  const names = [...byGroup.keys()].sort();
  return Object.fromEntries(names.map((g) => [g, summarize(byGroup.get(g)!, metrics)]));
}
