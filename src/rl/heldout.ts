/**
 * The held-out evaluation at the end of training: the SFT planner alone next to SFT +
 * the trained delta head, on seeds never used in training (`heldout` of
 * `train_metrics.json`).
 *
 * @module
 */

import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import { evaluatePolicySteps } from "../sft/mod.ts";
import type { EvalSummary, WaypointPlanner } from "../sft/mod.ts";
import { runUntil } from "./loop.ts";
import type { RunConfig } from "./run_config.ts";
import type { Trainer } from "./trainer.ts";

/** `heldout` of `train_metrics.json`: SFT alone next to SFT + delta on unseen seeds. */
export interface Heldout {
  /** `[first seed, episodes]`. */
  seeds: [number, number];
  /** The SFT planner alone. */
  sft: HeldoutSummary;
  /** SFT + the delta head's mean action. */
  refined: HeldoutSummary;
}

/** The numbers of `eval`'s summary that the held-out block keeps, under the same names. */
export type HeldoutSummary = Pick<
  EvalSummary,
  "return_mean" | "success_rate" | "steps_mean" | "ade_mean" | "fde_mean" | "offroad_rate"
>;

/**
 * Evaluates the SFT planner alone, then SFT + `trainer`'s delta head, on
 * `run.ppo.heldout_episodes` episodes from {@linkcode HELDOUT_SEED_BASE}; null when
 * `shouldStop` asked for a stop first.
 *
 * @example
 * ```ts ignore
 * const heldout = await heldoutEvaluation(run, trainer, { planner, shouldStop: () => false });
 * ```
 */
export async function heldoutEvaluation(
  run: RunConfig,
  trainer: Trainer,
  opts: { planner: WaypointPlanner; shouldStop: () => boolean },
): Promise<Heldout | null> {
  const { planner, shouldStop } = opts;
  const count = run.ppo.heldout_episodes;
  const common = {
    env: run.env,
    planner,
    deltaClip: run.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count,
  };
  const sft = await runUntil(evaluatePolicySteps({ ...common, model: null }), shouldStop);
  if (sft === null) return null;
  const refined = await runUntil(
    evaluatePolicySteps({ ...common, model: trainer.model }),
    shouldStop,
  );
  if (refined === null) return null;
  return {
    seeds: [HELDOUT_SEED_BASE, count],
    sft: heldoutSummary(sft.summary),
    refined: heldoutSummary(refined.summary),
  };
}

function heldoutSummary(s: EvalSummary): HeldoutSummary {
  return {
    return_mean: s.return_mean,
    success_rate: s.success_rate,
    steps_mean: s.steps_mean,
    ade_mean: s.ade_mean,
    fde_mean: s.fde_mean,
    offroad_rate: s.offroad_rate,
  };
}
