/**
 * A rollout: N env slots step in lockstep with batched forward passes, each running
 * training episodes into the rollout buffer. Every rollout holds whole episodes only:
 * with no step target one episode per slot; with a target (`steps_per_update`) a slot
 * whose episode ended starts the next training episode while the rollout holds fewer
 * steps than the target, and then the rollout waits for the running episodes to end.
 * Only running episodes step, so no simulated step is thrown away.
 *
 * @module
 */

import type { Pending } from "../event_loop.ts";
import { hashSeeds } from "../math/mod.ts";
import type { Rng } from "../math/mod.ts";
import { type ActorCritic, sampleGaussian } from "../nn/mod.ts";
import { type EpisodeStatistics, HELDOUT_SEED_BASE } from "../env/mod.ts";
import { clippedDeltaNorm, composePlan } from "../sft/mod.ts";
import type { BasePlanner, WaypointPlanner } from "../sft/mod.ts";
import type { RolloutBuffer } from "./rollout_buffer.ts";
import type { RewardScaler } from "./reward_scaler.ts";
import { CorrelatedNoise } from "./correlated_noise.ts";

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

/** Outcomes of a rollout's episodes, in episode order. */
export interface EpisodeOutcomes {
  /** Return of each of the rollout's episodes (unscaled). */
  returns: number[];
  /** Length (steps) of each. */
  lengths: number[];
  /** 1 where it reached the goal, else 0. */
  successes: number[];
}

/** Which episodes a rollout runs. */
export interface RolloutLimits {
  /** Index of its first training episode (the seeds follow from it). */
  firstEpisode: number;
  /** Most episodes it may start (at most N without a step target). */
  maxEpisodes: number;
  /**
   * 0: one episode per slot. Otherwise a slot whose episode ended starts the next one
   * while the rollout holds fewer steps than this.
   */
  targetSteps: number;
}

/** What a {@linkcode RolloutCollector} steps, acts with and writes to. */
export interface RolloutParts {
  /** The N training envs, with their episodes kept. */
  vec: EpisodeStatistics;
  /** The heads; its `obsNorm`, if any, is updated on every batch of observations. */
  model: ActorCritic;
  /** The frozen base planner. */
  planner: BasePlanner | WaypointPlanner;
  /** Draws the sampled deltas. */
  policyRng: Rng;
  /** Where the steps go. */
  buffer: RolloutBuffer;
  /** Scales the rewards the buffer gets (null: as the env gives them). */
  rewardScaler: RewardScaler | null;
  /** The run's seed (episode k plays `trainingEpisodeSeed(seed, k)`). */
  seed: number;
  /** Bound on each delta component. */
  deltaClip: number;
  /**
   * Subtracted from each step's reward (before any scaling) per metre of the sampled,
   * clipped delta's norm (0: none): a residual that costs, kept small where the env's
   * reward does not ask for it. The episode returns reported stay the env's.
   */
  deltaCost?: number;
  /**
   * ρ of the exploration noise's correlation between a slot's consecutive steps
   * ({@linkcode CorrelatedNoise}; 0 or absent: independent draws, `sampleGaussian`).
   */
  noiseCorrelation?: number;
}

/**
 * Runs rollouts into the buffer; holds the per-step arrays, allocated once.
 *
 * @example
 * ```ts ignore
 * const collector = new RolloutCollector(parts);
 * const { episodes, steps } = runToEnd(collector.collect(limits, outcomes));
 * ```
 */
export class RolloutCollector {
  readonly #p: RolloutParts;
  // (N) 1 where the slot's episode is running; seeds its episodes start on; slots to
  // restart; the buffer row of its latest step
  readonly #active: Uint8Array;
  readonly #seeds: Float64Array;
  readonly #restart: Uint8Array;
  readonly #slotEpisode: Int32Array;
  readonly #row: Int32Array;
  // per-step arrays for the N slots: (N, ·)
  readonly #x: Float64Array;
  readonly #mean: Float64Array;
  readonly #value: Float64Array;
  readonly #action: Float64Array;
  readonly #logp: Float64Array;
  readonly #base: Float64Array;
  readonly #plan: Float64Array;
  readonly #finalValue: Float64Array;
  readonly #reward: Float64Array;
  // (N) the sampled clipped delta's norm, and the rewards less its cost (deltaCost)
  readonly #sampledNorm: Float64Array;
  readonly #costed: Float64Array;
  readonly #noise: CorrelatedNoise | null;

  /** Allocates the per-step arrays for `parts.vec`'s N slots. */
  constructor(parts: RolloutParts) {
    this.#p = parts;
    const { numEnvs: n, obsDim: d, actionDim: a } = parts.vec;
    this.#active = new Uint8Array(n);
    this.#seeds = new Float64Array(n);
    this.#restart = new Uint8Array(n);
    this.#slotEpisode = new Int32Array(n);
    this.#row = new Int32Array(n);
    this.#x = new Float64Array(n * d);
    this.#mean = new Float64Array(n * a);
    this.#value = new Float64Array(n);
    this.#action = new Float64Array(n * a);
    this.#logp = new Float64Array(n);
    this.#base = new Float64Array(n * a);
    this.#plan = new Float64Array(n * a);
    this.#finalValue = new Float64Array(n);
    this.#reward = new Float64Array(n);
    this.#sampledNorm = new Float64Array(n);
    this.#costed = new Float64Array(n);
    const rho = parts.noiseCorrelation ?? 0;
    this.#noise = rho > 0 ? new CorrelatedNoise(rho, { numEnvs: n, dim: a }) : null;
  }

  /**
   * One rollout of whole episodes within `limits`, into the buffer (cleared first);
   * fills `out` with the episodes' outcomes and returns how many episodes it ran and
   * their steps. Pauses (yield) after every lockstep step, and yields the env's promise
   * when it answers with one. Changes the policy RNG and the normaliser statistics.
   */
  *collect(
    limits: RolloutLimits,
    out: EpisodeOutcomes,
  ): Generator<Pending, { episodes: number; steps: number }, void> {
    const { vec, buffer: b } = this.#p;
    const n = vec.numEnvs, active = this.#active, seeds = this.#seeds;
    b.clear();
    active.fill(0);
    let started = 0;
    for (let i = 0; i < Math.min(n, limits.maxEpisodes); i++) started = this.#start(i, limits);
    const resetting = vec.reset(seeds, active);
    if (resetting) yield resetting;
    let running = started, steps = 0;
    while (running > 0) {
      steps += this.#act();
      const stepping = vec.step(this.#plan, active);
      if (stepping) yield stepping;
      const ended = this.#record(out);
      running -= ended;
      if (ended > 0 && limits.targetSteps > 0) {
        // the slots whose episode just ended (marked in restart), in slot order
        const restart = this.#restart;
        let restarts = 0;
        for (let i = 0; i < n; i++) {
          if (!restart[i]) continue;
          if (steps < limits.targetSteps && started < limits.maxEpisodes) {
            started = this.#start(i, limits);
            restarts++;
          } else {
            restart[i] = 0;
          }
        }
        running += restarts;
        if (restarts > 0) {
          const restarting = vec.reset(seeds, restart);
          if (restarting) yield restarting;
        }
      }
      this.#restart.fill(0);
      if (running > 0) yield;
    }
    return { episodes: started, steps };
  }

  // Slot i starts the rollout's next episode; returns the episodes started.
  #start(i: number, limits: RolloutLimits): number {
    const k = this.#p.buffer.beginEpisode(i);
    this.#active[i] = 1;
    this.#seeds[i] = trainingEpisodeSeed(this.#p.seed, limits.firstEpisode + k);
    this.#slotEpisode[i] = k;
    this.#noise?.restart(i);
    return k + 1;
  }

  // The policy on every slot's observation (the normaliser's statistics updated first
  // with the running slots' rows), the plans to step, and each running slot's new row;
  // returns the rows added (the running slots).
  #act(): number {
    const { vec, model, planner, policyRng, buffer: b, deltaClip: clip } = this.#p;
    const n = vec.numEnvs, d = vec.obsDim, a = vec.actionDim, active = this.#active;
    const obs = vec.obs;
    model.obsNorm?.update(obs, n, active);
    const x = model.normalizeObs(obs, n, this.#x);
    // every row is computed and drawn for, running or not: the draws of a row do not
    // depend on when the other episodes of the rollout end
    model.act(obs, n, this.#mean, this.#value);
    const logStd = model.delta.view("log_std");
    if (this.#noise) {
      const out = { actions: this.#action, logp: this.#logp };
      this.#noise.sample({ mean: this.#mean, logStd, n, rng: policyRng }, out);
    } else {
      sampleGaussian(this.#mean, logStd, n, policyRng, this.#action, this.#logp);
    }
    planner.plan(obs, n, this.#base);
    composePlan(this.#plan, { sft: this.#base, delta: this.#action, deltaClip: clip });
    let rows = 0;
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      rows++;
      const row = b.appendRow(i);
      this.#row[i] = row;
      b.obs.set(x.subarray(i * d, (i + 1) * d), row * d);
      b.act.set(this.#action.subarray(i * a, (i + 1) * a), row * a);
      b.logp[row] = this.#logp[i];
      b.val[row] = this.#value[i];
      b.deltaNorm[row] = clippedDeltaNorm(this.#mean, { row: i, actDim: a, deltaClip: clip });
      if (this.#p.deltaCost) {
        this.#sampledNorm[i] = clippedDeltaNorm(this.#action, {
          row: i,
          actDim: a,
          deltaClip: clip,
        });
      }
    }
    return rows;
  }

  // The step's outcome into each running slot's row; a slot whose episode ended stops
  // (marked in restart) and its outcomes go to `out`. Returns how many ended.
  #record(out: EpisodeOutcomes): number {
    const { vec, model, buffer: b, rewardScaler } = this.#p;
    const n = vec.numEnvs, t = vec.maxEpisodeSteps, active = this.#active;
    let anyDone = false;
    for (let i = 0; i < n; i++) if (active[i] && vec.done[i]) anyDone = true;
    // the value of each finished episode's last observation (bootstraps a truncation)
    if (anyDone) model.values(vec.finalObs, n, this.#finalValue);
    let rewards = vec.rewards;
    const cost = this.#p.deltaCost ?? 0;
    if (cost > 0) {
      const costed = this.#costed;
      for (let i = 0; i < n; i++) costed[i] = rewards[i] - cost * this.#sampledNorm[i];
      rewards = costed;
    }
    if (rewardScaler) {
      rewardScaler.scale(rewards, { active, done: vec.done, out: this.#reward });
      rewards = this.#reward;
    }
    let ended = 0;
    for (let i = 0; i < n; i++) {
      if (!active[i]) continue;
      const row = this.#row[i];
      b.rew[row] = rewards[i];
      b.term[row] = vec.terminated[i];
      b.trunc[row] = vec.truncated[i];
      if (vec.done[i]) {
        b.nextVal[row] = this.#finalValue[i];
        active[i] = 0;
        this.#restart[i] = 1;
        ended++;
        const k = this.#slotEpisode[i];
        out.returns[k] = vec.episodeReturns[i];
        out.lengths[k] = vec.episodeLengths[i];
        out.successes[k] = vec.success[i];
      } else if (b.episodeLength(i) >= t) {
        throw new Error(`env ${i} ran past max_episode_steps without truncating`);
      }
    }
    return ended;
  }
}
