/**
 * What `report` reads besides `metrics.json` and `train_metrics.json`: the run's
 * `episodes.json` (bounded, checked whole: a bad one is one line and exit 2) and the
 * expert planner's numbers on the run's held-out seeds, evaluated here only for a
 * built-in env (never a module or a Gymnasium worker: a run's files never start code).
 *
 * @module
 */

import { join } from "node:path";
import { UserError } from "../errors.ts";
import { FileReadError, parseBoundedJson, readBoundedFileSync } from "../io/mod.ts";
import type { JsonBudget } from "../io/mod.ts";
import { parseEpisodes } from "../report/mod.ts";
import type { EpisodesData, ExpertNumbers } from "../report/mod.ts";
import { EPISODES_FILE, evaluatePolicy, namedPlanner } from "../run/mod.ts";
import type { RunEnv } from "../sweep/mod.ts";

/** The budgets `report` reads `episodes.json` within. */
export const EPISODES_BUDGET: Readonly<JsonBudget> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 8,
  maxStringBytes: 1024,
  what: "an episodes file",
});

/** Most held-out episodes `report` rolls the expert out on, per seed set. */
export const MAX_EXPERT_EPISODES = 10_000;

/**
 * The run's `episodes.json` checked, or undefined when it has none; a file that is not
 * one is a {@linkcode UserError} (one line, exit 2). A file of another run's policy (its
 * episode count or held-out seeds differ from `train_metrics.json`'s) is skipped with a
 * warning.
 *
 * @example
 * ```ts ignore
 * const episodes = readEpisodesFile("out/run", { trainMetrics, warn: console.error });
 * ```
 */
export function readEpisodesFile(
  runDir: string,
  o: { trainMetrics: unknown; warn: (line: string) => void },
): EpisodesData | undefined {
  const path = join(runDir, EPISODES_FILE);
  let value: unknown;
  try {
    value = parseBoundedJson(readBoundedFileSync(path, EPISODES_BUDGET), {
      path,
      budget: EPISODES_BUDGET,
    });
  } catch (e) {
    const cause = e instanceof FileReadError ? e.cause : e;
    if (cause instanceof Deno.errors.NotFound) return undefined;
    if (e instanceof UserError) throw new UserError(`report: ${e.message}`);
    throw e;
  }
  const parsed = parseEpisodes(value);
  if ("problem" in parsed) throw new UserError(`report: ${path}: ${parsed.problem}`);
  const { data } = parsed;
  const t = o.trainMetrics as Record<string, unknown> | null;
  const total = (t?.final_metrics as Record<string, unknown> | undefined)?.total_episodes;
  const seeds = (t?.heldout as Record<string, unknown> | undefined)?.seeds;
  const sameSeeds = Array.isArray(seeds) && seeds[0] === data.heldoutSeeds[0] &&
    seeds[1] === data.heldoutSeeds[1];
  if (total !== data.totalEpisodes || !sameSeeds) {
    o.warn(
      `report: ${path}: recorded after ${data.totalEpisodes} episodes on other seeds than train_metrics.json's run; skipped`,
    );
    return undefined;
  }
  return data;
}

// [first seed, count] at `key` of train_metrics.json, when it is one.
function seedsAt(train: unknown, key: "sft_eval" | "heldout"): [number, number] | null {
  const block = (train as Record<string, unknown> | null)?.[key] as
    | Record<string, unknown>
    | undefined;
  const seeds = block?.seeds ??
    (key === "sft_eval"
      ? (train as Record<string, Record<string, unknown>>)?.base_eval?.seeds
      : undefined);
  if (!Array.isArray(seeds) || seeds.length !== 2) return null;
  const [first, count] = seeds;
  return Number.isSafeInteger(first) && first >= 0 && Number.isInteger(count) && count >= 1 &&
      count <= MAX_EXPERT_EPISODES
    ? [first, count]
    : null;
}

/**
 * The expert planner's held-out means on the seeds of the run's evaluations during
 * training and of its closing one, for a built-in env with an expert planner; empty
 * otherwise (or when an evaluation fails).
 *
 * @example
 * ```ts ignore
 * const expert = expertNumbers(readRunEnv("out/run"), trainMetrics);
 * ```
 */
export function expertNumbers(env: RunEnv, trainMetrics: unknown): ExpertNumbers {
  const definition = env.builtin;
  if (!definition || env.record.kind !== "builtin") return {};
  const planner = namedPlanner("expert", { definition, settings: env.settings });
  if (!planner) return {};
  const on = (seeds: [number, number] | null): Record<string, number> | undefined => {
    if (seeds === null) return undefined;
    try {
      const { summary } = evaluatePolicy({
        makeEnv: (n) => definition.make(env.settings, n),
        planner,
        model: null,
        deltaClip: 0,
        firstSeed: seeds[0],
        count: seeds[1],
      });
      return Object.fromEntries(Object.entries(summary).filter(([, v]) => Number.isFinite(v)));
    } catch {
      return undefined;
    }
  };
  const interval = on(seedsAt(trainMetrics, "sft_eval"));
  const final = on(seedsAt(trainMetrics, "heldout"));
  return { ...(interval ? { interval } : {}), ...(final ? { final } : {}) };
}
