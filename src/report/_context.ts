/**
 * What a run's report is made from (its parsed files, what the caller says of its env,
 * the expert's numbers on the same seeds, its recorded episodes) and the context every
 * panel reads it through.
 *
 * @module
 */

import { extent } from "./axes.ts";
import type { Point } from "./chart.ts";
import type { EpisodesData } from "./episodes_data.ts";
import { readEntry, readTrainMetrics } from "./run_metrics.ts";
import type { EntryNumbers, TrainNumbers } from "./run_metrics.ts";

/** One logged metric of an env, as the report charts it. */
export interface ReportMetric {
  /** The metric's name: charted as `key` and `sft_<key>`. */
  key: string;
  /** Its summary key in `heldout` (and the base policy's block when `base`). */
  mean: string;
  /** Legend and column label. */
  label: string;
  /** Its unit; one panel per unit. */
  unit?: string;
  /** Logged for the base policy too. */
  base?: boolean;
  /** A share of episodes: shown in percent on a 0-100 axis. */
  rate?: boolean;
}

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
  /** Whether the env has a goal (a success rate); absent: yes. */
  hasSuccess?: boolean;
  /** The metrics its `metrics.json` entries log, one panel per unit. */
  metrics: ReadonlyArray<ReportMetric>;
  /**
   * Labels of the summary keys of every metric the env declares (the tables' columns),
   * and whether each is a rate (in percent).
   */
  summaryLabels?: Readonly<Record<string, { label: string; rate: boolean }>>;
}

/** The expert planner's held-out means (summary keys) on a run's evaluation seeds. */
export interface ExpertNumbers {
  /** On the seeds of the evaluations during training (`sft_eval.seeds`). */
  interval?: Readonly<Record<string, number>>;
  /** On the seeds of the closing held-out evaluation (`heldout.seeds`). */
  final?: Readonly<Record<string, number>>;
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
  /** The expert on the same held-out seeds, where the caller could evaluate it. */
  expert?: ExpertNumbers;
  /** The run's `episodes.json`, checked; absent: no pictures, no return distribution. */
  episodes?: EpisodesData;
}

// The wording when the env is unknown.
const UNKNOWN = { base: "base policy", refined: "base + delta", deltaLabel: "|delta|" };

/** What the panels of a run's report are made from. */
export interface ReportContext {
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
  /** the expert on the same seeds */
  expert: ExpertNumbers;
}

/**
 * The context of a run's panels.
 *
 * @example
 * ```ts
 * reportContext({ name: "r", metrics: [{ episode: 10 }], trainMetrics: null }).episodes; // [10]
 * ```
 */
export function reportContext(data: RunReportData): ReportContext {
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
    ...{ span, sftLine, expert: data.expert ?? {} },
  };
}
