/**
 * The state machine shared by the single and the vectorised environment: N episodes,
 * each a route and a car, stepped one env at a time over flat typed arrays. Both
 * public forms wrap this, so they agree step for step by construction.
 *
 * @module
 */

import { type EnvConfig, validateEnvConfig } from "./config.ts";
import { trackPlan } from "./controller.ts";
import { Route } from "./route.ts";
import { stepVehicle, VEHICLE_STATE_SIZE } from "./vehicle.ts";

/**
 * N episodes of the driving task and the outputs of their latest step.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./config.ts";
 * const episodes = new Episodes(DEFAULT_ENV_CONFIG, 2);
 * const obs = new Float64Array(2 * episodes.obsDim); // (N, obsDim)
 * for (let i = 0; i < 2; i++) {
 *   episodes.resetEnv(i, 100 + i, obs, i * episodes.obsDim);
 *   episodes.clearOutputs(i);
 * }
 * ```
 */
export class Episodes {
  /** The validated configuration (a frozen copy). */
  readonly cfg: Readonly<EnvConfig>;
  /** N: episodes run side by side. */
  readonly numEnvs: number;
  /** H: targets in an observation, waypoints in a plan. */
  readonly horizon: number;
  /** 1 + 2H. */
  readonly obsDim: number;
  /** 2H. */
  readonly actionDim: number;
  /** (N) route of each env, regenerated in place when its episode starts. */
  readonly routes: Route[];
  /** (N, 4) x, y, heading, speed. */
  readonly vehicle: Float64Array;
  /** (N) seed of each env's current episode. */
  readonly seeds: Float64Array;
  /** (N) steps taken in the current episode. */
  readonly stepCount: Int32Array;
  /** (N) index of the next target (targets before it were reached or passed). */
  readonly nextTarget: Int32Array;
  /** (N) targets reached within the radius this episode. */
  readonly reachedCount: Int32Array;
  /** (N) route segment closest to the car, the hint for the next projection. */
  readonly projIndex: Int32Array;

  // Outputs of the latest step (or reset), one per env.
  /** (N) reward of the latest step. */
  readonly rewards: Float64Array;
  /** (N) 1 when the latest step reached the goal or left the corridor or the world. */
  readonly terminated: Uint8Array;
  /** (N) 1 when the latest step hit `max_episode_steps` without terminating. */
  readonly truncated: Uint8Array;
  /** (N) 1 when the latest step reached the goal. */
  readonly success: Uint8Array;
  /** (N) 1 when the latest step left the corridor or the world. */
  readonly offRoute: Uint8Array;
  /** (N) targets reached within the radius so far this episode. */
  readonly targetsReached: Int32Array;
  /** (N) fraction of the route's targets reached or passed, 0..1. */
  readonly routeCompletion: Float64Array;
  /** (N) straight-line distance from the car to the goal, the route's last target (m). */
  readonly distanceToGoal: Float64Array;
  /** (N) car speed after the step (m/s). */
  readonly speed: Float64Array;
  /** (N) longitudinal acceleration applied this step (m/s^2). */
  readonly accel: Float64Array;

  readonly #command = new Float64Array(2);
  readonly #start = { x: 0, y: 0, yaw: 0, speed: 0 };
  /** Route segments searched on each side of the last closest one. */
  readonly #window: number;

  /**
   * Validates `cfg` (a `RangeError` names the key at fault) and allocates every array
   * once; call {@linkcode Episodes.resetEnv} on each env next.
   */
  constructor(cfg: EnvConfig, numEnvs: number) {
    validateEnvConfig(cfg);
    if (!Number.isInteger(numEnvs) || numEnvs < 1) {
      throw new RangeError(`numEnvs: expected a positive integer, got ${numEnvs}`);
    }
    this.cfg = Object.freeze({ ...cfg });
    this.numEnvs = numEnvs;
    this.horizon = cfg.horizon_steps;
    this.obsDim = 1 + 2 * cfg.horizon_steps;
    this.actionDim = 2 * cfg.horizon_steps;
    this.routes = [];
    for (let i = 0; i < numEnvs; i++) this.routes.push(new Route(this.cfg));
    // The closest point moves faster than the car on the inside of a curve: twice the
    // farthest step, plus slack.
    this.#window = Math.ceil(2 * cfg.max_speed * cfg.dt / this.routes[0].resolution) + 2;
    this.vehicle = new Float64Array(numEnvs * VEHICLE_STATE_SIZE);
    this.seeds = new Float64Array(numEnvs);
    this.stepCount = new Int32Array(numEnvs);
    this.nextTarget = new Int32Array(numEnvs);
    this.reachedCount = new Int32Array(numEnvs);
    this.projIndex = new Int32Array(numEnvs);
    this.rewards = new Float64Array(numEnvs);
    this.terminated = new Uint8Array(numEnvs);
    this.truncated = new Uint8Array(numEnvs);
    this.success = new Uint8Array(numEnvs);
    this.offRoute = new Uint8Array(numEnvs);
    this.targetsReached = new Int32Array(numEnvs);
    this.routeCompletion = new Float64Array(numEnvs);
    this.distanceToGoal = new Float64Array(numEnvs);
    this.speed = new Float64Array(numEnvs);
    this.accel = new Float64Array(numEnvs);
  }

  /**
   * Starts env `i`'s episode `seed` and writes its first observation to
   * `obs[obsOffset ..]`. The step outputs at `i` are left alone (an auto-reset keeps
   * the finished episode's); {@linkcode Episodes.clearOutputs} resets them.
   */
  resetEnv(i: number, seed: number, obs: Float64Array, obsOffset: number): void {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected an integer, got ${seed}`);
    const route = this.routes[i];
    route.generate(seed);
    const start = this.#start;
    start.x = route.xs[0];
    start.y = route.ys[0];
    start.yaw = route.startHeading;
    start.speed = this.cfg.init_speed;
    this.startEnv(i, seed, { start, obs, obsOffset });
  }

  /**
   * Starts env `i`'s episode `seed` on the route `routes[i]` already holds (set by the
   * caller, e.g. with `Route.setPolyline`), with the car at `opts.start`, and writes its
   * first observation to `opts.obs[opts.obsOffset ..]`. Step outputs are left alone, as
   * by {@linkcode Episodes.resetEnv}.
   */
  startEnv(
    i: number,
    seed: number,
    opts: {
      start: { x: number; y: number; yaw: number; speed: number };
      obs: Float64Array;
      obsOffset: number;
    },
  ): void {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected an integer, got ${seed}`);
    const { start, obs, obsOffset } = opts;
    const v = i * VEHICLE_STATE_SIZE;
    this.vehicle[v] = start.x;
    this.vehicle[v + 1] = start.y;
    this.vehicle[v + 2] = start.yaw;
    this.vehicle[v + 3] = start.speed;
    this.seeds[i] = seed;
    this.stepCount[i] = 0;
    this.nextTarget[i] = 0;
    this.reachedCount[i] = 0;
    this.projIndex[i] = 0;
    this.writeObs(i, obs, obsOffset);
  }

  /** Sets env `i`'s step outputs to those of a fresh episode (after {@linkcode Episodes.resetEnv}). */
  clearOutputs(i: number): void {
    this.rewards[i] = 0;
    this.terminated[i] = 0;
    this.truncated[i] = 0;
    this.success[i] = 0;
    this.offRoute[i] = 0;
    this.targetsReached[i] = 0;
    this.routeCompletion[i] = 0;
    const route = this.routes[i], v = i * VEHICLE_STATE_SIZE, goal = route.numTargets - 1;
    const gx = this.vehicle[v] - route.targetX(goal),
      gy = this.vehicle[v + 1] - route.targetY(goal);
    this.distanceToGoal[i] = Math.sqrt(gx * gx + gy * gy);
    this.speed[i] = this.vehicle[i * VEHICLE_STATE_SIZE + 3];
    this.accel[i] = 0;
  }

  /**
   * Drives env `i` one step along the final plan `plans[planOffset .. + 2H)` (car
   * frame) and writes the next observation to `obs[obsOffset ..]`; the step's reward
   * and flags land in the output arrays at `i`.
   */
  stepEnv(
    i: number,
    plans: Float64Array,
    planOffset: number,
    obs: Float64Array,
    obsOffset: number,
  ): void {
    const cfg = this.cfg;
    const route = this.routes[i];
    const vehicle = this.vehicle;
    const v = i * VEHICLE_STATE_SIZE;
    const command = this.#command;
    if (!trackPlan(plans, planOffset, this.horizon, vehicle[v + 3], cfg, command)) {
      throw new RangeError(`plan of env ${i} holds a non-finite value`);
    }
    const accel = stepVehicle(vehicle, v, command[0], command[1], cfg);
    const x = vehicle[v], y = vehicle[v + 1];
    const steps = ++this.stepCount[i];

    const distanceToRoute = route.project(x, y, this.projIndex[i], this.#window);
    this.projIndex[i] = route.projIndex;
    const carS = route.projS;

    let reward = -cfg.time_weight;
    const numTargets = route.numTargets;
    const goal = numTargets - 1;
    const radius2 = cfg.target_reach_radius * cfg.target_reach_radius;
    let k = this.nextTarget[i];
    while (k < numTargets) {
      const dx = x - route.targetX(k), dy = y - route.targetY(k);
      if (dx * dx + dy * dy <= radius2) {
        reward += cfg.progress_weight;
        this.reachedCount[i]++;
        k++;
      } else if (k < goal && carS > route.targetS(k)) {
        k++; // passed without reaching it: no reward, and the obs moves on
      } else {
        break;
      }
    }
    this.nextTarget[i] = k;

    let terminated = 0, success = 0, offRoute = 0;
    if (k === numTargets) {
      reward += cfg.goal_weight;
      terminated = 1;
      success = 1;
    } else {
      const world = cfg.world_size;
      const outside = route.inWorld && (x < 0 || y < 0 || x > world || y > world);
      if (distanceToRoute > cfg.corridor_half_width || outside) {
        reward -= cfg.offroute_penalty;
        terminated = 1;
        offRoute = 1;
      }
      const dx = x - route.targetX(k), dy = y - route.targetY(k);
      reward -= cfg.distance_weight * Math.sqrt(dx * dx + dy * dy);
    }

    this.rewards[i] = reward;
    this.terminated[i] = terminated;
    this.truncated[i] = terminated === 0 && steps >= cfg.max_episode_steps ? 1 : 0;
    this.success[i] = success;
    this.offRoute[i] = offRoute;
    this.targetsReached[i] = this.reachedCount[i];
    this.routeCompletion[i] = k / numTargets;
    const gx = x - route.targetX(goal), gy = y - route.targetY(goal);
    this.distanceToGoal[i] = Math.sqrt(gx * gx + gy * gy);
    this.speed[i] = vehicle[v + 3];
    this.accel[i] = accel;
    this.writeObs(i, obs, obsOffset);
  }

  /**
   * Writes env `i`'s observation [speed, x1, y1, ..., xH, yH] to `obs[offset ..]`: the
   * next H targets in the car frame (x forward, y left), the goal repeated past the end.
   */
  writeObs(i: number, obs: Float64Array, offset: number): void {
    const route = this.routes[i];
    const vehicle = this.vehicle;
    const v = i * VEHICLE_STATE_SIZE;
    const x = vehicle[v], y = vehicle[v + 1];
    const c = Math.cos(vehicle[v + 2]), s = Math.sin(vehicle[v + 2]);
    const goal = route.numTargets - 1;
    const k = this.nextTarget[i];
    obs[offset] = vehicle[v + 3];
    for (let j = 0; j < this.horizon; j++) {
      const t = k + j < goal ? k + j : goal;
      const dx = route.targetX(t) - x, dy = route.targetY(t) - y;
      obs[offset + 1 + 2 * j] = c * dx + s * dy;
      obs[offset + 2 + 2 * j] = c * dy - s * dx;
    }
  }
}
