/**
 * Typed reading of a run folder's parsed `metrics.json` entries and `train_metrics.json`
 * for the report: every number is `null` when it is missing or not finite, so old,
 * interrupted or hand-edited runs still chart what they have.
 *
 * @module
 */

/** One `metrics.json` entry as the report reads it (the loop's metrics entry shape). */
export interface EntryNumbers {
  /** Episodes done when the entry was made. */
  episode: number | null;
  /** Mean training return since the previous entry. */
  mean_reward: number | null;
  /** Mean held-out return of base + delta. */
  eval_return: number | null;
  /** Mean held-out return of the base policy alone. */
  sft_eval_return: number | null;
  /** The latest PPO update's statistics. */
  update: { kl: number | null; clip_fraction: number | null; entropy: number | null };
  /** Norms of the clipped delta over the latest rollout. */
  eval: { mean_delta_norm: number | null; std_delta_norm: number | null };
  /** ISO 8601 time of the entry. */
  timestamp: string | null;
  /** The entry as parsed, for the metrics the env declares (by their entry key). */
  raw: unknown;
}

/** The parts of `train_metrics.json` the report reads, with eval's names or older ones. */
export interface TrainNumbers {
  /** Return of every training episode. */
  rewards: (number | null)[];
  /** The base policy's held-out means logged at the start of the run. */
  sft_eval: { return_mean: number | null; ade_mean: number | null; fde_mean: number | null };
  /** The final held-out evaluation: base alone and base + delta. */
  heldout: { sft: HeldoutNumbers | null; refined: HeldoutNumbers | null };
  /** First seed and episode count of the final held-out evaluation. */
  heldout_seeds: [first: number, count: number] | null;
}

/** One policy's row of the final held-out evaluation. */
export interface HeldoutNumbers {
  /** Mean return. */
  return_mean: number | null;
  /** Fraction of episodes that reached the goal. */
  success_rate: number | null;
  /** Mean episode length (steps). */
  steps_mean: number | null;
}

/**
 * The number at a dotted `path` inside parsed JSON, or null when any step is missing
 * or the value is not a finite number.
 *
 * @example
 * ```ts
 * numberAt({ update: { kl: 0.01 } }, "update.kl"); // 0.01
 * numberAt({ update: null }, "update.kl"); // null
 * ```
 */
export function numberAt(value: unknown, path: string): number | null {
  const v = valueAt(value, path);
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * The value at a dotted `path` inside parsed JSON, or undefined when a step is missing.
 *
 * @example
 * ```ts
 * valueAt({ a: { b: "x" } }, "a.b"); // "x"
 * ```
 */
export function valueAt(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/**
 * A parsed `metrics.json` entry (any shape) as {@linkcode EntryNumbers}.
 *
 * @example
 * ```ts
 * readEntry({ episode: 10, update: { kl: 0.01 } }).update.kl; // 0.01
 * ```
 */
export function readEntry(entry: unknown): EntryNumbers {
  const n = (path: string) => numberAt(entry, path);
  const timestamp = valueAt(entry, "timestamp");
  return {
    episode: n("episode"),
    mean_reward: n("mean_reward"),
    eval_return: n("eval_return"),
    sft_eval_return: n("sft_eval_return"),
    update: {
      kl: n("update.kl"),
      clip_fraction: n("update.clip_fraction"),
      entropy: n("update.entropy"),
    },
    eval: { mean_delta_norm: n("eval.mean_delta_norm"), std_delta_norm: n("eval.std_delta_norm") },
    timestamp: typeof timestamp === "string" ? timestamp : null,
    raw: entry,
  };
}

/**
 * The env metric an entry logs under `key` (one the env declares, e.g. "ade"), or null.
 *
 * @example
 * ```ts
 * envMetric(readEntry({ max_position: 0.4 }), "max_position"); // 0.4
 * ```
 */
export function envMetric(entry: EntryNumbers, key: string): number | null {
  const raw = entry.raw;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || !Object.hasOwn(raw, key)) {
    return null;
  }
  const v = (raw as Record<string, unknown>)[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/**
 * A parsed `train_metrics.json` (any shape, or null) as {@linkcode TrainNumbers}:
 * eval's names first, then the spellings of run folders written before them.
 *
 * @example
 * ```ts
 * readTrainMetrics({ sft_eval: { return: -3 } }).sft_eval.return_mean; // -3
 * ```
 */
export function readTrainMetrics(train: unknown): TrainNumbers {
  const n = (...paths: string[]) => {
    for (const p of paths) {
      const v = numberAt(train, p);
      if (v !== null) return v;
    }
    return null;
  };
  const rewards = valueAt(train, "rewards");
  const row = (key: string): HeldoutNumbers | null =>
    typeof valueAt(train, `heldout.${key}`) === "object"
      ? {
        return_mean: n(`heldout.${key}.return_mean`, `heldout.${key}.mean_return`),
        success_rate: n(`heldout.${key}.success_rate`),
        steps_mean: n(`heldout.${key}.steps_mean`, `heldout.${key}.mean_length`),
      }
      : null;
  const seeds = valueAt(train, "heldout.seeds");
  return {
    rewards: Array.isArray(rewards)
      ? rewards.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null))
      : [],
    sft_eval: {
      return_mean: n(
        "sft_eval.return_mean",
        "sft_eval.return",
        "heldout.sft.return_mean",
        "heldout.sft.mean_return",
      ),
      ade_mean: n("sft_eval.ade_mean", "sft_eval.ade"),
      fde_mean: n("sft_eval.fde_mean", "sft_eval.fde"),
    },
    heldout: { sft: row("sft"), refined: row("refined") },
    heldout_seeds:
      Array.isArray(seeds) && seeds.length === 2 && seeds.every((s) => typeof s === "number")
        ? [seeds[0], seeds[1]]
        : null,
  };
}
