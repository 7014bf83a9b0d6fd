/**
 * What an env registers (Gymnasium's `register(id, entry_point, max_episode_steps=...)`,
 * with everything the CLI, the trainer and the report need to know about it): its id, its
 * own config sections (one table each: key, type, range, default, help, flag), how to
 * build it, its run defaults, its base planners, and what else it offers (a planner file
 * it accepts, demonstrations to clone, scenario files). The built-in envs and a user's
 * module (`train --env ./my_env.ts`, whose default export is one of these) have the same
 * form; nothing outside `src/env/` names a particular env.
 *
 * @module
 */

import { type AnyRow, type ConfigTable, validateTable } from "../config_table.ts";
import type { BasePlanner, EpisodeMetric, VecEnv, WaypointPlanner } from "./contract.ts";

/** One config section of an env: its key in `config.json` and in checkpoints, and its table. */
export interface EnvSection {
  /** Key in `config.json` ("env" for an env's main section). */
  readonly key: string;
  /** One row per key; its defaults are the section's defaults, its flags the env's flags. */
  readonly table: Readonly<Record<string, AnyRow>>;
  /** A heading for `--help` ("Driving env", "Traffic"). */
  readonly title: string;
  /**
   * Key a checkpoint stores this section under (default `<key>_cfg`: the main section is
   * `env_cfg`, traffic's `traffic_cfg`).
   */
  readonly checkpointKey?: string;
  /**
   * Values a checkpoint's section takes for keys it does not name, in place of the
   * table's defaults: keys added later, which the older files did not have (traffic's
   * `path_features`, off in files from before the path block).
   */
  readonly absentInCheckpoint?: Readonly<Record<string, unknown>>;
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
 * How a planner file (`sft`'s MLP waypoint planner, `train --sft-model`) fits an env: the
 * plan it outputs (H waypoints, 2H numbers), the part of the observation it reads, and
 * the base planner a run refines around it.
 */
export interface PlannerFileFit {
  /** H: waypoints of the plans (the file's `horizon_steps`). */
  horizon(settings: EnvSettings): number;
  /** The planner's input: the first `inDim` numbers of an observation. */
  inDim(settings: EnvSettings): number;
  /** The base planner around the loaded one (default: itself). */
  wrap?(inner: WaypointPlanner, settings: EnvSettings): BasePlanner;
}

/**
 * What `sft` behaviour-clones for an env: the env the demonstrations are driven in
 * (with the env's main section) and the expert whose plans are the labels. The plans
 * are waypoint plans (x, y per waypoint); the demonstrations shift their y sideways.
 */
export interface CloningSource {
  /** N envs of the demonstrations (and of `sft`'s closing evaluation). */
  make(settings: EnvSettings, numEnvs: number): VecEnv;
  /** The expert planner on those envs. */
  expert(settings: EnvSettings): BasePlanner;
  /** The built-in planner on those envs, evaluated beside the clone for comparison. */
  builtin?(settings: EnvSettings): BasePlanner;
}

/** Budgets of one JSON file read on a user's word. */
export interface JsonFileBudget {
  /** Largest file, bytes. */
  readonly maxBytes: number;
  /** Deepest nesting of lists and objects. */
  readonly maxDepth: number;
  /** Longest string, bytes of UTF-8. */
  readonly maxStringBytes: number;
}

/**
 * Scenario files an env plays (`train --scenarios DIR`, `eval --scenarios DIR`) and
 * writes (`scenarios`): one scenario per JSON file, checked whole before use.
 */
export interface ScenarioSupport {
  /** The budgets of one scenario file. */
  readonly budget: JsonFileBudget;
  /** The `format` tag of its files (`--overwrite` removes only files that carry it). */
  readonly format: string;
  /** The checked scenario of parsed file content; a bad one throws a one-line error. */
  check(value: unknown, file: string): unknown;
  /** N envs that play `scenarios` (episode seed s plays `scenarios[s mod n]`). */
  make(settings: EnvSettings, numEnvs: number, scenarios: readonly unknown[]): VecEnv;
  /** A fingerprint of a scenario's content (16 hex digits). */
  digest(scenario: unknown): Promise<string>;
  /** The scenario's id (its file name stem, and `scenario_id` in `eval --output`). */
  id(scenario: unknown): string;
  /** The seed a generated scenario was made from, or null for any other. */
  generatedSeed(scenario: unknown): number | null;
  /** The scenario of episode seed `seed`, generated. */
  generate(seed: number, settings: EnvSettings): unknown;
  /** The file content of a scenario. */
  json(scenario: unknown): string;
  /** The file name of a scenario with id `id`. */
  fileName(id: string): string;
  /**
   * The numbers a checked scenario holds, as the env keeps them (a set's total is
   * bounded: `MAX_SET_NUMBERS`); default: every number in it.
   */
  numbers?(scenario: unknown): number;
  /** Conversion of logged episodes (`scenarios --from-episodes DIR`), where it has one. */
  readonly fromEpisodes?: {
    /** The budgets of one episode file. */
    readonly budget: JsonFileBudget;
    /** The scenario of parsed episode content; a bad one throws a one-line error. */
    convert(value: unknown, file: string): unknown;
  };
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
   * What one copy of these settings holds in memory at most (the driving env: its
   * route), in bytes, and what makes it so in the user's words, e.g. "routes of 100001
   * points (env.route_length 100000)": a run refuses settings whose envs together
   * (`--num-envs` and the evaluations') would exceed its budget. Absent: not counted.
   */
  memoryPerEnv?(settings: EnvSettings): { bytes: number; what: string };
  /**
   * PPO settings of a run on this env that differ from the generic defaults (keys of the
   * run's `ppo` section); flags and `--config` still override them.
   */
  readonly ppoDefaults?: Readonly<Record<string, number | boolean>>;
  /**
   * PPO keys that follow the env's settings and are never set by hand (the Python
   * trainer's `horizon_steps` follows the driving env's).
   */
  ppoFromSettings?(settings: EnvSettings): Readonly<Record<string, number>>;
  /** Folder a run writes to without `--out-dir` (default `out/<id>/run_001`). */
  readonly outDir?: string;
  /**
   * The base planners it offers, by name. "sft" is the one `train` refines by default and
   * "expert" the reference of `eval --policy expert` and of the seeds' gap closed; without
   * any, the base policy is zero (plain PPO).
   */
  readonly planners?: Readonly<Record<string, PlannerEntry>>;
  /** How a planner file fits it (`train --sft-model`); without one such files are refused. */
  readonly plannerFile?: PlannerFileFit;
  /** What `sft` clones for it; without one `sft` refuses the env. */
  readonly cloning?: CloningSource;
  /** Scenario files it plays and writes; without one `--scenarios` is refused. */
  readonly scenarios?: ScenarioSupport;
  /** Unit of its actions, and so of the delta ("m" for waypoint plans); absent: none. */
  readonly actionUnit?: string;
  /** The per-episode metrics its envs report (default: what `make` builds declares). */
  readonly metrics?: readonly EpisodeMetric[];
  /** What an observation holds, in the env's words (ONNX export's doc string). */
  observationDoc?(settings: EnvSettings, obsDim: number): string;
  /**
   * Keys of the main section only the command line sets (the Gymnasium bridge's id,
   * kwargs and modules): a checkpoint or config file recording another value is refused.
   */
  readonly commandLineOnly?: readonly string[];
}

/**
 * The settings whose every key has its row's default, section by section.
 *
 * @example
 * ```ts ignore
 * defaultSettings(definition).env.max_episode_steps; // 200
 * ```
 */
export function defaultSettings(def: EnvDefinition): Record<string, Record<string, unknown>> {
  return Object.fromEntries(
    def.sections.map((s) => [
      s.key,
      Object.fromEntries(
        Object.entries(s.table).map(([k, row]) => [k, structuredClone(row.default)]),
      ),
    ]),
  );
}

/**
 * Checks every section of `settings` against `def`: an object per section, no unknown
 * key, every number and bool in its row's range, then the env's own `validate`. Throws a
 * RangeError naming `<section>.<key>`.
 *
 * @example
 * ```ts ignore
 * checkSettings(definition, settings);
 * ```
 */
export function checkSettings(def: EnvDefinition, settings: EnvSettings): void {
  for (const section of def.sections) {
    const values = settings[section.key];
    if (typeof values !== "object" || values === null || Array.isArray(values)) {
      throw new RangeError(`${section.key}: expected an object`);
    }
    for (const key of Object.keys(values)) {
      if (!Object.hasOwn(section.table, key)) {
        throw new RangeError(`${section.key}.${key}: unknown key`);
      }
    }
    validateTable(values as Record<string, unknown>, {
      section: section.key,
      table: section.table as ConfigTable<Record<string, unknown>>,
    });
  }
  def.validate?.(settings);
}

/**
 * The episode cap of an env's settings: its main section's `max_episode_steps`.
 *
 * @example
 * ```ts ignore
 * episodeCap({ env: { max_episode_steps: 999 } }); // 999
 * ```
 */
export function episodeCap(settings: EnvSettings): number | undefined {
  const cap = settings.env?.max_episode_steps;
  return typeof cap === "number" ? cap : undefined;
}

/**
 * The checkpoint key of a section: its own, else `<key>_cfg`.
 *
 * @example
 * ```ts
 * sectionCheckpointKey({ key: "env", title: "", table: {} }); // "env_cfg"
 * ```
 */
export function sectionCheckpointKey(section: EnvSection): string {
  return section.checkpointKey ?? `${section.key}_cfg`;
}

/**
 * A table whose rows are those of `table` with the defaults of `defaults`.
 *
 * @example
 * ```ts ignore
 * const trafficEnv = withDefaults(ENV_CONFIG_TABLE, TRAFFIC_ENV_DEFAULTS);
 * ```
 */
export function withDefaults(
  table: Readonly<Record<string, AnyRow>>,
  defaults: Readonly<Record<string, unknown>>,
): Readonly<Record<string, AnyRow>> {
  return Object.freeze(
    Object.fromEntries(
      Object.entries(table).map((
        [k, row],
      ) => [k, { ...row, default: defaults[k] ?? row.default } as AnyRow]),
    ),
  );
}
