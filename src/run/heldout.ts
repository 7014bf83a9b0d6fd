/**
 * The held-out evaluation at the end of a run (`heldout` of `train_metrics.json`): the
 * base planner alone next to base + delta on `heldout_episodes` unseen seeds of the env
 * trained on, keeping return, success, length and the env's logged metrics.
 *
 * @module
 */

import { summarizeGroups } from "./episode_records.ts";
import type { EvalResult, EvalSummary } from "./episode_records.ts";
import type { EpisodeMetric } from "../env/mod.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { Trainer } from "../ppo/mod.ts";
import { evaluateHere } from "./interval_eval.ts";
import type { EvaluateUntil } from "./interval_eval.ts";

/** `heldout` of `train_metrics.json`: SFT alone next to SFT + delta on unseen seeds. */
export interface Heldout {
  /** [first seed, count]. */
  seeds: [number, number];
  /** The base planner alone. */
  sft: HeldoutSummary;
  /** Base planner + clipped delta. */
  refined: HeldoutSummary;
  /**
   * Both per group of episodes (traffic: by scenario kind), group names sorted; only for
   * envs that group their episodes.
   */
  groups?: { sft: Record<string, HeldoutSummary>; refined: Record<string, HeldoutSummary> };
}

/**
 * The numbers of `eval`'s summary the held-out block keeps, under the same names:
 * `return_mean`, `success_rate`, `steps_mean`, then the means of the env's metrics that
 * are headline or `heldout` (driving: `ade_mean`, `fde_mean`, `offroad_rate`).
 */
export type HeldoutSummary = Record<string, number>;

/**
 * The summary keys {@linkcode heldoutEvaluation} keeps for an env's metrics, in order.
 *
 * @example
 * ```ts
 * import { DRIVING_METRICS } from "../env/mod.ts";
 * heldoutKeys(DRIVING_METRICS); // ["return_mean", "success_rate", "steps_mean", "ade_mean", "fde_mean", "offroad_rate"]
 * ```
 */
export function heldoutKeys(metrics: readonly EpisodeMetric[]): string[] {
  const kept = metrics.filter((m) => m.mean && (m.headline || m.heldout)).map((m) => m.mean!);
  return ["return_mean", "success_rate", "steps_mean", ...kept];
}

/**
 * Runs the held-out evaluation of `trainer` (its planner, env and model), giving the
 * event loop a turn about every 0.2 s; null as soon as `opts.shouldStop()` says so.
 * `opts.onResults` gets both evaluations whole (every episode's record).
 *
 * @example
 * ```ts ignore
 * const heldout = await heldoutEvaluation(trainer, { shouldStop: () => false });
 * ```
 */
export async function heldoutEvaluation(
  trainer: Trainer,
  opts: {
    shouldStop: () => boolean;
    evaluate?: EvaluateUntil;
    onResults?: (results: { sft: EvalResult; refined: EvalResult }) => void;
  },
): Promise<Heldout | null> {
  const evaluate = opts.evaluate ?? evaluateHere;
  const count = trainer.ppo.heldout_episodes;
  const common = {
    planner: trainer.planner,
    deltaClip: trainer.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count,
    makeEnv: trainer.makeEnv,
  };
  const keys = heldoutKeys(trainer.episodeMetrics);
  const pick = (s: EvalSummary): HeldoutSummary => Object.fromEntries(keys.map((k) => [k, s[k]]));
  const sft = await evaluate({ ...common, model: null }, opts);
  if (sft === null) return null;
  const refined = await evaluate({ ...common, model: trainer.model }, opts);
  if (refined === null) return null;
  opts.onResults?.({ sft, refined });
  const groups = (r: EvalResult) => {
    const g = summarizeGroups(r.scenarios, r.metrics);
    return g &&
      Object.fromEntries(
        Object.entries(g).map(([name, s]) => [name, { num_episodes: s.num_episodes, ...pick(s) }]),
      );
  };
  const sftGroups = groups(sft), refinedGroups = groups(refined);
  return {
    seeds: [HELDOUT_SEED_BASE, count],
    sft: pick(sft.summary),
    refined: pick(refined.summary),
    ...(sftGroups && refinedGroups ? { groups: { sft: sftGroups, refined: refinedGroups } } : {}),
  };
}
