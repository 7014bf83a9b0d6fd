/**
 * The PPO trainer, in the order an iteration runs: a whole-episode rollout over a
 * vector env with batched forward passes into the rollout buffer (`#rollout` below),
 * `finish` (GAE per episode, advantage normalisation; `rollout_buffer.ts`), then the
 * update: `update_epochs` passes over shuffled minibatches with a KL early stop
 * (`update.ts`), each minibatch's loss, backward and optimiser step (`loss.ts`).
 *
 * Rollouts always start and end on episode boundaries (one rollout = up to
 * `num_envs` whole episodes, never crossing an eval or save point), so the state at
 * every checkpoint is just weights, Adam state, two RNG streams and the episode
 * counter: a resumed run replays the uninterrupted one exactly.
 *
 * @module
 */

import { runToEnd, runUntil } from "../event_loop.ts";
import type { Pending, Steps } from "../event_loop.ts";
import { hashSeeds, Rng } from "../math/mod.ts";
import { UserError } from "../errors.ts";
import { ActorCritic, Adam, sampleGaussian } from "../nn/mod.ts";
import type { EnvConfig, EpisodeMetric, VecEnv } from "../env/mod.ts";
import { Driving, EpisodeStatistics, HELDOUT_SEED_BASE } from "../env/mod.ts";
import { clippedDeltaNorm, composePlan, plannerActionDim } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import { RolloutBuffer } from "./rollout_buffer.ts";
import { ppoUpdate } from "./update.ts";
import type { UpdateStats } from "./update.ts";
import { PpoLearner } from "./loss.ts";
import { logStdBoundAt, type PpoConfig } from "./config.ts";

/** Outcomes of a rollout's episodes, in episode order. */
export interface EpisodeOutcomes {
  /** Return of each of the rollout's episodes. */
  returns: number[];
  /** Length (steps) of each. */
  lengths: number[];
  /** 1 where it reached the goal, else 0. */
  successes: number[];
}

/** What one rollout + update produced. */
export interface IterationResult extends EpisodeOutcomes {
  /** First episode index of the rollout. */
  firstEpisode: number;
  /** Whole episodes in the rollout. */
  episodes: number;
  /** Env steps of those episodes. */
  envSteps: number;
  /** The PPO update on the rollout. */
  update: UpdateStats;
  /** Norms of the clipped mean delta over every step of the rollout (m). */
  deltaNorm: { mean: number; max: number; std: number };
}

/** Everything a checkpoint must hold of the trainer besides weights and Adam state. */
export interface TrainerProgress {
  /** Training episodes done. */
  episode: number;
  /** State (four uint32 words) of the policy-sampling and the minibatch-shuffling RNG. */
  rng: { policy: number[]; shuffle: number[] };
}

/** Options of {@linkcode Trainer}. */
export interface TrainerOptions {
  /**
   * The driving env's configuration (what checkpoints record as `env_cfg`); builds the
   * default env, and gives `max_episode_steps` to an env that declares none.
   */
  env: EnvConfig;
  /** PPO hyperparameters; `encoder_out_dim` must equal the env's `obsDim`. */
  ppo: PpoConfig;
  /** The frozen base planner whose actions the delta corrects (SFT, or zero for plain PPO). */
  planner: BasePlanner | WaypointPlanner;
  /**
   * Builds the vector env (default: the toy driving env); the trainer takes observation
   * and action sizes, action shape, episode cap and observation scale from it.
   */
  makeEnv?: (numEnvs: number) => VecEnv;
  /**
   * Builds the vector env the training episodes run in when it is not `makeEnv`'s (a
   * scenario set), with the same sizes; evaluation always uses `makeEnv`.
   */
  makeTrainEnv?: (numEnvs: number) => VecEnv;
}

/**
 * Seed of training episode `k` of a run: a hash of (run seed, k) below
 * {@linkcode HELDOUT_SEED_BASE}, so training never sees a held-out seed.
 *
 * @example
 * ```ts
 * const seed = trainingEpisodeSeed(42, 0);
 * ```
 */
export function trainingEpisodeSeed(runSeed: number, episode: number): number {
  return hashSeeds(runSeed, 0x5eed, episode) % HELDOUT_SEED_BASE;
}

/**
 * PPO over whole-episode rollouts; owns the model, the optimiser, the buffers and the
 * RNG streams. `iterate` runs one rollout and one update.
 *
 * @example
 * ```ts ignore
 * const trainer = new Trainer({ env, ppo, planner: new BuiltinSftPlanner(env) });
 * while (trainer.episode < ppo.episodes) trainer.iterate(ppo.num_envs);
 * ```
 */
export class Trainer {
  /** The environment configuration it was built with. */
  readonly env: EnvConfig;
  /** The PPO hyperparameters it was built with. */
  readonly ppo: PpoConfig;
  /** The frozen base planner; the policy's clipped delta is added to its actions. */
  readonly planner: BasePlanner | WaypointPlanner;
  /** Builds a vector env of the env evaluated on (and trained on, unless `makeTrainEnv`). */
  readonly makeEnv: (numEnvs: number) => VecEnv;
  /** The per-episode metrics that env declares. */
  readonly episodeMetrics: readonly EpisodeMetric[];
  /** Delta (policy) head and value head. */
  readonly model: ActorCritic;
  /** Adam over both heads. */
  readonly optimizer: Adam;
  /** Loss, backward and optimiser step of one minibatch. */
  readonly learner: PpoLearner;
  /** Draws the deltas sampled during rollouts. */
  readonly policyRng: Rng;
  /** Shuffles the rollout's rows into minibatches. */
  readonly shuffleRng: Rng;
  /** Training episodes done; the next rollout starts at this episode index. */
  episode = 0;
  /** Env steps taken by this process (not restored on resume; for speed figures). */
  envStepsThisProcess = 0;

  #vec: EpisodeStatistics;
  #numEnvs: number;
  // (N) 1 where the env's episode is running; (N) the seeds its episodes start on
  #active: Uint8Array;
  #seeds: Float64Array;
  #maxSteps: number;
  #obsDim: number;
  #actDim: number;
  // Per-step arrays for the N envs: (N, ·)
  #mean: Float64Array;
  #value: Float64Array;
  #action: Float64Array;
  #logp: Float64Array;
  #sftPlan: Float64Array;
  #plan: Float64Array;
  #finalValue: Float64Array;
  #buffer: RolloutBuffer;

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
    this.makeEnv = opts.makeEnv ?? ((n) => new Driving(env, n));
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

    const t = vec.maxEpisodeSteps;
    this.#vec = vec;
    this.#active = new Uint8Array(n);
    this.#seeds = new Float64Array(n);
    this.#numEnvs = n;
    this.#maxSteps = t;
    this.#obsDim = obsDim;
    this.#actDim = a;
    this.#mean = new Float64Array(n * a);
    this.#value = new Float64Array(n);
    this.#action = new Float64Array(n * a);
    this.#logp = new Float64Array(n);
    this.#sftPlan = new Float64Array(n * a);
    this.#plan = new Float64Array(n * a);
    this.#finalValue = new Float64Array(n);
    this.#buffer = new RolloutBuffer({
      numEnvs: n,
      maxSteps: t,
      obsDim,
      actDim: a,
      batchSize: ppo.batch_size,
    });
  }

  /** One rollout of `count` whole episodes, then one PPO update on them. */
  iterate(count: number): IterationResult {
    return runToEnd(this.#iteration(count));
  }

  /**
   * {@linkcode Trainer.iterate} that gives the event loop a turn about every
   * `yieldMs` milliseconds of work (default 200; rollout steps and PPO minibatches) and
   * then asks `shouldStop`. On a stop the iteration in progress is dropped and the
   * trainer put back exactly as it was before it (returns null), so a checkpoint of it
   * resumes exactly. The numbers are those of `iterate`.
   */
  async iterateUntil(
    count: number,
    opts: { shouldStop: () => boolean; yieldMs?: number },
  ): Promise<IterationResult | null> {
    const restore = this.snapshot();
    const result = await runUntil(this.#iteration(count), opts.shouldStop, opts.yieldMs);
    if (result === null) restore();
    return result;
  }

  // One rollout and one update, pausing (yield) after every rollout step and every
  // minibatch.
  *#iteration(count: number): Steps<IterationResult> {
    const first = this.episode;
    const episodes: EpisodeOutcomes = { returns: [], lengths: [], successes: [] };
    const envSteps = yield* this.#rollout(count, episodes);
    const { gamma, lam, norm_adv: normAdv } = this.ppo;
    const rows = this.#buffer.finish(count, { gamma, lam, normAdv });
    this.learner.logStdBound = logStdBoundAt(this.ppo, this.episode);
    const update = yield* ppoUpdate(this.#buffer, {
      rows,
      learner: this.learner,
      shuffleRng: this.shuffleRng,
      ppo: this.ppo,
      episode: this.episode,
    });
    this.envStepsThisProcess += envSteps;
    return {
      firstEpisode: first,
      episodes: count,
      envSteps,
      update,
      deltaNorm: this.#buffer.deltaNormStats(rows),
      ...episodes,
    };
  }

  // Runs `count` episodes in lockstep, one per env, each env stepping until its episode
  // ends; pauses (yield) after every lockstep step, and yields the env's promise when it
  // answers with one. Returns the env steps taken and fills `out` with the episodes'
  // outcomes. Nothing but the policy RNG changes before the last step, when the episode
  // counter moves on.
  *#rollout(count: number, out: EpisodeOutcomes): Generator<Pending, number, void> {
    const n = this.#numEnvs, t = this.#maxSteps, od = this.#obsDim, a = this.#actDim;
    const vec = this.#vec, active = this.#active, seeds = this.#seeds;
    for (let i = 0; i < n; i++) {
      active[i] = i < count ? 1 : 0;
      seeds[i] = i < count ? trainingEpisodeSeed(this.ppo.seed, this.episode + i) : 0;
    }
    const resetting = vec.reset(seeds, active);
    if (resetting) yield resetting;
    const b = this.#buffer;
    const segLen = b.segLen;
    segLen.fill(0);
    let remaining = count;
    const clip = this.ppo.delta_clip;
    const logStd = this.model.delta.view("log_std");
    const mean = this.#mean, action = this.#action, plan = this.#plan, sft = this.#sftPlan;
    let steps = 0;
    while (remaining > 0) {
      // every row is computed and drawn for, running or not: the draws of a row do not
      // depend on when the other episodes of the rollout end
      const obs = vec.obs;
      this.model.act(obs, n, mean, this.#value);
      sampleGaussian(mean, logStd, n, this.policyRng, action, this.#logp);
      this.planner.plan(obs, n, sft);
      composePlan(plan, { sft, delta: action, deltaClip: clip });
      for (let i = 0; i < n; i++) {
        if (!active[i]) continue;
        const row = i * t + segLen[i];
        b.obs.set(obs.subarray(i * od, (i + 1) * od), row * od);
        b.act.set(action.subarray(i * a, (i + 1) * a), row * a);
        b.logp[row] = this.#logp[i];
        b.val[row] = this.#value[i];
        b.deltaNorm[row] = clippedDeltaNorm(mean, { row: i, actDim: a, deltaClip: clip });
      }
      // only the running episodes step: no simulated step is thrown away
      const stepping = vec.step(plan, active);
      if (stepping) yield stepping;
      let anyDone = false;
      for (let i = 0; i < n; i++) if (active[i] && vec.done[i]) anyDone = true;
      // the value of each finished episode's last observation (bootstraps a truncation)
      if (anyDone) this.model.values(vec.finalObs, n, this.#finalValue);
      for (let i = 0; i < n; i++) {
        if (!active[i]) continue;
        const row = i * t + segLen[i];
        const term = vec.terminated[i], trunc = vec.truncated[i];
        b.rew[row] = vec.rewards[i];
        b.term[row] = term;
        b.trunc[row] = trunc;
        segLen[i]++;
        steps++;
        if (vec.done[i]) {
          b.nextVal[row] = this.#finalValue[i];
          active[i] = 0;
          remaining--;
          out.returns[i] = vec.episodeReturns[i];
          out.lengths[i] = vec.episodeLengths[i];
          out.successes[i] = vec.success[i];
        } else if (segLen[i] >= t) {
          throw new Error(`env ${i} ran past max_episode_steps without truncating`);
        }
      }
      if (remaining > 0) yield;
    }
    this.episode += count;
    return steps;
  }

  /** Episodes the next rollout should hold so it ends on an eval, save or final boundary. */
  nextRolloutSize(): number {
    const { episodes, eval_interval, save_interval } = this.ppo;
    const e = this.episode;
    const toEval = eval_interval - (e % eval_interval);
    const toSave = save_interval - (e % save_interval);
    return Math.min(this.#numEnvs, episodes - e, toEval, toSave);
  }

  /**
   * The trainer's whole state now (weights, Adam state, both RNG streams, the episode
   * counter), and a function that puts it back.
   */
  snapshot(): () => void {
    const opt = this.optimizer;
    const params = opt.paramSets.map((set) => set.data.slice());
    const m = opt.expAvg.map((x) => x.slice());
    const v = opt.expAvgSq.map((x) => x.slice());
    const step = opt.stepCount;
    const policy = this.policyRng.getState();
    const shuffle = this.shuffleRng.getState();
    const episode = this.episode;
    const envSteps = this.envStepsThisProcess;
    return () => {
      opt.paramSets.forEach((set, i) => set.data.set(params[i]));
      opt.expAvg.forEach((x, i) => x.set(m[i]));
      opt.expAvgSq.forEach((x, i) => x.set(v[i]));
      opt.stepCount = step;
      this.policyRng.setState(policy);
      this.shuffleRng.setState(shuffle);
      this.episode = episode;
      this.envStepsThisProcess = envSteps;
    };
  }

  /** Progress to store in a checkpoint. */
  progress(): TrainerProgress {
    return {
      episode: this.episode,
      rng: { policy: this.policyRng.getState(), shuffle: this.shuffleRng.getState() },
    };
  }

  /** Restores progress saved by {@linkcode Trainer.progress}. */
  restoreProgress(p: TrainerProgress): void {
    this.episode = p.episode;
    this.policyRng.setState(p.rng.policy);
    this.shuffleRng.setState(p.rng.shuffle);
  }
}
