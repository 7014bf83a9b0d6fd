/**
 * Behaviour cloning of the {@linkcode MlpPlanner} from the expert: roll the expert out
 * with noise on the plan it drives (so states off the route's centre line are seen too),
 * record (z, expert plan) pairs, fit the MLP with MSE and Adam, and measure the result
 * closed loop on held-out seeds (ADE/FDE against the expert, success, return).
 *
 * Everything is a function of the seed: same seed and options, same demonstrations,
 * same weights, same numbers.
 *
 * @module
 */

import { UserError } from "../errors.ts";
import { hashSeeds, Rng } from "../math/mod.ts";
import { Adam } from "../nn/mod.ts";
import { EpisodeStatistics, HELDOUT_SEED_BASE } from "../env/mod.ts";
import type { BasePlanner, VecEnv } from "../env/mod.ts";
import { type MlpPlanner, MlpPlannerCache } from "./mlp_planner.ts";
import { type WaypointPlanner } from "./planner.ts";
import { DEFAULT_SFT_CONFIG } from "./config.ts";

/** Options of {@linkcode collectDemonstrations}. */
export interface DemonstrationOptions {
  /** Episodes to drive. */
  episodes: number;
  /** Fixes the episode seeds and the noise. */
  seed: number;
  /** Standard deviation of the lateral offset on the driven plan (m). Default 0.8. */
  noiseStd?: number;
  /** Envs stepped together. Default min(episodes, 16). */
  numEnvs?: number;
}

/** (obs, expert plan) pairs recorded along perturbed expert rollouts. */
export interface Demonstrations {
  /** Number of examples (env steps recorded). */
  count: number;
  /** Length of an observation row (1 + 2H). */
  obsDim: number;
  /** H. */
  horizon: number;
  /** (count, obsDim) observations z. */
  obs: Float64Array;
  /** (count, 2H) the expert's plan for each observation. */
  expert: Float64Array;
  /** Episodes driven. */
  episodes: number;
  /** Seed of the first episode; the others follow consecutively. */
  firstSeed: number;
  /** Fraction of the demonstration episodes that reached the goal despite the noise. */
  successRate: number;
}

/** Shortest and longest stretch (steps) over which one lateral offset is held. */
const SEGMENT_MIN_STEPS = 5, SEGMENT_MAX_STEPS = 20;

/** Where demonstrations come from: N envs of waypoint plans (x, y per waypoint), the expert. */
export type DemonstrationSource = { makeEnv(numEnvs: number): VecEnv; expert: BasePlanner };

/**
 * Drives the expert on `episodes` seeded routes and records every (z, expert(z)) pair.
 * The plan the car follows is the expert's shifted sideways by an offset drawn from
 * N(0, noiseStd²) and held for 5-20 steps, then redrawn: the car settles beside the
 * route, so the data covers the off-centre states a cloned planner drifts into, while
 * the label is always the expert's plan for the state actually seen (DART-style noise
 * injection). Episode seeds are a consecutive block below 2^30 chosen by `seed`.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG as cfg, Driving, ExpertPlanner } from "../env/mod.ts";
 * const source = { makeEnv: (n: number) => new Driving(cfg, n), expert: new ExpertPlanner(cfg) };
 * const demos = collectDemonstrations(source, { episodes: 20, seed: 42 });
 * demos.obs.length === demos.count * 41; // true
 * ```
 */
export function collectDemonstrations(
  source: DemonstrationSource,
  opts: DemonstrationOptions,
): Demonstrations {
  const { episodes, seed } = opts;
  const noiseStd = opts.noiseStd ?? DEFAULT_SFT_CONFIG.noise_std;
  if (!Number.isSafeInteger(episodes) || episodes < 1 || episodes >= HELDOUT_SEED_BASE / 2) {
    throw new RangeError(`episodes: expected a positive integer below 2^29, got ${episodes}`);
  }
  if (!(Number.isFinite(noiseStd) && noiseStd >= 0)) {
    throw new RangeError(`noiseStd: expected a number >= 0, got ${noiseStd}`);
  }
  const numEnvs = Math.min(opts.numEnvs ?? 16, episodes);
  const venv = new EpisodeStatistics(source.makeEnv(numEnvs), { autoReset: true });
  const expert = source.expert;
  const d = venv.obsDim, a = venv.actionDim;
  const firstSeed = hashSeeds(seed, 0xde30) % (HELDOUT_SEED_BASE - episodes);
  const lastSeed = firstSeed + episodes;
  const rng = new Rng(hashSeeds(seed, 0xde30, 1));

  const offset = new Float64Array(numEnvs);
  const stepsLeft = new Int32Array(numEnvs);
  const drawSegment = (i: number) => {
    offset[i] = noiseStd * rng.normal();
    stepsLeft[i] = SEGMENT_MIN_STEPS + rng.int(SEGMENT_MAX_STEPS - SEGMENT_MIN_STEPS + 1);
  };
  const seeds = new Float64Array(numEnvs);
  for (let i = 0; i < numEnvs; i++) {
    seeds[i] = firstSeed + i;
    drawSegment(i);
  }
  venv.reset(seeds);

  let capacity = Math.min(episodes * venv.maxEpisodeSteps, 1 << 14);
  let obsRows: Float64Array = new Float64Array(capacity * d);
  let expertRows: Float64Array = new Float64Array(capacity * a);
  const expertPlans = new Float64Array(numEnvs * a);
  const driven = new Float64Array(numEnvs * a);
  let count = 0, done = 0, successes = 0;
  while (done < episodes) {
    expert.plan(venv.obs, numEnvs, expertPlans);
    for (let i = 0; i < numEnvs; i++) {
      seeds[i] = venv.seeds[i];
      const p = i * a;
      for (let j = 0; j < a; j += 2) {
        driven[p + j] = expertPlans[p + j];
        driven[p + j + 1] = expertPlans[p + j + 1] + offset[i];
      }
      if (seeds[i] >= lastSeed) continue; // past this env's share: drive on, record nothing
      if (count === capacity) {
        capacity *= 2;
        obsRows = grow(obsRows, capacity * d);
        expertRows = grow(expertRows, capacity * a);
      }
      obsRows.set(venv.obs.subarray(i * d, (i + 1) * d), count * d);
      expertRows.set(expertPlans.subarray(p, p + a), count * a);
      count++;
    }
    venv.step(driven);
    for (let i = 0; i < numEnvs; i++) {
      const ended = venv.terminated[i] === 1 || venv.truncated[i] === 1;
      if (ended || --stepsLeft[i] <= 0) drawSegment(i);
      if (ended && seeds[i] < lastSeed) {
        done++;
        successes += venv.success[i];
      }
    }
  }
  return {
    count,
    obsDim: d,
    horizon: a / 2,
    obs: obsRows.slice(0, count * d),
    expert: expertRows.slice(0, count * a),
    episodes,
    firstSeed,
    successRate: successes / episodes,
  };
}

function grow(a: Float64Array, size: number): Float64Array {
  const b = new Float64Array(size);
  b.set(a);
  return b;
}

/** Options of {@linkcode trainBehaviourCloning}. */
export interface BehaviourCloningOptions {
  /** Passes over the demonstrations. */
  epochs: number;
  /** Adam learning rate. */
  lr: number;
  /** Examples per optimizer step (the last step of an epoch may have fewer). */
  batchSize: number;
  /** Fixes the minibatch order. */
  seed: number;
  /**
   * L2 penalty added to the gradient (torch Adam's `weight_decay`), on the weights being
   * trained (in standardized units when standardizing). Default 0.
   */
  weightDecay?: number;
  /**
   * Learning-rate schedule: "linear" decays it from `lr` to 0 over the run (the final
   * weights are then not a noisy late Adam iterate), "constant" keeps it. Default "linear".
   */
  schedule?: "linear" | "constant";
  /**
   * Train a fresh planner in standardized units (default true), as one would in PyTorch
   * with fixed normalisation layers around the MLP: inputs and outputs are shifted and
   * scaled by their demonstration mean and std, the planner's current weights (torch's
   * default init) are taken as the weights of that standardized network, and at the end
   * the normalisation is folded into `0.*` and `2.*`, so the result is the same plain
   * MLP on raw z. Raw inputs reach 80 m; trained on them, Adam's fixed-size steps kill
   * ReLU units and the outcome depends much more on the seed. Pass false to fine-tune a
   * trained planner as it is.
   */
  standardize?: boolean;
  /** Called after every epoch with its number (1-based) and mean loss. */
  onEpoch?: (epoch: number, loss: number) => void;
}

/** What {@linkcode trainBehaviourCloning} did. */
export interface BehaviourCloningResult {
  /** Mean MSE of each epoch (over its examples, as the weights moved). */
  lossHistory: number[];
  /** Optimizer steps taken. */
  numSteps: number;
}

/**
 * Fits `planner` to the expert labels of `demos` in place: MSE over all 2H coordinates
 * in meters (torch's `MSELoss`, mean over rows and coordinates), Adam (torch's, float32
 * state), minibatches of shuffled examples with a fresh shuffle every epoch, the learning
 * rate decayed linearly to 0, in standardized units (see
 * {@linkcode BehaviourCloningOptions.standardize}). The final weights are float32 values.
 * Throws a {@linkcode UserError} if the loss stops being finite.
 *
 * @example
 * ```ts ignore
 * const planner = new MlpPlanner({ inDim: 41, hidden: 8, horizon: 20, rng: new Rng(42) });
 * const { lossHistory } = trainBehaviourCloning(planner, demos, {
 *   epochs: 10, lr: 3e-3, batchSize: 64, seed: 42,
 * });
 * ```
 */
export function trainBehaviourCloning(
  planner: MlpPlanner,
  demos: Demonstrations,
  opts: BehaviourCloningOptions,
): BehaviourCloningResult {
  const { epochs, lr, batchSize } = opts;
  if (demos.obsDim !== planner.obsDim || demos.horizon !== planner.horizon) {
    throw new RangeError(
      `trainBehaviourCloning: demonstrations are (obs ${demos.obsDim}, H ${demos.horizon}), planner (obs ${planner.obsDim}, H ${planner.horizon})`,
    );
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize: expected a positive integer, got ${batchSize}`);
  }
  const n = demos.count, d = demos.obsDim, a = 2 * demos.horizon;
  if (n === 0) throw new RangeError("trainBehaviourCloning: no demonstrations");
  const standardize = opts.standardize ?? true;
  const inStats = standardize ? columnStats(demos.obs, n, d) : identityStats(d);
  const outStats = standardize ? columnStats(demos.expert, n, a) : identityStats(a);
  const obs = standardized(demos.obs, n, inStats);
  const expert = standardized(demos.expert, n, outStats);
  // The raw-unit MSE in standardized outputs: each coordinate weighs its variance.
  const weight = new Float64Array(a);
  for (let o = 0; o < a; o++) weight[o] = outStats.std[o] * outStats.std[o];

  const adam = new Adam([planner.params], {
    lr,
    weightDecay: opts.weightDecay ?? 0,
    float32: true,
  });
  const rng = new Rng(hashSeeds(opts.seed, 0xbc));
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const rows = Math.min(batchSize, n);
  const cache = new MlpPlannerCache(planner, rows);
  const batchObs = new Float64Array(rows * d);
  const batchExpert = new Float64Array(rows * a);
  const lossHistory: number[] = [];
  const totalSteps = epochs * Math.ceil(n / rows);
  const linear = (opts.schedule ?? "linear") === "linear";
  let numSteps = 0;
  try {
    for (let epoch = 1; epoch <= epochs; epoch++) {
      rng.shuffle(order);
      let sumSquares = 0;
      for (let start = 0; start < n; start += rows) {
        const b = Math.min(rows, n - start);
        for (let r = 0; r < b; r++) {
          const k = order[start + r];
          batchObs.set(obs.subarray(k * d, (k + 1) * d), r * d);
          batchExpert.set(expert.subarray(k * a, (k + 1) * a), r * a);
        }
        planner.forward(batchObs, b, cache); // (b, in) -> (b, 2H), standardized units
        // loss = (1 / (b·2H)) Σ w_o (out − expert)², so ∂loss/∂out = 2 w_o (out − expert) / (b·2H)
        const scale = 2 / (b * a);
        let batchSquares = 0;
        for (let r = 0; r < b; r++) {
          const p = r * a;
          for (let o = 0; o < a; o++) {
            const diff = cache.out[p + o] - batchExpert[p + o];
            const weighted = weight[o] * diff;
            batchSquares += weighted * diff;
            cache.dOut[p + o] = scale * weighted;
          }
        }
        sumSquares += batchSquares;
        planner.params.zeroGrad();
        planner.backward(batchObs, b, cache);
        if (linear) adam.lr = lr * (1 - numSteps / totalSteps);
        adam.step();
        numSteps++;
      }
      const loss = sumSquares / (n * a);
      if (!Number.isFinite(loss)) {
        throw new UserError(
          `behaviour cloning diverged at epoch ${epoch} (loss ${loss}); lower --lr (now ${lr})`,
        );
      }
      lossHistory.push(loss);
      opts.onEpoch?.(epoch, loss);
    }
  } finally {
    fromStandardSpace(planner, inStats, outStats);
  }
  return { lossHistory, numSteps };
}

/** Per-column mean and standard deviation of an (n, width) array. */
interface ColumnStats {
  mean: Float64Array;
  std: Float64Array;
}

function identityStats(width: number): ColumnStats {
  return { mean: new Float64Array(width), std: new Float64Array(width).fill(1) };
}

/** Column means and standard deviations; a (nearly) constant column gets std 1. */
function columnStats(x: Float64Array, n: number, width: number): ColumnStats {
  const { mean, std } = identityStats(width);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < width; j++) mean[j] += x[r * width + j];
  }
  for (let j = 0; j < width; j++) mean[j] /= n;
  const sq = new Float64Array(width);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < width; j++) {
      const dev = x[r * width + j] - mean[j];
      sq[j] += dev * dev;
    }
  }
  for (let j = 0; j < width; j++) {
    const s = Math.sqrt(sq[j] / n);
    std[j] = s > 1e-6 ? s : 1;
  }
  return { mean, std };
}

function standardized(x: Float64Array, n: number, stats: ColumnStats): Float64Array {
  const width = stats.mean.length;
  const out = new Float64Array(n * width);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < width; j++) {
      out[r * width + j] = (x[r * width + j] - stats.mean[j]) / stats.std[j];
    }
  }
  return out;
}

/** Inverse of {@linkcode toStandardSpace}, rounded to float32 as the checkpoint holds it. */
function fromStandardSpace(planner: MlpPlanner, inStats: ColumnStats, outStats: ColumnStats): void {
  const { w0, b0, w2, b2, d, h, a } = layerViews(planner);
  for (let k = 0; k < h; k++) {
    let shift = 0;
    for (let j = 0; j < d; j++) {
      const w = w0[k * d + j] / inStats.std[j];
      shift += w * inStats.mean[j];
      w0[k * d + j] = Math.fround(w);
    }
    b0[k] = Math.fround(b0[k] - shift);
  }
  for (let o = 0; o < a; o++) {
    for (let k = 0; k < h; k++) w2[o * h + k] = Math.fround(w2[o * h + k] * outStats.std[o]);
    b2[o] = Math.fround(b2[o] * outStats.std[o] + outStats.mean[o]);
  }
}

function layerViews(planner: MlpPlanner) {
  const p = planner.params;
  return {
    w0: p.view("0.weight"),
    b0: p.view("0.bias"),
    w2: p.view("2.weight"),
    b2: p.view("2.bias"),
    d: planner.obsDim,
    h: planner.hidden,
    a: 2 * planner.horizon,
  };
}

/**
 * Mean squared error of `planner` on `demos` (same definition as the training loss),
 * without changing it.
 *
 * @example
 * ```ts ignore
 * const before = demonstrationLoss(planner, demos);
 * ```
 */
export function demonstrationLoss(planner: WaypointPlanner, demos: Demonstrations): number {
  const a = 2 * demos.horizon;
  const plans = new Float64Array(demos.count * a);
  planner.plan(demos.obs, demos.count, plans);
  let sum = 0;
  for (let j = 0; j < plans.length; j++) {
    const diff = plans[j] - demos.expert[j];
    sum += diff * diff;
  }
  return sum / Math.max(1, plans.length);
}
