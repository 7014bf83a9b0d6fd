/**
 * The one layer that keeps episodes for every env: the time limit, returns, lengths,
 * success, the env's per-episode metrics, the final observation, and (optionally)
 * same-step auto-reset. Gymnasium spreads this over `TimeLimit`,
 * `RecordEpisodeStatistics` and `Autoreset`; here it is one object, so an env
 * (`contract.ts`) holds its dynamics and little else.
 *
 * @module
 */

import type { EpisodeMetric, VecEnv } from "./contract.ts";

/** Options of {@linkcode EpisodeStatistics}. */
export interface EpisodeStatisticsOptions {
  /**
   * Restart a copy in the same step when its episode ends, with seed = its previous seed +
   * N (so copies started on distinct consecutive seeds never share one). Off: a finished
   * copy waits for `reset` (and is masked out of later steps by the caller).
   */
  autoReset?: boolean;
}

/**
 * N copies of an env with their episodes kept: wrap any {@linkcode VecEnv} and read
 * `episodeReturns`, `episodeLengths`, `success` and `episodeMetrics` of the rows
 * where `done` is 1 after a step. Truncation follows Gymnasium's `TimeLimit`: a step that
 * reaches `maxEpisodeSteps` is truncated even when it also terminated.
 *
 * @example
 * ```ts ignore
 * const venv = new EpisodeStatistics(new MountainCar(4));
 * venv.reset([0, 1, 2, 3]);
 * venv.step(new Float64Array([1, 1, -1, 0]));
 * for (let i = 0; i < 4; i++) if (venv.done[i]) console.log(venv.episodeReturns[i]);
 * ```
 */
export class EpisodeStatistics<E extends VecEnv = VecEnv> {
  /** The env kept. */
  readonly env: E;
  /** N. */
  readonly numEnvs: number;
  /** Length of one observation row. */
  readonly obsDim: number;
  /** Length of one action row. */
  readonly actionDim: number;
  /** Shape of one action ([actionDim] unless the env says otherwise). */
  readonly actionShape: readonly number[];
  /** The episode cap. */
  readonly maxEpisodeSteps: number;
  /** The env's per-episode metrics (empty when it declares none). */
  readonly metrics: readonly EpisodeMetric[];
  /** Whether the env has a goal (reports success). */
  readonly hasSuccess: boolean;
  /** The env's fixed input scale for the policy (`VecEnv.obsScale`), if any. */
  readonly obsScale?: Float64Array;
  /** (N, obsDim) current observations; with auto-reset, a restarted copy's first. */
  readonly obs: Float64Array;
  /**
   * (N, obsDim) the observation each copy's latest step produced, before any auto-reset
   * (the same array as `obs` without auto-reset).
   */
  readonly finalObs: Float64Array;
  /** (N) rewards of the latest step (kept across an auto-reset). */
  readonly rewards: Float64Array;
  /** (N) 1 when the latest step ended the episode by the env's own terminal condition. */
  readonly terminated: Uint8Array;
  /** (N) 1 when the latest step hit the episode cap (or the env cut the episode). */
  readonly truncated: Uint8Array;
  /** (N) terminated or truncated. */
  readonly done: Uint8Array;
  /** (N) return of the episode that ended at the latest step (where `done`). */
  readonly episodeReturns: Float64Array;
  /** (N) its length in steps (where `done`). */
  readonly episodeLengths: Int32Array;
  /** (N) 1 when it reached the goal (where `done`; always 0 for envs without a goal). */
  readonly success: Uint8Array;
  /** (N, metrics.length) its metrics (where `done`). */
  readonly episodeMetrics: Float64Array;
  /** (N) its group (where `done`; undefined for envs without groups, `VecEnv.episodeGroup`). */
  readonly episodeGroups: (string | undefined)[];
  /** (N) seed of each copy's current episode. */
  readonly seeds: Float64Array;
  /** (N) steps of each copy's current episode so far. */
  readonly stepCount: Int32Array;

  readonly #running: Float64Array;
  // the env's action Box (null: none) and the clipped copy of the actions sent to it
  readonly #box: { low: Float64Array; high: Float64Array } | null;
  readonly #clipped: Float64Array;
  readonly #autoReset: boolean;
  readonly #restart: Uint8Array;
  readonly #nextSeeds: Float64Array;
  #started = false;

  /** Wraps `env`; call `reset` next. */
  constructor(env: E, opts: EpisodeStatisticsOptions = {}) {
    const n = env.numEnvs;
    this.env = env;
    this.numEnvs = n;
    this.obsDim = env.obsDim;
    this.actionDim = env.actionDim;
    this.actionShape = env.actionShape ?? [env.actionDim];
    this.maxEpisodeSteps = env.maxEpisodeSteps;
    this.metrics = env.metrics ?? [];
    this.hasSuccess = env.success !== undefined;
    if (env.obsScale) this.obsScale = env.obsScale;
    this.#autoReset = opts.autoReset === true;
    this.obs = env.obs;
    this.finalObs = this.#autoReset ? new Float64Array(n * env.obsDim) : env.obs;
    this.rewards = new Float64Array(n);
    this.terminated = new Uint8Array(n);
    this.truncated = new Uint8Array(n);
    this.done = new Uint8Array(n);
    this.episodeReturns = new Float64Array(n);
    this.episodeLengths = new Int32Array(n);
    this.success = new Uint8Array(n);
    this.episodeMetrics = new Float64Array(n * this.metrics.length);
    this.episodeGroups = new Array(n).fill(undefined);
    this.seeds = new Float64Array(n);
    this.stepCount = new Int32Array(n);
    this.#running = new Float64Array(n);
    this.#box = env.actionSpace ? boxRows(env.actionSpace, env.actionDim) : null;
    this.#clipped = new Float64Array(this.#box ? n * env.actionDim : 0);
    this.#restart = new Uint8Array(n);
    this.#nextSeeds = new Float64Array(n);
  }

  /** Starts copy i on `seeds[i]` wherever `mask` is absent or 1. */
  reset(seeds: ArrayLike<number>, mask?: Uint8Array): void | Promise<void> {
    const n = this.numEnvs;
    if (seeds.length !== n) throw new RangeError(`reset: expected ${n} seeds, got ${seeds.length}`);
    for (let i = 0; i < n; i++) {
      if (mask && mask[i] === 0) continue;
      this.seeds[i] = seeds[i];
      this.stepCount[i] = 0;
      this.#running[i] = 0;
      this.rewards[i] = 0;
      this.terminated[i] = 0;
      this.truncated[i] = 0;
      this.done[i] = 0;
      this.success[i] = 0;
    }
    this.#started = true;
    const pending = this.env.reset(seeds, mask);
    if (pending) return pending.then(() => this.#afterReset(mask));
    this.#afterReset(mask);
  }

  /**
   * Steps copy i with row i of `actions` wherever `mask` is absent or 1, then keeps the
   * episodes (and auto-resets the finished ones when asked). An env that declares an
   * action Box gets a copy of the actions clipped into it (`actions` is left as it is).
   */
  step(actions: Float64Array, mask?: Uint8Array): void | Promise<void> {
    if (!this.#started) throw new Error("step: call reset() first");
    const expected = this.numEnvs * this.actionDim;
    if (actions.length !== expected) {
      throw new RangeError(
        `step: actions must be (${this.numEnvs}, ${this.actionDim}) = ${expected} numbers, got ${actions.length}`,
      );
    }
    const pending = this.env.step(this.#box ? this.#clip(actions) : actions, mask);
    if (pending) return pending.then(() => this.#afterStep(mask));
    return this.#afterStep(mask);
  }

  // `actions` clipped into the Box, into the copy kept for that
  #clip(actions: Float64Array): Float64Array {
    const { low, high } = this.#box!, a = this.actionDim, out = this.#clipped;
    for (let row = 0; row < actions.length; row += a) {
      for (let k = 0; k < a; k++) {
        const x = actions[row + k];
        out[row + k] = x < low[k] ? low[k] : x > high[k] ? high[k] : x;
      }
    }
    return out;
  }

  /** Frees what the env holds outside this process. */
  close(): void | Promise<void> {
    return this.env.close?.();
  }

  #afterReset(mask?: Uint8Array): void {
    if (!this.#autoReset) return;
    const d = this.obsDim;
    for (let i = 0; i < this.numEnvs; i++) {
      if (mask && mask[i] === 0) continue;
      this.finalObs.set(this.obs.subarray(i * d, (i + 1) * d), i * d);
    }
  }

  #afterStep(mask?: Uint8Array): void | Promise<void> {
    const env = this.env, n = this.numEnvs, m = this.metrics.length;
    const cap = this.maxEpisodeSteps, envTruncated = env.truncated, success = env.success;
    const rewards = this.rewards, terminated = this.terminated;
    let restarts = 0;
    for (let i = 0; i < n; i++) {
      if (mask && mask[i] === 0) continue;
      rewards[i] = env.rewards[i];
      terminated[i] = env.terminated[i];
      const steps = ++this.stepCount[i];
      const episodeReturn = this.#running[i] + rewards[i];
      const truncated = steps >= cap || (envTruncated !== undefined && envTruncated[i] === 1);
      this.truncated[i] = truncated ? 1 : 0;
      const done = truncated || terminated[i] === 1;
      this.done[i] = done ? 1 : 0;
      if (!done) {
        this.#running[i] = episodeReturn;
        continue;
      }
      this.#running[i] = 0;
      this.episodeReturns[i] = episodeReturn;
      this.episodeLengths[i] = steps;
      this.success[i] = success !== undefined ? success[i] : 0;
      if (m > 0) env.writeEpisodeMetrics?.(i, this.episodeMetrics, i * m);
      if (env.episodeGroup) this.episodeGroups[i] = env.episodeGroup(i);
      if (this.#autoReset) {
        this.#restart[i] = 1;
        this.#nextSeeds[i] = this.seeds[i] + n;
        restarts++;
      }
    }
    if (!this.#autoReset) return;
    const d = this.obsDim;
    for (let i = 0; i < n; i++) {
      if (mask && mask[i] === 0) continue;
      this.finalObs.set(this.obs.subarray(i * d, (i + 1) * d), i * d);
    }
    if (restarts === 0) return;
    const restart = this.#restart;
    for (let i = 0; i < n; i++) {
      if (restart[i] === 0) continue;
      this.seeds[i] = this.#nextSeeds[i];
      this.stepCount[i] = 0;
    }
    const pending = env.reset(this.#nextSeeds, restart);
    const clear = () => {
      restart.fill(0);
    };
    if (pending) return pending.then(clear);
    clear();
  }
}

// The bounds of a Box of `dim` components, checked (NaN bounds, low above high refused).
function boxRows(box: { low: Float64Array; high: Float64Array }, dim: number) {
  if (box.low.length !== dim || box.high.length !== dim) {
    throw new RangeError(`actionSpace: expected bounds of ${dim} components`);
  }
  for (let k = 0; k < dim; k++) {
    if (!(box.low[k] <= box.high[k])) {
      throw new RangeError(
        `actionSpace: component ${k} has low ${box.low[k]} > high ${box.high[k]}`,
      );
    }
  }
  return { low: box.low, high: box.high };
}
