/**
 * The env contract, in Gymnasium's shape: N copies of an environment stepped in one call
 * over flat typed arrays. An env declares its sizes (and, where it has them, the Box bounds
 * of its observations and actions) and implements `reset` and `step`; it keeps no episode
 * statistics, no time limit and no auto-reset: {@linkcode EpisodeStatistics}
 * (`episode_statistics.ts`, Gymnasium's `RecordEpisodeStatistics` + `TimeLimit` +
 * `Autoreset` in one layer) does that for every env.
 *
 * Row i of an (N, D) array is `[i * D, (i + 1) * D)`. `reset` and `step` take an optional
 * mask: only the rows where it is 1 start or move, so a batch whose episodes end at
 * different times simulates no step that is thrown away. Either may return a promise (an
 * env in another process, such as the Gymnasium bridge); its outputs are valid once it
 * resolves.
 *
 * @module
 */

import { EXIT, UserError } from "../errors.ts";
import type { TopDownView } from "./top_down.ts";

/**
 * An env that can no longer step in the middle of a run (the process that runs it died
 * or hung): the run drops the iteration in progress, saves a checkpoint of the state
 * before it, as a stop does, and ends with exit code 4 (`EXIT.ioFault`).
 *
 * @example
 * ```ts
 * new EnvLostError("gym:X-v0: the worker exited with code 1 during step 3: boom").exitCode; // 4
 * ```
 */
export class EnvLostError extends UserError {
  /** `message` is one line. */
  constructor(message: string) {
    super(message, { exitCode: EXIT.ioFault });
    this.name = "EnvLostError";
  }
}

/** Per-component bounds of a Box space; ±Infinity where a component is unbounded. */
export interface Box {
  /** (dim) lowest value of each component. */
  readonly low: Float64Array;
  /** (dim) highest value of each component. */
  readonly high: Float64Array;
}

/**
 * A number an env reports for each finished episode, besides return and length (which the
 * shared layer keeps) and success (for envs with a goal). Evaluation averages every metric
 * the env declares; which ones a table shows or `best.pt` breaks ties with is decided by
 * the trainer and the report from these facts, not by the env.
 */
export interface EpisodeMetric {
  /** Key in each episode record of `eval --output`; a dot nests ("comfort.max_accel"). */
  readonly name: string;
  /** One line: what it measures, with its unit. */
  readonly description: string;
  /** Unit of the value ("m", "s", "" for counts and fractions). */
  readonly unit?: string;
  /** Which way is better, where one is ("lower": ADE, collisions; "higher": progress). */
  readonly better?: "lower" | "higher";
  /** Key of its mean over episodes in the evaluation summary (absent: not summarised). */
  readonly mean?: string;
  /** Key of its population standard deviation over episodes in the summary. */
  readonly std?: string;
  /**
   * A headline metric of the task: its held-out mean is logged in every `metrics.json`
   * entry (`baseline`: the base policy's too), printed in `train`'s held-out table, and
   * compared across seeds (`baseline` ones). The first headline metric whose `better` is
   * "lower" breaks ties between equal held-out returns for `best.pt`.
   */
  readonly headline?: { baseline?: boolean };
  /** Also kept in `train_metrics.json`'s held-out block (headline metrics always are). */
  readonly heldout?: boolean;
}

/**
 * The base policy being refined, for any env: observations (rows, obsDim) to actions
 * (rows, actionDim), a pure function of the observation (no hidden state, no RNG state).
 * A driving SFT planner maps z to a waypoint plan; a zero planner makes the delta the
 * whole action (plain PPO).
 */
export interface BasePlanner {
  /** Observation length. */
  readonly obsDim: number;
  /** Action length. */
  readonly actionDim: number;
  /** obs (rows, obsDim) -> `out` (rows, actionDim). */
  plan(obs: Float64Array, rows: number, out: Float64Array): void;
}

/**
 * An expert that can also correct a given plan: `correct` writes the smallest change of
 * the base plan `base` (rows, actionDim) it would make, and leaves `base` as it is where
 * it needs no help. A warm start labels with it when the env's expert has it, so the delta
 * head learns to stay at zero where the base planner does well (a residual's teacher).
 *
 * @example
 * ```ts
 * // brakes a plan of one number (a speed) to at most 5, and leaves slower plans alone
 * const capped: CorrectingPlanner = {
 *   obsDim: 1,
 *   actionDim: 1,
 *   plan: (_obs, rows, out) => out.fill(5, 0, rows),
 *   correct: (_obs, base, rows, out) => {
 *     for (let i = 0; i < rows; i++) out[i] = Math.min(base[i], 5);
 *   },
 * };
 * ```
 */
export interface CorrectingPlanner extends BasePlanner {
  /** obs (rows, obsDim) and base plans (rows, actionDim) -> corrected plans `out`. */
  correct(obs: Float64Array, base: Float64Array, rows: number, out: Float64Array): void;
}

/**
 * Whether `planner` can correct a given plan ({@linkcode CorrectingPlanner}).
 *
 * @example
 * ```ts
 * const zero = { obsDim: 1, actionDim: 1, plan: () => {} };
 * canCorrect(zero); // false
 * ```
 */
export function canCorrect(planner: BasePlanner): planner is CorrectingPlanner {
  return typeof (planner as Partial<CorrectingPlanner>).correct === "function";
}

/**
 * A base planner whose actions are H waypoints `[x1, y1, ..., xH, yH]` (actionDim = 2H):
 * what waypoint envs plan and `sft` clones.
 *
 * @example
 * ```ts
 * function finalPlans(sft: WaypointPlanner, obs: Float64Array, rows: number, delta: Float64Array) {
 *   const plans = new Float64Array(rows * sft.actionDim);
 *   sft.plan(obs, rows, plans);
 *   for (let j = 0; j < plans.length; j++) plans[j] += delta[j];
 *   return plans;
 * }
 * ```
 */
export interface WaypointPlanner extends BasePlanner {
  /** H: waypoints per plan (actionDim = 2H). */
  readonly horizon: number;
}

/**
 * What an env implements: N copies, their sizes, and `reset` / `step` over flat arrays.
 *
 * @example
 * ```ts
 * // A one-dimensional walk to +1: the whole contract of a tiny env.
 * class Walk implements VecEnv {
 *   readonly obsDim = 1;
 *   readonly actionDim = 1;
 *   readonly maxEpisodeSteps = 50;
 *   readonly obs: Float64Array;
 *   readonly rewards: Float64Array;
 *   readonly terminated: Uint8Array;
 *   constructor(readonly numEnvs: number) {
 *     this.obs = new Float64Array(numEnvs);
 *     this.rewards = new Float64Array(numEnvs);
 *     this.terminated = new Uint8Array(numEnvs);
 *   }
 *   reset(_seeds: ArrayLike<number>, mask?: Uint8Array): void {
 *     for (let i = 0; i < this.numEnvs; i++) if (!mask || mask[i]) this.obs[i] = 0;
 *   }
 *   step(actions: Float64Array, mask?: Uint8Array): void {
 *     for (let i = 0; i < this.numEnvs; i++) {
 *       if (mask && !mask[i]) continue;
 *       this.obs[i] += Math.max(-0.1, Math.min(0.1, actions[i]));
 *       this.terminated[i] = this.obs[i] >= 1 ? 1 : 0;
 *       this.rewards[i] = this.terminated[i] ? 1 : -0.01;
 *     }
 *   }
 * }
 * const walk = new Walk(4);
 * walk.reset([1, 2, 3, 4]);
 * walk.step(new Float64Array([0.1, 0.1, -0.1, 0]));
 * ```
 */
export interface VecEnv {
  /** N: copies stepped together. */
  readonly numEnvs: number;
  /** Length of one observation row. */
  readonly obsDim: number;
  /** Length of one action row. */
  readonly actionDim: number;
  /**
   * Shape of one action, its product `actionDim`; the policy's `log_std` has this shape
   * (driving: [H, 2], the Python DeltaHead's). Default [actionDim].
   */
  readonly actionShape?: readonly number[];
  /** Bounds of the observations, where the env has them. */
  readonly observationSpace?: Box;
  /**
   * Bounds of the actions: the final action (base action + delta) is clipped into them
   * before it reaches the env.
   */
  readonly actionSpace?: Box;
  /** Steps after which the shared layer truncates an episode (Gymnasium's `TimeLimit`). */
  readonly maxEpisodeSteps: number;
  /**
   * (obsDim) powers of two the policy divides the observation by when `ppo.obs_norm` is on
   * (a fixed, config-derived input scale); absent: the raw observation.
   */
  readonly obsScale?: Float64Array;
  /** The per-episode metrics the env reports (default none). */
  readonly metrics?: readonly EpisodeMetric[];
  /** A top-down view of its episodes, for the report's pictures (absent: none). */
  readonly view?: TopDownView;

  /** (N, obsDim) each copy's latest observation: after `reset`, the first; after `step`, the next. */
  readonly obs: Float64Array;
  /** (N) reward of each copy's latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the latest step ended the episode by the env's own terminal condition. */
  readonly terminated: Uint8Array;
  /**
   * (N) 1 when the env itself cut the episode at the latest step (a simulator with its own
   * time limit); the shared layer adds `maxEpisodeSteps`. Absent: never.
   */
  readonly truncated?: Uint8Array;
  /** (N) 1 when the latest step reached the goal; absent for envs without one. */
  readonly success?: Uint8Array;

  /** Starts a new episode in copy i with `seeds[i]`, for every i where `mask` is absent or 1. */
  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void | Promise<void>;
  /**
   * Steps copy i with row i of `actions` (N, actionDim), for every i where `mask` is absent
   * or 1; the other rows of every output keep their values.
   */
  step(actions: Float64Array, mask?: Uint8Array): void | Promise<void>;
  /**
   * Writes the metrics (in `metrics` order) of copy i's episode, which ended at its latest
   * step, to `out` from `offset`. Called once per episode, before that copy is reset.
   */
  writeEpisodeMetrics?(i: number, out: Float64Array, offset: number): void;
  /**
   * The group copy i's episode, which ended at its latest step, belongs to (traffic: its
   * scenario's kind); evaluation summarises each group apart as well. Called once per
   * episode, before that copy is reset. Absent: no groups.
   */
  episodeGroup?(i: number): string;
  /** Frees what the env holds outside this process (a subprocess); idempotent. */
  close?(): void | Promise<void>;
}
