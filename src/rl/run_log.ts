/**
 * The run's diary, kept by the training loop beside the {@linkcode Trainer}: the
 * return, length and success of every training episode, the `metrics.json` entries
 * (typed, written flat in a fixed key order) and which evaluation `best.pt` holds.
 *
 * @module
 */

import { finiteMean } from "../math/stats.ts";
import type { IterationResult, UpdateStats } from "./trainer.ts";

/**
 * One `metrics.json` entry. The env's own held-out means (`env`, `sft`) are written
 * flat under their keys (driving: `ade`, `fde`, `sft_ade`); see
 * {@linkcode metricsEntryJson} for the file's layout.
 */
export interface MetricsEntry {
  /** Episodes done when the entry was made. */
  episode: number;
  /** Mean episode return over the training episodes since the previous entry. */
  mean_reward: number;
  /** Mean length (steps) of those episodes. */
  mean_length: number;
  /** Equal to `episode`. */
  total_episodes: number;
  /** Fraction of those episodes that reached the goal. */
  success_rate: number;
  /** The latest PPO update. */
  update: UpdateStats;
  /** Norms of the clipped mean delta (m) over every step of the latest rollout. */
  eval: { mean_delta_norm: number; max_delta_norm: number; std_delta_norm: number };
  /** ISO 8601 time the entry was made. */
  timestamp: string;
  /** Mean held-out return of the policy on the evaluation seeds. */
  eval_return: number;
  /** Its success rate. */
  eval_success_rate: number;
  /**
   * Held-out means of the env's metrics that declare an `entry`, by that key, in the
   * env's order (driving: `ade`, `fde` in m).
   */
  env: Record<string, number>;
  /** Mean return of the base planner alone on the same seeds. */
  sft_eval_return: number;
  /** Its means of the metrics whose `entry` has `sft`, by key (written `sft_<key>`). */
  sft: Record<string, number>;
}

/** `metrics.json`'s flat form of a {@linkcode MetricsEntry}. */
export type MetricsEntryJson = Record<string, unknown>;

/**
 * Which evaluation `best.pt` holds: highest eval return, ties broken by the lower value
 * of the env's tie-break metric (driving: `ade`, the mean held-out ADE in m), stored
 * under its `metrics.json` key.
 */
export interface BestRecord {
  /** Episodes done at that evaluation. */
  episode: number;
  /** Mean held-out return. */
  eval_return: number;
  /** The tie-break metric's held-out mean, under its key (driving: `ade`). */
  [tieBreak: string]: number;
}

/** What a checkpoint stores of a {@linkcode RunLog}. */
export interface RunLogState {
  /** Return of each training episode, by episode index. */
  rewards: number[];
  /** Length (steps) of each training episode. */
  lengths: number[];
  /** 1 where the training episode reached the goal, else 0. */
  successes: number[];
  /** `metrics.json` entries so far. */
  metrics: MetricsEntry[];
  /** The best held-out evaluation so far (what `best.pt` holds), or null. */
  best: BestRecord | null;
}

const FIXED_HEAD = [
  "episode",
  "mean_reward",
  "mean_length",
  "total_episodes",
  "success_rate",
  "update",
  "eval",
  "timestamp",
  "eval_return",
  "eval_success_rate",
] as const;

/**
 * The flat `metrics.json` object of an entry, keys in the order the file has them:
 * `episode` .. `timestamp`, `eval_return`, `eval_success_rate`, the env's keys,
 * `sft_eval_return`, then `sft_<key>`.
 *
 * @example
 * ```ts ignore
 * const first = metricsEntryJson(log.metrics[0]);
 * ```
 */
export function metricsEntryJson(entry: MetricsEntry): MetricsEntryJson {
  const out: MetricsEntryJson = {};
  for (const k of FIXED_HEAD) out[k] = entry[k];
  for (const [k, v] of Object.entries(entry.env)) out[k] = v;
  out.sft_eval_return = entry.sft_eval_return;
  for (const [k, v] of Object.entries(entry.sft)) out[`sft_${k}`] = v;
  return out;
}

/**
 * Reads back a flat entry written by {@linkcode metricsEntryJson}: keys other than the
 * fixed ones are the env's (`sft_<key>`: the base planner's). A value of the wrong type
 * is reported to `opts.fail` with its key (relative to the entry), what was expected
 * and what was found.
 *
 * @example
 * ```ts ignore
 * const entry = parseMetricsEntry(JSON.parse(text)[0], { fail: (k) => { throw new Error(k); } });
 * ```
 */
export function parseMetricsEntry(
  json: Record<string, unknown>,
  opts: { fail: (key: string, want: string, got: unknown) => never },
): MetricsEntry {
  const { fail } = opts;
  const num = (v: unknown, key: string): number =>
    typeof v === "number" ? v : fail(key, "a number", v);
  const record = <K extends string>(v: unknown, key: string, keys: readonly K[]) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(key, "a dict", v);
    const r = v as Record<string, unknown>;
    const out = {} as Record<K, number>;
    for (const k of keys) out[k] = num(r[k], `${key}.${k}`);
    // keep any further keys (an older or newer writer's) as they were
    return { ...r, ...out };
  };
  if (typeof json.timestamp !== "string") fail("timestamp", "a string", json.timestamp);
  const env: Record<string, number> = {}, sft: Record<string, number> = {};
  const fixed = new Set<string>([...FIXED_HEAD, "sft_eval_return"]);
  for (const [k, v] of Object.entries(json)) {
    if (fixed.has(k)) continue;
    if (k.startsWith("sft_")) sft[k.slice(4)] = num(v, k);
    else env[k] = num(v, k);
  }
  return {
    episode: num(json.episode, "episode"),
    mean_reward: num(json.mean_reward, "mean_reward"),
    mean_length: num(json.mean_length, "mean_length"),
    total_episodes: num(json.total_episodes, "total_episodes"),
    success_rate: num(json.success_rate, "success_rate"),
    update: record(json.update, "update", UPDATE_KEYS) as unknown as UpdateStats,
    eval: record(
      json.eval,
      "eval",
      [
        "mean_delta_norm",
        "max_delta_norm",
        "std_delta_norm",
      ] as const,
    ),
    timestamp: json.timestamp as string,
    eval_return: num(json.eval_return, "eval_return"),
    eval_success_rate: num(json.eval_success_rate, "eval_success_rate"),
    env,
    sft_eval_return: num(json.sft_eval_return, "sft_eval_return"),
    sft,
  };
}

const UPDATE_KEYS = [
  "policy_loss",
  "value_loss",
  "entropy",
  "kl",
  "clip_fraction",
  "explained_variance",
  "grad_norm_delta",
  "grad_norm_value",
  "epochs",
  "minibatches",
] as const;

/** What the latest evaluation measured, for {@linkcode RunLog.addEntry}. */
export interface EvalNumbers {
  /** Mean held-out return of the policy. */
  eval_return: number;
  /** Its success rate. */
  eval_success_rate: number;
  /** Its means of the env's logged metrics, by `entry` key. */
  env: Record<string, number>;
  /** The base planner's mean return on the same seeds. */
  sft_eval_return: number;
  /** Its means of the metrics logged for it, by `entry` key. */
  sft: Record<string, number>;
}

/**
 * The run's diary: per-episode history, `metrics.json` entries and the best record.
 * The loop appends to it; checkpoints store it; `snapshot` rolls it back.
 *
 * @example
 * ```ts ignore
 * const log = new RunLog();
 * log.record(trainer.iterate(5));
 * ```
 */
export class RunLog {
  /** Return of each training episode, by episode index. */
  readonly rewards: number[] = [];
  /** Length (steps) of each training episode. */
  readonly lengths: number[] = [];
  /** 1 where the training episode reached the goal, else 0. */
  readonly successes: number[] = [];
  /** `metrics.json` entries, one per evaluation. */
  readonly metrics: MetricsEntry[] = [];
  /** The best held-out evaluation so far (what `best.pt` holds), or null. */
  best: BestRecord | null = null;

  /** Appends the episodes of one iteration (they follow the history's last one). */
  record(result: IterationResult): void {
    const { firstEpisode, returns, lengths, successes } = result;
    for (let i = 0; i < returns.length; i++) {
      this.rewards[firstEpisode + i] = returns[i];
      this.lengths[firstEpisode + i] = lengths[i];
      this.successes[firstEpisode + i] = successes[i];
    }
  }

  /**
   * Builds the `metrics.json` entry of the episodes since the previous entry, the
   * latest iteration `last` and the evaluation `ev` (not appended: see `metrics`).
   */
  entry(last: IterationResult, ev: EvalNumbers): MetricsEntry {
    const from = Math.max(0, this.metrics.at(-1)?.episode ?? 0);
    const episode = last.firstEpisode + last.episodes;
    return {
      episode,
      mean_reward: finiteMean(this.rewards.slice(from)),
      mean_length: finiteMean(this.lengths.slice(from)),
      total_episodes: episode,
      success_rate: finiteMean(this.successes.slice(from)),
      update: last.update,
      eval: {
        mean_delta_norm: last.deltaNorm.mean,
        max_delta_norm: last.deltaNorm.max,
        std_delta_norm: last.deltaNorm.std,
      },
      timestamp: new Date().toISOString(),
      ...ev,
    };
  }

  /** The `metrics.json` document: every entry, flat ({@linkcode metricsEntryJson}). */
  metricsJson(): MetricsEntryJson[] {
    return this.metrics.map(metricsEntryJson);
  }

  /** A copy of what a checkpoint stores. */
  state(): RunLogState {
    return {
      rewards: [...this.rewards],
      lengths: [...this.lengths],
      successes: [...this.successes],
      metrics: structuredClone(this.metrics),
      best: this.best === null ? null : { ...this.best },
    };
  }

  /** Replaces the log by a stored {@linkcode RunLogState}. */
  restore(s: RunLogState): void {
    // element by element: spreading a long history into arguments overflows the stack
    const copy = <T>(to: T[], from: readonly T[]) => {
      to.length = 0;
      for (let i = 0; i < from.length; i++) to.push(from[i]);
    };
    copy(this.rewards, s.rewards);
    copy(this.lengths, s.lengths);
    copy(this.successes, s.successes);
    copy(this.metrics, structuredClone(s.metrics));
    this.best = s.best === null ? null : { ...s.best };
  }

  /** Marks `count` episodes of unknown outcome (NaN), as a Python checkpoint leaves them. */
  fillUnknown(count: number): void {
    for (let i = 0; i < count; i++) {
      this.rewards.push(NaN);
      this.lengths.push(NaN);
      this.successes.push(NaN);
    }
  }

  /** The log's extent now, and a function that cuts it back to that. */
  snapshot(): () => void {
    const history = this.rewards.length, entries = this.metrics.length, best = this.best;
    return () => {
      this.rewards.length = this.lengths.length = this.successes.length = history;
      this.metrics.length = entries;
      this.best = best;
    };
  }
}
