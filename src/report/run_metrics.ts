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
  /**
   * Held-out means of base + delta by summary key (`return_mean`, `success_rate`, the
   * env's, e.g. `ade_mean`); only finite numbers are kept.
   */
  heldout: Record<string, number>;
  /**
   * Held-out means of the base policy alone (`return_mean`, e.g. `ade_mean`): the entry's
   * `sft_heldout`, or `base_heldout` (envs without an SFT planner).
   */
  sft_heldout: Record<string, number>;
  /** The latest PPO update's statistics. */
  update: { kl: number | null; clip_fraction: number | null; entropy: number | null };
  /** Norms of the clipped delta over the latest rollout. */
  eval: { mean_delta_norm: number | null; std_delta_norm: number | null };
  /** ISO 8601 time of the entry. */
  timestamp: string | null;
}

/** The parts of `train_metrics.json` the report reads, with eval's names or older ones. */
export interface TrainNumbers {
  /** Return of every training episode. */
  rewards: (number | null)[];
  /**
   * The base policy's held-out means logged at the start of the run, by summary key
   * (`sft_eval`, or `base_eval`; the names before eval's are read as eval's).
   */
  sft_eval: Record<string, number>;
  /** The final held-out evaluation: base alone (`sft`, or `base`) and base + delta. */
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

// Keys of an entry that are not held-out means in the names written before the rename.
const ENTRY_KEYS = new Set([
  "episode",
  "mean_reward",
  "mean_length",
  "total_episodes",
  "success_rate",
  "update",
  "eval",
  "timestamp",
]);

// The finite numbers of a parsed object, by key.
function finiteNumbers(value: unknown): Record<string, number> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => typeof v === "number" && Number.isFinite(v)),
  );
}

// An entry's held-out means: `heldout` / `sft_heldout`, or in run folders written
// before them the flat names, one to one: eval_return -> return_mean,
// eval_success_rate -> success_rate, <key> -> <key>_mean, sft_eval_return ->
// sft_heldout.return_mean, sft_<key> -> sft_heldout.<key>_mean.
function heldoutMeans(entry: unknown): Pick<EntryNumbers, "heldout" | "sft_heldout"> {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return { heldout: {}, sft_heldout: {} };
  }
  if (["heldout", "sft_heldout", "base_heldout"].some((k) => Object.hasOwn(entry, k))) {
    const e = entry as { heldout?: unknown; sft_heldout?: unknown; base_heldout?: unknown };
    return {
      heldout: finiteNumbers(e.heldout),
      sft_heldout: finiteNumbers(e.sft_heldout ?? e.base_heldout),
    };
  }
  const heldout: Record<string, number> = {}, sft: Record<string, number> = {};
  for (const [k, v] of Object.entries(finiteNumbers(entry))) {
    if (ENTRY_KEYS.has(k)) continue;
    if (k === "eval_return") heldout.return_mean = v;
    else if (k === "eval_success_rate") heldout.success_rate = v;
    else if (k === "sft_eval_return") sft.return_mean = v;
    else if (k.startsWith("sft_")) sft[`${k.slice(4)}_mean`] = v;
    else heldout[`${k}_mean`] = v;
  }
  return { heldout, sft_heldout: sft };
}

/**
 * A parsed `metrics.json` entry (any shape, new or old names) as
 * {@linkcode EntryNumbers}.
 *
 * @example
 * ```ts
 * readEntry({ episode: 10, update: { kl: 0.01 } }).update.kl; // 0.01
 * readEntry({ episode: 10, eval_return: 3 }).heldout.return_mean; // 3
 * ```
 */
export function readEntry(entry: unknown): EntryNumbers {
  const n = (path: string) => numberAt(entry, path);
  const timestamp = valueAt(entry, "timestamp");
  return {
    episode: n("episode"),
    mean_reward: n("mean_reward"),
    ...heldoutMeans(entry),
    update: {
      kl: n("update.kl"),
      clip_fraction: n("update.clip_fraction"),
      entropy: n("update.entropy"),
    },
    eval: { mean_delta_norm: n("eval.mean_delta_norm"), std_delta_norm: n("eval.std_delta_norm") },
    timestamp: typeof timestamp === "string" ? timestamp : null,
  };
}

/**
 * The held-out mean an entry logs under `key` (e.g. "ade_mean"), of base + delta or
 * with `opts.sft` of the base policy alone, or null.
 *
 * @example
 * ```ts
 * envMetric(readEntry({ heldout: { max_position_mean: 0.4 } }), "max_position_mean"); // 0.4
 * ```
 */
export function envMetric(
  entry: EntryNumbers,
  key: string,
  opts: { sft?: boolean } = {},
): number | null {
  const means = opts.sft ? entry.sft_heldout : entry.heldout;
  return Object.hasOwn(means, key) ? means[key] : null;
}

/**
 * A parsed `train_metrics.json` (any shape, or null) as {@linkcode TrainNumbers}:
 * eval's names first, then the spellings of run folders written before them.
 *
 * @example
 * ```ts
 * readTrainMetrics({ sft_eval: { return: -3 } }).sft_eval.return_mean; // -3
 * readTrainMetrics({ base_eval: { return_mean: -3 } }).sft_eval.return_mean; // -3
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
  const baseRow = row("sft") ?? row("base");
  return {
    rewards: Array.isArray(rewards)
      ? rewards.map((v) => (typeof v === "number" && Number.isFinite(v) ? v : null))
      : [],
    sft_eval: baseEval(train, baseRow),
    heldout: { sft: baseRow, refined: row("refined") },
    heldout_seeds:
      Array.isArray(seeds) && seeds.length === 2 && seeds.every((s) => typeof s === "number")
        ? [seeds[0], seeds[1]]
        : null,
  };
}

// The base policy's means at the start of the run (`sft_eval` or `base_eval`), older
// names (`return`, `<key>`) read as eval's (`return_mean`, `<key>_mean`); the closing
// held-out return where the file has no such block.
function baseEval(train: unknown, closing: HeldoutNumbers | null): Record<string, number> {
  const block = valueAt(train, "sft_eval") ?? valueAt(train, "base_eval");
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(finiteNumbers(block))) {
    out[k === "return" || k.endsWith("_mean") || k.endsWith("_rate") ? k : `${k}_mean`] = v;
  }
  if (Object.hasOwn(out, "return")) {
    out.return_mean ??= out.return;
    delete out.return;
  }
  if (out.return_mean === undefined && closing?.return_mean != null) {
    out.return_mean = closing.return_mean;
  }
  return out;
}
