/**
 * The traffic env: the driving env (route, car, controller, rewards) with other
 * vehicles. A collision (the ego's box overlapping another's) ends the episode with a
 * penalty; the observation is the driving `z` followed by the K nearest vehicles.
 *
 * @module
 */

import { type EnvConfig, validateEnvConfig } from "../config.ts";
import { Episodes } from "../_episodes.ts";
import { PlanStats } from "../_plan_stats.ts";
import { observationScale } from "../obs_scale.ts";
import { rowPlanErrors } from "../plan_metrics.ts";
import { DRIVING_METRICS, type EpisodeMetric, type VecEnv } from "../vec_env.ts";
import { VEHICLE_STATE_SIZE } from "../vehicle.ts";
import { compileActors, type CompiledActor } from "./actors.ts";
import { DEFAULT_TRAFFIC_CONFIG, type TrafficConfig, validateTrafficConfig } from "./config.ts";
import { generateScenario } from "./generate.ts";
import { TrafficExpertPlanner } from "./planners.ts";
import type { Scenario } from "./scenario.ts";
import { type EgoPose, NEIGHBOR_FEATURES, TrafficWorld } from "./_world.ts";

/**
 * The traffic env's per-episode metrics: the driving ones (ADE/FDE against the traffic
 * expert's plan, or against the route targets when the scenario carries a logged
 * `reference`: its route is the logged path), with `collisions` counted, `route_completion` and the collision rate
 * logged at every evaluation (the SFT planner's too) and kept in the held-out block, and
 * the smallest time-to-collision and gap.
 */
export const TRAFFIC_METRICS: readonly EpisodeMetric[] = Object.freeze([
  DRIVING_METRICS[0],
  DRIVING_METRICS[1],
  {
    name: "route_completion",
    description: "fraction of the route's targets reached or passed, 0..1",
    mean: "route_completion",
    entry: { sft: true },
    label: "route",
  },
  {
    name: "collisions",
    description: "1 if the episode ended in a collision with another vehicle, else 0",
    mean: "collision_rate",
    entry: { sft: true },
    label: "collide",
  },
  ...DRIVING_METRICS.slice(4, 9),
  {
    name: "min_ttc",
    description: "smallest time-to-collision at constant velocities (s, capped at traffic.ttc_cap)",
    mean: "min_ttc_mean",
  },
  {
    name: "min_gap",
    description: "smallest gap between the ego's box and another vehicle's (m, capped at 100)",
    mean: "min_gap_mean",
  },
]);

/** Largest gap the `min_gap` metric reports (m). */
const GAP_CAP = 100;

/** Options of {@linkcode TrafficVecEnv}. */
export interface TrafficEnvOptions {
  /** The traffic knobs (default {@linkcode DEFAULT_TRAFFIC_CONFIG}). */
  traffic?: TrafficConfig;
  /** Scenarios to play: episode seed s plays `scenarios[s mod n]` (default: generated from s). */
  scenarios?: readonly Scenario[];
}

/**
 * N traffic envs; like `DrivingVecEnv`, a finished env restarts in the same step with
 * seed + N. Observation: `[speed, x1, y1, ..., xH, yH]` then K slots of
 * `[x, y, vx, vy, heading, length, width, valid]` (see `TrafficWorld.writeNeighbors`).
 *
 * @example
 * ```ts
 * import { TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * const venv = new TrafficVecEnv(TRAFFIC_ENV_DEFAULTS, 4);
 * venv.reset([0, 1, 2, 3]);
 * venv.obsDim; // 1 + 2 * 4 + 8 * 8
 * ```
 */
export class TrafficVecEnv implements VecEnv {
  readonly numEnvs: number;
  readonly obsDim: number;
  readonly actionDim: number;
  readonly actionShape: readonly number[];
  readonly maxEpisodeSteps: number;
  readonly obsScale: Float64Array;
  readonly metrics: readonly EpisodeMetric[] = TRAFFIC_METRICS;
  readonly episodeMetrics: Float64Array;
  readonly obs: Float64Array;
  readonly finalObs: Float64Array;
  readonly rewards: Float64Array;
  readonly terminated: Uint8Array;
  readonly truncated: Uint8Array;
  readonly success: Uint8Array;
  readonly episodeReturns: Float64Array;
  readonly episodeLengths: Int32Array;
  /** (N) 1 when the ego collided this step. */
  readonly collided: Uint8Array;
  /** (N) seed of each env's current episode. */
  readonly seeds: Float64Array;
  /** The scenario each env plays now. */
  readonly current: Scenario[];
  /** The traffic configuration (validated copy). */
  readonly traffic: Readonly<TrafficConfig>;

  readonly #e: Episodes;
  readonly #world: TrafficWorld;
  readonly #scenarios: readonly Scenario[] | null;
  readonly #compiled: (CompiledActor[] | undefined)[];
  readonly #expert: TrafficExpertPlanner;
  readonly #expertPlans: Float64Array;
  readonly #zDim: number;
  readonly #k: number;
  readonly #ego: EgoPose = { x: 0, y: 0, yaw: 0, speed: 0 };
  readonly #contact = new Float64Array(3);
  readonly #errors = new Float64Array(2);
  // per-env accumulators of the running episode
  readonly #running: Float64Array;
  readonly #stats: PlanStats;
  readonly #minTtc: Float64Array;
  readonly #minGap: Float64Array;
  /** (N) 1 when the env's scenario carries a logged reference. */
  readonly #logged: Uint8Array;
  #started = false;

  /** Validates both configurations and the scenarios' count; allocates every buffer. */
  constructor(cfg: EnvConfig, numEnvs: number, opts: TrafficEnvOptions = {}) {
    validateEnvConfig(cfg);
    const traffic = { ...(opts.traffic ?? DEFAULT_TRAFFIC_CONFIG) };
    validateTrafficConfig(traffic);
    if (opts.scenarios !== undefined && opts.scenarios.length === 0) {
      throw new RangeError("scenarios: expected at least one scenario");
    }
    this.traffic = Object.freeze(traffic);
    const e = new Episodes(cfg, numEnvs);
    this.#e = e;
    this.numEnvs = numEnvs;
    this.#zDim = e.obsDim;
    this.#k = traffic.neighbors;
    this.obsDim = e.obsDim + this.#k * NEIGHBOR_FEATURES;
    this.actionDim = e.actionDim;
    this.actionShape = Object.freeze([e.horizon, 2]);
    this.maxEpisodeSteps = e.cfg.max_episode_steps;
    const scale = new Float64Array(this.obsDim);
    scale.set(observationScale(e.cfg));
    const slot = [16, 4, 8, 2, 1, 4, 2, 1];
    for (let q = 0; q < this.#k; q++) scale.set(slot, e.obsDim + q * NEIGHBOR_FEATURES);
    this.obsScale = scale;
    this.#world = new TrafficWorld(numEnvs, this.#k);
    this.#scenarios = opts.scenarios ? [...opts.scenarios] : null;
    this.#compiled = this.#scenarios ? this.#scenarios.map(() => undefined) : [];
    this.#expert = new TrafficExpertPlanner(e.cfg, traffic);
    this.#expertPlans = new Float64Array(numEnvs * e.actionDim);
    this.episodeMetrics = new Float64Array(numEnvs * TRAFFIC_METRICS.length);
    this.obs = new Float64Array(numEnvs * this.obsDim);
    this.finalObs = new Float64Array(numEnvs * this.obsDim);
    this.rewards = e.rewards;
    this.terminated = e.terminated;
    this.truncated = e.truncated;
    this.success = e.success;
    this.seeds = e.seeds;
    this.collided = new Uint8Array(numEnvs);
    this.current = new Array(numEnvs);
    this.episodeReturns = new Float64Array(numEnvs);
    this.episodeLengths = new Int32Array(numEnvs);
    this.#running = new Float64Array(numEnvs);
    this.#stats = new PlanStats(numEnvs);
    this.#minTtc = new Float64Array(numEnvs);
    this.#minGap = new Float64Array(numEnvs);
    this.#logged = new Uint8Array(numEnvs);
  }

  /** The (validated, frozen) driving configuration. */
  get config(): Readonly<EnvConfig> {
    return this.#e.cfg;
  }

  /** The scenario episode `seed` plays. */
  scenarioOf(seed: number): Scenario {
    const list = this.#scenarios;
    if (list) return list[seed % list.length];
    return generateScenario(seed, { env: this.#e.cfg, traffic: this.traffic });
  }

  reset(seeds: ArrayLike<number>): void {
    if (seeds.length !== this.numEnvs) {
      throw new RangeError(`reset: expected ${this.numEnvs} seeds, got ${seeds.length}`);
    }
    for (let i = 0; i < this.numEnvs; i++) {
      this.#startEpisode(i, seeds[i], this.obs);
      this.#e.clearOutputs(i);
      this.collided[i] = 0;
      this.episodeReturns[i] = 0;
      this.episodeLengths[i] = 0;
    }
    this.finalObs.set(this.obs);
    this.#started = true;
  }

  step(plans: Float64Array): void {
    if (!this.#started) throw new Error("TrafficVecEnv.step: call reset() first");
    const n = this.numEnvs, d = this.obsDim, a = this.actionDim, e = this.#e, cfg = e.cfg;
    if (plans.length !== n * a) {
      throw new RangeError(
        `step: plans must be (${n}, ${a}) = ${n * a} numbers, got ${plans.length}`,
      );
    }
    const obs = this.obs, finalObs = this.finalObs, errors = this.#errors;
    const expert = this.#expertPlans;
    this.#expert.plan(obs, n, expert);
    const ego = this.#ego, contact = this.#contact, tr = this.traffic;
    for (let i = 0; i < n; i++) {
      const row = i * d;
      // a logged reference (the route is the logged path): its targets; else the expert's plan
      if (this.#logged[i] === 1) {
        rowPlanErrors(plans, obs, {
          planAt: i * a,
          expertAt: row + 1,
          horizon: e.horizon,
          out: errors,
        });
      } else {
        rowPlanErrors(plans, expert, {
          planAt: i * a,
          expertAt: i * a,
          horizon: e.horizon,
          out: errors,
        });
      }
      const firstStep = e.stepCount[i] === 0;
      e.stepEnv(i, plans, i * a, finalObs, row);
      const v = i * VEHICLE_STATE_SIZE;
      ego.x = e.vehicle[v];
      ego.y = e.vehicle[v + 1];
      ego.yaw = e.vehicle[v + 2];
      ego.speed = e.vehicle[v + 3];
      this.#world.advance(i, {
        t: e.stepCount[i] * cfg.dt,
        dt: cfg.dt,
        ego,
        egoLength: tr.ego_length,
        egoWidth: tr.ego_width,
      });
      this.#world.contact(i, ego, {
        length: tr.ego_length,
        width: tr.ego_width,
        gapFloor: tr.gap_penalty > 0 ? Math.max(this.#minGap[i], tr.gap_margin) : this.#minGap[i],
        ttcFloor: tr.ttc_penalty > 0 ? Math.max(this.#minTtc[i], tr.ttc_horizon) : this.#minTtc[i],
        out: contact,
      });
      this.collided[i] = contact[0];
      if (contact[1] < tr.gap_margin) {
        e.rewards[i] -= tr.gap_penalty * (1 - contact[1] / tr.gap_margin);
      }
      if (contact[2] < tr.ttc_horizon) {
        e.rewards[i] -= tr.ttc_penalty * (1 - contact[2] / tr.ttc_horizon);
      }
      if (contact[0] === 1) {
        e.rewards[i] -= tr.collision_penalty;
        e.terminated[i] = 1;
        e.truncated[i] = 0;
        e.success[i] = 0;
      }
      this.#world.writeNeighbors(i, ego, { k: this.#k, obs: finalObs, offset: row + this.#zDim });
      this.#accumulate(i, firstStep);
      const ret = this.#running[i] + e.rewards[i];
      if (e.terminated[i] === 1 || e.truncated[i] === 1) {
        this.episodeReturns[i] = ret;
        this.episodeLengths[i] = e.stepCount[i];
        this.#writeMetrics(i);
        this.#startEpisode(i, e.seeds[i] + n, obs);
      } else {
        this.#running[i] = ret;
        for (let j = 0; j < d; j++) obs[row + j] = finalObs[row + j];
      }
    }
  }

  #startEpisode(i: number, seed: number, obs: Float64Array): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed: expected an integer >= 0, got ${seed}`);
    }
    const e = this.#e, cfg = e.cfg;
    const list = this.#scenarios;
    // a seeded scenario is drawn in the env's own route, which then holds it already
    const at = list ? seed % list.length : -1;
    const scenario = list
      ? list[at]
      : generateScenario(seed, { env: cfg, traffic: this.traffic, route: e.routes[i] });
    const replayAll = this.traffic.vehicle_mode === "replay";
    const compile = () =>
      compileActors(scenario, { replayAll, dt: cfg.dt, steps: cfg.max_episode_steps });
    // a listed scenario's actors are compiled once, at its first episode
    const actors: CompiledActor[] = list
      ? this.#compiled[at] ?? (this.#compiled[at] = compile())
      : compile();
    this.current[i] = scenario;
    this.#logged[i] = scenario.reference !== undefined ? 1 : 0;
    if (list) e.routes[i].setPolyline(scenario.route.x, scenario.route.y);
    const row = i * this.obsDim;
    e.startEnv(i, seed, { start: scenario.ego, obs, obsOffset: row });
    this.#world.start(i, actors);
    const ego = this.#ego;
    ego.x = scenario.ego.x;
    ego.y = scenario.ego.y;
    ego.yaw = scenario.ego.yaw;
    ego.speed = scenario.ego.speed;
    this.#world.writeNeighbors(i, ego, { k: this.#k, obs, offset: row + this.#zDim });
    this.#running[i] = 0;
    this.#stats.clear(i);
    this.#minTtc[i] = this.traffic.ttc_cap;
    this.#minGap[i] = GAP_CAP;
  }

  #accumulate(i: number, firstStep: boolean): void {
    const errors = this.#errors, e = this.#e;
    this.#stats.add(i, {
      ade: errors[0],
      fde: errors[1],
      accel: e.accel[i],
      firstStep,
      dt: e.cfg.dt,
    });
    if (this.#contact[1] < this.#minGap[i]) this.#minGap[i] = this.#contact[1];
    if (this.#contact[2] < this.#minTtc[i]) this.#minTtc[i] = this.#contact[2];
  }

  // the metrics of env i's episode that ended this step, in TRAFFIC_METRICS order
  #writeMetrics(i: number): void {
    const e = this.#e, steps = e.stepCount[i];
    const m = this.episodeMetrics, o = i * TRAFFIC_METRICS.length;
    const stats = this.#stats;
    m[o] = stats.ade(i, steps);
    m[o + 1] = stats.fde(i, steps);
    m[o + 2] = e.routeCompletion[i];
    m[o + 3] = this.collided[i];
    m[o + 4] = e.offRoute[i];
    m[o + 5] = 0;
    m[o + 6] = e.distanceToGoal[i];
    m[o + 7] = stats.maxAccel[i];
    m[o + 8] = stats.maxJerk[i];
    m[o + 9] = this.#minTtc[i];
    m[o + 10] = this.#minGap[i];
  }
}
