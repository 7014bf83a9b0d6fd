/**
 * The document `eval --output` writes for one evaluated policy (the research repo's
 * evaluation schema, `eval_metrics.schema.json` beside this module): which policy, on
 * which seeds, each episode's record and their summary.
 *
 * @module
 */

import { summarizeGroups } from "./episode_records.ts";
import type { EvalResult, EvalSummary } from "./episode_records.ts";

/** One evaluated policy, as written by `--output`. */
export interface EvalDocument {
  /** "sft", "expert", or "<run folder>/<checkpoint name>" for a `.pt` policy. */
  run_id: string;
  /** Task family tag of the evaluation schema; always "rl". */
  domain: "rl";
  /**
   * `name`: the `--policy` value as given ("sft", "expert" or a checkpoint path).
   * `checkpoint`: the file the policy's weights came from: the checkpoint for a `.pt`
   * policy, the `--sft-model` file for `sft` (absent for the built-in planner and the
   * expert, which have none). `sft_model`: for a `.pt` policy, the SFT planner file it
   * was refined from (absent: the built-in planner).
   */
  policy: { name: string; checkpoint?: string; sft_model?: string };
  /**
   * Seeds `first_seed .. first_seed + count - 1`; `stochastic` when the delta was sampled
   * rather than taken as the policy's mean (false for policies without a delta head).
   */
  episodes: { first_seed: number; count: number; stochastic: boolean };
  /** One record per episode, in seed order. */
  scenarios: EvalResult["scenarios"];
  /** Averages over `scenarios`. */
  summary: EvalSummary;
  /**
   * The same averages per group of episodes (`raw.group`), by group name; only for envs
   * that group their episodes (traffic: by scenario kind).
   */
  groups?: Record<string, EvalSummary>;
}

/**
 * The document of `result`, the evaluation of one policy on `count` episodes from
 * `firstSeed` (keys in the order the file has them).
 *
 * @example
 * ```ts ignore
 * const doc = evalDocument(result, { runId: "sft", policy: { name: "sft" }, firstSeed, count, stochastic: false });
 * ```
 */
export function evalDocument(result: EvalResult, opts: {
  /** {@linkcode EvalDocument.run_id} */
  runId: string;
  /** {@linkcode EvalDocument.policy} */
  policy: EvalDocument["policy"];
  /** First seed of the episodes. */
  firstSeed: number;
  /** Episodes evaluated. */
  count: number;
  /** The delta was sampled. */
  stochastic: boolean;
}): EvalDocument {
  const groups = summarizeGroups(result.scenarios, result.metrics);
  return {
    run_id: opts.runId,
    domain: "rl",
    policy: opts.policy,
    episodes: { first_seed: opts.firstSeed, count: opts.count, stochastic: opts.stochastic },
    scenarios: result.scenarios,
    summary: result.summary,
    ...(groups ? { groups } : {}),
  };
}
