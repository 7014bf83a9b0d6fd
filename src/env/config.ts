/**
 * Configuration of the toy driving environment: one flat object of numbers with
 * its defaults in one place, written whole to `config.json` under `env`.
 *
 * Units: meters, seconds, radians. The first eight keys are the Python trainer's
 * (same names); the rest shape the vehicle, the controller and the routes.
 *
 * @module
 */

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
 * The defaults, tuned so that the residual matters: the expert plan succeeds on
 * nearly every route within 100 steps while the built-in SFT planner leaves the
 * corridor on many curves (see `bench/env_report.ts`).
 *
 * @example
 * ```ts
 * const cfg: EnvConfig = { ...DEFAULT_ENV_CONFIG, horizon_steps: 5 };
 * ```
 */
export const DEFAULT_ENV_CONFIG: Readonly<EnvConfig> = Object.freeze({
  world_size: 100,
  horizon_steps: 20,
  waypoint_spacing: 4,
  max_episode_steps: 100,
  target_reach_radius: 1.5,
  progress_weight: 1,
  time_weight: 0.05,
  goal_weight: 10,
  distance_weight: 0.01,
  offroute_penalty: 10,
  route_length: 100,
  min_turn_radius: 10,
  max_turn_radius: 40,
  corridor_half_width: 3,
  dt: 0.2,
  wheelbase: 2.7,
  max_steer: 0.6,
  max_accel: 3,
  max_decel: 6,
  max_speed: 15,
  cruise_speed: 8,
  init_speed: 4,
  max_lateral_accel: 4,
  lookahead_base: 2.5,
  lookahead_gain: 0.4,
  speed_gain: 1.5,
});

const INTEGER_KEYS = new Set<string>(["horizon_steps", "max_episode_steps"]);
/** Keys that may be zero (reward weights); every other key must be > 0. */
const NON_NEGATIVE_KEYS = new Set<string>([
  "progress_weight",
  "time_weight",
  "goal_weight",
  "distance_weight",
  "offroute_penalty",
  "init_speed",
]);

/**
 * Checks every key of `cfg`: present, a finite number, in range, and consistent with
 * the others. Throws a `RangeError` whose message names the key at fault.
 *
 * @example
 * ```ts
 * validateEnvConfig({ ...DEFAULT_ENV_CONFIG, horizon_steps: 0 }); // throws: env.horizon_steps ...
 * ```
 */
export function validateEnvConfig(cfg: EnvConfig): void {
  if (cfg === null || typeof cfg !== "object") {
    throw new RangeError(`env config must be an object, got ${String(cfg)}`);
  }
  const record = cfg as unknown as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(key in DEFAULT_ENV_CONFIG)) throw new RangeError(`env.${key}: unknown key`);
  }
  for (const key of Object.keys(DEFAULT_ENV_CONFIG)) {
    const v = record[key];
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new RangeError(`env.${key}: expected a finite number, got ${JSON.stringify(v)}`);
    }
    if (INTEGER_KEYS.has(key) && (!Number.isInteger(v) || v < 1)) {
      throw new RangeError(`env.${key}: expected a positive integer, got ${v}`);
    }
    if (NON_NEGATIVE_KEYS.has(key) ? v < 0 : v <= 0) {
      const want = NON_NEGATIVE_KEYS.has(key) ? ">= 0" : "> 0";
      throw new RangeError(`env.${key}: expected a number ${want}, got ${v}`);
    }
  }
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
