/**
 * The envs `train --env NAME` and `eval --env NAME` know, by name: how to build each
 * one's vector form from the run's `env` configuration section.
 *
 * @module
 */

import type { EnvConfig } from "./driving/config.ts";
import { Driving } from "./driving/vec_env.ts";
import type { VecEnv } from "./contract.ts";
import { MOUNTAIN_CAR_MAX_STEPS, MountainCar } from "./mountain_car.ts";
import { Traffic } from "./traffic/traffic_env.ts";
import type { TrafficConfig } from "./traffic/config.ts";
import type { Scenario } from "./traffic/scenario.ts";
import { TRAFFIC_ENV_DEFAULTS } from "./traffic/config.ts";

/** Names of the envs the CLI can train and evaluate on; "driving" is the default. */
export const ENV_NAMES = ["driving", "mountain_car", "traffic"] as const;

/** One of {@linkcode ENV_NAMES}. */
export type EnvName = typeof ENV_NAMES[number];

/**
 * Whether `name` is one of {@linkcode ENV_NAMES}.
 *
 * @example
 * ```ts
 * isEnvName("mountain_car"); // true
 * ```
 */
export function isEnvName(name: string): name is EnvName {
  return (ENV_NAMES as readonly string[]).includes(name);
}

/**
 * The default episode cap of env `name` (driving: its config's default).
 *
 * @example
 * ```ts
 * defaultEpisodeCap("mountain_car"); // 999
 * ```
 */
export function defaultEpisodeCap(name: Exclude<EnvName, "driving">): number {
  switch (name) {
    case "mountain_car":
      return MOUNTAIN_CAR_MAX_STEPS;
    case "traffic":
      return TRAFFIC_ENV_DEFAULTS.max_episode_steps;
  }
}

/** What an env other than driving may take besides the `env` section. */
export interface EnvFactoryOptions {
  /** The traffic env's own knobs (the run's `traffic` section; default its defaults). */
  traffic?: TrafficConfig;
  /** Scenarios the traffic env plays instead of seeded ones (episode seed s plays s mod n). */
  scenarios?: readonly Scenario[];
}

/**
 * Builds N envs of `name`. The driving and traffic envs take the whole `env` section
 * (traffic also `opts`); mountain_car takes only its `max_episode_steps`.
 *
 * @example
 * ```ts
 * import { DEFAULT_ENV_CONFIG } from "./driving/config.ts";
 * const makeEnv = vecEnvFactory("mountain_car", { ...DEFAULT_ENV_CONFIG, max_episode_steps: 999 });
 * const venv = makeEnv(8);
 * ```
 */
export function vecEnvFactory(
  name: EnvName,
  env: EnvConfig,
  opts: EnvFactoryOptions = {},
): (numEnvs: number) => VecEnv {
  switch (name) {
    case "driving":
      return (n) => new Driving(env, n);
    case "mountain_car":
      return (n) => new MountainCar(n, env.max_episode_steps);
    case "traffic":
      return (n) => new Traffic(env, n, opts);
  }
}
