/**
 * A warm start of the delta head from the env's expert planner, before PPO: DAgger (Ross,
 * Gordon and Bagnell, 2011) on the residual. The first round drives training scenarios
 * with the expert's plans, every later round with the policy's (the base plan plus the
 * clipped mean delta); at every step the label is the expert's correction of the base
 * plan, clip(expert − base, ±delta_clip), or, for an expert that can correct a given plan
 * (`CorrectingPlanner`), clip(correct(base) − base): zero where the base plan needs no help
 * (and round 1 drives those corrections). After each round the delta head's mean is fitted
 * to all the steps gathered so far: mean squared error, Adam at 1e-3, minibatches of 256,
 * `warm_start_epochs` passes. log_std and the value head stay as they are; the observation
 * normaliser, if any, sees every step as a rollout's would.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { hashSeeds, Rng } from "../math/mod.ts";
import { ActorCriticCache, Adam } from "../nn/mod.ts";
import { canCorrect, EpisodeStatistics, HELDOUT_SEED_BASE, type VecEnv } from "../env/mod.ts";
import {
  addSquaredErrorGradient,
  type ImitationRows,
  ImitationTerm,
  ROWS_PER_CHUNK,
  type Trainer,
} from "../ppo/mod.ts";
import { clipDelta } from "../sft/mod.ts";
import type { BasePlanner } from "../sft/mod.ts";
import { type EnvWithSettings, namedPlanner } from "./base_planner.ts";

/** One round of a warm start, as `train_metrics.json` records it. */
export interface WarmStartRound {
  /** 1-based. */
  round: number;
  /** Episodes it drove (the expert in round 1, the policy after). */
  episodes: number;
  /** Their steps: the rows it added. */
  steps: number;
  /** Rows fitted after it (all rounds so far). */
  rows: number;
  /** Mean squared error per delta number over the last pass, m². */
  mse: number;
  /** Episodes of the round that ended in the env's terminal state without success. */
  failures: number;
}

/** Runs a run's warm start, logging each round; what `train_metrics.json` records of it. */
export type WarmStarter = (log: (line: string) => void) => Promise<WarmStartRound[]>;

/**
 * The warm start of a run of `trainer` (null when `ppo.warm_start_rounds` is 0): the
 * expert planner of `env` labels (looked up only then; `checkRunFits` has refused an env
 * without one), `makeEnv` makes its training envs. A resumed run with
 * `warm_start_bc_coef` gathers the warm start's steps again here, for its imitation term,
 * and returns null: call it before the checkpoint is restored, which replaces the weights
 * this leaves.
 *
 * @example
 * ```ts ignore
 * const warm = await warmStarter(trainer, { env, makeEnv, resumed: false });
 * const rounds = await warm?.(console.error);
 * ```
 */
export async function warmStarter(
  trainer: Trainer,
  opts: { env: EnvWithSettings; makeEnv: (n: number) => VecEnv; resumed: boolean },
): Promise<WarmStarter | null> {
  if (trainer.ppo.warm_start_rounds === 0) return null;
  const { makeEnv } = opts, expert = namedPlanner("expert", opts.env);
  if (!expert) throw new UserError("--warm-start-rounds: the env has no expert planner");
  if (!opts.resumed) return (log) => warmStart(trainer, { expert, makeEnv, log });
  if (trainer.ppo.warm_start_bc_coef > 0) {
    await warmStart(trainer, { expert, makeEnv, log: () => {} });
  }
  return null;
}

/** Minibatch rows of the fit. */
const FIT_BATCH = 256;

/** Learning rate of the fit's Adam (the PPO updates after keep `lr`). */
const FIT_LR = 1e-3;

/**
 * Seed of warm-start episode `k` of a run: a hash of (run seed, k) below
 * {@linkcode HELDOUT_SEED_BASE}, apart from the PPO episodes' seeds.
 *
 * @example
 * ```ts
 * const seed = warmStartEpisodeSeed(42, 0);
 * ```
 */
export function warmStartEpisodeSeed(runSeed: number, episode: number): number {
  return hashSeeds(runSeed, 0xda66e7, episode) % HELDOUT_SEED_BASE;
}

/**
 * Runs the warm start of `trainer`'s delta head (`ppo.warm_start_rounds` rounds of
 * `ppo.warm_start_episodes` episodes) on envs from `makeEnv`, the `expert` planner giving
 * the labels; `log` gets one line per round. Draws from no RNG of the trainer: the PPO
 * that follows starts from the same streams as without it.
 *
 * @example
 * ```ts ignore
 * const rounds = await warmStart(trainer, { expert, makeEnv, log: console.error });
 * ```
 */
export async function warmStart(
  trainer: Trainer,
  opts: { expert: BasePlanner; makeEnv: (n: number) => VecEnv; log: (line: string) => void },
): Promise<WarmStartRound[]> {
  const { ppo, model, planner } = trainer;
  const rounds = ppo.warm_start_rounds, perRound = ppo.warm_start_episodes;
  const n = Math.min(ppo.num_envs, perRound);
  const vec = new EpisodeStatistics(opts.makeEnv(n));
  const d = vec.obsDim, a = vec.actionDim, clip = ppo.delta_clip;
  const data = new StepRows(d, a);
  const correcting = canCorrect(opts.expert) ? opts.expert : null;
  const fit = new MeanFit(trainer, hashSeeds(ppo.seed, 0xda66e7));
  const base = new Float64Array(n * a), expert = new Float64Array(n * a);
  const mean = new Float64Array(n * a), plan = new Float64Array(n * a);
  const active = new Uint8Array(n), restart = new Uint8Array(n), seeds = new Float64Array(n);
  const out: WarmStartRound[] = [];
  let next = 0; // warm-start episodes started so far, over all rounds
  for (let r = 0; r < rounds; r++) {
    const first = next, last = first + perRound;
    let steps = 0, failures = 0;
    active.fill(0);
    for (let i = 0; i < n; i++) {
      seeds[i] = warmStartEpisodeSeed(ppo.seed, next++);
      active[i] = 1;
    }
    await vec.reset(seeds, active);
    let running = n;
    while (running > 0) {
      const obs = vec.obs;
      model.obsNorm?.update(obs, n, active);
      planner.plan(obs, n, base);
      if (correcting) correcting.correct(obs, base, n, expert);
      else opts.expert.plan(obs, n, expert);
      if (r > 0) model.actMean(obs, n, mean);
      for (let i = 0; i < n; i++) {
        if (!active[i]) continue;
        data.add(obs, i, (j) => clipDelta(expert[i * a + j] - base[i * a + j], clip));
        steps++;
      }
      for (let j = 0; j < n * a; j++) {
        plan[j] = r === 0 ? expert[j] : base[j] + clipDelta(mean[j], clip);
      }
      await vec.step(plan, active);
      restart.fill(0);
      let restarts = 0;
      for (let i = 0; i < n; i++) {
        if (!active[i] || !vec.done[i]) continue;
        if (vec.terminated[i] && vec.success[i] !== 1) failures++;
        if (next < last) {
          seeds[i] = warmStartEpisodeSeed(ppo.seed, next++);
          restart[i] = 1;
          restarts++;
        } else {
          active[i] = 0;
          running--;
        }
      }
      if (restarts > 0) await vec.reset(seeds, restart);
    }
    const mse = fit.fit(data, ppo.warm_start_epochs);
    const round = { round: r + 1, episodes: perRound, steps, rows: data.rows, mse, failures };
    out.push(round);
    opts.log(
      `warm start: round ${round.round}/${rounds}, ${
        r === 0 ? "expert" : "policy"
      } drove ${perRound} episodes (${failures} failed), ${steps} steps; ${data.rows} rows fitted, mse ${
        mse.toFixed(4)
      } m²`,
    );
  }
  if (ppo.warm_start_bc_coef > 0) {
    const seed = hashSeeds(ppo.seed, 0x1a17);
    const maxBatch = trainer.learner.maxBatch;
    trainer.learner.imitation = new ImitationTerm(data, {
      coef: ppo.warm_start_bc_coef,
      seed,
      maxBatch,
    });
  }
  return out;
}

// The gathered steps: observation and label rows, float32, in chunks of ROWS_PER_CHUNK
// rows (a new chunk when the last is full; nothing is copied).
class StepRows implements ImitationRows {
  rows = 0;
  readonly obs: Float32Array[] = [];
  readonly label: Float32Array[] = [];
  constructor(readonly obsDim: number, readonly actionDim: number) {}

  // row i of `obs` (rows of obsDim), and its label label(j), j < actionDim
  add(obs: Float64Array, i: number, label: (j: number) => number): void {
    const d = this.obsDim, a = this.actionDim, at = this.rows % ROWS_PER_CHUNK;
    if (at === 0) {
      this.obs.push(new Float32Array(ROWS_PER_CHUNK * d));
      this.label.push(new Float32Array(ROWS_PER_CHUNK * a));
    }
    const chunk = this.obs.length - 1, labels = this.label[chunk];
    this.obs[chunk].set(obs.subarray(i * d, (i + 1) * d), at * d);
    for (let j = 0; j < a; j++) labels[at * a + j] = label(j);
    this.rows++;
  }
}

// Fits the delta head's mean to the rows: its own Adam over the delta head (log_std gets no
// gradient), shuffles from its own RNG.
class MeanFit {
  readonly #trainer: Trainer;
  readonly #adam: Adam;
  readonly #cache: ActorCriticCache;
  readonly #rng: Rng;
  readonly #raw: Float64Array;
  readonly #x: Float64Array;
  #order = new Int32Array(0);

  constructor(trainer: Trainer, seed: number) {
    const { model } = trainer;
    this.#trainer = trainer;
    this.#adam = new Adam([model.delta], { lr: FIT_LR, weightDecay: 0, float32: true });
    this.#cache = new ActorCriticCache(model, FIT_BATCH);
    this.#rng = new Rng(seed);
    this.#raw = new Float64Array(FIT_BATCH * model.inDim);
    this.#x = new Float64Array(FIT_BATCH * model.inDim);
  }

  // `epochs` passes over the rows in a fresh order each; the last pass's mse
  fit(data: StepRows, epochs: number): number {
    const model = this.#trainer.model, cache = this.#cache;
    const a = data.actionDim, rows = data.rows;
    if (this.#order.length < rows) this.#order = new Int32Array(data.obs.length * ROWS_PER_CHUNK);
    const order = this.#order.subarray(0, rows);
    for (let k = 0; k < rows; k++) order[k] = k;
    const buffers = { raw: this.#raw, x: this.#x };
    let sq = 0;
    for (let e = 0; e < epochs; e++) {
      this.#rng.shuffle(order);
      sq = 0;
      for (let start = 0; start < rows; start += FIT_BATCH) {
        const picked = order.subarray(start, Math.min(start + FIT_BATCH, rows));
        const scale = 2 / (picked.length * a);
        model.zeroGrad();
        sq += addSquaredErrorGradient(model, cache, { rows: data, picked, scale, ...buffers });
        this.#adam.step();
      }
    }
    return sq / (rows * a);
  }
}
