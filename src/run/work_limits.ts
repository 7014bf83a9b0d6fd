/**
 * What a run's configuration implies in memory, checked before anything is allocated or
 * written: every value may be in its key's range while their product is not
 * (`--max-episode-steps 1000000 --num-envs 100` is a rollout buffer of 100 million
 * rows). Over a budget is a {@linkcode UserError} (exit 2) naming the keys.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import type { EnvDefinition, EnvSettings } from "../env/mod.ts";
import { ROWS_PER_CHUNK } from "../ppo/mod.ts";
import type { RunConfig } from "./run_config.ts";

/**
 * Most bytes of a run's rollout buffer: 512 MiB. It holds up to `num_envs` x the episode
 * cap rows (plus `steps_per_update` with a step target) of the observation, the action
 * and nine numbers more (Float64).
 */
export const MAX_ROLLOUT_BYTES = 512 * 1024 * 1024;

/**
 * Most bytes all of a run's envs hold together, as their registry entries count them
 * (`memoryPerEnv`): 96 MB, e.g. 4,000,000 driving route points. The training envs and the
 * 16 of each evaluation, each at the most its settings allow.
 */
export const MAX_RUN_ENV_BYTES = 96_000_000;

/**
 * Most parameters of the two heads together: 6,000,000. Each is held as a Float64
 * with its gradient and two Adam moments, and written to checkpoints as float32 with
 * its moments: `--hidden-dim 2048` (8.6 million with the default plan) peaked at 0.53 GB,
 * `--hidden-dim 4096` (34 million) at 2 GB.
 */
export const MAX_PARAMETERS = 6_000_000;

/**
 * Most bytes of the steps a warm start gathers: 1 GiB. Each step is a row of the
 * observation and the label (float32), held in chunks of `ROWS_PER_CHUNK` rows, so the most
 * it may hold is rounds x episodes x the episode cap rows, and one chunk.
 */
export const MAX_WARM_START_BYTES = 1024 * 1024 * 1024;

// Envs an evaluation steps together (evaluatePolicy's default), and the pools of them a
// run may hold at once (per-interval and closing evaluations, the eval Worker).
const EVAL_ENVS = 16 * 2;

/** The sizes of a run's env, as a probe of it shows them. */
export interface RunDims {
  /** Observation size. */
  obsDim: number;
  /** Action size (the base planner's). */
  actionDim: number;
  /** The longest episode of the env (its cap). */
  maxEpisodeSteps: number;
}

/**
 * Refuses a run on env `env` whose heads, rollout buffer or envs would not fit their
 * budgets; `dims` are the env's sizes.
 *
 * @example
 * ```ts ignore
 * checkRunFits(run, { env: { definition, settings }, dims: { obsDim: 41, actionDim: 40, maxEpisodeSteps: 200 } });
 * ```
 */
export function checkRunFits(
  run: RunConfig,
  opts: { env: { definition: EnvDefinition; settings: EnvSettings }; dims: RunDims },
): void {
  const { num_envs, hidden_dim: h, steps_per_update: target } = run.ppo;
  const { obsDim: inp, actionDim: act, maxEpisodeSteps: steps } = opts.dims;
  // delta head: in-h-h-act and log_std; value head: in-h-h-1
  const parameters = 2 * inp * h + 2 * h * h + h * act + 4 * h + 2 * act + h + 1;
  if (parameters > MAX_PARAMETERS) {
    throw new UserError(
      `--hidden-dim ${h}: the delta and value heads would have ${parameters} parameters (${inp} observations, ${act} actions), over the limit of ${MAX_PARAMETERS}; lower --hidden-dim`,
    );
  }
  // the trainer's buffer: one episode per env, or the step target and one more per env
  const rows = num_envs * steps + (target > 0 ? target - 1 : 0);
  const bytes = rows * (inp + act + 9) * 8;
  if (bytes > MAX_ROLLOUT_BYTES) {
    const cap = capFlag(opts.env.definition, steps);
    const plus = target > 0 ? ` + --steps-per-update ${target}` : "";
    throw new UserError(
      `--num-envs ${num_envs} x ${cap}${plus}: a rollout buffer of ${rows} steps of ${inp} observations and ${act} actions needs ${
        Math.ceil(bytes / 2 ** 20)
      } MiB, over the limit of ${MAX_ROLLOUT_BYTES / 2 ** 20} MiB; lower one of them`,
    );
  }
  checkWarmStart(run, opts);
  const held = opts.env.definition.memoryPerEnv?.(opts.env.settings);
  if (held && (num_envs + EVAL_ENVS) * held.bytes > MAX_RUN_ENV_BYTES) {
    const total = (num_envs + EVAL_ENVS) * held.bytes;
    throw new UserError(
      `--num-envs ${num_envs} with ${held.what}: ${
        Math.ceil(total / 1e6)
      } MB in all ${num_envs} training and ${EVAL_ENVS} evaluation envs, over the limit of ${
        MAX_RUN_ENV_BYTES / 1e6
      } MB; lower one of them`,
    );
  }
}

// The flag of the env's episode cap and its value ("--max-episode-steps 1000000"), or the
// fixed cap of an env without one.
function capFlag(def: EnvDefinition, steps: number): string {
  const row = def.sections.find((s) => s.key === "env")?.table.max_episode_steps;
  return row?.flag ? `--${row.flag} ${steps}` : `episodes of ${steps} steps`;
}

// A warm start needs the env's expert planner, and its steps must fit MAX_WARM_START_BYTES.
function checkWarmStart(
  run: RunConfig,
  opts: { env: { definition: EnvDefinition }; dims: RunDims },
): void {
  const { warm_start_rounds: rounds, warm_start_episodes: episodes } = run.ppo;
  if (rounds === 0) return;
  const def = opts.env.definition;
  if (def.planners?.expert === undefined) {
    throw new UserError(
      `--warm-start-rounds ${rounds}: --env ${def.id} has no expert planner to learn from`,
    );
  }
  const { obsDim, actionDim, maxEpisodeSteps } = opts.dims;
  const bytes = (rounds * episodes * maxEpisodeSteps + ROWS_PER_CHUNK) * (obsDim + actionDim) * 4;
  if (bytes > MAX_WARM_START_BYTES) {
    throw new UserError(
      `--warm-start-rounds ${rounds} x --warm-start-episodes ${episodes} x ${
        capFlag(def, maxEpisodeSteps)
      }: the warm start's steps of ${obsDim} observations and ${actionDim} actions could need ${
        Math.ceil(bytes / 2 ** 20)
      } MiB, over the limit of ${MAX_WARM_START_BYTES / 2 ** 20} MiB; lower one of them`,
    );
  }
}
