/**
 * The run's diary, kept by the training loop beside the {@linkcode Trainer}: the
 * return, length and success of every training episode, the `metrics.json` entries
 * (typed, written flat in a fixed key order) and which evaluation `best.pt` holds.
 *
 * @module
 */

import { finiteMean } from "../math/mod.ts";
import type { IterationResult, UpdateStats } from "../ppo/mod.ts";

/**
 * Held-out means of one policy, named as `eval`'s summary (and `train_metrics.json`'s
 * held-out blocks): `return_mean`, then (refined policy) `success_rate`, then the env's
 * logged metrics under their summary key (driving: `ade_mean`, `fde_mean`).
 */
export interface HeldoutMeans {
  /** Mean held-out return. */
  return_mean: number;
  /** The env's logged means, and `success_rate` where kept. */
  [key: string]: number;
}

/**
 * One `metrics.json` entry; see {@linkcode metricsEntryJson} for the file's layout.
 * Entries written before the held-out means were named as `eval`'s summary (flat
 * `eval_return`, `eval_success_rate`, `<key>`, `sft_eval_return`, `sft_<key>`) are
 * read by {@linkcode parseMetricsEntry} under the new names.
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
  /**
   * The policy on the held-out evaluation seeds: `return_mean`, `success_rate`, then
   * the means of the env's metrics that declare an `entry`, by summary key, in the
   * env's order (driving: `ade_mean`, `fde_mean` in m).
   */
  heldout: HeldoutMeans;
  /**
   * The base policy alone on the same seeds: `return_mean`, then the means of the logged
   * metrics measured on it too (driving: `ade_mean`). Written as `sft_heldout`, or as
   * `base_heldout` for an env without an SFT planner.
   */
  sft_heldout: HeldoutMeans;
}

/**
 * What the base policy's blocks are called in a run's files: "sft" (`sft_heldout`,
 * `heldout.sft`, `sft_eval`) for an env with an SFT planner, "base" (`base_heldout`,
 * `heldout.base`, `base_eval`) for one without.
 */
export type BaseName = "sft" | "base";

/** `metrics.json`'s flat form of a {@linkcode MetricsEntry}. */
export type MetricsEntryJson = Record<string, unknown>;

/**
 * Which evaluation `best.pt` holds: highest held-out `return_mean`, ties broken by the
 * lower value of the env's tie-break metric (driving: `ade_mean`, the mean held-out ADE
 * in m), stored under its summary key. Older checkpoints' `eval_return` and `<key>` are
 * read as `return_mean` and `<key>_mean` ({@linkcode renameOldBest}).
 */
export interface BestRecord {
  /** Episodes done at that evaluation. */
  episode: number;
  /** Mean held-out return. */
  return_mean: number;
  /** The tie-break metric's held-out mean, under its summary key (driving: `ade_mean`). */
  [tieBreak: string]: number;
}

/**
 * A best record with the names written before the rename (`eval_return`, `<key>`)
 * under the new ones (`return_mean`, `<key>_mean`); a record with the new names is
 * returned as it is.
 *
 * @example
 * ```ts
 * renameOldBest({ episode: 5, eval_return: 2, ade: 1 }); // { episode: 5, return_mean: 2, ade_mean: 1 }
 * ```
 */
export function renameOldBest(best: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(best, "eval_return") || Object.hasOwn(best, "return_mean")) return best;
  return Object.fromEntries(
    Object.entries(best).map(([k, v]) => [
      k === "episode" ? k : k === "eval_return" ? "return_mean" : `${k}_mean`,
      v,
    ]),
  );
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
  /** The name of the base policy's blocks in the files (default "sft"). */
  base?: BaseName;
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
] as const;

/**
 * The `metrics.json` object of an entry, keys in the order the file has them:
 * `episode` .. `timestamp`, then `heldout` {`return_mean`, `success_rate`, the env's
 * summary keys} and `sft_heldout` (or `base_heldout`, see {@linkcode BaseName})
 * {`return_mean`, the env's summary keys}.
 *
 * @example
 * ```ts ignore
 * const first = metricsEntryJson(log.metrics[0]);
 * ```
 */
export function metricsEntryJson(entry: MetricsEntry, base: BaseName = "sft"): MetricsEntryJson {
  const out: MetricsEntryJson = {};
  for (const k of FIXED_HEAD) out[k] = entry[k];
  out.heldout = { ...entry.heldout };
  out[`${base}_heldout`] = { ...entry.sft_heldout };
  return out;
}

// An entry written before the rename: flat eval_return, eval_success_rate, <key>,
// sft_eval_return, sft_<key>; the same entry with heldout / sft_heldout, one to one
// (<key> -> <key>_mean), and each new path's old key (for error messages). Entries
// with `heldout` (or neither form) are kept as they are.
function renameOldEntry(
  json: Record<string, unknown>,
): { json: Record<string, unknown>; oldKeys: Map<string, string> } {
  const oldKeys = new Map<string, string>();
  if (Object.hasOwn(json, "heldout") || !Object.hasOwn(json, "eval_return")) {
    return { json, oldKeys };
  }
  const fixed = new Set<string>(FIXED_HEAD);
  const out: Record<string, unknown> = {};
  const heldout: Record<string, unknown> = {}, sft: Record<string, unknown> = {};
  const put = (to: Record<string, unknown>, block: string, key: string, old: string) => {
    to[key] = json[old];
    oldKeys.set(`${block}.${key}`, old);
  };
  for (const k of Object.keys(json)) {
    if (fixed.has(k)) out[k] = json[k];
    else if (k === "eval_return") put(heldout, "heldout", "return_mean", k);
    else if (k === "eval_success_rate") put(heldout, "heldout", "success_rate", k);
    else if (k === "sft_eval_return") put(sft, "sft_heldout", "return_mean", k);
    else if (k.startsWith("sft_")) put(sft, "sft_heldout", `${k.slice(4)}_mean`, k);
    else put(heldout, "heldout", `${k}_mean`, k);
  }
  oldKeys.set("heldout.success_rate", "eval_success_rate");
  oldKeys.set("sft_heldout", "sft_eval_return");
  oldKeys.set("sft_heldout.return_mean", "sft_eval_return");
  return { json: { ...out, heldout, sft_heldout: sft }, oldKeys };
}

/**
 * Reads back an entry written by {@linkcode metricsEntryJson}, or one written before
 * the rename (flat `eval_return`, `eval_success_rate`, `<key>`, `sft_eval_return`,
 * `sft_<key>`: read as `heldout.return_mean`, `heldout.success_rate`,
 * `heldout.<key>_mean`, `sft_heldout.return_mean`, `sft_heldout.<key>_mean`). A value
 * of the wrong type is reported (under the key the entry has) to `opts.fail` with its key (relative to the entry), what was expected
 * and what was found.
 *
 * @example
 * ```ts ignore
 * const entry = parseMetricsEntry(JSON.parse(text)[0], { fail: (k) => { throw new Error(k); } });
 * ```
 */
export function parseMetricsEntry(
  written: Record<string, unknown>,
  opts: { fail: (key: string, want: string, got: unknown) => never },
): MetricsEntry {
  const { json, oldKeys } = renameOldEntry(written);
  // errors name the key as the entry has it
  const fail = (key: string, want: string, got: unknown): never =>
    opts.fail(oldKeys.get(key) ?? key, want, got);
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
  // return_mean first, then every further key as a number (the env's means)
  const means = (v: unknown, key: string, first: readonly string[]): HeldoutMeans => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return fail(key, "a dict", v);
    const r = v as Record<string, unknown>;
    const out: Record<string, number> = {};
    for (const k of first) out[k] = num(r[k], `${key}.${k}`);
    for (const [k, x] of Object.entries(r)) if (!first.includes(k)) out[k] = num(x, `${key}.${k}`);
    return out as HeldoutMeans;
  };
  if (typeof json.timestamp !== "string") fail("timestamp", "a string", json.timestamp);
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
    heldout: means(json.heldout, "heldout", ["return_mean", "success_rate"]),
    sft_heldout: Object.hasOwn(json, "base_heldout") && !Object.hasOwn(json, "sft_heldout")
      ? means(json.base_heldout, "base_heldout", ["return_mean"])
      : means(json.sft_heldout, "sft_heldout", ["return_mean"]),
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
  /** The policy's held-out means: `return_mean`, `success_rate`, the env's by summary key. */
  heldout: HeldoutMeans;
  /** The base planner's on the same seeds: `return_mean`, the env's by summary key. */
  sft_heldout: HeldoutMeans;
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
  /** The name of the base policy's blocks in the files. */
  readonly base: BaseName;
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

  /** An empty log; `opts.base` names the base policy's blocks in the files (default "sft"). */
  constructor(opts: { base?: BaseName } = {}) {
    this.base = opts.base ?? "sft";
  }

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
   * Builds the `metrics.json` entry of the episodes since the previous entry (at
   * episode `previous`, default the last of `metrics`), the latest iteration `last` and
   * the evaluation `ev` (not appended: see `metrics`).
   */
  entry(
    last: IterationResult,
    ev: EvalNumbers,
    previous: number | undefined = this.metrics.at(-1)?.episode,
  ): MetricsEntry {
    const from = Math.max(0, previous ?? 0);
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
    return this.metrics.map((e) => metricsEntryJson(e, this.base));
  }

  /** A copy of what a checkpoint stores. */
  state(): RunLogState {
    return {
      rewards: [...this.rewards],
      lengths: [...this.lengths],
      successes: [...this.successes],
      metrics: structuredClone(this.metrics),
      best: this.best === null ? null : { ...this.best },
      base: this.base,
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
