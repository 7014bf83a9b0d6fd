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
import { DEFAULT_ENV_CONFIG, ENV_NAMES, isEnvName, validateEnvConfig } from "../env/mod.ts";
import { vecEnvFactory } from "../env/mod.ts";
import type { EnvConfig, EnvName } from "../env/mod.ts";
import { applyConfigFile, writeJson } from "../io/mod.ts";
import { DEFAULT_INTERVAL_METHOD, describeSeeds } from "./stats.ts";
import type { IntervalMethod, SeedStats } from "./stats.ts";
import { EXPERT_PLANNERS, expertReturn } from "./expert_returns.ts";
import { acrossGroups, readGroups } from "./group_summary.ts";
import type { GroupMetric, GroupResult } from "./group_summary.ts";
import type { ExpertReturns } from "./expert_returns.ts";
import { readJsonFile, readManifest, seedDir, seedFolders, SUMMARY_FILE } from "./seed_dirs.ts";

/**
 * The metrics compared across seeds, in table order: return and success rate for every
 * env, ADE where the run's env reports one (a metric named "ade": driving, traffic), the
 * collision rate and route completion where the held-out block has them (traffic), and the
 * share of the SFT-to-expert gap closed where the env has an expert planner (driving).
 */
export const SEED_METRICS = [
  "return",
  "success_rate",
  "ade",
  "collision_rate",
  "route_completion",
  "gap_closed",
] as const;

/** The metrics a held-out block may hold or not (by env), read as they are. */
const OPTIONAL_HELDOUT = ["collision_rate", "route_completion"] as const;

/** One of {@linkcode SEED_METRICS}. */
export type SeedMetric = typeof SEED_METRICS[number];

/** One finished seed's held-out results (SFT + delta, mean action). */
export interface SeedResult {
  /** The training seed. */
  seed: number;
  /** Mean held-out return. */
  return: number;
  /** Held-out success rate, 0..1. */
  success_rate: number;
  /** Held-out ADE against the expert plan (m); only where the env reports ADE. */
  ade?: number;
  /** Share of held-out episodes that ended in a collision; only where the env reports it. */
  collision_rate?: number;
  /** Held-out mean route completion, 0..1; only where the held-out block has it. */
  route_completion?: number;
  /**
   * Share of the SFT-to-expert return gap the delta closes:
   * (return - sft_return) / (expert_return - sft_return); null when the gap is 0. Only
   * where the env has an expert planner.
   */
  gap_closed?: number | null;
  /** The base policy alone (SFT planner; zero for envs without one) on the same seeds. */
  sft_return: number;
  /** The expert planner on the same held-out seeds; only where the env has one. */
  expert_return?: number;
  /** Per group of held-out episodes (traffic: scenario kind); only where the env has groups. */
  groups?: Record<string, GroupResult>;
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
  /** The env the seeds were trained on; absent for driving (as in `config.json`). */
  env_name?: Exclude<EnvName, "driving">;
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
  /**
   * Across finished seeds, per metric the env has (all four when no seed finished; null
   * when no seed has a value).
   */
  across_seeds: Partial<Record<SeedMetric, SeedStats | null>>;
  /**
   * Across finished seeds, per group of held-out episodes (traffic: scenario kind) and
   * metric; only where the env has groups.
   */
  across_groups?: Record<string, Partial<Record<GroupMetric, SeedStats | null>>>;
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
  let envName: EnvName | null = null;
  for (const seed of seeds) {
    const failure = opts.failures?.get(seed);
    const read = failure === undefined ? readSeed(seedDir(dir, seed)) : { missing: failure };
    if ("missing" in read) {
      missing.push({ seed, reason: read.missing });
      continue;
    }
    const { run, env } = read;
    if (envName === null) envName = read.envName;
    else if (read.envName !== envName) {
      missing.push({ seed, reason: `trained on ${read.envName}, not ${envName} as the others` });
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
    const expert = expertReturn(experts, { envName: read.envName, env, heldout: run.heldout });
    const gap = expert === undefined ? 0 : expert - run.sft_return;
    perSeed.push({
      seed,
      return: run.return,
      success_rate: run.success_rate,
      ...(run.ade === undefined ? {} : { ade: run.ade }),
      ...Object.fromEntries(
        OPTIONAL_HELDOUT.flatMap((k) => run[k] === undefined ? [] : [[k, run[k]]]),
      ),
      ...(expert === undefined
        ? {}
        : { gap_closed: Math.abs(gap) > 1e-12 ? (run.return - run.sft_return) / gap : null }),
      sft_return: run.sft_return,
      ...(expert === undefined ? {} : { expert_return: expert }),
      ...(run.groups ? { groups: run.groups } : {}),
    });
  }
  // The metrics of the env trained on (all of them when no seed finished: unknown).
  const metrics = envName === null
    ? SEED_METRICS
    : SEED_METRICS.filter((m) =>
      m === "return" || m === "success_rate" ||
      (m === "gap_closed"
        ? EXPERT_PLANNERS[envName] !== undefined
        : perSeed.length > 0 && perSeed[0][m] !== undefined)
    );
  const across = Object.fromEntries(
    metrics.map((m) => [m, describeSeeds(perSeed.map((r) => r[m] ?? null), method)]),
  ) as SeedsSummary["across_seeds"];
  const hasExpert = envName === null || EXPERT_PLANNERS[envName] !== undefined;
  return {
    out_dir: dir,
    ...(envName === null || envName === "driving" ? {} : { env_name: envName }),
    seeds,
    finished: perSeed.map((r) => r.seed),
    missing,
    heldout,
    per_seed: perSeed,
    across_seeds: across,
    ...acrossGroups(perSeed, method),
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
            "the expert planner (exact route) evaluated by the aggregate on the same held-out seeds",
        }
        : {}),
    },
  };
}

interface SeedRun extends Omit<SeedResult, "seed" | "gap_closed" | "expert_return"> {
  heldout: { first_seed: number; count: number };
}

// A seed folder's results, or why it has none. Files are read as untrusted input.
function readSeed(
  path: string,
): { run: SeedRun; env: EnvConfig; envName: EnvName; comparable: string } | { missing: string } {
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
  const h = tm.heldout as Record<string, Record<string, unknown>> | undefined;
  const seeds = h?.seeds as unknown;
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  const run = {
    heldout: {
      first_seed: Array.isArray(seeds) ? num(seeds[0]) : null,
      count: Array.isArray(seeds) ? num(seeds[1]) : null,
    },
    // eval's summary names; runs from before them wrote mean_return and ade
    return: num(h?.refined?.return_mean ?? h?.refined?.mean_return),
    success_rate: num(h?.refined?.success_rate),
    sft_return: num(h?.sft?.return_mean ?? h?.sft?.mean_return),
  };
  const { first_seed, count } = run.heldout;
  const incomplete = { missing: `${file}: no complete heldout block` };
  if (
    first_seed === null || count === null || !Number.isInteger(first_seed) ||
    !Number.isInteger(count) || first_seed < 0 || count < 1 || count > 1e6 ||
    first_seed + count > 2 ** 32 || run.return === null || run.success_rate === null ||
    run.sft_return === null
  ) {
    return incomplete;
  }
  const env: EnvConfig = { ...DEFAULT_ENV_CONFIG };
  const configPath = join(path, "config.json");
  const configRead = readJsonFile(configPath);
  if ("problem" in configRead) return { missing: configRead.problem };
  const config = configRead.value as Record<string, unknown>;
  const envName = config?.env_name ?? "driving";
  if (typeof envName !== "string" || !isEnvName(envName)) {
    return {
      missing: `${configPath}: env_name: expected one of ${ENV_NAMES.join(", ")}, got ${
        JSON.stringify(envName).slice(0, 40)
      }`,
    };
  }
  try {
    applyConfigFile(configPath, { env }, {
      ignore: ["out_dir", "sft_model", "env_name", "ppo", "traffic"],
    });
    validateEnvConfig(env);
  } catch (e) {
    if (e instanceof Deno.errors.PermissionDenied || e instanceof Deno.errors.NotCapable) throw e;
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    return { missing: `config.json: ${why}` };
  }
  // ADE where the env reports it, under its summary key (older driving runs: "ade").
  const adeKey = vecEnvFactory(envName, env)(1).metrics?.find((m) => m.name === "ade")?.mean;
  let ade: number | undefined;
  if (adeKey !== undefined) {
    const value = num(h?.refined?.[adeKey] ?? h?.refined?.ade);
    if (value === null) return incomplete;
    ade = value;
  }
  const optional: Partial<Record<typeof OPTIONAL_HELDOUT[number], number>> = {};
  for (const key of OPTIONAL_HELDOUT) {
    if (h?.refined?.[key] === undefined) continue;
    const value = num(h.refined[key]);
    if (value === null) return incomplete;
    optional[key] = value;
  }
  // What must agree between seeds: everything but the seed and where the run went.
  const ppo = { ...(config?.ppo as Record<string, unknown>), seed: null, resume: null };
  const comparable = JSON.stringify({ ...config, out_dir: null, ppo });
  const groups = readGroups(h);
  return {
    run: {
      ...(run as SeedRun),
      ...(ade === undefined ? {} : { ade }),
      ...optional,
      ...(groups ? { groups } : {}),
    },
    env,
    envName,
    comparable,
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
