/**
 * The PPO trainer, in the order an iteration runs: a rollout of whole episodes over a
 * vector env with batched forward passes into the rollout buffer (`rollout.ts`),
 * `finish` (GAE per episode, advantage normalisation; `rollout_buffer.ts`), then the
 * update: `update_epochs` passes over shuffled minibatches with a KL early stop
 * (`update.ts`), each minibatch's loss, backward and optimiser step (`loss.ts`).
 *
 * Rollouts always start and end on episode boundaries (one rollout = up to `num_envs`
 * whole episodes, or with `steps_per_update` whole episodes until it holds that many
 * steps, never crossing an eval or save point), so the state at every checkpoint is
 * weights, Adam state, two RNG streams, the episode and env-step counters and the
 * running statistics of the observation and return normalisers: a resumed run replays
 * the uninterrupted one exactly.
 *
 * @module
 */

import { runToEnd, runUntil } from "../event_loop.ts";
import type { Steps } from "../event_loop.ts";
import { hashSeeds, Rng } from "../math/mod.ts";
import { UserError } from "../errors.ts";
import { ActorCritic, Adam, ObsNormalizer } from "../nn/mod.ts";
import type { EpisodeMetric, VecEnv } from "../env/mod.ts";
import { EpisodeStatistics } from "../env/mod.ts";
import { plannerActionDim } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import { RolloutBuffer } from "./rollout_buffer.ts";
import { RolloutCollector } from "./rollout.ts";
import type { EpisodeOutcomes } from "./rollout.ts";
import { RewardScaler } from "./reward_scaler.ts";
import { ppoUpdate } from "./update.ts";
import { PpoLearner } from "./loss.ts";
import { OBS_NORM_EPSILON, REWARD_SCALE_EPSILON } from "./config.ts";
import type { PpoConfig } from "./config.ts";
import type { IterationResult, TrainerOptions, TrainerProgress } from "./trainer_types.ts";

export type { IterationResult, TrainerOptions, TrainerProgress } from "./trainer_types.ts";

/**
 * PPO over rollouts of whole episodes; owns the model (and its observation normaliser),
 * the optimiser, the reward scaler, the buffers and the RNG streams. `iterate` runs one
 * rollout and one update.
 *
 * @example
 * ```ts ignore
 * const trainer = new Trainer({ env: settings.env, ppo, planner, makeEnv: (n) => def.make(settings, n) });
 * while (!trainer.finished()) trainer.iterate(trainer.nextRolloutSize());
 * ```
 */
export class Trainer {
  /** The env's main config section it was built with. */
  readonly env: object;
  /** The PPO hyperparameters it was built with. */
  readonly ppo: PpoConfig;
  /** The frozen base planner; the policy's clipped delta is added to its actions. */
  readonly planner: BasePlanner | WaypointPlanner;
  /** Builds a vector env of the env evaluated on (and trained on, unless `makeTrainEnv`). */
  readonly makeEnv: (numEnvs: number) => VecEnv;
  /** The per-episode metrics that env declares. */
  readonly episodeMetrics: readonly EpisodeMetric[];
  /** Delta (policy) head and value head; `model.obsNorm` is the observation normaliser. */
  readonly model: ActorCritic;
  /** Adam over both heads. */
  readonly optimizer: Adam;
  /** Loss, backward and optimiser step of one minibatch. */
  readonly learner: PpoLearner;
  /** Draws the deltas sampled during rollouts. */
  readonly policyRng: Rng;
  /** Shuffles the rollout's rows into minibatches. */
  readonly shuffleRng: Rng;
  /** Scales the rewards PPO learns from (`norm_reward`), or null. */
  readonly rewardScaler: RewardScaler | null;
  /** Training episodes done; the next rollout starts at this episode index. */
  episode = 0;
  /** Env steps of the run so far, restored on resume (the `total_steps` budget counts them). */
  envSteps = 0;
  /** Env steps taken by this process (not restored on resume; for speed figures). */
  envStepsThisProcess = 0;

  #numEnvs: number;
  // the buffers of each named snapshot slot (see snapshot)
  readonly #snapshots = new Map<string, Float64Array[]>();
  #buffer: RolloutBuffer;
  #collector: RolloutCollector;

  /**
   * Builds the model, the optimiser and the vector env, and allocates every buffer once.
   * Throws a {@linkcode UserError} when `ppo.encoder_out_dim` or the planner's sizes do
   * not match the environment.
   */
  constructor(opts: TrainerOptions) {
    const { env, ppo, planner } = opts;
    this.env = env;
    this.ppo = ppo;
    this.planner = planner;
    this.makeEnv = opts.makeEnv;
    const n = ppo.num_envs;
    const vec = new EpisodeStatistics((opts.makeTrainEnv ?? this.makeEnv)(n));
    const obsDim = vec.obsDim, a = vec.actionDim;
    this.episodeMetrics = vec.metrics ?? [];
    if (ppo.encoder_out_dim !== obsDim) {
      throw new UserError(
        `ppo.encoder_out_dim (${ppo.encoder_out_dim}) does not match the environment's observation size ${obsDim}`,
      );
    }
    const plannerDim = plannerActionDim(planner);
    if (planner.obsDim !== obsDim || plannerDim !== a) {
      throw new UserError(
        `the base planner maps obs ${planner.obsDim} to actions of ${plannerDim}, the environment has obs ${obsDim} and actions of ${a}`,
      );
    }
    this.model = new ActorCritic({
      inDim: obsDim,
      hidden: ppo.hidden_dim,
      actionShape: vec.actionShape,
      rng: new Rng(hashSeeds(ppo.seed, 1)),
      initLogStd: ppo.init_log_std,
      maxBatch: Math.max(ppo.batch_size, ppo.num_envs),
      ...(ppo.obs_norm && vec.obsScale ? { inputScale: vec.obsScale } : {}),
      valueScale: ppo.value_scale,
      ...(ppo.norm_obs
        ? { obsNorm: new ObsNormalizer(obsDim, { epsilon: OBS_NORM_EPSILON, clip: ppo.clip_obs }) }
        : {}),
    });
    this.optimizer = new Adam([this.model.delta, this.model.value], {
      lr: ppo.lr,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: ppo.weight_decay,
      float32: true,
    });
    this.learner = new PpoLearner(this.model, this.optimizer, {
      clipRatio: ppo.clip_ratio,
      vfCoef: ppo.vf_coef,
      entCoef: ppo.ent_coef,
      maxGradNorm: ppo.max_grad_norm,
      maxLogStd: ppo.max_log_std,
    }, ppo.batch_size);
    this.policyRng = new Rng(hashSeeds(ppo.seed, 2));
    this.shuffleRng = new Rng(hashSeeds(ppo.seed, 3));
    this.rewardScaler = ppo.norm_reward
      ? new RewardScaler(n, {
        gamma: ppo.gamma,
        epsilon: REWARD_SCALE_EPSILON,
        clip: ppo.clip_reward,
      })
      : null;
    const t = vec.maxEpisodeSteps;
    this.#numEnvs = n;
    // with a step target a rollout starts episodes while it holds fewer steps than the
    // target, then each of the N slots may run one more whole episode
    const steps = ppo.steps_per_update;
    this.#buffer = new RolloutBuffer({
      numEnvs: n,
      maxSteps: t,
      obsDim,
      actDim: a,
      batchSize: ppo.batch_size,
      capacity: steps > 0 ? steps - 1 + n * t : n * t,
    });
    this.#collector = new RolloutCollector({
      vec,
      model: this.model,
      planner,
      policyRng: this.policyRng,
      buffer: this.#buffer,
      rewardScaler: this.rewardScaler,
      seed: ppo.seed,
      deltaClip: ppo.delta_clip,
      deltaCost: ppo.delta_cost,
      noiseCorrelation: ppo.noise_correlation,
    });
  }

  /**
   * One rollout of whole episodes, then one PPO update on them: exactly `count`
   * episodes (at most `num_envs`) without `steps_per_update`, else up to `count`
   * episodes until the rollout holds `steps_per_update` steps (or what is left of
   * `total_steps`).
   */
  iterate(count: number): IterationResult {
    return runToEnd(this.#iteration(count));
  }

  /**
   * {@linkcode Trainer.iterate} that gives the event loop a turn about every
   * `yieldMs` milliseconds of work (default 200; rollout steps and PPO minibatches) and
   * then asks `shouldStop`. On a stop the iteration in progress is dropped and the
   * trainer put back exactly as it was before it (returns null; before an error is thrown
   * too), so a checkpoint of it resumes exactly. The numbers are those of `iterate`.
   */
  async iterateUntil(
    count: number,
    opts: { shouldStop: () => boolean; yieldMs?: number },
  ): Promise<IterationResult | null> {
    const restore = this.snapshot("iteration");
    const result = await runUntil(this.#iteration(count), opts.shouldStop, opts.yieldMs)
      .catch((e) => {
        restore(); // an env that failed mid-iteration (its worker died) leaves no trace either
        throw e;
      });
    if (result === null) restore();
    return result;
  }

  // One rollout and one update, pausing (yield) after every rollout step and every
  // minibatch.
  *#iteration(count: number): Steps<IterationResult> {
    const first = this.episode;
    const learningRate = this.learningRate();
    this.optimizer.lr = learningRate;
    const outcomes: EpisodeOutcomes = { returns: [], lengths: [], successes: [] };
    const limits = { firstEpisode: first, maxEpisodes: count, targetSteps: this.#targetSteps() };
    const { episodes, steps } = yield* this.#collector.collect(limits, outcomes);
    this.episode += episodes;
    const { gamma, lam, norm_adv: normAdv } = this.ppo;
    const rows = this.#buffer.finish({ gamma, lam, normAdv });
    this.learner.logStdBound = this.logStdBound();
    this.learner.deltaFrozen = this.ppo.warm_start_rounds > 0 &&
      first < this.ppo.warm_start_value_episodes;
    const update = yield* ppoUpdate(this.#buffer, {
      rows,
      learner: this.learner,
      shuffleRng: this.shuffleRng,
      ppo: this.ppo,
      episode: this.episode,
    });
    this.envSteps += steps;
    this.envStepsThisProcess += steps;
    return {
      firstEpisode: first,
      episodes,
      envSteps: steps,
      rows,
      update,
      learningRate,
      deltaNorm: this.#buffer.deltaNormStats(rows),
      ...outcomes,
    };
  }

  // Steps the next rollout aims for: steps_per_update, or what is left of total_steps
  // when less; 0 without steps_per_update (one episode per slot).
  #targetSteps(): number {
    const { steps_per_update: target, total_steps: total } = this.ppo;
    if (target === 0) return 0;
    return total > 0 ? Math.min(target, total - this.envSteps) : target;
  }

  /**
   * The learning rate of the next update: `lr`, or with `lr_schedule` "linear"
   * lr · (1 − done / budget) with done the budget used before the update's rollout
   * (env steps of `total_steps`, else episodes of `episodes`): lr at the first update,
   * above 0 at the last, as CleanRL's annealing.
   */
  learningRate(): number {
    const { lr, lr_schedule, total_steps, episodes } = this.ppo;
    if (lr_schedule === "constant") return lr;
    const done = total_steps > 0 ? this.envSteps / total_steps : this.episode / episodes;
    return lr * Math.max(0, 1 - done);
  }

  /**
   * The log_std bound of the next update: `max_log_std`, falling linearly to
   * `max_log_std_end` over the budget (used after the update's rollout) when that is lower.
   */
  logStdBound(): number {
    const { max_log_std: start, max_log_std_end: end, total_steps, episodes } = this.ppo;
    if (end >= start) return start;
    const done = total_steps > 0 ? this.envSteps / total_steps : this.episode / episodes;
    return start + (end - start) * Math.min(1, done);
  }

  /** Whether the run's budget is spent: `total_steps` env steps when set, else `episodes`. */
  finished(): boolean {
    const { total_steps, episodes } = this.ppo;
    return total_steps > 0 ? this.envSteps >= total_steps : this.episode >= episodes;
  }

  /**
   * Most episodes the next rollout may hold so it ends on an eval, save or final
   * boundary: at most `num_envs` without `steps_per_update`, and within `episodes`
   * unless the budget is `total_steps`.
   */
  nextRolloutSize(): number {
    const { episodes, eval_interval, save_interval, total_steps, steps_per_update } = this.ppo;
    const e = this.episode;
    const toEval = eval_interval - (e % eval_interval);
    const toSave = save_interval - (e % save_interval);
    const slots = steps_per_update > 0 ? Infinity : this.#numEnvs;
    const budget = total_steps > 0 ? Infinity : episodes - e;
    return Math.min(slots, budget, toEval, toSave);
  }

  /**
   * The trainer's whole state now (weights, Adam state, both RNG streams, the episode
   * and env-step counters, the normalisers' statistics), and a function that puts it
   * back. With a `slot` name the copy reuses that slot's buffers, so a later snapshot of
   * the same slot overwrites it (one live restore per slot): taken per iteration and per
   * eval point, fresh copies left V8 about 15 MB of garbage to collect in the default run.
   */
  snapshot(slot?: string): () => void {
    const opt = this.optimizer;
    const live = () => [...opt.paramSets.map((set) => set.data), ...opt.expAvg, ...opt.expAvgSq];
    let saved = slot === undefined ? undefined : this.#snapshots.get(slot);
    if (saved === undefined) {
      saved = live().map((x) => x.slice());
      if (slot !== undefined) this.#snapshots.set(slot, saved);
    } else live().forEach((x, i) => saved![i].set(x));
    const copies = saved;
    const { stepCount: step, lr } = opt;
    const progress = this.progress();
    const envSteps = this.envStepsThisProcess;
    return () => {
      live().forEach((x, i) => x.set(copies[i]));
      opt.stepCount = step;
      opt.lr = lr;
      this.restoreProgress(progress);
      this.envStepsThisProcess = envSteps;
    };
  }

  /** Progress to store in a checkpoint (copies). */
  progress(): TrainerProgress {
    return {
      episode: this.episode,
      rng: { policy: this.policyRng.getState(), shuffle: this.shuffleRng.getState() },
      envSteps: this.envSteps,
      obsRms: this.model.obsNorm?.state() ?? null,
      retRms: this.rewardScaler?.state() ?? null,
    };
  }

  /**
   * Restores progress saved by {@linkcode Trainer.progress}; a normaliser's statistics
   * only where both the trainer and `p` have them.
   */
  restoreProgress(p: TrainerProgress): void {
    this.episode = p.episode;
    this.policyRng.setState(p.rng.policy);
    this.shuffleRng.setState(p.rng.shuffle);
    this.envSteps = p.envSteps;
    if (p.obsRms) this.model.obsNorm?.setState(p.obsRms);
    if (p.retRms) this.rewardScaler?.setState(p.retRms);
  }
}
