/**
 * What an env registers (Gymnasium's `register(id, entry_point, max_episode_steps=...)`,
 * with everything the CLI, the trainer and the report need to know about it): its id, its
 * own config sections (one table each: key, type, range, default, help, flag), how to
 * build it, its run defaults and its base planners. The built-in envs and a user's module
 * (`train --env ./my_env.ts`, whose default export is one of these) have the same form;
 * nothing outside `src/env/` names a particular env.
 *
 * @module
 */

import type { AnyRow } from "../config_table.ts";
import type { BasePlanner, VecEnv } from "./contract.ts";

/** One config section of an env: its key in `config.json` and in checkpoints, and its table. */
export interface EnvSection {
  /** Key in `config.json` ("env" for an env's main section). */
  readonly key: string;
  /** One row per key; its defaults are the section's defaults, its flags the env's flags. */
  readonly table: Readonly<Record<string, AnyRow>>;
  /** A heading for `--help` ("Driving env", "Traffic"). */
  readonly title: string;
}

/** The checked values of an env's sections, by section key. */
export type EnvSettings = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** A base planner an env offers: what `train` refines, `eval --policy NAME` rolls out. */
export interface PlannerEntry {
  /** One line for `--help`. */
  readonly description: string;
  /** Builds it for a checked configuration. */
  make(settings: EnvSettings): BasePlanner;
}

/**
 * An env as the registry holds it.
 *
 * @example
 * ```ts ignore
 * export default {
 *   id: "pendulum",
 *   description: "Gymnasium's Pendulum-v1 dynamics",
 *   sections: [{ key: "env", title: "Pendulum", table: PENDULUM_TABLE }],
 *   make: (settings, n) => new Pendulum(n, settings.env),
 *   ppoDefaults: { lr: 1e-3 },
 * } satisfies EnvDefinition;
 * ```
 */
export interface EnvDefinition {
  /** What `--env` takes, and what `config.json` records as `env_name`. */
  readonly id: string;
  /** One line for `--help` and listings. */
  readonly description: string;
  /**
   * Its config sections; the first is keyed "env" and holds `max_episode_steps` (the
   * episode cap) unless the env has a fixed cap.
   */
  readonly sections: readonly EnvSection[];
  /** Checks what the tables cannot (relations between keys); throws a RangeError. */
  validate?(settings: EnvSettings): void;
  /** Builds N copies for a checked configuration. */
  make(settings: EnvSettings, numEnvs: number): VecEnv;
  /**
   * PPO settings of a run on this env that differ from the generic defaults (keys of the
   * run's `ppo` section); flags and `--config` still override them.
   */
  readonly ppoDefaults?: Readonly<Record<string, number | boolean>>;
  /** Folder a run writes to without `--out-dir` (default `out/<id>/run_001`). */
  readonly outDir?: string;
  /**
   * The base planners it offers, by name. "sft" is the one `train` refines by default and
   * "expert" the reference `sft` clones; without any, the base policy is zero (plain PPO).
   */
  readonly planners?: Readonly<Record<string, PlannerEntry>>;
}
