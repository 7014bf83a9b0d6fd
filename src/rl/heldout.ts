/**
 * The held-out evaluation at the end of a run (`heldout` of `train_metrics.json`): the
 * SFT planner alone next to SFT + delta on `heldout_episodes` unseen seeds.
 *
 * @module
 */

import { evaluatePolicySteps } from "../sft/mod.ts";
import type { EvalSummary } from "../sft/mod.ts";
import { HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { Trainer } from "./trainer.ts";
import { runUntil } from "./loop.ts";

/** `heldout` of `train_metrics.json`: SFT alone next to SFT + delta on unseen seeds. */
export interface Heldout {
  /** [first seed, count]. */
  seeds: [number, number];
  /** The SFT planner alone. */
  sft: HeldoutSummary;
  /** SFT planner + clipped delta. */
  refined: HeldoutSummary;
}

/** The numbers of `eval`'s summary that the held-out block keeps, under the same names. */
export type HeldoutSummary = Pick<
  EvalSummary,
  "return_mean" | "success_rate" | "steps_mean" | "ade_mean" | "fde_mean" | "offroad_rate"
>;

/**
 * Runs the held-out evaluation of `trainer` (its planner, env and model), giving the
 * event loop a turn about every 0.2 s; null as soon as `opts.shouldStop()` says so.
 *
 * @example
 * ```ts ignore
 * const heldout = await heldoutEvaluation(trainer, { shouldStop: () => false });
 * ```
 */
export async function heldoutEvaluation(
  trainer: Trainer,
  opts: { shouldStop: () => boolean },
): Promise<Heldout | null> {
  const { shouldStop } = opts;
  const count = trainer.ppo.heldout_episodes;
  const common = {
    env: trainer.env,
    planner: trainer.planner,
    deltaClip: trainer.ppo.delta_clip,
    firstSeed: HELDOUT_SEED_BASE,
    count,
  };
  const pick = (s: EvalSummary): HeldoutSummary => ({
    return_mean: s.return_mean,
    success_rate: s.success_rate,
    steps_mean: s.steps_mean,
    ade_mean: s.ade_mean,
    fde_mean: s.fde_mean,
    offroad_rate: s.offroad_rate,
  });
  const sft = await runUntil(evaluatePolicySteps({ ...common, model: null }), shouldStop);
  if (sft === null) return null;
  const refined = await runUntil(
    evaluatePolicySteps({ ...common, model: trainer.model }),
    shouldStop,
  );
  if (refined === null) return null;
  return {
    seeds: [HELDOUT_SEED_BASE, count],
    sft: pick(sft.summary),
    refined: pick(refined.summary),
  };
}
