/**
 * The traffic env: the driving env (route, car, controller, rewards) with other
 * vehicles. A collision (the ego's box overlapping another's) ends the episode with a
 * penalty; the observation is the driving `z` followed by the K nearest vehicles.
 *
 * @module
 */

import { type EnvConfig, validateEnvConfig } from "../driving/config.ts";
import { RouteEnv } from "../driving/_route_env.ts";
import { observationScale } from "../driving/obs_scale.ts";
import { rowPlanErrors } from "../driving/plan_metrics.ts";
import { DRIVING_METRICS } from "../driving/vec_env.ts";
import type { EpisodeMetric } from "../contract.ts";
import type { TopDownView } from "../top_down.ts";
import { VEHICLE_STATE_SIZE } from "../driving/vehicle.ts";
import { compileActors, type CompiledActor } from "./actors.ts";
import { DEFAULT_TRAFFIC_CONFIG, type TrafficConfig, validateTrafficConfig } from "./config.ts";
import { generateScenario } from "./generate.ts";
import { TrafficExpertPlanner } from "./planners.ts";
import type { Scenario } from "./scenario.ts";
import { type EgoPose, NEIGHBOR_FEATURES, TrafficWorld } from "./_world.ts";
import { trafficView } from "./top_down.ts";
import { PATH_FEATURES, pathArcs, projectOnPath } from "./_path_frame.ts";

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
    better: "higher",
    mean: "route_completion",
    headline: { baseline: true },
  },
  {
    name: "collisions",
    description: "1 if the episode ended in a collision with another vehicle, else 0",
    better: "lower",
    mean: "collision_rate",
    headline: { baseline: true },
  },
  ...DRIVING_METRICS.slice(4, 9),
  {
    name: "min_ttc",
    description: "smallest time-to-collision at constant velocities (s, capped at traffic.ttc_cap)",
    unit: "s",
    better: "higher",
    mean: "min_ttc_mean",
  },
  {
    name: "min_gap",
    description: "smallest gap between the ego's box and another vehicle's (m, capped at 100)",
    unit: "m",
    better: "higher",
    mean: "min_gap_mean",
  },
]);

/** Largest gap the `min_gap` metric reports (m). */
const GAP_CAP = 100;

/**
 * Numbers a traffic observation holds beyond the driving `z`: K neighbour slots, and
 * with `path_features` the path block.
 *
 * @example
 * ```ts
 * import { DEFAULT_TRAFFIC_CONFIG } from "./config.ts";
 * trafficExtraObs(DEFAULT_TRAFFIC_CONFIG); // 8 * (8 + 2)
 * ```
 */
export function trafficExtraObs(traffic: TrafficConfig): number {
  return traffic.neighbors * (NEIGHBOR_FEATURES + (traffic.path_features ? PATH_FEATURES : 0));
}

/** Options of {@linkcode TrafficVecEnv}. */
export interface TrafficEnvOptions {
  /** The traffic knobs (default {@linkcode DEFAULT_TRAFFIC_CONFIG}). */
  traffic?: TrafficConfig;
  /** Scenarios to play: episode seed s plays `scenarios[s mod n]` (default: generated from s). */
  scenarios?: readonly Scenario[];
}

/**
 * N traffic envs (the env contract's form). Observation: `[speed, x1, y1, ..., xH, yH]`
 * then K slots of `[x, y, vx, vy, heading, length, width, valid]` (see
 * `TrafficWorld.writeNeighbors`).
 *
 * @example
 * ```ts
 * import { TRAFFIC_ENV_DEFAULTS } from "./config.ts";
 * const env = new Traffic(TRAFFIC_ENV_DEFAULTS, 4);
 * env.reset([0, 1, 2, 3]);
 * env.obsDim; // 1 + 2 * 4 + 8 * 8
 * ```
 */
export class Traffic extends RouteEnv {
  readonly obsScale: Float64Array;
  /** (N) 1 when the ego collided this step. */
  readonly collided: Uint8Array;
  /** The scenario each env plays now. */
  readonly current: Scenario[];
  /** The traffic configuration (validated copy). */
  readonly traffic: Readonly<TrafficConfig>;

  readonly #world: TrafficWorld;
  readonly #scenarios: readonly Scenario[] | null;
  readonly #compiled: (CompiledActor[] | undefined)[];
  readonly #expert: TrafficExpertPlanner;
  readonly #expertPlans: Float64Array;
  readonly #zDim: number;
  readonly #k: number;
  readonly #ego: EgoPose = { x: 0, y: 0, yaw: 0, speed: 0 };
  readonly #contact = new Float64Array(3);
  /** Offset of the path block in a row (-1: none). */
  readonly #pathAt: number;
  readonly #arc: Float64Array;
  readonly #proj = new Float64Array(4);
  // per-env accumulators of the running episode, besides the plan statistics
  readonly #minTtc: Float64Array;
  readonly #minGap: Float64Array;
  /** (N) 1 when the env's scenario carries a logged reference. */
  readonly #logged: Uint8Array;

  /** Validates both configurations and the scenarios' count; allocates every buffer. */
  constructor(cfg: EnvConfig, numEnvs: number, opts: TrafficEnvOptions = {}) {
    validateEnvConfig(cfg);
    const traffic = { ...(opts.traffic ?? DEFAULT_TRAFFIC_CONFIG) };
    validateTrafficConfig(traffic);
    if (opts.scenarios !== undefined && opts.scenarios.length === 0) {
      throw new RangeError("scenarios: expected at least one scenario");
    }
    super(cfg, numEnvs, {
      name: "Traffic",
      metrics: TRAFFIC_METRICS,
      extraObs: trafficExtraObs(traffic),
    });
    this.traffic = Object.freeze(traffic);
    const e = this.episodes;
    this.#zDim = e.obsDim;
    this.#k = traffic.neighbors;
    const scale = new Float64Array(this.obsDim);
    scale.set(observationScale(e.cfg));
    const slot = [16, 4, 8, 2, 1, 4, 2, 1];
    for (let q = 0; q < this.#k; q++) scale.set(slot, e.obsDim + q * NEIGHBOR_FEATURES);
    this.#pathAt = traffic.path_features ? e.obsDim + this.#k * NEIGHBOR_FEATURES : -1;
    for (let q = 0; q < this.#k && this.#pathAt >= 0; q++) {
      scale.set([16, 2], this.#pathAt + q * PATH_FEATURES);
    }
    this.#arc = new Float64Array(e.horizon + 1);
    this.obsScale = scale;
    this.#world = new TrafficWorld(numEnvs, this.#k);
    this.#scenarios = opts.scenarios ? [...opts.scenarios] : null;
    this.#compiled = this.#scenarios ? this.#scenarios.map(() => undefined) : [];
    this.#expert = new TrafficExpertPlanner(e.cfg, traffic);
    this.#expertPlans = new Float64Array(numEnvs * e.actionDim);
    this.collided = new Uint8Array(numEnvs);
    this.current = new Array(numEnvs);
    this.#minTtc = new Float64Array(numEnvs);
    this.#minGap = new Float64Array(numEnvs);
    this.#logged = new Uint8Array(numEnvs);
  }

  /** The scenario episode `seed` plays. */
  scenarioOf(seed: number): Scenario {
    const list = this.#scenarios;
    if (list) return list[seed % list.length];
    return generateScenario(seed, { env: this.episodes.cfg, traffic: this.traffic });
  }

  // the driving view with the other vehicles and collisions
  protected override makeView(): TopDownView {
    const { ego_length: length, ego_width: width } = this.traffic;
    const { episodes, collided } = this;
    return trafficView({ episodes, world: this.#world, collided, ego: { length, width } });
  }

  protected override clearOutputs(i: number): void {
    this.episodes.clearOutputs(i);
    this.collided[i] = 0;
  }

  protected override prepareStep(): void {
    this.#expert.plan(this.obs, this.numEnvs, this.#expertPlans);
  }

  // a logged reference (the route is the logged path): its targets; else the expert's plan
  protected planErrors(i: number, plans: Float64Array, out: Float64Array): void {
    const a = this.actionDim, horizon = this.episodes.horizon;
    if (this.#logged[i] === 1) {
      rowPlanErrors(plans, this.obs, {
        planAt: i * a,
        expertAt: i * this.obsDim + 1,
        horizon,
        out,
      });
    } else {
      rowPlanErrors(plans, this.#expertPlans, { planAt: i * a, expertAt: i * a, horizon, out });
    }
  }

  // the other vehicles move; contact, its penalties and a collision; the neighbours
  protected override finishStep(i: number): void {
    const e = this.episodes, cfg = e.cfg, tr = this.traffic;
    const ego = this.#ego, contact = this.#contact;
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
      e.success[i] = 0;
    }
    const row = i * this.obsDim;
    this.#world.writeNeighbors(i, ego, {
      k: this.#k,
      obs: this.obs,
      offset: row + this.#zDim,
    });
    if (this.#pathAt >= 0) this.#writePath(row);
    if (contact[1] < this.#minGap[i]) this.#minGap[i] = contact[1];
    if (contact[2] < this.#minTtc[i]) this.#minTtc[i] = contact[2];
  }

  protected startEpisode(i: number, seed: number): void {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`seed: expected an integer >= 0, got ${seed}`);
    }
    const e = this.episodes, cfg = e.cfg, obs = this.obs;
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
    if (this.#pathAt >= 0) this.#writePath(row);
    this.#minTtc[i] = this.traffic.ttc_cap;
    this.#minGap[i] = GAP_CAP;
  }

  // the path block of the row at `row`, from its targets and neighbour slots
  #writePath(row: number): void {
    const obs = this.obs, horizon = this.episodes.horizon, arc = this.#arc, out = this.#proj;
    pathArcs(obs, { row, horizon, arc });
    for (let q = 0; q < this.#k; q++) {
      const slot = row + this.#zDim + q * NEIGHBOR_FEATURES,
        at = row + this.#pathAt + q * PATH_FEATURES;
      if (obs[slot + 7] === 0) {
        obs[at] = 0;
        obs[at + 1] = 0;
        continue;
      }
      projectOnPath(obs, { row, horizon, arc, x: obs[slot], y: obs[slot + 1], out });
      obs[at] = out[0];
      obs[at + 1] = out[1];
    }
  }

  /** The kind of env i's scenario ("lead_brake", ..., "log"; "none" when it has none). */
  episodeGroup(i: number): string {
    return this.current[i].kind ?? "none";
  }

  // in TRAFFIC_METRICS order
  writeEpisodeMetrics(i: number, m: Float64Array, o: number): void {
    const e = this.episodes, steps = e.stepCount[i];
    const stats = this.stats;
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
