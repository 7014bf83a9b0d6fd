/**
 * Configuration of the toy driving environment: one flat object of numbers with
 * its defaults in one place, written whole to `config.json` under `env`.
 *
 * Units: meters, seconds, radians. The first eight keys are the Python trainer's
 * (same names); the rest shape the vehicle, the controller and the routes.
 *
 * @module
 */

import { type ConfigTable, tableDefaults, validateTable } from "../../config_table.ts";

/**
 * Every knob of the driving environment (all numbers, snake_case as in `config.json`).
 *
 * @example
 * ```ts
 * const cfg: EnvConfig = { ...DEFAULT_ENV_CONFIG, corridor_half_width: 2.5 };
 * validateEnvConfig(cfg);
 * ```
 */
export interface EnvConfig {
  /** Side of the square world [0, world_size]^2 the route lies in (m). */
  world_size: number;
  /** H: number of route waypoints in the observation and in the plan. */
  horizon_steps: number;
  /** Distance along the route between consecutive targets (m). */
  waypoint_spacing: number;
  /** Steps after which an episode is truncated. */
  max_episode_steps: number;
  /** The next target counts as reached when the car is this close (m). */
  target_reach_radius: number;
  /** Reward per target reached. */
  progress_weight: number;
  /** Reward subtracted every step. */
  time_weight: number;
  /** Reward for reaching the last target (the goal). */
  goal_weight: number;
  /** Reward subtracted per step per meter of distance to the next target. */
  distance_weight: number;
  /** Reward subtracted when the car leaves the corridor or the world. */
  offroute_penalty: number;
  /** Route length before rounding to whole waypoint spacings (m). */
  route_length: number;
  /** Tightest arc radius of a route (m). */
  min_turn_radius: number;
  /** Widest arc radius of a route (m). */
  max_turn_radius: number;
  /** The episode ends off-route when the car is farther than this from the route (m). */
  corridor_half_width: number;
  /** Integration time step (s). */
  dt: number;
  /** Kinematic bicycle wheelbase (m). */
  wheelbase: number;
  /** Steering angle bound (rad). */
  max_steer: number;
  /** Throttle bound (m/s^2). */
  max_accel: number;
  /** Brake bound (m/s^2, positive). */
  max_decel: number;
  /** Speed bound (m/s). */
  max_speed: number;
  /** Speed the controller aims for on straight plans (m/s). */
  cruise_speed: number;
  /** Speed at the start of an episode (m/s). */
  init_speed: number;
  /** The controller slows so that speed^2 * plan curvature stays below this (m/s^2). */
  max_lateral_accel: number;
  /** Pure-pursuit lookahead at standstill (m). */
  lookahead_base: number;
  /** Pure-pursuit lookahead added per m/s of speed (s). */
  lookahead_gain: number;
  /** Proportional gain of the speed loop (1/s). */
  speed_gain: number;
}

/**
 * One row per key (type, range, default, help, flag): the defaults, `validateEnvConfig`
 * (flags, `--config` files, checkpoints) and the commands' environment flags and
 * `--help` lines read it. Reward weights and the initial speed may be zero; every other
 * length, time and gain must be > 0.
 *
 * The defaults are tuned so that the residual matters: the expert plan succeeds on
 * nearly every route within 100 steps while the built-in SFT planner leaves the
 * corridor on many curves (see `bench/env_report.ts`).
 */
export const ENV_CONFIG_TABLE: ConfigTable<EnvConfig> = {
  world_size: {
    type: "float",
    range: [1, 1e6],
    default: 100,
    help: "side of the square world, m",
    flag: "world-size",
  },
  horizon_steps: {
    type: "int",
    range: [1, 1000],
    default: 20,
    help: "waypoints per plan (H)",
    flag: "horizon-steps",
  },
  waypoint_spacing: {
    type: "float",
    range: [0, 1e6],
    exclusiveMin: true,
    default: 4,
    help: "meters between route waypoints",
    flag: "waypoint-spacing",
  },
  max_episode_steps: {
    type: "int",
    range: [1, 1e6],
    default: 100,
    help: "steps before an episode is truncated",
    flag: "max-episode-steps",
  },
  target_reach_radius: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 1.5,
    help: "a target counts as reached this close, m",
  },
  progress_weight: {
    type: "float",
    range: [0, Infinity],
    default: 1,
    help: "reward per target reached",
  },
  time_weight: {
    type: "float",
    range: [0, Infinity],
    default: 0.05,
    help: "reward subtracted every step",
  },
  goal_weight: {
    type: "float",
    range: [0, Infinity],
    default: 10,
    help: "reward for reaching the goal",
  },
  distance_weight: {
    type: "float",
    range: [0, Infinity],
    default: 0.01,
    help: "reward subtracted per step per m to the next target",
  },
  offroute_penalty: {
    type: "float",
    range: [0, Infinity],
    default: 10,
    help: "reward subtracted on leaving the corridor or the world",
  },
  route_length: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 100,
    help: "route length before rounding to whole spacings, m",
  },
  min_turn_radius: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 10,
    help: "tightest arc radius of a route, m",
  },
  max_turn_radius: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 40,
    help: "widest arc radius of a route, m",
  },
  corridor_half_width: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 3,
    help: "off-route beyond this distance from the route, m",
  },
  dt: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 0.2,
    help: "integration time step, s",
  },
  wheelbase: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 2.7,
    help: "kinematic bicycle wheelbase, m",
  },
  max_steer: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 0.6,
    help: "steering angle bound, rad (below pi/2)",
  },
  max_accel: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 3,
    help: "throttle bound, m/s^2",
  },
  max_decel: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 6,
    help: "brake bound, m/s^2",
  },
  max_speed: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 15,
    help: "speed bound, m/s",
  },
  cruise_speed: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 8,
    help: "speed aimed for on straight plans, m/s",
  },
  init_speed: {
    type: "float",
    range: [0, Infinity],
    default: 4,
    help: "speed at the start of an episode, m/s",
  },
  max_lateral_accel: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 4,
    help: "speed^2 * plan curvature bound, m/s^2",
  },
  lookahead_base: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 2.5,
    help: "pure-pursuit lookahead at standstill, m",
  },
  lookahead_gain: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 0.4,
    help: "pure-pursuit lookahead per m/s of speed, s",
  },
  speed_gain: {
    type: "float",
    range: [0, Infinity],
    exclusiveMin: true,
    default: 1.5,
    help: "proportional gain of the speed loop, 1/s",
  },
};

/**
 * The defaults of {@linkcode ENV_CONFIG_TABLE}.
 *
 * @example
 * ```ts
 * const cfg: EnvConfig = { ...DEFAULT_ENV_CONFIG, horizon_steps: 5 };
 * ```
 */
export const DEFAULT_ENV_CONFIG: Readonly<EnvConfig> = Object.freeze(
  tableDefaults(ENV_CONFIG_TABLE),
);

/** Most points of one route: 100,000 (100 km at 1 m; three Float64Arrays per env, 2.4 MB). */
export const MAX_ROUTE_POINTS = 100_000;

/**
 * Points of the longest route `cfg` allows, as the env allocates them: one per metre,
 * or per `waypoint_spacing` when that is shorter.
 *
 * @example
 * ```ts
 * routePoints(DEFAULT_ENV_CONFIG); // 101
 * ```
 */
export function routePoints(cfg: EnvConfig): number {
  const perTarget = Math.max(1, Math.ceil(cfg.waypoint_spacing - 1e-9));
  return Math.max(1, Math.round(cfg.route_length / cfg.waypoint_spacing)) * perTarget + 1;
}

/**
 * Checks every key of `cfg`: present, a finite number, in the range of
 * {@linkcode ENV_CONFIG_TABLE}, and consistent with the others. Throws a `RangeError` whose message names the key at fault.
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * throws(() => validateEnvConfig({ ...DEFAULT_ENV_CONFIG, horizon_steps: 0 }), /env\.horizon_steps/);
 * ```
 */
export function validateEnvConfig(cfg: EnvConfig): void {
  if (cfg === null || typeof cfg !== "object") {
    throw new RangeError(`env config must be an object, got ${String(cfg)}`);
  }
  const record = cfg as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in ENV_CONFIG_TABLE)) throw new RangeError(`env.${key}: unknown key`);
  }
  validateTable(cfg, { section: "env", table: ENV_CONFIG_TABLE });
  if (cfg.max_steer >= Math.PI / 2) {
    throw new RangeError(`env.max_steer: expected < pi/2 rad, got ${cfg.max_steer}`);
  }
  if (cfg.max_turn_radius < cfg.min_turn_radius) {
    throw new RangeError(
      `env.max_turn_radius: expected >= min_turn_radius (${cfg.min_turn_radius}), got ${cfg.max_turn_radius}`,
    );
  }
  if (cfg.cruise_speed > cfg.max_speed) {
    throw new RangeError(
      `env.cruise_speed: expected <= max_speed (${cfg.max_speed}), got ${cfg.cruise_speed}`,
    );
  }
  if (cfg.init_speed > cfg.max_speed) {
    throw new RangeError(
      `env.init_speed: expected <= max_speed (${cfg.max_speed}), got ${cfg.init_speed}`,
    );
  }
  if (cfg.target_reach_radius >= cfg.waypoint_spacing) {
    throw new RangeError(
      `env.target_reach_radius: expected < waypoint_spacing (${cfg.waypoint_spacing}), got ${cfg.target_reach_radius}`,
    );
  }
  if (cfg.route_length < cfg.waypoint_spacing) {
    throw new RangeError(
      `env.route_length: expected >= waypoint_spacing (${cfg.waypoint_spacing}), got ${cfg.route_length}`,
    );
  }
  const points = routePoints(cfg);
  if (points > MAX_ROUTE_POINTS) {
    throw new RangeError(
      `env.route_length: ${cfg.route_length} m makes routes of ${points} points (one per metre, or per waypoint_spacing when shorter), over the limit of ${MAX_ROUTE_POINTS}`,
    );
  }
  const minWorld = 2 * cfg.corridor_half_width + cfg.waypoint_spacing;
  if (cfg.world_size <= minWorld) {
    throw new RangeError(
      `env.world_size: expected > 2 * corridor_half_width + waypoint_spacing (${minWorld}), got ${cfg.world_size}`,
    );
  }
}

/**
 * The defaults with `overrides` applied, validated.
 *
 * @example
 * ```ts
 * const smoke = resolveEnvConfig({ world_size: 50, horizon_steps: 5, waypoint_spacing: 5 });
 * ```
 */
export function resolveEnvConfig(overrides: Partial<EnvConfig> = {}): EnvConfig {
  const cfg: EnvConfig = { ...DEFAULT_ENV_CONFIG, ...overrides };
  validateEnvConfig(cfg);
  return cfg;
}

/**
 * Length of the observation z = [speed, x1, y1, ..., xH, yH]: 1 + 2H.
 *
 * @example
 * ```ts
 * obsDim(DEFAULT_ENV_CONFIG); // 41
 * ```
 */
export function obsDim(cfg: EnvConfig): number {
  return 1 + 2 * cfg.horizon_steps;
}

/**
 * Length of a plan (or a delta): 2H, as [x1, y1, ..., xH, yH].
 *
 * @example
 * ```ts
 * actionDim(DEFAULT_ENV_CONFIG); // 40
 * ```
 */
export function actionDim(cfg: EnvConfig): number {
  return 2 * cfg.horizon_steps;
}

/**
 * The first held-out seed: training and demonstration episodes use seeds below it, so
 * seeds from here on are never seen in training.
 */
export const HELDOUT_SEED_BASE = 2 ** 30;
