/**
 * The summary of a multi-seed folder (`train --seeds`, or the emitted Slurm /
 * Kubernetes / Ray jobs), as `summary.json` holds it: each finished seed's held-out
 * results, and across seeds mean, standard deviation, interquartile mean and 95%
 * bootstrap intervals of the metrics the seeds' env has; seeds that have not finished
 * are listed as missing, with the reason. Printed by `table.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { writeJson } from "../io/mod.ts";
import { PPO_CONFIG_TABLE } from "../ppo/mod.ts";
import { baselineMetrics, metricLabel } from "../run/mod.ts";
import { DEFAULT_INTERVAL_METHOD, describeSeeds } from "./stats.ts";
import type { IntervalMethod, SeedStats } from "./stats.ts";
import { expertKey, expertReturn } from "./expert_returns.ts";
import { acrossGroups, readGroups } from "./group_summary.ts";
import type { GroupResult } from "./group_summary.ts";
import type { ExpertReturns } from "./expert_returns.ts";
import { readJsonFile, readManifest, seedDir, seedFolders, SUMMARY_FILE } from "./seed_dirs.ts";
import { readRunEnv } from "./run_env.ts";
import type { RunEnv } from "./run_env.ts";

/**
 * The metrics compared across seeds, in table order: return and success rate for every
 * env, then each logged metric the env also measures on its base policy (driving: ADE;
 * traffic: ADE, route completion, collision rate), under its summary key without
 * `_mean`, then the share of the SFT-to-expert gap closed where the env has an expert.
 */
export const FIXED_SEED_METRICS = ["return", "success_rate"] as const;

// Most held-out episodes a seed's block may name: what --heldout-episodes allows (the
// aggregate evaluates the expert on them).
const MAX_HELDOUT = PPO_CONFIG_TABLE.heldout_episodes.range[1];

/** One finished seed's held-out results (base + delta, mean action). */
export interface SeedResult {
  /** The training seed. */
  seed: number;
  /** Mean held-out return. */
  return: number;
  /** Held-out success rate, 0..1. */
  success_rate: number;
  /**
   * Share of the SFT-to-expert return gap the delta closes:
   * (return - sft_return) / (expert_return - sft_return); null when the gap is 0. Only
   * where the env has an expert planner.
   */
  gap_closed?: number | null;
  /** The SFT planner alone on the same seeds (envs with one; else `base_return`). */
  sft_return?: number;
  /** The zero base policy alone on the same seeds (envs without an SFT planner). */
  base_return?: number;
  /** The expert planner on the same held-out seeds; only where the env has one. */
  expert_return?: number;
  /** Per group of held-out episodes (traffic: scenario kind); only where the env has groups. */
  groups?: Record<string, GroupResult>;
  /** The env's compared metrics, by key (`ade`, `collision_rate`, ...; `seedValue`). */
  [metric: string]: number | null | undefined | Record<string, GroupResult>;
}

/**
 * A seed's number for metric key `m` of the summary (null where it has none).
 *
 * @example
 * ```ts
 * seedValue({ seed: 1, return: 20, success_rate: 1 }, "return"); // 20
 * ```
 */
export function seedValue(r: SeedResult, m: string): number | null {
  const v = r[m];
  return typeof v === "number" ? v : null;
}

/** A seed without a result, and why. */
export interface MissingSeed {
  /** The training seed. */
  seed: number;
  /** E.g. "no folder", "unfinished", "interrupted at episode 120", "failed (exit code 1): ...". */
  reason: string;
}

/** `summary.json`. */
export interface SeedsSummary {
  /** The multi-seed folder. */
  out_dir: string;
  /** The env the seeds were trained on; absent for the default env (as in `config.json`). */
  env_name?: string;
  /** Seeds asked for (from `seeds.json`, else the `seed_N/` folders found). */
  seeds: number[];
  /** Seeds with results, in `seeds` order. */
  finished: number[];
  /** Seeds without results. */
  missing: MissingSeed[];
  /** Held-out episodes every seed was evaluated on: seeds first_seed .. first_seed + count - 1. */
  heldout: { first_seed: number; count: number } | null;
  /** Per seed, in `finished` order. */
  per_seed: SeedResult[];
  /** Across finished seeds, per metric compared, in table order (null: no seed has a value). */
  across_seeds: Record<string, SeedStats | null>;
  /**
   * Across finished seeds, per group of held-out episodes (traffic: scenario kind) and
   * metric; only where the env has groups.
   */
  across_groups?: Record<string, Record<string, SeedStats | null>>;
  /** The column heading of each compared metric of the env. */
  labels: Record<string, string>;
  /** How the numbers were computed. */
  method: {
    std: string;
    iqm: string;
    interval: string;
    bootstrap_samples: number;
    bootstrap_seed: number;
    level: number;
    /** Where the env has an expert planner. */
    expert_return?: string;
  };
}

/** What the caller of {@linkcode aggregateSeeds} knows that the files cannot tell. */
export interface AggregateOptions {
  /** Seeds asked for (default: `seeds.json`, else the folders found). */
  seeds?: number[];
  /** Reasons for seeds known to have failed (e.g. a child's exit code), by seed. */
  failures?: Map<number, string>;
  /** Interval method (default {@linkcode DEFAULT_INTERVAL_METHOD}). */
  method?: IntervalMethod;
  /**
   * Expert returns already evaluated (`expertReturn`); the aggregate adds
   * the ones it evaluates itself.
   */
  experts?: ExpertReturns;
  /** Warnings (default: stderr). */
  warn?: (line: string) => void;
}

/**
 * Reads every seed's `train_metrics.json` in the multi-seed folder `dir` and builds
 * the summary (it writes nothing). The expert's return on the held-out seeds is not in
 * the run files, so it is evaluated here, once per environment.
 *
 * @example
 * ```ts ignore
 * const summary = aggregateSeeds("out/seeds");
 * console.log(summary.across_seeds.return?.mean);
 * ```
 */
export function aggregateSeeds(dir: string, opts: AggregateOptions = {}): SeedsSummary {
  const warn = opts.warn ?? ((line: string) => console.error(line));
  const method = opts.method ?? DEFAULT_INTERVAL_METHOD;
  const seeds = opts.seeds ?? readManifest(dir)?.seeds ?? seedFolders(dir).map((f) => f.seed);
  const experts = opts.experts ?? new Map<string, number>();
  const perSeed: SeedResult[] = [];
  const missing: MissingSeed[] = [];
  let heldout: SeedsSummary["heldout"] = null;
  let reference: string | null = null;
  let first: SeedRead | null = null;
  for (const seed of seeds) {
    const failure = opts.failures?.get(seed);
    const read = failure === undefined ? readSeed(seedDir(dir, seed)) : { missing: failure };
    if ("missing" in read) {
      missing.push({ seed, reason: read.missing });
      continue;
    }
    const { run, env } = read;
    const envName = env.record.id;
    if (first === null) first = read;
    else if (envName !== first.env.record.id) {
      missing.push({
        seed,
        reason: `trained on ${envName}, not ${first.env.record.id} as the others`,
      });
      continue;
    }
    if (heldout === null) heldout = run.heldout;
    else if (heldout.first_seed !== run.heldout.first_seed || heldout.count !== run.heldout.count) {
      missing.push({
        seed,
        reason:
          `held out on seeds ${run.heldout.first_seed}+${run.heldout.count}, not ${heldout.first_seed}+${heldout.count} as the others`,
      });
      continue;
    }
    if (reference === null) reference = read.comparable;
    else if (read.comparable !== reference) {
      warn(
        `aggregate: ${
          seedDir(dir, seed)
        }: configuration differs from the first seed's (beyond seed and out_dir)`,
      );
    }
    perSeed.push(seedResult(seed, { read, experts }));
  }
  return summaryOf({ dir, seeds, missing, heldout, perSeed, first, method });
}

// A finished seed's row: its numbers, and the gap it closes where the env's expert
// return is known (cached by `train --seeds`, or evaluated here for a built-in env).
function seedResult(seed: number, o: { read: SeedRead; experts: ExpertReturns }): SeedResult {
  const { run, env } = o.read;
  const { base, baseKey, heldout, metrics } = run;
  const key = expertKey(env.record.id, { settings: env.settings, heldout });
  const expert = o.experts.get(key) ??
    (env.builtin
      ? expertReturn(o.experts, { definition: env.builtin, settings: env.settings, heldout })
      : undefined);
  const gap = expert === undefined ? 0 : expert - base;
  return {
    seed,
    return: run.return,
    success_rate: run.success_rate,
    ...metrics,
    ...(expert === undefined
      ? {}
      : { gap_closed: Math.abs(gap) > 1e-12 ? (run.return - base) / gap : null }),
    [baseKey]: base,
    ...(expert === undefined ? {} : { expert_return: expert }),
    ...(run.groups ? { groups: run.groups } : {}),
  };
}

// The summary of the rows: across seeds, per metric the env has (return and success
// rate alone when no seed finished).
function summaryOf(o: {
  dir: string;
  seeds: number[];
  missing: MissingSeed[];
  heldout: SeedsSummary["heldout"];
  perSeed: SeedResult[];
  first: SeedRead | null;
  method: IntervalMethod;
}): SeedsSummary {
  const { perSeed, first, method } = o;
  const compared = first === null ? [] : baselineMetrics(first.env.record.metrics);
  const labels = Object.fromEntries(compared.map((m) => [seedKey(m.mean!), metricLabel(m)]));
  const hasExpert = perSeed.some((r) => r.expert_return !== undefined);
  const metrics = [
    ...FIXED_SEED_METRICS,
    ...compared.map((m) => seedKey(m.mean!)),
    ...(hasExpert ? ["gap_closed"] : []),
  ];
  const across = Object.fromEntries(
    metrics.map((m) => [m, describeSeeds(perSeed.map((r) => seedValue(r, m)), method)]),
  );
  const envName = first?.env.record.id;
  return {
    out_dir: o.dir,
    ...(envName === undefined || first?.config.env_name === undefined ? {} : { env_name: envName }),
    seeds: o.seeds,
    finished: perSeed.map((r) => r.seed),
    missing: o.missing,
    heldout: o.heldout,
    per_seed: perSeed,
    across_seeds: across,
    ...acrossGroups(perSeed, method),
    labels,
    method: {
      std: "sample standard deviation over seeds (n - 1)",
      iqm: "interquartile mean: mean of the seeds left after dropping floor(n/4) from each end " +
        "(scipy trim_mean(x, 0.25), as rliable)",
      interval:
        `${100 * method.level}% percentile bootstrap over seeds (resampled with replacement) ` +
        "of the mean (mean_ci) and of the IQM (iqm_ci)",
      bootstrap_samples: method.samples,
      bootstrap_seed: method.seed,
      level: method.level,
      ...(hasExpert
        ? {
          expert_return:
            "the env's expert planner evaluated on the same held-out seeds (by train --seeds, or by the aggregate for a built-in env)",
        }
        : {}),
    },
  };
}

// A metric's key across seeds: its summary key without `_mean` (ade_mean -> ade).
function seedKey(mean: string): string {
  return mean.endsWith("_mean") ? mean.slice(0, -"_mean".length) : mean;
}

interface SeedRun {
  heldout: { first_seed: number; count: number };
  return: number;
  success_rate: number;
  /** The base policy's held-out return, and the key it goes under. */
  base: number;
  baseKey: "sft_return" | "base_return";
  /** The env's compared metrics, by key. */
  metrics: Record<string, number>;
  /** Per group of held-out episodes, where the held-out block has them. */
  groups?: Record<string, GroupResult>;
}

interface SeedRead {
  run: SeedRun;
  env: RunEnv;
  config: Record<string, unknown>;
  comparable: string;
}

// A seed folder's results, or why it has none. Files are read as untrusted input.
function readSeed(path: string): SeedRead | { missing: string } {
  const file = join(path, "train_metrics.json");
  const read = readJsonFile(file);
  if ("problem" in read) {
    if (!read.notFound) return { missing: read.problem };
    try {
      Deno.statSync(path);
    } catch {
      return { missing: "no folder" };
    }
    return { missing: "unfinished (no train_metrics.json)" };
  }
  const tm = read.value as Record<string, unknown> | null;
  if (typeof tm !== "object" || tm === null || Array.isArray(tm)) {
    return { missing: `${file}: not an object` };
  }
  if (tm.interrupted === true) {
    const at = (tm.final_metrics as Record<string, unknown> | undefined)?.total_episodes;
    return { missing: `interrupted${typeof at === "number" ? ` at episode ${at}` : ""}` };
  }
  const env = readRunEnv(path);
  if ("problem" in env) return { missing: env.problem };
  const run = heldoutOf(tm, env);
  if (run === null) return { missing: `${file}: no complete heldout block` };
  const config = readJsonFile(join(path, "config.json"));
  const c = ("value" in config ? config.value : {}) as Record<string, unknown>;
  // What must agree between seeds: everything but the seed and where the run went.
  const ppo = { ...(c?.ppo as Record<string, unknown>), seed: null, resume: null };
  const comparable = JSON.stringify({ ...c, out_dir: null, ppo });
  return { run, env, config: c, comparable };
}

// The held-out block of a seed's train_metrics.json, checked: eval's summary names (runs
// from before them wrote mean_return and ade), the base policy's under `sft` or `base`.
function heldoutOf(tm: Record<string, unknown>, env: RunEnv): SeedRun | null {
  const h = tm.heldout as Record<string, Record<string, unknown>> | undefined;
  const seeds = h?.seeds as unknown;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const baseBlock = h?.sft ?? h?.base;
  const first_seed = Array.isArray(seeds) ? num(seeds[0]) : null;
  const count = Array.isArray(seeds) ? num(seeds[1]) : null;
  const ret = num(h?.refined?.return_mean ?? h?.refined?.mean_return);
  const success = num(h?.refined?.success_rate);
  const base = num(baseBlock?.return_mean ?? baseBlock?.mean_return);
  if (
    first_seed === null || count === null || !Number.isInteger(first_seed) ||
    !Number.isInteger(count) || first_seed < 0 || count < 1 || count > MAX_HELDOUT ||
    first_seed + count > 2 ** 32 || ret === null || success === null || base === null
  ) {
    return null;
  }
  const compared = baselineMetrics(env.record.metrics);
  const groups = readGroups(h, compared.map((m) => [m.mean!, seedKey(m.mean!)]));
  const metrics: Record<string, number> = {};
  for (const m of compared) {
    const key = seedKey(m.mean!);
    const value = num(h?.refined?.[m.mean!] ?? h?.refined?.[key]);
    if (value === null) return null;
    metrics[key] = value;
  }
  return {
    heldout: { first_seed, count },
    return: ret,
    success_rate: success,
    base,
    baseKey: env.record.base_policy === "sft" ? "sft_return" : "base_return",
    metrics,
    ...(groups ? { groups } : {}),
  };
}

/**
 * Builds the summary of `dir`, writes `dir/summary.json` (atomically; it is derived, so
 * it is replaced) and returns it.
 *
 * @example
 * ```ts ignore
 * const summary = await writeSummary("out/seeds");
 * ```
 */
export async function writeSummary(
  dir: string,
  opts: AggregateOptions = {},
): Promise<SeedsSummary> {
  const summary = aggregateSeeds(dir, opts);
  await writeJson(join(dir, SUMMARY_FILE), summary);
  return summary;
}
