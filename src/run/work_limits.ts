/**
 * What a run's configuration implies in memory, checked before anything is allocated or
 * written: every value may be in its key's range while their product is not
 * (`--max-episode-steps 1000000 --num-envs 100` is a rollout buffer of 100 million
 * rows). Over a budget is a {@linkcode UserError} (exit 2) naming the keys.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { routePoints } from "../env/mod.ts";
import type { RunConfig } from "./run_config.ts";

/**
 * Most bytes of a run's rollout buffer: 512 MiB. It holds `num_envs` x
 * `max_episode_steps` rows of the observation, the action and nine numbers more
 * (Float64).
 */
export const MAX_ROLLOUT_BYTES = 512 * 1024 * 1024;

/**
 * Most route points of all of a run's envs together: 4,000,000 (96 MB): the training
 * envs and the 16 of each evaluation, each holding the longest route the config allows.
 */
export const MAX_RUN_ROUTE_POINTS = 4_000_000;

/**
 * Most parameters of the two heads together: 6,000,000. Each is held as a Float64
 * with its gradient and two Adam moments, and written to checkpoints as float32 with
 * its moments: `--hidden-dim 2048` (8.6 million with the default plan) peaked at 0.53 GB,
 * `--hidden-dim 4096` (34 million) at 2 GB.
 */
export const MAX_PARAMETERS = 6_000_000;

// Envs an evaluation steps together (evaluatePolicy's default), and the pools of them a
// run may hold at once (per-interval and closing evaluations, the eval Worker).
const EVAL_ENVS = 16 * 2;

/**
 * Refuses a run whose rollout buffer or routes would not fit their budgets; `dims` are
 * the env's observation and action sizes.
 *
 * @example
 * ```ts ignore
 * checkRunFits(run, { obsDim: 41, actionDim: 40 });
 * ```
 */
export function checkRunFits(run: RunConfig, dims: { obsDim: number; actionDim: number }): void {
  const { num_envs, hidden_dim: h } = run.ppo;
  const { obsDim: inp, actionDim: act } = dims;
  // delta head: in-h-h-act and log_std; value head: in-h-h-1
  const parameters = 2 * inp * h + 2 * h * h + h * act + 4 * h + 2 * act + h + 1;
  if (parameters > MAX_PARAMETERS) {
    throw new UserError(
      `--hidden-dim ${h}: the delta and value heads would have ${parameters} parameters (${inp} observations, ${act} actions), over the limit of ${MAX_PARAMETERS}; lower --hidden-dim`,
    );
  }
  const steps = run.env.max_episode_steps;
  const rows = num_envs * steps;
  const bytes = rows * (dims.obsDim + dims.actionDim + 9) * 8;
  if (bytes > MAX_ROLLOUT_BYTES) {
    throw new UserError(
      `--num-envs ${num_envs} x --max-episode-steps ${steps}: a rollout buffer of ${rows} steps of ${dims.obsDim} observations and ${dims.actionDim} actions needs ${
        Math.ceil(bytes / 2 ** 20)
      } MiB, over the limit of ${MAX_ROLLOUT_BYTES / 2 ** 20} MiB; lower one of them`,
    );
  }
  const points = (num_envs + EVAL_ENVS) * routePoints(run.env);
  if (points > MAX_RUN_ROUTE_POINTS) {
    throw new UserError(
      `--num-envs ${num_envs} with routes of ${
        routePoints(run.env)
      } points (env.route_length ${run.env.route_length}): ${points} route points in all envs, over the limit of ${MAX_RUN_ROUTE_POINTS}; lower one of them`,
    );
  }
}
